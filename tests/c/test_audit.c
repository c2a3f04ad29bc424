/*
 * test_audit.c — model pinning and the verifiable decision log.
 *
 * The Merkle tree is checked against the Certificate Transparency reference vectors
 * (RFC 6962 roots of 0 to 8 leaves, two published audit paths) and against a recursive
 * transcription of RFC 6962's definitions (MTH, PATH, PROOF) written here from the RFC,
 * for every tree size up to 40. Log files are tampered with by hand, record by record,
 * following the format in docs/security.md; digests are recomputed with OpenSSL directly.
 */
#include "crisk.h"
#include "audit/merkle.h"

#include <check.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define H CRISK_HASH_SIZE

/* ---- helpers ---------------------------------------------------------------------- */

static void sha256(const void *a, size_t an, const void *b, size_t bn, unsigned char *out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    ck_assert(EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1);
    EVP_DigestUpdate(c, a, an);
    EVP_DigestUpdate(c, b, bn);
    ck_assert(EVP_DigestFinal_ex(c, out, NULL) == 1);
    EVP_MD_CTX_free(c);
}

static void from_hex(const char *hex, unsigned char *out)
{
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        ck_assert(sscanf(hex + 2 * i, "%2x", &v) == 1);
        out[i] = (unsigned char)v;
    }
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/crisk-audit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *tmp(const char *name)
{
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- RFC 6962, transcribed recursively (sizes here are small) ---------------------- */

static void ref_leaf(const void *data, size_t n, unsigned char *out)
{
    unsigned char zero = 0;
    sha256(&zero, 1, data, n, out);
}

static void ref_node(const unsigned char *l, const unsigned char *r, unsigned char *out)
{
    unsigned char buf[1 + 2 * H];
    buf[0] = 1;
    memcpy(buf + 1, l, H);
    memcpy(buf + 1 + H, r, H);
    sha256(buf, sizeof buf, NULL, 0, out);
}

static size_t ref_k(size_t n)
{
    size_t k = 1;
    while (2 * k < n)
        k *= 2;
    return k;
}

/* MTH(D[n]) over leaf hashes. */
static void ref_mth(unsigned char (*d)[H], size_t n, unsigned char *out)
{
    if (n == 0) {
        sha256(NULL, 0, NULL, 0, out);
    } else if (n == 1) {
        memcpy(out, d[0], H);
    } else {
        size_t k = ref_k(n);
        unsigned char l[H], r[H];
        ref_mth(d, k, l);
        ref_mth(d + k, n - k, r);
        ref_node(l, r, out);
    }
}

/* PATH(m, D[n]); appends to `path`. */
static void ref_path(size_t m, unsigned char (*d)[H], size_t n, unsigned char (*path)[H],
                     size_t *len)
{
    if (n <= 1)
        return;
    size_t k = ref_k(n);
    if (m < k) {
        ref_path(m, d, k, path, len);
        ref_mth(d + k, n - k, path[(*len)++]);
    } else {
        ref_path(m - k, d + k, n - k, path, len);
        ref_mth(d, k, path[(*len)++]);
    }
}

/* SUBPROOF(m, D[n], b); appends to `path`. */
static void ref_subproof(size_t m, unsigned char (*d)[H], size_t n, int b,
                         unsigned char (*path)[H], size_t *len)
{
    if (m == n) {
        if (!b)
            ref_mth(d, n, path[(*len)++]);
        return;
    }
    size_t k = ref_k(n);
    if (m <= k) {
        ref_subproof(m, d, k, b, path, len);
        ref_mth(d + k, n - k, path[(*len)++]);
    } else {
        ref_subproof(m - k, d + k, n - k, 0, path, len);
        ref_mth(d, k, path[(*len)++]);
    }
}

/* ---- Merkle tree --------------------------------------------------------------------- */

static const char *const ct_leaves[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"};
static const char *const ct_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

START_TEST(test_ct_vectors)
{
    unsigned char leaves[8][H], want[H], got[H];
    for (size_t i = 0; i < 8; i++) {
        unsigned char data[16];
        from_hex(ct_leaves[i], data);
        ck_assert_int_eq(crisk_merkle_leaf_hash(data, strlen(ct_leaves[i]) / 2, leaves[i]), 0);
    }
    for (size_t n = 0; n <= 8; n++) {
        from_hex(ct_roots[n], want);
        ck_assert_int_eq(crisk__merkle_root((const unsigned char(*)[H])leaves, 0, n, got), 0);
        ck_assert_msg(memcmp(got, want, H) == 0, "root of %zu leaves", n);
    }
    /* The published audit paths of leaves 0 and 5 in the tree of 8. */
    static const char *const path0[] = {
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
    static const char *const path5[] = {
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
    const char *const *paths[] = {path0, path5};
    const uint64_t index[] = {0, 5};
    for (int p = 0; p < 2; p++) {
        unsigned char path[CRISK_MERKLE_MAX_PROOF][H];
        size_t len = 0;
        ck_assert_int_eq(crisk__merkle_path((const unsigned char(*)[H])leaves, index[p], 8,
                                            path, &len), 0);
        ck_assert_uint_eq(len, 3);
        for (size_t i = 0; i < 3; i++) {
            from_hex(paths[p][i], want);
            ck_assert_msg(memcmp(path[i], want, H) == 0, "leaf %d path %zu", (int)index[p], i);
        }
        from_hex(ct_roots[8], want);
        ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[index[p]], index[p], 8,
                                                       (const unsigned char(*)[H])path, 3,
                                                       want, NULL), 0);
    }
}
END_TEST

#define REF_N 40

START_TEST(test_proofs_match_rfc)
{
    unsigned char leaves[REF_N][H];
    for (size_t i = 0; i < REF_N; i++) {
        unsigned char data[2] = {(unsigned char)i, (unsigned char)(i * 7)};
        ref_leaf(data, sizeof data, leaves[i]);
    }
    const unsigned char(*cl)[H] = (const unsigned char(*)[H])leaves;
    unsigned char got[CRISK_MERKLE_MAX_PROOF][H], want[CRISK_MERKLE_MAX_PROOF][H];
    unsigned char roots[REF_N + 1][H], r[H];
    for (size_t n = 0; n <= REF_N; n++) {
        ref_mth(leaves, n, roots[n]);
        ck_assert_int_eq(crisk__merkle_root(cl, 0, n, r), 0);
        ck_assert_msg(memcmp(r, roots[n], H) == 0, "root of %zu", n);
    }
    crisk_error err;
    for (size_t n = 1; n <= REF_N; n++) {
        for (size_t m = 0; m < n; m++) {
            size_t glen = 0, wlen = 0;
            ck_assert_int_eq(crisk__merkle_path(cl, m, n, got, &glen), 0);
            ref_path(m, leaves, n, want, &wlen);
            ck_assert_uint_eq(glen, wlen);
            ck_assert_msg(memcmp(got, want, glen * H) == 0, "PATH(%zu, %zu)", m, n);
            const unsigned char(*cg)[H] = (const unsigned char(*)[H])got;
            ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[m], m, n, cg, glen,
                                                           roots[n], &err), 0);
            /* Forgeries: another leaf or index, a flipped hash, a short or long path. (The size
             * is not among them: RFC 9162's check binds the root, whose size the signed
             * checkpoint gives; a path can fit more than one size.) */
            ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[(m + 1) % REF_N], m, n,
                                                           cg, glen, roots[n], &err),
                             CRISK_E_INTEGRITY);
            if (n > 1)
                ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[m], (m + 1) % n, n,
                                                               cg, glen, roots[n], &err),
                                 CRISK_E_INTEGRITY);
            for (size_t i = 0; i < glen; i++) {
                got[i][i % H] ^= 0x20;
                ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[m], m, n, cg, glen,
                                                               roots[n], &err),
                                 CRISK_E_INTEGRITY);
                got[i][i % H] ^= 0x20;
            }
            if (glen > 0)
                ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[m], m, n, cg, glen - 1,
                                                               roots[n], &err),
                                 CRISK_E_INTEGRITY);
            memcpy(got[glen], got[0], H);
            ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[m], m, n, cg, glen + 1,
                                                           roots[n], &err),
                             CRISK_E_INTEGRITY);
        }
        for (size_t m = 1; m <= n; m++) {
            size_t glen = 0, wlen = 0;
            ck_assert_int_eq(crisk__merkle_consistency(cl, m, n, got, &glen), 0);
            ref_subproof(m, leaves, n, 1, want, &wlen);
            ck_assert_uint_eq(glen, wlen);
            ck_assert_msg(memcmp(got, want, glen * H) == 0, "PROOF(%zu, %zu)", m, n);
            const unsigned char(*cg)[H] = (const unsigned char(*)[H])got;
            ck_assert_msg(crisk_merkle_verify_consistency(m, roots[m], n, roots[n], cg, glen,
                                                          &err) == 0,
                          "PROOF(%zu, %zu): %s", m, n, err.message);
            for (size_t i = 0; i < glen; i++) {
                got[i][3] ^= 1;
                ck_assert_int_eq(crisk_merkle_verify_consistency(m, roots[m], n, roots[n], cg,
                                                                 glen, &err),
                                 CRISK_E_INTEGRITY);
                got[i][3] ^= 1;
            }
            if (m < n) {
                /* Another old root (of another tree of m leaves), or the wrong new one. */
                ck_assert_int_eq(crisk_merkle_verify_consistency(m, roots[m - 1], n, roots[n],
                                                                 cg, glen, &err),
                                 CRISK_E_INTEGRITY);
                ck_assert_int_eq(crisk_merkle_verify_consistency(m, roots[m], n, roots[n - 1],
                                                                 cg, glen, &err),
                                 CRISK_E_INTEGRITY);
                if (glen > 0)
                    ck_assert_int_eq(crisk_merkle_verify_consistency(m, roots[m], n, roots[n],
                                                                     cg, glen - 1, &err),
                                     CRISK_E_INTEGRITY);
            }
        }
    }
}
END_TEST

