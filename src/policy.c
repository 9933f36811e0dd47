/* The IAM policy engine: documents in, "who may do what to which table, and why" out. It reads
 * parsed evidence and never does I/O, never decides a control's status and never prints.
 * See policy.h for the evaluation rules it follows. */
#include "policy.h"
#include "buf.h"
#include "diag.h"
#include "urldecode.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* DynamoDB actions: the one table. Groups and resource kinds follow the Service Authorization
 * Reference for DynamoDB (https://docs.aws.amazon.com/service-authorization/latest/reference/
 * list_amazondynamodb.html); "privileged" is DDB-14's list. */

#define KIND_T POLICY_KIND_TABLE
#define KIND_TI (POLICY_KIND_TABLE | POLICY_KIND_INDEX)
#define KIND_TS (POLICY_KIND_TABLE | POLICY_KIND_STREAM)
#define KIND_TB (POLICY_KIND_TABLE | POLICY_KIND_BACKUP)

const struct policy_action_info policy_actions[] = {
    {"BatchGetItem", POLICY_GROUP_READ, KIND_T, 0},
    {"BatchWriteItem", POLICY_GROUP_WRITE, KIND_T, 0},
    {"ConditionCheckItem", POLICY_GROUP_READ, KIND_T, 0},
    {"CreateBackup", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"CreateGlobalTable", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"CreateTable", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"CreateTableReplica", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"DeleteBackup", POLICY_GROUP_ADMIN, POLICY_KIND_BACKUP, 1},
    {"DeleteItem", POLICY_GROUP_WRITE, KIND_T, 0},
    {"DeleteResourcePolicy", POLICY_GROUP_ADMIN, KIND_TS, 1},
    {"DeleteTable", POLICY_GROUP_ADMIN, KIND_T, 1},
    {"DeleteTableReplica", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"DescribeBackup", POLICY_GROUP_DESCRIBE, POLICY_KIND_BACKUP, 0},
    {"DescribeContinuousBackups", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"DescribeContributorInsights", POLICY_GROUP_DESCRIBE, KIND_TI, 0},
    {"DescribeEndpoints", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"DescribeExport", POLICY_GROUP_DESCRIBE, POLICY_KIND_EXPORT, 0},
    {"DescribeGlobalTable", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"DescribeGlobalTableSettings", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"DescribeImport", POLICY_GROUP_DESCRIBE, POLICY_KIND_IMPORT, 0},
    {"DescribeKinesisStreamingDestination", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"DescribeLimits", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"DescribeReservedCapacity", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"DescribeReservedCapacityOfferings", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"DescribeStream", POLICY_GROUP_DESCRIBE, POLICY_KIND_STREAM, 0},
    {"DescribeTable", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"DescribeTableReplicaAutoScaling", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"DescribeTimeToLive", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"DisableKinesisStreamingDestination", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"EnableKinesisStreamingDestination", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"ExportTableToPointInTime", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"GetItem", POLICY_GROUP_READ, KIND_T, 0},
    {"GetRecords", POLICY_GROUP_READ, POLICY_KIND_STREAM, 0},
    {"GetResourcePolicy", POLICY_GROUP_DESCRIBE, KIND_TS, 0},
    {"GetShardIterator", POLICY_GROUP_READ, POLICY_KIND_STREAM, 0},
    {"ImportTable", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"ListBackups", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"ListContributorInsights", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"ListExports", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"ListGlobalTables", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"ListImports", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"ListStreams", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"ListTables", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"ListTagsOfResource", POLICY_GROUP_DESCRIBE, KIND_T, 0},
    {"PartiQLDelete", POLICY_GROUP_WRITE, KIND_T, 0},
    {"PartiQLInsert", POLICY_GROUP_WRITE, KIND_T, 0},
    {"PartiQLSelect", POLICY_GROUP_READ, KIND_TI, 0},
    {"PartiQLUpdate", POLICY_GROUP_WRITE, KIND_T, 0},
    {"PurchaseReservedCapacityOfferings", POLICY_GROUP_ACCOUNT, POLICY_KIND_ACCOUNT, 0},
    {"PutItem", POLICY_GROUP_WRITE, KIND_T, 0},
    {"PutResourcePolicy", POLICY_GROUP_ADMIN, KIND_TS, 1},
    {"Query", POLICY_GROUP_READ, KIND_TI, 0},
    {"RestoreTableFromAwsBackup", POLICY_GROUP_ADMIN, KIND_T, 1},
    {"RestoreTableFromBackup", POLICY_GROUP_ADMIN, KIND_TB, 1},
    {"RestoreTableToPointInTime", POLICY_GROUP_ADMIN, KIND_T, 1},
    {"Scan", POLICY_GROUP_READ, KIND_TI, 0},
    {"StartAwsBackupJob", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"TagResource", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"UntagResource", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"UpdateContinuousBackups", POLICY_GROUP_ADMIN, KIND_T, 1},
    {"UpdateContributorInsights", POLICY_GROUP_ADMIN, KIND_TI, 0},
    {"UpdateGlobalTable", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"UpdateGlobalTableSettings", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"UpdateGlobalTableVersion", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"UpdateItem", POLICY_GROUP_WRITE, KIND_T, 0},
    {"UpdateKinesisStreamingDestination", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"UpdateTable", POLICY_GROUP_ADMIN, KIND_T, 1},
    {"UpdateTableReplicaAutoScaling", POLICY_GROUP_ADMIN, KIND_T, 0},
    {"UpdateTimeToLive", POLICY_GROUP_ADMIN, KIND_T, 0},
};
const size_t policy_action_count = sizeof(policy_actions) / sizeof(policy_actions[0]);

_Static_assert(sizeof(policy_actions) / sizeof(policy_actions[0]) <= 128,
               "policy_action_set holds 128 actions");

static const char *const group_names[POLICY_GROUP_COUNT] = {"read", "write", "admin", "describe",
                                                            "account"};

const char *policy_group_name(enum policy_action_group group)
{
    return (unsigned)group < POLICY_GROUP_COUNT ? group_names[group] : "unknown";
}

static void set_add(struct policy_action_set *set, size_t i)
{
    set->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

int policy_action_set_has(const struct policy_action_set *set, size_t action)
{
    return action < policy_action_count && ((set->bits[action / 64] >> (action % 64)) & 1);
}

int policy_action_set_empty(const struct policy_action_set *set)
{
    return !set->bits[0] && !set->bits[1];
}

static struct policy_action_set set_and(struct policy_action_set a, struct policy_action_set b)
{
    return (struct policy_action_set){{a.bits[0] & b.bits[0], a.bits[1] & b.bits[1]}};
}

static struct policy_action_set set_or(struct policy_action_set a, struct policy_action_set b)
{
    return (struct policy_action_set){{a.bits[0] | b.bits[0], a.bits[1] | b.bits[1]}};
}

static struct policy_action_set set_minus(struct policy_action_set a, struct policy_action_set b)
{
    return (struct policy_action_set){{a.bits[0] & ~b.bits[0], a.bits[1] & ~b.bits[1]}};
}

static int set_equal(struct policy_action_set a, struct policy_action_set b)
{
    return a.bits[0] == b.bits[0] && a.bits[1] == b.bits[1];
}

struct policy_action_set policy_group_set(enum policy_action_group group)
{
    struct policy_action_set set = {{0, 0}};
    for (size_t i = 0; i < policy_action_count; i++)
        if (policy_actions[i].group == group)
            set_add(&set, i);
    return set;
}

struct policy_action_set policy_privileged_set(void)
{
    struct policy_action_set set = {{0, 0}};
    for (size_t i = 0; i < policy_action_count; i++)
        if (policy_actions[i].privileged)
            set_add(&set, i);
    return set;
}

struct policy_action_set policy_all_actions_set(void)
{
    struct policy_action_set set = {{0, 0}};
    for (size_t i = 0; i < policy_action_count; i++)
        set_add(&set, i);
    return set;
}

/* The actions that may be authorized on one resource kind (bit). */
static struct policy_action_set kind_set(unsigned kind)
{
    struct policy_action_set set = {{0, 0}};
    for (size_t i = 0; i < policy_action_count; i++)
        if (policy_actions[i].kinds & kind)
            set_add(&set, i);
    return set;
}

int policy_action_index(const char *name)
{
    size_t lo = 0, hi = policy_action_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(policy_actions[mid].name, name);
        if (!c)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

json_t *policy_action_set_json(const struct policy_action_set *set)
{
    json_t *array = json_array();
    char name[96];
    for (size_t i = 0; array && i < policy_action_count; i++) {
        if (!policy_action_set_has(set, i))
            continue;
        size_t n = strlen(policy_actions[i].name);
        memcpy(name, "dynamodb:", 9);
        memcpy(name + 9, policy_actions[i].name, n + 1);
        json_array_append_new(array, json_string(name));
    }
    return array;
}

/* ------------------------------------------------------------------------------------------ */
/* Wildcard matching. `*` matches any run (including '/' and ':'), `?` one character. The greedy
 * algorithm with one backtrack point is exact for these two wildcards and linear in practice. */

enum glob_mode {
    GLOB_EXACT,  /* the whole subject */
    GLOB_PREFIX, /* the subject is a prefix of some string the pattern matches */
};

static int glob(const char *pattern, const char *subject, int fold, enum glob_mode mode)
{
    size_t p = 0, s = 0, star_p = (size_t)-1, star_s = 0;
    size_t plen = strlen(pattern);
    while (subject[s]) {
        if (p < plen && pattern[p] == '*') {
            star_p = p++;
            star_s = s;
        } else if (p < plen && (pattern[p] == '?' || (fold ? tolower((unsigned char)pattern[p]) ==
                                                                 tolower((unsigned char)subject[s])
                                                           : pattern[p] == subject[s]))) {
            p++;
            s++;
        } else if (star_p != (size_t)-1) {
            p = star_p + 1;
            s = ++star_s;
        } else {
            return 0;
        }
    }
    if (mode == GLOB_PREFIX)
        return 1;
    while (p < plen && pattern[p] == '*')
        p++;
    return p == plen;
}

/* Every string that starts with `prefix` (and goes on) is matched: the pattern matches the
 * prefix and ends in a star that absorbs the rest. */
static int glob_covers_all(const char *pattern, const char *prefix)
{
    size_t n = strlen(pattern);
    return n && pattern[n - 1] == '*' && glob(pattern, prefix, 0, GLOB_EXACT);
}

int policy_action_matches(const char *pattern, const char *action)
{
    return glob(pattern, action, 1, GLOB_EXACT);
}

int policy_arn_matches(const char *pattern, const char *arn)
{
    return glob(pattern, arn, 0, GLOB_EXACT);
}

/* ------------------------------------------------------------------------------------------ */
/* Conditions. Keys are case-insensitive in IAM; operators are not, but we only read keys. */

static const struct {
    const char *key;
    unsigned kind;
} condition_keys[] = {
    {"aws:securetransport", POLICY_COND_SECURE_TRANSPORT},
    {"aws:sourcevpce", POLICY_COND_SOURCE_VPCE},
    {"aws:sourcevpc", POLICY_COND_SOURCE_VPC},
    {"dynamodb:leadingkeys", POLICY_COND_FINE_GRAINED},
    {"dynamodb:attributes", POLICY_COND_FINE_GRAINED},
    {"dynamodb:select", POLICY_COND_FINE_GRAINED},
    {"dynamodb:returnvalues", POLICY_COND_FINE_GRAINED},
    {"dynamodb:returnconsumedcapacity", POLICY_COND_FINE_GRAINED},
    {"aws:multifactorauthpresent", POLICY_COND_MFA},
    {"aws:multifactorauthage", POLICY_COND_MFA},
    {"aws:sourceip", POLICY_COND_SOURCE_IP},
    {"aws:principalorgid", POLICY_COND_PRINCIPAL_ORG},
    {"aws:principalorgpaths", POLICY_COND_PRINCIPAL_ORG},
    {"aws:principalaccount", POLICY_COND_PRINCIPAL_ACCOUNT},
    {"aws:principalarn", POLICY_COND_PRINCIPAL_ACCOUNT},
    {"aws:sourceaccount", POLICY_COND_PRINCIPAL_ACCOUNT},
    {"aws:sourcearn", POLICY_COND_PRINCIPAL_ACCOUNT},
    {"aws:sourceowner", POLICY_COND_PRINCIPAL_ACCOUNT},
    {"kms:calleraccount", POLICY_COND_PRINCIPAL_ACCOUNT},
    {"kms:viaservice", POLICY_COND_VIA_SERVICE},
};

static const char *const condition_kind_names[POLICY_COND_KIND_COUNT] = {
    "secure_transport", "source_vpce",   "source_vpc",        "fine_grained", "mfa",
    "source_ip",        "principal_org", "principal_account", "other",        "via_service"};

const char *policy_condition_kind_name(unsigned kind)
{
    for (unsigned i = 0; i < POLICY_COND_KIND_COUNT; i++)
        if (kind == 1u << i)
            return condition_kind_names[i];
    return "other";
}

static unsigned condition_key_kind(const char *key)
{
    for (size_t i = 0; i < sizeof(condition_keys) / sizeof(condition_keys[0]); i++)
        if (!strcasecmp(key, condition_keys[i].key))
            return condition_keys[i].kind;
    return POLICY_COND_OTHER;
}

unsigned policy_condition_classify(json_t *condition)
{
    unsigned kinds = 0;
    const char *operator;
    json_t *block;
    if (!json_is_object(condition))
        return 0;
    json_object_foreach(condition, operator, block)
    {
        const char *key;
        json_t *value;
        if (!json_is_object(block)) {
            kinds |= POLICY_COND_OTHER;
            continue;
        }
        json_object_foreach(block, key, value)
        {
            (void)value;
            kinds |= condition_key_kind(key);
        }
    }
    return kinds;
}

static json_t *condition_values(json_t *value)
{
    json_t *values = json_array();
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) json_array_append(values, item);
    } else {
        json_array_append(values, value);
    }
    return values;
}

