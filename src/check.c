/* Helpers shared by every check, and the registry of checks by name. Nothing here decides a
 * control's status; it only makes failing closed and citing evidence the easy path. */
#include "check.h"
#include "buf.h"
#include "catalog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* checks_*.c */
int check_attested_certification(struct check_context *ctx);
int check_attested_inherited(struct check_context *ctx);
int check_csp_access(struct check_context *ctx);
int check_identity_authentication(struct check_context *ctx);
int check_identity_least_privilege(struct check_context *ctx);
int check_table_encryption_at_rest(struct check_context *ctx);
int check_transport_encryption(struct check_context *ctx);
int check_vpc_endpoints(struct check_context *ctx);
int check_derived_worst(struct check_context *ctx);
int check_resource_policy_isolation(struct check_context *ctx);
int check_vpc_endpoint_policy(struct check_context *ctx);
int check_kms_key_management(struct check_context *ctx);
int check_admin_access(struct check_context *ctx);
int check_federated_identities(struct check_context *ctx);
int check_cloudtrail_auditing(struct check_context *ctx);
int check_alerting(struct check_context *ctx);
int check_global_table_replication(struct check_context *ctx);
int check_point_in_time_recovery(struct check_context *ctx);
int check_backups_deletion_protection(struct check_context *ctx);
int check_required_tags(struct check_context *ctx);
int check_data_plane_monitoring(struct check_context *ctx);
int check_capacity_management(struct check_context *ctx);
int check_client_side_encryption(struct check_context *ctx);
int check_dax_encryption(struct check_context *ctx);

/* The parameters each check reads (check_param*), with their types. */
static const struct check_param_spec no_params[] = {{NULL, 0}};
static const struct check_param_spec attested_params[] = {{"max_age_days", CHECK_PARAM_COUNT},
                                                          {NULL, 0}};
static const struct check_param_spec encryption_params[] = {
    {"required_level", CHECK_PARAM_KEY_LEVEL},
    {"confidential_level", CHECK_PARAM_KEY_LEVEL},
    {"confidentiality_tag", CHECK_PARAM_STRING},
    {"confidential_values", CHECK_PARAM_STRINGS},
    {NULL, 0}};
static const struct check_param_spec transport_params[] = {
    {"below_tls_1_2_status", CHECK_PARAM_STATUS}, {NULL, 0}};
static const struct check_param_spec endpoint_params[] = {
    {"outside_vpc_endpoint_status", CHECK_PARAM_STATUS}, {NULL, 0}};
static const struct check_param_spec derived_params[] = {{"controls", CHECK_PARAM_NAMES},
                                                         {NULL, 0}};
static const struct check_param_spec isolation_params[] = {
    {"trusted_accounts", CHECK_PARAM_STRINGS},
    {"outside_vpc_endpoint_status", CHECK_PARAM_STATUS},
    {NULL, 0}};
static const struct check_param_spec admin_params[] = {{"admin_allowlist", CHECK_PARAM_STRINGS},
                                                       {NULL, 0}};
static const struct check_param_spec alerting_params[] = {
    {"events", CHECK_PARAM_STRINGS},
    {"activity_concerns", CHECK_PARAM_STRINGS},
    {"activity_status", CHECK_PARAM_STATUS},
    {NULL, 0}};
static const struct check_param_spec pitr_params[] = {{"max_restore_lag_days", CHECK_PARAM_COUNT},
                                                      {NULL, 0}};
static const struct check_param_spec backup_params[] = {{"max_backup_age_days", CHECK_PARAM_COUNT},
                                                        {NULL, 0}};
static const struct check_param_spec tags_params[] = {{"required_tags", CHECK_PARAM_STRINGS},
                                                      {NULL, 0}};
static const struct check_param_spec monitoring_params[] = {
    {"access_denied_threshold", CHECK_PARAM_COUNT},
    {"activity_status", CHECK_PARAM_STATUS},
    {NULL, 0}};
static const struct check_param_spec client_side_params[] = {
    {"confidentiality_tag", CHECK_PARAM_STRING},
    {"required_values", CHECK_PARAM_STRINGS},
    {"max_age_days", CHECK_PARAM_COUNT},
    {NULL, 0}};

