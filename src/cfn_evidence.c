/* Maps template resources (DynamoDB tables, global tables, SAM simple tables, KMS keys, scaling
 * targets, VPC endpoints, backup selections, DAX clusters) into the AWS CLI output shapes the
 * checks read. It decides no status: what a template leaves open becomes a call that failed
 * with the reason, so every check that needs it says Review, never Pass. */
#include "cfn_evidence.h"
#include "buf.h"
#include "cfn_template.h"
#include "diag.h"
#include "digest.h"
#include "evidence.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNRESOLVED_CODE "UnresolvedInTemplate"
#define AWS_MANAGED_KEY "aws/dynamodb" /* the key id we give alias/aws/dynamodb */

/* A synthetic document and where each of its parts came from. */
struct document {
    json_t *body;
    json_t *locations;
};

struct table {
    char *name;
    char *region;
    char *arn;
    json_t *tags; /* [{Key, Value}] or NULL when unresolved */
    const struct cfn_template *template_;
};

struct builder {
    struct evidence_snapshot *snapshot;
    struct diagnostics *d;
    const char *account, *partition, *region;
    json_t *regions; /* region → true */
    json_t
        *aggregates; /* "region\tservice\tOperation" → {document, locations, list, path, sha256} */
    struct table *tables;
    size_t table_count, table_capacity;
    const struct cfn_template *first;
    int error;
};

static json_t *string_of(const json_t *value)
{
    return json_is_string(value) ? json_incref((json_t *)value) : NULL;
}

static void document_init(struct document *doc, const struct cfn_resource *resource)
{
    doc->body = json_object();
    doc->locations = json_object();
    json_object_set(doc->locations, "", cfn_location(resource, ""));
}

/* Records that `doc_pointer` of the document comes from `property` of the resource (or the
 * nearest ancestor the template has). */
static void locate(struct document *doc, const char *doc_pointer, const struct cfn_resource *r,
                   const char *property)
{
    json_object_set(doc->locations, doc_pointer, cfn_location(r, property));
}

static struct evidence_call call_for(const struct cfn_template *t, const char *region,
                                     const char *service, const char *operation, const char *key)
{
    struct evidence_call call;
    memset(&call, 0, sizeof(call));
    call.path = t->path;
    call.service = (char *)service;
    call.operation = (char *)operation;
    call.region = (char *)region;
    call.key = (char *)key;
    memcpy(call.sha256, t->sha256, sizeof(call.sha256));
    call.size = t->file.len;
    return call;
}

static void add_document(struct builder *b, const struct cfn_template *t, const char *region,
                         const char *service, const char *operation, const char *key,
                         struct document *doc)
{
    struct evidence_call call = call_for(t, region, service, operation, key);
    if (evidence_add_document(b->snapshot, &call, doc->body, doc->locations, b->d) < 0)
        b->error = DDB_ERUNTIME;
    json_decref(doc->body);
    json_decref(doc->locations);
    json_object_set_new(b->regions, region, json_true());
}

/* A call whose answer the template cannot give (outcome error, with the reason) or that answers
 * "there is none" (not found); cited at `location`. */
static void add_outcome(struct builder *b, const struct cfn_template *t, const char *region,
                        const char *service, const char *operation, const char *key,
                        enum evidence_outcome outcome, const char *reason, json_t *location)
{
    struct evidence_call call = call_for(t, region, service, operation, key);
    call.outcome = outcome;
    call.error_code = outcome == EVIDENCE_ERROR ? UNRESOLVED_CODE : NULL;
    call.error_message = (char *)reason;
    if (evidence_add_call(b->snapshot, &call, b->d) < 0) {
        b->error = DDB_ERUNTIME;
        return;
    }
    struct evidence_call *added = &b->snapshot->calls[b->snapshot->call_count - 1];
    added->locations = json_object();
    json_object_set(added->locations, "", location);
}

/* Appends an item to a region-wide list document (ListTables, DescribeScalableTargets, …). */
static void aggregate(struct builder *b, const struct cfn_template *t, const char *region,
                      const char *service, const char *operation, const char *list_key,
                      json_t *item, json_t *location)
{
    struct buf key;
    buf_init(&key, 4096);
    buf_printf(&key, "%s\t%s\t%s", region, service, operation);
    json_t *entry = json_object_get(b->aggregates, buf_cstr(&key));
    if (!entry) {
        entry = json_pack("{s:{s:[]}, s:{s:o}, s:s, s:s, s:s}", "document", list_key, "locations",
                          "", json_pack("{s:s, s:i, s:i}", "file", t->path, "line", 1, "column", 1),
                          "list", list_key, "path", t->path, "sha256", t->sha256);
        json_object_set_new(b->aggregates, buf_cstr(&key), entry);
    }
    if (item) {
        json_t *list = json_object_get(json_object_get(entry, "document"), list_key);
        char pointer[128];
        snprintf(pointer, sizeof(pointer), "/%s/%zu", list_key, json_array_size(list));
        json_array_append_new(list, item);
        json_object_set(json_object_get(entry, "locations"), pointer, location);
    }
    buf_free(&key);
    json_object_set_new(b->regions, region, json_true());
}

static char *printed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *printed(const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return buf_detach(&b);
}

/* A property's value for a policy: unresolved parts become text the policy reader cannot
 * mistake for a real principal or ARN, so the policy checks say Review. */
static json_t *policy_text(const json_t *value)
{
    if (cfn_is_unresolved(value)) {
        char *text = printed("<unresolved: %s>", cfn_unresolved_reason(value));
        json_t *s = json_string(text);
        free(text);
        return s;
    }
    if (json_is_array(value)) {
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)value, i, item) json_array_append_new(out, policy_text(item));
        return out;
    }
    if (json_is_object(value)) {
        json_t *out = json_object();
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)value, key, item)
            json_object_set_new(out, key, policy_text(item));
        return out;
    }
    return json_deep_copy(value);
}

/* Policies are JSON strings in AWS answers (templates may write them as objects or strings). */
static json_t *policy_string(const json_t *value)
{
    if (json_is_string(value))
        return json_incref((json_t *)value);
    json_t *clean = policy_text(value);
    char *text = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(clean);
    json_t *s = json_string(text ? text : "{}");
    free(text);
    return s;
}