/* ---- checkpoints and keys ------------------------------------------------------------ */

static crisk_audit_key *priv, *pub, *other_pub;

static void make_keys(void)
{
    make_tmpdir();
    ck_assert_int_eq(crisk_audit_keygen(tmp("k.pem"), tmp("k.pub"), NULL), 0);
    ck_assert_int_eq(crisk_audit_keygen(tmp("o.pem"), tmp("o.pub"), NULL), 0);
    ck_assert_int_eq(crisk_audit_key_load(tmp("k.pem"), 1, &priv, NULL), 0);
    ck_assert_int_eq(crisk_audit_key_load(tmp("k.pub"), 0, &pub, NULL), 0);
    ck_assert_int_eq(crisk_audit_key_load(tmp("o.pub"), 0, &other_pub, NULL), 0);
}

static void free_keys(void)
{
    crisk_audit_key_free(priv);
    crisk_audit_key_free(pub);
    crisk_audit_key_free(other_pub);
    priv = pub = other_pub = NULL;
    remove_tmpdir();
}

START_TEST(test_checkpoint_text_and_signature)
{
    crisk_error err;
    struct stat st;
    ck_assert_int_eq(stat(tmp("k.pem"), &st), 0);
    ck_assert_int_eq(st.st_mode & 077, 0); /* the private key is the owner's alone */
    /* keygen never overwrites. */
    ck_assert_int_eq(crisk_audit_keygen(tmp("k.pem"), tmp("x.pub"), &err), CRISK_E_IO);
    crisk_audit_key *k = NULL;
    ck_assert_int_eq(crisk_audit_key_load(tmp("k.pub"), 1, &k, &err), CRISK_E_FORMAT);
    ck_assert_ptr_null(k);

    crisk_audit_log *log = NULL;
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, &err), 0);
    ck_assert_int_eq(crisk_audit_append(log, "decision", 8, NULL, &err), 0);
    crisk_checkpoint cp, back;
    ck_assert_int_eq(crisk_audit_checkpoint(log, pub, 5, &cp, &err), CRISK_E_INVALID_ARGUMENT);
    ck_assert_int_eq(crisk_audit_checkpoint(log, priv, 1700000000, &cp, &err), 0);
    crisk_audit_close(log);
    ck_assert_uint_eq(cp.tree_size, 1);
    unsigned char leaf[H];
    ref_leaf("decision", 8, leaf);
    ck_assert(memcmp(cp.root, leaf, H) == 0); /* MTH of one leaf is its leaf hash */

    char text[CRISK_CHECKPOINT_TEXT_MAX];
    int n = crisk_checkpoint_format(&cp, text, sizeof text);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(crisk_checkpoint_parse(text, (size_t)n, &back, &err), 0);
    ck_assert(memcmp(&back, &cp, sizeof cp) == 0);
    ck_assert_int_eq(crisk_checkpoint_verify(&back, pub, &err), 0);
    ck_assert_int_eq(crisk_checkpoint_verify(&back, priv, &err), 0);
    ck_assert_int_eq(crisk_checkpoint_verify(&back, other_pub, &err), CRISK_E_INTEGRITY);
    /* Any changed field breaks the signature. */
    back.tree_size++;
    ck_assert_int_eq(crisk_checkpoint_verify(&back, pub, &err), CRISK_E_INTEGRITY);
    back = cp;
    back.timestamp++;
    ck_assert_int_eq(crisk_checkpoint_verify(&back, pub, &err), CRISK_E_INTEGRITY);
    back = cp;
    back.root[31] ^= 1;
    ck_assert_int_eq(crisk_checkpoint_verify(&back, pub, &err), CRISK_E_INTEGRITY);
    /* Malformed texts. */
    ck_assert_int_eq(crisk_checkpoint_parse(text, (size_t)n - 10, &back, &err), CRISK_E_FORMAT);
    ck_assert_int_eq(crisk_checkpoint_parse(text + 1, (size_t)n - 1, &back, &err),
                     CRISK_E_FORMAT);
    char twice[2 * CRISK_CHECKPOINT_TEXT_MAX];
    memcpy(twice, text, (size_t)n);
    memcpy(twice + n, text, (size_t)n);
    ck_assert_int_eq(crisk_checkpoint_parse(twice, 2 * (size_t)n, &back, &err), CRISK_E_FORMAT);
    char *size_line = strstr(text, "size ");
    size_line[5] = 'x';
    ck_assert_int_eq(crisk_checkpoint_parse(text, (size_t)n, &back, &err), CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "line 2"));
}
END_TEST

