/* Table checks: encryption at rest (DDB-04), replicas (DDB-18), point-in-time recovery (DDB-19),
 * backups and deletion protection (DDB-20), tags (DDB-21), capacity (DDB-23) and client-side
 * encryption (DDB-24). Each reads the per-table evidence and fails closed when it is missing;
 * ages are measured against the evaluation's as-of date, never the clock. */
#include "attestations.h"
#include "catalog.h"
#include "check.h"
#include "date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- encryption levels */

/* Weakest to strongest; see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
 * EncryptionAtRest.html for the three key types a table can use. */
enum key_level { KEY_AWS_OWNED, KEY_AWS_MANAGED, KEY_CUSTOMER_MANAGED, KEY_UNKNOWN };
static const char *const level_names[] = {"aws_owned", "aws_managed", "customer_managed"};
static const char *const level_words[] = {"an AWS owned key", "the AWS managed key",
                                          "a customer managed key", "an unknown key"};

static int level_parse(const char *name, enum key_level *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, level_names[i])) {
            *out = (enum key_level)i;
            return 0;
        }
    return -1;
}

/* Decides the key level of a table from DescribeTable (and kms DescribeKey when a KMS key is
 * named), citing both in `finding_evidence` by adding them to a scratch finding. Returns the
 * level, or KEY_UNKNOWN after adding a Review finding for `resource`. */
struct encryption {
    enum key_level level;
    const struct evidence_call *describe_table;
    const struct evidence_call *describe_key;
    const char *key_arn;
    const char *status; /* SSEDescription.Status, NULL when absent */
};

static int table_encryption(struct check_context *ctx, const char *region, const char *table,
                            const char *resource, struct encryption *out)
{
    memset(out, 0, sizeof(*out));
    out->level = KEY_UNKNOWN;
    out->describe_table = check_require(ctx, resource, region, "dynamodb", "DescribeTable", table);
    if (!out->describe_table)
        return -1;
    json_t *sse = json_pointer_get(out->describe_table->document, "/Table/SSEDescription");
    if (!sse) {
        /* No SSEDescription means the default: an AWS owned key. */
        out->level = KEY_AWS_OWNED;
        return 0;
    }
    out->status = json_string_value(json_object_get(sse, "Status"));
    out->key_arn = json_string_value(json_object_get(sse, "KMSMasterKeyArn"));
    /* DynamoDB marks a table whose key it can no longer use; the data is unreadable. */
    json_t *inaccessible = json_object_get(sse, "InaccessibleEncryptionDateTime");
    if (inaccessible) {
        struct finding *f = result_add_finding(
            ctx->result, resource, STATUS_REMEDIATE,
            "the table's KMS key has been inaccessible since %s",
            json_is_string(inaccessible) ? json_string_value(inaccessible) : "an unknown time");
        check_cite(ctx, f, out->describe_table,
                   "/Table/SSEDescription/InaccessibleEncryptionDateTime");
        return -1;
    }
    if (!out->status || strcmp(out->status, "ENABLED") || !out->key_arn) {
        struct finding *f = result_add_finding(ctx->result, resource, STATUS_REVIEW,
                                               "server-side encryption is %s%s",
                                               out->status ? out->status : "in an unknown state",
                                               out->key_arn ? "" : " with no KMS key named");
        check_cite(ctx, f, out->describe_table, "/Table/SSEDescription/Status");
        return -1;
    }
    char key_region[64], key_id[256];
    if (check_kms_key_ref(out->key_arn, key_region, sizeof(key_region), key_id, sizeof(key_id)) <
        0) {
        struct finding *f = result_add_finding(ctx->result, resource, STATUS_REVIEW,
                                               "cannot read the KMS key ARN '%s'", out->key_arn);
        check_cite(ctx, f, out->describe_table, "/Table/SSEDescription/KMSMasterKeyArn");
        return -1;
    }
    out->describe_key = check_require(ctx, resource, key_region, "kms", "DescribeKey", key_id);
    if (!out->describe_key)
        return -1;
    const char *manager =
        json_string_value(json_pointer_get(out->describe_key->document, "/KeyMetadata/KeyManager"));
    if (manager && !strcmp(manager, "CUSTOMER"))
        out->level = KEY_CUSTOMER_MANAGED;
    else if (manager && !strcmp(manager, "AWS"))
        out->level = KEY_AWS_MANAGED;
    else {
        struct finding *f = result_add_finding(ctx->result, resource, STATUS_REVIEW,
                                               "KMS key %s has no KeyManager", out->key_arn);
        check_cite(ctx, f, out->describe_key, "/KeyMetadata/KeyManager");
        return -1;
    }
    return 0;
}

