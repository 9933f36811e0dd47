/* Logging checks: auditing with CloudTrail (DDB-16), alerting on destructive and
 * permission-widening changes (DDB-17), and data-plane monitoring per table (DDB-22). */
#include "check.h"
#include "checks_activity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- trails */

struct trail {
    json_t *description;                   /* from DescribeTrails */
    const struct evidence_call *trails;    /* the DescribeTrails call */
    size_t index;                          /* in trailList */
    const struct evidence_call *status;    /* GetTrailStatus in the home region */
    const struct evidence_call *selectors; /* GetEventSelectors in the home region */
};

/* Says once per control that some trails were not judged. More than `max` unique trails cannot
 * occur under CloudTrail's quota (5 per region), but a snapshot is input: if it lists more, the
 * report must not read as if every trail had been looked at. Leaving a trail out can only hide a
 * trail that would have helped, never make a Pass. */
static void note_trails_not_judged(struct check_context *ctx, size_t dropped, size_t max)
{
    char text[256];
    snprintf(text, sizeof(text),
             "%zu trail%s beyond the first %zu in the snapshot's DescribeTrails answers were not "
             "judged",
             dropped, dropped == 1 ? "" : "s", max);
    size_t i;
    json_t *note;
    json_array_foreach(ctx->result->notes, i, note)
    {
        if (json_is_string(note) && !strcmp(json_string_value(note), text))
            return;
    }
    result_add_note(ctx->result, "%s", text);
}

/* Unique trails across every region's DescribeTrails (shadow copies of a multi-region trail
 * appear in each region), in ARN order. Missing DescribeTrails adds a Review per region. */
static size_t collect_trails(struct check_context *ctx, struct trail *out, size_t max,
                             int require_calls)
{
    const struct evidence_snapshot *s = ctx->evidence;
    size_t count = 0, dropped = 0;
    for (size_t r = 0; r < s->region_count; r++) {
        char scope[256];
        check_region_scope(ctx, s->regions[r], scope, sizeof(scope));
        const struct evidence_call *call =
            require_calls
                ? check_require(ctx, scope, s->regions[r], "cloudtrail", "DescribeTrails", NULL)
                : evidence_find(s, s->regions[r], "cloudtrail", "DescribeTrails", NULL);
        if (!call || call->outcome != EVIDENCE_OK)
            continue;
        size_t i;
        json_t *trail;
        json_array_foreach(json_object_get(call->document, "trailList"), i, trail)
        {
            const char *arn = json_string_value(json_object_get(trail, "TrailARN"));
            const char *home = json_string_value(json_object_get(trail, "HomeRegion"));
            const char *name = json_string_value(json_object_get(trail, "Name"));
            if (!arn || !home || !name)
                continue;
            int seen = 0;
            for (size_t k = 0; k < count && !seen; k++)
                seen = !strcmp(json_string_value(json_object_get(out[k].description, "TrailARN")),
                               arn);
            if (seen)
                continue;
            if (count == max) {
                dropped++;
                continue;
            }
            /* Prefer the description from the home region's own answer. */
            out[count] = (struct trail){
                trail, call, i, evidence_find(s, home, "cloudtrail", "GetTrailStatus", name),
                evidence_find(s, home, "cloudtrail", "GetEventSelectors", name)};
            count++;
        }
    }
    if (dropped)
        note_trails_not_judged(ctx, dropped, max);
    return count;
}

static const char *trail_string(const struct trail *t, const char *key)
{
    return json_string_value(json_object_get(t->description, key));
}

/* Whether a field selector of an advanced event selector accepts `value`. */
static int string_matches(json_t *patterns, const char *value,
                          int (*match)(const char *value, const char *pattern))
{
    size_t i;
    json_t *v;
    json_array_foreach(patterns, i, v)
    {
        if (json_is_string(v) && match(value, json_string_value(v)))
            return 1;
    }
    return 0;
}

static int equals(const char *value, const char *pattern)
{
    return !strcmp(value, pattern);
}

static int starts_with(const char *value, const char *pattern)
{
    return !strncmp(value, pattern, strlen(pattern));
}

