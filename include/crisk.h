/*
 * crisk.h — the public interface of crisk, a customs risk-scoring library.
 *
 * This header is the specification: every function's contract is written above it, and
 * where the code disagrees with this text, the code is wrong.
 *
 * Conventions that hold for every call:
 *   - Names start with `crisk_` (functions, types) or `CRISK_` (macros, constants).
 *   - Functions that can fail return 0 on success and a negative CRISK_E_* code on
 *     failure. When they take a `crisk_error *err`, it is filled with the code and a
 *     message that says what went wrong and where (a JSON path, a line number, a row and
 *     column); `err` may be NULL when the caller does not want the message.
 *   - The caller owns what it passes and allocates the output buffers; the sizes each call
 *     needs are documented beside it. The library never keeps a pointer to caller memory
 *     after a call returns.
 *   - Handles are opaque. Destructors accept NULL.
 *   - The library keeps no global mutable state, never prints, never aborts and never
 *     exits. Each function says how it may be called from several threads.
 */
#ifndef CRISK_H
#define CRISK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CRISK_BUILDING_DLL)
#  define CRISK_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define CRISK_API __attribute__((visibility("default")))
#else
#  define CRISK_API
#endif

/* ------------------------------------------------------------------------------------ */
/* Version                                                                              */
/* ------------------------------------------------------------------------------------ */

#define CRISK_VERSION_MAJOR 0
#define CRISK_VERSION_MINOR 1
#define CRISK_VERSION_PATCH 0
#define CRISK_VERSION_NUMBER \
    (CRISK_VERSION_MAJOR * 10000 + CRISK_VERSION_MINOR * 100 + CRISK_VERSION_PATCH)

#define CRISK_STRINGIFY_(x) #x
#define CRISK_STRINGIFY(x) CRISK_STRINGIFY_(x)
#define CRISK_VERSION_STRING                                                              \
    CRISK_STRINGIFY(CRISK_VERSION_MAJOR) "." CRISK_STRINGIFY(CRISK_VERSION_MINOR) "."     \
    CRISK_STRINGIFY(CRISK_VERSION_PATCH)

/* Returns CRISK_VERSION_NUMBER of the library actually linked, which may differ from the
 * header's when the shared library was upgraded. Thread-safe. */
CRISK_API unsigned crisk_version_number(void);

/* Returns the version of the library actually linked as "MAJOR.MINOR.PATCH", a static
 * string. Thread-safe. */
CRISK_API const char *crisk_version_string(void);

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                               */
/* ------------------------------------------------------------------------------------ */

/* Every error code, its name and its meaning, in one table. */
#define CRISK_ERRNO_MAP(XX)                                                               \
    XX(INVALID_ARGUMENT, -1, "invalid argument")                                          \
    XX(NOMEM,            -2, "out of memory")                                             \
    XX(IO,               -3, "input/output error")                                        \
    XX(FORMAT,           -4, "malformed or inconsistent model or input")                  \
    XX(UNSUPPORTED,      -5, "model feature not supported")                               \
    XX(LIMIT,            -6, "resource limit exceeded")                                   \
    XX(SHAPE,            -7, "array shape does not match the model")                      \
    XX(INPUT,            -8, "invalid input value")                                       \
    XX(DEPENDENCY,       -9, "optional dependency not available in this build")       \
    XX(INTEGRITY,       -10, "integrity check failed (digest, signature or audit log)")

/* The error codes: CRISK_OK (0) and one negative CRISK_E_<NAME> per row of the table. */
typedef enum crisk_errno {
    CRISK_OK = 0,
#define CRISK_ERRNO_ENUM_(name, value, text) CRISK_E_##name = (value),
    CRISK_ERRNO_MAP(CRISK_ERRNO_ENUM_)
#undef CRISK_ERRNO_ENUM_
    CRISK_E_LAST_ = -11
} crisk_errno;

/* The detail of a failure. `message` is always NUL-terminated; it names what is wrong and
 * where, e.g. "learner.gradient_booster.model.trees[3].left_children[7]: child 99 out of
 * range (tree has 15 nodes)". */
typedef struct crisk_error {
    int  code;
    char message[512];
} crisk_error;

/* Returns the name of an error code ("CRISK_E_FORMAT"), "CRISK_OK" for 0, or
 * "CRISK_E_UNKNOWN" for any other value. A static string. Thread-safe. */
CRISK_API const char *crisk_err_name(int code);

/* Returns a short English description of an error code, a static string ("unknown error"
 * for a value not in the table). Thread-safe. */
CRISK_API const char *crisk_strerror(int code);

/* ------------------------------------------------------------------------------------ */
/* Models                                                                               */
/* ------------------------------------------------------------------------------------ */

/* A loaded risk model: an XGBoost booster (gbtree, dart, gblinear), a LightGBM model, or
 * a crisk logistic model. Immutable once loaded: any number of threads may score one
 * model at once. */
typedef struct crisk_model crisk_model;

/* Limits that a model file must stay within; a file beyond one is refused with
 * CRISK_E_LIMIT and a message naming the limit. They bound the memory and time a hostile
 * file can make a load take. */
typedef struct crisk_load_limits {
    size_t max_file_bytes;  /* size of the file or buffer; default 2 GiB */
    size_t max_trees;       /* trees in the model; default 1,000,000 */
    size_t max_nodes;       /* nodes in all trees together; default 2^28 */
    size_t max_depth;       /* depth of any tree (a root alone has depth 0); default 256 */
    size_t max_features;    /* features; default 1,000,000 */
    size_t max_outputs;     /* classes or outputs; default 10,000 */
    size_t max_category;    /* largest category value a categorical split may test, plus
                               one; default 2^24 (XGBoost's own bound) */
} crisk_load_limits;

