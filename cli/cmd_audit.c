/*
 * cmd_audit.c — `crisk audit`: key generation, appending entries to a decision log, and
 * verifying logs, checkpoints, inclusion proofs and consistency proofs.
 *
 * Proofs travel as small text files, one "key value" per line:
 *   crisk-audit-inclusion v1 / index N / size S / data <hex of the entry> / path <hex>...
 *   crisk-audit-consistency v1 / old_size M / new_size N / path <hex>...
 */
#include "cli.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Largest proof file read: an entry in hex plus its path. */
#define MAX_PROOF_BYTES (2 * CRISK_AUDIT_MAX_ENTRY + 16384)

static const char inclusion_magic[] = "crisk-audit-inclusion v1";
static const char consistency_magic[] = "crisk-audit-consistency v1";

/* Prints "crisk audit CMD: message" to stderr and returns CLI_EXIT_FAILURE. */
static int fail(const char *cmd, const char *message)
{
    fprintf(stderr, "crisk audit %s: %s\n", cmd, message);
    return CLI_EXIT_FAILURE;
}

/* Moves the first `n` words of argv (which must not start with '-') to `pos`, and
 * parses the rest as options. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(const char *cmd, const char *usage, int argc, char **argv, size_t n,
                 const char **pos, const cli_option *opts, size_t nopts)
{
    char name[64];
    snprintf(name, sizeof name, "audit %s", cmd);
    for (size_t i = 0; i < n; i++) {
        if ((int)i >= argc || argv[i][0] == '-') {
            int rc = cli_parse_args(name, argc - (int)i, argv + i, opts, nopts, 0);
            if (rc == CLI_HELP)
                return rc;
            fprintf(stderr, "usage: crisk audit %s %s\n", cmd, usage);
            return CLI_EXIT_USAGE;
        }
        pos[i] = argv[i];
    }
    return cli_parse_args(name, argc - (int)n, argv + n, opts, nopts, 0);
}

/* Reads the whole file at `path` (at most `max` bytes) into a NUL-terminated malloc'd
 * buffer. Returns it with its length in `*len`, or NULL after reporting. */
