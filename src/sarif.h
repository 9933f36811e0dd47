/* SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/) from report.json, so code hosts
 * show template findings inline on the lines that cause them (docs/templates.md). Like every
 * output format it reads the report and decides nothing. */
#ifndef DDBAUDIT_SARIF_H
#define DDBAUDIT_SARIF_H

#include <jansson.h>

struct buf;
struct diagnostics;

#define SARIF_FILE_NAME "report.sarif"

/* One run: tool.driver.rules are the report's controls (id, name, shortDescription, helpUri =
 * first reference), results are its remediate (level error) and review (level warning)
 * findings, each located at the evidence's file:line:col when the evidence has one (template
 * evidence always does). Absolute paths under `base_dir` (may be NULL) are made relative to it,
 * as code hosts expect repository-relative URIs. Appends deterministic JSON (fixed key order,
 * report order) and a newline to `out`. `report` is not modified. */
int sarif_write(struct buf *out, json_t *report, const char *base_dir, struct diagnostics *d);

#endif
