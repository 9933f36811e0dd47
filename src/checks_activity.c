/* CloudTrail activity in the period, judged for DDB-05, 08, 11, 16, 17 and 22 (checks_activity.h).
 * Reads only the activity JSON that activity_sources.c built before evaluation: no I/O, no
 * clock. Text from log files (principals, event names, table names) is hostile: it is shortened
 * before it goes into a reason and escaped by the renderers like everything else. */
#include "checks_activity.h"
#include "buf.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

/* Pass findings cite the files read; a quarter of a busy trail is thousands of them, and the
 * report's activity.sources lists every one, so a finding cites the first few. */
#define CITED_FILES_MAX 20
/* Characters of a log-supplied string quoted in a reason. */
#define QUOTE_MAX 200

/* Cutting a log-supplied string at QUOTE_MAX bytes can split a UTF-8 sequence, and a reason
 * that is not UTF-8 cannot go into report.json: the pieces of a split sequence become '?'. */
static void repair_utf8(char *text)
{
    unsigned char *p = (unsigned char *)text;
    while (*p) {
        size_t need = *p < 0x80             ? 0
                      : (*p & 0xE0) == 0xC0 ? 1
                      : (*p & 0xF0) == 0xE0 ? 2
                      : (*p & 0xF8) == 0xF0 ? 3
                                            : (size_t)-1;
        size_t have = 0;
        while (need != (size_t)-1 && have < need && (p[1 + have] & 0xC0) == 0x80)
            have++;
        if (need == (size_t)-1 || have < need) {
            for (size_t k = 0; k <= (need == (size_t)-1 ? 0 : have); k++)
                p[k] = '?';
            p += need == (size_t)-1 ? 1 : have + 1;
        } else {
            p += need + 1;
        }
    }
}

/* Repairs the reasons of the findings added since `first`. */
static void repair_reasons(struct check_context *ctx, size_t first)
{
    for (size_t i = first; i < ctx->result->finding_count; i++)
        repair_utf8(ctx->result->findings[i].reason);
}

static const char *text_of(json_t *object, const char *key, const char *fallback)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value && *value ? value : fallback;
}

static long long count_of(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    return json_is_integer(value) ? (long long)json_integer_value(value) : 0;
}

static void activity_scope(const struct check_context *ctx, const char *what, char *out,
                           size_t size)
{
    snprintf(out, size, "arn:%s:cloudtrail::%s:activity/%s", ctx->evidence->partition,
             ctx->evidence->account, what);
}

static enum status status_param(const struct check_context *ctx, const char *name,
                                enum status fallback)
{
    enum status status;
    const char *value = check_param_string(ctx, name, NULL);
    return value && status_parse(value, &status) == 0 ? status : fallback;
}

/* 1 when activity can be judged; 0 when it cannot (a Review finding says why, unless activity
 * is not part of this evaluation at all). */
static int available(struct check_context *ctx)
{
    if (ctx->activity)
        return 1;
    if (ctx->activity_absent) {
        char scope[256];
        activity_scope(ctx, "provided", scope, sizeof(scope));
        struct finding *f =
            result_add_finding(ctx->result, scope, STATUS_REVIEW, "%s", ctx->activity_absent);
        if (f)
            f->evidence_gap = 1;
    }
    return 0;
}

/* The JSON pointer of a record inside its file, from the file's shape and the record's place. */
static void record_pointer(json_t *file, json_t *link, char *out, size_t size)
{
    const char *shape = text_of(file, "shape", "");
    long long page = count_of(link, "page"), index = count_of(link, "index");
    if (page == 0 && !strcmp(shape, "records"))
        snprintf(out, size, "/Records/%lld", index);
    else if (page == 0 && !strcmp(shape, "lookup-events"))
        snprintf(out, size, "/Events/%lld", index);
    else if (page == 0 && !strcmp(shape, "array"))
        snprintf(out, size, "/%lld", index);
    else
        out[0] = '\0'; /* one record per line, or several pages: the offset finds it */
}

