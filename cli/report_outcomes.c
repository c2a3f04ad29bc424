/*
 * report_outcomes.c — `crisk report --outcomes`: labels from what officers found
 * (docs/loop.md, "Outcomes") joined to the declarations by id, and the page's section on
 * them: labels exist only for inspected declarations, so it shows how many were, and the
 * hit rate of each lane among them. Rejected outcome lines and outcomes of no declaration
 * of the input are reported, never dropped.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cli_report_outcomes_open(cli_report_outcomes *o, const char *path)
{
    crisk_error err;
    memset(o, 0, sizeof *o);
    o->path = path;
    if (crisk_outcomes_read(path, &o->outcomes, &err) != 0) {
        cli_report(path, err.message);
        return CLI_EXIT_FAILURE;
    }
    for (size_t k = 0; k < crisk_outcomes_num_rejects(o->outcomes); k++)
        fprintf(stderr, "crisk: %s: line %zu: %s\n", path,
                crisk_outcomes_reject_line(o->outcomes, k),
                crisk_outcomes_reject_reason(o->outcomes, k));
    size_t n = crisk_outcomes_size(o->outcomes);
    if (!(o->used = calloc(n ? n : 1, 1))) {
        cli_report(NULL, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

int cli_report_outcomes_add(cli_report_outcomes *o, const crisk_batch *batch,
                            const crisk_results *res, crisk_error *err)
{
    size_t got = crisk_results_size(res);
    signed char *found = cli_grow(o->found, &o->cap, o->n + got, sizeof *found, 8192,
                                  "outcomes", err);
    size_t *lanes = found ? cli_grow(o->lanes, &o->lane_cap, o->n + got, sizeof *lanes,
                                     8192, "outcomes", err) : NULL;
    if (found)
        o->found = found;
    if (!found || !lanes)
        return CRISK_E_NOMEM;
    o->lanes = lanes;
    for (size_t r = 0; r < got; r++) {
        char buf[CLI_ID_BYTES];
        size_t len = 0;
        const char *id = cli_batch_id(batch, r, buf, &len);
        long k = id ? crisk_outcomes_find(o->outcomes, id, len) : -1;
        found[o->n + r] = k < 0 ? -1 : crisk_outcomes_result(o->outcomes, (size_t)k) > 0;
        if (k >= 0)
            o->used[k] = 1;
        lanes[o->n + r] = crisk_results_lane(res, r);
    }
    o->n += got;
    return 0;
}

void cli_report_outcomes_finish(cli_report_outcomes *o)
{
    size_t used = 0;
    for (size_t k = 0; k < crisk_outcomes_size(o->outcomes); k++) {
        if (o->used[k]) {
            used++;
        } else if (crisk_outcomes_result(o->outcomes, k) >= 0) {
            size_t len;
            const char *id = crisk_outcomes_id(o->outcomes, k, &len);
            fprintf(stderr, "crisk: %s: line %zu: declaration \"%.*s\" is not in the input: "
                    "outcome not used\n", o->path, crisk_outcomes_line(o->outcomes, k),
                    (int)(len > 64 ? 64 : len), id);
            o->unknown++;
        }
    }
    fprintf(stderr, "outcomes used: %zu, lines rejected: %zu, not in the input: %zu\n", used,
            crisk_outcomes_num_rejects(o->outcomes), o->unknown);
}

void cli_report_outcomes_free(cli_report_outcomes *o)
{
    crisk_outcomes_free(o->outcomes);
    free(o->used);
    free(o->found);
    free(o->lanes);
}

/* Counts per lane (at most 64) the declarations, the inspected and the hits. */
static size_t count_lanes(const cli_report_outcomes *o, const crisk_bundle *bundle,
                          size_t *decl, size_t *inspected, size_t *hits)
{
    size_t nl = crisk_bundle_num_lanes(bundle);
    nl = nl < 64 ? nl : 64;
    for (size_t i = 0; i < o->n; i++)
        if (o->lanes[i] < nl) {
            decl[o->lanes[i]]++;
            inspected[o->lanes[i]] += o->found[i] >= 0;
            hits[o->lanes[i]] += o->found[i] == 1;
        }
    return nl;
}

void cli_report_outcomes_html(FILE *f, const cli_report_outcomes *o,
                              const crisk_bundle *bundle, int labels_from_outcomes)
{
    size_t decl[64] = {0}, inspected[64] = {0}, hits[64] = {0}, all = 0;
    size_t nl = count_lanes(o, bundle, decl, inspected, hits);
    for (size_t l = 0; l < nl; l++)
        all += inspected[l];
    fputs("<section id=\"outcomes\"><h2>Officers' outcomes: ", f);
    cli_html_text(f, o->path);
    fprintf(f, "</h2>\n<p id=\"outcomes-note\">Labels exist only for inspected "
            "declarations: %zu of %zu have an outcome. ", all, o->n);
    fputs(labels_from_outcomes
              ? "The charts below are drawn on those alone, a selection the lanes made, not "
                "a sample of the traffic: their rates are those of inspected declarations."
              : "The charts below use the label column; the table shows the outcomes.", f);
    fprintf(f, " Outcome lines rejected: %zu; outcomes of no declaration of the input: "
            "%zu (each reported on stderr).</p>\n",
            crisk_outcomes_num_rejects(o->outcomes), o->unknown);
    fputs("<table id=\"outcomes-table\"><tr><th>lane</th><th>declarations</th>"
          "<th>inspected</th><th>found</th><th>hit rate</th></tr>\n", f);
    for (size_t l = 0; l < nl; l++) {
        fputs("<tr><td>", f);
        cli_html_text(f, crisk_bundle_lane_name(bundle, l));
        fprintf(f, "</td><td>%zu</td><td>%zu</td><td>%zu</td>", decl[l], inspected[l],
                hits[l]);
        if (inspected[l])
            fprintf(f, "<td>%.4f</td></tr>\n", (double)hits[l] / (double)inspected[l]);
        else
            fputs("<td>-</td></tr>\n", f);
    }
    fputs("</table></section>\n", f);
}