const struct check check_registry[] = {
    {"attested_certification", check_attested_certification, 0, 1, attested_params},
    {"attested_inherited", check_attested_inherited, 0, 1, attested_params},
    {"csp_access", check_csp_access, 0, 1, attested_params},
    {"identity_authentication", check_identity_authentication, 0, 1, no_params},
    {"identity_least_privilege", check_identity_least_privilege, 0, 1, no_params},
    {"table_encryption_at_rest", check_table_encryption_at_rest, 0, 0, encryption_params},
    {"transport_encryption", check_transport_encryption, 0, 1, transport_params},
    {"vpc_endpoints", check_vpc_endpoints, 0, 0, endpoint_params},
    {"derived_worst", check_derived_worst, 1, 1, derived_params},
    {"resource_policy_isolation", check_resource_policy_isolation, 0, 0, isolation_params},
    {"vpc_endpoint_policy", check_vpc_endpoint_policy, 0, 0, no_params},
    {"kms_key_management", check_kms_key_management, 0, 0, no_params},
    {"admin_access", check_admin_access, 0, 1, admin_params},
    {"federated_identities", check_federated_identities, 0, 1, no_params},
    {"cloudtrail_auditing", check_cloudtrail_auditing, 0, 1, no_params},
    {"alerting", check_alerting, 0, 1, alerting_params},
    {"global_table_replication", check_global_table_replication, 0, 0, no_params},
    {"point_in_time_recovery", check_point_in_time_recovery, 0, 0, pitr_params},
    {"backups_deletion_protection", check_backups_deletion_protection, 0, 0, backup_params},
    {"required_tags", check_required_tags, 0, 0, tags_params},
    {"data_plane_monitoring", check_data_plane_monitoring, 0, 1, monitoring_params},
    {"capacity_management", check_capacity_management, 0, 0, no_params},
    {"client_side_encryption", check_client_side_encryption, 0, 0, client_side_params},
    {"dax_encryption", check_dax_encryption, 0, 0, no_params},
    {NULL, NULL, 0, 0, NULL},
};