/* Cites one event (an event entry's "source" or a group's "example"): file, SHA-256, the
 * record's pointer and byte offset, and what it was. */
static void cite_event(struct check_context *ctx, struct finding *finding, json_t *link,
                       const char *what)
{
    if (!finding || !link)
        return;
    json_t *file = json_array_get(json_object_get(ctx->activity, "sources"),
                                  (size_t)count_of(link, "file_index"));
    char pointer[64];
    record_pointer(file, link, pointer, sizeof(pointer));
    json_t *entry =
        json_pack("{s:s, s:s?, s:s, s:s, s:I, s:I, s:I, s:s}", "file", text_of(link, "file", "?"),
                  "sha256", json_string_value(json_object_get(link, "sha256")), "pointer", pointer,
                  "value", what, "offset", (json_int_t)count_of(link, "offset"), "page",
                  (json_int_t)count_of(link, "page"), "index", (json_int_t)count_of(link, "index"),
                  "origin", text_of(file, "origin", "cloudtrail_dir"));
    if (!entry) /* a value that is not UTF-8 cannot come from jansson-parsed logs; be safe */
        entry = json_pack("{s:s, s:s?, s:s, s:s}", "file", text_of(link, "file", "?"), "sha256",
                          json_string_value(json_object_get(link, "sha256")), "pointer", pointer,
                          "value", "(event)");
    json_array_append_new(finding->evidence, entry);
}

/* Cites the files the activity was read from (a Pass rests on all of them). */
static void cite_sources(struct check_context *ctx, struct finding *finding)
{
    json_t *sources = json_object_get(ctx->activity, "sources");
    size_t i, n = json_array_size(sources);
    json_t *file;
    if (!finding)
        return;
    json_array_foreach(sources, i, file)
    {
        if (i == CITED_FILES_MAX)
            break;
        if (!json_is_string(json_object_get(file, "sha256")))
            continue; /* unreadable: nothing to cite (DDB-16 names it) */
        char value[160];
        snprintf(value, sizeof(value), "%s, %lld records read, %lld kept",
                 text_of(file, "status", "?"), count_of(file, "records"), count_of(file, "kept"));
        json_array_append_new(
            finding->evidence,
            json_pack("{s:s, s:s?, s:s, s:s, s:s}", "file", text_of(file, "file", "?"), "sha256",
                      json_string_value(json_object_get(file, "sha256")), "pointer", "", "value",
                      value, "origin", text_of(file, "origin", "cloudtrail_dir")));
    }
    if (n > CITED_FILES_MAX)
        result_add_note(ctx->result,
                        "%zu CloudTrail files were read; findings cite the first %d, and "
                        "report.json's activity.sources lists them all",
                        n, CITED_FILES_MAX);
}

/* "2026-08-14T10:22:01Z UpdateContinuousBackups by <principal>" for a citation's value. */
static void describe_event(json_t *event, char *out, size_t size)
{
    snprintf(out, size, "%.40s %.80s by %.*s",
             text_of(event, "time", text_of(event, "first_time", "(no time)")),
             text_of(event, "event_name", text_of(event, "operation", "?")), QUOTE_MAX,
             text_of(event, "principal_arn", "unknown"));
    repair_utf8(out);
}

static const char *period_text(const struct check_context *ctx, char *out, size_t size)
{
    json_t *period = json_object_get(ctx->activity, "period");
    snprintf(out, size, "%s..%s", text_of(period, "start", "?"), text_of(period, "end", "?"));
    return out;
}

/* A principal ARN as a finding's resource (so a risk acceptance can name it). */
static const char *principal_resource(json_t *group)
{
    return text_of(group, "principal_arn", "unknown");
}

/* ---------------------------------------------------------------- DDB-05 */

