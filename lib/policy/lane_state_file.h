/*
 * policy/lane_state_file.h — the streaming lane state's file: locking it for one run, and
 * reading a saved state (crisk_lane_state_save writes it). Internal to the library.
 */
#ifndef CRISK_LANE_STATE_FILE_H
#define CRISK_LANE_STATE_FILE_H

#include "crisk.h"

/* Takes the exclusive lock on `path`.lock (created mode 0600 if absent, never through a
 * symlink, never removed) for `s`, which holds it until crisk_lane_state_free. A lock
 * another state holds, in this process or another, is refused at once with CRISK_E_IO
 * naming the path. */
int crisk__lane_state_lock(crisk_lane_state *s, const char *path, crisk_error *err);

/* Fills the empty state `s` from the file at `path`, refusing with CRISK_E_FORMAT (naming
 * the file and what is wrong) a file that is not a state crisk saved for the policy `s`
 * was made for (same fingerprint and window), or CRISK_E_IO / CRISK_E_LIMIT. Time and
 * memory are linear in the file's size (one sort of the window aside). */
int crisk__lane_state_read_file(crisk_lane_state *s, const char *path, crisk_error *err);

#endif /* CRISK_LANE_STATE_FILE_H */
