/* Times the renderer alone on a report.json, per format, in one process: load, view model,
 * each format (decorate + Mustache), report.json serialisation, and the whole packet_write.
 * Built and run by bench/render_bench.sh against the release library; not part of the build.
 *
 *   render_bench REPORT.json [--scale F] [--out DIR]
 *
 * --scale F keeps the first F of every control's findings (F < 1) or repeats them (F > 1, each
 * copy a new resource), so one evaluated report gives the 1k..100k-table points of the
 * linearity check. Prints one JSON object per step: {"step", "seconds", "cpu_seconds",
 * "bytes"} and a last one with the peak RSS. */
#include "buf.h"
#include "diag.h"
#include "packet.h"
#include "render.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct timer {
    double wall, cpu;
};

static struct timer start(void)
{
    return (struct timer){now(CLOCK_MONOTONIC), now(CLOCK_PROCESS_CPUTIME_ID)};
}

static void report_step(const char *step, struct timer t, size_t bytes)
{
    printf("{\"step\": \"%s\", \"seconds\": %.4f, \"cpu_seconds\": %.4f, \"bytes\": %zu}\n", step,
           now(CLOCK_MONOTONIC) - t.wall, now(CLOCK_PROCESS_CPUTIME_ID) - t.cpu, bytes);
    fflush(stdout);
}

/* Scales every control's findings to `scale` times as many. */
static void scale_report(json_t *report, double scale)
{
    size_t i, j;
    json_t *control;
    json_array_foreach(json_object_get(report, "controls"), i, control)
    {
        json_t *findings = json_object_get(control, "findings");
        size_t n = json_array_size(findings);
        size_t want = (size_t)((double)n * scale + 0.5);
        json_t *scaled = json_array();
        for (j = 0; j < want && n; j++) {
            json_t *finding = json_deep_copy(json_array_get(findings, j % n));
            if (j >= n) {
                char resource[512];
                snprintf(resource, sizeof(resource), "%s-copy%zu",
                         json_string_value(json_object_get(finding, "resource")), j / n);
                json_object_set_new(finding, "resource", json_string(resource));
            }
            json_array_append_new(scaled, finding);
        }
        json_object_set_new(control, "findings", scaled);
    }
}

int main(int argc, char **argv)
{
    const char *path = NULL, *out = "/tmp/ddbaudit-render-bench";
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = atof(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            path = argv[i];
    }
    if (!path) {
        fputs("usage: render_bench REPORT.json [--scale F] [--out DIR]\n", stderr);
        return 2;
    }
    struct diagnostics d;
    diag_init(&d);
    json_error_t error;
    struct timer t = start();
    json_t *report = json_load_file(path, 0, &error);
    if (!report) {
        fprintf(stderr, "%s: %s\n", path, error.text);
        return 3;
    }
    if (scale != 1.0)
        scale_report(report, scale);
    size_t findings = 0, i;
    json_t *control;
    json_array_foreach(json_object_get(report, "controls"), i, control)
    {
        findings += json_array_size(json_object_get(control, "findings"));
    }
    printf("{\"findings\": %zu}\n", findings);
    report_step("load", t, 0);

    struct renderer *renderer = NULL;
    json_t *view = NULL;
    t = start();
    if (render_new(&renderer, NULL, &d) < 0 || render_view(&view, report, &d) < 0) {
        diag_print(&d, stderr);
        return 3;
    }
    report_step("view", t, 0);
    for (const struct render_format *const *format = render_packet_formats; *format; format++) {
        struct buf document;
        buf_init(&document, 0);
        t = start();
        if (render_document(&document, renderer, *format, view, &d) < 0) {
            diag_print(&d, stderr);
            return 3;
        }
        report_step((*format)->name, t, document.len);
        buf_free(&document);
    }
    char *bytes = NULL;
    size_t len = 0;
    t = start();
    packet_report_bytes(&bytes, &len, report, &d);
    report_step("json", t, len);
    free(bytes);
    json_decref(view);
    render_free(renderer);

    t = start();
    if (packet_write(NULL, out, report, NULL, NULL, NULL, &d) < 0) {
        diag_print(&d, stderr);
        return 3;
    }
    report_step("packet_write", t, 0);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("{\"rss_mib\": %.1f}\n", (double)usage.ru_maxrss / 1024.0);
    json_decref(report);
    diag_free(&d);
    return 0;
}