static int judge_transport_findings(struct check_context *ctx)
{
    if (!available(ctx))
        return 0;
    char scope[256], period[64];
    activity_scope(ctx, "tls", scope, sizeof(scope));
    period_text(ctx, period, sizeof(period));
    json_t *transport = json_object_get(ctx->activity, "transport");
    enum status weak_status = status_param(ctx, "below_tls_1_2_status", STATUS_REMEDIATE);
    size_t weak = 0, i;
    json_t *group;
    json_array_foreach(json_object_get(transport, "below_tls_1_2"), i, group)
    {
        if (strcmp(text_of(group, "event_source", ""), "dynamodb.amazonaws.com"))
            continue;
        weak++;
        long long n = count_of(group, "count");
        struct finding *f = result_add_finding(
            ctx->result, principal_resource(group), weak_status,
            "%lld DynamoDB %.80s call%s by %.*s used %.20s, below TLS 1.2 (%s to %s)", n,
            text_of(group, "operation", "?"), n == 1 ? "" : "s", QUOTE_MAX,
            text_of(group, "principal_arn", "unknown"), text_of(group, "tls_version", "?"),
            text_of(group, "first_time", "?"), text_of(group, "last_time", "?"));
        char what[512];
        describe_event(group, what, sizeof(what));
        cite_event(ctx, f, json_object_get(group, "example"), what);
    }
    if (weak)
        return 0;
    long long calls = count_of(
        json_object_get(json_object_get(transport, "network"), "dynamodb.amazonaws.com"), "calls");
    json_t *versions = json_object_get(transport, "tls_versions");
    long long without = count_of(versions, "not recorded"), with = 0;
    const char *version;
    json_t *value;
    json_object_foreach(versions, version, value)
    {
        if (strcmp(version, "not recorded"))
            with += json_integer_value(value);
    }
    struct finding *f;
    if (calls == 0)
        f = result_add_finding(ctx->result, scope, STATUS_REVIEW,
                               "no DynamoDB call was recorded in %s, so CloudTrail cannot show "
                               "which TLS versions clients use",
                               period);
    else if (with == 0)
        f = result_add_finding(ctx->result, scope, STATUS_REVIEW,
                               "none of the %lld calls recorded in %s carries tlsDetails, so "
                               "CloudTrail cannot show which TLS versions clients use",
                               without, period);
    else
        f = result_add_finding(ctx->result, scope, STATUS_PASS,
                               "no DynamoDB call in %s used a TLS version below 1.2 (%lld calls "
                               "with tlsDetails%s)",
                               period, with, without ? ", others without" : "");
    if (without && with)
        result_add_note(ctx->result,
                        "%lld recorded calls carry no tlsDetails (CloudTrail leaves it out for "
                        "some calls and older records); their TLS version is unknown",
                        without);
    cite_sources(ctx, f);
    return 0;
}

/* ---------------------------------------------------------------- DDB-08, DDB-11 */

static int judge_network_findings(struct check_context *ctx)
{
    if (!available(ctx))
        return 0;
    char scope[256], period[64];
    activity_scope(ctx, "network", scope, sizeof(scope));
    period_text(ctx, period, sizeof(period));
    json_t *transport = json_object_get(ctx->activity, "transport");
    enum status outside_status = status_param(ctx, "outside_vpc_endpoint_status", STATUS_REVIEW);
    size_t outside = 0, i;
    json_t *group;
    json_array_foreach(json_object_get(transport, "not_via_vpc_endpoint"), i, group)
    {
        if (strcmp(text_of(group, "event_source", ""), "dynamodb.amazonaws.com"))
            continue;
        outside++;
        long long n = count_of(group, "count");
        struct finding *f = result_add_finding(
            ctx->result, principal_resource(group), outside_status,
            "%lld DynamoDB %.80s call%s by %.*s did not come through a VPC endpoint (%s to %s)", n,
            text_of(group, "operation", "?"), n == 1 ? "" : "s", QUOTE_MAX,
            text_of(group, "principal_arn", "unknown"), text_of(group, "first_time", "?"),
            text_of(group, "last_time", "?"));
        char what[512];
        describe_event(group, what, sizeof(what));
        cite_event(ctx, f, json_object_get(group, "example"), what);
    }
    if (outside)
        return 0;
    json_t *totals =
        json_object_get(json_object_get(transport, "network"), "dynamodb.amazonaws.com");
    long long calls = count_of(totals, "calls");
    struct finding *f;
    if (calls == 0)
        f = result_add_finding(ctx->result, scope, STATUS_REVIEW,
                               "no DynamoDB call was recorded in %s, so CloudTrail cannot show "
                               "the network path clients use",
                               period);
    else
        f = result_add_finding(ctx->result, scope, STATUS_PASS,
                               "every DynamoDB call recorded in %s came through a VPC endpoint "
                               "(%lld) or from an AWS service on a caller's behalf (%lld)",
                               period, count_of(totals, "via_vpc_endpoint"),
                               count_of(totals, "by_aws_service"));
    cite_sources(ctx, f);
    return 0;
}

