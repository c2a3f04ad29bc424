/*
 * fuzz_audit.c — libFuzzer target: arbitrary bytes as a checkpoint's text and as an
 * audit log file. A log that opens must give proofs that verify; a log that opens for
 * appending (after cutting off a torn record) must take an entry and then verify.
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
    int rc = crisk_checkpoint_parse((const char *)data, size, &cp, &err);
    if (rc)
        fuzz_check_failure(rc, &err);

    char path[] = "/tmp/crisk-fuzz-audit-XXXXXX";
    fuzz_write_temp(data, size, path);
    crisk_audit_log *log = NULL;
    rc = crisk_audit_open_read(path, NULL, &log, &err);
    if (rc)
        fuzz_check_failure(rc, &err);
    check_proofs(log);
    crisk_audit_close(log);

    rc = crisk_audit_open(path, &log, &err);
    if (rc) {
        fuzz_check_failure(rc, &err);
    } else {
        if (crisk_audit_append(log, "fuzz", 4, NULL, &err) != 0)
            abort();
        crisk_audit_close(log);
        /* Recovery leaves a log that verifies, the new entry included. */
        if (crisk_audit_verify(path, NULL, NULL, NULL, NULL, &err) != 0)
            abort();
    }
    unlink(path);
    return 0;
}