static void cite_encryption(struct check_context *ctx, struct finding *f,
                            const struct encryption *e)
{
    if (e->level == KEY_AWS_OWNED) {
        check_cite(ctx, f, e->describe_table, "/Table/SSEDescription");
    } else {
        check_cite(ctx, f, e->describe_table, "/Table/SSEDescription/KMSMasterKeyArn");
        check_cite(ctx, f, e->describe_key, "/KeyMetadata/KeyManager");
    }
}

/* The level the control requires for this table: stricter for confidential data. Returns -1
 * (after a Review finding) when the decision needs tags that were not collected. */
static const char *param_string(json_t *params, const char *name, const char *fallback)
{
    json_t *value = json_object_get(params, name);
    return json_is_string(value) ? json_string_value(value) : fallback;
}

static int required_level(struct check_context *ctx, json_t *params, const char *region,
                          const char *table, const char *resource, enum key_level have,
                          enum key_level *out, int *confidential)
{
    enum key_level base = KEY_AWS_OWNED, strict = KEY_CUSTOMER_MANAGED;
    level_parse(param_string(params, "required_level", "aws_owned"), &base);
    level_parse(param_string(params, "confidential_level", "customer_managed"), &strict);
    const char *tag_key = param_string(params, "confidentiality_tag", "Confidentiality");
    int known = 0;
    const char *value = check_table_tag(ctx, region, table, tag_key, &known);
    *confidential = 0;
    if (!known && have < strict) {
        /* Without tags we cannot tell whether the stricter level applies. */
        check_require(ctx, resource, region, "dynamodb", "ListTagsOfResource", table);
        return -1;
    }
    json_t *values = json_object_get(params, "confidential_values");
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (value && json_is_string(v) && !strcmp(value, json_string_value(v)))
            *confidential = 1;
    }
    *out = *confidential && strict > base ? strict : base;
    return 0;
}

static int visit_encryption(struct check_context *ctx, const struct table_ref *table)
{
    struct encryption e;
    if (table_encryption(ctx, table->region, table->name, table->arn, &e) < 0)
        return 0;
    enum key_level need;
    int confidential = 0;
    if (required_level(ctx, ctx->control->params, table->region, table->name, table->arn, e.level,
                       &need, &confidential) < 0)
        return 0;
    const char *tag_key = check_param_string(ctx, "confidentiality_tag", "Confidentiality");
    struct finding *f;
    if (e.level >= need)
        f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                               "encrypted with %s; %s%s is required", level_words[e.level],
                               level_words[need], confidential ? " for confidential data" : "");
    else
        f = result_add_finding(ctx->result, table->arn, STATUS_REMEDIATE,
                               "encrypted with %s, but %s%s is required", level_words[e.level],
                               level_words[need],
                               confidential ? " for data tagged as confidential" : "");
    cite_encryption(ctx, f, &e);
    if (confidential) {
        const struct evidence_call *tags = evidence_find(ctx->evidence, table->region, "dynamodb",
                                                         "ListTagsOfResource", table->name);
        size_t i;
        json_t *tag;
        json_array_foreach(json_object_get(tags->document, "Tags"), i, tag)
        {
            const char *k = json_string_value(json_object_get(tag, "Key"));
            if (k && !strcmp(k, tag_key)) {
                char pointer[64];
                snprintf(pointer, sizeof(pointer), "/Tags/%zu/Value", i);
                check_cite(ctx, f, tags, pointer);
            }
        }
    }
    return 0;
}

int check_table_encryption_at_rest(struct check_context *ctx)
{
    return check_each_table(ctx, visit_encryption);
}

/* ---------------------------------------------------------------- DDB-18 replicas */

/* A replica must meet the encryption-at-rest rule (DDB-04's parameters), not a weaker one. */
static json_t *at_rest_params(struct check_context *ctx)
{
    const struct control_result *at_rest = results_find(ctx->results, "DDB-04");
    return at_rest ? at_rest->control->params : ctx->control->params;
}

