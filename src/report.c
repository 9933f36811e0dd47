/* Hands evaluated results to the writers: report.json serialisation happens once here, and the
 * packet writer or the ticket renderer take it from there. Decides nothing about statuses. */
#include "report.h"
#include "buf.h"
#include "diag.h"
#include "evidence.h"
#include "fsutil.h"
#include "results.h"
#include "sarif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes dir/name atomically from a JSON tree (2-space indent, trailing newline). */
static int write_json(const char *dir, const char *name, json_t *json, struct diagnostics *d)
{
    char *text = json_dumps(json, JSON_INDENT(2));
    if (!text)
        return diag_error(d, DDB_ERUNTIME, "out of memory serialising %s", name);
    struct buf b;
    buf_init(&b, 0);
    int error = buf_puts(&b, text) < 0 || buf_putc(&b, '\n') < 0
                    ? diag_error(d, DDB_ERUNTIME, "out of memory")
                    : 0;
    free(text);
    char *path = fs_join(dir, name);
    if (!error)
        error = fs_write_atomic(path, b.data, b.len, d);
    free(path);
    buf_free(&b);
    return error;
}

int report_write(const struct results *results, const struct evidence_snapshot *snapshot,
                 const struct report_inputs *inputs, const struct report_output *out,
                 struct diagnostics *d)
{
    json_t *report = results_to_json(results, snapshot, inputs);
    char *default_dir = NULL, *tmp = NULL, *old = NULL;
    int error = 0;
    const char *dir = out->out_dir;
    if (!dir) {
        default_dir = fs_join("output", snapshot->name);
        dir = default_dir;
    }
    /* Build the whole packet beside its final place, then swap it in: a reader never sees a
     * half-written packet, and a failed run leaves the previous one intact. */
    size_t n = strlen(dir) + 32;
    tmp = malloc(n);
    old = malloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", dir, (long)getpid());
    snprintf(old, n, "%s.old.%ld", dir, (long)getpid());
    char *parent = strdup(dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        error = fs_mkdirs(parent, d);
    }
    free(parent);
    if (error < 0 || (error = fs_remove_tree(tmp, d)) < 0 || (error = fs_mkdirs(tmp, d)) < 0)
        goto done;
    if ((error = write_json(tmp, "report.json", report, d)) < 0)
        goto cleanup;
    if (sarif_requested(out->formats) &&
        (error = sarif_write_file(tmp, report, NULL, NULL, d)) < 0)
        goto cleanup;
    if (fs_exists(dir) && rename(dir, old) < 0) {
        error = diag_error_at(d, DDB_ERUNTIME, dir, 0, 0, 0, "cannot replace: %s", strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, dir) < 0) {
        error = diag_error_at(d, DDB_ERUNTIME, dir, 0, 0, 0, "cannot move the packet in: %s",
                              strerror(errno));
        rename(old, dir);
        goto cleanup;
    }
    fs_remove_tree(old, d);
    goto done;
cleanup:
    fs_remove_tree(tmp, d);
done:
    json_decref(report);
    free(default_dir);
    free(tmp);
    free(old);
    return error;
}