json_t *policy_condition_json(json_t *condition)
{
    json_t *out = json_array();
    const char *operator;
    json_t *block;
    if (!out || !json_is_object(condition))
        return out;
    json_object_foreach(condition, operator, block)
    {
        const char *key;
        json_t *value;
        if (!json_is_object(block))
            continue;
        json_object_foreach(block, key, value)
        {
            json_array_append_new(out,
                                  json_pack("{s:s, s:s, s:s, s:o}", "kind",
                                            policy_condition_kind_name(condition_key_kind(key)),
                                            "operator", operator, "key", key, "values",
                                            condition_values(value)));
        }
    }
    return out;
}

static int value_is_false(json_t *value)
{
    if (json_is_false(value))
        return 1;
    if (json_is_string(value))
        return !strcasecmp(json_string_value(value), "false");
    if (json_is_array(value) && json_array_size(value) == 1)
        return value_is_false(json_array_get(value, 0));
    return 0;
}

int policy_condition_denies_plaintext(json_t *condition)
{
    const char *operator;
    json_t *block;
    if (!json_is_object(condition) || json_object_size(condition) != 1)
        return 0;
    json_object_foreach(condition, operator, block)
    {
        if (strcmp(operator, "Bool") && strcmp(operator, "BoolIfExists"))
            return 0;
        if (!json_is_object(block) || json_object_size(block) != 1)
            return 0;
        const char *key;
        json_t *value;
        json_object_foreach(block, key, value)
        {
            if (strcasecmp(key, "aws:SecureTransport") || !value_is_false(value))
                return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Documents. */

char *policy_url_decode(const char *text, size_t len)
{
    return url_decode(text, len, URLDECODE_PLUS | URLDECODE_STRICT, NULL);
}

static char *dup_string(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *format_string(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format_string(const char *fmt, ...)
{
    struct buf b;
    va_list ap;
    buf_init(&b, 1 << 16);
    va_start(ap, fmt);
    int rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* Replaces policy variables (${aws:username}, ...) with '*': the analysis cannot know the
 * requester, so a variable may match anything. */
static char *normalize_resource(const char *pattern)
{
    if (!strstr(pattern, "${"))
        return strdup(pattern);
    size_t n = strlen(pattern);
    char *out = malloc(n + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (pattern[i] == '$' && pattern[i + 1] == '{') {
            const char *end = strchr(pattern + i, '}');
            if (end) {
                out[o++] = '*';
                i = (size_t)(end - pattern);
                continue;
            }
        }
        out[o++] = pattern[i];
    }
    out[o] = '\0';
    return out;
}

/* A string or an array of strings into a fresh array (NULL-safe with *count = 0). */
static int string_list(json_t *value, char ***out, size_t *count, int resources)
{
    size_t n = json_is_array(value) ? json_array_size(value) : 1;
    *out = NULL;
    *count = 0;
    if (json_is_array(value) && n == 0)
        return -1;
    char **list = calloc(n, sizeof(*list));
    if (!list)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_is_array(value) ? json_array_get(value, i) : value;
        if (!json_is_string(item)) {
            for (size_t j = 0; j < i; j++)
                free(list[j]);
            free(list);
            return -1;
        }
        list[i] = resources ? normalize_resource(json_string_value(item))
                            : strdup(json_string_value(item));
    }
    *out = list;
    *count = n;
    return 0;
}

static void statement_clear(struct policy_statement *st)
{
    free(st->sid);
    for (size_t i = 0; i < st->action_count; i++)
        free(st->actions[i]);
    free(st->actions);
    for (size_t i = 0; i < st->resource_count; i++)
        free(st->resources[i]);
    free(st->resources);
    for (size_t i = 0; i < st->principal_count; i++)
        free(st->principals[i].value);
    free(st->principals);
    free(st->pointer);
    free(st->memo);
}

static int parse_principal(struct policy_statement *st, json_t *value)
{
    static const struct {
        const char *key;
        enum policy_principal_kind kind;
    } keys[] = {{"AWS", POLICY_PRINCIPAL_AWS},
                {"Service", POLICY_PRINCIPAL_SERVICE},
                {"Federated", POLICY_PRINCIPAL_FEDERATED},
                {"CanonicalUser", POLICY_PRINCIPAL_CANONICAL}};
    st->has_principal = 1;
    if (json_is_string(value)) {
        if (strcmp(json_string_value(value), "*"))
            return -1;
        st->principals = calloc(1, sizeof(*st->principals));
        if (!st->principals)
            return -1;
        st->principals[0].kind = POLICY_PRINCIPAL_AWS;
        st->principals[0].value = strdup("*");
        st->principal_count = 1;
        return 0;
    }
    if (!json_is_object(value))
        return -1;
    const char *key;
    json_t *item;
    json_object_foreach(value, key, item)
    {
        size_t k = 0;
        while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k].key, key))
            k++;
        if (k == sizeof(keys) / sizeof(keys[0]))
            return -1;
        char **names;
        size_t count;
        if (string_list(item, &names, &count, 0) < 0)
            return -1;
        struct policy_principal_name *grown =
            realloc(st->principals, (st->principal_count + count) * sizeof(*grown));
        if (!grown) {
            for (size_t i = 0; i < count; i++)
                free(names[i]);
            free(names);
            return -1;
        }
        st->principals = grown;
        for (size_t i = 0; i < count; i++) {
            st->principals[st->principal_count].kind = keys[k].kind;
            st->principals[st->principal_count++].value = names[i];
        }
        free(names);
    }
    return 0;
}

/* Which known DynamoDB actions a list of action patterns names. */
static void match_actions(struct policy_statement *st)
{
    struct policy_action_set named = {{0, 0}};
    char action[96];
    for (size_t a = 0; a < st->action_count; a++) {
        const char *pattern = st->actions[a];
        if (strncasecmp(pattern, "dynamodb:", 9) && strcmp(pattern, "*"))
            st->other_actions = 1;
        if (!strpbrk(pattern, "*?")) {
            /* No wildcard: one case-insensitive look-up instead of a match per action. */
            if (!strncasecmp(pattern, "dynamodb:", 9)) {
                size_t lo = 0, hi = policy_action_count;
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    int c = strcasecmp(policy_actions[mid].name, pattern + 9);
                    if (!c) {
                        set_add(&named, mid);
                        break;
                    }
                    if (c < 0)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
            }
            continue;
        }
        for (size_t i = 0; i < policy_action_count; i++) {
            size_t n = strlen(policy_actions[i].name);
            memcpy(action, "dynamodb:", 9);
            memcpy(action + 9, policy_actions[i].name, n + 1);
            if (policy_action_matches(pattern, action))
                set_add(&named, i);
        }
    }
    struct policy_action_set all = policy_all_actions_set();
    if (st->not_action) {
        named = set_minus(all, named);
        st->other_actions = 1; /* NotAction reaches every other service too */
    }
    st->dynamodb_actions = named;
    st->all_dynamodb = set_equal(named, all);
}

static const char *const statement_keys[] = {
    "Sid",         "Effect",    "Action",       "NotAction", "Resource",
    "NotResource", "Principal", "NotPrincipal", "Condition", NULL};

static char *parse_statement(struct policy_statement *st, json_t *object, enum policy_source source,
                             size_t index)
{
    st->index = index;
    if (!json_is_object(object))
        return format_string("statement %zu is not an object", index);
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value)
    {
        size_t k = 0;
        while (statement_keys[k] && strcmp(statement_keys[k], key))
            k++;
        if (!statement_keys[k])
            return format_string("statement %zu has an unknown element \"%s\"", index, key);
    }
    json_t *sid = json_object_get(object, "Sid");
    if (sid && !json_is_string(sid))
        return format_string("statement %zu: Sid is not a string", index);
    st->sid = sid ? strdup(json_string_value(sid)) : NULL;
    json_t *effect = json_object_get(object, "Effect");
    if (json_is_string(effect) && !strcmp(json_string_value(effect), "Allow"))
        st->effect = POLICY_ALLOW;
    else if (json_is_string(effect) && !strcmp(json_string_value(effect), "Deny"))
        st->effect = POLICY_DENY;
    else
        return format_string("statement %zu: Effect must be \"Allow\" or \"Deny\"", index);

    json_t *action = json_object_get(object, "Action");
    json_t *not_action = json_object_get(object, "NotAction");
    if (!!action == !!not_action)
        return format_string("statement %zu must have exactly one of Action and NotAction", index);
    st->not_action = !!not_action;
    if (string_list(action ? action : not_action, &st->actions, &st->action_count, 0) < 0)
        return format_string("statement %zu: %s must be a string or a non-empty list of strings",
                             index, action ? "Action" : "NotAction");

    json_t *resource = json_object_get(object, "Resource");
    json_t *not_resource = json_object_get(object, "NotResource");
    if (resource && not_resource)
        return format_string("statement %zu has both Resource and NotResource", index);
    if (resource || not_resource) {
        st->has_resource = 1;
        st->not_resource = !!not_resource;
        if (string_list(resource ? resource : not_resource, &st->resources, &st->resource_count,
                        1) < 0)
            return format_string(
                "statement %zu: %s must be a string or a non-empty list of strings", index,
                resource ? "Resource" : "NotResource");
    } else if (source != POLICY_SOURCE_TRUST) {
        return format_string("statement %zu has neither Resource nor NotResource", index);
    }

    json_t *principal = json_object_get(object, "Principal");
    json_t *not_principal = json_object_get(object, "NotPrincipal");
    if (principal && not_principal)
        return format_string("statement %zu has both Principal and NotPrincipal", index);
    if (principal || not_principal) {
        if (source == POLICY_SOURCE_MANAGED || source == POLICY_SOURCE_INLINE)
            return format_string("statement %zu: an identity policy cannot name a Principal",
                                 index);
        st->not_principal = !!not_principal;
        if (parse_principal(st, principal ? principal : not_principal) < 0)
            return format_string("statement %zu: %s must be \"*\" or an object of AWS, Service, "
                                 "Federated or CanonicalUser names",
                                 index, principal ? "Principal" : "NotPrincipal");
    } else if (source == POLICY_SOURCE_RESOURCE || source == POLICY_SOURCE_TRUST) {
        return format_string("statement %zu has neither Principal nor NotPrincipal", index);
    }

    json_t *condition = json_object_get(object, "Condition");
    if (condition) {
        const char *operator;
        json_t *block;
        if (!json_is_object(condition))
            return format_string("statement %zu: Condition is not an object", index);
        json_object_foreach(condition, operator, block)
        {
            if (!json_is_object(block))
                return format_string("statement %zu: condition operator %s is not an object",
                                     index, operator);
        }
        if (json_object_size(condition))
            st->condition = condition;
    }
    st->condition_kinds = policy_condition_classify(st->condition);
    match_actions(st);
    return NULL;
}

static char *parse_statements(struct policy_document *doc)
{
    if (!json_is_object(doc->root))
        return strdup("the policy document is not a JSON object");
    json_t *statements = json_object_get(doc->root, "Statement");
    if (!statements)
        return strdup("the policy document has no Statement");
    int is_list = json_is_array(statements);
    if (!is_list && !json_is_object(statements))
        return strdup("Statement is neither an object nor a list");
    size_t n = is_list ? json_array_size(statements) : 1;
    doc->statements = n ? calloc(n, sizeof(*doc->statements)) : NULL;
    if (n && !doc->statements)
        return strdup("out of memory");
    for (size_t i = 0; i < n; i++) {
        struct policy_statement *st = &doc->statements[i];
        doc->statement_count = i + 1;
        char *error = parse_statement(st, is_list ? json_array_get(statements, i) : statements,
                                      doc->source, i);
        if (error)
            return error;
        if (doc->pointer && !doc->encoded)
            st->pointer = is_list ? format_string("%s/Statement/%zu", doc->pointer, i)
                                  : format_string("%s/Statement", doc->pointer);
    }
    return NULL;
}

void policy_document_free(struct policy_document *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->statement_count; i++)
        statement_clear(&doc->statements[i]);
    free(doc->statements);
    free(doc->name);
    free(doc->pointer);
    free(doc->error);
    json_decref(doc->root);
    free(doc);
}