static int ends_with(const char *value, const char *pattern)
{
    size_t n = strlen(value), m = strlen(pattern);
    return n >= m && !strcmp(value + n - m, pattern);
}

/* Every operator an AdvancedFieldSelector has: Equals, StartsWith, EndsWith include;
 * NotEquals, NotStartsWith, NotEndsWith exclude. */
static int field_accepts(json_t *selector, const char *value)
{
    json_t *eq = json_object_get(selector, "Equals");
    json_t *starts = json_object_get(selector, "StartsWith");
    json_t *ends = json_object_get(selector, "EndsWith");
    if ((eq || starts || ends) && !string_matches(eq, value, equals) &&
        !string_matches(starts, value, starts_with) && !string_matches(ends, value, ends_with))
        return 0;
    return !string_matches(json_object_get(selector, "NotEquals"), value, equals) &&
           !string_matches(json_object_get(selector, "NotStartsWith"), value, starts_with) &&
           !string_matches(json_object_get(selector, "NotEndsWith"), value, ends_with);
}

/* Looks through an advanced selector's field selectors for `field` and asks it about value;
 * a selector that doesn't mention the field accepts everything. */
static int advanced_accepts(json_t *selector, const char *field, const char *value)
{
    size_t i;
    json_t *fs;
    json_array_foreach(json_object_get(selector, "FieldSelectors"), i, fs)
    {
        const char *name = json_string_value(json_object_get(fs, "Field"));
        if (name && !strcmp(name, field) && !field_accepts(fs, value))
            return 0;
    }
    return 1;
}

static int advanced_mentions(json_t *selector, const char *field)
{
    size_t i;
    json_t *fs;
    json_array_foreach(json_object_get(selector, "FieldSelectors"), i, fs)
    {
        const char *name = json_string_value(json_object_get(fs, "Field"));
        if (name && !strcmp(name, field))
            return 1;
    }
    return 0;
}

/* Management events, read and write, KMS included. Sets *pointer to what it cites. */
static int logs_management_events(const struct trail *t, char *pointer, size_t size)
{
    json_t *doc = t->selectors->document;
    size_t i;
    json_t *sel;
    json_array_foreach(json_object_get(doc, "AdvancedEventSelectors"), i, sel)
    {
        if (advanced_mentions(sel, "eventCategory") &&
            advanced_accepts(sel, "eventCategory", "Management") &&
            !advanced_mentions(sel, "readOnly") &&
            advanced_accepts(sel, "eventSource", "kms.amazonaws.com")) {
            snprintf(pointer, size, "/AdvancedEventSelectors/%zu", i);
            return 1;
        }
    }
    json_array_foreach(json_object_get(doc, "EventSelectors"), i, sel)
    {
        const char *rw = json_string_value(json_object_get(sel, "ReadWriteType"));
        int excludes_kms = 0;
        size_t k;
        json_t *src;
        json_array_foreach(json_object_get(sel, "ExcludeManagementEventSources"), k, src)
            excludes_kms |=
            json_is_string(src) && !strcmp(json_string_value(src), "kms.amazonaws.com");
        if (json_is_true(json_object_get(sel, "IncludeManagementEvents")) && rw &&
            !strcmp(rw, "All") && !excludes_kms) {
            snprintf(pointer, size, "/EventSelectors/%zu", i);
            return 1;
        }
    }
    return 0;
}

/* Whether an advanced selector records only some item operations (read-only, write-only, or
 * chosen event names). */
static int advanced_partial(json_t *selector)
{
    /* Any field beyond the category, the resource type and the ARN narrows which calls are
     * recorded (readOnly, eventName, userIdentity.arn, eventType, ...). */
    size_t i;
    json_t *fs;
    json_array_foreach(json_object_get(selector, "FieldSelectors"), i, fs)
    {
        const char *name = json_string_value(json_object_get(fs, "Field"));
        if (!name || (strcmp(name, "eventCategory") && strcmp(name, "resources.type") &&
                      strcmp(name, "resources.ARN")))
            return 1;
    }
    return 0;
}

