/*
 * svg.c — a small SVG chart writer for `crisk report`: line charts and horizontal bar
 * charts with axes, ticks and a legend, written inline into an HTML page. Hand-written
 * because the report is made by the C command, and no charting library packaged for
 * Debian serves a C program (the Python layer uses matplotlib for the same charts).
 */
#include "cli.h"

#include <math.h>
#include <string.h>

/* Plot geometry, in SVG user units. */
#define WIDTH 640
#define HEIGHT 360
#define LEFT 64
#define RIGHT 16
#define TOP 36
#define BOTTOM 48
#define BAR_ROW 22
#define BAR_LEFT 200

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#7f7f7f"};
#define NCOLORS (sizeof palette / sizeof palette[0])

void cli_html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Writes the opening tag of a chart and its title. */
static void open_chart(FILE *f, const char *id, const char *title, int height)
{
    fprintf(f, "<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
            "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n<title>", id,
            WIDTH, height, WIDTH, height);
    cli_html_text(f, title);
    fputs("</title>\n<text x=\"8\" y=\"20\" class=\"title\">", f);
    cli_html_text(f, title);
    fputs("</text>\n", f);
}

/* Writes the axes of a plot over [0, xmax] x [0, ymax] with five ticks each. */
static void axes(FILE *f, const char *xlabel, const char *ylabel, double xmax, double ymax)
{
    int pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM;
    fprintf(f, "<g class=\"axes\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "fill=\"none\" stroke=\"#444\"/>\n", LEFT, TOP, pw, ph);
    for (int t = 0; t <= 5; t++) {
        double fx = LEFT + pw * t / 5.0, fy = TOP + ph - ph * t / 5.0;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g</text>\n", fx,
                HEIGHT - BOTTOM + 16, xmax * t / 5.0);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", LEFT - 4,
                fy + 4, ymax * t / 5.0);
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                LEFT, WIDTH - RIGHT, fy, fy);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", LEFT + pw / 2, HEIGHT - 10);
    cli_html_text(f, xlabel);
    fprintf(f, "</text>\n<text transform=\"translate(14 %d) rotate(-90)\" "
            "text-anchor=\"middle\">", TOP + ph / 2);
    cli_html_text(f, ylabel);
    fputs("</text></g>\n", f);
}

void cli_svg_lines(FILE *f, const char *id, const char *title, const char *xlabel,
                   const char *ylabel, const cli_svg_series *series, size_t ns, double xmax,
                   double ymax)
{
    int pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM;
    xmax = xmax > 0 ? xmax : 1;
    ymax = ymax > 0 ? ymax : 1;
    open_chart(f, id, title, HEIGHT);
    axes(f, xlabel, ylabel, xmax, ymax);
    for (size_t s = 0; s < ns; s++) {
        const char *color = palette[s % NCOLORS];
        fprintf(f, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
                "points=\"", color, series[s].dashed ? " stroke-dasharray=\"5 4\"" : "");
        for (size_t i = 0; i < series[s].n; i++)
            if (isfinite(series[s].x[i]) && isfinite(series[s].y[i]))
                fprintf(f, "%.1f,%.1f ", LEFT + pw * fmin(series[s].x[i] / xmax, 1),
                        TOP + ph - ph * fmin(series[s].y[i] / ymax, 1));
        fprintf(f, "\"/>\n<rect x=\"%zu\" y=\"%d\" width=\"12\" height=\"4\" fill=\"%s\"/>"
                "<text x=\"%zu\" y=\"%d\">", (size_t)LEFT + 10 + s * 150, TOP + 10, color,
                (size_t)LEFT + 26 + s * 150, TOP + 16);
        cli_html_text(f, series[s].name);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

void cli_svg_bars(FILE *f, const char *id, const char *title, const char *const *labels,
                  const double *values, const char *const *notes, size_t n)
{
    double vmax = 0;
    for (size_t i = 0; i < n; i++)
        vmax = isfinite(values[i]) ? fmax(vmax, values[i]) : vmax;
    vmax = vmax > 0 ? vmax : 1;
    int height = TOP + (int)n * BAR_ROW + 16, pw = WIDTH - BAR_LEFT - 210;
    open_chart(f, id, title, height);
    for (size_t i = 0; i < n; i++) {
        double w = isfinite(values[i]) ? pw * values[i] / vmax : 0;
        size_t y = (size_t)TOP + i * BAR_ROW;
        fprintf(f, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", BAR_LEFT - 6, y + 14);
        cli_html_text(f, labels[i]);
        fprintf(f, "</text><rect class=\"bar\" x=\"%d\" y=\"%zu\" width=\"%.1f\" "
                "height=\"%d\" fill=\"%s\"/><text x=\"%.1f\" y=\"%zu\">", BAR_LEFT, y + 2, w,
                BAR_ROW - 6, palette[0], BAR_LEFT + w + 4, y + 14);
        cli_html_text(f, notes[i]);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}
