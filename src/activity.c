/* Classifies CloudTrail events into the activity findings of the report. Pure computation over
 * events handed in by the scanner: no I/O, no clock, and it never decides a control's status
 * (the evaluator does, from these facts). */
#include "activity.h"
#include "buf.h"
#include "diag.h"
#include "urldecode.h"
#include "date.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POLICY_MAX ((size_t)1 << 20) /* IAM caps documents at 6,144 characters; be generous */

struct activity {
    char period_start[11];
    char period_end[11];
    char **kms_keys;
    size_t kms_key_count;

    json_t *control_plane;    /* array of event entries */
    json_t *policy_changes;   /* array */
    json_t *key_admin;        /* array */
    json_t *key_usage;        /* groups: key -> entry */
    json_t *weak_tls;         /* groups */
    json_t *not_via_endpoint; /* groups */
    json_t *access_denied;    /* groups */
    json_t *tls_versions;     /* version -> count */
    json_t *network;          /* eventSource -> {calls, via_vpc_endpoint, ...} */
    json_t *by_source;        /* eventSource -> count */

    json_int_t events;
    json_int_t in_period;
    json_int_t before_period;
    json_int_t after_period;
    json_int_t without_time;
    json_int_t policy_writes_without_dynamodb;
    int kms_keys_only;
};

/* --- small helpers over events ------------------------------------------------------------ */

/* The string at a dotted path ("userIdentity.arn"), or NULL. */
static const char *get_string(json_t *object, const char *path)
{
    char part[64];
    while (object && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (len >= sizeof(part))
            return NULL;
        memcpy(part, path, len);
        part[len] = '\0';
        object = json_object_get(object, part);
        path += len + (dot ? 1 : 0);
    }
    return json_string_value(object);
}

static json_t *get_value(json_t *object, const char *path)
{
    char part[64];
    while (object && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (len >= sizeof(part))
            return NULL;
        memcpy(part, path, len);
        part[len] = '\0';
        object = json_object_get(object, part);
        path += len + (dot ? 1 : 0);
    }
    return object;
}