/* ---------------------------------------------------------------- DDB-16 */

/* The LookupEvents answer for one event source in one region (the manifest holds at most one
 * per source and region); 0 when there is none. */
static int lookup_covers(json_t *lookups, const char *region, const char *source, json_t **entry)
{
    size_t i;
    json_t *lookup;
    *entry = NULL;
    json_array_foreach(lookups, i, lookup)
    {
        if (!strcmp(text_of(lookup, "region", ""), region) &&
            !strcmp(text_of(lookup, "event_source", ""), source)) {
            *entry = lookup;
            return 1;
        }
    }
    return 0;
}

/* The SHA-256 the activity's sources record for a file, or NULL. */
static const char *source_sha256(const struct check_context *ctx, const char *file)
{
    size_t i;
    json_t *source;
    json_array_foreach(json_object_get(ctx->activity, "sources"), i, source)
    {
        if (file && !strcmp(text_of(source, "file", ""), file))
            return json_string_value(json_object_get(source, "sha256"));
    }
    return NULL;
}

/* Log file integrity (--cloudtrail-public-keys): a digest whose signature is invalid or whose
 * chain is broken, or a log file changed or deleted after delivery, is Remediate (the record was
 * tampered with or lost); a digest that cannot be verified, or a log file no digest lists, is
 * Review. Returns how many findings it added. Without a check, a note says so. */
static size_t judge_integrity(struct check_context *ctx, size_t delivered)
{
    json_t *integrity = json_object_get(ctx->activity, "integrity");
    if (!integrity) {
        if (delivered)
            result_add_note(ctx->result, "the log files' digests were not validated (give "
                                         "--cloudtrail-public-keys with --cloudtrail-dir)");
        return 0;
    }
    char scope[512], what[64];
    size_t found = 0, i;
    json_t *item;
    json_array_foreach(json_object_get(integrity, "digests"), i, item)
    {
        const char *signature = text_of(item, "signature", "unavailable");
        const char *chain = text_of(item, "chain", "broken");
        if (!strcmp(signature, "valid") && strcmp(chain, "broken"))
            continue;
        int tampered = !strcmp(signature, "invalid") || !strcmp(chain, "broken");
        snprintf(what, sizeof(what), "digest/%zu", i);
        activity_scope(ctx, what, scope, sizeof(scope));
        result_add_finding(ctx->result, scope, tampered ? STATUS_REMEDIATE : STATUS_REVIEW,
                           "CloudTrail digest %.*s: signature %s, chain %s%s", QUOTE_MAX,
                           text_of(item, "file", "?"), signature, chain,
                           tampered ? ": the log it vouches for may have been altered"
                                    : ": the log files it lists cannot be trusted yet");
        found++;
    }
    json_array_foreach(json_object_get(integrity, "log_files"), i, item)
    {
        const char *status = text_of(item, "status", "missing");
        if (!strcmp(status, "valid"))
            continue;
        int lost = !strcmp(status, "changed") || !strcmp(status, "missing");
        snprintf(what, sizeof(what), "log-integrity/%zu", i);
        activity_scope(ctx, what, scope, sizeof(scope));
        const char *file = text_of(item, "file", NULL);
        struct finding *f = result_add_finding(
            ctx->result, scope, lost ? STATUS_REMEDIATE : STATUS_REVIEW,
            "CloudTrail log file %.*s is %s%s", QUOTE_MAX,
            file ? file : text_of(item, "s3_object", "?"), status,
            !strcmp(status, "changed")   ? ": its content is not what the digest recorded"
            : !strcmp(status, "missing") ? ": a digest lists it but it is not in the copy"
                                         : ": no digest lists it, so it cannot be verified");
        const char *sha256 = source_sha256(ctx, file);
        if (f && sha256)
            json_array_append_new(f->evidence, json_pack("{s:s, s:s, s:s, s:s, s:s}", "file", file,
                                                         "sha256", sha256, "pointer", "", "value",
                                                         status, "origin", "cloudtrail_dir"));
        found++;
    }
    return found;
}

