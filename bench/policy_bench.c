/* Benchmark driver for the policy engine: opens a snapshot, then times the analysis (every
 * principal × every table) and the access matrix separately, and prints one line of figures
 * with the peak RSS. Built by bench/policy_bench.sh against libddbaudit_core.a. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "diag.h"
#include "evidence.h"
#include "policy.h"

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time, and this process's CPU time (the fairer figure on a shared machine). */
struct mark {
    double wall, cpu;
};

static struct mark now(void)
{
    return (struct mark){seconds(CLOCK_MONOTONIC), seconds(CLOCK_PROCESS_CPUTIME_ID)};
}

int main(int argc, char **argv)
{
    struct diagnostics d;
    struct evidence_snapshot *snapshot = NULL;
    struct policy_input input;
    struct policy_analysis *analysis = NULL;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: policy_bench SNAPSHOT [--no-matrix]\n");
        return 2;
    }
    diag_init(&d);
    struct mark t0 = now();
    if (evidence_open(&snapshot, argv[1], &d) < 0) {
        diag_print(&d, stderr);
        return 3;
    }
    struct mark t1 = now();
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double open_rss = (double)usage.ru_maxrss / 1024.0;
    if (policy_input_from_snapshot(&input, snapshot, NULL, &d) < 0 ||
        policy_analyze(&analysis, &input, &d) < 0) {
        diag_print(&d, stderr);
        return 4;
    }
    struct mark t2 = now();
    getrusage(RUSAGE_SELF, &usage);
    double analysis_rss = (double)usage.ru_maxrss / 1024.0;
    json_t *matrix = argc == 3 ? json_object() : policy_analysis_matrix(analysis);
    struct mark t3 = now();
    char *text = json_dumps(matrix, JSON_COMPACT);
    struct mark t4 = now();
    size_t cells = 0, grants = 0, documents = analysis->document_count, with_access = 0;
    for (size_t i = 0; i < analysis->principal_count; i++) {
        const struct policy_principal *p = &analysis->principals[i];
        cells += p->cell_count;
        grants += p->all.grant_count;
        for (size_t c = 0; c < p->cell_count; c++)
            grants += p->cells[c].grant_count;
        with_access += !policy_action_set_empty(&p->any);
    }
    getrusage(RUSAGE_SELF, &usage);
    printf("principals=%zu with_access=%zu documents=%zu tables=%zu cells=%zu grants=%zu "
           "matrix_bytes=%zu open_s=%.3f analyse_s=%.3f matrix_s=%.3f serialize_s=%.3f "
           "open_cpu_s=%.3f analyse_cpu_s=%.3f matrix_cpu_s=%.3f serialize_cpu_s=%.3f "
           "rss_after_open_mb=%.1f rss_after_analysis_mb=%.1f peak_rss_mb=%.1f\n",
           analysis->principal_count, with_access, documents, analysis->table_count, cells, grants,
           text ? strlen(text) : 0, t1.wall - t0.wall, t2.wall - t1.wall, t3.wall - t2.wall,
           t4.wall - t3.wall, t1.cpu - t0.cpu, t2.cpu - t1.cpu, t3.cpu - t2.cpu, t4.cpu - t3.cpu,
           open_rss, analysis_rss, (double)usage.ru_maxrss / 1024.0);
    const char *dump = getenv("POLICY_BENCH_DUMP"); /* write the matrix there, to inspect it */
    FILE *out = dump && text ? fopen(dump, "w") : NULL;
    if (out) {
        fputs(text, out);
        fclose(out);
    }
    free(text);
    json_decref(matrix);
    policy_analysis_free(analysis);
    policy_input_release(&input);
    evidence_free(snapshot);
    diag_free(&d);
    return 0;
}