/* How a model is loaded. Initialise with crisk_load_options_init(); more fields may
 * follow in later versions, so never fill one field by field from scratch. */
typedef struct crisk_load_options {
    crisk_load_limits limits;
    /* Model pinning: when `pin_sha256` is non-zero, a model whose bytes (the file, or the
     * buffer) do not have the SHA-256 digest `expected_sha256` is refused with
     * CRISK_E_INTEGRITY, the message giving the expected and the actual digest in hex.
     * Default: 0 (no pin). */
    int pin_sha256;
    unsigned char expected_sha256[32];
} crisk_load_options;

/* Fills `opts` with the defaults listed above. Thread-safe. */
CRISK_API void crisk_load_options_init(crisk_load_options *opts);

/* Loads a model from the file at `path` with the default load options, and stores a new
 * handle in `*out` (set to NULL on failure). The format is recognised from the contents:
 *   - XGBoost JSON (`save_model("m.json")`) and UBJSON (`.ubj`, XGBoost 1.6 to 3.x);
 *   - XGBoost's legacy binary format, through libxgboost when the build has it
 *     (CRISK_E_DEPENDENCY otherwise);
 *   - LightGBM's text format (`model.txt`);
 *   - crisk's logistic JSON format (see README.md, "Logistic model format").
 * Returns 0, or CRISK_E_IO (unreadable, a directory), CRISK_E_FORMAT (malformed or
 * inconsistent), CRISK_E_UNSUPPORTED (an objective, booster or tree feature crisk does
 * not implement, named in the message), CRISK_E_LIMIT, CRISK_E_NOMEM.
 * Thread-safe; the returned model is the caller's to free with crisk_model_free(). */
CRISK_API int crisk_model_load(const char *path, crisk_model **out, crisk_error *err);

/* As crisk_model_load(), from `size` bytes at `data` (copied as needed; the caller may
 * free `data` once the call returns). Thread-safe. */
CRISK_API int crisk_model_load_buffer(const void *data, size_t size, crisk_model **out,
                                      crisk_error *err);

/* As crisk_model_load(), with explicit load options (NULL means the defaults).
 * Thread-safe. */
CRISK_API int crisk_model_load_advanced(const char *path, const crisk_load_options *opts,
                                        crisk_model **out, crisk_error *err);

/* As crisk_model_load_buffer(), with explicit load options (NULL means the defaults).
 * Thread-safe. */
CRISK_API int crisk_model_load_buffer_advanced(const void *data, size_t size,
                                               const crisk_load_options *opts,
                                               crisk_model **out, crisk_error *err);

/* Frees a model and everything it owns. NULL is a no-op. The caller must make sure no
 * other thread is still scoring with it. */
CRISK_API void crisk_model_free(crisk_model *model);

/* Returns the number of features (columns) a row must have. Thread-safe. */
CRISK_API size_t crisk_model_num_features(const crisk_model *model);

/* Returns the number of outputs per row: 1, or the number of classes of a multi-class
 * model (multi:softprob, multiclass, multinomial logistic). multi:softmax models output
 * one value per row, the class index, so they return 1. Thread-safe. */
CRISK_API size_t crisk_model_num_outputs(const crisk_model *model);

/* Returns the number of values per row that CRISK_OUTPUT_MARGIN writes: the number of
 * margins the model sums. It equals crisk_model_num_outputs() except for multi:softmax,
 * whose margin output has one value per class. Thread-safe. */
CRISK_API size_t crisk_model_num_margins(const crisk_model *model);

/* Returns the name of feature `index` as stored in the model file, or NULL when the file
 * stores no names or `index` is out of range. The string lives as long as the model.
 * Thread-safe. */
CRISK_API const char *crisk_model_feature_name(const crisk_model *model, size_t index);

/* Writes to `out` the SHA-256 digest of the bytes the model was loaded from (the whole
 * file, or the whole buffer): the value to pin with crisk_load_options.expected_sha256.
 * Thread-safe. */
CRISK_API void crisk_model_digest(const crisk_model *model, unsigned char out[32]);

/* Writes the SHA-256 digest of `size` bytes at `data` to `out`. Returns 0, or
 * CRISK_E_INVALID_ARGUMENT (NULL pointers with size > 0), CRISK_E_DEPENDENCY (the
 * crypto library refused). Thread-safe. */
CRISK_API int crisk_sha256(const void *data, size_t size, unsigned char out[32]);

/* A description of a loaded model, for `crisk inspect` and for logs. The strings live as
 * long as the model. */
typedef struct crisk_model_info {
    const char *format;      /* "xgboost", "lightgbm" or "logistic" */
    const char *booster;     /* "gbtree", "dart", "gblinear", "gbdt" (LightGBM), "linear" */
    const char *objective;   /* as the file names it, e.g. "binary:logistic" */
    size_t num_features;
    size_t num_outputs;      /* as crisk_model_num_outputs() */
    size_t num_classes;      /* classes of a classifier (2 for binary), else 0 */
    size_t num_trees;        /* 0 for linear models */
    size_t num_iterations;   /* boosting rounds; 0 for linear models */
    size_t num_nodes;        /* nodes of all trees */
    size_t max_depth;        /* deepest tree */
    size_t memory_bytes;     /* memory held by the loaded model */
} crisk_model_info;

/* Fills `info` with a description of `model`. Thread-safe. */
CRISK_API void crisk_model_get_info(const crisk_model *model, crisk_model_info *info);

/* ------------------------------------------------------------------------------------ */
/* Thread pools                                                                         */
/* ------------------------------------------------------------------------------------ */