static int judge_log_coverage_findings(struct check_context *ctx)
{
    if (!available(ctx))
        return 0;
    char scope[512], period[64];
    period_text(ctx, period, sizeof(period));
    json_t *period_json = json_object_get(ctx->activity, "period");
    const char *start = text_of(period_json, "start", ""), *end = text_of(period_json, "end", "");
    size_t problems = 0, delivered = 0, i;
    json_t *file;
    /* Damaged inputs: events in them may be missing. */
    json_array_foreach(json_object_get(ctx->activity, "sources"), i, file)
    {
        const char *status = text_of(file, "status", "unreadable");
        int from_dir = !strcmp(text_of(file, "origin", ""), "cloudtrail_dir");
        delivered += from_dir && strcmp(status, "unreadable");
        if (!strcmp(status, "ok"))
            continue;
        problems++;
        char what[64];
        snprintf(what, sizeof(what), "log-file/%zu", i);
        activity_scope(ctx, what, scope, sizeof(scope));
        struct finding *f = result_add_finding(
            ctx->result, scope, STATUS_REVIEW,
            "CloudTrail file %.*s is %s: %lld of its records could not be read%s, so events of "
            "the period may be missing",
            QUOTE_MAX, text_of(file, "file", "?"), status, count_of(file, "skipped"),
            !strcmp(status, "truncated") ? " and it ends early" : "");
        /* An unreadable file has no hash to cite; the reason names it. */
        if (f)
            f->evidence_gap = 1;
        if (f && json_is_string(json_object_get(file, "sha256"))) {
            char value[64];
            snprintf(value, sizeof(value), "%s", status);
            json_array_append_new(
                f->evidence,
                json_pack("{s:s, s:s?, s:s, s:s, s:s}", "file", text_of(file, "file", "?"),
                          "sha256", json_string_value(json_object_get(file, "sha256")), "pointer",
                          "", "value", value, "origin", text_of(file, "origin", "cloudtrail_dir")));
        }
    }
    problems += judge_integrity(ctx, delivered);
    /* Coverage of the period, region by region. Delivered log files are taken to be the trail's
     * for the whole period (their days are not counted); LookupEvents answers are measured. */
    json_t *lookups = json_object_get(ctx->activity, "lookup_events");
    for (size_t r = 0; !delivered && r < ctx->evidence->region_count; r++) {
        const char *region = ctx->evidence->regions[r];
        json_t *lookup;
        char what[128];
        snprintf(what, sizeof(what), "coverage/%s", region);
        activity_scope(ctx, what, scope, sizeof(scope));
        if (!lookup_covers(lookups, region, "dynamodb.amazonaws.com", &lookup)) {
            struct finding *f = result_add_finding(
                ctx->result, scope, STATUS_REVIEW,
                "no CloudTrail record of %s covers %s: the snapshot has no LookupEvents answer for "
                "dynamodb.amazonaws.com there and no --cloudtrail-dir was given",
                region, period);
            if (f)
                f->evidence_gap = 1;
            problems++;
            continue;
        }
        const char *outcome = text_of(lookup, "outcome", "?");
        json_t *covered = json_object_get(lookup, "covered");
        const char *from = text_of(covered, "start", ""), *to = text_of(covered, "end", "");
        if (strcmp(outcome, "ok")) {
            struct finding *f = result_add_finding(
                ctx->result, scope, STATUS_REVIEW,
                "LookupEvents for dynamodb.amazonaws.com in %s was %s (%.100s): events of %s are "
                "not known",
                region, outcome, text_of(lookup, "error_code", "no code"), period);
            if (f)
                f->evidence_gap = 1;
            problems++;
        } else if (!*from || strcmp(from, start) > 0 || strcmp(to, end) < 0) {
            struct finding *f = result_add_finding(
                ctx->result, scope, STATUS_REVIEW,
                "LookupEvents in %s covers %s..%s%s, not the whole period %s (it reaches only %d "
                "days back): give --cloudtrail-dir with the trail's log files",
                region, *from ? from : "?", *to ? to : "?",
                json_is_true(json_object_get(lookup, "covered_inferred"))
                    ? " (from the collection date)"
                    : "",
                period, 90);
            if (f) {
                f->evidence_gap = 1;
                json_array_append_new(f->evidence,
                                      json_pack("{s:s, s:s, s:s, s:o}", "file",
                                                text_of(lookup, "file", "?"), "sha256",
                                                text_of(lookup, "sha256", ""), "pointer", "",
                                                "value", json_deep_copy(covered)));
            }
            problems++;
        }
    }
    if (problems)
        return 0;
    activity_scope(ctx, "coverage", scope, sizeof(scope));
    struct finding *f = result_add_finding(
        ctx->result, scope, STATUS_PASS,
        "CloudTrail activity covers %s: %zu file%s read whole (%s)", period,
        json_array_size(json_object_get(ctx->activity, "sources")),
        json_array_size(json_object_get(ctx->activity, "sources")) == 1 ? "" : "s",
        delivered ? "delivered log files" : "LookupEvents answers for every region");
    if (delivered)
        result_add_note(ctx->result, "delivered log files are taken to cover the whole period in "
                                     "every region; the days they hold are not counted");
    cite_sources(ctx, f);
    return 0;
}