/* ---- the log file ---------------------------------------------------------------------- */

#define NENTRIES 23
#define BATCH 5

/* Writes a log of NENTRIES entries "decision i" with a checkpoint after each BATCH and at
 * the end; stores each checkpoint in `cps` (count in `*ncps`). */
static void write_log(const char *path, crisk_checkpoint *cps, size_t *ncps)
{
    crisk_audit_log *log = NULL;
    crisk_error err;
    ck_assert_msg(crisk_audit_open(path, &log, &err) == 0, "%s", err.message);
    *ncps = 0;
    for (int i = 0; i < NENTRIES; i++) {
        char entry[32];
        int n = snprintf(entry, sizeof entry, "decision %d", i);
        uint64_t index;
        ck_assert_int_eq(crisk_audit_append(log, entry, (size_t)n, &index, &err), 0);
        ck_assert_uint_eq(index, (uint64_t)i);
        if ((i + 1) % BATCH == 0 || i + 1 == NENTRIES)
            ck_assert_int_eq(crisk_audit_checkpoint(log, priv, 1700000000 + i, &cps[(*ncps)++],
                                                    &err), 0);
    }
    crisk_audit_close(log);
}

/* The leaf hashes of the entries write_log() writes. */
static void entry_leaves(unsigned char (*leaves)[H])
{
    for (int i = 0; i < NENTRIES; i++) {
        char entry[32];
        int n = snprintf(entry, sizeof entry, "decision %d", i);
        ref_leaf(entry, (size_t)n, leaves[i]);
    }
}

/* The byte offsets of the records of a log file image (count in *n); the last element is
 * the end of the file. */
static size_t record_offsets(const unsigned char *file, size_t size, size_t *offsets)
{
    size_t n = 0, at = 8;
    while (at < size) {
        offsets[n++] = at;
        size_t len = (size_t)file[at + 1] << 24 | (size_t)file[at + 2] << 16 |
                     (size_t)file[at + 3] << 8 | file[at + 4];
        at += 17 + len + H;
    }
    offsets[n] = at;
    return n;
}