static int visit_replicas(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *describe =
        check_require(ctx, table->arn, table->region, "dynamodb", "DescribeTable", table->name);
    if (!describe)
        return 0;
    json_t *replicas = json_pointer_get(describe->document, "/Table/Replicas");
    if (!json_is_array(replicas) || json_array_size(replicas) == 0)
        return 0; /* not a global table: out of scope */
    const char *version =
        json_string_value(json_pointer_get(describe->document, "/Table/GlobalTableVersion"));
    if (version && !strcmp(version, "2017.11.29")) {
        /* Legacy global tables describe their replicas elsewhere (DescribeGlobalTable). */
        struct finding *f = result_add_finding(
            ctx->result, table->arn, STATUS_REVIEW,
            "global table of the legacy version 2017.11.29: its replicas are not described here; "
            "upgrade to version 2019.11.21");
        check_cite(ctx, f, describe, "/Table/GlobalTableVersion");
        return 0;
    }
    size_t i;
    json_t *replica;
    json_array_foreach(replicas, i, replica)
    {
        const char *region = json_string_value(json_object_get(replica, "RegionName"));
        const char *status = json_string_value(json_object_get(replica, "ReplicaStatus"));
        char pointer[96], arn[512];
        snprintf(pointer, sizeof(pointer), "/Table/Replicas/%zu/ReplicaStatus", i);
        if (!region)
            continue;
        check_table_arn(ctx, region, table->name, arn, sizeof(arn));
        if (!status || strcmp(status, "ACTIVE")) {
            /* Creating, updating and deleting pass by on their own; other states do not. */
            int transitional =
                status && (!strcmp(status, "CREATING") || !strcmp(status, "UPDATING") ||
                           !strcmp(status, "DELETING"));
            struct finding *f = result_add_finding(
                ctx->result, arn, transitional ? STATUS_REVIEW : STATUS_REMEDIATE,
                "replica of %s in %s is %s, not ACTIVE", table->name, region,
                status ? status : "in an unknown state");
            check_cite(ctx, f, describe, pointer);
            continue;
        }
        /* The replica's own description says which key it uses (each region has its own). */
        struct encryption e;
        if (table_encryption(ctx, region, table->name, arn, &e) < 0)
            continue;
        enum key_level need;
        int confidential = 0;
        if (required_level(ctx, at_rest_params(ctx), region, table->name, arn, e.level, &need,
                           &confidential) < 0)
            continue;
        struct finding *f;
        if (e.level >= need)
            f = result_add_finding(ctx->result, arn, STATUS_PASS,
                                   "replica of %s (from %s) is ACTIVE and encrypted with %s",
                                   table->name, table->region, level_words[e.level]);
        else
            f = result_add_finding(ctx->result, arn, STATUS_REMEDIATE,
                                   "replica of %s (from %s) is encrypted with %s, weaker than the "
                                   "%s required at rest",
                                   table->name, table->region, level_words[e.level],
                                   level_words[need]);
        check_cite(ctx, f, describe, pointer);
        cite_encryption(ctx, f, &e);
    }
    return 0;
}

int check_global_table_replication(struct check_context *ctx)
{
    int rc = check_each_table(ctx, visit_replicas);
    if (rc < 0)
        return rc;
    /* A replica seen from both of its regions is one finding per replica ARN: keep the first. */
    struct control_result *r = ctx->result;
    size_t kept = 0;
    for (size_t i = 0; i < r->finding_count; i++) {
        int duplicate = 0;
        for (size_t k = 0; k < kept && !duplicate; k++)
            duplicate = !strcmp(r->findings[k].resource, r->findings[i].resource) &&
                        r->findings[k].status == r->findings[i].status;
        if (duplicate) {
            free(r->findings[i].resource);
            free(r->findings[i].reason);
            json_decref(r->findings[i].evidence);
            json_decref(r->findings[i].exception);
            json_decref(r->findings[i].attestation);
        } else {
            r->findings[kept++] = r->findings[i];
        }
    }
    r->finding_count = kept;
    return 0;
}

/* ---------------------------------------------------------------- timestamps */

/* The UTC calendar day of an AWS timestamp as the CLI prints it: ISO 8601
 * ("2026-10-01T03:12:44.310000+00:00", "…Z", or a bare date) or epoch seconds (a number, as
 * the CLI prints with cli_timestamp_format = wire). Returns 0, or -1 if it is neither. */
