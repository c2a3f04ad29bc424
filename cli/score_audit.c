/*
 * score_audit.c — what `crisk score` adds for accountability and data protection: one
 * audit-log leaf per scored declaration and a signed checkpoint per batch (--audit,
 * --audit-key), and the keyed hashing or dropping of the schema's personal fields in
 * outputs and leaves (--protect-ids, --drop-ids). docs/security.md documents the leaf.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_protect_key_read(const char *path, unsigned char *key, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_report(path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    *size = fread(key, 1, CLI_PROTECT_KEY_MAX, f);
    int more = fgetc(f) != EOF, bad = ferror(f);
    fclose(f);
    if (bad || more || *size < CRISK_PROTECT_MIN_KEY) {
        char msg[128];
        snprintf(msg, sizeof msg, "an id protection key must hold %d to %d bytes",
                 CRISK_PROTECT_MIN_KEY, CLI_PROTECT_KEY_MAX);
        cli_report(path, bad ? strerror(errno) : msg);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

int cli_score_audit_open(cli_score_audit *s, const crisk_bundle *bundle)
{
    if (!s->log_path != !s->key_path) {
        fprintf(stderr, "crisk score: --audit and --audit-key go together\n");
        return CLI_EXIT_USAGE;
    }
    if (s->protect_path && s->drop_ids) {
        fprintf(stderr, "crisk score: give --protect-ids or --drop-ids, not both\n");
        return CLI_EXIT_USAGE;
    }
    if (s->protect_path && cli_protect_key_read(s->protect_path, s->id_key, &s->id_key_size))
        return CLI_EXIT_FAILURE;
    unsigned char digest[CRISK_HASH_SIZE];
    crisk_bundle_digest(bundle, digest);
    crisk_hex_encode(digest, sizeof digest, s->bundle_hex);
    if (!s->log_path)
        return 0;
    crisk_error err;
    if (crisk_audit_key_load(s->key_path, 1, &s->key, &err) != 0) {
        cli_report(NULL, err.message);
        return CLI_EXIT_FAILURE;
    }
    /* The key must be the one the log's checkpoints carry; one fsync per batch. */
    crisk_audit_open_options opts;
    crisk_audit_open_options_init(&opts, CRISK_AUDIT_OPEN_OPTIONS_VERSION);
    opts.key = s->key;
    opts.group_commit = 1;
    if (crisk_audit_open_advanced(s->log_path, &opts, &s->log, &err) != 0) {
        cli_report(NULL, err.message);
        return CLI_EXIT_FAILURE;
    }
    s->start = crisk_audit_size(s->log);
    return 0;
}

void cli_score_audit_report(const cli_score_audit *s, int discarded, const char *output)
{
    if (!s->log)
        return;
    uint64_t end = crisk_audit_size(s->log);
    if (end == s->start) {
        fprintf(stderr, "crisk score: %s: no decision of this run was logged\n", s->log_path);
        return;
    }
    fprintf(stderr, "crisk score: %s: entries %llu to %llu (this run's %llu decisions) were "
            "logged, %s %s%s\n", s->log_path, (unsigned long long)s->start,
            (unsigned long long)end - 1, (unsigned long long)(end - s->start),
            discarded ? "but not delivered: their output" : "and delivered to", output,
            discarded ? " was removed" : " before the failure");
}

void cli_score_audit_close(cli_score_audit *s)
{
    crisk_audit_close(s->log);
    crisk_audit_key_free(s->key);
    s->log = NULL;
    s->key = NULL;
}

/* Writes the keyed hash of personal value `text` (`len` bytes) to `buf` and returns 0, or
 * returns nonzero when the value is to be left out: --drop-ids, or a hash that failed
 * (never the value in clear). A crisk_decl_protect_fn over a cli_score_audit. */
static int protect_value(void *ctx, const char *text, size_t len, char *buf)
{
    const cli_score_audit *s = ctx;
    return s->drop_ids || crisk_protect_id(s->id_key, s->id_key_size, text, len, buf, NULL);
}