static char *read_text(const char *cmd, const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "crisk audit %s: %s: %s\n", cmd, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        fprintf(stderr, "crisk audit %s: %s: %s\n", cmd, path,
                buf ? "unreadable, or too large" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Reads the checkpoint file at `path` into `cp`. Returns 0, or CLI_EXIT_FAILURE after
 * reporting. */
static int read_checkpoint(const char *cmd, const char *path, crisk_checkpoint *cp)
{
    size_t len;
    char *text = read_text(cmd, path, CRISK_CHECKPOINT_TEXT_MAX, &len);
    if (!text)
        return CLI_EXIT_FAILURE;
    crisk_error err;
    int rc = crisk_checkpoint_parse(text, len, cp, &err);
    free(text);
    if (rc) {
        fprintf(stderr, "crisk audit %s: %s: %s\n", cmd, path, err.message);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

/* Loads a key; returns it, or NULL after reporting. */
static crisk_audit_key *read_key(const char *cmd, const char *path, int is_private)
{
    crisk_audit_key *key = NULL;
    crisk_error err;
    if (crisk_audit_key_load(path, is_private, &key, &err) != 0)
        fail(cmd, err.message);
    return key;
}

/* Reads `path` as a checkpoint and checks its signature with the public key file
 * `pubkey`. Returns 0, or CLI_EXIT_FAILURE after reporting. */
static int read_signed_checkpoint(const char *cmd, const char *path, const char *pubkey,
                                  crisk_checkpoint *cp)
{
    if (read_checkpoint(cmd, path, cp) != 0)
        return CLI_EXIT_FAILURE;
    crisk_audit_key *key = read_key(cmd, pubkey, 0);
    if (!key)
        return CLI_EXIT_FAILURE;
    crisk_error err;
    int rc = crisk_checkpoint_verify(cp, key, &err);
    crisk_audit_key_free(key);
    if (rc) {
        fprintf(stderr, "crisk audit %s: %s: %s\n", cmd, path, err.message);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

/* Prints a checkpoint's text form to `f`. */
static void print_checkpoint(FILE *f, const crisk_checkpoint *cp)
{
    char text[CRISK_CHECKPOINT_TEXT_MAX];
    crisk_checkpoint_format(cp, text, sizeof text);
    fputs(text, f);
}

/* Prints "path <hex>" for each of `len` hashes. */
static void print_path(unsigned char path[][CRISK_HASH_SIZE], size_t len)
{
    char hex[CLI_HASH_HEX + 1];
    for (size_t i = 0; i < len; i++) {
        crisk_hex_encode(path[i], CRISK_HASH_SIZE, hex);
        printf("path %s\n", hex);
    }
}

/* Flushes stdout; returns CLI_EXIT_OK, or CLI_EXIT_FAILURE after reporting. */
static int finish(void)
{
    if (fflush(stdout) != 0) {
        cli_report("stdout", "write error");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

/* A proof file split into lines: the value of each "key value" line in order. */
typedef struct proof_text {
    char  *buf;
    size_t nlines;
    char **keys, **values;
} proof_text;

/* Reads and splits the proof file at `path`, whose first line must be `magic`. Returns
 * 0, or CLI_EXIT_FAILURE after reporting. */
static int read_proof(const char *cmd, const char *path, const char *magic, proof_text *p)
{
    memset(p, 0, sizeof *p);
    size_t len;
    p->buf = read_text(cmd, path, MAX_PROOF_BYTES, &len);
    if (!p->buf)
        return CLI_EXIT_FAILURE;
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += p->buf[i] == '\n';
    p->keys = malloc(cap * sizeof *p->keys);
    p->values = malloc(cap * sizeof *p->values);
    if (!p->keys || !p->values)
        return fail(cmd, "out of memory");
    char *line = p->buf, *end = p->buf + len;
    if (strncmp(line, magic, strlen(magic)) != 0 || line[strlen(magic)] != '\n') {
        fprintf(stderr, "crisk audit %s: %s: line 1 is not \"%s\"\n", cmd, path, magic);
        return CLI_EXIT_FAILURE;
    }
    line += strlen(magic) + 1;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl)
            *nl = '\0';
        char *space = strchr(line, ' ');
        if (!space) {
            fprintf(stderr, "crisk audit %s: %s: line %zu is not \"key value\"\n", cmd, path,
                    p->nlines + 2);
            return CLI_EXIT_FAILURE;
        }
        *space = '\0';
        p->keys[p->nlines] = line;
        p->values[p->nlines++] = space + 1;
        line = nl ? nl + 1 : end;
    }
    return 0;
}

/* Frees what read_proof() allocated. */
static void free_proof(proof_text *p)
{
    free(p->buf);
    free(p->keys);
    free(p->values);
}

/* Parses line `i` of `p` as "`key` <decimal>" into `*out`. Returns 0 or -1. */
static int proof_number(const proof_text *p, size_t i, const char *key, uint64_t *out)
{
    if (i >= p->nlines || strcmp(p->keys[i], key) != 0)
        return -1;
    const char *v = p->values[i];
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno == ERANGE)
        return -1;
    *out = n;
    return 0;
}

/* Parses the "path <hex>" lines of `p` from line `first` on into `path`. Returns 0 or
 * -1 (a bad line, or too many). */
static int parse_path(const proof_text *p, size_t first, unsigned char path[][CRISK_HASH_SIZE],
                      size_t *len)
{
    *len = 0;
    for (size_t i = first; i < p->nlines; i++) {
        if (strcmp(p->keys[i], "path") != 0 || strlen(p->values[i]) != CLI_HASH_HEX ||
            *len == CRISK_MERKLE_MAX_PROOF ||
            crisk_hex_decode(p->values[i], CRISK_HASH_SIZE, path[*len]) != 0)
            return -1;
        ++*len;
    }
    return 0;
}

/* `crisk audit keygen --private FILE --public FILE`. */
static int cmd_keygen(int argc, char **argv)
{
    const char *priv = NULL, *pub = NULL;
    const cli_option opts[] = {{"--private", &priv, NULL}, {"--public", &pub, NULL}};
    int rc = parse("keygen", "--private FILE --public FILE", argc, argv, 0, NULL, opts, 2);
    if (rc)
        return rc;
    if (!priv || !pub) {
        fprintf(stderr, "crisk audit keygen: --private and --public are required\n");
        return CLI_EXIT_USAGE;
    }
    crisk_error err;
    if (crisk_audit_keygen(priv, pub, &err) != 0)
        return fail("keygen", err.message);
    return CLI_EXIT_OK;
}

/* `crisk audit append LOG --key PRIVATE [--input FILE]`: one entry per non-empty line,
 * then a signed checkpoint, which is printed. */
static int cmd_append(int argc, char **argv)
{
    const char *log_path = NULL, *key_path = NULL, *input = NULL;
    const cli_option opts[] = {{"--key", &key_path, NULL}, {"--input", &input, NULL}};
    int rc = parse("append", "LOG --key PRIVATE [--input FILE]", argc, argv, 1, &log_path,
                   opts, 2);
    if (rc)
        return rc;
    if (!key_path) {
        fprintf(stderr, "crisk audit append: --key is required\n");
        return CLI_EXIT_USAGE;
    }
    crisk_audit_key *key = read_key("append", key_path, 1);
    if (!key)
        return CLI_EXIT_FAILURE;
    FILE *in = input && strcmp(input, "-") != 0 ? fopen(input, "rb") : stdin;
    crisk_audit_log *log = NULL;
    crisk_error err;
    int status = CLI_EXIT_FAILURE;
    char *line = NULL;
    size_t cap = 0;
    if (!in) {
        fail("append", strerror(errno));
        goto done;
    }
    /* Refused up front when another key signs the log; one fsync for the batch. */
    crisk_audit_open_options open_opts;
    crisk_audit_open_options_init(&open_opts, CRISK_AUDIT_OPEN_OPTIONS_VERSION);
    open_opts.key = key;
    open_opts.group_commit = 1;
    if (crisk_audit_open_advanced(log_path, &open_opts, &log, &err) != 0) {
        fail("append", err.message);
        goto done;
    }
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n > 0 && crisk_audit_append(log, line, (size_t)n, NULL, &err) != 0) {
            fail("append", err.message);
            goto done;
        }
    }
    crisk_checkpoint cp;
    if (ferror(in)) {
        fail("append", "cannot read the input");
    } else if (crisk_audit_checkpoint(log, key, (int64_t)time(NULL), &cp, &err) != 0) {
        fail("append", err.message);
    } else {
        print_checkpoint(stdout, &cp);
        status = finish();
    }
done:
    free(line);
    if (in && in != stdin)
        fclose(in);
    crisk_audit_close(log);
    crisk_audit_key_free(key);
    return status;
}

/* `crisk audit checkpoint LOG`: prints the last checkpoint stored in the log. */
static int cmd_checkpoint(int argc, char **argv)
{
    const char *log_path = NULL;
    int rc = parse("checkpoint", "LOG", argc, argv, 1, &log_path, NULL, 0);
    if (rc)
        return rc;
    crisk_audit_log *log = NULL;
    crisk_error err;
    if (crisk_audit_open_read(log_path, NULL, &log, &err) != 0)
        return fail("checkpoint", err.message);
    crisk_checkpoint cp;
    size_t count = crisk_audit_last_checkpoint(log, &cp);
    crisk_audit_close(log);
    if (count == 0)
        return fail("checkpoint", "the log has no checkpoint yet");
    print_checkpoint(stdout, &cp);
    return finish();
}

/* Prints what a verified log holds: "ok: N entries, C checkpoints", then the entries no
 * checkpoint covers yet and the bytes of a torn record after the last valid one, if any
 * (what the next append cuts off). */
static void print_verified(const crisk_audit_log *log)
{
    crisk_checkpoint last;
    size_t checkpoints = crisk_audit_last_checkpoint(log, &last);
    uint64_t entries = crisk_audit_size(log), signed_size = checkpoints ? last.tree_size : 0;
    uint64_t torn = crisk_audit_torn_bytes(log);
    printf("ok: %" PRIu64 " entries, %zu checkpoints\n", entries, checkpoints);
    if (entries > signed_size)
        printf("%" PRIu64 " entries after the last checkpoint (%" PRIu64 " to %" PRIu64
               "): no checkpoint signs them yet\n", entries - signed_size, signed_size,
               entries - 1);
    if (torn)
        printf("%" PRIu64 " bytes after the last valid record: a torn record, which the next "
               "append cuts off\n", torn);
}

/* `crisk audit verify LOG [--checkpoint CP] [--pubkey K]`. */
static int cmd_verify(int argc, char **argv)
{
    const char *log_path = NULL, *cp_path = NULL, *pub = NULL;
    const cli_option opts[] = {{"--checkpoint", &cp_path, NULL}, {"--pubkey", &pub, NULL}};
    int rc = parse("verify", "LOG [--checkpoint CP] [--pubkey K]", argc, argv, 1, &log_path,
                   opts, 2);
    if (rc)
        return rc;
    crisk_checkpoint cp;
    if (cp_path && read_checkpoint("verify", cp_path, &cp) != 0)
        return CLI_EXIT_FAILURE;
    crisk_audit_key *key = pub ? read_key("verify", pub, 0) : NULL;
    if (pub && !key)
        return CLI_EXIT_FAILURE;
    crisk_audit_log *log = NULL;
    crisk_error err;
    rc = crisk_audit_open_read(log_path, key, &log, &err);
    if (rc == 0 && cp_path)
        rc = crisk_audit_check_checkpoint(log, key, &cp, &err);
    crisk_audit_key_free(key);
    if (rc) {
        crisk_audit_close(log);
        return fail("verify", err.message);
    }
    print_verified(log);
    crisk_audit_close(log);
    if (!pub)
        fprintf(stderr, "crisk audit verify: warning: signatures not checked (no --pubkey): "
                        "a rewritten log with recomputed checkpoints would pass\n");
    return finish();
}

/* Returns 1 when entry `data` (`size` bytes) is a decision leaf of `crisk score
 * --audit` whose "id" is `id`, or, when `hash` is not NULL, whose "id_hmac" is `hash`. */
static int leaf_has_id(const unsigned char *data, size_t size, const char *id,
                       const char *hash)
{
    cJSON *leaf = cJSON_ParseWithLength((const char *)data, size);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(leaf, hash ? "id_hmac" : "id");
    int found = cJSON_IsString(v) && strcmp(v->valuestring, hash ? hash : id) == 0;
    cJSON_Delete(leaf);
    return found;
}

/* Finds the last entry of the first `size` entries of `log` that is the decision on
 * declaration `id` (its keyed hash under the key in file `key_path`, when that is not
 * NULL), reading entries into `data`. Returns its index, or -1 after reporting. */
static long find_id(const crisk_audit_log *log, uint64_t size, const char *id,
                    const char *key_path, unsigned char *data)
{
    char hash[2 * CRISK_PROTECTED_ID_BYTES + 1];
    unsigned char key[CLI_PROTECT_KEY_MAX];
    size_t key_size = 0, len = 0;
    crisk_error err;
    if (key_path && (cli_protect_key_read(key_path, key, &key_size) != 0 ||
                     crisk_protect_id(key, key_size, id, strlen(id), hash, &err) != 0))
        return -1;
    for (uint64_t i = size; i-- > 0;) {
        if (crisk_audit_read_entry(log, i, data, CRISK_AUDIT_MAX_ENTRY, &len, &err) != 0) {
            fail("prove", err.message);
            return -1;
        }
        if (leaf_has_id(data, len, id, key_path ? hash : NULL))
            return (long)i;
    }
    fprintf(stderr, "crisk audit prove: no decision on declaration \"%s\" among the %" PRIu64
                    " entries the checkpoint covers%s\n", id, size,
            key_path ? "" : " (were ids protected? give --id-key)");
    return -1;
}

/* `crisk audit prove LOG (--index N | --id DECL [--id-key KEY]) [--checkpoint CP]`: an
 * inclusion proof of entry N, or of the last decision on declaration DECL, in the tree
 * of CP (default: the log's last checkpoint). */
static int cmd_prove(int argc, char **argv)
{
    const char *log_path = NULL, *index_text = NULL, *cp_path = NULL, *id = NULL,
               *id_key = NULL;
    const cli_option opts[] = {{"--index", &index_text, NULL},
                               {"--checkpoint", &cp_path, NULL},
                               {"--id", &id, NULL}, {"--id-key", &id_key, NULL}};
    int rc = parse("prove", "LOG (--index N | --id DECL [--id-key KEY]) [--checkpoint CP]",
                   argc, argv, 1, &log_path, opts, 4);
    if (rc)
        return rc;
    long index = -1;
    if (!index_text == !id || (id_key && !id)) {
        fprintf(stderr, "crisk audit prove: give one of --index and --id (--id-key goes "
                        "with --id)\n");
        return CLI_EXIT_USAGE;
    }
    if ((rc = cli_parse_int("--index", index_text, 0, LONG_MAX, &index)) != 0)
        return rc;
    crisk_checkpoint cp;
    if (cp_path && read_checkpoint("prove", cp_path, &cp) != 0)
        return CLI_EXIT_FAILURE;
    crisk_audit_log *log = NULL;
    crisk_error err;
    if (crisk_audit_open_read(log_path, NULL, &log, &err) != 0)
        return fail("prove", err.message);
    int status = CLI_EXIT_FAILURE;
    unsigned char root[CRISK_HASH_SIZE], path[CRISK_MERKLE_MAX_PROOF][CRISK_HASH_SIZE];
    size_t len = 0, size = 0;
    unsigned char *data = malloc(CRISK_AUDIT_MAX_ENTRY);
    char *hex = malloc(2 * CRISK_AUDIT_MAX_ENTRY + 1);
    if (!cp_path && crisk_audit_last_checkpoint(log, &cp) == 0) {
        fail("prove", "the log has no checkpoint yet");
    } else if (!data || !hex) {
        fail("prove", "out of memory");
    } else if (id && cp.tree_size > crisk_audit_size(log)) {
        fail("prove", "the checkpoint covers more entries than the log holds");
    } else if (id && (index = find_id(log, cp.tree_size, id, id_key, data)) < 0) {
        /* reported */
    } else if (crisk_audit_root(log, cp.tree_size, root, &err) != 0 ||
               crisk_audit_inclusion_proof(log, (uint64_t)index, cp.tree_size, path, &len,
                                           &err) != 0 ||
               crisk_audit_read_entry(log, (uint64_t)index, data, CRISK_AUDIT_MAX_ENTRY,
                                      &size, &err) != 0) {
        fail("prove", err.message);
    } else if (memcmp(root, cp.root, CRISK_HASH_SIZE) != 0) {
        fail("prove", "the log's entries do not have the checkpoint's root");
    } else {
        crisk_hex_encode(data, size, hex);
        printf("%s\nindex %ld\nsize %" PRIu64 "\ndata %s\n", inclusion_magic, index,
               cp.tree_size, hex);
        print_path(path, len);
        status = finish();
    }
    free(data);
    free(hex);
    crisk_audit_close(log);
    return status;
}

/* `crisk audit check-proof PROOF --checkpoint CP --pubkey K`: checks an inclusion proof
 * against a signed checkpoint, without the log. */
static int cmd_check_proof(int argc, char **argv)
{
    const char *proof_path = NULL, *cp_path = NULL, *pub = NULL;
    const cli_option opts[] = {{"--checkpoint", &cp_path, NULL}, {"--pubkey", &pub, NULL}};
    int rc = parse("check-proof", "PROOF --checkpoint CP --pubkey K", argc, argv, 1,
                   &proof_path, opts, 2);
    if (rc)
        return rc;
    if (!cp_path || !pub) {
        fprintf(stderr, "crisk audit check-proof: --checkpoint and --pubkey are required\n");
        return CLI_EXIT_USAGE;
    }
    crisk_checkpoint cp;
    if (read_signed_checkpoint("check-proof", cp_path, pub, &cp) != 0)
        return CLI_EXIT_FAILURE;
    proof_text p;
    int status = CLI_EXIT_FAILURE;
    uint64_t index, size;
    unsigned char path[CRISK_MERKLE_MAX_PROOF][CRISK_HASH_SIZE], leaf[CRISK_HASH_SIZE];
    size_t len, data_len = 0;
    unsigned char *data = NULL;
    crisk_error err = {0, "OpenSSL could not compute a SHA-256"};
    if (read_proof("check-proof", proof_path, inclusion_magic, &p) != 0)
        goto done;
    if (proof_number(&p, 0, "index", &index) || proof_number(&p, 1, "size", &size) ||
        p.nlines < 3 || strcmp(p.keys[2], "data") != 0 || parse_path(&p, 3, path, &len)) {
        fail("check-proof", "malformed proof (expected index, size, data, path lines)");
        goto done;
    }
    data_len = strlen(p.values[2]) / 2;
    data = malloc(data_len + 1);
    if (!data || strlen(p.values[2]) % 2 ||
        crisk_hex_decode(p.values[2], data_len, data) != 0) {
        fail("check-proof", "malformed proof: the data line is not hex");
        goto done;
    }
    if (size != cp.tree_size) {
        fprintf(stderr, "crisk audit check-proof: the proof is for a tree of %" PRIu64
                        " entries, the checkpoint signs %" PRIu64 "\n", size, cp.tree_size);
        goto done;
    }
    if (crisk_merkle_leaf_hash(data, data_len, leaf) != 0 ||
        crisk_merkle_verify_inclusion(leaf, index, size, path, len, cp.root, &err) != 0) {
        fail("check-proof", err.message);
        goto done;
    }
    printf("ok: entry %" PRIu64 " is in the signed tree of %" PRIu64 " entries\n", index,
           size);
    status = finish();
done:
    free(data);
    free_proof(&p);
    return status;
}

/* `crisk audit consistency OLD_CP NEW_CP --log LOG`: proves from the log that NEW_CP's
 * tree extends OLD_CP's. */
static int cmd_consistency(int argc, char **argv)
{
    const char *cps[2] = {NULL, NULL}, *log_path = NULL;
    const cli_option opts[] = {{"--log", &log_path, NULL}};
    int rc = parse("consistency", "OLD_CP NEW_CP --log LOG", argc, argv, 2, cps, opts, 1);
    if (rc)
        return rc;
    if (!log_path) {
        fprintf(stderr, "crisk audit consistency: --log is required\n");
        return CLI_EXIT_USAGE;
    }
    crisk_checkpoint cp[2];
    for (int i = 0; i < 2; i++)
        if (read_checkpoint("consistency", cps[i], &cp[i]) != 0)
            return CLI_EXIT_FAILURE;
    crisk_audit_log *log = NULL;
    crisk_error err;
    if (crisk_audit_open_read(log_path, NULL, &log, &err) != 0)
        return fail("consistency", err.message);
    int status = CLI_EXIT_FAILURE;
    unsigned char root[CRISK_HASH_SIZE], path[CRISK_MERKLE_MAX_PROOF][CRISK_HASH_SIZE];
    size_t len = 0;
    for (int i = 0; i < 2; i++) {
        if (crisk_audit_root(log, cp[i].tree_size, root, &err) != 0) {
            fail("consistency", err.message);
            goto done;
        }
        if (memcmp(root, cp[i].root, CRISK_HASH_SIZE) != 0) {
            fprintf(stderr, "crisk audit consistency: %s: the log's first %" PRIu64
                            " entries do not have this checkpoint's root\n", cps[i],
                    cp[i].tree_size);
            goto done;
        }
    }
    if (crisk_audit_consistency_proof(log, cp[0].tree_size, cp[1].tree_size, path, &len,
                                      &err) != 0) {
        fail("consistency", err.message);
        goto done;
    }
    printf("%s\nold_size %" PRIu64 "\nnew_size %" PRIu64 "\n", consistency_magic,
           cp[0].tree_size, cp[1].tree_size);
    print_path(path, len);
    status = finish();
done:
    crisk_audit_close(log);
    return status;
}

/* `crisk audit check-consistency PROOF --old OLD_CP --new NEW_CP --pubkey K`: checks a
 * consistency proof against two signed checkpoints, without the log. */
static int cmd_check_consistency(int argc, char **argv)
{
    const char *proof_path = NULL, *old_path = NULL, *new_path = NULL, *pub = NULL;
    const cli_option opts[] = {{"--old", &old_path, NULL}, {"--new", &new_path, NULL},
                               {"--pubkey", &pub, NULL}};
    int rc = parse("check-consistency", "PROOF --old OLD_CP --new NEW_CP --pubkey K", argc,
                   argv, 1, &proof_path, opts, 3);
    if (rc)
        return rc;
    if (!old_path || !new_path || !pub) {
        fprintf(stderr, "crisk audit check-consistency: --old, --new and --pubkey are "
                        "required\n");
        return CLI_EXIT_USAGE;
    }
    crisk_checkpoint old_cp, new_cp;
    if (read_signed_checkpoint("check-consistency", old_path, pub, &old_cp) != 0 ||
        read_signed_checkpoint("check-consistency", new_path, pub, &new_cp) != 0)
        return CLI_EXIT_FAILURE;
    proof_text p;
    int status = CLI_EXIT_FAILURE;
    uint64_t old_size, new_size;
    unsigned char path[CRISK_MERKLE_MAX_PROOF][CRISK_HASH_SIZE];
    size_t len;
    crisk_error err;
    if (read_proof("check-consistency", proof_path, consistency_magic, &p) != 0)
        goto done;
    if (proof_number(&p, 0, "old_size", &old_size) ||
        proof_number(&p, 1, "new_size", &new_size) || parse_path(&p, 2, path, &len)) {
        fail("check-consistency", "malformed proof (expected old_size, new_size, path lines)");
        goto done;
    }
    if (old_size != old_cp.tree_size || new_size != new_cp.tree_size) {
        fail("check-consistency", "the proof's sizes are not the checkpoints' sizes");
        goto done;
    }
    if (crisk_merkle_verify_consistency(old_size, old_cp.root, new_size, new_cp.root, path,
                                        len, &err) != 0) {
        fail("check-consistency", err.message);
        goto done;
    }
    printf("ok: the tree of %" PRIu64 " entries extends the tree of %" PRIu64 "\n",
           new_size, old_size);
    status = finish();
done:
    free_proof(&p);
    return status;
}

/* Runs `crisk audit SUBCOMMAND ...`; returns the exit code. */
static int run(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"keygen", cmd_keygen},           {"append", cmd_append},
        {"checkpoint", cmd_checkpoint},   {"verify", cmd_verify},
        {"prove", cmd_prove},             {"check-proof", cmd_check_proof},
        {"consistency", cmd_consistency}, {"check-consistency", cmd_check_consistency},
    };
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0))
        return CLI_HELP;
    for (size_t i = 0; argc > 0 && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[0], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1); /* main() handles CLI_HELP */
        }
    fprintf(stderr, "crisk audit: expected a sub-command: keygen, append, checkpoint, verify, "
                    "prove, check-proof, consistency, check-consistency (see 'crisk audit "
                    "--help')\n");
    return CLI_EXIT_USAGE;
}