/* A single-region trail records only its home region's calls. */
static int trail_covers_region(const struct trail *t, const char *region)
{
    const char *home = json_string_value(json_object_get(t->description, "HomeRegion"));
    return json_is_true(json_object_get(t->description, "IsMultiRegionTrail")) ||
           (home && !strcmp(home, region));
}

/* Data events for a DynamoDB table ARN (NULL: for any table): 0 none, 1 every item operation,
 * 2 only some (read-only, write-only, or by event name). */
static int logs_table_data_events(const struct trail *t, const char *table_arn, char *pointer,
                                  size_t size)
{
    json_t *doc = t->selectors->document;
    size_t i;
    json_t *sel;
    json_array_foreach(json_object_get(doc, "AdvancedEventSelectors"), i, sel)
    {
        if (advanced_accepts(sel, "eventCategory", "Data") &&
            advanced_mentions(sel, "resources.type") &&
            advanced_accepts(sel, "resources.type", "AWS::DynamoDB::Table") &&
            (!table_arn || advanced_accepts(sel, "resources.ARN", table_arn))) {
            snprintf(pointer, size, "/AdvancedEventSelectors/%zu", i);
            return advanced_partial(sel) ? 2 : 1;
        }
    }
    json_array_foreach(json_object_get(doc, "EventSelectors"), i, sel)
    {
        size_t k;
        json_t *resource;
        json_array_foreach(json_object_get(sel, "DataResources"), k, resource)
        {
            const char *type = json_string_value(json_object_get(resource, "Type"));
            if (!type || strcmp(type, "AWS::DynamoDB::Table"))
                continue;
            size_t m;
            json_t *value;
            json_array_foreach(json_object_get(resource, "Values"), m, value)
            {
                const char *v = json_string_value(value);
                /* "arn:aws:dynamodb" selects every table; otherwise a table ARN. */
                if (v && (!table_arn || !strcmp(v, table_arn) ||
                          (strlen(v) <= 20 && !strncmp(table_arn, v, strlen(v))))) {
                    snprintf(pointer, size, "/EventSelectors/%zu/DataResources/%zu", i, k);
                    const char *rw = json_string_value(json_object_get(sel, "ReadWriteType"));
                    return rw && strcmp(rw, "All") ? 2 : 1;
                }
            }
        }
    }
    return 0;
}

#define MAX_TRAILS 256 /* CloudTrail allows 5 per region */

/* How many of the account's tables the trail's selectors record data events for. */
static void count_data_event_coverage(struct check_context *ctx, const struct trail *t,
                                      size_t *covered, size_t *tables)
{
    const struct evidence_snapshot *s = ctx->evidence;
    char pointer[96], arn[512];
    for (size_t r = 0; r < s->region_count; r++) {
        const struct evidence_call *list =
            evidence_find(s, s->regions[r], "dynamodb", "ListTables", NULL);
        if (!list || list->outcome != EVIDENCE_OK)
            continue;
        size_t i;
        json_t *name;
        json_array_foreach(json_object_get(list->document, "TableNames"), i, name)
        {
            if (!json_is_string(name))
                continue;
            check_table_arn(ctx, s->regions[r], json_string_value(name), arn, sizeof(arn));
            (*tables)++;
            if (trail_covers_region(t, s->regions[r]) &&
                logs_table_data_events(t, arn, pointer, sizeof(pointer)) == 1)
                (*covered)++;
        }
    }
}

