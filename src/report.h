/* Writing a run's results: the packet directory (atomically) or a ticket excerpt on stdout. */
#ifndef DDBAUDIT_REPORT_H
#define DDBAUDIT_REPORT_H

struct results;
struct evidence_snapshot;
struct report_inputs;
struct diagnostics;

struct report_output {
    const char *out_dir;   /* default output/<snapshot> */
    const char *formats;   /* comma list; NULL = every packet format */
    const char *templates; /* user template dir, or NULL */
    const char *control;   /* ticket excerpts: the control */
    const char *resource;  /* ticket excerpts: one resource */
};

int report_write(const struct results *results, const struct evidence_snapshot *snapshot,
                 const struct report_inputs *inputs, const struct report_output *out,
                 struct diagnostics *d);

#endif
