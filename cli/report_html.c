/*
 * report_html.c — the page `crisk report` writes: one self-contained HTML file (styles and
 * SVG charts inline, nothing fetched) with cumulative gains and lift, precision, recall
 * and revenue at k%, score distributions by outcome, calibration, the lane mix, drift per
 * feature and the red lane's most frequent reason codes.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Points of the curves over the share inspected: every 1%. */
#define CURVE_POINTS 100
/* Bins of the score distribution and of the calibration curve. */
#define SCORE_BINS 20
#define CALIBRATION_BINS 10
/* Most bars of the drift and reason charts. */
#define MAX_BARS 15

static const char style[] =
    "body{font-family:sans-serif;margin:24px;max-width:1340px}"
    "section{display:inline-block;vertical-align:top;margin:8px}"
    ".chart text{font-size:11px}.chart .title{font-size:14px;font-weight:bold}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}";

/* Cumulative sums over the sorted rows at every 1% inspected: positives and revenue. */
typedef struct curves {
    double x[CURVE_POINTS + 1], gains[CURVE_POINTS + 1], lift[CURVE_POINTS + 1];
    double precision[CURVE_POINTS + 1], revenue[CURVE_POINTS + 1];
    double pos, rev_total;
} curves;

/* Fills `c` from the sorted rows: at k% (ceil(k n / 100) rows, as evaluate counts). */
static void make_curves(const cli_report_data *d, curves *c)
{
    double hit = 0, rev = 0;
    size_t i = 0;
    memset(c, 0, sizeof *c);
    for (size_t r = 0; r < d->n; r++) {
        c->pos += d->rows[r].label;
        c->rev_total += d->rows[r].revenue;
    }
    for (size_t k = 0; k <= CURVE_POINTS; k++) {
        size_t upto = (d->n * k + CURVE_POINTS - 1) / CURVE_POINTS;
        for (; i < upto; i++) {
            hit += d->rows[i].label;
            rev += d->rows[i].revenue;
        }
        double base = d->n ? c->pos / (double)d->n : NAN;
        c->x[k] = (double)k;
        c->gains[k] = c->pos > 0 ? 100 * hit / c->pos : NAN;
        c->precision[k] = upto ? hit / (double)upto : NAN;
        c->lift[k] = upto && base > 0 ? c->precision[k] / base : NAN;
        c->revenue[k] = c->rev_total != 0 ? 100 * rev / c->rev_total : NAN;
    }
}