struct policy_document *policy_document_parse(json_t *value, const char *name,
                                              enum policy_source source,
                                              const struct evidence_call *call, const char *pointer)
{
    struct policy_document *doc = calloc(1, sizeof(*doc));
    if (!doc)
        return NULL;
    doc->name = strdup(name ? name : "(unnamed policy)");
    doc->source = source;
    doc->call = call;
    doc->pointer = dup_string(pointer);
    if (json_is_string(value)) {
        const char *text = json_string_value(value);
        size_t len = json_string_length(value);
        size_t i = 0;
        doc->encoded = 1;
        if (len > POLICY_MAX_DOCUMENT) {
            doc->error = format_string("the policy document is larger than %zu bytes",
                                       (size_t)POLICY_MAX_DOCUMENT);
            return doc;
        }
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        json_error_t error;
        if (i < len && text[i] == '{') {
            doc->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
            if (!doc->root)
                doc->error = format_string("the policy document is not valid JSON (line %d, "
                                           "column %d: %s)",
                                           error.line, error.column, error.text);
        } else {
            char *decoded = policy_url_decode(text, len);
            if (!decoded) {
                doc->error = strdup("the policy document is neither JSON nor valid URL-encoded "
                                    "JSON (bad %-escape)");
                return doc;
            }
            doc->root = json_loads(decoded, JSON_REJECT_DUPLICATES, &error);
            free(decoded);
            if (!doc->root)
                doc->error = format_string("the URL-decoded policy document is not valid JSON "
                                           "(line %d, column %d: %s)",
                                           error.line, error.column, error.text);
        }
        if (!doc->root)
            return doc;
    } else if (json_is_object(value)) {
        doc->root = json_incref(value);
    } else {
        doc->error = strdup(value ? "the policy document is neither an object nor a string"
                                  : "the policy document is missing");
        return doc;
    }
    doc->error = parse_statements(doc);
    if (doc->error) {
        for (size_t i = 0; i < doc->statement_count; i++)
            statement_clear(&doc->statements[i]);
        free(doc->statements);
        doc->statements = NULL;
        doc->statement_count = 0;
    }
    return doc;
}

/* ------------------------------------------------------------------------------------------ */
/* A string → index hash map (FNV-1a, open addressing). Keys are borrowed. */

struct strmap {
    const char **keys;
    size_t *values;
    size_t capacity; /* power of two */
    size_t count;
};

static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static void strmap_free(struct strmap *map)
{
    free(map->keys);
    free(map->values);
    memset(map, 0, sizeof(*map));
}

static int strmap_grow(struct strmap *map)
{
    size_t capacity = map->capacity ? map->capacity * 2 : 64;
    const char **keys = calloc(capacity, sizeof(*keys));
    size_t *values = calloc(capacity, sizeof(*values));
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < map->capacity; i++) {
        if (!map->keys[i])
            continue;
        size_t at = hash_string(map->keys[i]) & (capacity - 1);
        while (keys[at])
            at = (at + 1) & (capacity - 1);
        keys[at] = map->keys[i];
        values[at] = map->values[i];
    }
    free(map->keys);
    free(map->values);
    map->keys = keys;
    map->values = values;
    map->capacity = capacity;
    return 0;
}

static size_t *strmap_find(const struct strmap *map, const char *key)
{
    if (!map->capacity)
        return NULL;
    size_t at = hash_string(key) & (map->capacity - 1);
    while (map->keys[at]) {
        if (!strcmp(map->keys[at], key))
            return &map->values[at];
        at = (at + 1) & (map->capacity - 1);
    }
    return NULL;
}

/* Inserts key (if absent) with value; returns 0, or -1 when out of memory. */
static int strmap_put(struct strmap *map, const char *key, size_t value)
{
    size_t *found = strmap_find(map, key);
    if (found) {
        *found = value;
        return 0;
    }
    if ((map->count + 1) * 2 > map->capacity && strmap_grow(map) < 0)
        return -1;
    size_t at = hash_string(key) & (map->capacity - 1);
    while (map->keys[at])
        at = (at + 1) & (map->capacity - 1);
    map->keys[at] = key;
    map->values[at] = value;
    map->count++;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Analysis state. */

#define SUB_KINDS 5 /* index, stream, backup, export, import: ARNs below the table's */
static const unsigned sub_kind_bits[SUB_KINDS] = {POLICY_KIND_INDEX, POLICY_KIND_STREAM,
                                                  POLICY_KIND_BACKUP, POLICY_KIND_EXPORT,
                                                  POLICY_KIND_IMPORT};
static const char *const sub_kind_paths[SUB_KINDS] = {"/index/", "/stream/", "/backup/", "/export/",
                                                      "/import/"};
#define TABLE_KINDS                                                                                \
    (POLICY_KIND_TABLE | POLICY_KIND_INDEX | POLICY_KIND_STREAM | POLICY_KIND_BACKUP |             \
     POLICY_KIND_EXPORT | POLICY_KIND_IMPORT)

struct table_hit {
    uint32_t table;
    uint8_t some; /* kinds of which some resource of this table is matched (grants) */
    uint8_t all;  /* kinds of which every resource of this table is matched (denies) */
};

/* Which tables a pattern, or a statement's resources, reach. */
struct reach {
    uint8_t all_some, all_all; /* kinds reached on every table (and the account for "*") */
    size_t count;
    struct table_hit *hits; /* by table, in addition to the all_* kinds */
};

enum origin { ORIGIN_IDENTITY, ORIGIN_RESOURCE, ORIGIN_BOUNDARY };

struct record {
    uint32_t table;    /* or NO_TABLE for "every table" */
    uint32_t sequence; /* order of discovery: keeps sorting, and so output, deterministic */
    uint8_t some, all;
    uint8_t origin;
    const struct policy_statement *statement;
    const struct policy_document *document;
    const char *via;
};
#define NO_TABLE UINT32_MAX

struct record_list {
    struct record *items;
    size_t count, capacity;
};

struct group {
    const char *name;
    json_t *attached; /* its AttachedManagedPolicies, resolved per member */
    struct policy_document **policies;
    size_t policy_count;
};

struct state {
    struct strmap managed;     /* ARN → document index */
    struct strmap groups;      /* name → group index */
    struct strmap principals;  /* ARN → principal index */
    struct strmap table_names; /* name → first table index; chained through name_next */
    size_t *name_next;
    struct strmap patterns; /* resource pattern → pattern_reach index */
    struct reach **pattern_reach;
    char **pattern_keys;
    size_t pattern_count, pattern_capacity;
    char **sub_prefix; /* per table, SUB_KINDS prefixes */
    struct group *group_list;
    size_t group_count;
    struct record_list *resource_records; /* per principal: grants from resource policies */
    size_t resource_records_capacity;
    struct record_list *everyone_deny; /* per table: resource policy denies for every caller */
    uint8_t *has_everyone_deny;
    size_t *deny_tables; /* the tables with such denies */
    size_t deny_table_count;
    uint32_t *deny_stamp; /* per table: the last principal (+1) they were added for */
    struct policy_action_set kind_sets[POLICY_KIND_COUNT];
    size_t document_capacity, principal_capacity;
    int out_of_memory;
};

static int record_push(struct record_list *list, const struct record *record)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        struct record *items = realloc(list->items, capacity * sizeof(*items));
        if (!items)
            return -1;
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count] = *record;
    list->items[list->count].sequence = (uint32_t)list->count;
    list->count++;
    return 0;
}

static void note(struct policy_analysis *analysis, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct policy_analysis *analysis, const char *fmt, ...)
{
    struct buf b;
    va_list ap;
    buf_init(&b, 4096);
    va_start(ap, fmt);
    if (buf_vprintf(&b, fmt, ap) == 0)
        json_array_append_new(analysis->notes, json_string(buf_cstr(&b)));
    va_end(ap);
    buf_free(&b);
}

/* The kinds of one table a single pattern reaches. */
static void pattern_table_kinds(const struct state *state, const char *pattern,
                                const struct policy_table *table, size_t index, uint8_t *some,
                                uint8_t *all)
{
    if (glob(pattern, table->arn, 0, GLOB_EXACT)) {
        *some |= POLICY_KIND_TABLE;
        *all |= POLICY_KIND_TABLE;
    }
    /* Cheap reject: a pattern that cannot even start the table's ARN reaches nothing below. */
    if (!glob(pattern, table->arn, 0, GLOB_PREFIX))
        return;
    for (int k = 0; k < SUB_KINDS; k++) {
        const char *prefix = state->sub_prefix[index * SUB_KINDS + (size_t)k];
        if (glob(pattern, prefix, 0, GLOB_PREFIX))
            *some |= (uint8_t)sub_kind_bits[k];
        if (glob_covers_all(pattern, prefix))
            *all |= (uint8_t)sub_kind_bits[k];
    }
}

/* The table name a pattern names literally ("arn:…:table/orders/…" → "orders"), so only tables
 * of that name need testing. Returns 0 when the name has wildcards or the pattern has no
 * "table/" resource part. */
static int pattern_literal_name(const char *pattern, char *name, size_t size)
{
    const char *resource = pattern;
    for (int colons = 0; colons < 5; colons++) {
        const char *colon = strchr(resource, ':');
        if (!colon)
            return 0;
        resource = colon + 1;
    }
    if (strncmp(resource, "table/", 6))
        return 0;
    resource += 6;
    size_t n = strcspn(resource, "/");
    if (n == 0 || n >= size || memchr(resource, '*', n) || memchr(resource, '?', n))
        return 0;
    /* A '*' in the region or account segment could in theory swallow more colons, but only
     * into names DynamoDB does not allow; the literal segment after "table/" is what counts. */
    memcpy(name, resource, n);
    name[n] = '\0';
    return 1;
}

static void reach_free(struct reach *reach)
{
    if (reach) {
        free(reach->hits);
        free(reach);
    }
}

/* Collapses a reach where every table has the same kinds into all_* flags. */
static void reach_compress(struct reach *reach, size_t table_count)
{
    if (!reach->count || reach->count != table_count)
        return;
    uint8_t some = reach->hits[0].some, all = reach->hits[0].all;
    for (size_t i = 1; i < reach->count; i++)
        if (reach->hits[i].some != some || reach->hits[i].all != all)
            return;
    reach->all_some |= some;
    reach->all_all |= all;
    free(reach->hits);
    reach->hits = NULL;
    reach->count = 0;
}