/* Recomputes the header check and checksum of the record at `at`, as a forger would. */
static void reseal(unsigned char *file, size_t at)
{
    unsigned char sum[H];
    size_t len = (size_t)file[at + 1] << 24 | (size_t)file[at + 2] << 16 |
                 (size_t)file[at + 3] << 8 | file[at + 4];
    sha256(file + at, 13, NULL, 0, sum);
    memcpy(file + at + 13, sum, 4);
    sha256(file + at, 17 + len, NULL, 0, file + at + 17 + len);
}

START_TEST(test_log_roundtrip)
{
    crisk_checkpoint cps[8];
    size_t ncps;
    write_log(tmp("log"), cps, &ncps);
    unsigned char leaves[NENTRIES][H], root[H];
    entry_leaves(leaves);
    crisk_error err;
    crisk_audit_log *log = NULL;
    ck_assert_int_eq(crisk_audit_open_read(tmp("log"), pub, &log, &err), 0);
    ck_assert_uint_eq(crisk_audit_size(log), NENTRIES);
    crisk_checkpoint last;
    ck_assert_uint_eq(crisk_audit_last_checkpoint(log, &last), ncps);
    ck_assert(memcmp(&last, &cps[ncps - 1], sizeof last) == 0);
    for (size_t c = 0; c < ncps; c++) {
        unsigned char want[H];
        ref_mth(leaves, cps[c].tree_size, want);
        ck_assert(memcmp(cps[c].root, want, H) == 0);
        ck_assert_int_eq(crisk_audit_root(log, cps[c].tree_size, root, &err), 0);
        ck_assert(memcmp(root, want, H) == 0);
    }
    char buf[32];
    size_t size;
    ck_assert_int_eq(crisk_audit_read_entry(log, 17, buf, sizeof buf, &size, &err), 0);
    ck_assert_uint_eq(size, 11);
    ck_assert(memcmp(buf, "decision 17", 11) == 0);
    ck_assert_int_eq(crisk_audit_read_entry(log, 17, buf, 4, &size, &err), CRISK_E_LIMIT);
    ck_assert_int_eq(crisk_audit_read_entry(log, NENTRIES, buf, 32, &size, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_int_eq(crisk_audit_append(log, "x", 1, NULL, &err), CRISK_E_INVALID_ARGUMENT);
    /* Proofs from the log verify against the checkpoints alone. */
    unsigned char path[CRISK_MERKLE_MAX_PROOF][H];
    size_t len;
    for (uint64_t i = 0; i < cps[2].tree_size; i++) {
        ck_assert_int_eq(crisk_audit_inclusion_proof(log, i, cps[2].tree_size, path, &len,
                                                     &err), 0);
        ck_assert_int_eq(crisk_merkle_verify_inclusion(leaves[i], i, cps[2].tree_size,
                                                       (const unsigned char(*)[H])path, len,
                                                       cps[2].root, &err), 0);
    }
    for (size_t a = 0; a < ncps; a++)
        for (size_t b = a; b < ncps; b++) {
            ck_assert_int_eq(crisk_audit_consistency_proof(log, cps[a].tree_size,
                                                           cps[b].tree_size, path, &len,
                                                           &err), 0);
            ck_assert_int_eq(crisk_merkle_verify_consistency(
                                 cps[a].tree_size, cps[a].root, cps[b].tree_size, cps[b].root,
                                 (const unsigned char(*)[H])path, len, &err), 0);
        }
    crisk_audit_close(log);
    /* Reopened for appending, the log goes on from where it was. */
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, &err), 0);
    uint64_t index;
    ck_assert_int_eq(crisk_audit_append(log, "more", 4, &index, &err), 0);
    ck_assert_uint_eq(index, NENTRIES);
    crisk_audit_close(log);
    uint64_t entries;
    size_t checkpoints;
    ck_assert_int_eq(crisk_audit_verify(tmp("log"), pub, &cps[ncps - 1], &entries,
                                        &checkpoints, &err), 0);
    ck_assert_uint_eq(entries, NENTRIES + 1);
    ck_assert_uint_eq(checkpoints, ncps);
}
END_TEST

/* Writes `image` as tmp("bad") and checks that verifying it (with the public key and,
 * when given, a trusted checkpoint) fails with CRISK_E_INTEGRITY and a message holding
 * `needle`; and that opening it for appending refuses it and leaves it unchanged. */
static void expect_tampered(const unsigned char *image, size_t size,
                            const crisk_checkpoint *trusted, const char *needle)
{
    spit(tmp("bad"), image, size);
    crisk_error err;
    int rc = crisk_audit_verify(tmp("bad"), pub, trusted, NULL, NULL, &err);
    ck_assert_msg(rc == CRISK_E_INTEGRITY, "expected CRISK_E_INTEGRITY (%s), got %d: %s",
                  needle, rc, err.message);
    ck_assert_msg(strstr(err.message, needle), "'%s' not in: %s", needle, err.message);
    if (trusted)
        return;
    crisk_audit_log *log = NULL;
    ck_assert_int_eq(crisk_audit_open(tmp("bad"), &log, &err), CRISK_E_INTEGRITY);
    size_t after;
    free(slurp(tmp("bad"), &after));
    ck_assert_uint_eq(after, size);
}