/* A set of worker threads that calls splitting their rows over several threads
 * (crisk_predict, crisk_contributions, crisk_interactions, crisk_bundle_score) reuse
 * instead of starting and joining threads of their own on every call. Owned by the
 * caller and passed in the options (crisk_predict_options.pool, crisk_score_options.pool);
 * the library keeps none of its own. Its workers sleep while no call uses it.
 *
 * A pool serves one call at a time: a call that finds it busy with another call (from
 * another thread) runs on its own calling thread alone rather than oversubscribe the
 * cores, and gives the same results. With a pool, the options' `threads` caps how many of
 * the pool's threads a call uses (0: all of them; 1, the default: the calling thread
 * alone); a call of few rows uses fewer. A call with a pool allocates no memory for its
 * threads. */
typedef struct crisk_pool crisk_pool;

/* Creates a pool for calls of `threads` threads (0: one per online CPU) and stores it in
 * `*out`: it starts threads - 1 workers, the calling thread of each call being the last
 * one. A worker that cannot be started is no failure: the pool then has fewer workers
 * (crisk_pool_threads says how many threads it has).
 *
 * Returns 0, or CRISK_E_INVALID_ARGUMENT (out NULL, threads negative) or CRISK_E_NOMEM
 * (the pool takes under 1 KiB per thread besides its workers' stacks), with `*out` NULL
 * on failure. Thread-safe. */
CRISK_API int crisk_pool_create(int threads, crisk_pool **out, crisk_error *err);

/* Stops and joins the pool's workers and frees it. NULL is a no-op. It must not be called
 * while a call uses the pool (from any thread): free it only once every call given it has
 * returned. */
CRISK_API void crisk_pool_free(crisk_pool *pool);

/* Returns the number of threads a call with `pool` may use: its workers plus the calling
 * thread (at least 1), or 0 for NULL. Thread-safe. */
CRISK_API int crisk_pool_threads(const crisk_pool *pool);

/* ------------------------------------------------------------------------------------ */
/* Prediction                                                                           */
/* ------------------------------------------------------------------------------------ */

#define CRISK_OUTPUT_TRANSFORMED 0  /* probabilities, class index, expected value, ... */
#define CRISK_OUTPUT_MARGIN      1  /* the raw score before the objective's transform */

/* How a prediction is made. Initialise with crisk_predict_options_init(); more fields may
 * follow in later versions. */
typedef struct crisk_predict_options {
    int    threads;          /* 1: the calling thread only (default); 0: all cores; N */
    int    output;           /* CRISK_OUTPUT_TRANSFORMED (default) or CRISK_OUTPUT_MARGIN */
    size_t iteration_begin, iteration_end;   /* 0, 0: every iteration */
    crisk_pool *pool;        /* NULL (default): a call of several threads starts and joins
                                its own; else the caller's pool serves it, `threads`
                                capping how many of its threads the call uses (0: all) */
} crisk_predict_options;

/* Fills `opts` with the defaults: one thread, transformed output, every iteration, no
 * pool. Thread-safe. */
CRISK_API void crisk_predict_options_init(crisk_predict_options *opts);

/* Scores `nrows` rows of `ncols` float features each, row-major at `rows` (NaN means
 * missing), and writes nrows * crisk_model_num_outputs(model) floats (with
 * CRISK_OUTPUT_MARGIN: nrows * crisk_model_num_margins(model)) to the caller-allocated
 * `out`, row-major. `opts` NULL means the defaults.
 *
 * Tree models score exactly as the library that trained them: XGBoost accumulates leaves
 * in float32 in tree order from base_score's margin; LightGBM compares and accumulates in
 * double. Logistic models do not accept missing values: a NaN fails with CRISK_E_INPUT
 * naming the row and column, as do infinite values whose terms cancel (inf - inf leaves
 * the margin undefined; a single infinite term gives probability 0 or 1).
 *
 * Returns 0, or CRISK_E_INVALID_ARGUMENT (NULL pointers, a bad option, an iteration range
 * beyond the model, iteration ranges on a linear model), CRISK_E_SHAPE (ncols is not
 * crisk_model_num_features()), CRISK_E_INPUT, CRISK_E_NOMEM. `out` is unspecified after a
 * failure. nrows == 0 succeeds and writes nothing.
 *
 * Thread-safe: any number of threads may score one model at once. With threads == 1 the
 * call runs on the calling thread, and for a tree model with at most 2048 outputs or a
 * binary logistic model it allocates nothing on the heap; so does a call of several
 * threads with a pool (logistic models of several outputs allocate a double copy of each
 * chunk of rows for OpenBLAS's dgemm). A call uses up to 128 KiB of each scoring
 * thread's stack (blocks of rows being walked). */
CRISK_API int crisk_predict(const crisk_model *model, const float *rows, size_t nrows,
                            size_t ncols, const crisk_predict_options *opts, float *out,
                            crisk_error *err);

/* ------------------------------------------------------------------------------------ */
/* Audit log                                                                            */
/* ------------------------------------------------------------------------------------ */

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
 * before the call returns) and writes a checkpoint per batch. A log handle is used by one
 * thread at a time; one process at a time may hold a log open (a POSIX record lock).
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
 * last record (a crash in the middle of an append) is cut off; every other record must be
 * intact, in order and agree with the checkpoints stored in the log, else the log is
 * refused with CRISK_E_INTEGRITY (nothing is truncated then) — run
 * crisk_audit_verify() to see why. Returns 0, CRISK_E_IO (also when another process holds
 * the log open), CRISK_E_FORMAT (not a crisk audit log), CRISK_E_INTEGRITY,
 * CRISK_E_NOMEM. */