const cli_command cli_cmd_audit = {
    "audit",
    "  crisk audit keygen --private FILE --public FILE\n"
    "  crisk audit append LOG --key PRIVATE [--input FILE]\n"
    "  crisk audit checkpoint LOG\n"
    "  crisk audit verify LOG [--checkpoint CP] [--pubkey K]\n"
    "  crisk audit prove LOG (--index N | --id DECL [--id-key KEY]) [--checkpoint CP]\n"
    "  crisk audit check-proof PROOF --checkpoint CP --pubkey K\n"
    "  crisk audit consistency OLD_CP NEW_CP --log LOG\n"
    "  crisk audit check-consistency PROOF --old OLD_CP --new NEW_CP --pubkey K\n",
    "keeps and checks a signed, verifiable decision log",
    "audit    a signed, verifiable decision log (docs/security.md): keygen makes an\n"
    "         Ed25519 key pair (PEM); append adds each non-empty input line as an\n"
    "         entry then prints a signed checkpoint; checkpoint prints the last one;\n"
    "         verify checks every entry, index and checkpoint (signatures with\n"
    "         --pubkey; --checkpoint: one kept elsewhere); prove prints an inclusion\n"
    "         proof (of entry N, or of the last decision on declaration DECL, found by\n"
    "         its keyed hash with --id-key) that check-proof verifies without the\n"
    "         log; consistency proves\n"
    "         that NEW_CP extends OLD_CP, which check-consistency verifies.\n",
    0,
    run,
};
