/*
 * policy/lane_state_file.c — the streaming lane state on disk: the lock that gives one run
 * a state file to itself, the crash-safe save (a fresh temporary file, fsynced, renamed
 * over the old state, the old one kept as PATH.prev), and the reader, which reads the
 * saved text in place (no tree) in time and memory linear in its size.
 */
#include "policy/lane_state_file.h"

#include "policy/lane_state.h"

#include "common/error.h"
#include "common/file.h"
#include "common/jsonfile.h"
#include "common/jsonpull.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* A window of 10^7 scores at up to ~20 bytes each bounds a genuine file. */
#define MAX_STATE_BYTES ((size_t)10000000 * 32 + 4096)
/* Largest file whose syntax error is located by a cJSON parse (its tree costs ~40x). */
#define LOCATE_ERROR_BYTES ((size_t)1 << 20)

/* Returns malloc'd `path` followed by `suffix`, or NULL. */
static char *path_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    char *s = malloc(n + m + 1);
    if (s) {
        memcpy(s, path, n);
        memcpy(s + n, suffix, m + 1);
    }
    return s;
}

/* ---- the lock --------------------------------------------------------------------- */

int crisk__lane_state_lock(crisk_lane_state *s, const char *path, crisk_error *err)
{
    char *lock = path_with(path, ".lock");
    if (!lock)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    /* O_NOFOLLOW: a symlink planted at the lock's name is refused, never written through. */
    int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: cannot open the state's lock file: %s", lock,
                         strerror(errno));
    /* flock locks belong to the open file: a second open in this process conflicts too. */
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: %s by another run (%s is locked); run one "
                         "stream per state file", path,
                         errno == EWOULDBLOCK ? "in use" : strerror(errno), lock);
    if (rc && fd >= 0)
        close(fd);
    else if (rc == 0)
        s->lock_fd = fd;
    free(lock);
    return rc;
}

/* ---- saving ----------------------------------------------------------------------- */

/* Writes the state as JSON to `f`; returns nonzero when a write failed. */
static int write_state(const crisk_lane_state *s, FILE *f)
{
    fprintf(f, "{\"format\": \"crisk-lane-state\", \"version\": 1, \"policy\": \"%016llx\", "
            "\"window\": %zu, \"scores\": [", (unsigned long long)s->fingerprint, s->window);
    for (size_t i = 0; i < s->count; i++)
        fprintf(f, "%s%.9g", i ? ", " : "", (double)s->ring[(s->head + i) % s->window]);
    fprintf(f, "]}\n");
    return fflush(f) != 0 || ferror(f);
}

/* Flushes the directory holding `path` to disk, so that a rename in it survives a crash. */
static int sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Keeps the current state at `path` (if any) as `prev`, a hard link: the recovery point
 * docs/bundle.md names. A symlink at `prev` is removed, never followed. */
static int keep_previous(const char *path, const char *prev)
{
    if (unlink(prev) != 0 && errno != ENOENT)
        return -1;
    return link(path, prev) != 0 && errno != ENOENT ? -1 : 0;
}

/* Writes the state to a new temporary file beside `path` (mkstemp: created, never
 * opened through a planted name) and fsyncs it; stores its name in `tmp`. */
static int write_temp(const crisk_lane_state *s, char *tmp)
{
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int failed = write_state(s, f);
    failed |= fsync(fd) != 0;
    failed |= fclose(f) != 0;
    if (failed)
        unlink(tmp);
    return failed ? -1 : 0;
}