/* ---------------------------------------------------------------- KMS keys */

static const struct cfn_resource *template_key(const struct cfn_template *t, const char *id)
{
    const struct cfn_resource *r = cfn_template_find(t, id);
    return r && !strcmp(r->type, "AWS::KMS::Key") && !r->excluded ? r : NULL;
}

/* The template key an alias name ("alias/orders" or its ARN) points at, or NULL. */
static const struct cfn_resource *aliased_key(const struct cfn_template *t, const char *name)
{
    const char *alias = strstr(name, "alias/");
    if (!alias)
        return NULL;
    for (size_t i = 0; i < t->resource_count; i++) {
        const struct cfn_resource *r = &t->resources[i];
        if (strcmp(r->type, "AWS::KMS::Alias") || r->excluded)
            continue;
        const char *alias_name = json_string_value(json_object_get(r->properties, "AliasName"));
        const char *target = json_string_value(json_object_get(r->properties, "TargetKeyId"));
        if (alias_name && target && !strcmp(alias_name, alias)) {
            const char *slash = strstr(target, ":key/");
            return template_key(t, slash ? slash + 5 : target);
        }
    }
    return NULL;
}

/* The ARN DescribeTable would show for a KMSMasterKeyId (absent = the AWS managed key), adding
 * the kms evidence it leads to. Keys outside the templates are failed calls saying so. */
static char *table_key_arn(struct builder *b, const struct cfn_template *t, const char *table,
                           const json_t *key_id, json_t *location)
{
    const char *text = json_string_value(key_id);
    if (cfn_is_unresolved(key_id)) {
        char *id = printed("unresolved-%s", table);
        char *arn = printed("arn:%s:kms:%s:%s:key/%s", t->partition, t->region, t->account, id);
        char *reason = printed("the table's KMSMasterKeyId is not known before deployment: %s",
                               cfn_unresolved_reason(key_id));
        add_outcome(b, t, t->region, "kms", "DescribeKey", id, EVIDENCE_ERROR, reason, location);
        add_outcome(b, t, t->region, "kms", "GetKeyRotationStatus", id, EVIDENCE_ERROR, reason,
                    location);
        free(reason);
        free(id);
        return arn;
    }
    if (!text || strstr(text, "alias/aws/dynamodb")) {
        char *arn = printed("arn:%s:kms:%s:%s:key/%s", t->partition, t->region, t->account,
                            AWS_MANAGED_KEY);
        struct document doc = {json_pack("{s:{s:s, s:s, s:s, s:s, s:b, s:s}}", "KeyMetadata",
                                         "AWSAccountId", t->account, "KeyId", AWS_MANAGED_KEY,
                                         "Arn", arn, "KeyManager", "AWS", "Enabled", 1, "KeyState",
                                         "Enabled"),
                               json_object()};
        json_object_set(doc.locations, "", location);
        add_document(b, t, t->region, "kms", "DescribeKey", AWS_MANAGED_KEY, &doc);
        return arn;
    }
    const char *id = strstr(text, ":key/") ? strstr(text, ":key/") + 5 : text;
    const struct cfn_resource *key = template_key(t, id);
    if (!key)
        key = aliased_key(t, text);
    if (key)
        return printed("arn:%s:kms:%s:%s:key/%s", t->partition, t->region, t->account,
                       key->logical_id);
    /* A key made elsewhere: its ARN if we have one, and a failed call saying why. */
    char *arn = strncmp(text, "arn:", 4) || !strstr(text, ":key/")
                    ? printed("arn:%s:kms:%s:%s:key/%s", t->partition, t->region, t->account, id)
                    : strdup(text);
    char region[64] = "";
    const char *p = arn;
    for (int field = 0; field < 3 && p; field++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    if (p && strchr(p, ':'))
        snprintf(region, sizeof(region), "%.*s", (int)(strchr(p, ':') - p), p);
    char *reason = printed("KMS key %s is not defined in these templates: whether it is customer "
                           "managed, enabled and rotating is known only from live evidence",
                           text);
    const char *key_part = strstr(arn, ":key/") + 5;
    add_outcome(b, t, *region ? region : t->region, "kms", "DescribeKey", key_part, EVIDENCE_ERROR,
                reason, location);
    add_outcome(b, t, *region ? region : t->region, "kms", "GetKeyRotationStatus", key_part,
                EVIDENCE_ERROR, reason, location);
    free(reason);
    return arn;
}

static void map_kms_key(struct builder *b, const struct cfn_template *t,
                        const struct cfn_resource *r)
{
    json_t *p = r->properties;
    const char *id = r->logical_id;
    char *arn = printed("arn:%s:kms:%s:%s:key/%s", t->partition, t->region, t->account, id);
    int enabled = cfn_bool(json_object_get(p, "Enabled"));
    json_t *spec = string_of(json_object_get(p, "KeySpec"));
    json_t *usage = string_of(json_object_get(p, "KeyUsage"));
    spec = spec ? spec : json_string("SYMMETRIC_DEFAULT");
    usage = usage ? usage : json_string("ENCRYPT_DECRYPT");
    struct document doc;
    document_init(&doc, r);
    json_t *meta = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:s, s:O, s:O, s:s, s:b}", "AWSAccountId", t->account, "KeyId",
        id, "Arn", arn, "KeyManager", "CUSTOMER", "Enabled", enabled != 0, "KeyState",
        enabled == 0 ? "Disabled" : "Enabled", "KeySpec", spec, "KeyUsage", usage, "Origin",
        "AWS_KMS", "MultiRegion", cfn_bool(json_object_get(p, "MultiRegion")) == 1);
    json_decref(spec);
    json_decref(usage);
    json_object_set_new(doc.body, "KeyMetadata", meta);
    locate(&doc, "/KeyMetadata/KeyState", r, "/Enabled");
    locate(&doc, "/KeyMetadata/Enabled", r, "/Enabled");
    add_document(b, t, t->region, "kms", "DescribeKey", id, &doc);

    json_t *rotation = json_object_get(p, "EnableKeyRotation");
    if (cfn_is_unresolved(rotation)) {
        add_outcome(b, t, t->region, "kms", "GetKeyRotationStatus", id, EVIDENCE_ERROR,
                    cfn_unresolved_reason(rotation), cfn_location(r, "/EnableKeyRotation"));
    } else {
        document_init(&doc, r);
        /* Rotation is off unless the template turns it on (the CloudFormation default). */
        json_object_set_new(doc.body, "KeyRotationEnabled", json_boolean(cfn_bool(rotation) == 1));
        locate(&doc, "/KeyRotationEnabled", r, "/EnableKeyRotation");
        add_document(b, t, t->region, "kms", "GetKeyRotationStatus", id, &doc);
    }
    json_t *policy = json_object_get(p, "KeyPolicy");
    if (policy) {
        document_init(&doc, r);
        json_object_set_new(doc.body, "Policy", policy_string(policy));
        json_object_set_new(doc.body, "PolicyName", json_string("default"));
        locate(&doc, "/Policy", r, "/KeyPolicy");
        add_document(b, t, t->region, "kms", "GetKeyPolicy", id, &doc);
    }
    free(arn);
}