static int timestamp_day(const json_t *value, long *day)
{
    if (json_is_number(value)) {
        double seconds = json_number_value(value);
        if (seconds < 0 || seconds > 1e12)
            return -1;
        *day = (long)(seconds / 86400);
        return 0;
    }
    const char *text = json_string_value(value);
    char date[11];
    if (!text || strlen(text) < 10)
        return -1;
    memcpy(date, text, 10);
    date[10] = '\0';
    if (date_parse(date, day) < 0)
        return -1;
    const char *p = text + 10;
    if (!*p)
        return 0;
    int hour, minute, second, consumed = 0;
    if ((*p != 'T' && *p != 't' && *p != ' ') ||
        sscanf(p + 1, "%2d:%2d:%2d%n", &hour, &minute, &second, &consumed) != 3 || consumed != 8 ||
        hour > 23 || minute > 59 || second > 60)
        return -1;
    p += 1 + consumed;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    int offset = 0; /* minutes east of UTC */
    if (*p == '+' || *p == '-') {
        int offset_hour, offset_minute, n = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &offset_hour, &offset_minute, &n) != 2 || n != 5 ||
            offset_hour > 23 || offset_minute > 59)
            return -1;
        offset = (offset_hour * 60 + offset_minute) * (*p == '-' ? -1 : 1);
        p += 1 + n;
    } else if (*p == 'Z' || *p == 'z') {
        p++;
    }
    if (*p)
        return -1;
    int minutes = hour * 60 + minute - offset;
    if (minutes < 0)
        (*day)--;
    else if (minutes >= 24 * 60)
        (*day)++;
    return 0;
}

/* ---------------------------------------------------------------- DDB-19 PITR */

static int visit_pitr(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *call = check_require(ctx, table->arn, table->region, "dynamodb",
                                                     "DescribeContinuousBackups", table->name);
    if (!call)
        return 0;
    static const char pointer[] =
        "/ContinuousBackupsDescription/PointInTimeRecoveryDescription/PointInTimeRecoveryStatus";
    const char *status = json_string_value(json_pointer_get(call->document, pointer));
    static const char latest_pointer[] =
        "/ContinuousBackupsDescription/PointInTimeRecoveryDescription/LatestRestorableDateTime";
    struct finding *f;
    json_t *days = json_pointer_get(
        call->document,
        "/ContinuousBackupsDescription/PointInTimeRecoveryDescription/RecoveryPeriodInDays");
    /* LatestRestorableDateTime is normally minutes before the call; well before the as-of date
     * it says continuous backups stopped keeping up (or the evidence is older than it looks). */
    json_t *latest = json_pointer_get(call->document, latest_pointer);
    long latest_day = 0, as_of_day = 0, lag = 0;
    long max_lag = (long)check_param_int(ctx, "max_restore_lag_days", 1);
    char latest_date[11] = "";
    int latest_known = latest && !json_is_null(latest);
    int latest_bad = latest_known && (timestamp_day(latest, &latest_day) < 0 ||
                                      date_parse(ctx->as_of, &as_of_day) < 0);
    if (latest_known && !latest_bad) {
        date_format(latest_day, latest_date);
        lag = as_of_day - latest_day;
    }
    int enabled = status && !strcmp(status, "ENABLED");
    if (enabled && latest_bad)
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "point-in-time recovery is enabled, but its "
                               "LatestRestorableDateTime cannot be read");
    else if (enabled && latest_known && lag > max_lag)
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "point-in-time recovery is enabled, but the latest restorable time "
                               "is %s, %ld days before %s (more than the %ld allowed): continuous "
                               "backups may have stopped",
                               latest_date, lag, ctx->as_of, max_lag);
    else if (enabled && json_is_integer(days))
        f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                               "point-in-time recovery is enabled (%lld-day recovery period)",
                               (long long)json_integer_value(days));
    else if (enabled)
        f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                               "point-in-time recovery is enabled");
    else if (status)
        f = result_add_finding(ctx->result, table->arn, STATUS_REMEDIATE,
                               "point-in-time recovery is %s", status);
    else
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "DescribeContinuousBackups does not state the PITR status");
    check_cite(ctx, f, call, pointer);
    if (enabled && latest_known)
        check_cite(ctx, f, call, latest_pointer);
    return 0;
}

int check_point_in_time_recovery(struct check_context *ctx)
{
    return check_each_table(ctx, visit_pitr);
}

/* ---------------------------------------------------------------- indexes */

/* A sorted index of one list in a region-wide answer (AWS Backup's protected resources,
 * application-autoscaling's targets), so a check over 100k tables does one binary search per
 * table instead of a scan. Built once per evaluation through the memo. */
struct list_index {
    size_t count;
    struct list_entry {
        const char *first;  /* strings owned by the evidence documents, which outlive the run */
        const char *second; /* "" when the list is keyed by one field */
        size_t position;
    } entries[];
};