const char *cli_personal_text(const cli_score_audit *s, const crisk_schema *schema,
                              long field, const char *text, size_t *len, char *buf)
{
    if (!text || field < 0 || !crisk_schema_field_personal(schema, (size_t)field) ||
        (!s->drop_ids && !s->protect_path))
        return text;
    if (protect_value((void *)s, text, *len, buf))
        return NULL;
    *len = strlen(buf);
    return buf;
}

void cli_protect_rejects(cli_score_audit *s, crisk_decl_reader *reader)
{
    if (s->drop_ids || s->protect_path)
        crisk_decl_set_protect(reader, protect_value, s, NULL);
}

void cli_personal_header(FILE *out, const cli_score_audit *s, const crisk_schema *schema)
{
    for (size_t f = 0; s->protect_path && f < crisk_schema_num_fields(schema); f++)
        if (crisk_schema_field_personal(schema, f)) {
            const char *name = crisk_schema_field_name(schema, f);
            fputc(',', out);
            cli_write_csv_text(out, name, strlen(name));
        }
}

/* Sorts the `n` indices at `idx` by the names `name(ctx, i)` gives them (strcmp), so
 * that JSON keys come out sorted. */
static void sort_by_name(const char *(*name)(const void *, size_t), const void *ctx,
                         size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        for (; j > 0 && strcmp(name(ctx, idx[j - 1]), name(ctx, v)) > 0; j--)
            idx[j] = idx[j - 1];
        idx[j] = v;
    }
}

/* Returns the name of field `i` (ctx: the schema), for sort_by_name(). */
static const char *field_name(const void *ctx, size_t i)
{
    return crisk_schema_field_name(ctx, i);
}

/* Returns the name of model `i` (ctx: the bundle), for sort_by_name(). */
static const char *model_name(const void *ctx, size_t i)
{
    return crisk_bundle_model_name(ctx, i);
}

int cli_personal_write(FILE *out, const cli_score_audit *s, const crisk_batch *batch,
                       size_t row, int json)
{
    const crisk_schema *schema = crisk_batch_schema(batch);
    size_t n = 0, nf = crisk_schema_num_fields(schema);
    size_t *idx = malloc((nf ? nf : 1) * sizeof *idx);
    if (!idx)
        return -1;
    for (size_t f = 0; s->protect_path && f < nf; f++)
        if (crisk_schema_field_personal(schema, f))
            idx[n++] = f;
    if (json)
        sort_by_name(field_name, schema, idx, n);
    for (size_t k = 0; k < n; k++) {
        char buf[2 * CRISK_PROTECTED_ID_BYTES + 1];
        size_t len = 0;
        const char *text = cli_personal_text(s, schema, (long)idx[k],
                                             crisk_batch_text(batch, row, idx[k], &len),
                                             &len, buf);
        if (!json || k)
            fputc(',', out);
        if (json) {
            const char *name = crisk_schema_field_name(schema, idx[k]);
            cli_write_json_text(out, name, strlen(name));
            fputc(':', out);
            if (text)
                cli_write_json_text(out, text, len);
            else
                fputs("null", out);
        } else if (text) {
            fwrite(text, 1, len, out);
        }
    }
    free(idx);
    return 0;
}

/* With --protect-ids, writes the member ,"personal_hmac":{...} of row `row` (the JSON
 * members of cli_personal_write); else nothing. Returns 0, or -1 when out of memory. */
int cli_personal_member(FILE *out, const cli_score_audit *s, const crisk_batch *batch,
                        size_t row)
{
    if (!s->protect_path)
        return 0;
    fputs(",\"personal_hmac\":{", out);
    if (cli_personal_write(out, s, batch, row, 1) != 0)
        return -1;
    fputc('}', out);
    return 0;
}

/* Writes the leaf of row `row` to `f` (docs/security.md, "Decision log"): compact JSON,
 * keys sorted, numbers as %.9g (NaN as null), a multi-class model's scores as an array;
 * `tail` closes it (scores, time, version). Returns 0, or -1 when out of memory. */