CRISK_API int crisk_audit_open(const char *path, crisk_audit_log **out, crisk_error *err);

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

/* Appends `size` bytes (1 to CRISK_AUDIT_MAX_ENTRY) as the next entry and stores its
 * index in `*index` (may be NULL). The record is written and fsync'd before the call
 * returns. Returns 0, CRISK_E_INVALID_ARGUMENT, CRISK_E_IO, CRISK_E_NOMEM. */
CRISK_API int crisk_audit_append(crisk_audit_log *log, const void *data, size_t size,
                                 uint64_t *index, crisk_error *err);

/* Signs the current tree head (size, root, `timestamp`) with the private key `key`,
 * appends the checkpoint to the log (fsync'd) and copies it to `out` (may be NULL).
 * Returns 0, CRISK_E_INVALID_ARGUMENT (a public key), CRISK_E_IO, CRISK_E_DEPENDENCY. */
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
 * A torn last record is not an error here (crisk_audit_open() cuts it off). Thread-safe. */
CRISK_API int crisk_audit_verify(const char *path, const crisk_audit_key *key,
                                 const crisk_checkpoint *trusted, uint64_t *entries,
                                 size_t *checkpoints, crisk_error *err);

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
 *   sig <128 hex digits>
 * The signature covers the first four lines exactly, newlines included. Returns the
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

/* Explanations                                                                         */
/* ------------------------------------------------------------------------------------ */

/* Writes the exact SHAP contributions of `nrows` rows (as crisk_predict takes them) to
 * the caller-allocated `out`: nrows * crisk_model_num_margins(model) * (ncols + 1) floats,
 * laid out row, then output group, then column, the last column of each group being the
 * bias. The columns of a group sum to the group's margin (CRISK_OUTPUT_MARGIN). Values
 * are in margin space whatever opts->output says; threads and the iteration range apply
 * as in crisk_predict.
 *
 *   - XGBoost gbtree and dart: TreeSHAP as XGBoost's pred_contribs=True computes it
 *     (covers are the trees' sum_hessian; missing values and categorical splits take the
 *     child prediction takes; DART scales each tree by its weight); the bias is the sum
 *     of the trees' mean values plus base_score's margin. XGBoost computes in float; the
 *     results agree with it to about 1e-5 of the margin's scale. An iteration range
 *     [b, e) explains the trees of those iterations, like XGBoost's pred_contribs on the
 *     sliced model booster[b:e].
 *   - XGBoost gblinear: coefficient times value, a missing value contributing 0; the bias
 *     is the intercept plus base_score's margin.
 *   - logistic models: coefficient times standardised value; the bias is the intercept.
 *     A missing value fails with CRISK_E_INPUT, as in crisk_predict.
 *   - LightGBM models: TreeSHAP as LightGBM's pred_contrib=True computes it (covers are
 *     the nodes' data counts, missing values follow the features' missing types; the
 *     bias is the trees' expected value), to about 1e-5: LightGBM computes in double,
 *     crisk in float. Linear trees fail with CRISK_E_UNSUPPORTED, as in LightGBM; so does
 *     a model file without internal_count.
 *
 * Tree models are compiled for each call: per leaf, its path's distinct features, and for
 * calls of enough rows a table of its contributions for every pattern of satisfied path
 * conditions (at most 256 MiB per call), so a large batch costs far less per row than a
 * single row (a row alone costs about what XGBoost's pred_contribs does). A tree whose
 * root-to-leaf path tests more than 64 distinct features fails with CRISK_E_UNSUPPORTED.
 *
 * Returns 0, or the errors of crisk_predict, CRISK_E_UNSUPPORTED, CRISK_E_LIMIT (an
 * output too large to address). `out` is unspecified after a failure. nrows == 0
 * succeeds and writes nothing.
 *
 * Thread-safe: any number of threads may explain with one model at once; the call
 * allocates its own scratch and leaves the model untouched. */
CRISK_API int crisk_contributions(const crisk_model *model, const float *rows, size_t nrows,
                                  size_t ncols, const crisk_predict_options *opts,
                                  float *out, crisk_error *err);

/* Writes the SHAP interaction values of `nrows` rows to the caller-allocated `out`:
 * nrows * crisk_model_num_margins(model) * (ncols + 1) * (ncols + 1) floats, laid out row,
 * output group, then a (ncols + 1) x (ncols + 1) matrix (XGBoost's pred_interactions=True
 * layout). Entry [i][j], i != j, is half the difference between feature j's contribution
 * with feature i always present and with it always absent; the diagonal makes each line
 * i sum to feature i's contribution, and [ncols][ncols] is the bias. Tree models follow
 * XGBoost (LightGBM has no interactions of its own; its models get the same definition);
 * linear models have no interactions (a diagonal matrix of the contributions,
 * where XGBoost's gblinear returns zeros). Its cost grows as the cube of the number of
 * distinct features on a path: meant for small models and few rows.
 *
 * Returns, fails and may be called from several threads as crisk_contributions. */
CRISK_API int crisk_interactions(const crisk_model *model, const float *rows, size_t nrows,
                                 size_t ncols, const crisk_predict_options *opts,
                                 float *out, crisk_error *err);

/* ------------------------------------------------------------------------------------ */
/* Declarations: schema, batches, fitted tables                                          */
/* ------------------------------------------------------------------------------------ */

/* A declaration schema (docs/schema.md): the fields of a declaration, the features built
 * from them in a fixed order, and the fitted state those features need (category
 * dictionaries, risk-indicator tables, unit-value bands). The same code builds features
 * for training (crisk_schema_training_matrix) and for scoring (crisk_schema_features):
 * there is no second implementation to drift. Immutable once loaded or fitted: any
 * number of threads may build features with one schema at once. */
