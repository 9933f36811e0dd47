/* The shape of report.json checked in C, field for field the same as
 * docs/schema/report.schema.json (Debian ships no JSON Schema library for C; the integration
 * tests run python3's jsonschema against the published schema as the independent check). */
#ifndef DDBAUDIT_REPORT_SCHEMA_H
#define DDBAUDIT_REPORT_SCHEMA_H

#include <jansson.h>

struct diagnostics;

#define REPORT_SCHEMA_MAX_ERRORS                                                                   \
    50 /* a broken report gets this many diagnostics, then one more                                \
        */

/* Checks required fields, types, statuses, SHA-256 and date formats, and that no object has a
 * field the schema does not name. Each problem is a diagnostic "file: /json/pointer: ..." (file
 * names the report for the user). Returns 0 or DDB_EINPUT. */
int report_schema_check(const json_t *report, const char *file, struct diagnostics *d);

#endif