/* ---------------------------------------------------------------- DDB-17 */

static int has_concern(json_t *event, const char *concern)
{
    size_t i;
    json_t *value;
    json_array_foreach(json_object_get(event, "concerns"), i, value)
    {
        if (json_is_string(value) && !strcmp(json_string_value(value), concern))
            return 1;
    }
    return 0;
}

/* Whether the catalog's watched list names this concern (or the event's name). */
static const char *watched_concern(const struct check_context *ctx, json_t *event)
{
    json_t *watched = check_param(ctx, "activity_concerns");
    size_t i;
    json_t *value;
    json_array_foreach(watched, i, value)
    {
        const char *concern = json_string_value(value);
        if (!concern)
            continue;
        if (has_concern(event, concern) ||
            (!strcmp(concern, "table_created") &&
             !strcmp(text_of(event, "event_name", ""), "CreateTable")))
            return concern;
    }
    return NULL;
}

static void table_resource(const struct check_context *ctx, json_t *event, char *out, size_t size)
{
    const char *table = text_of(event, "table", "unknown");
    if (!strncmp(table, "arn:", 4))
        snprintf(out, size, "%s", table);
    else
        snprintf(out, size, "arn:%s:dynamodb:%.40s:%s:table/%.255s", ctx->evidence->partition,
                 text_of(event, "region", "unknown"), ctx->evidence->account, table);
}

static void policy_resource(const struct check_context *ctx, json_t *event, char *out, size_t size)
{
    const char *name = text_of(event, "event_name", "");
    const char *kind = strstr(name, "Role")    ? "role"
                       : strstr(name, "User")  ? "user"
                       : strstr(name, "Group") ? "group"
                                               : NULL;
    const char *target = text_of(event, "attached_to", NULL);
    if (kind && target)
        snprintf(out, size, "arn:%s:iam::%s:%s/%.255s", ctx->evidence->partition,
                 ctx->evidence->account, kind, target);
    else
        snprintf(out, size, "%.400s", text_of(event, "policy_arn", "unknown"));
}