typedef struct crisk_schema crisk_schema;

/* A batch of declarations in columnar form, validated against a schema as rows are added.
 * Owned and filled by one thread at a time; reading it (features, scoring) may happen
 * from several threads once it is filled. */
typedef struct crisk_batch crisk_batch;

/* Loads a schema from a JSON file (docs/schema.md). A schema whose file holds no fitted
 * tables can build only the features that need none until crisk_schema_fit() fills them.
 * Returns 0, or CRISK_E_IO / CRISK_E_FORMAT / CRISK_E_LIMIT / CRISK_E_NOMEM with the JSON
 * path named. Thread-safe. */
CRISK_API int crisk_schema_load(const char *path, crisk_schema **out, crisk_error *err);

/* Frees a schema. NULL is a no-op. */
CRISK_API void crisk_schema_free(crisk_schema *schema);

/* Returns the number of declaration fields, and the name of field `i` (NULL when out of
 * range). Field order is the schema file's. Thread-safe. */
CRISK_API size_t crisk_schema_num_fields(const crisk_schema *schema);
CRISK_API const char *crisk_schema_field_name(const crisk_schema *schema, size_t i);

/* Returns 1 when field `i` is marked "personal" in the schema (data about a person:
 * importer, declarant, seller ids), else 0. Thread-safe. */
CRISK_API int crisk_schema_field_personal(const crisk_schema *schema, size_t i);

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

/* Returns the index of the field called `name`, or -1. Thread-safe. */
CRISK_API long crisk_schema_field_index(const crisk_schema *schema, const char *name);

/* Returns the number of features the schema builds, and the name of feature `i` (NULL
 * when out of range). Thread-safe. */
CRISK_API size_t crisk_schema_num_features(const crisk_schema *schema);
CRISK_API const char *crisk_schema_feature_name(const crisk_schema *schema, size_t i);

/* Returns the index of the feature called `name`, or -1. Thread-safe. */
CRISK_API long crisk_schema_feature_index(const crisk_schema *schema, const char *name);

/* Creates an empty batch for declarations of `schema`, which must outlive every use of
 * the batch but its freeing: crisk_batch_free() never reads the schema, so a batch may be
 * freed after its schema (garbage-collected bindings free in any order). */
CRISK_API int crisk_batch_new(const crisk_schema *schema, crisk_batch **out, crisk_error *err);

/* Frees a batch, even one whose schema was freed already. NULL is a no-op. */
CRISK_API void crisk_batch_free(crisk_batch *batch);

/* Empties a batch, keeping its memory for the next rows. */
CRISK_API void crisk_batch_clear(crisk_batch *batch);

/* Returns the number of declarations in the batch. */
CRISK_API size_t crisk_batch_size(const crisk_batch *batch);

/* Appends one declaration given as text, one value per schema field in field order
 * (`values[i]` of `lengths[i]` bytes; a NULL value, or an empty one, is missing).
 * `source_line` is where the row came from (a line number; 0 if none) and is kept for
 * messages. Numbers are parsed with the C locale; dates are ISO 8601 (YYYY-MM-DD, or
 * YYYYMMDD); HS codes keep their digits only (dots and spaces removed) and must have 2 to
 * 12 digits; text must be valid UTF-8 and no longer than the schema's max_field_bytes.
 * On a bad value the declaration is NOT added and CRISK_E_INPUT is returned, with `err`
 * naming the field, the value and the reason: the caller reports the row as rejected.
 * A missing required field is rejected the same way. */
CRISK_API int crisk_batch_append_text(crisk_batch *batch, const char *const *values,
                                      const size_t *lengths, uint64_t source_line,
                                      crisk_error *err);

/* Returns the source line recorded for row `row` (0 when out of range). */
CRISK_API uint64_t crisk_batch_source_line(const crisk_batch *batch, size_t row);

/* How a schema's tables are fitted from labelled declarations. */
typedef struct crisk_fit_options {
    unsigned folds;       /* out-of-fold folds for training features; default 5 */
    uint64_t seed;        /* fold assignment (a hash of the row index and seed); default 1 */
    double   smoothing;   /* default m of the smoothed rate (sum + m * prior) / (count + m),
                             when the schema gives none; default 20 */
} crisk_fit_options;

/* Fills `opts` with the defaults above. Thread-safe. */
CRISK_API void crisk_fit_options_init(crisk_fit_options *opts);

/* Fits `schema`'s category dictionaries, risk-indicator tables and unit-value bands from
 * the declarations in `batch` and their labels (`labels[i]` is 0 or 1 for row i, in
 * the batch's order; `nlabels` must equal the batch size). Replaces any fitted state.
 * Not thread-safe with respect to `schema`: no other thread may use it meanwhile. */
CRISK_API int crisk_schema_fit(crisk_schema *schema, const crisk_batch *batch,
                               const float *labels, size_t nlabels,
                               const crisk_fit_options *opts, crisk_error *err);

/* Writes the training matrix of `batch` to `out` (batch size x crisk_schema_num_features
 * floats, row-major, NaN for missing): every feature as crisk_schema_features() builds
 * it, except that the risk-indicator features of each row come from tables fitted on the
 * other folds only, so a row's own label never leaks into its features. Uses the same
 * labels and options as crisk_schema_fit(). Thread-safe. */
CRISK_API int crisk_schema_training_matrix(const crisk_schema *schema,
                                           const crisk_batch *batch, const float *labels,
                                           size_t nlabels, const crisk_fit_options *opts,
                                           float *out, crisk_error *err);

