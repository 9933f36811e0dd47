/* The machinery the per-service collectors (collect_*.c) share: one logical AWS call (all its
 * pages) submitted to the HTTP engine, turned into what the CLI prints, written to the snapshot
 * with its manifest entry, and then handed to a continuation that may start dependent calls.
 * Private to the collect stage. */
#ifndef DDBAUDIT_COLLECT_CALL_H
#define DDBAUDIT_COLLECT_CALL_H

#include <jansson.h>
#include <time.h>

struct collector;

/* Called once per call when it finished. `result` is what the CLI would print (borrowed) when
 * the call succeeded, NULL when it was denied, not found or failed; `error_code` is then the AWS
 * error code ("" for transport failures), else NULL. */
typedef void (*collect_continuation)(struct collector *c, const char *region, const char *key,
                                     json_t *result, const char *error_code, void *user);

/* Starts service/operation in `region` (the evidence region; IAM and STS calls pass "global")
 * with `parameters` (a JSON object, stolen; NULL = none), recorded under `key` (NULL for
 * region-wide calls). Duplicate submissions of the same call are ignored. */
void collect_call(struct collector *c, const char *service, const char *operation,
                  const char *region, const char *key, json_t *parameters,
                  collect_continuation then, void *user);

/* The same, started after delay_ms (polling, e.g. the IAM credential report). */
void collect_call_later(struct collector *c, const char *service, const char *operation,
                        const char *region, const char *key, json_t *parameters,
                        collect_continuation then, void *user, long delay_ms);

/* The same, but sends `wire_parameters` (stolen) while the manifest records `parameters`: for
 * calls whose record says more than the request (LookupEvents' requested period) or whose wire
 * form differs from the CLI's (timestamps as epoch seconds). */
void collect_call_wire(struct collector *c, const char *service, const char *operation,
                       const char *region, const char *key, json_t *parameters,
                       json_t *wire_parameters, collect_continuation then, void *user);

/* Records a call that is not made because it cannot answer (e.g. a period older than the API
 * keeps), as outcome error with `error_code` and `message`. Takes parameters. */
void collect_call_refused(struct collector *c, const char *service, const char *operation,
                          const char *region, const char *key, json_t *parameters,
                          const char *error_code, const char *message);

/* The region that global services (IAM, STS) are reached through. */
const char *collect_home_region(const struct collector *c);

/* Per-service entry points, started once the account is known. */
void collect_dynamodb_region(struct collector *c, const char *region);
void collect_network_region(struct collector *c, const char *region);
void collect_logging_region(struct collector *c, const char *region);
void collect_resilience_region(struct collector *c, const char *region);
void collect_iam_global(struct collector *c);
/* LookupEvents for the period's days (YYYY-MM-DD, both included), per event source. */
void collect_cloudtrail_region(struct collector *c, const char *region, const char *period_start,
                               const char *period_end, time_t collected_at);

#endif