int check_cloudtrail_auditing(struct check_context *ctx)
{
    int rc = activity_check_log_coverage(ctx);
    if (rc < 0)
        return rc;
    struct trail trails[MAX_TRAILS];
    size_t review_before = ctx->result->finding_count;
    size_t count = collect_trails(ctx, trails, MAX_TRAILS, 1);
    char scope[256];
    check_account_scope(ctx, scope, sizeof(scope));
    if (count == 0) {
        if (ctx->result->finding_count == review_before) {
            const struct evidence_call *any = NULL;
            for (size_t r = 0; r < ctx->evidence->region_count && !any; r++)
                any = evidence_find(ctx->evidence, ctx->evidence->regions[r], "cloudtrail",
                                    "DescribeTrails", NULL);
            struct finding *f = result_add_finding(ctx->result, scope, STATUS_REMEDIATE,
                                                   "no CloudTrail trail is configured");
            check_cite(ctx, f, any, "/trailList");
        }
        return 0;
    }
    /* Judge every trail; the account passes when one trail does everything. */
    int best = -1, best_gaps = 1 << 30, best_unknown = 0;
    char best_reason[1024] = "";
    for (size_t i = 0; i < count; i++) {
        const struct trail *t = &trails[i];
        char gaps[1024] = "";
        size_t used = 0;
        int n_gaps = 0, unknown = 0;
#define GAP(text)                                                                                  \
    do {                                                                                           \
        int n_ = snprintf(gaps + used, sizeof(gaps) - used, "%s%s", n_gaps ? "; " : "", text);     \
        if (n_ > 0 && (size_t)n_ < sizeof(gaps) - used)                                            \
            used += (size_t)n_;                                                                    \
        n_gaps++;                                                                                  \
    } while (0)
        if (!json_is_true(json_object_get(t->description, "IsMultiRegionTrail")))
            GAP("not multi-region");
        if (!json_is_true(json_object_get(t->description, "IncludeGlobalServiceEvents")))
            GAP("global service events (IAM) excluded");
        if (!json_is_true(json_object_get(t->description, "LogFileValidationEnabled")))
            GAP("log file validation off");
        if (!trail_string(t, "KmsKeyId"))
            GAP("logs not encrypted with a KMS key");
        if (!t->status || t->status->outcome != EVIDENCE_OK)
            unknown = 1;
        else if (!json_is_true(json_object_get(t->status->document, "IsLogging")))
            GAP("not logging");
        char pointer[96];
        if (!t->selectors || t->selectors->outcome != EVIDENCE_OK) {
            unknown = 1;
        } else {
            if (!logs_management_events(t, pointer, sizeof(pointer)))
                GAP("management events (read and write, including KMS) not all recorded");
            if (!logs_table_data_events(t, NULL, pointer, sizeof(pointer)))
                GAP("no DynamoDB data events");
        }
#undef GAP
        /* Unknown parts (status or selectors not collected) rank after a clean trail and
         * before one with known gaps; such a trail can never pass. */
        int score = n_gaps * 2 + unknown;
        if (score < best_gaps) {
            best = (int)i;
            best_gaps = score;
            best_unknown = unknown && !n_gaps;
            snprintf(best_reason, sizeof(best_reason), "%s", gaps);
        }
    }
    const struct trail *t = &trails[best];
    const char *arn = trail_string(t, "TrailARN");
    struct finding *f;
    size_t covered = 0, tables = 0;
    if (best_unknown) {
        /* Fail closed: name the calls that are missing. */
        const char *home = trail_string(t, "HomeRegion");
        if (!t->status || t->status->outcome != EVIDENCE_OK)
            check_require(ctx, arn, home, "cloudtrail", "GetTrailStatus", trail_string(t, "Name"));
        if (!t->selectors || t->selectors->outcome != EVIDENCE_OK)
            check_require(ctx, arn, home, "cloudtrail", "GetEventSelectors",
                          trail_string(t, "Name"));
        return 0;
    }
    if (best_gaps == 0)
        count_data_event_coverage(ctx, t, &covered, &tables);
    if (best_gaps == 0 && covered == tables)
        f = result_add_finding(ctx->result, arn, STATUS_PASS,
                               "trail %s is multi-region, logging, validated, KMS-encrypted, and "
                               "records management events and data events for every table",
                               trail_string(t, "Name"));
    else if (best_gaps == 0)
        f = result_add_finding(ctx->result, arn, STATUS_REVIEW,
                               "trail %s meets every requirement but records DynamoDB data events "
                               "for %zu of %zu tables (DDB-22 lists them)",
                               trail_string(t, "Name"), covered, tables);
    else
        f = result_add_finding(ctx->result, arn, STATUS_REMEDIATE, "best trail %s: %s",
                               trail_string(t, "Name"), best_reason);
    char pointer[96];
    snprintf(pointer, sizeof(pointer), "/trailList/%zu/IsMultiRegionTrail", t->index);
    check_cite(ctx, f, t->trails, pointer);
    snprintf(pointer, sizeof(pointer), "/trailList/%zu/LogFileValidationEnabled", t->index);
    check_cite(ctx, f, t->trails, pointer);
    snprintf(pointer, sizeof(pointer), "/trailList/%zu/KmsKeyId", t->index);
    check_cite(ctx, f, t->trails, pointer);
    if (t->status && t->status->outcome == EVIDENCE_OK)
        check_cite(ctx, f, t->status, "/IsLogging");
    if (t->selectors && t->selectors->outcome == EVIDENCE_OK) {
        if (logs_management_events(t, pointer, sizeof(pointer)))
            check_cite(ctx, f, t->selectors, pointer);
        if (logs_table_data_events(t, NULL, pointer, sizeof(pointer)))
            check_cite(ctx, f, t->selectors, pointer);
    }
    return 0;
}

