/*
 * crisk/audit.h — the audit log: an append-only Merkle tree of decisions, signed
 * checkpoints and proofs, and the keyed hash that stands for personal identifiers.
 * Part of the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_audit_h
#define INCLUDE_crisk_audit_h

#include "crisk/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A verifiable, append-only log of decisions (RFC 6962 / RFC 9162 Merkle tree). Each
 * entry ("leaf") is an opaque byte string, e.g. the canonical bytes of one scored
 * declaration. Leaf hash: SHA-256(0x00 || data); node hash: SHA-256(0x01 || left ||
 * right); the root of n leaves is RFC 6962's MTH for any n. A signed checkpoint (tree
 * size, root, time, Ed25519 signature) commits to every entry before it; inclusion and
 * consistency proofs check against checkpoints alone. docs/security.md gives the file
 * format and what is and is not detected.
 *
 * A writer opens the log, appends one leaf per decision (each append is on disk, fsync'd,
 * before the call returns; with group commit, by the next checkpoint) and writes a
 * checkpoint per batch. A log handle is used by one thread at a time; one process at a
 * time may hold a log open (a POSIX record lock).
 */

#define CRISK_HASH_SIZE 32          /* SHA-256 */
#define CRISK_SIGNATURE_SIZE 64     /* Ed25519 */
#define CRISK_AUDIT_MAX_ENTRY ((size_t)1 << 24)  /* largest leaf, in bytes */
#define CRISK_MERKLE_MAX_PROOF 128  /* longest inclusion or consistency proof */
#define CRISK_CHECKPOINT_TEXT_MAX 512  /* a checkpoint's text, with its NUL */

/* An open audit log. */
typedef struct crisk_audit_log crisk_audit_log;

/* An Ed25519 key: a private one signs checkpoints, a public one verifies them. */
typedef struct crisk_audit_key crisk_audit_key;

/* A signed tree head: the first `tree_size` entries of a log have Merkle root `root`. */
typedef struct crisk_checkpoint {
    uint64_t      tree_size;
    unsigned char root[CRISK_HASH_SIZE];
    int64_t       timestamp;                       /* seconds since 1970 (UTC) */
    unsigned char signature[CRISK_SIGNATURE_SIZE]; /* Ed25519 over the text form's body */
    /* How many seconds the writer's clock was behind `timestamp` when it signed: 0,
     * unless the clock had stepped back below the previous checkpoint's time, which
     * `timestamp` then repeats (times in a log never decrease). Signed too. */
    int64_t       clock_behind;
} crisk_checkpoint;

/* Generates an Ed25519 key pair and writes the private key (PKCS#8 PEM, mode 0600) to
 * `private_path` and the public key (SubjectPublicKeyInfo PEM) to `public_path`; neither
 * file may exist yet. Returns 0, CRISK_E_IO, CRISK_E_DEPENDENCY. Thread-safe. */
CRISK_API int crisk_audit_keygen(const char *private_path, const char *public_path,
                                 crisk_error *err);

/* Reads an Ed25519 key from the PEM file at `path`: a private key when `is_private`,
 * else a public key (a private key file is accepted there too). Returns 0 with `*out`
 * set, CRISK_E_IO, CRISK_E_FORMAT (not an Ed25519 key of that kind). Thread-safe. */
CRISK_API int crisk_audit_key_load(const char *path, int is_private, crisk_audit_key **out,
                                   crisk_error *err);

/* Frees a key. NULL is a no-op. */
CRISK_API void crisk_audit_key_free(crisk_audit_key *key);

/* Opens the log at `path` for appending, creating an empty one if there is none. A torn
 * last record (a crash in the middle of an append: the file ends inside it, or zeros fill
 * the rest of the file, and no intact record starts after its first byte) is cut off
 * (crisk_audit_torn_bytes() says how much); every other record must be intact, in order
 * and agree with the checkpoints stored in the log, else the log is refused with
 * CRISK_E_INTEGRITY (nothing is truncated then) — run crisk_audit_verify() to see why. Returns 0, CRISK_E_IO (also when another process holds
 * the log open), CRISK_E_FORMAT (not a crisk audit log), CRISK_E_INTEGRITY,
 * CRISK_E_NOMEM. */
