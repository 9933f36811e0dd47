/* Activity in the period: turns CloudTrail events (from cloudtrail.c) into the findings auditors
 * ask about: DynamoDB control-plane changes, IAM policy writes that grant DynamoDB actions, KMS
 * key usage and administration, transport and network facts, AccessDenied counts. The result is
 * a deterministic JSON value (sorted, no clock) for report.json's "activity" section; every
 * event in it links to the file, hash and byte offset it was read from. */
#ifndef DDBAUDIT_ACTIVITY_H
#define DDBAUDIT_ACTIVITY_H

#include <jansson.h>

#include "cloudtrail.h"

struct diagnostics;

struct activity_options {
    const char *period_start;    /* "YYYY-MM-DD", inclusive, UTC; NULL = no lower bound */
    const char *period_end;      /* "YYYY-MM-DD", inclusive, UTC; NULL = no upper bound */
    const char *const *kms_keys; /* key ARNs (or key ids) whose usage is reported; none = all */
    size_t kms_key_count;
    int kms_keys_only; /* with no kms_keys: report no key's usage (an account whose tables use
                          no KMS key of their own has none to watch), instead of every key's */
};

struct activity;

/* Creates an empty accumulator. The options' strings are copied. */
int activity_new(struct activity **out, const struct activity_options *options,
                 struct diagnostics *d);
void activity_free(struct activity *activity);

/* Files the event (borrowed; not kept) under every finding it belongs to. Events outside the
 * period are counted, not kept. Returns 0 or DDB_ERUNTIME (out of memory). */
int activity_add(struct activity *activity, json_t *event, const struct cloudtrail_source *source);

/* Whether the event's eventTime falls in the period (events without a time do only when no
 * period was given). */
int activity_in_period(const struct activity *activity, json_t *event);

/* For cloudtrail_options.detail: whole records for the events a finding cites (DynamoDB
 * control plane, IAM policy writes, KMS key administration), parameters for KMS key usage
 * (which key, which table), a summary for the rest, which only feed counts. */
enum cloudtrail_detail activity_detail(const char *event_source, const char *event_name);

/* A cloudtrail_event_fn: `ctx` is the struct activity. */
int activity_on_event(void *ctx, json_t *event, const struct cloudtrail_source *source);

/* Builds the "activity" JSON (new reference, caller decrefs; NULL on out of memory). `scan`
 * supplies the file paths and hashes that sources link to; it may be NULL (sources then carry
 * only file_index). Arrays are sorted, so the same inputs always give the same bytes when
 * dumped with JSON_SORT_KEYS. */
json_t *activity_to_json(const struct activity *activity, const struct cloudtrail_scan *scan);

/* True when `date` is "YYYY-MM-DD" (used to check --period). */
int activity_valid_date(const char *date);

/* Whether the IAM policy document (JSON text, possibly URL-encoded as IAM events carry it)
 * allows any dynamodb action; the matching Action patterns are appended to `actions` (a JSON
 * array, may be NULL). Returns 1 grants, 0 does not, -1 the document cannot be read. */
int activity_policy_grants_dynamodb(const char *document, json_t *actions);

#endif
