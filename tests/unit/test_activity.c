/* Activity findings from CloudTrail events: which events land where, the IAM policy grant
 * test, KMS key matching, period bounds, and byte-identical output whatever the input order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity.h"
#include "diag.h"

#define K1 "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"

static json_t *event(const char *json)
{
    json_error_t error;
    json_t *value = json_loads(json, 0, &error);
    if (!value)
        fail_msg("bad test event: %s: %s", error.text, json);
    return value;
}

static struct activity *activity_with(const char *start, const char *end)
{
    struct activity *activity = NULL;
    const char *keys[] = {K1};
    struct activity_options options = {
        .period_start = start, .period_end = end, .kms_keys = keys, .kms_key_count = 1};
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(activity_new(&activity, &options, &d), 0);
    diag_free(&d);
    return activity;
}

static void add(struct activity *activity, const char *json, size_t offset)
{
    json_t *value = event(json);
    struct cloudtrail_source source = {.file_index = 0, .offset = offset};
    assert_int_equal(activity_add(activity, value, &source), 0);
    json_decref(value);
}

static void test_policy_grants(void **state)
{
    (void)state;
    struct {
        const char *document;
        int expected;
    } cases[] = {
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\"}]}", 1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"DynamoDB:Put*\"]}}", 1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}", 1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*:*\"}}", 1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dynamo?b:Scan\"}}", 1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"d*\"}}", 1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dax:*\"}}", 0},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dynamodbx:*\"}}", 0},
        {"{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"dynamodb:*\"}}", 0},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":\"s3:*\"}}", 1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":[\"dynamodb:*\"]}}", 0},
        {"%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22dynamodb%3A%2A%22%"
         "7D%7D",
         1},
        {"{\"Statement\":\"nonsense\"}", -1},
        {"not json", -1},
        {"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*******************************:*\"}}",
         1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *actions = json_array();
        int got = activity_policy_grants_dynamodb(cases[i].document, actions);
        if (got != cases[i].expected)
            fail_msg("case %zu: %s: got %d", i, cases[i].document, got);
        if (got == 1)
            assert_true(json_array_size(actions) > 0);
        json_decref(actions);
    }
}

static json_t *section(json_t *out, const char *path)
{
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", path);
    json_t *value = out;
    for (char *part = copy, *dot; value && part; part = dot ? dot + 1 : NULL) {
        dot = strchr(part, '.');
        if (dot)
            *dot = '\0';
        value = json_object_get(value, part);
    }
    return value;
}

static const char *const events[] = {
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"UpdateContinuousBackups\","
    "\"eventTime\":\"2026-07-01T00:00:00Z\",\"eventID\":\"e1\",\"userIdentity\":{\"arn\":\"arn:a\"}"
    ","
    "\"requestParameters\":{\"tableName\":\"T\",\"pointInTimeRecoverySpecification\":{"
    "\"pointInTimeRecoveryEnabled\":false}},\"tlsDetails\":{\"tlsVersion\":\"TLSv1.1\"}}",
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"DeleteTable\","
    "\"eventTime\":\"2026-09-30T23:59:59Z\",\"eventID\":\"e2\",\"userIdentity\":{\"arn\":\"arn:b\"}"
    ","
    "\"requestParameters\":{\"tableName\":\"T\"},\"vpcEndpointId\":\"vpce-1\"}",
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"DeleteTable\","
    "\"eventTime\":\"2026-06-30T23:59:59Z\",\"eventID\":\"early\"}",
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"DeleteTable\","
    "\"eventTime\":\"2026-10-01T00:00:00Z\",\"eventID\":\"late\"}",
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"GetItem\",\"eventID\":\"e3\","
    "\"eventTime\":\"2026-07-02T00:00:00Z\",\"userIdentity\":{\"arn\":\"arn:b\"},"
    "\"errorCode\":\"AccessDeniedException\"}",
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"GetItem\",\"eventID\":\"e4\","
    "\"eventTime\":\"2026-07-03T00:00:00Z\",\"userIdentity\":{\"arn\":\"arn:b\"},"
    "\"errorCode\":\"AccessDeniedException\"}",
    "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"PutRolePolicy\",\"eventID\":\"e5\","
    "\"eventTime\":\"2026-07-04T00:00:00Z\",\"requestParameters\":{\"roleName\":\"R\","
    "\"policyDocument\":\"{\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":"
    "\\\"dynamodb:*\\\"}}\"}}",
    "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"PutUserPolicy\",\"eventID\":\"e6\","
    "\"eventTime\":\"2026-07-04T00:00:00Z\",\"requestParameters\":{\"userName\":\"U\","
    "\"policyDocument\":\"{\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":"
    "\\\"s3:*\\\"}}\"}}",
    "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"AttachRolePolicy\",\"eventID\":\"e7\","
    "\"eventTime\":\"2026-07-05T00:00:00Z\",\"requestParameters\":{\"roleName\":\"R\","
    "\"policyArn\":\"arn:aws:iam::1:policy/p\"}}",
    "{\"eventSource\":\"kms.amazonaws.com\",\"eventName\":\"Decrypt\",\"eventID\":\"e8\","
    "\"eventTime\":\"2026-07-06T00:00:00Z\",\"userIdentity\":{\"arn\":\"arn:app\","
    "\"invokedBy\":\"dynamodb.amazonaws.com\"},\"resources\":[{\"ARN\":\"" K1 "\"}]}",
    "{\"eventSource\":\"kms.amazonaws.com\",\"eventName\":\"Decrypt\",\"eventID\":\"e9\","
    "\"eventTime\":\"2026-07-06T00:00:00Z\",\"userIdentity\":{\"arn\":\"arn:app\"},"
    "\"requestParameters\":{\"keyId\":\"22222222-2222-2222-2222-222222222222\"}}",
    "{\"eventSource\":\"kms.amazonaws.com\",\"eventName\":\"ScheduleKeyDeletion\",\"eventID\":"
    "\"e10\",\"eventTime\":\"2026-07-07T00:00:00Z\",\"requestParameters\":{\"keyId\":"
    "\"11111111-1111-1111-1111-111111111111\",\"pendingWindowInDays\":7}}",
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"Query\",\"eventID\":\"e11\"}",
    /* same second as e4: the group's example must not depend on arrival order */
    "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventName\":\"GetItem\",\"eventID\":\"e12\","
    "\"eventTime\":\"2026-07-02T00:00:00Z\",\"userIdentity\":{\"arn\":\"arn:b\"},"
    "\"errorCode\":\"AccessDeniedException\"}",
};