/* ---------------------------------------------------------------- tables */

/* What one table looks like in one region, gathered from whichever resource type defines it.
 * Property paths are pointers into the resource's properties, for locations. */
struct table_view {
    const char *name;
    const char *region;
    const char *billing_mode;
    json_t *sse_enabled;  /* SSEEnabled value (may be unresolved), NULL = absent */
    json_t *kms_key;      /* KMSMasterKeyId, NULL = absent */
    const char *sse_path; /* "/SSESpecification" */
    const char *kms_path; /* ".../KMSMasterKeyId" */
    json_t *pitr;         /* PointInTimeRecoveryEnabled, NULL = absent */
    const char *pitr_path;
    json_t *deletion_protection;
    const char *deletion_path;
    json_t *tags; /* [{Key, Value}] (or unresolved) */
    const char *tags_path;
    int tags_are_map;   /* SAM: {Key: Value} */
    json_t *throughput; /* {ReadCapacityUnits, WriteCapacityUnits} or NULL */
    const char *throughput_path;
    json_t *policy; /* ResourcePolicy.PolicyDocument or NULL */
    const char *policy_path;
    json_t *stream_policy;
    const char *stream_policy_path;
    json_t *stream;   /* StreamSpecification */
    json_t *replicas; /* [{RegionName, ReplicaStatus}] for a global table, else NULL */
    const char *replicas_path;
};

static void remember_table(struct builder *b, const struct cfn_template *t, const char *name,
                           const char *region, json_t *tags)
{
    if (b->table_count == b->table_capacity) {
        size_t capacity = b->table_capacity ? b->table_capacity * 2 : 16;
        struct table *grown = realloc(b->tables, capacity * sizeof(*grown));
        if (!grown) {
            b->error = DDB_ERUNTIME;
            return;
        }
        b->tables = grown;
        b->table_capacity = capacity;
    }
    struct table *table = &b->tables[b->table_count++];
    table->name = strdup(name);
    table->region = strdup(region);
    table->arn = printed("arn:%s:dynamodb:%s:%s:table/%s", t->partition, region, t->account, name);
    table->tags = tags ? json_incref(tags) : NULL;
    table->template_ = t;
}