static int compare_list_entries(const void *pa, const void *pb)
{
    const struct list_entry *a = pa, *b = pb;
    int c = strcmp(a->first, b->first);
    return c ? c : strcmp(a->second, b->second);
}

/* Keys: "backup:<region>" indexes Results[].ResourceArn; "scaling:<region>" indexes
 * ScalableTargets[] by (ResourceId, ScalableDimension). */
static void *build_list_index(struct check_context *ctx, const char *key)
{
    int backup = !strncmp(key, "backup:", 7);
    const char *region = strchr(key, ':') + 1;
    const struct evidence_call *call =
        backup ? evidence_find(ctx->evidence, region, "backup", "ListProtectedResources", NULL)
               : evidence_find(ctx->evidence, region, "application-autoscaling",
                               "DescribeScalableTargets", NULL);
    json_t *list = call && call->document
                       ? json_object_get(call->document, backup ? "Results" : "ScalableTargets")
                       : NULL;
    size_t n = json_array_size(list);
    struct list_index *index = malloc(sizeof(*index) + (n ? n : 1) * sizeof(struct list_entry));
    if (!index)
        return NULL;
    index->count = 0;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *first =
            json_string_value(json_object_get(item, backup ? "ResourceArn" : "ResourceId"));
        const char *second =
            backup ? "" : json_string_value(json_object_get(item, "ScalableDimension"));
        if (!first || !second)
            continue;
        index->entries[index->count++] = (struct list_entry){first, second, i};
    }
    if (index->count > 1)
        qsort(index->entries, index->count, sizeof(struct list_entry), compare_list_entries);
    return index;
}

/* Position of (first, second) in the indexed list, or -1. */
static long list_index_find(struct check_context *ctx, const char *memo_key, const char *first,
                            const char *second)
{
    struct list_index *index = check_memo(ctx, memo_key, build_list_index, free);
    if (!index)
        return -1;
    struct list_entry probe = {first, second, 0};
    const struct list_entry *found = bsearch(&probe, index->entries, index->count,
                                             sizeof(struct list_entry), compare_list_entries);
    return found ? (long)found->position : -1;
}

/* ---------------------------------------------------------------- DDB-20 backups */