static int write_leaf(FILE *f, const cli_score_audit *s, const crisk_bundle *bundle,
                       const crisk_batch *batch, const crisk_results *res, size_t row,
                       const size_t *order, const char *tail)
{
    char idbuf[CLI_ID_BYTES], hash[2 * CRISK_PROTECTED_ID_BYTES + 1], reason[256];
    size_t len = 0;
    const char *id = cli_batch_id(batch, row, idbuf, &len);
    fputs("{\"bundle\":\"", f);
    fputs(s->bundle_hex, f);
    fputs("\",\"hits\":[", f);
    for (size_t k = 0; k < crisk_results_num_hits(res, row); k++) {
        const char *hit = crisk_results_hit_id(res, row, k);
        if (k)
            fputc(',', f);
        cli_write_json_text(f, hit, strlen(hit));
    }
    int hashed = s->protect_path && id &&
                 crisk_protect_id(s->id_key, s->id_key_size, id, len, hash, NULL) == 0;
    fputs(hashed ? "],\"id_hmac\":" : "],\"id\":", f);
    if (id)
        cli_write_json_text(f, hashed ? hash : id, hashed ? strlen(hash) : len);
    else
        fputs("null", f);
    const char *lane = crisk_bundle_lane_name(bundle, crisk_results_lane(res, row));
    fputs(",\"lane\":", f);
    cli_write_json_text(f, lane, strlen(lane));
    if (cli_personal_member(f, s, batch, row) != 0)
        return -1;
    crisk_results_reason(res, row, reason, sizeof reason);
    fputs(",\"reason\":", f);
    cli_write_json_text(f, reason, strlen(reason));
    fputs(",\"scores\":{", f);
    for (size_t m = 0; m < crisk_bundle_num_models(bundle); m++) {
        const char *name = crisk_bundle_model_name(bundle, order[m]);
        if (m)
            fputc(',', f);
        cli_write_json_text(f, name, strlen(name));
        fputc(':', f);
        cli_scores_json(f, bundle, res, row, order[m]);
    }
    fputs(tail, f);
    return 0;
}

int cli_score_audit_batch(cli_score_audit *s, const crisk_bundle *bundle,
                          const crisk_batch *batch, const crisk_results *res, crisk_error *err)
{
    if (!s->log)
        return 0;
    size_t nm = crisk_bundle_num_models(bundle);
    size_t *order = malloc((nm ? nm : 1) * sizeof *order);
    if (!order)
        return crisk_error_set(err, CRISK_E_NOMEM, "out of memory");
    for (size_t m = 0; m < nm; m++)
        order[m] = m;
    sort_by_name(model_name, bundle, order, nm);
    long long now = (long long)time(NULL);
    char tail[64]; /* what ends every leaf of the batch, formatted once */
    snprintf(tail, sizeof tail, "},\"time\":%lld,\"v\":1}", now);
    /* One memory stream for the batch, rewound for each leaf (fflush sets `size` to the
     * position): a stream per leaf cost more than the leaf. */
    char *leaf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&leaf, &size);
    int rc = f ? 0 : crisk_error_set(err, CRISK_E_NOMEM, "out of memory building an audit leaf");
    for (size_t i = 0; rc == 0 && i < crisk_results_size(res); i++) {
        rewind(f);
        if (write_leaf(f, s, bundle, batch, res, i, order, tail) != 0 || fflush(f) != 0)
            rc = crisk_error_set(err, CRISK_E_NOMEM, "out of memory building an audit leaf");
        else
            rc = crisk_audit_append(s->log, leaf, size, NULL, err);
    }
    if (f)
        fclose(f);
    free(leaf);
    free(order);
    if (rc == 0)
        rc = crisk_audit_checkpoint(s->log, s->key, (int64_t)now, NULL, err);
    if (rc)
        cli_fail_prefix(err, rc, s->log_path);
    return rc;
}
