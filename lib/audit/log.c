/*
 * audit/log.c — the append-only audit log file: records, crash recovery, appends and
 * checkpoints, proofs over its entries, and verification of a whole log.
 *
 * File: the 8 bytes "CRISKAL1", then records, each
 *   type (1 byte: 'L' an entry, 'C' a checkpoint) | length (u32, big-endian) |
 *   index (u64, big-endian: the entry's index, or the tree size a checkpoint signs) |
 *   header check (the first 4 bytes of SHA-256 of the 13 bytes before) |
 *   payload (length bytes: the entry, or the checkpoint's text form) |
 *   checksum (SHA-256 of everything before it in the record).
 * The header check tells a damaged length from a record cut short by a crash, and a
 * record found intact inside what looks like a torn end tells an edited header from a
 * crash (which leaves nothing after the record it cut), so that recovery never mistakes
 * the middle of the log for its torn end.
 */
#include "crisk.h"

#include "audit/checkpoint.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/grow.h"
#include "audit/merkle.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MAGIC "CRISKAL1"
#define MAGIC_SIZE 8
#define HEADER_SIZE 17   /* type, length, index, header check */
#define RECORD_OVERHEAD (HEADER_SIZE + CRISK_HASH_SIZE)
#define TYPE_ENTRY 'L'
#define TYPE_CHECKPOINT 'C'

struct crisk_audit_log {
    int       fd;
    int       writable;      /* opened by crisk_audit_open(), not crisk_audit_open_read() */
    int       group_commit;  /* appends wait for the next checkpoint's fsync */
    int       unsynced;      /* records written since the last fsync */
    int       failed;        /* a write or fsync failed: the handle takes no more */
    unsigned char *staged;   /* group commit: whole records not yet written to the file */
    size_t    staged_len, staged_cap;
    off_t     written;       /* bytes of the file holding records: end - staged_len */
    uint64_t  written_size;  /* entries in those bytes */
    char     *path;
    uint64_t  size;          /* entries */
    uint64_t  capacity;      /* entries the arrays below hold */
    unsigned char (*leaves)[CRISK_HASH_SIZE];
    uint64_t *offsets;       /* byte offset of each entry's record */
    off_t     end;           /* bytes of intact records, the header included */
    uint64_t  torn;          /* bytes after them: a torn record (cut off when writable) */
    crisk__merkle_frontier frontier;
    crisk__sha256 *hash;     /* the context every hash of this log goes through */
    size_t    num_checkpoints;
    crisk_checkpoint last;   /* the last checkpoint, when num_checkpoints > 0 */
};

/* Stores `v` big-endian in `n` bytes at `p`. */
static void put_be(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (unsigned char)v;
}

/* Returns the `n`-byte big-endian number at `p`. */
static uint64_t get_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads exactly `n` bytes at `offset`; returns 0, or -1 on an error or early end. */
static int read_at(int fd, void *buf, size_t n, off_t offset)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
        offset += got;
    }
    return 0;
}

/* Writes exactly `n` bytes at `offset`; returns 0 or -1 (errno set). */
static int write_at(int fd, const void *buf, size_t n, off_t offset)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t put = pwrite(fd, p, n, offset);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        p += put;
        n -= (size_t)put;
        offset += put;
    }
    return 0;
}

/* Fills the 17-byte record header at `h`, hashing with `hash`. Returns 0 or
 * CRISK_E_DEPENDENCY. */
static int make_header(crisk__sha256 *hash, unsigned char h[HEADER_SIZE], int type,
                       size_t length, uint64_t index)
{
    unsigned char check[CRISK_HASH_SIZE];
    h[0] = (unsigned char)type;
    put_be(h + 1, length, 4);
    put_be(h + 5, index, 8);
    if (crisk__sha256_with(hash, -1, h, 13, NULL, 0, check) != 0)
        return CRISK_E_DEPENDENCY;
    memcpy(h + 13, check, 4);
    return 0;
}

/* Makes room for one more entry in the log's arrays. Returns 0 or CRISK_E_NOMEM. */
static int reserve(crisk_audit_log *log, crisk_error *err)
{
    if (log->size < log->capacity)
        return 0;
    size_t cap = crisk__grow_capacity(log->capacity, log->size + 1, 1024);
    if (crisk__resize((void **)&log->leaves, cap, sizeof *log->leaves)
        || crisk__resize((void **)&log->offsets, cap, sizeof *log->offsets))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu entries", cap);
    log->capacity = cap;
    return 0;
}