static int judge_changes_findings(struct check_context *ctx)
{
    if (!available(ctx))
        return 0;
    char resource[512], period[64], what[512];
    period_text(ctx, period, sizeof(period));
    enum status status = status_param(ctx, "activity_status", STATUS_REVIEW);
    size_t found = 0, i;
    json_t *event;
    json_array_foreach(json_object_get(ctx->activity, "dynamodb_control_plane"), i, event)
    {
        const char *concern = watched_concern(ctx, event);
        if (!concern || json_string_value(json_object_get(event, "error_code")))
            continue; /* failed attempts change nothing; DDB-22 counts denied ones */
        found++;
        table_resource(ctx, event, resource, sizeof(resource));
        struct finding *f = result_add_finding(
            ctx->result, resource, status,
            "%.80s (%s) by %.*s at %.40s: confirm it raised an alert and was handled",
            text_of(event, "event_name", "?"), concern, QUOTE_MAX,
            text_of(event, "principal_arn", "unknown"), text_of(event, "time", "?"));
        describe_event(event, what, sizeof(what));
        cite_event(ctx, f, json_object_get(event, "source"), what);
    }
    json_array_foreach(json_object_get(ctx->activity, "iam_policy_changes"), i, event)
    {
        if (json_string_value(json_object_get(event, "error_code")))
            continue;
        found++;
        policy_resource(ctx, event, resource, sizeof(resource));
        int grants = !strcmp(text_of(event, "status", ""), "grants_dynamodb");
        struct buf actions;
        buf_init(&actions, 4096);
        size_t k;
        json_t *action;
        json_array_foreach(json_object_get(event, "dynamodb_actions"), k, action)
        {
            if (k < 5 && json_is_string(action))
                buf_printf(&actions, "%s%.60s", k ? ", " : "", json_string_value(action));
        }
        struct finding *f = result_add_finding(
            ctx->result, resource, status,
            "%.80s by %.*s at %.40s %s%s%s: confirm it raised an alert and was approved",
            text_of(event, "event_name", "?"), QUOTE_MAX,
            text_of(event, "principal_arn", "unknown"), text_of(event, "time", "?"),
            grants ? "grants DynamoDB actions ("
                   : "may widen DynamoDB access (the policy is not "
                     "in the event",
            grants ? buf_cstr(&actions) : "", ")");
        buf_free(&actions);
        describe_event(event, what, sizeof(what));
        cite_event(ctx, f, json_object_get(event, "source"), what);
    }
    json_array_foreach(json_object_get(json_object_get(ctx->activity, "kms"), "key_administration"),
                       i, event)
    {
        if (!json_is_true(json_object_get(event, "watched_key")) ||
            json_string_value(json_object_get(event, "error_code")))
            continue;
        found++;
        snprintf(resource, sizeof(resource), "%.400s", text_of(event, "key", "unknown"));
        struct finding *f = result_add_finding(
            ctx->result, resource, status,
            "%.80s on a key a table uses, by %.*s at %.40s: confirm it raised an alert and was "
            "handled",
            text_of(event, "event_name", "?"), QUOTE_MAX,
            text_of(event, "principal_arn", "unknown"), text_of(event, "time", "?"));
        describe_event(event, what, sizeof(what));
        cite_event(ctx, f, json_object_get(event, "source"), what);
    }
    if (found)
        return 0;
    activity_scope(ctx, "changes", resource, sizeof(resource));
    struct finding *f = result_add_finding(
        ctx->result, resource, STATUS_PASS,
        "no monitored change in %s: %zu DynamoDB control-plane events, no IAM policy write "
        "touching DynamoDB, no administration of the tables' keys",
        period, json_array_size(json_object_get(ctx->activity, "dynamodb_control_plane")));
    cite_sources(ctx, f);
    return 0;
}

/* ---------------------------------------------------------------- DDB-22 */