CRISK_API int crisk_audit_open(const char *path, crisk_audit_log **out, crisk_error *err);

/* How a log is opened for appending. Initialise with crisk_audit_open_options_init();
 * more fields may follow in later versions. */
#define CRISK_AUDIT_OPEN_OPTIONS_VERSION 1
typedef struct crisk_audit_open_options {
    unsigned int version;  /* CRISK_AUDIT_OPEN_OPTIONS_VERSION: the layout; set by _init() */
    /* The key the log's checkpoints are signed with (public or private), or NULL (the
     * default): when set, every stored checkpoint's signature is checked at open, and a
     * log whose checkpoints another key signed is refused (CRISK_E_INTEGRITY). */
    const crisk_audit_key *key;
    /* Non-zero: group commit. An append is kept in memory (written to the file once a
     * megabyte of records waits, or at close) and the next crisk_audit_checkpoint()
     * writes and fsyncs every pending entry, then writes and fsyncs the checkpoint: two
     * fsyncs per batch instead of one per entry. A crash may lose entries appended after
     * the last checkpoint, cutting at most the last of those that reached the file; the
     * log still opens. Default: 0 (each append written and fsync'd before it returns). */
    int group_commit;
} crisk_audit_open_options;

/* Fills `opts` with the defaults above for `version`, which must be
 * CRISK_AUDIT_OPEN_OPTIONS_VERSION. Returns 0 or CRISK_E_INVALID_ARGUMENT. Thread-safe. */
CRISK_API int crisk_audit_open_options_init(crisk_audit_open_options *opts,
                                            unsigned int version);

/* crisk_audit_open() with options (NULL: the defaults). Returns as crisk_audit_open(),
 * and CRISK_E_INVALID_ARGUMENT for an unknown options version. */
CRISK_API int crisk_audit_open_advanced(const char *path, const crisk_audit_open_options *opts,
                                        crisk_audit_log **out, crisk_error *err);

/* Opens the log at `path` read-only, for proofs and roots: checks it as crisk_audit_open()
 * does (and the stored checkpoints' signatures with `key`, when it is not NULL) but
 * changes nothing and takes no lock; a torn last record is ignored. Appending to it fails
 * with CRISK_E_INVALID_ARGUMENT. Returns as crisk_audit_open(). */
CRISK_API int crisk_audit_open_read(const char *path, const crisk_audit_key *key,
                                    crisk_audit_log **out, crisk_error *err);

/* Closes a log. NULL is a no-op. */
CRISK_API void crisk_audit_close(crisk_audit_log *log);

/* Returns the number of entries (leaves) in the log. */
CRISK_API uint64_t crisk_audit_size(const crisk_audit_log *log);

/* Returns the bytes after the last intact record: for a log opened read-only, the torn
 * record crisk_audit_open() would cut off; opened for appending, what it cut off. */
CRISK_API uint64_t crisk_audit_torn_bytes(const crisk_audit_log *log);

/* Appends `size` bytes (1 to CRISK_AUDIT_MAX_ENTRY) as the next entry and stores its
 * index in `*index` (may be NULL). The record is written and fsync'd before the call
 * returns (with group commit, by the next checkpoint). After an I/O error the handle
 * refuses every later append and checkpoint (close and reopen it), and when records
 * could not be written, crisk_audit_size() drops back to the entries the file holds.
 * Returns 0, CRISK_E_INVALID_ARGUMENT, CRISK_E_IO, CRISK_E_NOMEM. */
CRISK_API int crisk_audit_append(crisk_audit_log *log, const void *data, size_t size,
                                 uint64_t *index, crisk_error *err);

/* Signs the current tree head (size, root, time) with the private key `key`, appends the
 * checkpoint to the log (fsync'd, after any pending entries) and copies it to `out` (may
 * be NULL). The time is `timestamp` (the writer's clock), or the previous checkpoint's
 * time when `timestamp` is earlier (a clock stepped back), with `clock_behind` saying by
 * how much: the log never holds checkpoints whose times decrease. A key that did not sign
 * the log's last checkpoint is refused (CRISK_E_INTEGRITY), so one log has one key.
 * Returns 0, CRISK_E_INVALID_ARGUMENT (a public key), CRISK_E_INTEGRITY, CRISK_E_IO,
 * CRISK_E_DEPENDENCY. */