int crisk_lane_state_save(const crisk_lane_state *s, const char *path, crisk_error *err)
{
    if (!s || !path)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "state and path must not be NULL");
    char *tmp = path_with(path, ".XXXXXX"), *prev = path_with(path, ".prev");
    int rc = 0;
    if (!tmp || !prev)
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    else if (write_temp(s, tmp) != 0)
        rc = crisk__fail(err, CRISK_E_IO, "%s: could not write the state: %s", tmp,
                         strerror(errno));
    else if (keep_previous(path, prev) != 0 || rename(tmp, path) != 0 || sync_dir(path) != 0) {
        rc = crisk__fail(err, CRISK_E_IO, "%s: could not replace the state: %s", path,
                         strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(prev);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

enum { K_FORMAT, K_VERSION, K_POLICY, K_WINDOW, K_SCORES, NUM_KEYS };
static const char *const state_keys[NUM_KEYS] = {"format", "version", "policy", "window",
                                                 "scores"};

/* Refuses text that is not JSON of the strict form crisk writes, saying where when the
 * file is small enough for cJSON to locate the error. */
static int syntax_error(const char *path, const char *text, size_t len, crisk_error *err)
{
    cJSON *root = NULL;
    int rc = len <= LOCATE_ERROR_BYTES ? crisk__json_parse_text(path, text, len, &root, err)
                                       : -1;
    cJSON_Delete(root);
    if (rc < 0 && len <= LOCATE_ERROR_BYTES)
        return rc;
    return crisk__fail(err, CRISK_E_FORMAT, "%s: not a lane state as crisk writes it (JSON "
                       "without escapes, nested at most 2 deep)%s", path,
                       rc < 0 ? "; the file is too large to locate the error" : "");
}

/* Stores, for each member of the object at `c`, a cursor at its value in at[key],
 * refusing unknown and repeated keys. */
static int find_members(crisk__jpull *c, crisk__jpull *at, int *seen, const char *path,
                        crisk_error *err)
{
    if (crisk__jpull_enter(c) != 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: not a JSON object", path);
    while (crisk__jpull_more(c)) {
        const char *k;
        size_t n;
        int rc = crisk__jpull_key(c, &k, &n);
        if (rc)
            return rc == CRISK_E_NOMEM ? crisk__fail(err, rc, "out of memory")
                                       : crisk__fail(err, CRISK_E_FORMAT, "%s: bad key", path);
        size_t i = 0;
        while (i < NUM_KEYS && !(strlen(state_keys[i]) == n && !memcmp(state_keys[i], k, n)))
            i++;
        if (i == NUM_KEYS)
            return crisk__fail(err, CRISK_E_FORMAT, "%s: unknown key \"%.*s\"", path,
                               (int)(n > 64 ? 64 : n), k);
        if (seen[i]++)
            return crisk__fail(err, CRISK_E_FORMAT, "%s: key \"%s\" given twice", path,
                               state_keys[i]);
        at[i] = *c;
        crisk__jpull_skip(c);
    }
    return 0;
}

/* Returns 1 when the member at `c` (if `seen`) is the string `want`. */
static int string_is(crisk__jpull *c, int seen, const char *want)
{
    const char *s;
    size_t n;
    return seen && crisk__jpull_peek(c) == CRISK__J_STRING && crisk__jpull_string(c, &s, &n) == 0
           && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Returns 1 when the member at `c` (if `seen`) is the number `want`. */
static int number_is(crisk__jpull *c, int seen, double want)
{
    double v;
    return seen && crisk__jpull_peek(c) == CRISK__J_NUMBER && crisk__jpull_number(c, &v) == 0
           && v == want;
}

/* Reads the scores array at `c` into s->ring, then sorts the window once. */
static int read_scores(crisk_lane_state *s, crisk__jpull *c, int seen, const char *path,
                       crisk_error *err)
{
    if (!seen || crisk__jpull_peek(c) != CRISK__J_ARRAY || crisk__jpull_count(c) > s->window)
        return crisk__fail(err, CRISK_E_FORMAT, "%s: scores: expected an array of at most %zu "
                           "numbers", path, s->window);
    size_t n = 0;
    crisk__jpull_enter(c);
    while (crisk__jpull_more(c)) {
        double v;
        if (crisk__jpull_peek(c) != CRISK__J_NUMBER || crisk__jpull_number(c, &v) != 0
            || !isfinite((float)v))
            return crisk__fail(err, CRISK_E_FORMAT, "%s: scores[%zu]: expected a finite number",
                               path, n);
        s->ring[n++] = (float)v;
    }
    return crisk__lane_state_fill(s, n, err);
}

/* Fills the empty state `s` from checked state text. */
static int read_state(crisk_lane_state *s, crisk__jpull *c, const char *path, crisk_error *err)
{
    crisk__jpull at[NUM_KEYS];
    int seen[NUM_KEYS] = {0};
    int rc = find_members(c, at, seen, path, err);
    if (rc)
        return rc;
    char expect[17];
    snprintf(expect, sizeof expect, "%016llx", (unsigned long long)s->fingerprint);
    if (!string_is(&at[K_FORMAT], seen[K_FORMAT], "crisk-lane-state")
        || !number_is(&at[K_VERSION], seen[K_VERSION], 1))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: not a crisk lane state (format "
                           "\"crisk-lane-state\", version 1)", path);
    if (!string_is(&at[K_POLICY], seen[K_POLICY], expect))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: saved for another policy (this policy's "
                           "fingerprint is %s)", path, expect);
    if (!number_is(&at[K_WINDOW], seen[K_WINDOW], (double)s->window))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: window differs from the policy's %zu",
                           path, s->window);
    return read_scores(s, &at[K_SCORES], seen[K_SCORES], path, err);
}

int crisk__lane_state_read_file(crisk_lane_state *s, const char *path, crisk_error *err)
{
    unsigned char *data = NULL;
    size_t size = 0;
    int rc = crisk__read_file(path, MAX_STATE_BYTES, &data, &size, err);
    if (rc)
        return rc;
    const char *text = (const char *)data;
    crisk__jshared shared = {NULL, 0, (locale_t)0, NULL};
    if (!crisk__json_check_text(text, size, 2, NULL))
        rc = syntax_error(path, text, size, err);
    else if (!(shared.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0)))
        rc = crisk__fail(err, CRISK_E_NOMEM, "%s: out of memory", path);
    else {
        crisk__jpull c;
        crisk__jpull_init(&c, text, size, &shared);
        rc = read_state(s, &c, path, err);
    }
    if (shared.c_locale)
        freelocale(shared.c_locale);
    free(shared.buf);
    free(data);
    return rc;
}