/* Adds an entry's leaf hash and record offset to the in-memory tree. Returns 0 or an
 * error code. */
static int add_leaf(crisk_audit_log *log, const unsigned char *data, size_t size,
                    off_t offset, crisk_error *err)
{
    int rc = reserve(log, err);
    if (rc)
        return rc;
    if (crisk__merkle_leaf_hash_with(log->hash, data, size, log->leaves[log->size]) != 0 ||
        crisk__merkle_frontier_push(&log->frontier, log->hash, log->leaves[log->size]) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    log->offsets[log->size++] = (uint64_t)offset;
    return 0;
}

/* What checking a log needs besides the log: a key for the signatures (or NULL). */
typedef struct scan_context {
    const crisk_audit_key *key;
    uint64_t checked_size;  /* entries covered by the last checkpoint that matched */
    int bad_key;            /* a checkpoint's signature did not match `key` */
} scan_context;

/* Checks a stored checkpoint (text `text` of `len` bytes, in the record at `offset` whose
 * index says `signed_size`) against the entries before it, and keeps it as the last.
 * Returns 0, or CRISK_E_INTEGRITY naming the checkpoint and the entries it covers. */
static int check_stored_checkpoint(crisk_audit_log *log, scan_context *ctx, const char *text,
                                   size_t len, uint64_t signed_size, off_t offset,
                                   crisk_error *err)
{
    crisk_checkpoint cp;
    int rc = crisk_checkpoint_parse(text, len, &cp, err);
    if (rc)
        return crisk__fail_prefix(err, CRISK_E_INTEGRITY, "checkpoint record");
    if (cp.tree_size != signed_size || cp.tree_size != log->size)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "the checkpoint at byte %lld signs %" PRIu64 " entries but follows "
                           "%" PRIu64 ": entries were removed or inserted before it",
                           (long long)offset, cp.tree_size, log->size);
    if (log->num_checkpoints > 0 && cp.timestamp < log->last.timestamp)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "the checkpoint at byte %lld is older than the one before it: "
                           "checkpoints were reordered", (long long)offset);
    if (ctx->key && (rc = crisk_checkpoint_verify(&cp, ctx->key, err)) != 0) {
        ctx->bad_key = 1;
        return crisk__fail_prefix(err, rc, "a checkpoint in the log");
    }
    unsigned char root[CRISK_HASH_SIZE];
    if (crisk__merkle_frontier_root(&log->frontier, root) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    if (memcmp(root, cp.root, CRISK_HASH_SIZE) != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "the checkpoint at byte %lld (tree size %" PRIu64 ") does not "
                           "match the entries: one of entries %" PRIu64 " to %" PRIu64
                           " was changed", (long long)offset, cp.tree_size, ctx->checked_size,
                           cp.tree_size - 1);
    ctx->checked_size = cp.tree_size;
    log->last = cp;
    log->num_checkpoints++;
    return 0;
}

/* Returns 1 when the `n` bytes from `offset` to the end of the file are all zero (what a
 * crash can leave after the file grew but before its data reached the disk). */
static int zero_tail(int fd, off_t offset, off_t n)
{
    unsigned char buf[4096];
    while (n > 0) {
        size_t chunk = n < (off_t)sizeof buf ? (size_t)n : sizeof buf;
        if (read_at(fd, buf, chunk, offset) != 0)
            return 0;
        for (size_t i = 0; i < chunk; i++)
            if (buf[i])
                return 0;
        offset += (off_t)chunk;
        n -= (off_t)chunk;
    }
    return 1;
}

/* Reads the record at `offset` (of a file of `file_size` bytes) into `buf` (grown as
 * needed), checks it and adds it to `log`. Stores the next record's offset in `*next`,
 * or -1 when the record is torn (cut short by a crash). Returns 0 or an error code. */