START_TEST(test_tampering_detected)
{
    crisk_checkpoint cps[8];
    size_t ncps;
    write_log(tmp("log"), cps, &ncps);
    size_t size, offs[64];
    unsigned char *orig = slurp(tmp("log"), &size);
    unsigned char *img = malloc(size + 256);
    size_t nrec = record_offsets(orig, size, offs);
    ck_assert_uint_eq(nrec, NENTRIES + ncps);
    /* Record 7 is entry 6 (a checkpoint follows entries 0-4, record 5). */
    size_t r7 = offs[7], r8 = offs[8], r9 = offs[9];
    ck_assert(memcmp(orig + r7 + 17, "decision 6", 10) == 0);

    /* An edited entry: its checksum fails, naming it. */
    memcpy(img, orig, size);
    img[r7 + 17 + 9] = '9';
    expect_tampered(img, size, NULL, "entry 6");
    /* Edited and resealed: the next checkpoint (entries 5-9) no longer matches. */
    reseal(img, r7);
    expect_tampered(img, size, NULL, "entries 5 to 9");
    /* A removed entry. */
    memcpy(img, orig, r7);
    memcpy(img + r7, orig + r8, size - r8);
    expect_tampered(img, size - (r8 - r7), NULL, "removed, inserted or reordered");
    /* An inserted entry (a copy of entry 6 again). */
    memcpy(img, orig, r8);
    memcpy(img + r8, orig + r7, r8 - r7);
    memcpy(img + r8 + (r8 - r7), orig + r8, size - r8);
    expect_tampered(img, size + (r8 - r7), NULL, "removed, inserted or reordered");
    /* Two entries swapped. */
    memcpy(img, orig, size);
    memcpy(img + r7, orig + r8, r9 - r8);
    memcpy(img + r7 + (r9 - r8), orig + r7, r8 - r7);
    expect_tampered(img, size, NULL, "removed, inserted or reordered");
    /* Swapped and renumbered by a forger: the checkpoint catches it. */
    img[r7 + 12] ^= 6 ^ 7;
    img[r7 + (r9 - r8) + 12] ^= 6 ^ 7;
    reseal(img, r7);
    reseal(img, r7 + (r9 - r8));
    expect_tampered(img, size, NULL, "entries 5 to 9");
    /* A damaged length in the middle is damage, not a torn end to cut off. */
    memcpy(img, orig, size);
    img[r7 + 3] ^= 0x40;
    expect_tampered(img, size, NULL, "header at byte");
    /* A checkpoint re-signed with another key. */
    memcpy(img, orig, size);
    crisk_audit_log *log = NULL;
    crisk_audit_key *other = NULL;
    ck_assert_int_eq(crisk_audit_key_load(tmp("o.pem"), 1, &other, NULL), 0);
    spit(tmp("forged"), orig, offs[5]); /* entries 0-4 without their checkpoint */
    ck_assert_int_eq(crisk_audit_open(tmp("forged"), &log, NULL), 0);
    ck_assert_int_eq(crisk_audit_checkpoint(log, other, 1700000004, NULL, NULL), 0);
    crisk_audit_close(log);
    crisk_audit_key_free(other);
    size_t fsize;
    unsigned char *forged = slurp(tmp("forged"), &fsize);
    memcpy(img, forged, fsize);
    memcpy(img + fsize, orig + offs[6], size - offs[6]);
    spit(tmp("bad"), img, fsize + size - offs[6]);
    crisk_error err;
    ck_assert_int_eq(crisk_audit_verify(tmp("bad"), pub, NULL, NULL, NULL, &err),
                     CRISK_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.message, "signature"));
    /* Without the key the forged checkpoint passes: the signature is what proves origin. */
    ck_assert_int_eq(crisk_audit_verify(tmp("bad"), NULL, NULL, NULL, NULL, &err), 0);
    free(forged);
    /* The tail cut off at a record boundary (entries and their checkpoint gone): only a
     * checkpoint kept elsewhere shows it. */
    spit(tmp("bad"), orig, offs[12]);
    ck_assert_int_eq(crisk_audit_verify(tmp("bad"), pub, NULL, NULL, NULL, &err), 0);
    expect_tampered(orig, offs[12], &cps[ncps - 1], "does not extend the given checkpoint");
    /* A whole log rewritten with its checkpoints recomputed but unsigned is refused with
     * the key; checked against a kept checkpoint it fails too. */
    memcpy(img, orig, size);
    img[offs[1] + 17] = 'D';
    reseal(img, offs[1]);
    expect_tampered(img, size, &cps[0], "entries 0 to 4");
    free(img);
    free(orig);
}
END_TEST

START_TEST(test_torn_write_recovery)
{
    crisk_checkpoint cps[8];
    size_t ncps;
    write_log(tmp("log"), cps, &ncps);
    /* One more entry after the last checkpoint, then cut it at every byte. */
    crisk_audit_log *log = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, &err), 0);
    const char *extra = "decision that was being written when the power failed";
    ck_assert_int_eq(crisk_audit_append(log, extra, strlen(extra), NULL, &err), 0);
    crisk_audit_close(log);
    size_t size, offs[64];
    unsigned char *orig = slurp(tmp("log"), &size);
    size_t nrec = record_offsets(orig, size, offs), last = offs[nrec - 1];
    for (size_t cut = last; cut < size; cut += 1) {
        spit(tmp("torn"), orig, cut);
        /* verify reports the intact part; open cuts the torn record off. */
        uint64_t entries = 0;
        ck_assert_int_eq(crisk_audit_verify(tmp("torn"), pub, &cps[ncps - 1], &entries, NULL,
                                            &err), 0);
        ck_assert_uint_eq(entries, NENTRIES);
        ck_assert_int_eq(crisk_audit_open_read(tmp("torn"), NULL, &log, &err), 0);
        ck_assert_uint_eq(crisk_audit_torn_bytes(log), cut - last);
        crisk_audit_close(log);
        ck_assert_msg(crisk_audit_open(tmp("torn"), &log, &err) == 0, "cut at %zu: %s", cut,
                      err.message);
        ck_assert_uint_eq(crisk_audit_size(log), NENTRIES);
        /* The next append lands where the torn record began. */
        ck_assert_int_eq(crisk_audit_append(log, extra, strlen(extra), NULL, &err), 0);
        crisk_audit_close(log);
        size_t now;
        unsigned char *after = slurp(tmp("torn"), &now);
        ck_assert_uint_eq(now, size);
        ck_assert(memcmp(after, orig, size) == 0);
        free(after);
    }
    /* A tail of zeros (the file grew, its data never reached the disk). */
    unsigned char *zeros = calloc(1, size + 100);
    memcpy(zeros, orig, last);
    spit(tmp("torn"), zeros, last + 100);
    ck_assert_int_eq(crisk_audit_open(tmp("torn"), &log, &err), 0);
    ck_assert_uint_eq(crisk_audit_size(log), NENTRIES);
    crisk_audit_close(log);
    free(zeros);
    /* A file cut inside its magic bytes (a crash while creating it) starts afresh. */
    spit(tmp("new"), "CRIS", 4);
    ck_assert_int_eq(crisk_audit_open(tmp("new"), &log, &err), 0);
    ck_assert_uint_eq(crisk_audit_size(log), 0);
    crisk_audit_close(log);
    spit(tmp("other"), "hello world, not a log", 22);
    ck_assert_int_eq(crisk_audit_open(tmp("other"), &log, &err), CRISK_E_FORMAT);
    free(orig);
}
END_TEST