/* Writes the features of `batch` for scoring to `out` (batch size x
 * crisk_schema_num_features floats, row-major, NaN for missing), from the fitted state.
 * Fails with CRISK_E_INVALID_ARGUMENT naming a feature that needs tables the schema does
 * not have yet. Thread-safe. */
CRISK_API int crisk_schema_features(const crisk_schema *schema, const crisk_batch *batch,
                                    float *out, crisk_error *err);

/* Writes the schema with its fitted state to `path` as JSON (a file that
 * crisk_schema_load() reads back to the same features, bit for bit). Thread-safe. */
CRISK_API int crisk_schema_save(const crisk_schema *schema, const char *path,
                                crisk_error *err);

/* ------------------------------------------------------------------------------------ */
/* Border sensor events: e-seals, RFID, GPS, X-ray (docs/events.md)                      */
/* ------------------------------------------------------------------------------------ */

/* The sensor events of one event stream (JSON Lines, docs/events.md) that passed every
 * check, indexed by key (container, transport document, conveyance or declaration id)
 * and sorted by time within a key, with the list of the events refused and why. Immutable
 * once loaded: any number of threads may read it, and build features from a batch it is
 * joined to, at once. */
typedef struct crisk_events crisk_events;

/* The per-device HMAC keys an event stream is verified with (docs/events.md, "Device
 * keys"). Immutable once loaded. */
typedef struct crisk_device_keys crisk_device_keys;

/* Loads a device key file. Returns 0, or CRISK_E_IO / CRISK_E_FORMAT (naming the JSON
 * path) / CRISK_E_NOMEM. Thread-safe. */
CRISK_API int crisk_device_keys_load(const char *path, crisk_device_keys **out,
                                     crisk_error *err);

/* Frees device keys. NULL is a no-op. */
CRISK_API void crisk_device_keys_free(crisk_device_keys *keys);

/* How an event stream is read. Initialise with crisk_events_options_init(). */
typedef struct crisk_events_options {
    const crisk_device_keys *keys; /* NULL: no device has a key (an event carrying an HMAC
                                      is then refused as unverifiable) */
    int      require_hmac;   /* nonzero: every event needs a valid HMAC, whatever its
                                device; default 0 (devices marked "required" need one) */
    size_t   max_events;     /* events kept in the index; more fails with CRISK_E_LIMIT;
                                default 10,000,000 */
    size_t   max_rejects;    /* refused events listed; more fails with CRISK_E_LIMIT;
                                default 1,000,000 */
    size_t   max_line_bytes; /* a longer line is refused as malformed; default 65,536 */
} crisk_events_options;

/* Fills `opts` with the defaults above. Thread-safe. */
CRISK_API void crisk_events_options_init(crisk_events_options *opts);

/* Reads the event stream in the file at `path` for declarations of `schema` (which names
 * the custom event types and must outlive the events). Every line is checked (docs/
 * events.md, "Rejects"); a refused event goes to the reject list with its line number
 * and reason. When `batch` is not NULL only the accepted events that can reach one of its
 * features are kept — those whose key is the key of an event feature of one of its
 * declarations, and whose time falls in the widest feature window before one of its
 * dates — so memory follows the batch, not the stream's history; with NULL every
 * accepted event is kept. Returns 0 (rejects are not failures), or CRISK_E_IO /
 * CRISK_E_LIMIT / CRISK_E_NOMEM / CRISK_E_INVALID_ARGUMENT. Thread-safe. */
CRISK_API int crisk_events_load(const crisk_schema *schema, const crisk_batch *batch,
                                const char *path, const crisk_events_options *opts,
                                crisk_events **out, crisk_error *err);

/* As crisk_events_load, from the `len` bytes at `data` (JSON Lines) instead of a file. */
CRISK_API int crisk_events_parse(const crisk_schema *schema, const crisk_batch *batch,
                                 const char *data, size_t len,
                                 const crisk_events_options *opts, crisk_events **out,
                                 crisk_error *err);

/* Frees events. NULL is a no-op; a batch they are joined to must not be scored after. */
CRISK_API void crisk_events_free(crisk_events *events);

/* Returns the number of events read (non-blank lines), accepted, and kept in the index
 * (accepted events the batch given at load can use). read = accepted + rejects. */
CRISK_API uint64_t crisk_events_num_read(const crisk_events *events);
CRISK_API uint64_t crisk_events_num_accepted(const crisk_events *events);
CRISK_API size_t crisk_events_num_kept(const crisk_events *events);

/* Why an event was refused. */
typedef enum crisk_event_reject {
    CRISK_EVENT_MALFORMED = 1,   /* not a JSON object, a member missing or of a wrong type,
                                    an unknown member, a line too long */
    CRISK_EVENT_UNKNOWN_KEY,     /* key.type is not a known kind of key */
    CRISK_EVENT_UNKNOWN_TYPE,    /* type is neither built in nor declared by the schema */
    CRISK_EVENT_BAD_TIME,        /* time is not RFC 3339 with a UTC offset */
    CRISK_EVENT_BAD_PAYLOAD,     /* the payload does not fit the type (xray.result) */
    CRISK_EVENT_MISSING_HMAC,    /* no hmac, and the device (or the options) need one */
    CRISK_EVENT_UNVERIFIABLE,    /* an hmac, but no key for the device */
    CRISK_EVENT_BAD_HMAC,        /* the hmac does not match: forged or altered */
    CRISK_EVENT_DUPLICATE_ID,    /* an event_id accepted earlier in the stream */
    CRISK_EVENT_OUT_OF_ORDER     /* earlier than the device's last accepted event */
} crisk_event_reject;