static int scan_record(crisk_audit_log *log, scan_context *ctx, off_t offset,
                       off_t file_size, unsigned char **buf, off_t *next, crisk_error *err)
{
    int fd = log->fd;
    off_t left = file_size - offset;
    unsigned char h[HEADER_SIZE], check[HEADER_SIZE];
    if (left < HEADER_SIZE || zero_tail(fd, offset, left)) {
        *next = -1;
        return 0;
    }
    if (read_at(fd, h, HEADER_SIZE, offset) != 0)
        return crisk__fail(err, CRISK_E_IO, "%s: cannot read byte %lld", log->path,
                           (long long)offset);
    size_t length = (size_t)get_be(h + 1, 4);
    uint64_t index = get_be(h + 5, 8);
    if (make_header(log->hash, check, h[0], length, index) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    if (memcmp(check, h, HEADER_SIZE) != 0 ||
        (h[0] != TYPE_ENTRY && h[0] != TYPE_CHECKPOINT) || length == 0 ||
        length > (h[0] == TYPE_ENTRY ? CRISK_AUDIT_MAX_ENTRY : CRISK_CHECKPOINT_TEXT_MAX))
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "%s: the record header at byte %lld (where entry %" PRIu64
                           " or a checkpoint belongs) is damaged or was edited", log->path,
                           (long long)offset,
                           log->size);
    if (left < (off_t)(RECORD_OVERHEAD + length)) {
        *next = -1;
        if (index == log->size)
            return 0;
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "%s: the record at byte %lld, cut short by the end of the file, "
                           "says %" PRIu64 " where entry %" PRIu64 " belongs: it is no "
                           "torn append", log->path, (long long)offset, index, log->size);
    }
    unsigned char *grown = realloc(*buf, RECORD_OVERHEAD + length);
    if (!grown)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a record of %zu bytes",
                           length);
    *buf = grown;
    if (read_at(fd, grown, RECORD_OVERHEAD + length, offset) != 0)
        return crisk__fail(err, CRISK_E_IO, "%s: cannot read the record at byte %lld",
                           log->path, (long long)offset);
    unsigned char sum[CRISK_HASH_SIZE];
    if (crisk__sha256_with(log->hash, -1, grown, HEADER_SIZE + length, NULL, 0, sum) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    if (memcmp(sum, grown + HEADER_SIZE + length, CRISK_HASH_SIZE) != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "%s: the %s at byte %lld (entry %" PRIu64 ") does not match its "
                           "checksum: it was edited", log->path,
                           h[0] == TYPE_ENTRY ? "entry" : "checkpoint", (long long)offset,
                           log->size);
    *next = offset + (off_t)(RECORD_OVERHEAD + length);
    if (h[0] == TYPE_CHECKPOINT)
        return check_stored_checkpoint(log, ctx, (const char *)grown + HEADER_SIZE, length,
                                       index, offset, err);
    if (index != log->size)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "%s: the record at byte %lld holds entry %" PRIu64 " where entry "
                           "%" PRIu64 " belongs: an entry was removed, inserted or reordered",
                           log->path, (long long)offset, index, log->size);
    return add_leaf(log, grown + HEADER_SIZE, length, offset, err);
}

/* Returns 1 when an intact record (header check, type, length and checksum all hold)
 * starts at `p` in the `n` bytes at `buf`, 0 when none does, -1 when OpenSSL fails
 * (hashing with `hash`). */
static int intact_at(crisk__sha256 *hash, const unsigned char *buf, size_t n, size_t p)
{
    unsigned char h[HEADER_SIZE], sum[CRISK_HASH_SIZE];
    if (n - p < RECORD_OVERHEAD || (buf[p] != TYPE_ENTRY && buf[p] != TYPE_CHECKPOINT) ||
        buf[p + 1] > 1) /* a length of at most 2^24 */
        return 0;
    size_t length = (size_t)get_be(buf + p + 1, 4);
    if (length == 0 ||
        length > (buf[p] == TYPE_ENTRY ? CRISK_AUDIT_MAX_ENTRY : CRISK_CHECKPOINT_TEXT_MAX) ||
        n - p < RECORD_OVERHEAD + length)
        return 0;
    if (make_header(hash, h, buf[p], length, get_be(buf + p + 5, 8)) != 0)
        return -1;
    if (memcmp(h, buf + p, HEADER_SIZE) != 0)
        return 0;
    if (crisk__sha256_with(hash, -1, buf + p, HEADER_SIZE + length, NULL, 0, sum) != 0)
        return -1;
    return memcmp(sum, buf + p + HEADER_SIZE + length, CRISK_HASH_SIZE) == 0;
}