CRISK_API int crisk_audit_checkpoint(crisk_audit_log *log, const crisk_audit_key *key,
                                     int64_t timestamp, crisk_checkpoint *out,
                                     crisk_error *err);

/* Returns the number of checkpoints stored in the log, and with `out` non-NULL copies
 * the last one there (when there is one). */
CRISK_API size_t crisk_audit_last_checkpoint(const crisk_audit_log *log,
                                             crisk_checkpoint *out);

/* Writes the Merkle root of the first `tree_size` entries (0 <= tree_size <= size; the
 * root of no entries is SHA-256 of nothing) to `root`. Returns 0 or
 * CRISK_E_INVALID_ARGUMENT. */
CRISK_API int crisk_audit_root(const crisk_audit_log *log, uint64_t tree_size,
                               unsigned char root[CRISK_HASH_SIZE], crisk_error *err);

/* Reads entry `index`: stores its size in `*size` and, when `capacity` >= that size,
 * copies its bytes to `buf`. Returns 0, CRISK_E_INVALID_ARGUMENT (no such entry),
 * CRISK_E_LIMIT (`capacity` too small; `*size` is set), CRISK_E_IO. */
CRISK_API int crisk_audit_read_entry(const crisk_audit_log *log, uint64_t index, void *buf,
                                     size_t capacity, size_t *size, crisk_error *err);

/* Writes RFC 6962's audit path of entry `index` in the tree of the first `tree_size`
 * entries to `path` (room for CRISK_MERKLE_MAX_PROOF hashes) and its length to `*len`.
 * Returns 0 or CRISK_E_INVALID_ARGUMENT (index >= tree_size, tree_size > size). */
CRISK_API int crisk_audit_inclusion_proof(const crisk_audit_log *log, uint64_t index,
                                          uint64_t tree_size,
                                          unsigned char path[][CRISK_HASH_SIZE],
                                          size_t *len, crisk_error *err);

/* Writes RFC 6962's consistency proof between the trees of the first `old_size` and
 * `new_size` entries (1 <= old_size <= new_size <= size) to `path` (room for
 * CRISK_MERKLE_MAX_PROOF hashes) and its length to `*len`. Returns 0 or
 * CRISK_E_INVALID_ARGUMENT. */
CRISK_API int crisk_audit_consistency_proof(const crisk_audit_log *log, uint64_t old_size,
                                            uint64_t new_size,
                                            unsigned char path[][CRISK_HASH_SIZE],
                                            size_t *len, crisk_error *err);

/* Checks the whole log at `path` without changing it: every record's checksum, that
 * entries are numbered 0, 1, 2, ... in order, every stored checkpoint's root against the
 * entries before it (and its signature, when `key` is not NULL), and, when `trusted` is
 * not NULL, that the log still holds the entries of that checkpoint (kept elsewhere)
 * with its root and signature. On success stores the number of entries and checkpoints
 * in `*entries` and `*checkpoints` (either may be NULL). Returns 0, or CRISK_E_INTEGRITY
 * with a message naming the first bad record (its byte offset and entry index) or the
 * range of entries a failed checkpoint covers, CRISK_E_IO, CRISK_E_FORMAT, CRISK_E_NOMEM.
 * A torn last record is not an error here (crisk_audit_open() cuts it off;
 * crisk_audit_torn_bytes() of a log opened read-only gives its size); a "torn" record
 * with an intact record inside it is (an edited header). Thread-safe. */
CRISK_API int crisk_audit_verify(const char *path, const crisk_audit_key *key,
                                 const crisk_checkpoint *trusted, uint64_t *entries,
                                 size_t *checkpoints, crisk_error *err);

/* Checks a checkpoint kept outside the log, `trusted`, against the open log: its
 * signature (with `key`, when not NULL), and that the log extends it: that it holds at
 * least its entries and that the first `trusted->tree_size` of them have its root.
 * Returns 0, or CRISK_E_INTEGRITY saying that the log does not extend the checkpoint
 * (cut short, rewritten, or another log). Thread-safe with other readers of `log`. */
