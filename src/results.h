/* The results model: per control, a status, a reason and findings per resource, each citing the
 * evidence it rests on. results.c turns it into report.json (docs/report-format.md), the one
 * interface between evaluation and rendering. */
#ifndef DDBAUDIT_RESULTS_H
#define DDBAUDIT_RESULTS_H

#include <jansson.h>
#include <stddef.h>

struct control;
struct catalog;
struct evidence_snapshot;
struct diagnostics;

enum status {
    STATUS_PASS,
    STATUS_REVIEW,
    STATUS_REMEDIATE,
    STATUS_ACCEPTED,       /* an unexpired risk acceptance covers it */
    STATUS_NOT_APPLICABLE, /* nothing in scope */
};
#define STATUS_COUNT 5

const char *status_name(enum status status); /* "pass", "review", ... */
int status_parse(const char *name, enum status *out);
/* Severity order for "worst of": not_applicable < pass < accepted < review < remediate. */
enum status status_worst(enum status a, enum status b);

struct finding {
    char *resource; /* an ARN, or "arn:aws:::account/111122223333"-style scope for account-wide */
    enum status status;
    enum status original_status; /* the status before a risk acceptance (== status if none) */
    char *reason;
    json_t *evidence;    /* array of {file, sha256, pointer, value}; never empty for a Pass */
    json_t *exception;   /* the risk acceptance applied or expired, else NULL */
    json_t *attestation; /* the attestation relied on, else NULL */
    int evidence_gap;    /* made by check_require: missing evidence, which no acceptance covers */
};

struct control_result {
    const struct control *control;
    enum status status;
    char *reason;
    struct finding *findings;
    size_t finding_count;
    size_t finding_capacity;
    json_t *notes; /* array of strings: what the analysis could not see */
};

struct results {
    struct control_result *controls; /* catalog order */
    size_t count;
    json_t *exceptions_unmatched; /* acceptances that matched no finding */
    json_t *activity;             /* CloudTrail activity section, or NULL */
    json_t *access;               /* principal x table access matrix (policy.c), or NULL */
};

struct results *results_new(size_t control_count);
void results_free(struct results *results);
struct control_result *results_find(const struct results *results, const char *control_id);

/* Adds a finding (reason formatted) and returns it, owned by the result. */
struct finding *result_add_finding(struct control_result *result, const char *resource,
                                   enum status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void result_add_note(struct control_result *result, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Inputs that identify a run, recorded in report.json. */
struct report_inputs {
    const char *as_of;          /* YYYY-MM-DD */
    const char *catalog_digest; /* sha256 hex */
    size_t catalog_controls;
    const char *exceptions_file;
    const char *exceptions_sha256;
    const char *attestations_file;
    const char *attestations_sha256;
};

/* report.json as a JSON tree (a new reference). Deterministic: fixed key order, findings sorted
 * by resource, no clock. */
json_t *results_to_json(const struct results *results, const struct evidence_snapshot *snapshot,
                        const struct report_inputs *inputs);

#define REPORT_SCHEMA_ID "https://ddbaudit.invalid/schema/report-1.json"
#define REPORT_SCHEMA_VERSION 1

#endif
