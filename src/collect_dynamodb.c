/* DynamoDB evidence and what it leads to: ListTables, then per table its description,
 * continuous backups, TTL, tags and resource policies (table and stream), the legacy global
 * table, and the KMS keys the tables use. Decides what to call next; never judges answers. */
#include <jansson.h>
#include <string.h>

#include "collect_call.h"

static json_t *with_string(const char *name, const char *value)
{
    return json_pack("{ss}", name, value);
}

/* "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-..." -> region and key id. */
static int split_key_arn(const char *arn, char *region, size_t region_size, char *key_id,
                         size_t key_size)
{
    const char *p = arn;
    for (int colon = 0; colon < 3; colon++) {
        p = strchr(p, ':');
        if (!p)
            return -1;
        p++;
    }
    const char *end = strchr(p, ':');
    const char *slash = strstr(arn, ":key/");
    if (!end || !slash || (size_t)(end - p) >= region_size || end == p)
        return -1;
    memcpy(region, p, (size_t)(end - p));
    region[end - p] = '\0';
    snprintf(key_id, key_size, "%s", slash + 5);
    return *key_id ? 0 : -1;
}

static void collect_key(struct collector *c, const char *table_region, const char *key_arn)
{
    char region[64], key_id[256];
    if (strncmp(key_arn, "arn:", 4) != 0) {
        /* A bare key id (moto answers so; AWS gives the ARN): the table's region. */
        snprintf(region, sizeof(region), "%s", table_region);
        snprintf(key_id, sizeof(key_id), "%s", key_arn);
    } else if (split_key_arn(key_arn, region, sizeof(region), key_id, sizeof(key_id)) < 0) {
        return;
    }
    collect_call(c, "kms", "DescribeKey", region, key_id, with_string("KeyId", key_arn), NULL,
                 NULL);
    collect_call(c, "kms", "GetKeyRotationStatus", region, key_id, with_string("KeyId", key_arn),
                 NULL, NULL);
    collect_call(c, "kms", "GetKeyPolicy", region, key_id,
                 json_pack("{ssss}", "KeyId", key_arn, "PolicyName", "default"), NULL, NULL);
}

static void on_table(struct collector *c, const char *region, const char *name, json_t *result,
                     const char *error_code, void *user)
{
    (void)error_code, (void)user;
    json_t *table = json_object_get(result, "Table");
    if (!table)
        return;
    const char *arn = json_string_value(json_object_get(table, "TableArn"));
    if (arn) {
        collect_call(c, "dynamodb", "ListTagsOfResource", region, name,
                     with_string("ResourceArn", arn), NULL, NULL);
        collect_call(c, "dynamodb", "GetResourcePolicy", region, name,
                     with_string("ResourceArn", arn), NULL, NULL);
    }
    const char *stream = json_string_value(json_object_get(table, "LatestStreamArn"));
    if (stream) {
        char key[1024];
        snprintf(key, sizeof(key), "%s@stream", name);
        collect_call(c, "dynamodb", "GetResourcePolicy", region, key,
                     with_string("ResourceArn", stream), NULL, NULL);
    }
    json_t *sse = json_object_get(table, "SSEDescription");
    const char *key_arn = json_string_value(json_object_get(sse, "KMSMasterKeyArn"));
    if (key_arn)
        collect_key(c, region, key_arn);
    /* Version 2017.11.29 global tables are described by their own API; 2019 ones are in
     * DescribeTable's Replicas already. */
    const char *version = json_string_value(json_object_get(table, "GlobalTableVersion"));
    if (version && strcmp(version, "2017.11.29") == 0)
        collect_call(c, "dynamodb", "DescribeGlobalTable", region, name,
                     with_string("GlobalTableName", name), NULL, NULL);
}

static void on_tables(struct collector *c, const char *region, const char *key, json_t *result,
                      const char *error_code, void *user)
{
    (void)key, (void)error_code, (void)user;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(result, "TableNames"), i, entry)
    {
        const char *name = json_string_value(entry);
        if (!name)
            continue;
        collect_call(c, "dynamodb", "DescribeTable", region, name, with_string("TableName", name),
                     on_table, NULL);
        collect_call(c, "dynamodb", "DescribeContinuousBackups", region, name,
                     with_string("TableName", name), NULL, NULL);
        collect_call(c, "dynamodb", "DescribeTimeToLive", region, name,
                     with_string("TableName", name), NULL, NULL);
    }
}

void collect_dynamodb_region(struct collector *c, const char *region)
{
    collect_call(c, "dynamodb", "ListTables", region, NULL, NULL, on_tables, NULL);
}
