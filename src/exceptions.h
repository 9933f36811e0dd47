/* Risk acceptances (exceptions.yaml): a signed-off decision to live with a finding until a date.
 * Loading validates; applying is the evaluator's job (evaluate.c). */
#ifndef DDBAUDIT_EXCEPTIONS_H
#define DDBAUDIT_EXCEPTIONS_H

#include <stddef.h>

#include "digest.h"

struct diagnostics;
struct catalog;

struct exception {
    char *control;
    char *resource; /* ARN glob (fnmatch) */
    char *ticket_id;
    char *ticket_url;
    char *approved_by;
    char *reason;
    char *expires; /* YYYY-MM-DD, inclusive */
    long expires_day;
    int line, col; /* of the entry, for messages */
    int control_line, control_col;
    size_t matched; /* findings it matched in this run */
};

struct exception_set {
    char *file;
    char sha256[DIGEST_SHA256_HEX_LEN + 1];
    struct exception *items;
    size_t count;
};

/* Loads and validates; unknown controls are checked against the catalog when given. */
int exceptions_load(struct exception_set **out, const char *path, const struct catalog *catalog,
                    struct diagnostics *d);
void exceptions_free(struct exception_set *set);

#endif