/* Returns the number of refused events, and the kind of refusal `i` (0 when out of range),
 * storing its line number (1-based) in `*line` and a one-line reason (owned by the
 * events) in `*reason` when these are not NULL. In stream order. */
CRISK_API size_t crisk_events_num_rejects(const crisk_events *events);
CRISK_API crisk_event_reject crisk_events_reject(const crisk_events *events, size_t i,
                                                 uint64_t *line, const char **reason);

/* Joins `events` (loaded for `batch`, or with no batch; NULL detaches) to `batch`, whose
 * event features (docs/events.md, "Features") are then built from them by
 * crisk_schema_features, crisk_schema_training_matrix and crisk_bundle_score alike;
 * without events they are NaN. The events must outlive the join; crisk_batch_clear
 * detaches them. Events loaded for a batch hold only the keys and window of the rows it
 * had then: rows appended later find none of their events (NaN). Returns 0 or
 * CRISK_E_INVALID_ARGUMENT when the events were read for another schema. */
CRISK_API int crisk_batch_set_events(crisk_batch *batch, const crisk_events *events,
                                     crisk_error *err);

/* ------------------------------------------------------------------------------------ */
/* Bundles: schema + models + risk profiles + lane policy, and decisions                 */
/* ------------------------------------------------------------------------------------ */

/* A bundle (docs/bundle.md): one directory holding a manifest, a fitted schema, one or
 * more models with the schema features each takes, risk profiles and a lane policy.
 * Immutable once loaded: any number of threads may score with one bundle at once. */
typedef struct crisk_bundle crisk_bundle;

/* The decisions for one scored batch: scores, profile hits, lanes and reasons. */
typedef struct crisk_results crisk_results;

/* Loads the bundle in directory `dir` (its manifest.json names every other file).
 * Returns 0, or an error naming the file and the place in it. Thread-safe. */
CRISK_API int crisk_bundle_load(const char *dir, const crisk_load_options *opts,
                                crisk_bundle **out, crisk_error *err);

/* Frees a bundle. NULL is a no-op. */
CRISK_API void crisk_bundle_free(crisk_bundle *bundle);

/* Returns the bundle's schema (owned by the bundle), for making batches. Thread-safe. */
CRISK_API const crisk_schema *crisk_bundle_schema(const crisk_bundle *bundle);

/* Writes to `out` the bundle's digest, computed at load: SHA-256 over manifest.json and
 * then every file it names, in the manifest's order, each as its size (8 bytes,
 * big-endian) followed by its bytes (docs/security.md, "Decision log"). Thread-safe. */
CRISK_API void crisk_bundle_digest(const crisk_bundle *bundle, unsigned char out[32]);

/* Returns the number of models, the name of model `i` (as the manifest names it) and the
 * model itself (owned by the bundle); NULL when out of range. Thread-safe. */
CRISK_API size_t crisk_bundle_num_models(const crisk_bundle *bundle);
CRISK_API const char *crisk_bundle_model_name(const crisk_bundle *bundle, size_t i);
CRISK_API const crisk_model *crisk_bundle_model(const crisk_bundle *bundle, size_t i);

/* Returns the index of the model whose score the policy's thresholds and budget use (its
 * "score_model"), or -1 when the policy names none. Thread-safe. */
CRISK_API long crisk_bundle_score_model(const crisk_bundle *bundle);

/* Returns the number of lanes and the name of lane `i` (lane 0 is the most severe, e.g.
 * "red"); NULL when out of range. Thread-safe. */
CRISK_API size_t crisk_bundle_num_lanes(const crisk_bundle *bundle);
CRISK_API const char *crisk_bundle_lane_name(const crisk_bundle *bundle, size_t i);

/* The state of the streaming selection threshold (docs/bundle.md, "Selectivity"): the
 * window of recent scores that recalibrates the threshold so an office's target rates
 * hold when declarations are scored as they arrive. Explicit, so that it is saved and
 * restored by the caller and never hidden in a global. One state per stream; a state is
 * used by one thread at a time. */
typedef struct crisk_lane_state crisk_lane_state;

/* Creates a fresh streaming state for `bundle`'s policy. */
CRISK_API int crisk_lane_state_new(const crisk_bundle *bundle, crisk_lane_state **out,
                                   crisk_error *err);

/* Frees a state. NULL is a no-op. */
CRISK_API void crisk_lane_state_free(crisk_lane_state *state);

/* Saves a state to `path` (JSON) / loads one saved for the same bundle policy. */
CRISK_API int crisk_lane_state_save(const crisk_lane_state *state, const char *path,
                                    crisk_error *err);
CRISK_API int crisk_lane_state_load(const crisk_bundle *bundle, const char *path,
                                    crisk_lane_state **out, crisk_error *err);

/* The value of crisk_score_options.today that asks for the default. */
#define CRISK_SCORE_TODAY_AUTO INT64_MIN

/* How a batch is scored. Initialise with crisk_score_options_init(). */
typedef struct crisk_score_options {
    int      threads;        /* as crisk_predict_options.threads; default 1 */
    unsigned explain;        /* reason codes: the top K fields per declaration to keep
                                (crisk_results_num_reasons); 0 (default): none. K > 0
                                needs a policy score_model (else
                                CRISK_E_INVALID_ARGUMENT) with one margin (else
                                CRISK_E_UNSUPPORTED) */
    int64_t  today;          /* days since 1970-01-01 for profiles' active ranges;
                                default (CRISK_SCORE_TODAY_AUTO): each declaration's date
                                field when the schema names one and the value is present,
                                else the current UTC date */
    crisk_lane_state *stream;/* NULL: the inspection budget applies to this batch as a
                                whole; else declarations are decided one by one, in order,
                                against the streaming threshold, which they update */
    crisk_pool *pool;        /* as crisk_predict_options.pool; default NULL */
} crisk_score_options;