static int judge_access_findings(struct check_context *ctx)
{
    if (!available(ctx))
        return 0;
    char resource[512], period[64], what[512];
    period_text(ctx, period, sizeof(period));
    long long threshold = check_param_int(ctx, "access_denied_threshold", 10);
    enum status status = status_param(ctx, "activity_status", STATUS_REVIEW);
    size_t found = 0, quiet = 0, i;
    json_t *group;
    json_array_foreach(json_object_get(ctx->activity, "access_denied"), i, group)
    {
        const char *source = text_of(group, "event_source", "");
        if (strcmp(source, "dynamodb.amazonaws.com") && strcmp(source, "kms.amazonaws.com"))
            continue;
        long long n = count_of(group, "count");
        if (n < threshold) {
            quiet++;
            continue;
        }
        found++;
        struct finding *f = result_add_finding(
            ctx->result, principal_resource(group), status,
            "%lld %.60s on %.80s for %.*s (%s to %s), at or above %lld: confirm who tried and why",
            n, text_of(group, "error_code", "AccessDenied"), text_of(group, "operation", "?"),
            QUOTE_MAX, text_of(group, "principal_arn", "unknown"),
            text_of(group, "first_time", "?"), text_of(group, "last_time", "?"), threshold);
        describe_event(group, what, sizeof(what));
        cite_event(ctx, f, json_object_get(group, "example"), what);
    }
    json_array_foreach(json_object_get(json_object_get(ctx->activity, "kms"), "key_usage"), i,
                       group)
    {
        if (strcmp(text_of(group, "via_service", ""), "direct") ||
            json_string_value(json_object_get(group, "error_code")))
            continue;
        found++;
        snprintf(resource, sizeof(resource), "%.400s", text_of(group, "key", "unknown"));
        long long n = count_of(group, "count");
        struct finding *f = result_add_finding(
            ctx->result, resource, status,
            "%lld direct %.60s call%s by %.*s on a key a table uses, not through DynamoDB (%s to "
            "%s): confirm the use is intended",
            n, text_of(group, "operation", "?"), n == 1 ? "" : "s", QUOTE_MAX,
            text_of(group, "principal_arn", "unknown"), text_of(group, "first_time", "?"),
            text_of(group, "last_time", "?"));
        describe_event(group, what, sizeof(what));
        cite_event(ctx, f, json_object_get(group, "example"), what);
    }
    if (quiet)
        result_add_note(ctx->result,
                        "%zu principal and operation pairs were denied fewer than %lld times in "
                        "%s (report.json activity.access_denied lists them)",
                        quiet, threshold, period);
    if (found)
        return 0;
    activity_scope(ctx, "access", resource, sizeof(resource));
    struct finding *f = result_add_finding(
        ctx->result, resource, STATUS_PASS,
        "no principal was denied DynamoDB or KMS access %lld times or more in %s, and no table "
        "key was used outside DynamoDB",
        threshold, period);
    cite_sources(ctx, f);
    return 0;
}

int activity_check_transport(struct check_context *ctx)
{
    size_t first = ctx->result->finding_count;
    int rc = judge_transport_findings(ctx);
    repair_reasons(ctx, first);
    return rc;
}

int activity_check_network(struct check_context *ctx)
{
    size_t first = ctx->result->finding_count;
    int rc = judge_network_findings(ctx);
    repair_reasons(ctx, first);
    return rc;
}

int activity_check_log_coverage(struct check_context *ctx)
{
    size_t first = ctx->result->finding_count;
    int rc = judge_log_coverage_findings(ctx);
    repair_reasons(ctx, first);
    return rc;
}

int activity_check_changes(struct check_context *ctx)
{
    size_t first = ctx->result->finding_count;
    int rc = judge_changes_findings(ctx);
    repair_reasons(ctx, first);
    return rc;
}

int activity_check_access(struct check_context *ctx)
{
    size_t first = ctx->result->finding_count;
    int rc = judge_access_findings(ctx);
    repair_reasons(ctx, first);
    return rc;
}