static struct reach *pattern_reach(struct policy_analysis *analysis, struct state *state,
                                   const char *pattern)
{
    size_t *found = strmap_find(&state->patterns, pattern);
    if (found)
        return state->pattern_reach[*found];
    struct reach *reach = calloc(1, sizeof(*reach));
    if (!reach)
        return NULL;
    if (!strcmp(pattern, "*")) {
        reach->all_some = reach->all_all = TABLE_KINDS | POLICY_KIND_ACCOUNT;
    } else {
        char name[256];
        size_t capacity = 0;
        size_t first = 0;
        int literal = pattern_literal_name(pattern, name, sizeof(name));
        size_t *head = literal ? strmap_find(&state->table_names, name) : NULL;
        if (literal && !head)
            goto store;
        first = literal ? *head : 0;
        size_t literal_prefix = strcspn(pattern, "*?");
        for (size_t t = first; t < analysis->table_count;
             t = literal ? state->name_next[t] : t + 1) {
            uint8_t some = 0, all = 0;
            /* Whatever precedes the first wildcard must start the table's ARN (or be started
             * by it, for ARNs below the table's). */
            const char *arn = analysis->tables[t].arn;
            size_t arn_len = strlen(arn);
            size_t n = literal_prefix < arn_len ? literal_prefix : arn_len;
            if (memcmp(pattern, arn, n))
                continue;
            pattern_table_kinds(state, pattern, &analysis->tables[t], t, &some, &all);
            if (!some)
                continue;
            if (reach->count == capacity) {
                capacity = capacity ? capacity * 2 : 4;
                struct table_hit *hits = realloc(reach->hits, capacity * sizeof(*hits));
                if (!hits) {
                    reach_free(reach);
                    return NULL;
                }
                reach->hits = hits;
            }
            reach->hits[reach->count++] = (struct table_hit){(uint32_t)t, some, all};
        }
        if (!literal)
            reach_compress(reach, analysis->table_count);
    }
store:
    if (state->pattern_count == state->pattern_capacity) {
        size_t capacity = state->pattern_capacity ? state->pattern_capacity * 2 : 64;
        struct reach **reaches = realloc(state->pattern_reach, capacity * sizeof(*reaches));
        char **keys = reaches ? realloc(state->pattern_keys, capacity * sizeof(*keys)) : NULL;
        if (reaches)
            state->pattern_reach = reaches;
        if (!keys) {
            reach_free(reach);
            return NULL;
        }
        state->pattern_keys = keys;
        state->pattern_capacity = capacity;
    }
    char *key = strdup(pattern);
    if (!key || strmap_put(&state->patterns, key, state->pattern_count) < 0) {
        free(key);
        reach_free(reach);
        return NULL;
    }
    state->pattern_keys[state->pattern_count] = key;
    state->pattern_reach[state->pattern_count++] = reach;
    return reach;
}

/* Merges b's hits into a (both sorted by table). */
static int reach_merge(struct reach *a, const struct reach *b)
{
    a->all_some |= b->all_some;
    a->all_all |= b->all_all;
    if (!b->count)
        return 0;
    struct table_hit *hits = malloc((a->count + b->count) * sizeof(*hits));
    if (!hits)
        return -1;
    size_t i = 0, j = 0, n = 0;
    while (i < a->count || j < b->count) {
        if (j == b->count || (i < a->count && a->hits[i].table < b->hits[j].table))
            hits[n++] = a->hits[i++];
        else if (i == a->count || b->hits[j].table < a->hits[i].table)
            hits[n++] = b->hits[j++];
        else {
            hits[n] = a->hits[i++];
            hits[n].some |= b->hits[j].some;
            hits[n++].all |= b->hits[j++].all;
        }
    }
    free(a->hits);
    a->hits = hits;
    a->count = n;
    return 0;
}

/* The kinds of one table a statement's Resource/NotResource reaches. */
static void statement_table_kinds(const struct state *state, const struct policy_statement *st,
                                  const struct policy_table *table, size_t index, uint8_t *some,
                                  uint8_t *all)
{
    uint8_t pattern_some = 0, pattern_all = 0;
    int account = 0;
    for (size_t r = 0; r < st->resource_count; r++) {
        pattern_table_kinds(state, st->resources[r], table, index, &pattern_some, &pattern_all);
        if (glob(st->resources[r], "*", 0, GLOB_EXACT))
            account = 1;
    }
    if (!st->not_resource) {
        *some = pattern_some;
        *all = pattern_all;
        return;
    }
    /* NotResource: it applies to some resource of a kind unless a pattern covers them all, and
     * to every resource of a kind only if no pattern touches any. */
    *some = (uint8_t)(TABLE_KINDS & ~pattern_all);
    *all = (uint8_t)(TABLE_KINDS & ~pattern_some);
    (void)account;
}

static const struct reach *statement_reach(struct policy_analysis *analysis, struct state *state,
                                           struct policy_statement *st)
{
    if (st->memo)
        return st->memo;
    struct reach *reach = calloc(1, sizeof(*reach));
    if (!reach)
        return NULL;
    if (!st->not_resource) {
        for (size_t r = 0; r < st->resource_count; r++) {
            const struct reach *one = pattern_reach(analysis, state, st->resources[r]);
            if (!one || reach_merge(reach, one) < 0) {
                reach_free(reach);
                return NULL;
            }
        }
    } else {
        int account_excluded = 0;
        for (size_t r = 0; r < st->resource_count; r++)
            if (glob(st->resources[r], "*", 0, GLOB_EXACT))
                account_excluded = 1;
        if (!account_excluded)
            reach->all_some = reach->all_all = POLICY_KIND_ACCOUNT;
        reach->hits =
            analysis->table_count ? malloc(analysis->table_count * sizeof(*reach->hits)) : NULL;
        if (analysis->table_count && !reach->hits) {
            reach_free(reach);
            return NULL;
        }
        for (size_t t = 0; t < analysis->table_count; t++) {
            uint8_t some = 0, all = 0;
            statement_table_kinds(state, st, &analysis->tables[t], t, &some, &all);
            if (some)
                reach->hits[reach->count++] = (struct table_hit){(uint32_t)t, some, all};
        }
        uint8_t keep_some = reach->all_some, keep_all = reach->all_all;
        reach->all_some = reach->all_all = 0;
        reach_compress(reach, analysis->table_count);
        reach->all_some |= keep_some;
        reach->all_all |= keep_all;
    }
    /* Drop hits the all_* kinds already cover. */
    size_t n = 0;
    for (size_t i = 0; i < reach->count; i++) {
        struct table_hit hit = reach->hits[i];
        hit.some &= (uint8_t)~reach->all_some;
        hit.all &= (uint8_t)~reach->all_all;
        if (hit.some || hit.all)
            reach->hits[n++] = hit;
    }
    reach->count = n;
    st->memo = reach;
    return reach;
}

/* ------------------------------------------------------------------------------------------ */
/* Building principals from GetAccountAuthorizationDetails. */

static struct policy_document *add_document(struct policy_analysis *analysis, struct state *state,
                                            json_t *value, const char *name,
                                            enum policy_source source, const char *pointer)
{
    struct policy_document *doc =
        policy_document_parse(value, name, source, analysis->authorization_call, pointer);
    if (!doc) {
        state->out_of_memory = 1;
        return NULL;
    }
    if (analysis->document_count == state->document_capacity) {
        size_t capacity = state->document_capacity ? state->document_capacity * 2 : 256;
        struct policy_document **grown = realloc(analysis->documents, capacity * sizeof(*grown));
        if (!grown) {
            policy_document_free(doc);
            state->out_of_memory = 1;
            return NULL;
        }
        analysis->documents = grown;
        state->document_capacity = capacity;
    }
    analysis->documents[analysis->document_count++] = doc;
    return doc;
}