/* A header rewritten to claim more bytes than the file has, its check recomputed, makes
 * the rest of the log look like one torn record. A crash cuts only the last record, so
 * an intact record inside it shows the edit: verify and open refuse the log and the file
 * keeps every byte (before, verify passed and open cut 16 entries and 4 checkpoints). */
START_TEST(test_edited_header_is_no_torn_end)
{
    crisk_checkpoint cps[8];
    size_t ncps, size, offs[64];
    write_log(tmp("log"), cps, &ncps);
    unsigned char *img = slurp(tmp("log"), &size);
    record_offsets(img, size, offs);
    size_t at = offs[7]; /* entry 6, followed by entries 7-22 and three checkpoints */
    size_t claim = size - at; /* runs past the end of the file by the record overhead */
    img[at + 1] = (unsigned char)(claim >> 24);
    img[at + 2] = (unsigned char)(claim >> 16);
    img[at + 3] = (unsigned char)(claim >> 8);
    img[at + 4] = (unsigned char)claim;
    unsigned char sum[H];
    sha256(img + at, 13, NULL, 0, sum);
    memcpy(img + at + 13, sum, 4);
    expect_tampered(img, size, NULL, "intact entry record starts inside it");
    crisk_error err;
    crisk_audit_verify(tmp("bad"), pub, NULL, NULL, NULL, &err);
    /* The message says what recovery would have cut. */
    ck_assert_ptr_nonnull(strstr(err.message, "after the last valid record"));
    /* A torn last record that names another index than the next entry's is no crash. */
    free(img);
    img = slurp(tmp("log"), &size);
    crisk_audit_log *log = NULL;
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, &err), 0);
    ck_assert_int_eq(crisk_audit_append(log, "decision 23", 11, NULL, &err), 0);
    crisk_audit_close(log);
    free(img);
    img = slurp(tmp("log"), &size);
    size_t last = offs[NENTRIES + ncps];
    img[last + 12] ^= 1; /* entry 23 says 22 */
    sha256(img + last, 13, NULL, 0, sum);
    memcpy(img + last + 13, sum, 4);
    expect_tampered(img, size - 3, NULL, "is no torn append");
    free(img);
}
END_TEST

/* The clock stepped back between two runs: the checkpoint keeps the previous time and
 * says how far behind the clock was, so the log still verifies and takes appends (before,
 * the older checkpoint made verify fail, "checkpoints were reordered"). */
START_TEST(test_clock_stepped_back)
{
    crisk_checkpoint cps[8], cp, back;
    size_t ncps;
    write_log(tmp("log"), cps, &ncps);
    int64_t last = cps[ncps - 1].timestamp;
    crisk_error err;
    crisk_audit_log *log = NULL;
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, &err), 0);
    ck_assert_int_eq(crisk_audit_append(log, "late", 4, NULL, &err), 0);
    ck_assert_int_eq(crisk_audit_checkpoint(log, priv, last - 60, &cp, &err), 0);
    crisk_audit_close(log);
    ck_assert_int_eq(cp.timestamp, last);
    ck_assert_int_eq(cp.clock_behind, 60);
    ck_assert_msg(crisk_audit_verify(tmp("log"), pub, &cp, NULL, NULL, &err) == 0, "%s",
                  err.message);
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, &err), 0);
    ck_assert_int_eq(crisk_audit_append(log, "later", 5, NULL, &err), 0);
    ck_assert_int_eq(crisk_audit_checkpoint(log, priv, last + 5, &back, &err), 0);
    crisk_audit_close(log);
    ck_assert_int_eq(back.clock_behind, 0); /* the clock caught up */
    ck_assert_int_eq(crisk_audit_verify(tmp("log"), pub, NULL, NULL, NULL, &err), 0);
    /* The text form carries it, signed. */
    char text[CRISK_CHECKPOINT_TEXT_MAX];
    int n = crisk_checkpoint_format(&cp, text, sizeof text);
    ck_assert_ptr_nonnull(strstr(text, "\nclock-behind 60\nsig "));
    ck_assert_int_eq(crisk_checkpoint_parse(text, (size_t)n, &back, &err), 0);
    ck_assert(memcmp(&back, &cp, sizeof cp) == 0);
    back.clock_behind = 0;
    ck_assert_int_eq(crisk_checkpoint_verify(&back, pub, &err), CRISK_E_INTEGRITY);
    strstr(text, "clock-behind 60")[13] = '0'; /* "clock-behind 00": not a delay */
    ck_assert_int_eq(crisk_checkpoint_parse(text, (size_t)n, &back, &err), CRISK_E_FORMAT);
}
END_TEST

