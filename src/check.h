/* The interface between the evaluator and the checks (checks_*.c): a check reads the evidence
 * snapshot and adds findings to one control's result. Checks never do I/O and never apply risk
 * acceptances (the evaluator does, after). Fail closed: any evidence a check needs that is
 * missing, denied or failed gives a Review finding naming the call, never a Pass. */
#ifndef DDBAUDIT_CHECK_H
#define DDBAUDIT_CHECK_H

#include <jansson.h>

#include "evidence.h"
#include "results.h"

struct control;
struct attestation_set;

struct check_memo; /* values computed once per evaluation and shared by checks (check.c) */

struct check_context {
    const struct control *control;
    const struct evidence_snapshot *evidence;
    const struct attestation_set *attestations;
    const char *as_of; /* YYYY-MM-DD */
    struct control_result *result;
    const struct results *results; /* controls evaluated before this one (derived checks) */
    struct check_memo *memo;       /* owned by the evaluator; NULL means no caching */
    /* CloudTrail activity of the period (report.json's "activity", docs/cloudtrail.md), or NULL
     * with activity_absent saying why; both NULL: activity is not part of this evaluation
     * (checks_activity.h). */
    json_t *activity;
    const char *activity_absent;
};

/* What a catalog parameter must hold; `controls lint` refuses anything else, so a misspelt name
 * or value is an error instead of a silent fall back to the check's default. */
enum check_param_type {
    CHECK_PARAM_COUNT,     /* a whole number, 0 or more (days, events) */
    CHECK_PARAM_STRING,    /* a non-empty string */
    CHECK_PARAM_STRINGS,   /* a list of strings (may be empty) */
    CHECK_PARAM_STATUS,    /* pass, review or remediate */
    CHECK_PARAM_KEY_LEVEL, /* aws_owned, aws_managed or customer_managed */
    CHECK_PARAM_NAMES,     /* a mapping of names to strings */
};

struct check_param_spec {
    const char *name;
    enum check_param_type type;
};

struct check {
    const char *name; /* as written in the catalog's rule.check */
    int (*run)(struct check_context *ctx);
    int derived; /* runs after every non-derived check */
    /* Only live evidence can decide it (CloudTrail activity, attestations, IAM analysis): with
     * evidence from templates the control is not_applicable and says so (docs/templates.md). */
    int needs_live;
    const struct check_param_spec *params; /* what the catalog may set; ends with {NULL} */
};

/* The access matrix (principal x table x action group) from the identity checks' shared
 * analysis, for report.json's "access"; NULL without IAM authorization details. */
json_t *identity_access_matrix(struct check_context *ctx);

/* NULL if no check has that name. */
const struct check *check_find(const char *name);
extern const struct check check_registry[]; /* terminated by {NULL} */

/* ---- helpers for check authors (check.c) ---- */

/* Returns the value memoised under `key` for this evaluation, building it with build(ctx) on
 * first use; destroy frees it when the evaluation ends. For work several checks or many
 * resources share: an index of a large list, a policy analysis. Returns NULL only if build does.
 * Keys are plain strings the caller chooses, e.g. "backup:eu-west-1". */
void *check_memo(struct check_context *ctx, const char *key,
                 void *(*build)(struct check_context *ctx, const char *key),
                 void (*destroy)(void *value));
struct check_memo *check_memo_new(void);
void check_memo_free(struct check_memo *memo);

/* The call's entry if its outcome is OK or NOT_FOUND. Otherwise adds a Review finding for
 * `resource` saying which call is missing, denied or failed and why, and returns NULL. */
const struct evidence_call *check_require(struct check_context *ctx, const char *resource,
                                          const char *region, const char *service,
                                          const char *operation, const char *key);

/* Cites `pointer` (RFC 6901) of the call's file in the finding: {file, sha256, pointer, value}.
 * For a NOT_FOUND call, cites the manifest entry's outcome instead. A missing value cites null. */
void check_cite(struct check_context *ctx, struct finding *finding,
                const struct evidence_call *call, const char *pointer);
/* Cites a value the check computed from a pointer it names (e.g. an array element it found). */
void check_cite_value(struct check_context *ctx, struct finding *finding,
                      const struct evidence_call *call, const char *pointer, json_t *value);

/* The JSON value at an RFC 6901 pointer, or NULL. */
json_t *json_pointer_get(json_t *root, const char *pointer);
/* Escapes one pointer segment (~ → ~0, / → ~1) into a fresh string. */
char *json_pointer_segment(const char *segment);

/* A catalog parameter (NULL if absent). */
json_t *check_param(const struct check_context *ctx, const char *name);
const char *check_param_string(const struct check_context *ctx, const char *name,
                               const char *fallback);
long long check_param_int(const struct check_context *ctx, const char *name, long long fallback);

/* The tables in scope: every table of every region's ListTables (a region whose ListTables is
 * missing gets a Review finding), filtered by the control's applies_to.tags. */
struct table_ref {
    const char *region;
    const char *name;
    char arn[512];
    const struct evidence_call *list_tables; /* the ListTables call it came from */
    size_t list_index;                       /* its index in TableNames */
};
typedef int (*table_visitor)(struct check_context *ctx, const struct table_ref *table);
int check_each_table(struct check_context *ctx, table_visitor visit);

/* Splits a KMS key ARN (arn:aws:kms:eu-west-1:111122223333:key/<id>) into its region and key
 * id. Returns 0, or -1 when it is not a key ARN (an alias ARN, say). */
int check_kms_key_ref(const char *arn, char *region, size_t region_size, char *key_id,
                      size_t key_size);

/* Resource ARN helpers. */
void check_table_arn(const struct check_context *ctx, const char *region, const char *table,
                     char *out, size_t size);
void check_account_scope(const struct check_context *ctx, char *out, size_t size);
void check_region_scope(const struct check_context *ctx, const char *region, char *out,
                        size_t size);

/* Tag value on a table (from ListTagsOfResource), or NULL; *known is 0 when tags weren't
 * collected. */
const char *check_table_tag(const struct check_context *ctx, const char *region, const char *table,
                            const char *key, int *known);

#endif