static const char *string_member(json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

/* The default version's document of a managed policy entry (IsDefaultVersion, else the version
 * whose VersionId is DefaultVersionId). Sets *version to its index. */
static json_t *default_version(json_t *policy, size_t *version)
{
    json_t *versions = json_object_get(policy, "PolicyVersionList");
    const char *default_id = string_member(policy, "DefaultVersionId");
    size_t i;
    json_t *entry;
    json_array_foreach(versions, i, entry)
    {
        if (json_is_true(json_object_get(entry, "IsDefaultVersion"))) {
            *version = i;
            return entry;
        }
    }
    json_array_foreach(versions, i, entry)
    {
        const char *id = string_member(entry, "VersionId");
        if (default_id && id && !strcmp(id, default_id)) {
            *version = i;
            return entry;
        }
    }
    return NULL;
}

static void load_managed_policies(struct policy_analysis *analysis, struct state *state,
                                  json_t *details)
{
    json_t *policies = json_object_get(details, "Policies");
    size_t i;
    json_t *policy;
    json_array_foreach(policies, i, policy)
    {
        const char *arn = string_member(policy, "Arn");
        char pointer[96];
        if (!arn) {
            note(analysis, "managed policy /Policies/%zu has no Arn and was skipped", i);
            continue;
        }
        size_t version = 0;
        json_t *entry = default_version(policy, &version);
        struct policy_document *doc;
        if (!entry) {
            snprintf(pointer, sizeof(pointer), "/Policies/%zu", i);
            doc = add_document(analysis, state, NULL, arn, POLICY_SOURCE_MANAGED, pointer);
            if (doc) {
                free(doc->error);
                doc->error = strdup("the managed policy has no default version in "
                                    "PolicyVersionList");
            }
        } else {
            snprintf(pointer, sizeof(pointer), "/Policies/%zu/PolicyVersionList/%zu/Document", i,
                     version);
            doc = add_document(analysis, state, json_object_get(entry, "Document"), arn,
                               POLICY_SOURCE_MANAGED, pointer);
        }
        if (doc && strmap_put(&state->managed, doc->name, analysis->document_count - 1) < 0)
            state->out_of_memory = 1;
    }
}

/* Inline policies of a user, group or role: [{PolicyName, PolicyDocument}]. */
static int load_inline(struct policy_analysis *analysis, struct state *state, json_t *list,
                       const char *owner, const char *base, struct policy_document ***out,
                       size_t *count)
{
    size_t i;
    json_t *entry;
    json_array_foreach(list, i, entry)
    {
        char *name = format_string(
            "%s#%s", owner,
            string_member(entry, "PolicyName") ? string_member(entry, "PolicyName") : "(unnamed)");
        char *pointer = format_string("%s/%zu/PolicyDocument", base, i);
        struct policy_document *doc =
            name && pointer
                ? add_document(analysis, state, json_object_get(entry, "PolicyDocument"), name,
                               POLICY_SOURCE_INLINE, pointer)
                : NULL;
        free(name);
        free(pointer);
        if (!doc)
            return -1;
        struct policy_document **grown = realloc(*out, (*count + 1) * sizeof(*grown));
        if (!grown)
            return -1;
        *out = grown;
        (*out)[(*count)++] = doc;
    }
    return 0;
}

static int principal_add_policy(struct policy_principal *p, struct policy_document *doc,
                                const char *via)
{
    for (size_t i = 0; i < p->policy_count; i++)
        if (p->policies[i] == doc)
            return 0; /* the same managed policy through a group and directly counts once */
    struct policy_document **policies =
        realloc(p->policies, (p->policy_count + 1) * sizeof(*policies));
    if (!policies)
        return -1;
    p->policies = policies;
    const char **vias = realloc((void *)p->via, (p->policy_count + 1) * sizeof(*vias));
    if (!vias)
        return -1;
    p->via = vias;
    p->policies[p->policy_count] = doc;
    p->via[p->policy_count++] = via;
    doc->attachments++;
    return 0;
}

static void attach_managed(struct policy_analysis *analysis, struct state *state,
                           struct policy_principal *p, json_t *attached, const char *via)
{
    size_t i;
    json_t *entry;
    json_array_foreach(attached, i, entry)
    {
        const char *arn = string_member(entry, "PolicyArn");
        size_t *found = arn ? strmap_find(&state->managed, arn) : NULL;
        if (!found) {
            p->unresolved_policies++;
            note(analysis,
                 "managed policy %s attached to %s%s%s is not in the authorization details; its "
                 "permissions are not analysed",
                 arn ? arn : "(no ARN)", via ? "group " : "", via ? via : p->arn, via ? "" : "");
            continue;
        }
        if (principal_add_policy(p, analysis->documents[*found], via) < 0)
            state->out_of_memory = 1;
    }
}

static struct policy_principal *new_principal(struct policy_analysis *analysis, struct state *state,
                                              enum policy_principal_type type, const char *arn,
                                              const char *name)
{
    if (analysis->principal_count == state->principal_capacity) {
        size_t capacity = state->principal_capacity ? state->principal_capacity * 2 : 64;
        struct policy_principal *grown = realloc(analysis->principals, capacity * sizeof(*grown));
        if (!grown) {
            state->out_of_memory = 1;
            return NULL;
        }
        analysis->principals = grown;
        state->principal_capacity = capacity;
    }
    struct policy_principal *p = &analysis->principals[analysis->principal_count];
    memset(p, 0, sizeof(*p));
    p->type = type;
    p->arn = strdup(arn);
    p->name = strdup(name ? name : arn);
    p->all.table = POLICY_ALL_TABLES;
    if (!p->arn || !p->name) {
        free(p->arn);
        free(p->name);
        state->out_of_memory = 1;
        return NULL;
    }
    analysis->principal_count++;
    return p;
}

static void apply_boundary(struct policy_analysis *analysis, struct state *state,
                           struct policy_principal *p, json_t *entry)
{
    json_t *boundary = json_object_get(entry, "PermissionsBoundary");
    const char *arn = string_member(boundary, "PermissionsBoundaryArn");
    if (!arn)
        return;
    size_t *found = strmap_find(&state->managed, arn);
    if (!found) {
        p->boundary_unresolved = 1;
        note(analysis,
             "the permissions boundary %s of %s is not in the authorization details; its "
             "limits are not applied, so that principal's access may be overstated",
             arn, p->arn);
        return;
    }
    p->boundary = analysis->documents[*found];
    p->boundary->boundary_uses++;
}

static void load_groups(struct policy_analysis *analysis, struct state *state, json_t *details)
{
    json_t *groups = json_object_get(details, "GroupDetailList");
    size_t n = json_array_size(groups);
    state->group_list = n ? calloc(n, sizeof(*state->group_list)) : NULL;
    size_t i;
    json_t *entry;
    json_array_foreach(groups, i, entry)
    {
        struct group *g = &state->group_list[state->group_count];
        g->name = string_member(entry, "GroupName");
        if (!g->name)
            continue;
        g->attached = json_object_get(entry, "AttachedManagedPolicies");
        const char *arn = string_member(entry, "Arn");
        char base[64];
        snprintf(base, sizeof(base), "/GroupDetailList/%zu/GroupPolicyList", i);
        if (load_inline(analysis, state, json_object_get(entry, "GroupPolicyList"),
                        arn ? arn : g->name, base, &g->policies, &g->policy_count) < 0)
            state->out_of_memory = 1;
        /* Managed policies of the group are resolved per member (attach_managed), keep the
         * entry for that. */
        if (strmap_put(&state->groups, g->name, state->group_count) < 0)
            state->out_of_memory = 1;
        state->group_count++;
    }
}

static void load_identity(struct policy_analysis *analysis, struct state *state, json_t *details,
                          const char *list_key, const char *name_key, const char *inline_key,
                          enum policy_principal_type type)
{
    json_t *list = json_object_get(details, list_key);
    size_t i;
    json_t *entry;
    json_array_foreach(list, i, entry)
    {
        const char *arn = string_member(entry, "Arn");
        if (!arn) {
            note(analysis, "/%s/%zu has no Arn and was skipped", list_key, i);
            continue;
        }
        struct policy_principal *p =
            new_principal(analysis, state, type, arn, string_member(entry, name_key));
        if (!p)
            return;
        p->detail = entry;
        p->pointer = format_string("/%s/%zu", list_key, i);
        if (strmap_put(&state->principals, p->arn, analysis->principal_count - 1) < 0)
            state->out_of_memory = 1;
        char base[64];
        struct policy_document **inline_docs = NULL;
        size_t inline_count = 0;
        snprintf(base, sizeof(base), "/%s/%zu/%s", list_key, i, inline_key);
        if (load_inline(analysis, state, json_object_get(entry, inline_key), arn, base,
                        &inline_docs, &inline_count) < 0)
            state->out_of_memory = 1;
        p = &analysis->principals[analysis->principal_count - 1];
        for (size_t k = 0; k < inline_count; k++)
            if (principal_add_policy(p, inline_docs[k], NULL) < 0)
                state->out_of_memory = 1;
        free(inline_docs);
        attach_managed(analysis, state, p, json_object_get(entry, "AttachedManagedPolicies"), NULL);
        size_t g;
        json_t *group_name;
        json_array_foreach(json_object_get(entry, "GroupList"), g, group_name)
        {
            const char *gname = json_string_value(group_name);
            size_t *found = gname ? strmap_find(&state->groups, gname) : NULL;
            if (!found) {
                note(analysis, "group %s of %s is not in the authorization details",
                     gname ? gname : "(unnamed)", arn);
                continue;
            }
            struct group *group = &state->group_list[*found];
            for (size_t k = 0; k < group->policy_count; k++)
                if (principal_add_policy(p, group->policies[k], group->name) < 0)
                    state->out_of_memory = 1;
            attach_managed(analysis, state, p, group->attached, group->name);
        }
        apply_boundary(analysis, state, p, entry);
        if (type == POLICY_PRINCIPAL_ROLE) {
            char pointer[96];
            snprintf(pointer, sizeof(pointer), "/%s/%zu/AssumeRolePolicyDocument", list_key, i);
            char *name = format_string("%s#trust", arn);
            json_t *trust = json_object_get(entry, "AssumeRolePolicyDocument");
            if (name && trust)
                p->trust = add_document(analysis, state, trust, name, POLICY_SOURCE_TRUST, pointer);
            free(name);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Resource policies: who they name. */

/* The account of an ARN or an account id; NULL for "*" or a non-account principal. */
static int principal_account(const char *value, char *account, size_t size)
{
    size_t n = strlen(value);
    if (n == 12 && strspn(value, "0123456789") == 12) {
        snprintf(account, size, "%s", value);
        return 1;
    }
    if (strncmp(value, "arn:", 4))
        return 0;
    const char *p = value;
    for (int i = 0; i < 4; i++) {
        p = strchr(p, ':');
        if (!p)
            return 0;
        p++;
    }
    size_t len = strcspn(p, ":");
    if (!len || len >= size)
        return 0;
    memcpy(account, p, len);
    account[len] = '\0';
    return 1;
}

static int is_account_root(const char *value)
{
    size_t n = strlen(value);
    return (n == 12 && strspn(value, "0123456789") == 12) ||
           (!strncmp(value, "arn:", 4) && n > 5 && !strcmp(value + n - 5, ":root"));
}

/* The index of a principal by ARN, creating an external one if unknown. Maps an assumed-role
 * session ARN to its role. */
static long principal_for(struct policy_analysis *analysis, struct state *state, const char *value,
                          enum policy_principal_kind kind)
{
    size_t *found = strmap_find(&state->principals, value);
    if (found)
        return (long)*found;
    const char *assumed = strstr(value, ":assumed-role/");
    if (kind == POLICY_PRINCIPAL_AWS && assumed && !strncmp(value, "arn:", 4)) {
        /* arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION → the role NAME */
        char account[32];
        const char *name = assumed + 14;
        size_t len = strcspn(name, "/");
        if (principal_account(value, account, sizeof(account))) {
            for (size_t i = 0; i < analysis->principal_count; i++) {
                const struct policy_principal *p = &analysis->principals[i];
                if (p->type == POLICY_PRINCIPAL_ROLE && strlen(p->name) == len &&
                    !strncmp(p->name, name, len) && strstr(p->arn, account))
                    return (long)i;
            }
        }
    }
    enum policy_principal_type type = POLICY_PRINCIPAL_EXTERNAL;
    if (!strcmp(value, "*"))
        type = POLICY_PRINCIPAL_PUBLIC;
    else if (kind == POLICY_PRINCIPAL_SERVICE)
        type = POLICY_PRINCIPAL_SERVICE_NAME;
    struct policy_principal *p = new_principal(analysis, state, type, value, value);
    if (!p)
        return -1;
    if (strmap_put(&state->principals, p->arn, analysis->principal_count - 1) < 0) {
        state->out_of_memory = 1;
        return -1;
    }
    return (long)(analysis->principal_count - 1);
}

static int grow_resource_records(struct policy_analysis *analysis, struct state *state)
{
    if (state->resource_records_capacity >= analysis->principal_count)
        return 0;
    size_t capacity = analysis->principal_count * 2 + 16;
    struct record_list *lists =
        realloc(state->resource_records, capacity * sizeof(*state->resource_records));
    if (!lists)
        return -1;
    memset(lists + state->resource_records_capacity, 0,
           (capacity - state->resource_records_capacity) * sizeof(*lists));
    state->resource_records = lists;
    state->resource_records_capacity = capacity;
    return 0;
}

static void load_resource_policy(struct policy_analysis *analysis, struct state *state, size_t t,
                                 struct policy_document *doc, unsigned kinds)
{
    const struct policy_table *table = &analysis->tables[t];
    for (size_t s = 0; s < doc->statement_count; s++) {
        struct policy_statement *st = &doc->statements[s];
        uint8_t some = 0, all = 0;
        statement_table_kinds(state, st, table, t, &some, &all);
        some &= (uint8_t)kinds;
        all &= (uint8_t)kinds;
        if (!some || policy_action_set_empty(&st->dynamodb_actions))
            continue;
        struct record record = {(uint32_t)t, 0, some, all, ORIGIN_RESOURCE, st, doc, NULL};
        if (st->not_principal) {
            if (st->effect == POLICY_ALLOW) {
                long p = principal_for(analysis, state, "*", POLICY_PRINCIPAL_AWS);
                if (p < 0 || grow_resource_records(analysis, state) < 0 ||
                    record_push(&state->resource_records[p], &record) < 0)
                    state->out_of_memory = 1;
            } else {
                note(analysis,
                     "statement %zu of the resource policy of %s denies with NotPrincipal; the "
                     "analysis does not count it as a deny for anyone",
                     s, table->arn);
            }
            continue;
        }
        for (size_t k = 0; k < st->principal_count; k++) {
            const struct policy_principal_name *name = &st->principals[k];
            char account[32];
            int everyone = name->kind == POLICY_PRINCIPAL_AWS && !strcmp(name->value, "*");
            int own_account = name->kind == POLICY_PRINCIPAL_AWS && is_account_root(name->value) &&
                              principal_account(name->value, account, sizeof(account)) &&
                              !strcmp(account, analysis->account);
            if (st->effect == POLICY_DENY && (everyone || own_account)) {
                /* A deny of plain HTTP to every caller is the table's own transport guarantee;
                 * it is recorded on the table rather than copied into every caller's cell. */
                if (everyone && policy_condition_denies_plaintext(st->condition) &&
                    !(kinds & POLICY_KIND_STREAM)) {
                    struct policy_action_set covered = set_and(
                        st->dynamodb_actions,
                        set_or(state->kind_sets[0], state->kind_sets[1])); /* table, index */
                    if (set_equal(covered,
                                  set_and(policy_all_actions_set(),
                                          set_or(state->kind_sets[0], state->kind_sets[1]))) &&
                        (all & POLICY_KIND_TABLE)) {
                        analysis->tables[t].transport_deny = st;
                        continue;
                    }
                }
                if (record_push(&state->everyone_deny[t], &record) < 0)
                    state->out_of_memory = 1;
                state->has_everyone_deny[t] = 1;
                if (own_account)
                    continue;
            }
            if (own_account)
                continue; /* grants to the account delegate to its identity policies */
            if (st->effect == POLICY_DENY && everyone)
                continue;
            long p = principal_for(analysis, state, name->value, name->kind);
            if (p < 0 || grow_resource_records(analysis, state) < 0 ||
                record_push(&state->resource_records[p], &record) < 0)
                state->out_of_memory = 1;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Evaluation. */

struct accum {
    struct policy_action_set id_firm[POLICY_KIND_COUNT], id_cond[POLICY_KIND_COUNT];
    struct policy_action_set rp_firm[POLICY_KIND_COUNT], rp_cond[POLICY_KIND_COUNT];
    struct policy_action_set bound_firm[POLICY_KIND_COUNT], bound_cond[POLICY_KIND_COUNT];
    struct policy_action_set deny_firm[POLICY_KIND_COUNT], deny_cond[POLICY_KIND_COUNT];
    struct policy_action_set plain_deny[POLICY_KIND_COUNT];
};

/* Adds one record's effect; returns 1 if it contributed any action. */
static int accum_apply(struct accum *acc, const struct state *state, const struct record *r)
{
    const struct policy_statement *st = r->statement;
    int conditional = st->condition != NULL;
    int contributed = 0;
    for (int k = 0; k < POLICY_KIND_COUNT; k++) {
        unsigned bit = 1u << k;
        struct policy_action_set acts = set_and(st->dynamodb_actions, state->kind_sets[k]);
        if (policy_action_set_empty(&acts))
            continue;
        if (st->effect == POLICY_ALLOW) {
            if (!(r->some & bit))
                continue;
            struct policy_action_set *target =
                r->origin == ORIGIN_IDENTITY   ? (conditional ? acc->id_cond : acc->id_firm)
                : r->origin == ORIGIN_RESOURCE ? (conditional ? acc->rp_cond : acc->rp_firm)
                                               : (conditional ? acc->bound_cond : acc->bound_firm);
            target[k] = set_or(target[k], acts);
            contributed = 1;
        } else if (conditional) {
            if (r->some & bit) {
                acc->deny_cond[k] = set_or(acc->deny_cond[k], acts);
                contributed = 1;
            }
            if ((r->all & bit) && policy_condition_denies_plaintext(st->condition))
                acc->plain_deny[k] = set_or(acc->plain_deny[k], acts);
        } else if (r->all & bit) {
            acc->deny_firm[k] = set_or(acc->deny_firm[k], acts);
            contributed = 1;
        }
    }
    return contributed;
}

static void accum_finish(const struct accum *acc, int has_boundary, struct policy_cell *cell)
{
    struct policy_action_set allowed = {{0, 0}}, conditional = {{0, 0}}, plaintext = {{0, 0}};
    for (int k = 0; k < POLICY_KIND_COUNT; k++) {
        struct policy_action_set id_firm = acc->id_firm[k], id_cond = acc->id_cond[k];
        if (has_boundary) {
            struct policy_action_set bound_any = set_or(acc->bound_firm[k], acc->bound_cond[k]);
            struct policy_action_set firm = set_and(id_firm, acc->bound_firm[k]);
            id_cond = set_minus(set_and(set_or(id_firm, id_cond), bound_any), firm);
            id_firm = firm;
        }
        struct policy_action_set allow_firm = set_or(id_firm, acc->rp_firm[k]);
        struct policy_action_set allow_cond =
            set_minus(set_or(id_cond, acc->rp_cond[k]), allow_firm);
        struct policy_action_set firm =
            set_minus(set_minus(allow_firm, acc->deny_firm[k]), acc->deny_cond[k]);
        struct policy_action_set cond =
            set_minus(set_minus(set_or(set_and(allow_firm, acc->deny_cond[k]), allow_cond),
                                acc->deny_firm[k]),
                      firm);
        allowed = set_or(allowed, firm);
        conditional = set_or(conditional, cond);
        plaintext = set_or(plaintext, set_minus(set_or(firm, cond), acc->plain_deny[k]));
    }
    cell->allowed = allowed;
    cell->conditional = set_minus(conditional, allowed);
    cell->plaintext = plaintext;
}

static int grant_push(struct policy_cell *cell, size_t *capacity, const struct record *r)
{
    for (size_t i = 0; i < cell->grant_count; i++)
        if (cell->grants[i].statement == r->statement && cell->grants[i].via == r->via)
            return 0;
    if (cell->grant_count == *capacity) {
        size_t grown_capacity = *capacity ? *capacity * 2 : 4;
        struct policy_grant *grants = realloc(cell->grants, grown_capacity * sizeof(*grants));
        if (!grants)
            return -1;
        cell->grants = grants;
        *capacity = grown_capacity;
    }
    cell->grants[cell->grant_count++] = (struct policy_grant){r->document, r->statement, r->via};
    return 0;
}

static int record_order(const void *a, const void *b)
{
    const struct record *x = a, *y = b;
    /* "every table" records first, then by table; stable enough by statement address. */
    uint64_t tx = x->table == NO_TABLE ? 0 : (uint64_t)x->table + 1;
    uint64_t ty = y->table == NO_TABLE ? 0 : (uint64_t)y->table + 1;
    if (tx != ty)
        return tx < ty ? -1 : 1;
    return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

static int has_contribution(const struct policy_cell *cell)
{
    return !policy_action_set_empty(&cell->allowed) || !policy_action_set_empty(&cell->conditional);
}

static int evaluate_principal(struct policy_analysis *analysis, struct state *state, size_t index,
                              struct record_list *records)
{
    struct policy_principal *p = &analysis->principals[index];
    records->count = 0;
    int any_allow_all = 0, any_allow = 0;
    for (size_t i = 0; i < p->policy_count + (p->boundary ? 1 : 0); i++) {
        int boundary = i == p->policy_count;
        struct policy_document *doc = boundary ? p->boundary : p->policies[i];
        for (size_t s = 0; s < doc->statement_count; s++) {
            struct policy_statement *st = &doc->statements[s];
            if (policy_action_set_empty(&st->dynamodb_actions))
                continue;
            const struct reach *reach = statement_reach(analysis, state, st);
            if (!reach)
                return -1;
            struct record r = {NO_TABLE,
                               0,
                               reach->all_some,
                               reach->all_all,
                               (uint8_t)(boundary ? ORIGIN_BOUNDARY : ORIGIN_IDENTITY),
                               st,
                               doc,
                               boundary ? NULL : p->via[i]};
            if ((reach->all_some || reach->all_all) && record_push(records, &r) < 0)
                return -1;
            if (reach->all_some && st->effect == POLICY_ALLOW && !boundary)
                any_allow_all = any_allow = 1;
            for (size_t h = 0; h < reach->count; h++) {
                r.table = reach->hits[h].table;
                r.some = reach->hits[h].some;
                r.all = reach->hits[h].all;
                if (record_push(records, &r) < 0)
                    return -1;
                if (st->effect == POLICY_ALLOW && !boundary)
                    any_allow = 1;
            }
        }
    }
    if (index < state->resource_records_capacity) {
        const struct record_list *rp = &state->resource_records[index];
        for (size_t i = 0; i < rp->count; i++) {
            if (record_push(records, &rp->items[i]) < 0)
                return -1;
            if (rp->items[i].statement->effect == POLICY_ALLOW)
                any_allow = 1;
        }
    }
    if (!any_allow)
        return 0;
    /* Resource-policy denies for every caller: on every table when the principal reaches every
     * table, else on the tables it reaches. */
    size_t base_count = records->count;
    uint32_t stamp = (uint32_t)index + 1;
    for (size_t i = 0; i < state->deny_table_count; i++) {
        size_t t = state->deny_tables[i];
        int touched = any_allow_all;
        for (size_t k = 0; !touched && k < base_count; k++)
            touched = records->items[k].table == t;
        if (!touched || state->deny_stamp[t] == stamp)
            continue;
        state->deny_stamp[t] = stamp;
        for (size_t k = 0; k < state->everyone_deny[t].count; k++)
            if (record_push(records, &state->everyone_deny[t].items[k]) < 0)
                return -1;
    }
    if (records->count > 1)
        qsort(records->items, records->count, sizeof(*records->items), record_order);

    int has_boundary = p->boundary != NULL;
    struct accum all_acc;
    memset(&all_acc, 0, sizeof(all_acc));
    size_t i = 0, all_capacity = 0;
    for (; i < records->count && records->items[i].table == NO_TABLE; i++)
        if (accum_apply(&all_acc, state, &records->items[i]) &&
            grant_push(&p->all, &all_capacity, &records->items[i]) < 0)
            return -1;
    accum_finish(&all_acc, has_boundary, &p->all);
    p->any = set_or(p->all.allowed, p->all.conditional);

    size_t cell_capacity = 0;
    while (i < records->count) {
        uint32_t table = records->items[i].table;
        struct accum acc = all_acc;
        struct policy_cell cell = {table, {{0, 0}}, {{0, 0}}, {{0, 0}}, NULL, 0};
        size_t grant_capacity = 0;
        for (; i < records->count && records->items[i].table == table; i++)
            if (accum_apply(&acc, state, &records->items[i]) &&
                grant_push(&cell, &grant_capacity, &records->items[i]) < 0) {
                free(cell.grants);
                return -1;
            }
        accum_finish(&acc, has_boundary, &cell);
        if (!has_contribution(&cell) && !has_contribution(&p->all)) {
            free(cell.grants);
            continue;
        }
        if (p->cell_count == cell_capacity) {
            cell_capacity = cell_capacity ? cell_capacity * 2 : 4;
            struct policy_cell *cells = realloc(p->cells, cell_capacity * sizeof(*cells));
            if (!cells) {
                free(cell.grants);
                return -1;
            }
            p->cells = cells;
        }
        p->cells[p->cell_count++] = cell;
        p->any = set_or(p->any, set_or(cell.allowed, cell.conditional));
    }
    return 0;
}

const struct policy_cell *policy_cell_for(const struct policy_principal *principal, size_t table)
{
    size_t lo = 0, hi = principal->cell_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (principal->cells[mid].table == table)
            return &principal->cells[mid];
        if (principal->cells[mid].table < table)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &principal->all;
}

/* ------------------------------------------------------------------------------------------ */

static void state_free(struct state *state, size_t table_count)
{
    if (!state)
        return;
    strmap_free(&state->managed);
    strmap_free(&state->groups);
    strmap_free(&state->principals);
    strmap_free(&state->table_names);
    strmap_free(&state->patterns);
    free(state->name_next);
    for (size_t i = 0; i < state->pattern_count; i++) {
        reach_free(state->pattern_reach[i]);
        free(state->pattern_keys[i]);
    }
    free(state->pattern_reach);
    free(state->pattern_keys);
    if (state->sub_prefix)
        for (size_t i = 0; i < table_count * SUB_KINDS; i++)
            free(state->sub_prefix[i]);
    free(state->sub_prefix);
    for (size_t i = 0; i < state->group_count; i++)
        free(state->group_list[i].policies);
    free(state->group_list);
    for (size_t i = 0; i < state->resource_records_capacity; i++)
        free(state->resource_records[i].items);
    free(state->resource_records);
    if (state->everyone_deny)
        for (size_t i = 0; i < table_count; i++)
            free(state->everyone_deny[i].items);
    free(state->everyone_deny);
    free(state->has_everyone_deny);
    free(state->deny_tables);
    free(state->deny_stamp);
    free(state);
}

void policy_analysis_free(struct policy_analysis *analysis)
{
    if (!analysis)
        return;
    state_free(analysis->state, analysis->table_count);
    for (size_t i = 0; i < analysis->principal_count; i++) {
        struct policy_principal *p = &analysis->principals[i];
        free(p->arn);
        free(p->name);
        free(p->pointer);
        free(p->policies);
        free((void *)p->via);
        free(p->all.grants);
        for (size_t c = 0; c < p->cell_count; c++)
            free(p->cells[c].grants);
        free(p->cells);
    }
    free(analysis->principals);
    for (size_t i = 0; i < analysis->document_count; i++) {
        struct policy_document *doc = analysis->documents[i];
        for (size_t s = 0; s < doc->statement_count; s++) {
            reach_free(doc->statements[s].memo);
            doc->statements[s].memo = NULL;
        }
        policy_document_free(doc);
    }
    free(analysis->documents);
    for (size_t i = 0; i < analysis->table_count; i++) {
        struct policy_table *t = &analysis->tables[i];
        free(t->region);
        free(t->name);
        free(t->arn);
        policy_document_free(t->resource_policy);
        policy_document_free(t->stream_policy);
    }
    free(analysis->tables);
    free(analysis->partition);
    free(analysis->account);
    json_decref(analysis->notes);
    free(analysis);
}

static struct policy_document *table_policy(json_t *output, const char *arn, const char *suffix,
                                            const struct evidence_call *call)
{
    if (!output)
        return NULL;
    char *name = format_string("%s%s", arn, suffix);
    /* GetResourcePolicy prints {"Policy": "<JSON string>", "RevisionId": ...}. */
    json_t *policy = json_is_object(output) ? json_object_get(output, "Policy") : output;
    struct policy_document *doc =
        name ? policy_document_parse(policy, name, POLICY_SOURCE_RESOURCE, call,
                                     json_is_object(output) ? "/Policy" : "")
             : NULL;
    free(name);
    return doc;
}

int policy_analyze(struct policy_analysis **out, const struct policy_input *input,
                   struct diagnostics *d)
{
    struct policy_analysis *analysis = calloc(1, sizeof(*analysis));
    struct state *state = calloc(1, sizeof(*state));
    struct record_list records = {NULL, 0, 0};
    int error = DDB_OK;
    *out = NULL;
    if (!analysis || !state) {
        free(analysis);
        free(state);
        return diag_error(d, DDB_ERUNTIME, "out of memory analysing IAM policies");
    }
    analysis->state = state;
    analysis->partition = strdup(input->partition ? input->partition : "aws");
    analysis->account = strdup(input->account ? input->account : "");
    analysis->notes = json_array();
    analysis->authorization_call = input->authorization_call;
    for (int k = 0; k < POLICY_KIND_COUNT; k++)
        state->kind_sets[k] = kind_set(1u << k);

    size_t tables = input->table_count;
    analysis->tables = tables ? calloc(tables, sizeof(*analysis->tables)) : NULL;
    state->name_next = tables ? calloc(tables, sizeof(*state->name_next)) : NULL;
    state->sub_prefix = tables ? calloc(tables * SUB_KINDS, sizeof(*state->sub_prefix)) : NULL;
    state->everyone_deny = tables ? calloc(tables, sizeof(*state->everyone_deny)) : NULL;
    state->has_everyone_deny = tables ? calloc(tables, 1) : NULL;
    if (!analysis->partition || !analysis->account || !analysis->notes ||
        (tables && (!analysis->tables || !state->name_next || !state->sub_prefix ||
                    !state->everyone_deny || !state->has_everyone_deny)))
        goto oom;
    for (size_t t = 0; t < tables; t++) {
        const struct policy_table_input *in = &input->tables[t];
        struct policy_table *table = &analysis->tables[t];
        table->region = strdup(in->region);
        table->name = strdup(in->name);
        table->arn = format_string("arn:%s:dynamodb:%s:%s:table/%s", analysis->partition,
                                   in->region, analysis->account, in->name);
        analysis->table_count = t + 1;
        if (!table->region || !table->name || !table->arn)
            goto oom;
        for (int k = 0; k < SUB_KINDS; k++)
            if (!(state->sub_prefix[t * SUB_KINDS + (size_t)k] =
                      format_string("%s%s", table->arn, sub_kind_paths[k])))
                goto oom;
        state->name_next[t] = (size_t)-1;
        size_t *head = strmap_find(&state->table_names, table->name);
        if (head) {
            size_t last = *head;
            while (state->name_next[last] != (size_t)-1)
                last = state->name_next[last];
            state->name_next[last] = t;
        } else if (strmap_put(&state->table_names, table->name, t) < 0) {
            goto oom;
        }
        table->resource_policy_call = in->resource_policy_call;
        table->stream_policy_call = in->stream_policy_call;
        table->resource_policy =
            table_policy(in->resource_policy, table->arn, "", in->resource_policy_call);
        table->stream_policy =
            table_policy(in->stream_policy, table->arn, "/stream", in->stream_policy_call);
        if ((in->resource_policy && !table->resource_policy) ||
            (in->stream_policy && !table->stream_policy))
            goto oom;
    }

    json_t *details = input->authorization_details;
    if (details) {
        load_managed_policies(analysis, state, details);
        load_groups(analysis, state, details);
        load_identity(analysis, state, details, "UserDetailList", "UserName", "UserPolicyList",
                      POLICY_PRINCIPAL_USER);
        load_identity(analysis, state, details, "RoleDetailList", "RoleName", "RolePolicyList",
                      POLICY_PRINCIPAL_ROLE);
    } else {
        note(analysis, "IAM authorization details are not in the evidence: identity-based "
                       "access is not analysed");
    }
    for (size_t t = 0; t < analysis->table_count; t++) {
        struct policy_table *table = &analysis->tables[t];
        if (table->resource_policy && !table->resource_policy->error)
            load_resource_policy(analysis, state, t, table->resource_policy,
                                 POLICY_KIND_TABLE | POLICY_KIND_INDEX);
        if (table->stream_policy && !table->stream_policy->error)
            load_resource_policy(analysis, state, t, table->stream_policy, POLICY_KIND_STREAM);
    }
    if (state->out_of_memory || grow_resource_records(analysis, state) < 0)
        goto oom;
    state->deny_tables = tables ? calloc(tables, sizeof(*state->deny_tables)) : NULL;
    state->deny_stamp = tables ? calloc(tables, sizeof(*state->deny_stamp)) : NULL;
    if (tables && (!state->deny_tables || !state->deny_stamp))
        goto oom;
    for (size_t t = 0; t < tables; t++)
        if (state->has_everyone_deny[t])
            state->deny_tables[state->deny_table_count++] = t;

    for (size_t i = 0; i < analysis->principal_count; i++)
        if (evaluate_principal(analysis, state, i, &records) < 0)
            goto oom;
    if (state->out_of_memory)
        goto oom;
    note(analysis, "service control policies, resource control policies and session policies "
                   "are not part of the evidence; they can only narrow the access shown");
    goto done;
oom:
    error = diag_error(d, DDB_ERUNTIME, "out of memory analysing IAM policies");
    policy_analysis_free(analysis);
    analysis = NULL;
done:
    free(records.items);
    *out = analysis;
    return error;
}

/* ------------------------------------------------------------------------------------------ */
/* From a snapshot. */

void policy_input_release(struct policy_input *input)
{
    free((void *)input->tables);
    input->tables = NULL;
    input->table_count = 0;
}

static json_t *ok_document(const struct evidence_call *call)
{
    return call && call->outcome == EVIDENCE_OK ? call->document : NULL;
}

int policy_input_from_snapshot(struct policy_input *input, const struct evidence_snapshot *snapshot,
                               json_t *notes, struct diagnostics *d)
{
    memset(input, 0, sizeof(*input));
    input->partition = snapshot->partition;
    input->account = snapshot->account;
    input->authorization_call =
        evidence_find(snapshot, "global", "iam", "GetAccountAuthorizationDetails", NULL);
    input->authorization_details = ok_document(input->authorization_call);
    size_t capacity = 0;
    struct policy_table_input *tables = NULL;
    for (size_t r = 0; r < snapshot->region_count; r++) {
        const char *region = snapshot->regions[r];
        const struct evidence_call *list =
            evidence_find(snapshot, region, "dynamodb", "ListTables", NULL);
        json_t *names = json_object_get(ok_document(list), "TableNames");
        if (!names) {
            if (notes)
                json_array_append_new(
                    notes, json_sprintf("ListTables for %s is %s: its tables are not in the "
                                        "access matrix",
                                        region, evidence_outcome_name(evidence_outcome_of(list))));
            continue;
        }
        size_t i;
        json_t *name;
        json_array_foreach(names, i, name)
        {
            if (!json_is_string(name))
                continue;
            if (input->table_count == capacity) {
                capacity = capacity ? capacity * 2 : 64;
                struct policy_table_input *grown = realloc(tables, capacity * sizeof(*grown));
                if (!grown) {
                    free(tables);
                    memset(input, 0, sizeof(*input));
                    return diag_error(d, DDB_ERUNTIME, "out of memory listing tables");
                }
                tables = grown;
            }
            struct policy_table_input *t = &tables[input->table_count++];
            memset(t, 0, sizeof(*t));
            t->region = region;
            t->name = json_string_value(name);
            char key[512];
            t->resource_policy_call =
                evidence_find(snapshot, region, "dynamodb", "GetResourcePolicy", t->name);
            snprintf(key, sizeof(key), "%s@stream", t->name);
            t->stream_policy_call =
                evidence_find(snapshot, region, "dynamodb", "GetResourcePolicy", key);
            t->resource_policy = ok_document(t->resource_policy_call);
            t->stream_policy = ok_document(t->stream_policy_call);
            enum evidence_outcome outcome = evidence_outcome_of(t->resource_policy_call);
            if (notes && outcome != EVIDENCE_OK && outcome != EVIDENCE_NOT_FOUND)
                json_array_append_new(
                    notes, json_sprintf("the resource policy of table %s in %s is %s: grants "
                                        "and denies in it are not analysed",
                                        t->name, region, evidence_outcome_name(outcome)));
        }
    }
    input->tables = tables;
    return DDB_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Access matrix shape (report.json "access"; docs/report-format.md):
 * {
 *   "groups": {"read": ["dynamodb:GetItem", ...], "write": [...], "admin": [...],
 *              "describe": [...]},                -- which actions each group holds
 *   "tables": [{"arn", "resource_policy": bool, "transport_enforced": bool}],
 *   "statements": [{"policy", "source", "via", "statement", "sid", "effect", "file",
 *                   "pointer", "conditions": [{kind, operator, key, values}],
 *                   "groups": ["read", "write", "admin", "describe"]}],
 *                                                  -- the groups its actions fall in: a row's
 *                                                     cell cites the row's statements of its group
 *   "principals": [{                              -- only principals with DynamoDB access
 *       "arn", "name", "type": "user"|"role"|"external"|"public"|"service",
 *       "all_tables": cell | null,                -- access on every table
 *       "tables": [{"tables": [ARN, ...], ...cell}] -- tables whose access differs, grouped
 *   }],                                              by identical cells
 *   "malformed_policies": [{"policy", "error", "file", "pointer"}],
 *   "notes": [string]
 * }
 * cell = {"read"|"write"|"admin"|"describe": "allowed"|"conditional" (absent: none),
 *         "actions": "GetItem Query", "conditional_actions": "PutItem" (each absent when none),
 *         "transport_enforced": bool,   -- a Deny on aws:SecureTransport=false in the principal's
 *                                          policies covers it (tables[].transport_enforced says
 *                                          whether the table's own policy does)
 *         "statements": [index into "statements", ...]}
 * A table cell's statements include the principal's all-tables statements. */

static const char *const principal_type_names[] = {"user", "role", "external", "public", "service"};
static const char *const source_names[] = {"managed",  "inline", "resource", "trust",
                                           "endpoint", "key",    "other"};

/* The matrix repeats a few values very many times (168,768 table ARNs and 74,000 statement
 * positions in the benchmark account, against 10,000 tables and 35,000 statements). jansson
 * values are reference counted and may sit in several containers, so each distinct value is
 * made once and shared: the tree is a third of the size and the text is byte for byte the same. */
struct action_text {
    struct policy_action_set set;
    json_t *text; /* NULL: empty slot */
};

struct matrix {
    json_t *statements;
    struct strmap index; /* "<statement address>|<via>" → position in statements */
    char **keys;
    size_t key_count, key_capacity;
    json_t **table_arns; /* per table */
    json_t **positions;  /* per position in statements */
    size_t position_capacity;
    json_t *allowed, *conditional;
    struct action_text *action_texts; /* open addressing by set */
    size_t action_text_count, action_text_capacity;
    struct policy_action_set group_sets[POLICY_MATRIX_GROUPS];
    struct strmap strings; /* text (borrowed from the analysis) → position in string_values */
    json_t **string_values;
    size_t string_count, string_capacity;
};

/* The shared JSON string for a text that outlives the matrix (new reference), or NULL. */
static json_t *matrix_string(struct matrix *m, const char *text)
{
    size_t *found = strmap_find(&m->strings, text);
    if (found)
        return json_incref(m->string_values[*found]);
    if (m->string_count == m->string_capacity) {
        size_t capacity = m->string_capacity ? m->string_capacity * 2 : 256;
        json_t **grown = realloc(m->string_values, capacity * sizeof(*grown));
        if (!grown)
            return NULL;
        m->string_values = grown;
        m->string_capacity = capacity;
    }
    json_t *value = json_string(text);
    if (!value || strmap_put(&m->strings, text, m->string_count) < 0) {
        json_decref(value);
        return NULL;
    }
    m->string_values[m->string_count++] = value;
    return json_incref(value);
}

static json_t *grant_json(struct matrix *m, const struct policy_principal *p,
                          const struct policy_grant *g)
{
    const char *source = source_names[g->document->source];
    if (p->boundary == g->document)
        source = "boundary";
    json_t *out = json_pack(
        "{s:o, s:o, s:o?, s:I, s:s?, s:o}", "policy", matrix_string(m, g->document->name), "source",
        matrix_string(m, source), "via", g->via ? matrix_string(m, g->via) : NULL, "statement",
        (json_int_t)g->statement->index, "sid", g->statement->sid, "effect",
        matrix_string(m, g->statement->effect == POLICY_ALLOW ? "Allow" : "Deny"));
    if (!out)
        return NULL;
    if (g->document->call && g->document->call->path)
        json_object_set_new(out, "file", matrix_string(m, g->document->call->path));
    const char *pointer = g->statement->pointer ? g->statement->pointer : g->document->pointer;
    if (pointer)
        json_object_set_new(out, "pointer", json_string(pointer));
    if (g->statement->condition)
        json_object_set_new(out, "conditions", policy_condition_json(g->statement->condition));
    /* The action groups its actions fall in, so each cell of a row can cite only the statements
     * behind that cell. It depends on the statement alone, not on the table or the principal. */
    json_t *groups = json_array();
    for (int k = 0; groups && k < POLICY_MATRIX_GROUPS; k++) {
        struct policy_action_set in_group =
            set_and(g->statement->dynamodb_actions, m->group_sets[k]);
        if (!policy_action_set_empty(&in_group))
            json_array_append_new(groups, matrix_string(m, group_names[k]));
    }
    json_object_set_new(out, "groups", groups ? groups : json_array());
    return out;
}

/* The position of a grant in the statements table, adding it on first use; -1 on failure. */
static long matrix_statement(struct matrix *m, const struct policy_principal *p,
                             const struct policy_grant *g)
{
    char key[128];
    /* A boundary grant reads differently ("boundary") from the same document attached. */
    snprintf(key, sizeof(key), "%p|%s|%d", (const void *)g->statement, g->via ? g->via : "",
             p->boundary == g->document);
    size_t *found = strmap_find(&m->index, key);
    if (found)
        return (long)*found;
    if (m->key_count == m->key_capacity) {
        size_t capacity = m->key_capacity ? m->key_capacity * 2 : 256;
        char **keys = realloc(m->keys, capacity * sizeof(*keys));
        if (!keys)
            return -1;
        m->keys = keys;
        m->key_capacity = capacity;
    }
    char *copy = strdup(key);
    size_t position = json_array_size(m->statements);
    if (!copy || strmap_put(&m->index, copy, position) < 0) {
        free(copy);
        return -1;
    }
    m->keys[m->key_count++] = copy;
    json_array_append_new(m->statements, grant_json(m, p, g));
    return (long)position;
}

/* The shared JSON integer for a position in statements (new reference), or NULL. */
static json_t *matrix_position(struct matrix *m, size_t position)
{
    if (position >= m->position_capacity) {
        size_t capacity = m->position_capacity ? m->position_capacity * 2 : 1024;
        while (capacity <= position)
            capacity *= 2;
        json_t **grown = realloc(m->positions, capacity * sizeof(*grown));
        if (!grown)
            return NULL;
        memset(grown + m->position_capacity, 0, (capacity - m->position_capacity) * sizeof(*grown));
        m->positions = grown;
        m->position_capacity = capacity;
    }
    if (!m->positions[position])
        m->positions[position] = json_integer((json_int_t)position);
    return json_incref(m->positions[position]);
}

static json_t *actions_string(const struct policy_action_set *set)
{
    struct buf b;
    buf_init(&b, 4096);
    for (size_t i = 0; i < policy_action_count; i++)
        if (policy_action_set_has(set, i))
            buf_printf(&b, "%s%s", b.len ? " " : "", policy_actions[i].name);
    json_t *out = json_string(buf_cstr(&b));
    buf_free(&b);
    return out;
}

static size_t action_set_hash(const struct policy_action_set *set)
{
    uint64_t h = set->bits[0] * 0x9e3779b97f4a7c15ull ^ set->bits[1] * 0xc2b2ae3d27d4eb4full;
    return (size_t)(h ^ (h >> 29));
}

/* The shared "GetItem Query" text of an action set (new reference), or NULL. */
static json_t *matrix_actions(struct matrix *m, const struct policy_action_set *set)
{
    if ((m->action_text_count + 1) * 2 > m->action_text_capacity) {
        size_t capacity = m->action_text_capacity ? m->action_text_capacity * 2 : 256;
        struct action_text *slots = calloc(capacity, sizeof(*slots));
        if (!slots)
            return NULL;
        for (size_t i = 0; i < m->action_text_capacity; i++) {
            if (!m->action_texts[i].text)
                continue;
            size_t at = action_set_hash(&m->action_texts[i].set) & (capacity - 1);
            while (slots[at].text)
                at = (at + 1) & (capacity - 1);
            slots[at] = m->action_texts[i];
        }
        free(m->action_texts);
        m->action_texts = slots;
        m->action_text_capacity = capacity;
    }
    size_t at = action_set_hash(set) & (m->action_text_capacity - 1);
    while (m->action_texts[at].text) {
        if (set_equal(m->action_texts[at].set, *set))
            return json_incref(m->action_texts[at].text);
        at = (at + 1) & (m->action_text_capacity - 1);
    }
    json_t *text = actions_string(set);
    if (!text)
        return NULL;
    m->action_texts[at].set = *set;
    m->action_texts[at].text = text;
    m->action_text_count++;
    return json_incref(text);
}

static json_t *cell_json(struct matrix *m, const struct policy_principal *p,
                         const struct policy_cell *cell)
{
    json_t *out = json_object();
    if (!out)
        return NULL;
    for (int g = 0; g < POLICY_MATRIX_GROUPS; g++) {
        struct policy_action_set firm = set_and(cell->allowed, m->group_sets[g]);
        struct policy_action_set cond = set_and(cell->conditional, m->group_sets[g]);
        if (!policy_action_set_empty(&firm) || !policy_action_set_empty(&cond))
            json_object_set(out, group_names[g],
                            !policy_action_set_empty(&firm) ? m->allowed : m->conditional);
    }
    if (!policy_action_set_empty(&cell->allowed))
        json_object_set_new(out, "actions", matrix_actions(m, &cell->allowed));
    if (!policy_action_set_empty(&cell->conditional))
        json_object_set_new(out, "conditional_actions", matrix_actions(m, &cell->conditional));
    json_object_set_new(out, "transport_enforced",
                        json_boolean(policy_action_set_empty(&cell->plaintext)));
    json_t *statements = json_array();
    const struct policy_cell *sources[2] = {&p->all, cell};
    for (int s = 0; s < (cell == &p->all ? 1 : 2); s++)
        for (size_t i = 0; i < sources[s]->grant_count; i++) {
            long at = matrix_statement(m, p, &sources[s]->grants[i]);
            if (at >= 0)
                json_array_append_new(statements, matrix_position(m, (size_t)at));
        }
    json_object_set_new(out, "statements", statements);
    return out;
}

/* Two cells of one principal show the same thing (same actions and statements). */
static int cell_same(const struct policy_cell *a, const struct policy_cell *b)
{
    if (!set_equal(a->allowed, b->allowed) || !set_equal(a->conditional, b->conditional) ||
        !set_equal(a->plaintext, b->plaintext) || a->grant_count != b->grant_count)
        return 0;
    for (size_t i = 0; i < a->grant_count; i++)
        if (a->grants[i].statement != b->grants[i].statement ||
            a->grants[i].via != b->grants[i].via)
            return 0;
    return 1;
}

static json_t *principal_tables(struct matrix *m, const struct policy_principal *p)
{
    json_t *groups = json_array();
    unsigned char *done = p->cell_count ? calloc(p->cell_count, 1) : NULL;
    if (!groups || (p->cell_count && !done)) {
        free(done);
        return groups;
    }
    for (size_t c = 0; c < p->cell_count; c++) {
        if (done[c])
            continue;
        json_t *cell = cell_json(m, p, &p->cells[c]);
        json_t *tables = json_array();
        for (size_t k = c; k < p->cell_count; k++) {
            if (done[k] || (k != c && !cell_same(&p->cells[c], &p->cells[k])))
                continue;
            done[k] = 1;
            json_array_append(tables, m->table_arns[p->cells[k].table]);
        }
        json_object_set_new(cell, "tables", tables);
        json_array_append_new(groups, cell);
    }
    free(done);
    return groups;
}

json_t *policy_analysis_matrix(const struct policy_analysis *analysis)
{
    struct matrix m;
    memset(&m, 0, sizeof(m));
    m.statements = json_array();
    m.allowed = json_string("allowed");
    m.conditional = json_string("conditional");
    m.table_arns =
        analysis->table_count ? calloc(analysis->table_count, sizeof(*m.table_arns)) : NULL;
    json_t *groups = json_object();
    for (int g = 0; groups && g < POLICY_MATRIX_GROUPS; g++) {
        m.group_sets[g] = policy_group_set((enum policy_action_group)g);
        json_object_set_new(groups, group_names[g], policy_action_set_json(&m.group_sets[g]));
    }
    json_t *tables = json_array();
    if (analysis->table_count && !m.table_arns) {
        json_decref(tables);
        tables = NULL;
    }
    for (size_t t = 0; tables && t < analysis->table_count; t++) {
        const struct policy_table *table = &analysis->tables[t];
        m.table_arns[t] = json_string(table->arn);
        json_array_append_new(
            tables, json_pack("{s:O, s:b, s:b}", "arn", m.table_arns[t], "resource_policy",
                              table->resource_policy || table->stream_policy, "transport_enforced",
                              table->transport_deny != NULL));
    }
    json_t *principals = tables ? json_array() : NULL;
    for (size_t i = 0; principals && i < analysis->principal_count; i++) {
        const struct policy_principal *p = &analysis->principals[i];
        if (policy_action_set_empty(&p->any))
            continue;
        json_array_append_new(
            principals,
            json_pack("{s:s, s:s, s:s, s:o, s:o}", "arn", p->arn, "name", p->name, "type",
                      principal_type_names[p->type], "all_tables",
                      has_contribution(&p->all) ? cell_json(&m, p, &p->all) : json_null(), "tables",
                      principal_tables(&m, p)));
    }
    json_t *malformed = json_array();
    for (size_t i = 0; malformed && i < analysis->document_count; i++) {
        const struct policy_document *doc = analysis->documents[i];
        if (!doc->error)
            continue;
        json_array_append_new(malformed,
                              json_pack("{s:s, s:s, s:s?, s:s?}", "policy", doc->name, "error",
                                        doc->error, "file", doc->call ? doc->call->path : NULL,
                                        "pointer", doc->pointer));
    }
    for (size_t t = 0; malformed && t < analysis->table_count; t++) {
        const struct policy_document *docs[2] = {analysis->tables[t].resource_policy,
                                                 analysis->tables[t].stream_policy};
        for (int k = 0; k < 2; k++)
            if (docs[k] && docs[k]->error)
                json_array_append_new(malformed,
                                      json_pack("{s:s, s:s, s:s?, s:s?}", "policy", docs[k]->name,
                                                "error", docs[k]->error, "file",
                                                docs[k]->call ? docs[k]->call->path : NULL,
                                                "pointer", docs[k]->pointer));
    }
    json_t *out = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:O}", "groups", groups ? groups : json_object(), "tables",
        tables ? tables : json_array(), "statements", m.statements ? m.statements : json_array(),
        "principals", principals ? principals : json_array(), "malformed_policies",
        malformed ? malformed : json_array(), "notes", analysis->notes);
    for (size_t i = 0; i < m.key_count; i++)
        free(m.keys[i]);
    free(m.keys);
    strmap_free(&m.index);
    for (size_t t = 0; m.table_arns && t < analysis->table_count; t++)
        json_decref(m.table_arns[t]);
    free(m.table_arns);
    for (size_t i = 0; i < m.position_capacity; i++)
        json_decref(m.positions[i]);
    free(m.positions);
    for (size_t i = 0; i < m.action_text_capacity; i++)
        json_decref(m.action_texts[i].text);
    free(m.action_texts);
    json_decref(m.allowed);
    json_decref(m.conditional);
    for (size_t i = 0; i < m.string_count; i++)
        json_decref(m.string_values[i]);
    free(m.string_values);
    strmap_free(&m.strings);
    return out;
}

json_t *policy_access_matrix(const struct evidence_snapshot *snapshot, struct diagnostics *d)
{
    struct policy_input input;
    struct policy_analysis *analysis = NULL;
    json_t *notes = json_array();
    json_t *matrix = NULL;
    memset(&input, 0, sizeof(input));
    if (!notes || policy_input_from_snapshot(&input, snapshot, notes, d) < 0)
        goto done;
    if (policy_analyze(&analysis, &input, d) < 0)
        goto done;
    json_array_extend(notes, analysis->notes);
    json_array_clear(analysis->notes);
    json_array_extend(analysis->notes, notes);
    matrix = policy_analysis_matrix(analysis);
done:
    policy_input_release(&input);
    policy_analysis_free(analysis);
    json_decref(notes);
    return matrix;
}