static int visit_backups(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *describe =
        check_require(ctx, table->arn, table->region, "dynamodb", "DescribeTable", table->name);
    const struct evidence_call *backup =
        check_require(ctx, table->arn, table->region, "backup", "ListProtectedResources", NULL);
    if (!describe || !backup)
        return 0;
    json_t *protection = json_pointer_get(describe->document, "/Table/DeletionProtectionEnabled");
    if (!json_is_boolean(protection)) {
        /* AWS CLIs whose botocore predates the field drop it even when it is on. */
        struct finding *f = result_add_finding(
            ctx->result, table->arn, STATUS_REVIEW,
            "DescribeTable does not state DeletionProtectionEnabled (gathered with an old AWS "
            "CLI?): collect it again with a current one");
        check_cite(ctx, f, describe, "/Table/DeletionProtectionEnabled");
        return 0;
    }
    int deletion_protected = json_is_true(protection);
    char memo_key[96];
    snprintf(memo_key, sizeof(memo_key), "backup:%s", table->region);
    long backup_index = list_index_find(ctx, memo_key, table->arn, "");
    json_t *entry = backup_index >= 0 ? json_array_get(json_object_get(backup->document, "Results"),
                                                       (size_t)backup_index)
                                      : NULL;
    /* How recent AWS Backup's newest recovery point is (LastBackupTime: ListProtectedResources
     * lists only resources it has backed up, each with its latest backup). A plan that stopped
     * running still lists the table, so the age decides, against the as-of date. */
    enum { NO_BACKUP, CURRENT, STALE, UNDATED, FUTURE, PLANNED } recency = NO_BACKUP;
    long max_age = (long)check_param_int(ctx, "max_backup_age_days", 7);
    long backup_day = 0, as_of_day = 0, age = 0;
    char backup_date[11] = "", pointer[96];
    if (entry && backup->locations) {
        /* Evidence from a template (cfn_evidence.c): a BackupSelection says a plan will back
         * the table up; no backup can exist before deployment, so there is no age to judge. */
        recency = PLANNED;
    } else if (entry) {
        json_t *last = json_object_get(entry, "LastBackupTime");
        if (timestamp_day(last, &backup_day) < 0 || date_parse(ctx->as_of, &as_of_day) < 0) {
            recency = UNDATED;
        } else {
            date_format(backup_day, backup_date);
            age = as_of_day - backup_day;
            recency = age < 0 ? FUTURE : age > max_age ? STALE : CURRENT;
        }
    }
    struct finding *f;
    if (!deletion_protected) {
        f = result_add_finding(ctx->result, table->arn, STATUS_REMEDIATE,
                               "deletion protection is off%s%s%s",
                               recency == NO_BACKUP ? " and no AWS Backup plan protects the table"
                               : *backup_date ? " (AWS Backup's newest recovery point is from "
                                              : " (AWS Backup protects the table)",
                               backup_date, *backup_date ? ")" : "");
    } else if (recency == CURRENT) {
        f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                               "deletion protection is on and AWS Backup's newest recovery point "
                               "is from %s, %ld day%s before %s (at most %ld allowed)",
                               backup_date, age, age == 1 ? "" : "s", ctx->as_of, max_age);
    } else if (recency == PLANNED) {
        f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                               "deletion protection is on and an AWS Backup plan selects the "
                               "table (no backup exists before deployment)");
    } else if (recency == STALE) {
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "deletion protection is on, but AWS Backup's newest recovery point "
                               "is from %s, %ld days before %s (more than the %ld allowed): the "
                               "backup plan may have stopped; confirm how the table is backed up",
                               backup_date, age, ctx->as_of, max_age);
    } else if (recency == FUTURE) {
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "deletion protection is on, but AWS Backup's newest recovery point "
                               "is dated %s, after the as-of date %s",
                               backup_date, ctx->as_of);
    } else if (recency == UNDATED) {
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "deletion protection is on and AWS Backup lists the table, but "
                               "without a readable LastBackupTime: the age of its newest backup "
                               "is unknown");
    } else {
        /* Backups may exist outside AWS Backup (on-demand backups, exports): not proven absent. */
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "deletion protection is on, but no AWS Backup plan protects the "
                               "table: confirm how it is backed up");
    }
    check_cite(ctx, f, describe, "/Table/DeletionProtectionEnabled");
    if (backup_index >= 0) {
        snprintf(pointer, sizeof(pointer), "/Results/%ld/ResourceArn", backup_index);
        check_cite(ctx, f, backup, pointer);
        if (recency != PLANNED) {
            snprintf(pointer, sizeof(pointer), "/Results/%ld/LastBackupTime", backup_index);
            check_cite(ctx, f, backup, pointer);
        }
    } else {
        check_cite(ctx, f, backup, "/Results");
    }
    return 0;
}

int check_backups_deletion_protection(struct check_context *ctx)
{
    return check_each_table(ctx, visit_backups);
}

/* ---------------------------------------------------------------- DDB-21 tags */

static int visit_tags(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *call = check_require(ctx, table->arn, table->region, "dynamodb",
                                                     "ListTagsOfResource", table->name);
    if (!call)
        return 0;
    json_t *required = check_param(ctx, "required_tags");
    static const char *const defaults[] = {"Security", "Confidentiality", "Environment"};
    json_t *fallback = NULL;
    if (!json_is_array(required)) {
        fallback = json_array();
        for (size_t i = 0; i < 3; i++)
            json_array_append_new(fallback, json_string(defaults[i]));
        required = fallback;
    }
    char missing[1024] = "";
    size_t used = 0, missing_count = 0;
    size_t i;
    json_t *want;
    json_array_foreach(required, i, want)
    {
        int known = 0;
        const char *key = json_string_value(want);
        if (!key)
            continue;
        const char *value = check_table_tag(ctx, table->region, table->name, key, &known);
        if (!value || !*value) {
            int n = snprintf(missing + used, sizeof(missing) - used, "%s%s",
                             missing_count ? ", " : "", key);
            if (n > 0 && (size_t)n < sizeof(missing) - used)
                used += (size_t)n;
            missing_count++;
        }
    }
    struct finding *f;
    if (missing_count)
        f = result_add_finding(ctx->result, table->arn, STATUS_REMEDIATE,
                               "missing required tag%s: %s", missing_count > 1 ? "s" : "", missing);
    else
        f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                               "carries every required tag (%zu)", json_array_size(required));
    check_cite(ctx, f, call, "/Tags");
    json_decref(fallback);
    return 0;
}

int check_required_tags(struct check_context *ctx)
{
    return check_each_table(ctx, visit_tags);
}

/* ---------------------------------------------------------------- DDB-23 capacity */