static void map_table_view(struct builder *b, const struct cfn_template *t,
                           const struct cfn_resource *r, const struct table_view *v)
{
    const char *name = v->name, *region = v->region;
    char *arn = printed("arn:%s:dynamodb:%s:%s:table/%s", t->partition, region, t->account, name);
    aggregate(b, t, region, "dynamodb", "ListTables", "TableNames", json_string(name),
              cfn_location(r, ""));

    /* DescribeTable */
    struct document doc;
    document_init(&doc, r);
    json_t *table =
        json_pack("{s:s, s:s, s:s, s:{s:s}}", "TableName", name, "TableArn", arn, "TableStatus",
                  "ACTIVE", "BillingModeSummary", "BillingMode", v->billing_mode);
    json_object_set_new(doc.body, "Table", table);
    locate(&doc, "/Table/TableName", r, "/TableName");
    /* A table created PROVISIONED says so only through its throughput. */
    locate(&doc, "/Table/BillingModeSummary", r,
           json_object_get(r->properties, "BillingMode") || !v->throughput_path
               ? "/BillingMode"
               : v->throughput_path);
    if (v->throughput) {
        json_object_set(table, "ProvisionedThroughput", v->throughput);
        locate(&doc, "/Table/ProvisionedThroughput", r, v->throughput_path);
    }
    int sse = cfn_bool(v->sse_enabled);
    if (cfn_is_unresolved(v->sse_enabled) || cfn_is_unresolved(v->kms_key) || sse == 1) {
        /* An unresolved SSEEnabled is judged as an unknown key, never as the default. */
        json_t *key_value = cfn_is_unresolved(v->sse_enabled) ? v->sse_enabled : v->kms_key;
        json_t *key_location =
            cfn_location(r, cfn_is_unresolved(v->sse_enabled) ? v->sse_path : v->kms_path);
        char *key_arn = table_key_arn(b, t, name, key_value, key_location);
        json_object_set_new(table, "SSEDescription",
                            json_pack("{s:s, s:s, s:s}", "Status", "ENABLED", "SSEType", "KMS",
                                      "KMSMasterKeyArn", key_arn));
        free(key_arn);
        locate(&doc, "/Table/SSEDescription", r, v->sse_path);
        locate(&doc, "/Table/SSEDescription/KMSMasterKeyArn", r,
               v->kms_key ? v->kms_path : v->sse_path);
    } else {
        /* No SSEDescription: the AWS owned key, cited where SSE is (not) specified. */
        locate(&doc, "/Table/SSEDescription", r, v->sse_path);
    }
    json_object_set_new(table, "DeletionProtectionEnabled",
                        json_boolean(cfn_bool(v->deletion_protection) == 1));
    locate(&doc, "/Table/DeletionProtectionEnabled", r, v->deletion_path);
    if (v->stream && cfn_bool(json_object_get(v->stream, "StreamEnabled")) != 0 &&
        json_object_get(v->stream, "StreamViewType")) {
        json_object_set_new(table, "StreamSpecification",
                            json_pack("{s:b, s:O}", "StreamEnabled", 1, "StreamViewType",
                                      json_object_get(v->stream, "StreamViewType")));
        locate(&doc, "/Table/StreamSpecification", r, "/StreamSpecification");
    }
    if (v->replicas) {
        json_object_set(table, "Replicas", v->replicas);
        locate(&doc, "/Table/Replicas", r, v->replicas_path);
        size_t i;
        json_t *replica;
        json_array_foreach(v->replicas, i, replica)
        {
            char doc_pointer[64], property[64];
            snprintf(doc_pointer, sizeof(doc_pointer), "/Table/Replicas/%zu", i);
            snprintf(property, sizeof(property), "%s/%lld", v->replicas_path,
                     (long long)json_integer_value(json_object_get(replica, "\x01index")));
            locate(&doc, doc_pointer, r, property);
            json_object_del(replica, "\x01index");
        }
    }
    add_document(b, t, region, "dynamodb", "DescribeTable", name, &doc);

    /* DescribeContinuousBackups */
    if (cfn_is_unresolved(v->pitr)) {
        add_outcome(b, t, region, "dynamodb", "DescribeContinuousBackups", name, EVIDENCE_ERROR,
                    cfn_unresolved_reason(v->pitr), cfn_location(r, v->pitr_path));
    } else {
        document_init(&doc, r);
        json_object_set_new(doc.body, "ContinuousBackupsDescription",
                            json_pack("{s:s, s:{s:s}}", "ContinuousBackupsStatus", "ENABLED",
                                      "PointInTimeRecoveryDescription", "PointInTimeRecoveryStatus",
                                      cfn_bool(v->pitr) == 1 ? "ENABLED" : "DISABLED"));
        locate(&doc, "/ContinuousBackupsDescription", r, v->pitr_path);
        add_document(b, t, region, "dynamodb", "DescribeContinuousBackups", name, &doc);
    }

    /* ListTagsOfResource */
    const json_t *hole = cfn_find_unresolved(v->tags);
    json_t *tags = NULL;
    if (hole) {
        char *reason =
            printed("a tag is not known before deployment: %s", cfn_unresolved_reason(hole));
        add_outcome(b, t, region, "dynamodb", "ListTagsOfResource", name, EVIDENCE_ERROR, reason,
                    cfn_location(r, v->tags_path));
        free(reason);
    } else {
        document_init(&doc, r);
        tags = json_array();
        locate(&doc, "/Tags", r, v->tags_path);
        if (v->tags_are_map) {
            const char *key;
            json_t *value;
            json_object_foreach(v->tags, key, value)
            {
                char doc_pointer[64];
                snprintf(doc_pointer, sizeof(doc_pointer), "/Tags/%zu", json_array_size(tags));
                char *property = printed("%s/%s", v->tags_path, key);
                locate(&doc, doc_pointer, r, property);
                free(property);
                json_array_append_new(tags, json_pack("{s:s, s:O}", "Key", key, "Value", value));
            }
        } else {
            size_t i;
            json_t *tag;
            json_array_foreach(v->tags, i, tag)
            {
                if (!json_is_string(json_object_get(tag, "Key")))
                    continue;
                char doc_pointer[64];
                snprintf(doc_pointer, sizeof(doc_pointer), "/Tags/%zu", json_array_size(tags));
                char *property = printed("%s/%zu", v->tags_path, i);
                locate(&doc, doc_pointer, r, property);
                free(property);
                json_t *value = json_object_get(tag, "Value");
                json_array_append_new(tags,
                                      json_pack("{s:O, s:O}", "Key", json_object_get(tag, "Key"),
                                                "Value", value ? value : json_string("")));
            }
        }
        json_object_set(doc.body, "Tags", tags);
        add_document(b, t, region, "dynamodb", "ListTagsOfResource", name, &doc);
    }
    remember_table(b, t, name, region, tags);
    json_decref(tags);

    /* GetResourcePolicy: none in the template is "there is none" (PolicyNotFoundException). */
    if (v->policy) {
        document_init(&doc, r);
        json_object_set_new(doc.body, "Policy", policy_string(v->policy));
        json_object_set_new(doc.body, "RevisionId", json_string("template"));
        locate(&doc, "/Policy", r, v->policy_path);
        add_document(b, t, region, "dynamodb", "GetResourcePolicy", name, &doc);
    } else {
        add_outcome(b, t, region, "dynamodb", "GetResourcePolicy", name, EVIDENCE_NOT_FOUND,
                    "the template gives the table no ResourcePolicy", cfn_location(r, ""));
    }
    if (v->stream_policy) {
        char *key = printed("%s@stream", name);
        document_init(&doc, r);
        json_object_set_new(doc.body, "Policy", policy_string(v->stream_policy));
        json_object_set_new(doc.body, "RevisionId", json_string("template"));
        locate(&doc, "/Policy", r, v->stream_policy_path);
        add_document(b, t, region, "dynamodb", "GetResourcePolicy", key, &doc);
        free(key);
    }
    free(arn);
}

static const char *table_name(const struct cfn_resource *r)
{
    const char *name = json_string_value(json_object_get(r->properties, "TableName"));
    return name ? name : r->logical_id;
}

