/* Hands evaluated results to the writers: report.json is built once here, then the packet writer
 * (packet.c) or the ticket excerpt takes it. Decides nothing about statuses and writes nothing
 * itself. */
#include "report.h"
#include "buf.h"
#include "diag.h"
#include "evidence.h"
#include "fsutil.h"
#include "packet.h"
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int report_write(const struct results *results, const struct evidence_snapshot *snapshot,
                 const struct report_inputs *inputs, const struct report_output *out,
                 struct diagnostics *d)
{
    json_t *report = results_to_json(results, snapshot, inputs);
    if (!report)
        return diag_error(d, DDB_ERUNTIME, "out of memory building report.json");
    char *default_dir = out->out_dir ? NULL : fs_join("output", snapshot->name);
    const char *dir = out->out_dir ? out->out_dir : default_dir;
    int error;
    if (out->formats && !strncmp(out->formats, "ticket-", 7)) {
        /* A ticket excerpt cites the packet of the same run when one has been written. */
        struct buf text;
        buf_init(&text, 0);
        error = packet_ticket(&text, report, out->control, out->resource, out->formats,
                              fs_exists(dir) ? dir : NULL, out->templates, d);
        if (!error)
            fwrite(text.data ? text.data : "", 1, text.len, stdout);
        buf_free(&text);
    } else {
        /* Evidence from templates (cfn_evidence.h) has no root and no manifest to copy. */
        char *manifest = snapshot->root ? fs_join(snapshot->root, "manifest.json") : NULL;
        error = packet_write(NULL, dir, report, manifest, out->formats, out->templates, d);
        free(manifest);
    }
    json_decref(report);
    free(default_dir);
    return error;
}