/* Writes the table of precision, recall and revenue at 1, 2, 5, 10 and 20%. */
static void table_at_k(FILE *f, const cli_report_data *d, const curves *c)
{
    static const int percents[] = {1, 2, 5, 10, 20};
    fputs("<table id=\"at-k-table\"><tr><th>top</th><th>declarations</th><th>precision</th>"
          "<th>recall</th>", f);
    fputs(d->revenue ? "<th>revenue</th></tr>\n" : "</tr>\n", f);
    for (size_t p = 0; p < sizeof percents / sizeof percents[0]; p++) {
        int k = percents[p];
        fprintf(f, "<tr><td>%d%%</td><td>%zu</td><td>%.4f</td><td>%.4f</td>", k,
                (d->n * (size_t)k + 99) / 100, c->precision[k], c->gains[k] / 100);
        if (d->revenue)
            fprintf(f, "<td>%.4f</td>", c->revenue[k] / 100);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Writes the gains, lift and at-k charts. */
static void selection_charts(FILE *f, const cli_report_data *d, const curves *c)
{
    double lift_max = 1;
    for (size_t k = 1; k <= CURVE_POINTS; k++)
        lift_max = isfinite(c->lift[k]) ? fmax(lift_max, c->lift[k]) : lift_max;
    cli_svg_series gains[] = {{d->model_name, c->x, c->gains, CURVE_POINTS + 1, 0},
                              {"random selection", c->x, c->x, CURVE_POINTS + 1, 1}};
    fputs("<section>", f);
    cli_svg_lines(f, "gains", "Cumulative gains", "declarations inspected (%)",
                  "frauds found (%)", gains, 2, 100, 100);
    fputs("</section><section>", f);
    cli_svg_series lift = {"lift", c->x + 1, c->lift + 1, CURVE_POINTS, 0};
    cli_svg_lines(f, "lift", "Lift over random selection", "declarations inspected (%)",
                  "lift", &lift, 1, 100, ceil(lift_max));
    fputs("</section><section>", f);
    double precision[CURVE_POINTS + 1];
    for (size_t k = 0; k <= CURVE_POINTS; k++)
        precision[k] = 100 * c->precision[k];
    cli_svg_series atk[] = {{"precision", c->x + 1, precision + 1, CURVE_POINTS, 0},
                            {"recall", c->x + 1, c->gains + 1, CURVE_POINTS, 0},
                            {"revenue", c->x + 1, c->revenue + 1, CURVE_POINTS, 0}};
    cli_svg_lines(f, "at-k", "Precision, recall and revenue at k%",
                  "declarations inspected, k (%)", "%", atk, d->revenue ? 3 : 2, 100, 100);
    table_at_k(f, d, c);
    fputs("</section>\n", f);
}

/* Writes the score distribution of each outcome (share of its declarations per bin). */
static void distribution_chart(FILE *f, const cli_report_data *d)
{
    double top = 0, x[SCORE_BINS], share[2][SCORE_BINS] = {{0}}, count[2] = {0, 0};
    for (size_t r = 0; r < d->n; r++)
        top = isfinite(d->rows[r].score) ? fmax(top, d->rows[r].score) : top;
    top = top > 0 ? top : 1;
    for (size_t r = 0; r < d->n; r++) {
        if (!isfinite(d->rows[r].score))
            continue;
        int cls = d->rows[r].label == 1.0;
        size_t b = (size_t)fmin(SCORE_BINS - 1, fmax(0, d->rows[r].score / top * SCORE_BINS));
        share[cls][b] += 1;
        count[cls] += 1;
    }
    double ymax = 0;
    for (size_t b = 0; b < SCORE_BINS; b++) {
        x[b] = top * ((double)b + 0.5) / SCORE_BINS;
        for (int cls = 0; cls < 2; cls++) {
            share[cls][b] = count[cls] > 0 ? 100 * share[cls][b] / count[cls] : NAN;
            ymax = isfinite(share[cls][b]) ? fmax(ymax, share[cls][b]) : ymax;
        }
    }
    cli_svg_series s[] = {{"not fraud (label 0)", x, share[0], SCORE_BINS, 0},
                          {"fraud (label 1)", x, share[1], SCORE_BINS, 0}};
    fputs("<section>", f);
    cli_svg_lines(f, "distribution", "Score distribution by outcome", "score",
                  "declarations of the outcome (%)", s, 2, top, ceil(ymax));
    fputs("</section>\n", f);
}

/* Writes the calibration curve: mean score against the fraud rate, per tenth by score. */
static void calibration_chart(FILE *f, const cli_report_data *d)
{
    double mean[CALIBRATION_BINS], rate[CALIBRATION_BINS], top = 0;
    size_t scored = 0, start = 0;
    while (scored < d->n && isfinite(d->rows[scored].score))
        scored++; /* NaN scores sort last */
    for (size_t b = 0; b < CALIBRATION_BINS; b++) {
        size_t end = scored * (b + 1) / CALIBRATION_BINS;
        double s = 0, y = 0;
        for (size_t r = start; r < end; r++) {
            s += d->rows[r].score;
            y += d->rows[r].label;
        }
        mean[b] = end > start ? s / (double)(end - start) : NAN;
        rate[b] = end > start ? y / (double)(end - start) : NAN;
        top = fmax(top, fmax(isfinite(mean[b]) ? mean[b] : 0, isfinite(rate[b]) ? rate[b] : 0));
        start = end;
    }
    double diag[2] = {0, top > 0 ? top : 1};
    cli_svg_series s[] = {{"observed", mean, rate, CALIBRATION_BINS, 0},
                          {"perfect calibration", diag, diag, 2, 1}};
    fputs("<section>", f);
    cli_svg_lines(f, "calibration", "Calibration (tenths by score)", "mean score",
                  "fraud rate", s, 2, diag[1], diag[1]);
    fputs("</section>\n", f);
}

/* Writes the lane mix: the share of declarations per lane, with each lane's fraud rate. */
static void lane_chart(FILE *f, const cli_report_data *d)
{
    size_t nl = crisk_bundle_num_lanes(d->bundle);
    double share[64] = {0}, fraud[64] = {0};
    const char *labels[64];
    char notes[64][64];
    const char *note_ptr[64];
    nl = nl < 64 ? nl : 64;
    for (size_t r = 0; r < d->n; r++)
        if (d->rows[r].lane < nl) {
            share[d->rows[r].lane] += 1;
            fraud[d->rows[r].lane] += d->rows[r].label;
        }
    for (size_t l = 0; l < nl; l++) {
        labels[l] = crisk_bundle_lane_name(d->bundle, l);
        snprintf(notes[l], sizeof notes[l], "%.0f (%.1f%%), fraud rate %.3f", share[l],
                 d->n ? 100 * share[l] / (double)d->n : 0, share[l] ? fraud[l] / share[l] : 0);
        note_ptr[l] = notes[l];
        share[l] = d->n ? 100 * share[l] / (double)d->n : 0;
    }
    fputs("<section>", f);
    cli_svg_bars(f, "lanes", "Lane mix (% of declarations)", labels, share, note_ptr, nl);
    fputs("</section>\n", f);
}

/* Orders drift items by PSI, highest first (NaN last). */
static int by_psi_desc(const void *pa, const void *pb)
{
    const crisk_drift_item *a = pa, *b = pb;
    if (isnan(a->psi) != isnan(b->psi))
        return isnan(a->psi) ? 1 : -1;
    return (a->psi < b->psi) - (a->psi > b->psi);
}

/* Writes the PSI of the most drifted features and scores. */
static void drift_chart(FILE *f, const cli_report_data *d)
{
    fputs("<section>", f);
    size_t n = d->drift ? crisk_drift_num_items(d->drift) : 0, shown = 0;
    crisk_drift_item *items = n ? calloc(n, sizeof *items) : NULL;
    if (!items) {
        fputs("<p id=\"drift\">No drift chart: the bundle has no reference distributions "
              "(docs/bundle.md, \"Reference distributions\").</p></section>\n", f);
        return;
    }
    crisk_error err;
    for (size_t i = 0; i < n; i++)
        crisk_drift_item_get(d->drift, i, &items[i], &err);
    qsort(items, n, sizeof *items, by_psi_desc);
    const char *labels[MAX_BARS], *notes[MAX_BARS];
    double psi[MAX_BARS];
    char text[MAX_BARS][48];
    static const char *const levels[] = {"ok", "warn", "alert"};
    for (; shown < n && shown < MAX_BARS; shown++) {
        labels[shown] = items[shown].name;
        psi[shown] = items[shown].psi;
        snprintf(text[shown], sizeof text[shown], "%.4f %s", items[shown].psi,
                 levels[items[shown].level]);
        notes[shown] = text[shown];
    }
    cli_svg_bars(f, "drift", "Drift against the reference (PSI, highest first)", labels, psi,
                 notes, shown);
    fputs("</section>\n", f);
    free(items);
}

/* Writes the most frequent reason fields of the red lane (lane 0). */
static void reasons_chart(FILE *f, const cli_report_data *d)
{
    const crisk_schema *schema = crisk_bundle_schema(d->bundle);
    size_t nf = crisk_schema_num_fields(schema), shown = 0;
    const char *labels[MAX_BARS], *notes[MAX_BARS];
    double counts[MAX_BARS];
    char text[MAX_BARS][32];
    int *used = d->reason_counts ? calloc(nf ? nf : 1, sizeof *used) : NULL;
    fputs("<section>", f);
    for (; used && shown < MAX_BARS; shown++) {
        size_t best = nf;
        for (size_t j = 0; j < nf; j++)
            if (!used[j] && d->reason_counts[j] &&
                (best == nf || d->reason_counts[j] > d->reason_counts[best]))
                best = j;
        if (best == nf)
            break;
        used[best] = 1;
        labels[shown] = crisk_schema_field_name(schema, best);
        counts[shown] = (double)d->reason_counts[best];
        snprintf(text[shown], sizeof text[shown], "%zu", d->reason_counts[best]);
        notes[shown] = text[shown];
    }
    if (used && shown)
        cli_svg_bars(f, "reasons", "Most frequent reason codes of the red lane", labels,
                     counts, notes, shown);
    else
        fputs("<p id=\"reasons\">No reason codes: the policy names no score model with one "
              "margin, or no declaration went to the red lane.</p>", f);
    fputs("</section>\n", f);
    free(used);
}

void cli_report_html(FILE *f, const cli_report_data *d)
{
    curves c;
    make_curves(d, &c);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>crisk report</title><style>%s</style></head><body>\n<h1>crisk report: ",
            style);
    cli_html_text(f, d->bundle_dir);
    fputs("</h1>\n<p>Declarations: ", f);
    cli_html_text(f, d->input);
    fprintf(f, " (%zu, %.0f frauds). Model ranked: ", d->n, c.pos);
    cli_html_text(f, d->model_name);
    fprintf(f, ", AUC %.4f.</p>\n", cli_auc(d->rows, d->n));
    if (d->outcomes)
        cli_report_outcomes_html(f, d->outcomes, d->bundle, d->labels_from_outcomes);
    selection_charts(f, d, &c);
    distribution_chart(f, d);
    calibration_chart(f, d);
    lane_chart(f, d);
    drift_chart(f, d);
    reasons_chart(f, d);
    fputs("</body></html>\n", f);
}
