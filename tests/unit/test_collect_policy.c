/* docs/iam-policy.json allows exactly what `ddbaudit collect` can call: every operation in the
 * generated model table (the collector cannot call anything else), nothing more, and nothing
 * that writes (GenerateCredentialReport is the one non-read, and IAM documents it as needed to
 * read the report). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_model.h"

static json_t *load_policy(void)
{
    const char *root = getenv("DDBAUDIT_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/docs/iam-policy.json", root ? root : ".");
    json_error_t error;
    json_t *policy = json_load_file(path, 0, &error);
    if (!policy)
        fail_msg("%s: %s", path, error.text);
    return policy;
}

static int allowed(json_t *policy, const char *action)
{
    size_t i, j;
    json_t *statement, *entry;
    json_array_foreach(json_object_get(policy, "Statement"), i, statement)
    {
        if (strcmp(json_string_value(json_object_get(statement, "Effect")), "Allow") != 0)
            continue;
        json_array_foreach(json_object_get(statement, "Action"), j, entry)
        {
            if (strcmp(json_string_value(entry), action) == 0)
                return 1;
        }
    }
    return 0;
}

static void every_operation_is_allowed(void **state)
{
    (void)state;
    json_t *policy = load_policy();
    for (size_t i = 0; i < aws_operation_count; i++) {
        char action[256];
        snprintf(action, sizeof(action), "%s:%s", aws_operations[i].service,
                 aws_operations[i].name);
        if (!allowed(policy, action))
            fail_msg("docs/iam-policy.json does not allow %s", action);
    }
    json_decref(policy);
}

/* `cloudtrail fetch` reads the trail's bucket with hand-built S3 requests (no CLI model): these
 * two actions, on the bucket and its AWSLogs/ keys only, never on "*". */
static int archive_action(json_t *statement, const char *action)
{
    if (strcmp(action, "s3:ListBucket") != 0 && strcmp(action, "s3:GetObject") != 0)
        return 0;
    size_t i;
    json_t *resource;
    json_array_foreach(json_object_get(statement, "Resource"), i, resource)
    {
        const char *arn = json_string_value(resource);
        if (!arn || strncmp(arn, "arn:aws:s3:::", 13) != 0 || strcmp(arn + 13, "*") == 0)
            fail_msg("%s must name the trail bucket, not %s", action, arn ? arn : "?");
    }
    return json_array_size(json_object_get(statement, "Resource")) > 0;
}

static void nothing_else_is_allowed(void **state)
{
    (void)state;
    json_t *policy = load_policy();
    size_t i, j;
    json_t *statement, *entry;
    json_array_foreach(json_object_get(policy, "Statement"), i, statement)
    {
        json_array_foreach(json_object_get(statement, "Action"), j, entry)
        {
            const char *action = json_string_value(entry);
            assert_non_null(action);
            if (strchr(action, '*'))
                fail_msg("wildcard action %s is not least privilege", action);
            if (archive_action(statement, action))
                continue;
            const char *colon = strchr(action, ':');
            assert_non_null(colon);
            char service[64];
            snprintf(service, sizeof(service), "%.*s", (int)(colon - action), action);
            if (!aws_model_operation(service, colon + 1))
                fail_msg("%s is allowed but the collector never calls it", action);
            const char *verb = colon + 1;
            if (strncmp(verb, "Describe", 8) && strncmp(verb, "Get", 3) &&
                strncmp(verb, "List", 4) && strcmp(verb, "LookupEvents") &&
                strcmp(verb, "GenerateCredentialReport"))
                fail_msg("%s is not a read-only action", action);
        }
    }
    json_decref(policy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_operation_is_allowed),
        cmocka_unit_test(nothing_else_is_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