static int is_one_of(const char *value, const char *const *list)
{
    for (; value && *list; list++)
        if (strcmp(value, *list) == 0)
            return 1;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t len = strlen(s), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

static const char *event_time(json_t *event)
{
    const char *time = get_string(event, "eventTime");
    return time ? time : get_string(event, "@timestamp"); /* Logstash exports rename it */
}

/* Who made the call: the principal's ARN when CloudTrail records one, else the AWS service that
 * invoked it, else whatever identifies the caller. */
static const char *principal_of(json_t *event)
{
    const char *keys[] = {"userIdentity.arn", "userIdentity.invokedBy", "userIdentity.principalId",
                          "userIdentity.type"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *value = get_string(event, keys[i]);
        if (value && *value)
            return value;
    }
    return "unknown";
}

/* Calls that AWS services make on a principal's behalf cannot use the caller's VPC endpoint. */
static int made_by_aws_service(json_t *event)
{
    const char *type = get_string(event, "userIdentity.type");
    const char *invoked_by = get_string(event, "userIdentity.invokedBy");
    const char *ip = get_string(event, "sourceIPAddress");
    return (type && strcmp(type, "AWSService") == 0) || (invoked_by && *invoked_by) ||
           (ip && ends_with(ip, ".amazonaws.com"));
}

static int set_string(json_t *object, const char *key, const char *value)
{
    return json_object_set_new(object, key, value ? json_string(value) : json_null());
}

static json_t *source_json(const struct cloudtrail_source *source)
{
    return json_pack("{sI sI sI sI}", "file_index", (json_int_t)source->file_index, "offset",
                     (json_int_t)source->offset, "page", (json_int_t)source->page, "index",
                     (json_int_t)source->index);
}

/* The fields every cited event carries. */
static json_t *event_entry(json_t *event, const struct cloudtrail_source *source)
{
    json_t *entry = json_object();
    if (!entry)
        return NULL;
    set_string(entry, "time", event_time(event));
    set_string(entry, "event_id", get_string(event, "eventID"));
    set_string(entry, "event_source", get_string(event, "eventSource"));
    set_string(entry, "event_name", get_string(event, "eventName"));
    set_string(entry, "region", get_string(event, "awsRegion"));
    set_string(entry, "principal_arn", principal_of(event));
    set_string(entry, "principal_type", get_string(event, "userIdentity.type"));
    set_string(entry, "source_ip", get_string(event, "sourceIPAddress"));
    set_string(entry, "vpc_endpoint_id", get_string(event, "vpcEndpointId"));
    set_string(entry, "user_agent", get_string(event, "userAgent"));
    set_string(entry, "tls_version", get_string(event, "tlsDetails.tlsVersion"));
    set_string(entry, "error_code", get_string(event, "errorCode"));
    set_string(entry, "error_message", get_string(event, "errorMessage"));
    json_object_set_new(entry, "source", source_json(source));
    return entry;
}

/* Counters are updated in place: an event must not cost an allocation per count. */
static void count_in(json_t *counts, const char *key)
{
    json_t *value = json_object_get(counts, key);
    if (json_is_integer(value))
        json_integer_set(value, json_integer_value(value) + 1);
    else
        json_object_set_new(counts, key, json_integer(1));
}

/* Aggregates into groups[key]: count, first/last time, and the earliest event as example. */
static int group_add(json_t *groups, const char *const *names, const char *const *values, size_t n,
                     json_t *event, const struct cloudtrail_source *source)
{
    struct buf key;
    buf_init(&key, 0);
    for (size_t i = 0; i < n; i++)
        if (buf_puts(&key, values[i] ? values[i] : "") < 0 || buf_putc(&key, '\x1f') < 0) {
            buf_free(&key);
            return DDB_ERUNTIME;
        }
    const char *time = event_time(event);
    json_t *group = json_object_get(groups, buf_cstr(&key));
    if (!group) {
        group = json_object();
        for (size_t i = 0; i < n; i++)
            set_string(group, names[i], values[i]);
        json_object_set_new(group, "count", json_integer(0));
        set_string(group, "first_time", time);
        set_string(group, "last_time", time);
        json_object_set_new(group, "example", source_json(source));
        json_object_set_new(groups, buf_cstr(&key), group);
    }
    buf_free(&key);
    count_in(group, "count");
    if (time) {
        const char *first = json_string_value(json_object_get(group, "first_time"));
        const char *last = json_string_value(json_object_get(group, "last_time"));
        int order = first ? strcmp(time, first) : -1;
        if (order == 0) { /* same second: the earlier place in the input wins, whatever the order */
            json_t *example = json_object_get(group, "example");
            json_int_t file = json_integer_value(json_object_get(example, "file_index"));
            json_int_t offset = json_integer_value(json_object_get(example, "offset"));
            order = (json_int_t)source->file_index != file
                        ? ((json_int_t)source->file_index < file ? -1 : 1)
                        : ((json_int_t)source->offset < offset ? -1 : 0);
        }
        if (order < 0) {
            set_string(group, "first_time", time);
            json_object_set_new(group, "example", source_json(source));
        }
        if (!last || strcmp(time, last) > 0)
            set_string(group, "last_time", time);
    }
    return 0;
}

/* --- IAM policy documents ----------------------------------------------------------------- */

/* Whether the IAM action pattern (with * and ?, case-insensitive) can match some action that
 * starts with `prefix`: a set-of-positions walk, linear in the pattern, so no pattern can make
 * it blow up. */
static int pattern_can_start_with(const char *pattern, const char *prefix)
{
    size_t m = strlen(pattern);
    unsigned char *reach = calloc(m + 1, 1), *next = calloc(m + 1, 1);
    int result = 0;
    if (!reach || !next)
        goto done;
    reach[0] = 1;
    for (size_t j = 0; j < m; j++)
        if (reach[j] && pattern[j] == '*')
            reach[j + 1] = 1;
    for (const char *s = prefix; *s; s++) {
        memset(next, 0, m + 1);
        int any = 0;
        for (size_t j = 0; j < m; j++) {
            if (!reach[j])
                continue;
            if (pattern[j] == '*')
                next[j] = 1;
            else if (pattern[j] == '?' ||
                     tolower((unsigned char)pattern[j]) == tolower((unsigned char)*s))
                next[j + 1] = 1;
        }
        for (size_t j = 0; j < m; j++)
            if (next[j] && pattern[j] == '*')
                next[j + 1] = 1;
        for (size_t j = 0; j <= m; j++)
            any |= next[j];
        unsigned char *swap = reach;
        reach = next;
        next = swap;
        if (!any)
            goto done;
    }
    result = 1; /* whatever pattern remains can match some action name */
done:
    free(reach);
    free(next);
    return result;
}

static int statement_grants(json_t *statement, json_t *actions)
{
    if (!json_is_object(statement))
        return 0;
    const char *effect = json_string_value(json_object_get(statement, "Effect"));
    if (!effect || strcmp(effect, "Allow") != 0)
        return 0;
    int grants = 0;
    json_t *action = json_object_get(statement, "Action");
    json_t *list = json_is_array(action) ? action : NULL;
    size_t count = list ? json_array_size(list) : (action ? 1 : 0);
    for (size_t i = 0; i < count; i++) {
        const char *pattern = json_string_value(list ? json_array_get(list, i) : action);
        if (pattern && pattern_can_start_with(pattern, "dynamodb:")) {
            grants = 1;
            if (actions)
                json_array_append_new(actions, json_string(pattern));
        }
    }
    /* Allow + NotAction grants everything not listed: unless it lists all of dynamodb. */
    json_t *not_action = json_object_get(statement, "NotAction");
    if (not_action) {
        int excludes_dynamodb = 0;
        json_t *not_list = json_is_array(not_action) ? not_action : NULL;
        size_t not_count = not_list ? json_array_size(not_list) : 1;
        for (size_t i = 0; i < not_count; i++) {
            const char *pattern =
                json_string_value(not_list ? json_array_get(not_list, i) : not_action);
            if (pattern && (strcmp(pattern, "*") == 0 || strcasecmp(pattern, "dynamodb:*") == 0))
                excludes_dynamodb = 1;
        }
        if (!excludes_dynamodb) {
            grants = 1;
            if (actions)
                json_array_append_new(actions, json_string("NotAction"));
        }
    }
    return grants;
}

int activity_policy_grants_dynamodb(const char *document, json_t *actions)
{
    if (!document || strlen(document) > POLICY_MAX)
        return -1;
    const char *text = document;
    while (isspace((unsigned char)*text))
        text++;
    char *decoded = NULL;
    if (*text == '%') {
        decoded = url_decode(text, strlen(text), URLDECODE_PLUS, NULL);
        if (!decoded)
            return -1;
        text = decoded;
    }
    json_t *policy = json_loads(text, JSON_ALLOW_NUL, NULL);
    free(decoded);
    if (!json_is_object(policy)) {
        json_decref(policy);
        return -1;
    }
    int grants = 0;
    json_t *statements = json_object_get(policy, "Statement");
    if (json_is_array(statements)) {
        for (size_t i = 0; i < json_array_size(statements); i++)
            grants |= statement_grants(json_array_get(statements, i), actions);
    } else if (json_is_object(statements))
        grants = statement_grants(statements, actions);
    else
        grants = -1;
    json_decref(policy);
    return grants;
}

/* --- classification ----------------------------------------------------------------------- */

static const char *const control_plane_names[] = {
    "CreateTable",
    "DeleteTable",
    "UpdateTable",
    "DeleteBackup",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "UpdateContinuousBackups",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
    "UpdateTimeToLive",
    "CreateGlobalTable",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateGlobalTableVersion",
    "UpdateTableReplicaAutoScaling",
    NULL,
};

static const char *table_of(json_t *event)
{
    const char *keys[] = {"requestParameters.tableName",
                          "requestParameters.tableArn",
                          "requestParameters.resourceArn",
                          "requestParameters.globalTableName",
                          "requestParameters.targetTableName",
                          "requestParameters.backupArn",
                          "responseElements.tableDescription.tableName"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *value = get_string(event, keys[i]);
        if (value)
            return value;
    }
    return NULL;
}

/* What the change means for the controls, in the catalog's words. */
static int add_dynamodb_concerns(json_t *entry, json_t *event, const char *name)
{
    json_t *concerns = json_array();
    if (!concerns)
        return DDB_ERUNTIME;
    json_t *pitr = get_value(event, "requestParameters.pointInTimeRecoverySpecification."
                                    "pointInTimeRecoveryEnabled");
    if (strcmp(name, "UpdateContinuousBackups") == 0 && json_is_false(pitr))
        json_array_append_new(concerns, json_string("pitr_disabled"));
    if (strcmp(name, "DeleteTable") == 0)
        json_array_append_new(concerns, json_string("table_deleted"));
    if (strcmp(name, "DeleteBackup") == 0)
        json_array_append_new(concerns, json_string("backup_deleted"));
    if (strncmp(name, "RestoreTable", 12) == 0)
        json_array_append_new(concerns, json_string("table_restored"));
    if (strstr(name, "ResourcePolicy"))
        json_array_append_new(concerns, json_string("resource_policy_changed"));
    if (strcmp(name, "UpdateTimeToLive") == 0)
        json_array_append_new(concerns, json_string("ttl_changed"));
    if (strstr(name, "GlobalTable") || strstr(name, "Replica") ||
        get_value(event, "requestParameters.replicaUpdates"))
        json_array_append_new(concerns, json_string("global_table_changed"));
    if (get_value(event, "requestParameters.sSESpecification") ||
        get_value(event, "requestParameters.sseSpecification"))
        json_array_append_new(concerns, json_string("encryption_changed"));
    if (json_is_false(get_value(event, "requestParameters.deletionProtectionEnabled")))
        json_array_append_new(concerns, json_string("deletion_protection_disabled"));
    set_string(entry, "table", table_of(event));
    if (strcmp(name, "UpdateContinuousBackups") == 0)
        json_object_set(entry, "pitr_enabled", pitr ? pitr : json_null());
    return json_object_set_new(entry, "concerns", concerns) == 0 ? 0 : DDB_ERUNTIME;
}

static int add_control_plane(struct activity *activity, json_t *event,
                             const struct cloudtrail_source *source, const char *name)
{
    json_t *entry = event_entry(event, source);
    if (!entry || add_dynamodb_concerns(entry, event, name) < 0 ||
        json_array_append_new(activity->control_plane, entry) < 0)
        return DDB_ERUNTIME;
    return 0;
}

/* AWS managed policies known to grant DynamoDB actions (by name: the document is not in the
 * event). Everything else attached is "needs_review". */
static int managed_policy_grants_dynamodb(const char *arn)
{
    if (!arn || strncmp(arn, "arn:aws", 7) != 0 || !strstr(arn, ":iam::aws:policy/"))
        return 0;
    const char *name = strrchr(arn, '/') + 1;
    return strcmp(name, "AdministratorAccess") == 0 || strcmp(name, "PowerUserAccess") == 0 ||
           strstr(name, "DynamoDB") != NULL;
}

static const char *const policy_put_names[] = {"PutRolePolicy", "PutUserPolicy", "PutGroupPolicy",
                                               "CreatePolicyVersion", NULL};
static const char *const policy_attach_names[] = {
    "AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy", "SetDefaultPolicyVersion", NULL};

static int add_policy_change(struct activity *activity, json_t *event,
                             const struct cloudtrail_source *source, const char *name)
{
    json_t *actions = json_array();
    const char *status;
    const char *policy_arn = get_string(event, "requestParameters.policyArn");
    if (is_one_of(name, policy_put_names)) {
        int grants = activity_policy_grants_dynamodb(
            get_string(event, "requestParameters.policyDocument"), actions);
        if (grants == 0) {
            activity->policy_writes_without_dynamodb++;
            json_decref(actions);
            return 0;
        }
        status = grants > 0 ? "grants_dynamodb" : "needs_review";
    } else {
        status = managed_policy_grants_dynamodb(policy_arn) ? "grants_dynamodb" : "needs_review";
    }
    json_t *entry = event_entry(event, source);
    if (!entry) {
        json_decref(actions);
        return DDB_ERUNTIME;
    }
    set_string(entry, "status", status);
    json_object_set_new(entry, "dynamodb_actions", actions);
    set_string(entry, "policy_arn", policy_arn);
    set_string(entry, "policy_name", get_string(event, "requestParameters.policyName"));
    const char *target = get_string(event, "requestParameters.roleName");
    if (!target)
        target = get_string(event, "requestParameters.userName");
    if (!target)
        target = get_string(event, "requestParameters.groupName");
    set_string(entry, "attached_to", target);
    set_string(entry, "version_id", get_string(event, "requestParameters.versionId"));
    return json_array_append_new(activity->policy_changes, entry) == 0 ? 0 : DDB_ERUNTIME;
}

/* The key an event used: the resources[] ARN CloudTrail records, else the keyId parameter. */
static const char *kms_key_of(json_t *event)
{
    json_t *resources = json_object_get(event, "resources");
    for (size_t i = 0; i < json_array_size(resources); i++) {
        const char *arn = json_string_value(json_object_get(json_array_get(resources, i), "ARN"));
        if (arn && strstr(arn, ":key/"))
            return arn;
    }
    return get_string(event, "requestParameters.keyId");
}

/* "arn:aws:kms:r:a:key/ID" and "ID" name the same key. */
static const char *key_id(const char *key)
{
    const char *slash = strstr(key, ":key/");
    return slash ? slash + 5 : key;
}

static int key_watched(const struct activity *activity, const char *key)
{
    if (!key)
        return 0;
    for (size_t i = 0; i < activity->kms_key_count; i++)
        if (strcmp(key_id(activity->kms_keys[i]), key_id(key)) == 0)
            return 1;
    return 0;
}

static const char *const kms_usage_names[] = {"Decrypt",
                                              "Encrypt",
                                              "GenerateDataKey",
                                              "GenerateDataKeyWithoutPlaintext",
                                              "GenerateDataKeyPair",
                                              "GenerateDataKeyPairWithoutPlaintext",
                                              "ReEncrypt",
                                              "CreateGrant",
                                              "RetireGrant",
                                              "RevokeGrant",
                                              NULL};
static const char *const kms_admin_names[] = {"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy",
                                              "DisableKeyRotation", NULL};

/* Which service used the key on the caller's behalf (DynamoDB calls KMS with forward access
 * sessions: invokedBy / sourceIPAddress "dynamodb.amazonaws.com"). "direct" otherwise. */
static const char *via_service(json_t *event)
{
    const char *invoked_by = get_string(event, "userIdentity.invokedBy");
    if (invoked_by && *invoked_by)
        return invoked_by;
    const char *ip = get_string(event, "sourceIPAddress");
    if (ip && ends_with(ip, ".amazonaws.com"))
        return ip;
    if (get_string(event, "requestParameters.encryptionContext.aws:dynamodb:tableName"))
        return "dynamodb.amazonaws.com";
    return "direct";
}

static int add_kms(struct activity *activity, json_t *event, const struct cloudtrail_source *source,
                   const char *name)
{
    const char *key = kms_key_of(event);
    if (is_one_of(name, kms_admin_names)) {
        json_t *entry = event_entry(event, source);
        if (!entry)
            return DDB_ERUNTIME;
        set_string(entry, "key", key);
        json_object_set_new(entry, "watched_key", json_boolean(key_watched(activity, key)));
        json_t *window = get_value(event, "requestParameters.pendingWindowInDays");
        if (window)
            json_object_set(entry, "pending_window_days", window);
        return json_array_append_new(activity->key_admin, entry) == 0 ? 0 : DDB_ERUNTIME;
    }
    if (!is_one_of(name, kms_usage_names))
        return 0;
    if ((activity->kms_key_count || activity->kms_keys_only) && !key_watched(activity, key))
        return 0;
    const char *names[] = {"key", "principal_arn", "operation", "via_service", "error_code"};
    const char *values[] = {key, principal_of(event), name, via_service(event),
                            get_string(event, "errorCode")};
    return group_add(activity->key_usage, names, values, 5, event, source);
}

/* TLS versions below 1.2 ("TLSv1", "TLSv1.1", "SSLv3"). */
static int below_tls_1_2(const char *version)
{
    if (strncmp(version, "TLSv1.", 6) == 0)
        return atoi(version + 6) < 2;
    return strncmp(version, "TLS", 3) != 0 || strcmp(version, "TLSv1") == 0;
}

static int add_transport(struct activity *activity, json_t *event,
                         const struct cloudtrail_source *source, const char *event_source,
                         const char *name)
{
    const char *version = get_string(event, "tlsDetails.tlsVersion");
    count_in(activity->tls_versions, version ? version : "not recorded");
    if (version && below_tls_1_2(version)) {
        const char *names[] = {"event_source", "principal_arn", "operation", "tls_version"};
        const char *values[] = {event_source, principal_of(event), name, version};
        if (group_add(activity->weak_tls, names, values, 4, event, source) < 0)
            return DDB_ERUNTIME;
    }
    if (strcmp(event_source, "iam.amazonaws.com") == 0)
        return 0; /* IAM has no VPC endpoint; the question is meaningless there */
    json_t *totals = json_object_get(activity->network, event_source);
    if (!totals) {
        totals =
            json_pack("{sI sI sI sI}", "calls", (json_int_t)0, "via_vpc_endpoint", (json_int_t)0,
                      "by_aws_service", (json_int_t)0, "not_via_vpc_endpoint", (json_int_t)0);
        json_object_set_new(activity->network, event_source, totals);
    }
    count_in(totals, "calls");
    const char *endpoint = get_string(event, "vpcEndpointId");
    if (endpoint && *endpoint)
        count_in(totals, "via_vpc_endpoint");
    else if (made_by_aws_service(event))
        count_in(totals, "by_aws_service");
    else {
        count_in(totals, "not_via_vpc_endpoint");
        const char *names[] = {"event_source", "principal_arn", "operation"};
        const char *values[] = {event_source, principal_of(event), name};
        return group_add(activity->not_via_endpoint, names, values, 3, event, source);
    }
    return 0;
}

static int is_access_denied(const char *code)
{
    return code && (strstr(code, "AccessDenied") || strstr(code, "UnauthorizedOperation") ||
                    strcmp(code, "UnauthorizedAccess") == 0);
}

int activity_add(struct activity *activity, json_t *event, const struct cloudtrail_source *source)
{
    activity->events++;
    const char *time = event_time(event);
    if (!time) {
        if (activity->period_start[0] || activity->period_end[0]) {
            activity->without_time++;
            return 0;
        }
    } else if (activity->period_start[0] && strncmp(time, activity->period_start, 10) < 0) {
        activity->before_period++;
        return 0;
    } else if (activity->period_end[0] && strncmp(time, activity->period_end, 10) > 0) {
        activity->after_period++;
        return 0;
    }
    activity->in_period++;
    const char *event_source = get_string(event, "eventSource");
    const char *name = get_string(event, "eventName");
    if (!event_source || !name)
        return 0;
    count_in(activity->by_source, event_source);
    int error = 0;
    if (strcmp(event_source, "dynamodb.amazonaws.com") == 0 && is_one_of(name, control_plane_names))
        error = add_control_plane(activity, event, source, name);
    else if (strcmp(event_source, "iam.amazonaws.com") == 0 &&
             (is_one_of(name, policy_put_names) || is_one_of(name, policy_attach_names)))
        error = add_policy_change(activity, event, source, name);
    else if (strcmp(event_source, "kms.amazonaws.com") == 0)
        error = add_kms(activity, event, source, name);
    if (error < 0)
        return error;
    if ((error = add_transport(activity, event, source, event_source, name)) < 0)
        return error;
    const char *code = get_string(event, "errorCode");
    if (is_access_denied(code)) {
        const char *names[] = {"event_source", "principal_arn", "operation", "error_code"};
        const char *values[] = {event_source, principal_of(event), name, code};
        return group_add(activity->access_denied, names, values, 4, event, source);
    }
    return 0;
}

enum cloudtrail_detail activity_detail(const char *event_source, const char *event_name)
{
    if (strcmp(event_source, "dynamodb.amazonaws.com") == 0)
        return is_one_of(event_name, control_plane_names) ? CLOUDTRAIL_WHOLE : CLOUDTRAIL_SUMMARY;
    if (strcmp(event_source, "iam.amazonaws.com") == 0)
        return is_one_of(event_name, policy_put_names) || is_one_of(event_name, policy_attach_names)
                   ? CLOUDTRAIL_WHOLE
                   : CLOUDTRAIL_SUMMARY;
    if (strcmp(event_source, "kms.amazonaws.com") == 0) {
        if (is_one_of(event_name, kms_admin_names))
            return CLOUDTRAIL_WHOLE;
        return is_one_of(event_name, kms_usage_names) ? CLOUDTRAIL_SUMMARY_WITH_PARAMETERS
                                                      : CLOUDTRAIL_SUMMARY;
    }
    return CLOUDTRAIL_WHOLE;
}

int activity_in_period(const struct activity *activity, json_t *event)
{
    const char *time = event_time(event);
    if (!time)
        return !activity->period_start[0] && !activity->period_end[0];
    return !(activity->period_start[0] && strncmp(time, activity->period_start, 10) < 0) &&
           !(activity->period_end[0] && strncmp(time, activity->period_end, 10) > 0);
}

int activity_on_event(void *ctx, json_t *event, const struct cloudtrail_source *source)
{
    return activity_add(ctx, event, source);
}

/* --- lifecycle and output ----------------------------------------------------------------- */

int activity_valid_date(const char *date)
{
    long days;
    return date_parse(date, &days) == 0;
}

int activity_new(struct activity **out, const struct activity_options *options,
                 struct diagnostics *d)
{
    struct activity *activity = calloc(1, sizeof(*activity));
    if (!activity)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    if (options && options->period_start) {
        if (!activity_valid_date(options->period_start)) {
            free(activity);
            return diag_error(d, DDB_EUSAGE, "period start '%s' is not YYYY-MM-DD",
                              options->period_start);
        }
        memcpy(activity->period_start, options->period_start, 11);
    }
    if (options && options->period_end) {
        if (!activity_valid_date(options->period_end)) {
            free(activity);
            return diag_error(d, DDB_EUSAGE, "period end '%s' is not YYYY-MM-DD",
                              options->period_end);
        }
        memcpy(activity->period_end, options->period_end, 11);
    }
    activity->control_plane = json_array();
    activity->policy_changes = json_array();
    activity->key_admin = json_array();
    activity->key_usage = json_object();
    activity->weak_tls = json_object();
    activity->not_via_endpoint = json_object();
    activity->access_denied = json_object();
    activity->tls_versions = json_object();
    activity->network = json_object();
    activity->by_source = json_object();
    int ok = activity->control_plane && activity->policy_changes && activity->key_admin &&
             activity->key_usage && activity->weak_tls && activity->not_via_endpoint &&
             activity->access_denied && activity->tls_versions && activity->network &&
             activity->by_source;
    if (options)
        activity->kms_keys_only = options->kms_keys_only;
    if (ok && options && options->kms_key_count) {
        activity->kms_keys = calloc(options->kms_key_count, sizeof(char *));
        ok = activity->kms_keys != NULL;
        for (size_t i = 0; ok && i < options->kms_key_count; i++) {
            activity->kms_keys[i] = strdup(options->kms_keys[i]);
            ok = activity->kms_keys[i] != NULL;
            activity->kms_key_count = i + 1;
        }
    }
    if (!ok) {
        activity_free(activity);
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    }
    *out = activity;
    return 0;
}

void activity_free(struct activity *activity)
{
    if (!activity)
        return;
    for (size_t i = 0; i < activity->kms_key_count; i++)
        free(activity->kms_keys[i]);
    free(activity->kms_keys);
    json_decref(activity->control_plane);
    json_decref(activity->policy_changes);
    json_decref(activity->key_admin);
    json_decref(activity->key_usage);
    json_decref(activity->weak_tls);
    json_decref(activity->not_via_endpoint);
    json_decref(activity->access_denied);
    json_decref(activity->tls_versions);
    json_decref(activity->network);
    json_decref(activity->by_source);
    free(activity);
}

static int compare_strings(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static json_int_t source_field(json_t *entry, const char *key)
{
    json_t *source = json_object_get(entry, "source");
    if (!source)
        source = json_object_get(entry, "example");
    return json_integer_value(json_object_get(source, key));
}

/* Events sort by time, then event id, then where they were read: a total order. */
static int compare_events(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = compare_strings(json_string_value(json_object_get(x, "time")),
                            json_string_value(json_object_get(y, "time")));
    if (c == 0)
        c = compare_strings(json_string_value(json_object_get(x, "event_id")),
                            json_string_value(json_object_get(y, "event_id")));
    const char *fields[] = {"file_index", "offset", "page", "index"};
    for (size_t i = 0; c == 0 && i < 4; i++) {
        json_int_t p = source_field(x, fields[i]), q = source_field(y, fields[i]);
        c = (p > q) - (p < q);
    }
    return c;
}

/* Replaces file_index in a source link with the file's path and hash. */
static void resolve_source(json_t *link, const struct cloudtrail_scan *scan)
{
    if (!scan || !link)
        return;
    json_int_t index = json_integer_value(json_object_get(link, "file_index"));
    if (index < 0 || (size_t)index >= scan->file_count)
        return;
    const struct cloudtrail_file *file = &scan->files[index];
    set_string(link, "file", file->path);
    set_string(link, "sha256", file->sha256);
    json_object_set_new(link, "compressed", json_boolean(file->compressed));
}

static json_t *sorted_events(json_t *array, const struct cloudtrail_scan *scan)
{
    size_t n = json_array_size(array);
    json_t **items = calloc(n ? n : 1, sizeof(*items));
    json_t *out = json_array();
    if (!items || !out) {
        free(items);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = json_deep_copy(json_array_get(array, i));
    qsort(items, n, sizeof(*items), compare_events);
    for (size_t i = 0; i < n; i++) {
        resolve_source(json_object_get(items[i], "source"), scan);
        json_array_append_new(out, items[i]);
    }
    free(items);
    return out;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Groups come out as an array ordered by their key fields. */
static json_t *sorted_groups(json_t *groups, const struct cloudtrail_scan *scan)
{
    size_t n = json_object_size(groups), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    json_t *out = json_array();
    if (!keys || !out) {
        free(keys);
        json_decref(out);
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach(groups, key, value) keys[i++] = key;
    qsort(keys, n, sizeof(*keys), compare_keys);
    for (i = 0; i < n; i++) {
        json_t *group = json_deep_copy(json_object_get(groups, keys[i]));
        resolve_source(json_object_get(group, "example"), scan);
        json_array_append_new(out, group);
    }
    free(keys);
    return out;
}

static json_t *files_json(const struct cloudtrail_scan *scan)
{
    json_t *files = json_array();
    for (size_t i = 0; scan && files && i < scan->file_count; i++) {
        const struct cloudtrail_file *file = &scan->files[i];
        json_array_append_new(
            files,
            json_pack("{s:s, s:s?, s:I, s:I, s:b, s:s, s:s, s:I, s:I, s:I}", "file", file->path,
                      "sha256", file->status == CLOUDTRAIL_FILE_UNREADABLE ? NULL : file->sha256,
                      "size", (json_int_t)file->size, "content_size",
                      (json_int_t)file->content_size, "compressed", file->compressed, "shape",
                      cloudtrail_shape_name(file->shape), "status",
                      cloudtrail_file_status_name(file->status), "records",
                      (json_int_t)file->records, "kept", (json_int_t)file->kept, "skipped",
                      (json_int_t)file->skipped));
    }
    return files;
}

json_t *activity_to_json(const struct activity *activity, const struct cloudtrail_scan *scan)
{
    json_t *period = json_pack("{s:s?, s:s?}", "start",
                               activity->period_start[0] ? activity->period_start : NULL, "end",
                               activity->period_end[0] ? activity->period_end : NULL);
    json_t *out = json_pack(
        "{s o s o s o s {s o s o} s {s o s o s o s o} s o s {sI sI sI sI sI sI s O}}", "period",
        period, "sources", files_json(scan), "dynamodb_control_plane",
        sorted_events(activity->control_plane, scan), "kms", "key_usage",
        sorted_groups(activity->key_usage, scan), "key_administration",
        sorted_events(activity->key_admin, scan), "transport", "tls_versions",
        json_deep_copy(activity->tls_versions), "below_tls_1_2",
        sorted_groups(activity->weak_tls, scan), "network", json_deep_copy(activity->network),
        "not_via_vpc_endpoint", sorted_groups(activity->not_via_endpoint, scan), "access_denied",
        sorted_groups(activity->access_denied, scan), "counts", "events", activity->events,
        "in_period", activity->in_period, "before_period", activity->before_period, "after_period",
        activity->after_period, "without_time", activity->without_time,
        "iam_policy_writes_without_dynamodb", activity->policy_writes_without_dynamodb,
        "by_event_source", activity->by_source);
    if (out && json_object_set_new(out, "iam_policy_changes",
                                   sorted_events(activity->policy_changes, scan)) < 0) {
        json_decref(out);
        return NULL;
    }
    if (out && scan) {
        json_t *counts = json_object_get(out, "counts");
        json_object_set_new(counts, "records_read", json_integer((json_int_t)scan->records));
        json_object_set_new(counts, "records_prefiltered",
                            json_integer((json_int_t)scan->prefiltered));
    }
    return out;
}