static void test_findings(void **state)
{
    (void)state;
    struct activity *activity = activity_with("2026-07-01", "2026-09-30");
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
        add(activity, events[i], i * 100);
    json_t *out = activity_to_json(activity, NULL);
    assert_non_null(out);
    json_t *control = section(out, "dynamodb_control_plane");
    assert_int_equal(json_array_size(control), 2);
    json_t *first = json_array_get(control, 0);
    assert_string_equal(json_string_value(json_object_get(first, "event_id")), "e1");
    assert_true(json_is_false(json_object_get(first, "pitr_enabled")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(first, "concerns"), 0)),
                        "pitr_disabled");
    assert_int_equal(json_integer_value(section(first, "source.offset")), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(control, 1), "event_id")),
                        "e2");
    assert_int_equal(json_integer_value(section(out, "counts.before_period")), 1);
    assert_int_equal(json_integer_value(section(out, "counts.after_period")), 1);
    assert_int_equal(json_integer_value(section(out, "counts.without_time")), 1);

    json_t *policies = section(out, "iam_policy_changes");
    assert_int_equal(json_array_size(policies), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(policies, 0), "status")),
                        "grants_dynamodb");
    assert_string_equal(json_string_value(json_object_get(json_array_get(policies, 1), "status")),
                        "needs_review");
    assert_int_equal(json_integer_value(section(out, "counts.iam_policy_writes_without_dynamodb")),
                     1);

    json_t *usage = section(out, "kms.key_usage");
    assert_int_equal(json_array_size(usage), 1); /* the other key is not watched */
    assert_string_equal(json_string_value(json_object_get(json_array_get(usage, 0), "via_service")),
                        "dynamodb.amazonaws.com");
    json_t *admin = section(out, "kms.key_administration");
    assert_int_equal(json_array_size(admin), 1);
    assert_true(json_is_true(json_object_get(json_array_get(admin, 0), "watched_key")));

    json_t *denied = section(out, "access_denied");
    assert_int_equal(json_array_size(denied), 1);
    json_t *group = json_array_get(denied, 0);
    assert_int_equal(json_integer_value(json_object_get(group, "count")), 3);
    assert_string_equal(json_string_value(json_object_get(group, "first_time")),
                        "2026-07-02T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(group, "last_time")),
                        "2026-07-03T00:00:00Z");

    json_t *weak = section(out, "transport.below_tls_1_2");
    assert_int_equal(json_array_size(weak), 1);
    json_t *ddb = json_object_get(section(out, "transport.network"), "dynamodb.amazonaws.com");
    assert_int_equal(json_integer_value(json_object_get(ddb, "via_vpc_endpoint")), 1);
    assert_int_equal(json_integer_value(json_object_get(ddb, "not_via_vpc_endpoint")), 4);
    json_decref(out);
    activity_free(activity);
}

/* The same events in another order give the same bytes: no clock, no hash order. */
static void test_deterministic(void **state)
{
    (void)state;
    size_t n = sizeof(events) / sizeof(events[0]);
    struct activity *forward = activity_with("2026-07-01", "2026-09-30");
    struct activity *backward = activity_with("2026-07-01", "2026-09-30");
    for (size_t i = 0; i < n; i++) {
        add(forward, events[i], i * 100);
        add(backward, events[n - 1 - i], (n - 1 - i) * 100);
    }
    json_t *a = activity_to_json(forward, NULL), *b = activity_to_json(backward, NULL);
    char *text_a = json_dumps(a, JSON_SORT_KEYS), *text_b = json_dumps(b, JSON_SORT_KEYS);
    assert_string_equal(text_a, text_b);
    free(text_a);
    free(text_b);
    json_decref(a);
    json_decref(b);
    activity_free(forward);
    activity_free(backward);
}

static void test_bad_period(void **state)
{
    (void)state;
    struct activity *activity = NULL;
    struct activity_options options = {.period_start = "2026-7-1"};
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(activity_new(&activity, &options, &d), DDB_EUSAGE);
    assert_null(activity);
    assert_true(activity_valid_date("2026-12-31"));
    assert_false(activity_valid_date("2026-13-01"));
    assert_false(activity_valid_date("2026-01-01T"));
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_grants),
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_bad_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