/* ---------------------------------------------------------------- DDB-22 */

static int visit_data_plane(struct check_context *ctx, const struct table_ref *table)
{
    struct trail trails[MAX_TRAILS];
    size_t count = collect_trails(ctx, trails, MAX_TRAILS, 0);
    char pointer[96];
    for (size_t i = 0; i < count; i++) {
        const struct trail *t = &trails[i];
        if (!trail_covers_region(t, table->region) || !t->selectors ||
            t->selectors->outcome != EVIDENCE_OK || !t->status ||
            t->status->outcome != EVIDENCE_OK ||
            !json_is_true(json_object_get(t->status->document, "IsLogging")))
            continue;
        int coverage = logs_table_data_events(t, table->arn, pointer, sizeof(pointer));
        if (coverage == 1) {
            struct finding *f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                                                   "trail %s records data events for the table",
                                                   trail_string(t, "Name"));
            check_cite(ctx, f, t->selectors, pointer);
            check_cite(ctx, f, t->status, "/IsLogging");
            return 0;
        }
        if (coverage == 2) {
            struct finding *f = result_add_finding(
                ctx->result, table->arn, STATUS_REVIEW,
                "trail %s records only some data events for the table (read-only, write-only or "
                "chosen operations)",
                trail_string(t, "Name"));
            check_cite(ctx, f, t->selectors, pointer);
            return 0;
        }
    }
    const struct evidence_call *describe =
        check_require(ctx, table->arn, table->region, "dynamodb", "DescribeTable", table->name);
    if (!describe)
        return 0;
    json_t *stream =
        json_pointer_get(describe->document, "/Table/StreamSpecification/StreamEnabled");
    if (json_is_true(stream)) {
        struct finding *f = result_add_finding(
            ctx->result, table->arn, STATUS_PASS,
            "no trail records its data events, but a DynamoDB stream captures every item change");
        check_cite(ctx, f, describe, "/Table/StreamSpecification/StreamEnabled");
        return 0;
    }
    /* Fail closed: absence of coverage is proven only if every region's trail list and every
     * trail's status and selectors were read. */
    const struct evidence_snapshot *s = ctx->evidence;
    size_t gaps = 0;
    for (size_t r = 0; r < s->region_count; r++)
        gaps +=
            !check_require(ctx, table->arn, s->regions[r], "cloudtrail", "DescribeTrails", NULL);
    for (size_t i = 0; i < count; i++) {
        const char *home = json_string_value(json_object_get(trails[i].description, "HomeRegion"));
        const char *name = trail_string(&trails[i], "Name");
        if (!trails[i].status || trails[i].status->outcome != EVIDENCE_OK)
            gaps += !check_require(ctx, table->arn, home, "cloudtrail", "GetTrailStatus", name);
        if (!trails[i].selectors || trails[i].selectors->outcome != EVIDENCE_OK)
            gaps += !check_require(ctx, table->arn, home, "cloudtrail", "GetEventSelectors", name);
    }
    if (gaps)
        return 0;
    struct finding *f = result_add_finding(
        ctx->result, table->arn, STATUS_REMEDIATE,
        "no logging trail records data events for the table and it has no stream");
    check_cite(ctx, f, describe, "/Table/StreamSpecification");
    for (size_t i = 0; i < count; i++)
        check_cite(ctx, f, trails[i].selectors, "");
    return 0;
}

