/* `ddbaudit collect`: gathers, read-only, every AWS answer the controls read and writes an
 * evidence snapshot (docs/evidence.md). Calls follow their dependencies (ListTables -> per-table
 * calls -> the KMS keys those tables use; trails -> status; rules -> targets), every page is
 * followed, and errors become manifest entries rather than failures of the run. */
#ifndef DDBAUDIT_COLLECT_H
#define DDBAUDIT_COLLECT_H

#include <stdio.h>

struct diagnostics;

enum collect_verbosity { COLLECT_QUIET, COLLECT_NORMAL, COLLECT_VERBOSE };

struct collect_options {
    const char *out_dir;
    const char *regions; /* "eu-west-1,us-east-1", "all", or NULL = the configured region */
    const char *profile; /* NULL = AWS_PROFILE / default */
    int concurrency;     /* 0 = HTTP_DEFAULT_CONCURRENCY */
    int resume;          /* finish the snapshot in out_dir instead of starting afresh */
    const char *period;  /* "YYYY-MM-DD..YYYY-MM-DD" or NULL */
    enum collect_verbosity verbosity;
    FILE *progress; /* where the progress bar or log lines go (stderr) */
    int progress_is_tty;
    long backoff_base_ms; /* 0 = the SDK default (1 s); tests shorten it */
};

struct collect_summary {
    size_t calls; /* manifest entries */
    size_t ok;
    size_t not_found;
    size_t denied;
    size_t errors;
    size_t resumed; /* taken from the earlier run (--resume) */
    size_t http_attempts;
    size_t http_retries;
    int complete;
};

/* Runs a collection. Returns 0 when the snapshot is complete (individual calls may still be
 * denied or failed: see the summary and the manifest), 1 when it was interrupted (the manifest
 * says complete: false; `--resume` finishes it), or a negative DDB_E* when no snapshot could be
 * written (no credentials, the account cannot be identified, bad options). */
int collect_run(const struct collect_options *options, struct collect_summary *summary,
                struct diagnostics *d);

/* Stops a running collection soon (async-signal-safe; for SIGINT/SIGTERM handlers). */
void collect_interrupt(void);

#endif