/* Checks that the `file_size - offset` bytes from `offset`, which form no whole record,
 * are what a crash leaves: at most one record's worth, holding no intact record after
 * its first byte (an append writes records in order, so a crash cuts only the last one;
 * an intact record inside means the header at `offset` was edited to swallow what
 * follows it). Returns 0, or CRISK_E_INTEGRITY saying what recovery would have cut. */
static int check_torn(const crisk_audit_log *log, off_t offset, off_t file_size,
                      crisk_error *err)
{
    off_t left = file_size - offset;
    if (left > (off_t)(RECORD_OVERHEAD + CRISK_AUDIT_MAX_ENTRY))
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "%s: %lld bytes after entry %" PRIu64 " at byte %lld form no "
                           "record", log->path, (long long)left, log->size,
                           (long long)offset);
    unsigned char *buf = malloc((size_t)left);
    if (!buf)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %lld bytes", (long long)left);
    int rc = read_at(log->fd, buf, (size_t)left, offset) != 0
                 ? crisk__fail(err, CRISK_E_IO, "%s: cannot read byte %lld", log->path,
                               (long long)offset)
                 : 0;
    for (size_t p = 1; rc == 0 && p < (size_t)left; p++) {
        int found = intact_at(log->hash, buf, (size_t)left, p);
        if (found < 0)
            rc = crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
        else if (found)
            rc = crisk__fail(err, CRISK_E_INTEGRITY,
                             "%s: the record header at byte %lld (where entry %" PRIu64
                             " or a checkpoint belongs) runs past the end of the file, but "
                             "an intact %s record starts inside it at byte %lld: the header "
                             "was edited, not torn by a crash (%lld bytes after the last "
                             "valid record, %" PRIu64 " entries after the last checkpoint)",
                             log->path, (long long)offset, log->size,
                             buf[p] == TYPE_ENTRY ? "entry" : "checkpoint",
                             (long long)(offset + (off_t)p), (long long)left,
                             log->size - (log->num_checkpoints ? log->last.tree_size : 0));
    }
    free(buf);
    return rc;
}

/* Reads and checks every record of the log open on log->fd, filling the in-memory tree;
 * sets log->end to the end of the last intact record and `*torn` when a torn record
 * follows it. Returns 0 or an error code. */