static long find_scalable_target(struct check_context *ctx, const char *region,
                                 const char *resource_id, const char *dimension)
{
    char memo_key[96];
    snprintf(memo_key, sizeof(memo_key), "scaling:%s", region);
    return list_index_find(ctx, memo_key, resource_id, dimension);
}

/* Whether Application Auto Scaling may add capacity to a scalable target: its SuspendedState
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-
 * suspend-resume-scaling.html) with DynamicScalingOutSuspended true means scaling policies no
 * longer raise capacity, so a surge throttles. Scale-in and scheduled scaling do not add
 * capacity under load and are not judged. 1 suspended, 0 not, -1 unreadable (fail closed). */
static int scale_out_suspended(const struct evidence_call *scaling, long position)
{
    json_t *target =
        json_array_get(json_object_get(scaling->document, "ScalableTargets"), (size_t)position);
    json_t *state = json_object_get(target, "SuspendedState");
    if (!state || json_is_null(state))
        return 0;
    if (!json_is_object(state))
        return -1;
    json_t *out = json_object_get(state, "DynamicScalingOutSuspended");
    if (!out || json_is_null(out))
        return 0;
    if (!json_is_boolean(out))
        return -1;
    return json_is_true(out);
}

static int visit_capacity(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *describe =
        check_require(ctx, table->arn, table->region, "dynamodb", "DescribeTable", table->name);
    if (!describe)
        return 0;
    const char *mode = json_string_value(
        json_pointer_get(describe->document, "/Table/BillingModeSummary/BillingMode"));
    if (mode && !strcmp(mode, "PAY_PER_REQUEST")) {
        struct finding *f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                                               "on-demand capacity (PAY_PER_REQUEST)");
        check_cite(ctx, f, describe, "/Table/BillingModeSummary/BillingMode");
        return 0;
    }
    /* No BillingModeSummary means a table that has always been PROVISIONED. */
    const struct evidence_call *scaling = check_require(
        ctx, table->arn, table->region, "application-autoscaling", "DescribeScalableTargets", NULL);
    if (!scaling)
        return 0;
    char resource_id[300];
    snprintf(resource_id, sizeof(resource_id), "table/%s", table->name);
    long read =
        find_scalable_target(ctx, table->region, resource_id, "dynamodb:table:ReadCapacityUnits");
    long write =
        find_scalable_target(ctx, table->region, resource_id, "dynamodb:table:WriteCapacityUnits");
    /* Each global secondary index has its own provisioned capacity and scalable targets. */
    char unscaled[512] = "";
    size_t used = 0, gsi_missing = 0;
    size_t g;
    json_t *gsi;
    json_array_foreach(json_pointer_get(describe->document, "/Table/GlobalSecondaryIndexes"), g,
                       gsi)
    {
        const char *index = json_string_value(json_object_get(gsi, "IndexName"));
        if (!index)
            continue;
        char index_id[600];
        snprintf(index_id, sizeof(index_id), "table/%s/index/%s", table->name, index);
        long index_read =
            find_scalable_target(ctx, table->region, index_id, "dynamodb:index:ReadCapacityUnits");
        long index_write =
            find_scalable_target(ctx, table->region, index_id, "dynamodb:index:WriteCapacityUnits");
        int index_suspended = index_read >= 0 && index_write >= 0 &&
                              (scale_out_suspended(scaling, index_read) != 0 ||
                               scale_out_suspended(scaling, index_write) != 0);
        if (index_read < 0 || index_write < 0 || index_suspended) {
            int n = snprintf(unscaled + used, sizeof(unscaled) - used, "%s%s%s",
                             gsi_missing ? ", " : "", index,
                             index_suspended ? " (scaling out suspended or unreadable)" : "");
            if (n > 0 && (size_t)n < sizeof(unscaled) - used)
                used += (size_t)n;
            gsi_missing++;
        }
    }
    int read_suspended = read >= 0 ? scale_out_suspended(scaling, read) : 0;
    int write_suspended = write >= 0 ? scale_out_suspended(scaling, write) : 0;
    struct finding *f;
    if (read >= 0 && write >= 0 && (read_suspended > 0 || write_suspended > 0))
        f = result_add_finding(ctx->result, table->arn, STATUS_REMEDIATE,
                               "provisioned capacity whose auto scaling for %s is suspended "
                               "(SuspendedState.DynamicScalingOutSuspended): capacity cannot grow "
                               "with traffic",
                               read_suspended > 0 && write_suspended > 0 ? "reads and writes"
                               : read_suspended > 0                      ? "reads"
                                                                         : "writes");
    else if (read >= 0 && write >= 0 && (read_suspended < 0 || write_suspended < 0))
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "the scalable target for %s has a SuspendedState that cannot be "
                               "read: whether it scales out is unknown",
                               read_suspended < 0 ? "reads" : "writes");
    else if (read >= 0 && write >= 0 && gsi_missing)
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "the table auto scales, but global secondary index%s %s do%s not",
                               gsi_missing > 1 ? "es" : "", unscaled, gsi_missing > 1 ? "" : "es");
    else if (read >= 0 && write >= 0)
        f = result_add_finding(ctx->result, table->arn, STATUS_PASS,
                               "provisioned capacity with auto scaling for reads and writes");
    else
        f = result_add_finding(ctx->result, table->arn, STATUS_REMEDIATE,
                               "provisioned capacity without auto scaling for %s",
                               read < 0 && write < 0 ? "reads or writes"
                               : read < 0            ? "reads"
                                                     : "writes");
    check_cite(ctx, f, describe,
               mode ? "/Table/BillingModeSummary/BillingMode" : "/Table/ProvisionedThroughput");
    char pointer[64];
    if (read >= 0) {
        snprintf(pointer, sizeof(pointer), "/ScalableTargets/%ld/%s", read,
                 read_suspended ? "SuspendedState" : "ScalableDimension");
        check_cite(ctx, f, scaling, pointer);
    }
    if (write >= 0) {
        snprintf(pointer, sizeof(pointer), "/ScalableTargets/%ld/%s", write,
                 write_suspended ? "SuspendedState" : "ScalableDimension");
        check_cite(ctx, f, scaling, pointer);
    }
    if (read < 0 || write < 0)
        check_cite(ctx, f, scaling, "/ScalableTargets");
    return 0;
}