/* A log is signed with one key: another one is refused at open (with the key in the
 * options) and at checkpoint, and the log is left as it was (before, the other key's
 * checkpoint was written and the log failed verification under either key). */
START_TEST(test_one_key_per_log)
{
    crisk_checkpoint cps[8];
    size_t ncps, before, after;
    write_log(tmp("log"), cps, &ncps);
    free(slurp(tmp("log"), &before));
    crisk_audit_key *other = NULL;
    ck_assert_int_eq(crisk_audit_key_load(tmp("o.pem"), 1, &other, NULL), 0);
    crisk_error err;
    crisk_audit_log *log = NULL;
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, &err), 0);
    ck_assert_int_eq(crisk_audit_checkpoint(log, other, 1800000000, NULL, &err),
                     CRISK_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.message, "key does not match"));
    crisk_audit_close(log);
    free(slurp(tmp("log"), &after));
    ck_assert_uint_eq(after, before);
    crisk_audit_open_options opts;
    ck_assert_int_eq(crisk_audit_open_options_init(&opts, CRISK_AUDIT_OPEN_OPTIONS_VERSION), 0);
    opts.key = other_pub;
    ck_assert_int_eq(crisk_audit_open_advanced(tmp("log"), &opts, &log, &err),
                     CRISK_E_INTEGRITY);
    ck_assert_ptr_nonnull(strstr(err.message, "key does not match"));
    ck_assert_ptr_null(log);
    opts.key = pub;
    ck_assert_int_eq(crisk_audit_open_advanced(tmp("log"), &opts, &log, &err), 0);
    ck_assert_int_eq(crisk_audit_checkpoint(log, priv, 1800000000, NULL, &err), 0);
    crisk_audit_close(log);
    opts.version = 99;
    ck_assert_int_eq(crisk_audit_open_advanced(tmp("log"), &opts, &log, &err),
                     CRISK_E_INVALID_ARGUMENT);
    crisk_audit_key_free(other);
    ck_assert_int_eq(crisk_audit_verify(tmp("log"), pub, NULL, NULL, NULL, &err), 0);
}
END_TEST

/* Group commit writes entries without an fsync each; the checkpoint makes them durable.
 * The log it writes is the same, byte for byte, as one fsync per entry; a crash at any
 * byte of the pending entries leaves a log that opens, keeping every whole record. */
START_TEST(test_group_commit)
{
    crisk_checkpoint cps[8];
    size_t ncps, size, gsize;
    write_log(tmp("log"), cps, &ncps);
    unsigned char *plain = slurp(tmp("log"), &size);
    crisk_audit_open_options opts;
    crisk_audit_open_options_init(&opts, CRISK_AUDIT_OPEN_OPTIONS_VERSION);
    opts.group_commit = 1;
    opts.key = pub;
    crisk_audit_log *log = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_audit_open_advanced(tmp("group"), &opts, &log, &err), 0);
    for (int i = 0; i < NENTRIES; i++) {
        char entry[32];
        int n = snprintf(entry, sizeof entry, "decision %d", i);
        ck_assert_int_eq(crisk_audit_append(log, entry, (size_t)n, NULL, &err), 0);
        if ((i + 1) % BATCH == 0 || i + 1 == NENTRIES)
            ck_assert_int_eq(crisk_audit_checkpoint(log, priv, 1700000000 + i, NULL, &err), 0);
    }
    /* Three more entries pending, then the "crash" (no checkpoint). */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(crisk_audit_append(log, "pending", 7, NULL, &err), 0);
    crisk_audit_close(log);
    unsigned char *group = slurp(tmp("group"), &gsize);
    ck_assert_uint_eq(gsize, size + 3 * (17 + 7 + H));
    ck_assert(memcmp(group, plain, size) == 0);
    for (size_t cut = size; cut <= gsize; cut++) {
        spit(tmp("torn"), group, cut);
        size_t whole = (cut - size) / (17 + 7 + H);
        ck_assert_int_eq(crisk_audit_open(tmp("torn"), &log, &err), 0);
        ck_assert_uint_eq(crisk_audit_size(log), NENTRIES + whole);
        ck_assert_uint_eq(crisk_audit_torn_bytes(log), cut - size - whole * (17 + 7 + H));
        crisk_audit_close(log);
    }
    free(plain);
    free(group);
}
END_TEST

/* A write that fails (the file size limit standing in for a full disk) cuts the file
 * back, leaves crisk_audit_size() at what the file holds and refuses later writes; the
 * log reopens with exactly those entries. In a child: the limit is per process. */