int check_data_plane_monitoring(struct check_context *ctx)
{
    int rc = activity_check_access(ctx);
    return rc < 0 ? rc : check_each_table(ctx, visit_data_plane);
}

/* ---------------------------------------------------------------- DDB-17 alerting */

/* IAM policy writes that can widen DynamoDB access (the seed's "more permissive" concern). */
static const char *const iam_policy_events[] = {
    "PutRolePolicy",       "PutUserPolicy",           "PutGroupPolicy",
    "CreatePolicyVersion", "AttachRolePolicy",        "AttachUserPolicy",
    "AttachGroupPolicy",   "SetDefaultPolicyVersion", NULL};

struct alert_source {
    char what[256];
    const struct evidence_call *call;
    char pointer[96];
};

/* Whether an event name appears as a whole word in a pattern text. */
static int mentions(const char *text, const char *event)
{
    size_t n = strlen(event);
    for (const char *p = text; (p = strstr(p, event)); p += n) {
        char before = p == text ? ' ' : p[-1];
        char after = p[n];
        int word_before = (before >= 'A' && before <= 'Z') || (before >= 'a' && before <= 'z');
        int word_after = (after >= 'A' && after <= 'Z') || (after >= 'a' && after <= 'z');
        if (!word_before && !word_after)
            return 1;
    }
    return 0;
}

/* Finds an alert that fires for `event`: a metric filter whose metric has an alarm with actions,
 * or an enabled EventBridge rule with targets. */
static int find_alert(struct check_context *ctx, const char *event, struct alert_source *out)
{
    const struct evidence_snapshot *s = ctx->evidence;
    for (size_t r = 0; r < s->region_count; r++) {
        const char *region = s->regions[r];
        const struct evidence_call *filters =
            evidence_find(s, region, "logs", "DescribeMetricFilters", NULL);
        const struct evidence_call *alarms =
            evidence_find(s, region, "cloudwatch", "DescribeAlarms", NULL);
        size_t i;
        json_t *filter;
        if (filters && filters->outcome == EVIDENCE_OK && alarms && alarms->outcome == EVIDENCE_OK)
            json_array_foreach(json_object_get(filters->document, "metricFilters"), i, filter)
            {
                const char *pattern = json_string_value(json_object_get(filter, "filterPattern"));
                if (!pattern || !mentions(pattern, event))
                    continue;
                size_t k;
                json_t *transform;
                json_array_foreach(json_object_get(filter, "metricTransformations"), k, transform)
                {
                    const char *metric =
                        json_string_value(json_object_get(transform, "metricName"));
                    const char *ns =
                        json_string_value(json_object_get(transform, "metricNamespace"));
                    size_t a;
                    json_t *alarm;
                    json_array_foreach(json_object_get(alarms->document, "MetricAlarms"), a, alarm)
                    {
                        const char *am = json_string_value(json_object_get(alarm, "MetricName"));
                        const char *an = json_string_value(json_object_get(alarm, "Namespace"));
                        if (metric && ns && am && an && !strcmp(metric, am) && !strcmp(ns, an) &&
                            json_is_true(json_object_get(alarm, "ActionsEnabled")) &&
                            json_array_size(json_object_get(alarm, "AlarmActions")) > 0) {
                            const char *alarm_name =
                                json_string_value(json_object_get(alarm, "AlarmName"));
                            const char *filter_name =
                                json_string_value(json_object_get(filter, "filterName"));
                            snprintf(out->what, sizeof(out->what), "alarm %s on metric filter %s",
                                     alarm_name ? alarm_name : "(unnamed)",
                                     filter_name ? filter_name : "(unnamed)");
                            out->call = filters;
                            snprintf(out->pointer, sizeof(out->pointer),
                                     "/metricFilters/%zu/filterPattern", i);
                            return 1;
                        }
                    }
                }
            }
        const struct evidence_call *rules = evidence_find(s, region, "events", "ListRules", NULL);
        json_t *rule;
        if (rules && rules->outcome == EVIDENCE_OK)
            json_array_foreach(json_object_get(rules->document, "Rules"), i, rule)
            {
                const char *pattern = json_string_value(json_object_get(rule, "EventPattern"));
                const char *state = json_string_value(json_object_get(rule, "State"));
                const char *name = json_string_value(json_object_get(rule, "Name"));
                if (!pattern || !name || !state || strcmp(state, "ENABLED") ||
                    !mentions(pattern, event))
                    continue;
                const struct evidence_call *targets =
                    evidence_find(s, region, "events", "ListTargetsByRule", name);
                if (!targets || targets->outcome != EVIDENCE_OK ||
                    json_array_size(json_object_get(targets->document, "Targets")) == 0)
                    continue;
                snprintf(out->what, sizeof(out->what), "EventBridge rule %s in %s", name, region);
                out->call = rules;
                snprintf(out->pointer, sizeof(out->pointer), "/Rules/%zu/EventPattern", i);
                return 1;
            }
    }
    return 0;
}