static void map_table(struct builder *b, const struct cfn_template *t, const struct cfn_resource *r)
{
    json_t *p = r->properties;
    json_t *sse = json_object_get(p, "SSESpecification");
    const char *mode = json_string_value(json_object_get(p, "BillingMode"));
    struct table_view v = {
        .name = table_name(r),
        .region = t->region,
        .billing_mode = mode ? mode : "PROVISIONED",
        .sse_enabled = json_object_get(sse, "SSEEnabled"),
        .kms_key = json_object_get(sse, "KMSMasterKeyId"),
        .sse_path = "/SSESpecification/SSEEnabled",
        .kms_path = "/SSESpecification/KMSMasterKeyId",
        .pitr = json_object_get(json_object_get(p, "PointInTimeRecoverySpecification"),
                                "PointInTimeRecoveryEnabled"),
        .pitr_path = "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        .deletion_protection = json_object_get(p, "DeletionProtectionEnabled"),
        .deletion_path = "/DeletionProtectionEnabled",
        .tags = json_object_get(p, "Tags"),
        .tags_path = "/Tags",
        .throughput = json_object_get(p, "ProvisionedThroughput"),
        .throughput_path = "/ProvisionedThroughput",
        .policy = json_object_get(json_object_get(p, "ResourcePolicy"), "PolicyDocument"),
        .policy_path = "/ResourcePolicy/PolicyDocument",
        .stream = json_object_get(p, "StreamSpecification"),
        .stream_policy = json_object_get(
            json_object_get(json_object_get(p, "StreamSpecification"), "ResourcePolicy"),
            "PolicyDocument"),
        .stream_policy_path = "/StreamSpecification/ResourcePolicy/PolicyDocument",
    };
    if (cfn_is_unresolved(json_object_get(p, "BillingMode")))
        v.billing_mode = "UNRESOLVED";
    map_table_view(b, t, r, &v);
}

/* SAM's AWS::Serverless::SimpleTable: on-demand unless ProvisionedThroughput is given, SSE
 * with the AWS managed key when SSEEnabled, tags as a map, and no PITR or deletion protection
 * (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/
 * sam-resource-simpletable.html). */
static void map_simple_table(struct builder *b, const struct cfn_template *t,
                             const struct cfn_resource *r)
{
    json_t *p = r->properties;
    json_t *throughput = json_object_get(p, "ProvisionedThroughput");
    json_t *tags = json_object_get(p, "Tags");
    struct table_view v = {
        .name = table_name(r),
        .region = t->region,
        .billing_mode = throughput ? "PROVISIONED" : "PAY_PER_REQUEST",
        .sse_enabled = json_object_get(json_object_get(p, "SSESpecification"), "SSEEnabled"),
        .sse_path = "/SSESpecification/SSEEnabled",
        .kms_path = "/SSESpecification",
        .pitr_path = "",
        .deletion_path = "",
        .tags = json_is_object(tags) && !cfn_is_unresolved(tags) ? tags : NULL,
        .tags_path = "/Tags",
        .tags_are_map = 1,
        .throughput = throughput,
        .throughput_path = "/ProvisionedThroughput",
    };
    json_t *empty = json_object();
    if (cfn_is_unresolved(tags))
        v.tags = tags, v.tags_are_map = 0;
    else if (!v.tags)
        v.tags = empty;
    map_table_view(b, t, r, &v);
    json_decref(empty);
}

/* The scaling targets a global table's autoscaling settings create in one replica's region. */
static void global_scaling(struct builder *b, const struct cfn_template *t,
                           const struct cfn_resource *r, const char *name, const char *region,
                           json_t *replica, size_t index)
{
    json_t *write =
        json_object_get(json_object_get(r->properties, "WriteProvisionedThroughputSettings"),
                        "WriteCapacityAutoScalingSettings");
    json_t *read = json_object_get(json_object_get(replica, "ReadProvisionedThroughputSettings"),
                                   "ReadCapacityAutoScalingSettings");
    char *resource_id = printed("table/%s", name);
    if (write)
        aggregate(
            b, t, region, "application-autoscaling", "DescribeScalableTargets", "ScalableTargets",
            json_pack("{s:s, s:s, s:s, s:O, s:O}", "ServiceNamespace", "dynamodb", "ResourceId",
                      resource_id, "ScalableDimension", "dynamodb:table:WriteCapacityUnits",
                      "MinCapacity", json_object_get(write, "MinCapacity"), "MaxCapacity",
                      json_object_get(write, "MaxCapacity")),
            cfn_location(r, "/WriteProvisionedThroughputSettings"));
    if (read) {
        char *property = printed("/Replicas/%zu/ReadProvisionedThroughputSettings", index);
        aggregate(
            b, t, region, "application-autoscaling", "DescribeScalableTargets", "ScalableTargets",
            json_pack("{s:s, s:s, s:s, s:O, s:O}", "ServiceNamespace", "dynamodb", "ResourceId",
                      resource_id, "ScalableDimension", "dynamodb:table:ReadCapacityUnits",
                      "MinCapacity", json_object_get(read, "MinCapacity"), "MaxCapacity",
                      json_object_get(read, "MaxCapacity")),
            cfn_location(r, property));
        free(property);
    }
    free(resource_id);
}

/* AWS::DynamoDB::GlobalTable: one table per replica region, each with its own key, PITR, tags,
 * deletion protection and resource policy (https://docs.aws.amazon.com/AWSCloudFormation/
 * latest/UserGuide/aws-resource-dynamodb-globaltable.html). */