int check_capacity_management(struct check_context *ctx)
{
    return check_each_table(ctx, visit_capacity);
}

/* ---------------------------------------------------------------- DDB-24 client-side */

static int visit_client_side(struct check_context *ctx, const struct table_ref *table)
{
    const char *tag_key = check_param_string(ctx, "confidentiality_tag", "Confidentiality");
    int known = 0;
    const char *value = check_table_tag(ctx, table->region, table->name, tag_key, &known);
    if (!known) {
        check_require(ctx, table->arn, table->region, "dynamodb", "ListTagsOfResource",
                      table->name);
        return 0;
    }
    int required = 0;
    size_t i;
    json_t *v;
    json_array_foreach(check_param(ctx, "required_values"), i, v)
    {
        if (value && json_is_string(v) && !strcmp(value, json_string_value(v)))
            required = 1;
    }
    if (!required)
        return 0;
    const struct evidence_call *tags =
        evidence_find(ctx->evidence, table->region, "dynamodb", "ListTagsOfResource", table->name);
    char tag_pointer[64] = "/Tags";
    json_t *tag;
    json_array_foreach(json_object_get(tags->document, "Tags"), i, tag)
    {
        const char *k = json_string_value(json_object_get(tag, "Key"));
        if (k && !strcmp(k, tag_key))
            snprintf(tag_pointer, sizeof(tag_pointer), "/Tags/%zu/Value", i);
    }
    long as_of_day = 0;
    date_parse(ctx->as_of, &as_of_day);
    long limit = check_param_int(ctx, "max_age_days", 0);
    const struct attestation *a =
        attestation_find(ctx->attestations, ctx->control->id, table->arn, as_of_day, limit);
    struct finding *f;
    if (!a) {
        /* No attestation is missing evidence: Review, like every other gap. */
        f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                               "%s is %s: client-side encryption is required and no "
                               "attestation says it is in place",
                               tag_key, value);
    } else {
        const char *state = attestation_state(a, as_of_day, limit);
        int current = !strcmp(state, "current");
        f = result_add_finding(ctx->result, table->arn, current ? STATUS_PASS : STATUS_REVIEW,
                               "%s is %s; client-side encryption attested by %s on %s (%s%s%s)",
                               tag_key, value, a->attested_by, a->date, state,
                               a->problem ? ": " : "", a->problem ? a->problem : "");
        f->attestation = attestation_json(a, as_of_day, limit);
    }
    check_cite(ctx, f, tags, tag_pointer);
    return 0;
}

int check_client_side_encryption(struct check_context *ctx)
{
    return check_each_table(ctx, visit_client_side);
}
