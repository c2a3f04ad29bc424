/*
 * fuzz_audit.c — libFuzzer target: arbitrary bytes as a checkpoint's text and as an
 * audit log file. A log that opens must give proofs that verify, and be checked against
 * the checkpoint the bytes may also parse as; a log that opens for appending with group
 * commit (after cutting off exactly the torn bytes a read-only open reports) must take an
 * entry and a checkpoint dated before every stored one (a clock stepped back) unless
 * another key signed it, and then verify, under the harness key when it took the
 * checkpoint. The corpus logs are signed with that key, so the appending paths are
 * reached.
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The harness's signing key (Ed25519, made for this target; it protects nothing). */
static const char harness_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEINpZJURVUDNGUF9d6AZf5vtkyX1FCfB0ECdxiNhg0qMk\n"
    "-----END PRIVATE KEY-----\n";

/* Returns the harness key, loaded on the first call and kept for the process. */
static const crisk_audit_key *signing_key(void)
{
    static crisk_audit_key *key;
    if (!key) {
        char path[] = "/tmp/crisk-fuzz-audit-key-XXXXXX";
        fuzz_write_temp((const uint8_t *)harness_key, strlen(harness_key), path);
        if (crisk_audit_key_load(path, 1, &key, NULL) != 0)
            abort();
        unlink(path);
    }
    return key;
}

/* Returns the size of the file at `path`. */
static uint64_t file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        abort();
    return (uint64_t)st.st_size;
}

/* Opens the log at `path` for appending with group commit, after a read-only open said
 * how many entries and torn bytes it has (`entries`, `torn`): recovery cuts exactly those
 * bytes. Then appends an entry and a checkpoint at time 0, behind any stored one, which
 * only a log another key signed refuses; the log must verify afterwards. */
static void append_and_checkpoint(const char *path, uint64_t entries, uint64_t torn)
{
    crisk_audit_open_options opts;
    crisk_audit_open_options_init(&opts, CRISK_AUDIT_OPEN_OPTIONS_VERSION);
    opts.group_commit = 1;
    uint64_t before = file_size(path);
    crisk_audit_log *log = NULL;
    crisk_error err;
    int rc = crisk_audit_open_advanced(path, &opts, &log, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
        return;
    }
    if (crisk_audit_size(log) != entries || crisk_audit_torn_bytes(log) != torn ||
        (before >= 8 && file_size(path) != before - torn))
        abort();
    crisk_checkpoint previous, cp;
    size_t stored = crisk_audit_last_checkpoint(log, &previous);
    if (crisk_audit_append(log, "fuzz", 4, NULL, &err) != 0)
        abort();
    rc = crisk_audit_checkpoint(log, signing_key(), 0, &cp, &err);
    if (rc != 0 && (rc != CRISK_E_INTEGRITY || stored == 0))
        abort();
    if (rc == 0 && stored > 0 &&
        (cp.timestamp != previous.timestamp || cp.clock_behind != previous.timestamp))
        abort();
    crisk_audit_close(log);
    /* Recovery leaves a log that verifies, the new entry included. */
    if (crisk_audit_verify(path, rc == 0 ? signing_key() : NULL, NULL, NULL, NULL, &err) != 0)
        abort();
}

/* Checks an inclusion proof of the last entry and a consistency proof from the first
 * entry, both against the log's own roots; aborts when one does not verify. */
static void check_proofs(const crisk_audit_log *log)
{
    uint64_t n = crisk_audit_size(log);
    if (n == 0)
        return;
    unsigned char path[CRISK_MERKLE_MAX_PROOF][CRISK_HASH_SIZE], root[CRISK_HASH_SIZE],
        first[CRISK_HASH_SIZE], leaf[CRISK_HASH_SIZE];
    size_t len, size;
    crisk_error err;
    /* Asked with no room, the log says how large the entry is. */
    if (crisk_audit_read_entry(log, n - 1, NULL, 0, &size, &err) != CRISK_E_LIMIT)
        abort();
    unsigned char *entry = malloc(size);
    if (!entry || crisk_audit_root(log, n, root, &err) ||
        crisk_audit_root(log, 1, first, &err) ||
        crisk_audit_read_entry(log, n - 1, entry, size, &size, &err) ||
        crisk_merkle_leaf_hash(entry, size, leaf) ||
        crisk_audit_inclusion_proof(log, n - 1, n, path, &len, &err) ||
        crisk_merkle_verify_inclusion(leaf, n - 1, n, (const unsigned char(*)[32])path, len,
                                      root, &err) ||
        crisk_audit_consistency_proof(log, 1, n, path, &len, &err) ||
        crisk_merkle_verify_consistency(1, first, n, root, (const unsigned char(*)[32])path,
                                        len, &err))
        abort();
    free(entry);
}

/* Parses `data` as a checkpoint, then opens it as a log read-only and for appending.
 * Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crisk_checkpoint cp;
    crisk_error err;
    int parsed = crisk_checkpoint_parse((const char *)data, size, &cp, &err) == 0;
    if (!parsed)
        fuzz_check_failure(crisk_checkpoint_parse((const char *)data, size, &cp, &err), &err);

    char path[] = "/tmp/crisk-fuzz-audit-XXXXXX";
    fuzz_write_temp(data, size, path);
    crisk_audit_log *log = NULL;
    int rc = crisk_audit_open_read(path, NULL, &log, &err);
    uint64_t entries = 0, torn = 0;
    if (rc) {
        fuzz_check_failure(rc, &err);
    } else {
        check_proofs(log);
        entries = crisk_audit_size(log);
        torn = crisk_audit_torn_bytes(log);
        if (parsed && (rc = crisk_audit_check_checkpoint(log, NULL, &cp, &err)) != 0)
            fuzz_check_failure(rc, &err);
        crisk_audit_close(log);
    }
    append_and_checkpoint(path, entries, torn);
    unlink(path);
    return 0;
}