static void map_global_table(struct builder *b, const struct cfn_template *t,
                             const struct cfn_resource *r)
{
    json_t *p = r->properties;
    json_t *replicas = json_object_get(p, "Replicas");
    const char *mode = json_string_value(json_object_get(p, "BillingMode"));
    const char *name = table_name(r);
    json_t *sse = json_object_get(p, "SSESpecification");
    size_t i;
    json_t *replica;
    json_array_foreach(replicas, i, replica)
    {
        const char *region = json_string_value(json_object_get(replica, "Region"));
        if (!region)
            continue; /* an unresolved region cannot be placed; the others still are */
        json_t *others = json_array();
        size_t k;
        json_t *other;
        json_array_foreach(replicas, k, other)
        {
            const char *other_region = json_string_value(json_object_get(other, "Region"));
            if (k == i || !other_region)
                continue;
            json_array_append_new(others,
                                  json_pack("{s:s, s:s, s:I}", "RegionName", other_region,
                                            "ReplicaStatus", "ACTIVE", "\x01index", (json_int_t)k));
        }
        char paths[8][128];
        snprintf(paths[0], sizeof(paths[0]), "/Replicas/%zu/SSESpecification/KMSMasterKeyId", i);
        snprintf(paths[1], sizeof(paths[1]),
                 "/Replicas/%zu/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled", i);
        snprintf(paths[2], sizeof(paths[2]), "/Replicas/%zu/DeletionProtectionEnabled", i);
        snprintf(paths[3], sizeof(paths[3]), "/Replicas/%zu/Tags", i);
        snprintf(paths[4], sizeof(paths[4]), "/Replicas/%zu/ResourcePolicy/PolicyDocument", i);
        snprintf(paths[5], sizeof(paths[5]),
                 "/Replicas/%zu/ReplicaStreamSpecification/ResourcePolicy/PolicyDocument", i);
        json_t *empty = json_array();
        json_t *tags = json_object_get(replica, "Tags");
        struct table_view v = {
            .name = name,
            .region = region,
            .billing_mode = mode ? mode : "PROVISIONED",
            .sse_enabled = json_object_get(sse, "SSEEnabled"),
            .kms_key =
                json_object_get(json_object_get(replica, "SSESpecification"), "KMSMasterKeyId"),
            .sse_path = "/SSESpecification/SSEEnabled",
            .kms_path = paths[0],
            .pitr = json_object_get(json_object_get(replica, "PointInTimeRecoverySpecification"),
                                    "PointInTimeRecoveryEnabled"),
            .pitr_path = paths[1],
            .deletion_protection = json_object_get(replica, "DeletionProtectionEnabled"),
            .deletion_path = paths[2],
            .tags = tags ? tags : empty,
            .tags_path = paths[3],
            .policy = json_object_get(json_object_get(replica, "ResourcePolicy"), "PolicyDocument"),
            .policy_path = paths[4],
            .stream = json_object_get(p, "StreamSpecification"),
            .stream_policy = json_object_get(
                json_object_get(json_object_get(replica, "ReplicaStreamSpecification"),
                                "ResourcePolicy"),
                "PolicyDocument"),
            .stream_policy_path = paths[5],
            .replicas = json_array_size(others) ? others : NULL,
            .replicas_path = "/Replicas",
        };
        map_table_view(b, t, r, &v);
        global_scaling(b, t, r, name, region, replica, i);
        json_decref(others);
        json_decref(empty);
    }
}

/* ---------------------------------------------------------------- around the tables */

static void map_scalable_target(struct builder *b, const struct cfn_template *t,
                                const struct cfn_resource *r)
{
    json_t *p = r->properties;
    const char *ns = json_string_value(json_object_get(p, "ServiceNamespace"));
    if (!ns || strcmp(ns, "dynamodb"))
        return;
    json_t *item = json_object();
    const char *fields[] = {"ServiceNamespace", "ResourceId", "ScalableDimension", "MinCapacity",
                            "MaxCapacity"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *value = json_object_get(p, fields[i]);
        if (value)
            json_object_set_new(item, fields[i], policy_text(value));
    }
    aggregate(b, t, t->region, "application-autoscaling", "DescribeScalableTargets",
              "ScalableTargets", item, cfn_location(r, "/ScalableDimension"));
}

static void map_vpc_endpoint(struct builder *b, const struct cfn_template *t,
                             const struct cfn_resource *r)
{
    json_t *p = r->properties;
    const char *service = json_string_value(json_object_get(p, "ServiceName"));
    const char *vpc = json_string_value(json_object_get(p, "VpcId"));
    const char *type = json_string_value(json_object_get(p, "VpcEndpointType"));
    json_t *item =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "VpcEndpointId", r->logical_id, "VpcEndpointType",
                  type ? type : "Gateway", "VpcId", vpc ? vpc : "(unresolved)", "ServiceName",
                  service ? service : "(unresolved)", "State", "available");
    json_t *policy = json_object_get(p, "PolicyDocument");
    if (policy)
        json_object_set_new(item, "PolicyDocument", policy_string(policy));
    aggregate(b, t, t->region, "ec2", "DescribeVpcEndpoints", "VpcEndpoints", item,
              cfn_location(r, policy ? "/PolicyDocument" : ""));
}

static void map_vpc(struct builder *b, const struct cfn_template *t, const struct cfn_resource *r)
{
    json_t *cidr = json_object_get(r->properties, "CidrBlock");
    json_t *item = json_pack("{s:s, s:s}", "VpcId", r->logical_id, "State", "available");
    if (json_is_string(cidr))
        json_object_set(item, "CidrBlock", cidr);
    aggregate(b, t, t->region, "ec2", "DescribeVpcs", "Vpcs", item, cfn_location(r, ""));
}

static void map_dax_cluster(struct builder *b, const struct cfn_template *t,
                            const struct cfn_resource *r)
{
    json_t *p = r->properties;
    const char *name = json_string_value(json_object_get(p, "ClusterName"));
    name = name ? name : r->logical_id;
    char *arn = printed("arn:%s:dax:%s:%s:cache/%s", t->partition, t->region, t->account, name);
    int sse = cfn_bool(json_object_get(json_object_get(p, "SSESpecification"), "SSEEnabled"));
    const char *tls = json_string_value(json_object_get(p, "ClusterEndpointEncryptionType"));
    json_t *item = json_pack("{s:s, s:s, s:{s:s}, s:s}", "ClusterName", name, "ClusterArn", arn,
                             "SSEDescription", "Status", sse == 1 ? "ENABLED" : "DISABLED",
                             "ClusterEndpointEncryptionType", tls ? tls : "NONE");
    free(arn);
    aggregate(b, t, t->region, "dax", "DescribeClusters", "Clusters", item, cfn_location(r, ""));
}