CRISK_API int crisk_audit_check_checkpoint(const crisk_audit_log *log,
                                           const crisk_audit_key *key,
                                           const crisk_checkpoint *trusted, crisk_error *err);

/* Writes SHA-256(0x00 || data), the Merkle leaf hash of an entry, to `out`. Returns 0 or
 * CRISK_E_DEPENDENCY. Thread-safe. */
CRISK_API int crisk_merkle_leaf_hash(const void *data, size_t size,
                                     unsigned char out[CRISK_HASH_SIZE]);

/* Checks an inclusion proof (RFC 9162, 2.1.3.2): that the leaf with hash `leaf_hash` is
 * entry `index` of the tree of `tree_size` entries whose root is `root`. Returns 0, or
 * CRISK_E_INTEGRITY saying what does not hold. Needs no log. Thread-safe. */
CRISK_API int crisk_merkle_verify_inclusion(const unsigned char leaf_hash[CRISK_HASH_SIZE],
                                            uint64_t index, uint64_t tree_size,
                                            const unsigned char path[][CRISK_HASH_SIZE],
                                            size_t len,
                                            const unsigned char root[CRISK_HASH_SIZE],
                                            crisk_error *err);

/* Checks a consistency proof (RFC 9162, 2.1.4.2): that the tree of `new_size` entries
 * with root `new_root` extends the tree of `old_size` entries with root `old_root`.
 * Returns 0, or CRISK_E_INTEGRITY. Needs no log. Thread-safe. */
CRISK_API int crisk_merkle_verify_consistency(uint64_t old_size,
                                              const unsigned char old_root[CRISK_HASH_SIZE],
                                              uint64_t new_size,
                                              const unsigned char new_root[CRISK_HASH_SIZE],
                                              const unsigned char path[][CRISK_HASH_SIZE],
                                              size_t len, crisk_error *err);

/* Writes the text form of a checkpoint (NUL-terminated, at most
 * CRISK_CHECKPOINT_TEXT_MAX bytes with the NUL) to `buf` of `capacity` bytes:
 *   crisk-audit-checkpoint v1
 *   size <decimal>
 *   root <64 hex digits>
 *   time <decimal seconds>
 *   clock-behind <decimal seconds>   (only when cp->clock_behind > 0)
 *   sig <128 hex digits>
 * The signature covers every line before "sig" exactly, newlines included. Returns the
 * length written, or CRISK_E_INVALID_ARGUMENT when `capacity` is too small. Thread-safe. */
CRISK_API int crisk_checkpoint_format(const crisk_checkpoint *cp, char *buf,
                                      size_t capacity);

/* Parses the text form of a checkpoint from `size` bytes at `text` (nothing may follow
 * but one final newline). Returns 0, or CRISK_E_FORMAT naming the line. Thread-safe. */
CRISK_API int crisk_checkpoint_parse(const char *text, size_t size, crisk_checkpoint *out,
                                     crisk_error *err);

/* Checks the signature of `cp` with `key` (public or private). Returns 0, or
 * CRISK_E_INTEGRITY when the signature does not match. Thread-safe. */
CRISK_API int crisk_checkpoint_verify(const crisk_checkpoint *cp, const crisk_audit_key *key,
                                      crisk_error *err);

/* Data protection: the keyed hash that stands for a personal identifier in outputs and
 * audit leaves — HMAC-SHA256 under `key` (`key_size` >= CRISK_PROTECT_MIN_KEY bytes) of
 * the `len` bytes at `text`, its first CRISK_PROTECTED_ID_BYTES bytes in lower-case hex,
 * NUL-terminated, in `out`. The same id and key always give the same text; without the
 * key it can be neither reversed nor recomputed from a list of candidate ids. Returns 0,
 * CRISK_E_INVALID_ARGUMENT (a short key), CRISK_E_DEPENDENCY. Thread-safe. */
#define CRISK_PROTECT_MIN_KEY 16
#define CRISK_PROTECTED_ID_BYTES 16
CRISK_API int crisk_protect_id(const void *key, size_t key_size, const char *text,
                               size_t len, char out[2 * CRISK_PROTECTED_ID_BYTES + 1],
                               crisk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_audit_h */