START_TEST(test_failed_write_forgets_staged_entries)
{
    crisk_checkpoint cps[8];
    size_t ncps, size;
    write_log(tmp("log"), cps, &ncps);
    free(slurp(tmp("log"), &size));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {size + 1000, size + 1000};
        crisk_audit_open_options opts;
        crisk_audit_open_options_init(&opts, CRISK_AUDIT_OPEN_OPTIONS_VERSION);
        opts.group_commit = 1;
        crisk_audit_log *log = NULL;
        char entry[200] = {0};
        memset(entry, 'x', sizeof entry - 1);
        int ok = setrlimit(RLIMIT_FSIZE, &lim) == 0 &&
                 crisk_audit_open_advanced(tmp("log"), &opts, &log, NULL) == 0;
        for (int i = 0; ok && i < 20; i++)
            ok = crisk_audit_append(log, entry, strlen(entry), NULL, NULL) == 0;
        ok = ok && crisk_audit_checkpoint(log, priv, 1800000000, NULL, NULL) == CRISK_E_IO &&
             crisk_audit_size(log) == NENTRIES &&
             crisk_audit_append(log, "x", 1, NULL, NULL) == CRISK_E_IO;
        crisk_audit_close(log);
        _exit(ok ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    size_t after;
    free(slurp(tmp("log"), &after));
    ck_assert_uint_eq(after, size);
    crisk_error err;
    uint64_t entries;
    ck_assert_int_eq(crisk_audit_verify(tmp("log"), pub, &cps[ncps - 1], &entries, NULL, &err),
                     0);
    ck_assert_uint_eq(entries, NENTRIES);
}
END_TEST

START_TEST(test_one_writer)
{
    crisk_audit_log *log = NULL;
    ck_assert_int_eq(crisk_audit_open(tmp("log"), &log, NULL), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        crisk_audit_log *second = NULL;
        _exit(crisk_audit_open(tmp("log"), &second, NULL) == CRISK_E_IO ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    crisk_audit_close(log);
}
END_TEST

/* ---- model pinning --------------------------------------------------------------------- */

START_TEST(test_pinning)
{
    const char *src = getenv("CRISK_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/models/example/fraud_xgb.json", src ? src : ".");
    size_t size;
    unsigned char *bytes = slurp(path, &size), want[H], got[H];
    sha256(bytes, size, NULL, 0, want);
    crisk_model *m = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_model_load(path, &m, &err), 0);
    crisk_model_digest(m, got);
    ck_assert(memcmp(got, want, H) == 0);
    crisk_model_free(m);
    ck_assert_int_eq(crisk_sha256(bytes, size, got), 0);
    ck_assert(memcmp(got, want, H) == 0);

    crisk_load_options opts;
    crisk_load_options_init(&opts, CRISK_LOAD_OPTIONS_VERSION);
    ck_assert_int_eq(opts.pin_sha256, 0);
    opts.pin_sha256 = 1;
    memcpy(opts.expected_sha256, want, H);
    ck_assert_int_eq(crisk_model_load_advanced(path, &opts, &m, &err), 0);
    crisk_model_free(m);
    ck_assert_int_eq(crisk_model_load_buffer_advanced(bytes, size, &opts, &m, &err), 0);
    crisk_model_free(m);
    opts.expected_sha256[0] ^= 1;
    ck_assert_int_eq(crisk_model_load_advanced(path, &opts, &m, &err), CRISK_E_INTEGRITY);
    ck_assert_ptr_null(m);
    char hex[2 * H + 1];
    for (int i = 0; i < H; i++)
        sprintf(hex + 2 * i, "%02x", want[i]);
    ck_assert_msg(strstr(err.message, hex), "actual digest not in: %s", err.message);
    hex[1] ^= 1; /* the first byte xor 1 flips the low bit of the second hex digit */
    if (hex[1] == '8' || hex[1] == '9' || (hex[1] >= '0' && hex[1] <= '7'))
        ck_assert_msg(strstr(err.message, hex), "pinned digest not in: %s", err.message);
    /* One byte of the model changed: refused, even though it still parses. */
    opts.expected_sha256[0] ^= 1;
    bytes[size - 1] = bytes[size - 1] == '\n' ? ' ' : '\n';
    ck_assert_int_eq(crisk_model_load_buffer_advanced(bytes, size, &opts, &m, &err),
                     CRISK_E_INTEGRITY);
    free(bytes);
}
END_TEST

/* ---- data protection ------------------------------------------------------------------ */

/* crisk_protect_id is HMAC-SHA256 truncated to 16 bytes: RFC 4231's test case 1 (key 20
 * bytes of 0x0b, data "Hi There") gives b0344c61...; a short key is refused. */
START_TEST(test_protect_id)
{
    unsigned char key[20];
    memset(key, 0x0b, sizeof key);
    char out[2 * CRISK_PROTECTED_ID_BYTES + 1];
    crisk_error err;
    ck_assert_int_eq(crisk_protect_id(key, sizeof key, "Hi There", 8, out, &err), 0);
    ck_assert_str_eq(out, "b0344c61d8db38535ca8afceaf0bf12b");
    ck_assert_int_eq(crisk_protect_id(key, CRISK_PROTECT_MIN_KEY - 1, "Hi There", 8, out,
                                      &err), CRISK_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "at least"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("audit");
    TCase *merkle = tcase_create("merkle");
    tcase_add_test(merkle, test_ct_vectors);
    tcase_add_test(merkle, test_proofs_match_rfc);
    tcase_set_timeout(merkle, 60);
    suite_add_tcase(s, merkle);
    TCase *log = tcase_create("log");
    tcase_add_checked_fixture(log, make_keys, free_keys);
    tcase_add_test(log, test_checkpoint_text_and_signature);
    tcase_add_test(log, test_log_roundtrip);
    tcase_add_test(log, test_tampering_detected);
    tcase_add_test(log, test_torn_write_recovery);
    tcase_add_test(log, test_one_writer);
    tcase_add_test(log, test_edited_header_is_no_torn_end);
    tcase_add_test(log, test_clock_stepped_back);
    tcase_add_test(log, test_one_key_per_log);
    tcase_add_test(log, test_group_commit);
    tcase_add_test(log, test_failed_write_forgets_staged_entries);
    tcase_set_timeout(log, 60);
    suite_add_tcase(s, log);
    TCase *pin = tcase_create("pinning");
    tcase_add_test(pin, test_pinning);
    tcase_add_test(pin, test_protect_id);
    suite_add_tcase(s, pin);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