/* AWS Backup protects the tables a selection names by ARN (wildcards allowed) or by tag. */
static void map_backup_selection(struct builder *b, const struct cfn_template *t,
                                 const struct cfn_resource *r)
{
    json_t *selection = json_object_get(r->properties, "BackupSelection");
    json_t *resources = json_object_get(selection, "Resources");
    json_t *by_tag = json_object_get(selection, "ListOfTags");
    for (size_t i = 0; i < b->table_count; i++) {
        const struct table *table = &b->tables[i];
        if (strcmp(table->region, t->region))
            continue;
        long matched = -1;
        const char *via = NULL;
        size_t k;
        json_t *pattern;
        json_array_foreach(resources, k, pattern)
        {
            const char *text = json_string_value(pattern);
            if (matched < 0 && text && fnmatch(text, table->arn, 0) == 0)
                matched = (long)k, via = "/BackupSelection/Resources";
        }
        json_t *condition;
        json_array_foreach(by_tag, k, condition)
        {
            const char *key = json_string_value(json_object_get(condition, "ConditionKey"));
            const char *value = json_string_value(json_object_get(condition, "ConditionValue"));
            size_t n;
            json_t *tag;
            json_array_foreach(table->tags, n, tag)
            {
                const char *tag_key = json_string_value(json_object_get(tag, "Key"));
                const char *tag_value = json_string_value(json_object_get(tag, "Value"));
                if (matched < 0 && key && value && tag_key && tag_value && !strcmp(key, tag_key) &&
                    !strcmp(value, tag_value))
                    matched = (long)k, via = "/BackupSelection/ListOfTags";
            }
        }
        if (matched < 0)
            continue;
        char *property = printed("%s/%ld", via, matched);
        aggregate(b, t, table->region, "backup", "ListProtectedResources", "Results",
                  json_pack("{s:s, s:s}", "ResourceArn", table->arn, "ResourceType", "DynamoDB"),
                  cfn_location(r, property));
        free(property);
    }
}

/* ---------------------------------------------------------------- the snapshot */

static void map_template(struct builder *b, const struct cfn_template *t, int pass)
{
    for (size_t i = 0; i < t->resource_count && !b->error; i++) {
        const struct cfn_resource *r = &t->resources[i];
        if (r->excluded)
            continue;
        const char *type = r->type;
        if (pass == 0) {
            if (!strcmp(type, "AWS::DynamoDB::Table"))
                map_table(b, t, r);
            else if (!strcmp(type, "AWS::DynamoDB::GlobalTable"))
                map_global_table(b, t, r);
            else if (!strcmp(type, "AWS::Serverless::SimpleTable"))
                map_simple_table(b, t, r);
            else if (!strcmp(type, "AWS::KMS::Key"))
                map_kms_key(b, t, r);
            else if (!strcmp(type, "AWS::ApplicationAutoScaling::ScalableTarget"))
                map_scalable_target(b, t, r);
            else if (!strcmp(type, "AWS::EC2::VPCEndpoint"))
                map_vpc_endpoint(b, t, r);
            else if (!strcmp(type, "AWS::EC2::VPC"))
                map_vpc(b, t, r);
            else if (!strcmp(type, "AWS::DAX::Cluster"))
                map_dax_cluster(b, t, r);
        } else if (!strcmp(type, "AWS::Backup::BackupSelection")) {
            map_backup_selection(b, t, r); /* after every table is known */
        }
    }
}

/* Region-wide lists exist in every region even when empty: "the template defines none" is an
 * answer, unlike a call that was never made. */
static void add_aggregates(struct builder *b)
{
    static const char *const lists[][3] = {
        {"dynamodb", "ListTables", "TableNames"},
        {"application-autoscaling", "DescribeScalableTargets", "ScalableTargets"},
        {"ec2", "DescribeVpcEndpoints", "VpcEndpoints"},
        {"ec2", "DescribeVpcs", "Vpcs"},
        {"backup", "ListProtectedResources", "Results"},
        {"dax", "DescribeClusters", "Clusters"},
    };
    const char *region;
    json_t *ignored;
    json_t *regions = json_deep_copy(b->regions);
    json_object_foreach(regions, region, ignored)
    {
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
            aggregate(b, b->first, region, lists[i][0], lists[i][1], lists[i][2], NULL, NULL);
    }
    json_decref(regions);
    const char *key;
    json_t *entry;
    json_object_foreach(b->aggregates, key, entry)
    {
        char region_name[64], service[64], operation[64];
        if (sscanf(key, "%63[^\t]\t%63[^\t]\t%63s", region_name, service, operation) != 3)
            continue;
        struct evidence_call call;
        memset(&call, 0, sizeof(call));
        call.path = (char *)json_string_value(json_object_get(entry, "path"));
        call.service = service;
        call.operation = operation;
        call.region = region_name;
        snprintf(call.sha256, sizeof(call.sha256), "%s",
                 json_string_value(json_object_get(entry, "sha256")));
        json_t *document = json_object_get(entry, "document");
        if (!strcmp(operation, "ListTables")) {
            /* ListTables answers in name order. */
            json_t *names = json_object_get(document, "TableNames");
            json_t *locations = json_object_get(entry, "locations");
            size_t n = json_array_size(names);
            json_t *sorted_locations = json_object();
            json_object_set(sorted_locations, "", json_object_get(locations, ""));
            json_t *sorted = json_array();
            for (size_t done = 0; done < n; done++) {
                size_t best = n;
                for (size_t k = 0; k < n; k++) {
                    const char *s = json_string_value(json_array_get(names, k));
                    if (!s)
                        continue;
                    if (best == n || strcmp(s, json_string_value(json_array_get(names, best))) < 0)
                        best = k;
                }
                if (best == n)
                    break;
                char from[64], to[64];
                snprintf(from, sizeof(from), "/TableNames/%zu", best);
                snprintf(to, sizeof(to), "/TableNames/%zu", json_array_size(sorted));
                json_object_set(sorted_locations, to, json_object_get(locations, from));
                json_array_append(sorted, json_array_get(names, best));
                json_array_set_new(names, best, json_null());
            }
            json_object_set_new(document, "TableNames", sorted);
            json_object_set_new(entry, "locations", sorted_locations);
        }
        if (evidence_add_document(b->snapshot, &call, document, json_object_get(entry, "locations"),
                                  b->d) < 0)
            b->error = DDB_ERUNTIME;
    }
}

static char *snapshot_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    struct buf b;
    buf_init(&b, 4096);
    buf_puts(&b, "template-");
    for (const char *p = base; *p && *p != '.'; p++)
        buf_putc(&b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                         ? *p
                         : '-');
    return buf_detach(&b);
}