/* Fills `opts` with the defaults above. Thread-safe. */
CRISK_API void crisk_score_options_init(crisk_score_options *opts);

/* Scores every declaration of `batch` (made with crisk_bundle_schema(bundle)): builds the
 * features, runs every model, evaluates the risk profiles, and chooses each declaration's
 * lane by the policy's precedence — mandatory profile hits, then model-score thresholds,
 * then the inspection budget, then random selection — recording the reason. Stores a new
 * results object in `*out`. Thread-safe for a shared bundle and batch (a streaming state
 * belongs to one call at a time). */
CRISK_API int crisk_bundle_score(const crisk_bundle *bundle, const crisk_batch *batch,
                                 const crisk_score_options *opts, crisk_results **out,
                                 crisk_error *err);

/* Frees results. NULL is a no-op. */
CRISK_API void crisk_results_free(crisk_results *results);

/* Returns the number of declarations in the results. */
CRISK_API size_t crisk_results_size(const crisk_results *results);

/* Returns the output of model `model` for declaration `row` (its first output; for a
 * multi-class model, output `k` is crisk_results_score_k). NaN when out of range. */
CRISK_API float crisk_results_score(const crisk_results *results, size_t row, size_t model);
CRISK_API float crisk_results_score_k(const crisk_results *results, size_t row, size_t model,
                                      size_t k);

/* Returns the lane index of declaration `row` (see crisk_bundle_lane_name), or
 * crisk_bundle_num_lanes() when `row` is out of range. */
CRISK_API size_t crisk_results_lane(const crisk_results *results, size_t row);

/* Why a lane was chosen. */
typedef enum crisk_reason_kind {
    CRISK_REASON_PROFILE = 1,   /* a mandatory risk-profile hit; detail: the rule id */
    CRISK_REASON_THRESHOLD,     /* a model score at or above a lane threshold */
    CRISK_REASON_BUDGET,        /* among the riskiest share of the batch (or stream) */
    CRISK_REASON_RANDOM,        /* drawn for compliance sampling */
    CRISK_REASON_DEFAULT        /* none of the above: the policy's default lane */
} crisk_reason_kind;

/* Returns the kind of reason for declaration `row`'s lane, and writes a one-line
 * human-readable explanation (e.g. "profile P-017: textiles from watch-listed origin",
 * "fraud score 0.93 >= red threshold 0.90") to `buf` of `size` bytes, NUL-terminated and
 * cut to fit. Returns 0 and writes "" when `row` is out of range. */
CRISK_API crisk_reason_kind crisk_results_reason(const crisk_results *results, size_t row,
                                                 char *buf, size_t size);

/* Returns how many risk profiles declaration `row` hit, and the id and description of
 * hit `k` (strings owned by the bundle; NULL when out of range). */
CRISK_API size_t crisk_results_num_hits(const crisk_results *results, size_t row);
CRISK_API const char *crisk_results_hit_id(const crisk_results *results, size_t row, size_t k);
CRISK_API const char *crisk_results_hit_description(const crisk_results *results, size_t row,
                                                    size_t k);

/* Reason codes (docs/bundle.md, "Reason codes"), present when the batch was scored with
 * crisk_score_options.explain = K > 0. The exact contributions of the policy's score
 * model (crisk_contributions, margin space) are grouped onto declaration fields: a
 * feature derived from one field counts toward it (every feature of `origin` toward
 * origin, a risk feature keyed on importer_id toward importer_id); a feature derived from
 * several distinct fields (a ratio, a risk feature on a composite key) is split equally
 * among them. Per declaration, the fields with a non-zero contribution are ranked by
 * absolute contribution (ties: schema field order) and the first K kept, so that
 *     sum of the K reasons' contributions + bias + rest == the score model's margin
 * (to float rounding), where rest sums the fields beyond the K-th. A declaration the
 * score model did not score (a logistic model and a missing feature) has no reasons and
 * a NaN bias and rest. */

/* Returns how many reasons declaration `row` has (at most K; 0 when out of range or
 * the batch was scored without explain). */
CRISK_API size_t crisk_results_num_reasons(const crisk_results *results, size_t row);

/* Returns the field name of reason `k` of declaration `row` (a string owned by the
 * bundle), or NULL when out of range. Reason 0 has the largest |contribution|. */
CRISK_API const char *crisk_results_reason_field(const crisk_results *results, size_t row,
                                                 size_t k);

/* Returns the declaration's value of that field as text (text and HS codes as stored,
 * numbers as "%.15g", dates as YYYY-MM-DD, "" when the value is missing), a string that
 * lives as long as `results`; NULL when out of range. */
CRISK_API const char *crisk_results_reason_value(const crisk_results *results, size_t row,
                                                 size_t k);

/* Returns the signed contribution of reason `k` (margin space: positive pushes the score
 * up), or NaN when out of range. */
CRISK_API float crisk_results_reason_contribution(const crisk_results *results, size_t row,
                                                  size_t k);

/* Returns declaration `row`'s bias (the score model's expected margin) and rest (the
 * contributions of the fields beyond the top K, summed), or NaN when out of range or not
 * explained. */
CRISK_API float crisk_results_explain_bias(const crisk_results *results, size_t row);
CRISK_API float crisk_results_explain_rest(const crisk_results *results, size_t row);

#ifdef __cplusplus
}
#endif

#endif /* CRISK_H */