static int scan_log(crisk_audit_log *log, scan_context *ctx, int *torn, crisk_error *err)
{
    struct stat st;
    if (fstat(log->fd, &st) != 0)
        return crisk__fail(err, CRISK_E_IO, "%s: %s", log->path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return crisk__fail(err, CRISK_E_IO, "%s: not a regular file", log->path);
    char magic[MAGIC_SIZE];
    if (st.st_size < MAGIC_SIZE || read_at(log->fd, magic, MAGIC_SIZE, 0) != 0 ||
        memcmp(magic, LOG_MAGIC, MAGIC_SIZE) != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: not a crisk audit log (no \"%s\" at the "
                           "start)", log->path, LOG_MAGIC);
    unsigned char *buf = NULL;
    off_t offset = MAGIC_SIZE;
    int rc = 0;
    *torn = 0;
    while (rc == 0 && offset < st.st_size) {
        off_t next = 0;
        rc = scan_record(log, ctx, offset, st.st_size, &buf, &next, err);
        if (rc == 0 && next < 0) {
            rc = check_torn(log, offset, st.st_size, err);
            *torn = 1;
            break;
        }
        offset = next;
    }
    free(buf);
    log->end = offset;
    log->torn = (uint64_t)(st.st_size - offset);
    return rc;
}

/* Allocates an empty log handle for `path`. Returns it or NULL. */
static crisk_audit_log *log_new(const char *path)
{
    crisk_audit_log *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->fd = -1;
    log->path = strdup(path);
    log->hash = crisk__sha256_new();
    if (!log->path || !log->hash) {
        crisk__sha256_free(log->hash);
        free(log->path);
        free(log);
        return NULL;
    }
    crisk__merkle_frontier_init(&log->frontier);
    return log;
}

void crisk_audit_close(crisk_audit_log *log)
{
    if (!log)
        return;
    /* Group commit: entries after the last checkpoint reach the file, unsynced (a
     * failure here goes unreported: only a checkpoint makes entries evidence). */
    if (log->staged_len > 0 && write_at(log->fd, log->staged, log->staged_len,
                                        log->written) != 0 &&
        ftruncate(log->fd, log->written) != 0) {
        /* Left as a torn end, which the next open cuts off. */
    }
    if (log->fd >= 0)
        close(log->fd); /* also releases the record lock */
    free(log->staged);
    free(log->leaves);
    free(log->offsets);
    free(log->path);
    crisk__sha256_free(log->hash);
    free(log);
}

/* Makes a new file's directory entry durable: fsyncs the directory holding `path`. */
static void sync_directory(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    const char *name = slash ? (slash == dir ? "/" : dir) : ".";
    if (slash && slash != dir)
        *slash = '\0';
    int fd = open(name, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Gives a new (empty, or cut short while being created) log file its magic bytes,
 * durably. Returns 0 or CRISK_E_IO. */
static int start_file(crisk_audit_log *log, off_t size, crisk_error *err)
{
    char head[MAGIC_SIZE];
    if (size > 0 && (read_at(log->fd, head, (size_t)size, 0) != 0 ||
                     memcmp(head, LOG_MAGIC, (size_t)size) != 0))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: not a crisk audit log", log->path);
    if (write_at(log->fd, LOG_MAGIC, MAGIC_SIZE, 0) != 0 || fsync(log->fd) != 0)
        return crisk__fail(err, CRISK_E_IO, "%s: %s", log->path, strerror(errno));
    sync_directory(log->path);
    return 0;
}

/* Opens the log at `path`: for appending (creating it, taking the lock, cutting off a
 * torn record) when `writable`, else read-only, checking stored checkpoints' signatures
 * with `key` when it is not NULL. Returns 0 with `*out` set, or an error code. */
static int open_log(const char *path, int writable, const crisk_audit_key *key,
                    int group_commit, crisk_audit_log **out, crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "path and out must not be NULL");
    crisk_audit_log *log = log_new(path);
    if (!log)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    int rc = 0;
    log->writable = writable;
    log->group_commit = group_commit;
    log->fd = writable ? open(path, O_RDWR | O_CREAT, 0644) : open(path, O_RDONLY);
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    struct stat st;
    if (log->fd < 0 || fstat(log->fd, &st) != 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    else if (writable && fcntl(log->fd, F_SETLK, &lock) != 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: held open by another process (%s)", path,
                         strerror(errno));
    else if (writable && S_ISREG(st.st_mode) && st.st_size < MAGIC_SIZE)
        rc = start_file(log, st.st_size, err);
    int torn = 0;
    scan_context ctx = {key, 0, 0};
    if (rc == 0)
        rc = scan_log(log, &ctx, &torn, err);
    if (rc == CRISK_E_INTEGRITY && writable && key && ctx.bad_key)
        crisk__fail_prefix(err, rc, "the key does not match the log's checkpoints");
    /* Only a torn record after intact ones is cut off; on any other failure the file is
     * left exactly as it is. */
    if (rc == 0 && torn && writable &&
        (ftruncate(log->fd, log->end) != 0 || fsync(log->fd) != 0))
        rc = crisk__fail(err, CRISK_E_IO, "%s: cannot cut off a torn record: %s", path,
                         strerror(errno));
    if (rc) {
        crisk_audit_close(log);
        return rc;
    }
    log->written = log->end;
    log->written_size = log->size;
    *out = log;
    return 0;
}

int crisk_audit_open_options_init(crisk_audit_open_options *opts, unsigned int version)
{
    if (!opts || version != CRISK_AUDIT_OPEN_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    opts->key = NULL;
    opts->group_commit = 0;
    return 0;
}

int crisk_audit_open_advanced(const char *path, const crisk_audit_open_options *opts,
                              crisk_audit_log **out, crisk_error *err)
{
    crisk_audit_open_options defaults;
    if (!opts) {
        crisk_audit_open_options_init(&defaults, CRISK_AUDIT_OPEN_OPTIONS_VERSION);
        opts = &defaults;
    }
    if (out)
        *out = NULL;
    int rc = crisk__options_version(opts->version, CRISK_AUDIT_OPEN_OPTIONS_VERSION,
                                    "crisk_audit_open_options", err);
    return rc ? rc : open_log(path, 1, opts->key, opts->group_commit, out, err);
}

int crisk_audit_open(const char *path, crisk_audit_log **out, crisk_error *err)
{
    return crisk_audit_open_advanced(path, NULL, out, err);
}

int crisk_audit_open_read(const char *path, const crisk_audit_key *key,
                          crisk_audit_log **out, crisk_error *err)
{
    return open_log(path, 0, key, 0, out, err);
}

uint64_t crisk_audit_size(const crisk_audit_log *log)
{
    return log ? log->size : 0;
}

uint64_t crisk_audit_torn_bytes(const crisk_audit_log *log)
{
    return log ? log->torn : 0;
}

/* Group commit writes staged records to the file once this many bytes wait. */
#define STAGE_BYTES ((size_t)1 << 20)

/* Adds one record (type, index, payload) to the staged records, at log->end. Returns 0
 * or an error code. */
static int stage_record(crisk_audit_log *log, int type, uint64_t index, const void *payload,
                        size_t length, crisk_error *err)
{
    if (!log->writable)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "%s: the log is open read-only",
                           log->path);
    if (log->failed)
        return crisk__fail(err, CRISK_E_IO, "%s: an earlier write or fsync failed: reopen "
                           "the log", log->path);
    size_t need = log->staged_len + RECORD_OVERHEAD + length;
    if (crisk__grow((void **)&log->staged, &log->staged_cap, need, 1, 4096) != 0)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a record of %zu bytes",
                           length);
    unsigned char *rec = log->staged + log->staged_len;
    if (make_header(log->hash, rec, type, length, index) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    memcpy(rec + HEADER_SIZE, payload, length);
    if (crisk__sha256_with(log->hash, -1, rec, HEADER_SIZE + length, NULL, 0,
                           rec + HEADER_SIZE + length) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    log->staged_len = need;
    log->end += (off_t)(RECORD_OVERHEAD + length);
    return 0;
}

/* Drops the staged records after a failure: the log is what its file holds, and the
 * handle takes no more. */
static void forget_staged(crisk_audit_log *log)
{
    log->failed = 1;
    log->size = log->written_size;
    log->end = log->written;
    log->staged_len = 0;
}

/* How far commit() takes the staged records. */
enum { COMMIT_WRITE, COMMIT_SYNC };

/* Writes the staged records at the end of the file and, for COMMIT_SYNC, fsyncs them.
 * A failed write cuts the file back and forgets the staged entries (crisk_audit_size()
 * then counts what the file holds); after any failure the handle takes no more. Returns
 * 0 or CRISK_E_IO. */
static int commit(crisk_audit_log *log, int how, crisk_error *err)
{
    if (log->staged_len > 0) {
        if (write_at(log->fd, log->staged, log->staged_len, log->written) != 0) {
            int saved = errno;
            if (ftruncate(log->fd, log->written) != 0) {
                /* Left as a torn end, which the next open cuts off. */
            }
            forget_staged(log);
            return crisk__fail(err, CRISK_E_IO, "%s: cannot append at byte %lld: %s",
                               log->path, (long long)log->written, strerror(saved));
        }
        log->written = log->end;
        log->written_size = log->size;
        log->staged_len = 0;
        log->unsynced = 1;
    }
    if (how == COMMIT_SYNC && log->unsynced) {
        if (fsync(log->fd) != 0) {
            log->failed = 1;
            return crisk__fail(err, CRISK_E_IO, "%s: cannot fsync the records before byte "
                               "%lld: %s", log->path, (long long)log->written, strerror(errno));
        }
        log->unsynced = 0;
    }
    return 0;
}

int crisk_audit_append(crisk_audit_log *log, const void *data, size_t size, uint64_t *index,
                       crisk_error *err)
{
    if (!log || !data || size == 0 || size > CRISK_AUDIT_MAX_ENTRY)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "an entry must have 1 to %zu bytes (got %zu)", CRISK_AUDIT_MAX_ENTRY,
                           size);
    int rc = reserve(log, err);
    off_t offset = log->end;
    if (rc == 0)
        rc = stage_record(log, TYPE_ENTRY, log->size, data, size, err);
    if (rc)
        return rc;
    if ((rc = add_leaf(log, data, size, offset, err)) != 0) {
        forget_staged(log); /* a record staged for no entry must not reach the file */
        return rc;
    }
    uint64_t appended = log->size - 1;
    if (!log->group_commit)
        rc = commit(log, COMMIT_SYNC, err);
    else if (log->staged_len >= STAGE_BYTES)
        rc = commit(log, COMMIT_WRITE, err);
    if (rc == 0 && index)
        *index = appended;
    return rc;
}

/* Refuses a key that did not sign the log's last checkpoint: checkpoints under two keys
 * would fail verification under either. Returns 0 or CRISK_E_INTEGRITY. */
static int check_same_key(const crisk_audit_log *log, const crisk_audit_key *key,
                          crisk_error *err)
{
    if (log->num_checkpoints == 0 || crisk_checkpoint_verify(&log->last, key, NULL) == 0)
        return 0;
    return crisk__fail(err, CRISK_E_INTEGRITY,
                       "%s: the key does not match the log's checkpoints (another key "
                       "signed the last, of %" PRIu64 " entries): a log has one key; to "
                       "change keys, start a new log", log->path, log->last.tree_size);
}

int crisk_audit_checkpoint(crisk_audit_log *log, const crisk_audit_key *key,
                           int64_t timestamp, crisk_checkpoint *out, crisk_error *err)
{
    if (!log || !key)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "log and key must not be NULL");
    crisk_checkpoint cp = {.tree_size = log->size, .timestamp = timestamp};
    /* Times never decrease in a log (its reader refuses that): a clock that stepped back
     * holds the previous time, and the checkpoint says by how much it was behind. */
    if (log->num_checkpoints > 0 && timestamp < log->last.timestamp) {
        cp.timestamp = log->last.timestamp;
        cp.clock_behind = log->last.timestamp - timestamp;
    }
    if (crisk__merkle_frontier_root(&log->frontier, cp.root) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    int rc = check_same_key(log, key, err);
    if (rc == 0)
        rc = crisk__checkpoint_sign(&cp, key, err);
    /* The entries reach the disk before the checkpoint that covers them is written. */
    if (rc == 0)
        rc = commit(log, COMMIT_SYNC, err);
    char text[CRISK_CHECKPOINT_TEXT_MAX];
    int len = rc ? 0 : crisk_checkpoint_format(&cp, text, sizeof text);
    if (rc == 0)
        rc = stage_record(log, TYPE_CHECKPOINT, cp.tree_size, text, (size_t)len, err);
    if (rc == 0)
        rc = commit(log, COMMIT_SYNC, err);
    if (rc)
        return rc;
    log->last = cp;
    log->num_checkpoints++;
    if (out)
        *out = cp;
    return 0;
}

size_t crisk_audit_last_checkpoint(const crisk_audit_log *log, crisk_checkpoint *out)
{
    if (!log)
        return 0;
    if (out && log->num_checkpoints > 0)
        *out = log->last;
    return log->num_checkpoints;
}

int crisk_audit_root(const crisk_audit_log *log, uint64_t tree_size,
                     unsigned char root[CRISK_HASH_SIZE], crisk_error *err)
{
    if (!log || !root || tree_size > log->size)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "tree size %" PRIu64 " beyond the log's %" PRIu64 " entries",
                           tree_size, log ? log->size : 0);
    if (crisk__merkle_root((const unsigned char(*)[CRISK_HASH_SIZE])log->leaves, 0, tree_size,
                           root) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    return 0;
}

/* Reads `n` bytes of a record at byte `at` of the log: from the file, or from the staged
 * records when they are not written yet. Returns 0 or -1. */
static int read_record(const crisk_audit_log *log, void *buf, size_t n, off_t at)
{
    if (at < log->written)
        return read_at(log->fd, buf, n, at);
    memcpy(buf, log->staged + (at - log->written), n);
    return 0;
}

int crisk_audit_read_entry(const crisk_audit_log *log, uint64_t index, void *buf,
                           size_t capacity, size_t *size, crisk_error *err)
{
    if (!log || !size || index >= log->size)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "no entry %" PRIu64 " in a log of %"
                           PRIu64, index, log ? log->size : 0);
    unsigned char h[HEADER_SIZE];
    off_t at = (off_t)log->offsets[index];
    if (read_record(log, h, HEADER_SIZE, at) != 0)
        return crisk__fail(err, CRISK_E_IO, "%s: cannot read entry %" PRIu64, log->path, index);
    *size = (size_t)get_be(h + 1, 4);
    if (*size > capacity)
        return crisk__fail(err, CRISK_E_LIMIT, "entry %" PRIu64 " has %zu bytes, more than %zu",
                           index, *size, capacity);
    if (read_record(log, buf, *size, at + HEADER_SIZE) != 0)
        return crisk__fail(err, CRISK_E_IO, "%s: cannot read entry %" PRIu64, log->path, index);
    return 0;
}

int crisk_audit_inclusion_proof(const crisk_audit_log *log, uint64_t index,
                                uint64_t tree_size, unsigned char path[][CRISK_HASH_SIZE],
                                size_t *len, crisk_error *err)
{
    if (!log || !path || !len || tree_size > log->size || index >= tree_size)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "entry %" PRIu64 " is not in a tree of %" PRIu64 " of the log's %"
                           PRIu64 " entries", index, tree_size, log ? log->size : 0);
    if (crisk__merkle_path((const unsigned char(*)[CRISK_HASH_SIZE])log->leaves, index,
                           tree_size, path, len) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    return 0;
}

int crisk_audit_consistency_proof(const crisk_audit_log *log, uint64_t old_size,
                                  uint64_t new_size, unsigned char path[][CRISK_HASH_SIZE],
                                  size_t *len, crisk_error *err)
{
    if (!log || !path || !len || old_size == 0 || old_size > new_size ||
        new_size > log->size)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT,
                           "no consistency proof from %" PRIu64 " to %" PRIu64 " entries in a "
                           "log of %" PRIu64, old_size, new_size, log ? log->size : 0);
    if (crisk__merkle_consistency((const unsigned char(*)[CRISK_HASH_SIZE])log->leaves,
                                  old_size, new_size, path, len) != 0)
        return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
    return 0;
}

int crisk_audit_check_checkpoint(const crisk_audit_log *log, const crisk_audit_key *key,
                                 const crisk_checkpoint *trusted, crisk_error *err)
{
    if (!log || !trusted)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "log and checkpoint must not be NULL");
    int rc;
    if (key && (rc = crisk_checkpoint_verify(trusted, key, err)) != 0)
        return crisk__fail_prefix(err, rc, "the given checkpoint");
    /* Fewer entries, or other ones: the file alone cannot tell a cut from a swap. */
    if (trusted->tree_size > log->size)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "%s: the log does not extend the given checkpoint: it holds %"
                           PRIu64 " entries, the checkpoint signs %" PRIu64 " (cut short, "
                           "or another log)", log->path, log->size, trusted->tree_size);
    unsigned char root[CRISK_HASH_SIZE];
    if ((rc = crisk_audit_root(log, trusted->tree_size, root, err)) != 0)
        return rc;
    if (memcmp(root, trusted->root, CRISK_HASH_SIZE) != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "%s: the log does not extend the given checkpoint: its first %"
                           PRIu64 " entries do not have the checkpoint's root (rewritten, "
                           "its own checkpoints replaced too, or another log)", log->path,
                           trusted->tree_size);
    return 0;
}

int crisk_audit_verify(const char *path, const crisk_audit_key *key,
                       const crisk_checkpoint *trusted, uint64_t *entries,
                       size_t *checkpoints, crisk_error *err)
{
    crisk_audit_log *log = NULL;
    int rc = open_log(path, 0, key, 0, &log, err);
    if (rc == 0 && trusted)
        rc = crisk_audit_check_checkpoint(log, key, trusted, err);
    if (rc == 0 && entries)
        *entries = log->size;
    if (rc == 0 && checkpoints)
        *checkpoints = log->num_checkpoints;
    crisk_audit_close(log);
    return rc;
}