int check_alerting(struct check_context *ctx)
{
    int rc = activity_check_changes(ctx);
    if (rc < 0)
        return rc;
    const struct evidence_snapshot *s = ctx->evidence;
    char scope[256];
    check_account_scope(ctx, scope, sizeof(scope));
    /* Fail closed: every region's alerting configuration must have been read. */
    size_t before = ctx->result->finding_count;
    for (size_t r = 0; r < s->region_count; r++) {
        check_require(ctx, scope, s->regions[r], "logs", "DescribeMetricFilters", NULL);
        check_require(ctx, scope, s->regions[r], "cloudwatch", "DescribeAlarms", NULL);
        check_require(ctx, scope, s->regions[r], "events", "ListRules", NULL);
    }
    int incomplete = ctx->result->finding_count > before;
    json_t *events = check_param(ctx, "events");
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event)
    {
        const char *name = json_string_value(event);
        if (!name)
            continue;
        char resource[300];
        snprintf(resource, sizeof(resource), "%s/alert/%s", scope, name);
        if (!strcmp(name, "IAMPolicyChanges")) {
            char missing[512] = "";
            size_t used = 0;
            struct alert_source first = {0};
            int covered = 0, total = 0;
            for (const char *const *e = iam_policy_events; *e; e++) {
                struct alert_source source;
                total++;
                if (find_alert(ctx, *e, &source)) {
                    if (!covered++)
                        first = source;
                } else {
                    int n = snprintf(missing + used, sizeof(missing) - used, "%s%s",
                                     used ? ", " : "", *e);
                    if (n > 0 && (size_t)n < sizeof(missing) - used)
                        used += (size_t)n;
                }
            }
            struct finding *f;
            if (covered == total) {
                f = result_add_finding(ctx->result, resource, STATUS_PASS,
                                       "IAM policy changes raise an alert (%s)", first.what);
                check_cite(ctx, f, first.call, first.pointer);
            } else {
                f = result_add_finding(ctx->result, resource,
                                       incomplete ? STATUS_REVIEW : STATUS_REMEDIATE,
                                       "no alert fires for IAM policy changes: %s", missing);
            }
            continue;
        }
        struct alert_source source;
        if (find_alert(ctx, name, &source)) {
            struct finding *f =
                result_add_finding(ctx->result, resource, STATUS_PASS,
                                   "%s raises an alert through %s", name, source.what);
            check_cite(ctx, f, source.call, source.pointer);
        } else {
            result_add_finding(ctx->result, resource, incomplete ? STATUS_REVIEW : STATUS_REMEDIATE,
                               "no alarm or EventBridge rule with a target fires for %s", name);
        }
    }
    return 0;
}