const struct check *check_find(const char *name)
{
    for (const struct check *c = check_registry; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* ---------------------------------------------------------------- memo */

struct memo_entry {
    char *key;
    void *value;
    void (*destroy)(void *value);
};

struct check_memo {
    struct memo_entry *entries;
    size_t count;
    size_t capacity;
};

struct check_memo *check_memo_new(void)
{
    return calloc(1, sizeof(struct check_memo));
}

void check_memo_free(struct check_memo *memo)
{
    if (!memo)
        return;
    for (size_t i = 0; i < memo->count; i++) {
        if (memo->entries[i].destroy)
            memo->entries[i].destroy(memo->entries[i].value);
        free(memo->entries[i].key);
    }
    free(memo->entries);
    free(memo);
}

/* A handful of keys per evaluation: a linear scan is the simplest correct lookup. */
void *check_memo(struct check_context *ctx, const char *key,
                 void *(*build)(struct check_context *ctx, const char *key),
                 void (*destroy)(void *value))
{
    struct check_memo *memo = ctx->memo;
    for (size_t i = 0; memo && i < memo->count; i++)
        if (!strcmp(memo->entries[i].key, key))
            return memo->entries[i].value;
    if (!memo)
        return NULL; /* the evaluator always provides one */
    void *value = build(ctx, key);
    if (!value)
        return NULL;
    if (memo->count == memo->capacity) {
        size_t capacity = memo->capacity ? memo->capacity * 2 : 16;
        struct memo_entry *grown = realloc(memo->entries, capacity * sizeof(*grown));
        if (!grown) {
            if (destroy)
                destroy(value);
            return NULL;
        }
        memo->entries = grown;
        memo->capacity = capacity;
    }
    memo->entries[memo->count++] = (struct memo_entry){strdup(key), value, destroy};
    return value;
}

/* ---------------------------------------------------------------- JSON pointers */

json_t *json_pointer_get(json_t *root, const char *pointer)
{
    if (!pointer || !*pointer)
        return root;
    if (*pointer != '/')
        return NULL;
    json_t *node = root;
    const char *p = pointer + 1;
    char segment[1024];
    for (;;) {
        size_t n = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~' && (*p == '0' || *p == '1'))
                c = *p++ == '0' ? '~' : '/';
            if (n + 1 < sizeof(segment))
                segment[n++] = c;
        }
        segment[n] = '\0';
        if (json_is_object(node)) {
            node = json_object_get(node, segment);
        } else if (json_is_array(node)) {
            char *end = NULL;
            unsigned long index = strtoul(segment, &end, 10);
            node = (n && end && !*end) ? json_array_get(node, index) : NULL;
        } else {
            return NULL;
        }
        if (!node || !*p)
            return node;
        p++;
    }
}

char *json_pointer_segment(const char *segment)
{
    struct buf b;
    buf_init(&b, 4096);
    for (const char *p = segment; *p; p++) {
        if (*p == '~')
            buf_puts(&b, "~0");
        else if (*p == '/')
            buf_puts(&b, "~1");
        else
            buf_putc(&b, *p);
    }
    return buf_detach(&b);
}

/* ---------------------------------------------------------------- evidence */

static const char *describe_call(char *out, size_t size, const char *region, const char *service,
                                 const char *operation, const char *key)
{
    snprintf(out, size, "%s %s%s%s in %s", service, operation, key ? " " : "", key ? key : "",
             region);
    return out;
}

/* Operations whose "there is none" answer (outcome not_found) is evidence: a table or key
 * without a resource policy. For any other operation not_found is a failure to look. */
static int absence_is_an_answer(const char *operation)
{
    return !strcmp(operation, "GetResourcePolicy") || !strcmp(operation, "GetKeyPolicy");
}

/* A per-resource document must describe the resource its path names: a hand-gathered file
 * saved under the wrong name must not be judged as another table or key. Returns the pointer
 * that disagrees, or NULL. */
static const char *identity_mismatch(const struct evidence_call *call)
{
    static const struct {
        const char *operation;
        const char *pointer;
    } identity[] = {
        {"DescribeTable", "/Table/TableName"},
        {"DescribeKey", "/KeyMetadata/KeyId"},
    };
    if (!call->key || !call->document)
        return NULL;
    for (size_t i = 0; i < sizeof(identity) / sizeof(identity[0]); i++) {
        if (strcmp(call->operation, identity[i].operation))
            continue;
        const char *name = json_string_value(json_pointer_get(call->document, identity[i].pointer));
        return name && !strcmp(name, call->key) ? NULL : identity[i].pointer;
    }
    return NULL;
}

static struct finding *evidence_gap(struct check_context *ctx, const char *resource,
                                    const struct evidence_call *call, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static struct finding *evidence_gap(struct check_context *ctx, const char *resource,
                                    const struct evidence_call *call, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    struct finding *f = result_add_finding(ctx->result, resource, STATUS_REVIEW, "%s", reason);
    if (f) {
        f->evidence_gap = 1;
        check_cite(ctx, f, call, NULL);
    }
    return f;
}

const struct evidence_call *check_require(struct check_context *ctx, const char *resource,
                                          const char *region, const char *service,
                                          const char *operation, const char *key)
{
    const struct evidence_call *call =
        evidence_find(ctx->evidence, region, service, operation, key);
    char what[512];
    describe_call(what, sizeof(what), region, service, operation, key);
    const char *mismatch;
    switch (evidence_outcome_of(call)) {
    case EVIDENCE_OK:
        if ((mismatch = identity_mismatch(call))) {
            struct finding *f = evidence_gap(
                ctx, resource, NULL, "evidence does not match: %s does not describe '%s' (see %s)",
                what, key, mismatch);
            check_cite(ctx, f, call, mismatch);
            return NULL;
        }
        return call;
    case EVIDENCE_NOT_FOUND:
        if (absence_is_an_answer(operation))
            return call;
        evidence_gap(ctx, resource, call, "evidence missing: %s answered not found (%s)", what,
                     call->error_code ? call->error_code : "not_found");
        return NULL;
    case EVIDENCE_MISSING:
        evidence_gap(ctx, resource, NULL, "evidence missing: %s was not collected", what);
        return NULL;
    case EVIDENCE_DENIED:
        evidence_gap(ctx, resource, call,
                     "evidence missing: %s was denied (%s): grant %s:%s to the collecting role",
                     what, call->error_code ? call->error_code : "AccessDenied", service,
                     operation);
        return NULL;
    case EVIDENCE_ERROR:
    default:
        evidence_gap(ctx, resource, call, "evidence missing: %s failed (%s%s%s)", what,
                     call->error_code ? call->error_code : "error", call->error_message ? ": " : "",
                     call->error_message ? call->error_message : "");
        return NULL;
    }
}

static json_t *citation(const char *file, const char *sha256, const char *pointer, json_t *value)
{
    json_t *c = json_object();
    json_object_set_new(c, "file", json_string(file));
    json_object_set_new(c, "sha256", json_string(sha256));
    json_object_set_new(c, "pointer", json_string(pointer ? pointer : ""));
    json_object_set_new(c, "value", value ? value : json_null());
    return c;
}

/* The location recorded for `pointer` or its nearest ancestor (a property that is absent is
 * cited at the object that lacks it). */
static json_t *nearest_location(json_t *locations, const char *pointer)
{
    if (!locations || !pointer)
        return NULL;
    char path[1024];
    snprintf(path, sizeof(path), "%s", pointer);
    for (;;) {
        json_t *location = json_object_get(locations, path);
        if (location || !*path)
            return location;
        char *slash = strrchr(path, '/');
        if (!slash)
            return json_object_get(locations, "");
        *slash = '\0';
    }
}

void check_cite_value(struct check_context *ctx, struct finding *finding,
                      const struct evidence_call *call, const char *pointer, json_t *value)
{
    if (!finding || !call) {
        json_decref(value);
        return;
    }
    if (!finding->evidence)
        finding->evidence = json_array();
    json_t *entry;
    if (call->outcome == EVIDENCE_OK) {
        entry = citation(call->path, call->sha256, pointer, value);
        json_t *location = nearest_location(call->locations, pointer);
        if (location)
            json_object_set(entry, "location", location);
    } else if (call->locations) {
        /* Template evidence has no manifest: the absence (or the unresolved value) is cited
         * where the template lacks or writes it. */
        json_decref(value);
        entry = citation(call->path, call->sha256, "",
                         json_string(evidence_outcome_name(call->outcome)));
        json_t *location = nearest_location(call->locations, "");
        if (location)
            json_object_set(entry, "location", location);
    } else {
        /* No file: the manifest's record of the answer is the evidence. */
        char manifest_pointer[64];
        snprintf(manifest_pointer, sizeof(manifest_pointer), "/calls/%zu/outcome",
                 call->manifest_index);
        json_decref(value);
        entry = citation("manifest.json", ctx->evidence->manifest_sha256, manifest_pointer,
                         json_string(evidence_outcome_name(call->outcome)));
    }
    /* The same citation twice says nothing more. */
    size_t i;
    json_t *existing;
    json_array_foreach(finding->evidence, i, existing)
    {
        if (json_equal(existing, entry)) {
            json_decref(entry);
            return;
        }
    }
    json_array_append_new(finding->evidence, entry);
}

void check_cite(struct check_context *ctx, struct finding *finding,
                const struct evidence_call *call, const char *pointer)
{
    if (!call)
        return;
    json_t *value =
        call->document ? json_pointer_get(call->document, pointer ? pointer : "") : NULL;
    /* Whole documents are cited by pointer only: copying them into the report adds nothing. */
    if (value && (json_is_object(value) || (json_is_array(value) && json_array_size(value) > 8)))
        value = json_string(json_is_object(value) ? "{…}" : "[…]");
    else
        value = value ? json_deep_copy(value) : NULL;
    check_cite_value(ctx, finding, call, pointer ? pointer : "", value);
}

/* ---------------------------------------------------------------- parameters */

json_t *check_param(const struct check_context *ctx, const char *name)
{
    return json_object_get(ctx->control->params, name);
}

const char *check_param_string(const struct check_context *ctx, const char *name,
                               const char *fallback)
{
    json_t *value = check_param(ctx, name);
    return json_is_string(value) ? json_string_value(value) : fallback;
}

long long check_param_int(const struct check_context *ctx, const char *name, long long fallback)
{
    json_t *value = check_param(ctx, name);
    return json_is_integer(value) ? (long long)json_integer_value(value) : fallback;
}

/* ---------------------------------------------------------------- resources */

int check_kms_key_ref(const char *arn, char *region, size_t region_size, char *key_id,
                      size_t key_size)
{
    if (!arn || strncmp(arn, "arn:", 4))
        return -1;
    const char *p = arn;
    for (int field = 0; field < 3; field++) {
        p = strchr(p, ':');
        if (!p)
            return -1;
        p++;
    }
    const char *end = strchr(p, ':');
    const char *key = strstr(arn, ":key/");
    if (!end || !key || end == p || (size_t)(end - p) >= region_size ||
        strlen(key + 5) >= key_size || !key[5])
        return -1;
    snprintf(region, region_size, "%.*s", (int)(end - p), p);
    snprintf(key_id, key_size, "%s", key + 5);
    return 0;
}

void check_table_arn(const struct check_context *ctx, const char *region, const char *table,
                     char *out, size_t size)
{
    snprintf(out, size, "arn:%s:dynamodb:%s:%s:table/%s", ctx->evidence->partition, region,
             ctx->evidence->account, table);
}

void check_account_scope(const struct check_context *ctx, char *out, size_t size)
{
    snprintf(out, size, "arn:%s:iam::%s:root", ctx->evidence->partition, ctx->evidence->account);
}

void check_region_scope(const struct check_context *ctx, const char *region, char *out, size_t size)
{
    snprintf(out, size, "arn:%s:dynamodb:%s:%s:*", ctx->evidence->partition, region,
             ctx->evidence->account);
}

const char *check_table_tag(const struct check_context *ctx, const char *region, const char *table,
                            const char *key, int *known)
{
    const struct evidence_call *call =
        evidence_find(ctx->evidence, region, "dynamodb", "ListTagsOfResource", table);
    *known = call && call->outcome == EVIDENCE_OK;
    if (!*known)
        return NULL;
    size_t i;
    json_t *tag;
    json_array_foreach(json_object_get(call->document, "Tags"), i, tag)
    {
        const char *k = json_string_value(json_object_get(tag, "Key"));
        if (k && !strcmp(k, key))
            return json_string_value(json_object_get(tag, "Value"));
    }
    return NULL;
}

/* applies_to.tags: the table is in scope when every listed tag has one of the listed values.
 * Unknown tags (not collected) keep the table in scope: better reviewed than skipped. */
static int table_in_scope(struct check_context *ctx, const char *region, const char *table)
{
    json_t *selector = ctx->control->applies_to_tags;
    if (!selector)
        return 1;
    const char *key;
    json_t *values;
    json_object_foreach(selector, key, values)
    {
        int known = 0;
        const char *value = check_table_tag(ctx, region, table, key, &known);
        if (!known)
            continue;
        int match = 0;
        size_t i;
        json_t *wanted;
        json_array_foreach(values, i, wanted)
        {
            if (value && json_is_string(wanted) && !strcmp(value, json_string_value(wanted)))
                match = 1;
        }
        if (!match)
            return 0;
    }
    return 1;
}

int check_each_table(struct check_context *ctx, table_visitor visit)
{
    const struct evidence_snapshot *s = ctx->evidence;
    for (size_t r = 0; r < s->region_count; r++) {
        const char *region = s->regions[r];
        char scope[256];
        check_region_scope(ctx, region, scope, sizeof(scope));
        const struct evidence_call *list =
            check_require(ctx, scope, region, "dynamodb", "ListTables", NULL);
        if (!list)
            continue;
        json_t *names = json_object_get(list->document, "TableNames");
        if (!json_is_array(names)) {
            struct finding *f = result_add_finding(ctx->result, scope, STATUS_REVIEW,
                                                   "ListTables output has no TableNames list");
            check_cite(ctx, f, list, "");
            continue;
        }
        size_t i;
        json_t *name;
        json_array_foreach(names, i, name)
        {
            if (!json_is_string(name))
                continue;
            struct table_ref table = {.region = region,
                                      .name = json_string_value(name),
                                      .list_tables = list,
                                      .list_index = i};
            check_table_arn(ctx, region, table.name, table.arn, sizeof(table.arn));
            if (!table_in_scope(ctx, region, table.name))
                continue;
            int rc = visit(ctx, &table);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}