/* The "manifest" of template evidence: each template's SHA-256 and path as given, in order, then
 * the parameters as loaded (sorted, compact). Its SHA-256 is the report's
 * inputs.evidence_manifest_sha256, which `ddbaudit verify --template` recomputes. */
static int manifest_digest(char hex[DIGEST_SHA256_HEX_LEN + 1], const char *const *paths,
                           const char *const *hashes, size_t count, const json_t *parameters,
                           struct diagnostics *d)
{
    struct buf manifest;
    int error = 0;
    buf_init(&manifest, BUF_DEFAULT_MAX);
    for (size_t i = 0; i < count && !error; i++)
        error = buf_printf(&manifest, "%s  %s\n", hashes[i], paths[i]);
    char *parameters_text =
        parameters ? json_dumps(parameters, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    if (!error && parameters && !parameters_text)
        error = -1;
    if (!error && parameters_text)
        error = buf_printf(&manifest, "parameters %s\n", parameters_text);
    free(parameters_text);
    if (!error)
        digest_sha256_hex(manifest.data ? manifest.data : "", manifest.len, hex);
    buf_free(&manifest);
    return error ? diag_error(d, DDB_ERUNTIME, "out of memory") : 0;
}

int cfn_evidence_manifest_sha256(char hex[DIGEST_SHA256_HEX_LEN + 1], const char *const *templates,
                                 size_t template_count, const char *parameters_path,
                                 struct diagnostics *d)
{
    json_t *parameters = NULL;
    char(*hashes)[DIGEST_SHA256_HEX_LEN + 1] = calloc(template_count + 1, sizeof(*hashes));
    const char **hash_list = calloc(template_count + 1, sizeof(*hash_list));
    int error = 0;
    if (!hashes || !hash_list) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < template_count; i++) {
        /* The same bytes cfn_template_load hashes: the file as it is on disk. */
        if ((error = digest_file_sha256_hex(hashes[i], NULL, templates[i], d)) < 0)
            goto done;
        hash_list[i] = hashes[i];
    }
    if (parameters_path && (error = cfn_parameters_load(&parameters, parameters_path, d)) < 0)
        goto done;
    error = manifest_digest(hex, templates, hash_list, template_count, parameters, d);
done:
    json_decref(parameters);
    free(hashes);
    free(hash_list);
    return error;
}

int cfn_evidence_build(struct evidence_snapshot **out, const struct cfn_evidence_options *o,
                       struct diagnostics *d)
{
    *out = NULL;
    json_t *parameters = NULL;
    struct cfn_template **templates = calloc(o->template_count + 1, sizeof(*templates));
    struct builder b = {0};
    char *name = NULL;
    int error = 0;
    if (!templates)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    if (o->parameters && (error = cfn_parameters_load(&parameters, o->parameters, d)) < 0)
        goto done;
    const char *account = json_string_value(json_object_get(parameters, "AWS::AccountId"));
    const char *region = json_string_value(json_object_get(parameters, "AWS::Region"));
    const char *partition = json_string_value(json_object_get(parameters, "AWS::Partition"));
    struct cfn_context context = {account, region, partition,
                                  json_string_value(json_object_get(parameters, "AWS::StackName")),
                                  parameters};
    /* Every template is read before any is mapped, so one run reports every template's errors. */
    for (size_t i = 0; i < o->template_count; i++) {
        int rc = cfn_template_load(&templates[i], o->templates[i], &context, d);
        if (rc < 0)
            error = error ? error : rc;
    }
    if (error < 0)
        goto done;
    name = snapshot_name(o->templates[0]);
    b.snapshot = evidence_new(name, templates[0]->account, templates[0]->partition);
    b.d = d;
    b.regions = json_object();
    b.aggregates = json_object();
    b.first = templates[0];
    if (!b.snapshot || !b.regions || !b.aggregates) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < o->template_count; i++)
        json_object_set_new(b.regions, templates[i]->region, json_true());
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < o->template_count; i++)
            map_template(&b, templates[i], pass);
    add_aggregates(&b);
    if ((error = b.error) < 0)
        goto done;

    struct evidence_snapshot *s = b.snapshot;
    const char *key;
    json_t *ignored;
    s->regions = calloc(json_object_size(b.regions) + 1, sizeof(*s->regions));
    json_object_foreach(b.regions, key, ignored) s->regions[s->region_count++] = strdup(key);
    /* jansson keeps insertion order; reports list regions sorted. */
    for (size_t i = 1; i < s->region_count; i++)
        for (size_t k = i; k > 0 && strcmp(s->regions[k - 1], s->regions[k]) > 0; k--) {
            char *swap = s->regions[k];
            s->regions[k] = s->regions[k - 1];
            s->regions[k - 1] = swap;
        }
    char *collected = printed("%sT00:00:00Z", o->as_of ? o->as_of : "1970-01-01");
    s->collected_at = collected;
    s->tool = strdup("ddbaudit report --template");
    const char **paths = calloc(o->template_count + 1, sizeof(*paths));
    const char **hashes = calloc(o->template_count + 1, sizeof(*hashes));
    if (!paths || !hashes) {
        free(paths);
        free(hashes);
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < o->template_count; i++) {
        paths[i] = templates[i]->path;
        hashes[i] = templates[i]->sha256;
    }
    error = manifest_digest(s->manifest_sha256, paths, hashes, o->template_count, parameters, d);
    free(paths);
    free(hashes);
    if (error < 0)
        goto done;
    /* No directory holds this evidence: writers must not look for a manifest file. */
    free(s->root);
    s->root = NULL;
    evidence_index(s);
    *out = s;
    b.snapshot = NULL;
done:
    for (size_t i = 0; i < b.table_count; i++) {
        free(b.tables[i].name);
        free(b.tables[i].region);
        free(b.tables[i].arn);
        json_decref(b.tables[i].tags);
    }
    free(b.tables);
    evidence_free(b.snapshot);
    json_decref(b.regions);
    json_decref(b.aggregates);
    for (size_t i = 0; i < o->template_count; i++)
        cfn_template_free(templates[i]);
    free(templates);
    json_decref(parameters);
    free(name);
    return error;
}
