/*
 * audit/checkpoint.h — signing checkpoints, for the audit log. Internal to the library.
 */
#ifndef CRISK_CHECKPOINT_H
#define CRISK_CHECKPOINT_H

#include "crisk.h"

/* Signs `cp` (its size, root and time) with the private key `key`, filling
 * cp->signature. Returns 0, CRISK_E_INVALID_ARGUMENT (a public key) or
 * CRISK_E_DEPENDENCY. */
int crisk__checkpoint_sign(crisk_checkpoint *cp, const crisk_audit_key *key, crisk_error *err);

#endif /* CRISK_CHECKPOINT_H */
