/* The control catalog: the controls/ directory of YAML files, one YAML document per control
 * (docs/controls.md). Loading is linting: every problem is reported at file:line:col, all of them,
 * not just the first. The catalog is read-only once loaded. */
#ifndef DDBAUDIT_CATALOG_H
#define DDBAUDIT_CATALOG_H

#include <jansson.h>
#include <stddef.h>

#include "digest.h"
#include "results.h"

struct diagnostics;

struct control_source {
    char *seed;  /* "004" or "000" */
    char *table; /* matrix | security-need | best-practices */
    int row;
    char *text;
};

struct reference {
    char *title;
    char *url;
};

struct control {
    char *id;
    char *title;
    char *objective;
    enum status vendor_status;
    char *vendor_notes; /* Markdown */
    struct control_source *sources;
    size_t source_count;
    struct reference *references;
    size_t reference_count;
    char **evidence; /* "service:Operation" */
    size_t evidence_count;
    char *applies_to;        /* account | region | table | key | vpc | trail | dax-cluster */
    json_t *applies_to_tags; /* object: tag key → list of values, or NULL */
    json_t *params;          /* object, never NULL */
    char *check;
    char *rule_description;
    char *file; /* where it was defined, for messages */
    int line;
};

struct catalog {
    struct control *controls; /* sorted by id */
    size_t count;
    char digest[DIGEST_SHA256_HEX_LEN + 1]; /* over file names and contents, in name order */
};

/* Loads every *.yaml / *.yml file in dir. Returns DDB_EINPUT with every problem recorded. */
int catalog_load(struct catalog **out, const char *dir, struct diagnostics *d);
void catalog_free(struct catalog *catalog);
const struct control *catalog_find(const struct catalog *catalog, const char *id);

/* Operations a control may name in `evidence` (NULL-terminated "service:Operation"). */
extern const char *const catalog_operations[];

#endif
