/* Wire answers -> what AWS CLI v2 prints: XML (query, EC2) and JSON protocols, timestamps,
 * IAM policy documents, page merging; and hostile answers (huge, deeply nested, invalid UTF-8,
 * truncated, entity tricks) that must fail cleanly with a diagnostic, never crash or hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "aws_model.h"
#include "buf.h"
#include "diag.h"

static const struct aws_operation *op(const char *service, const char *name)
{
    const struct aws_operation *found = aws_model_operation(service, name);
    assert_non_null(found);
    return found;
}

static json_t *xml(const char *service, const char *name, const char *text)
{
    struct diagnostics d;
    diag_init(&d);
    json_t *out = NULL;
    int rc = aws_model_xml_to_json(&out, op(service, name), text, strlen(text), &d);
    if (rc != 0)
        fail_msg("%s", diag_first_message(&d));
    diag_free(&d);
    return out;
}

static int xml_fails(const char *service, const char *name, const char *text, size_t len)
{
    struct diagnostics d;
    diag_init(&d);
    json_t *out = NULL;
    int rc = aws_model_xml_to_json(&out, op(service, name), text, len, &d);
    if (rc < 0)
        assert_true(diag_first_message(&d)[0] != '\0');
    assert_true(rc < 0 || out);
    json_decref(out);
    diag_free(&d);
    return rc < 0;
}

static void assert_json(json_t *value, const char *expected)
{
    json_error_t error;
    json_t *want = json_loads(expected, 0, &error);
    if (!want)
        fail_msg("bad expectation: %s", error.text);
    if (!json_equal(value, want)) {
        char *got = json_dumps(value, JSON_COMPACT);
        fail_msg("got %s\nwant %s", got, expected);
    }
    json_decref(want);
    json_decref(value);
}

static void converts_ec2_item_lists(void **state)
{
    (void)state;
    assert_json(xml("ec2", "DescribeVpcs",
                    "<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                    "<requestId>r</requestId><vpcSet><item><vpcId>vpc-1</vpcId>"
                    "<cidrBlock>10.0.0.0/16</cidrBlock><isDefault>false</isDefault>"
                    "<tagSet><item><key>Name</key><value>main</value></item></tagSet></item>"
                    "</vpcSet></DescribeVpcsResponse>"),
                "{\"Vpcs\":[{\"CidrBlock\":\"10.0.0.0/16\",\"IsDefault\":false,"
                "\"Tags\":[{\"Key\":\"Name\",\"Value\":\"main\"}],\"VpcId\":\"vpc-1\"}]}");
}

static void converts_query_maps_timestamps_and_policies(void **state)
{
    (void)state;
    assert_json(xml("iam", "GetAccountSummary",
                    "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap>"
                    "<entry><key>Users</key><value>3</value></entry>"
                    "<entry><key>MFADevices</key><value>0</value></entry></SummaryMap>"
                    "</GetAccountSummaryResult></GetAccountSummaryResponse>"),
                "{\"SummaryMap\":{\"Users\":3,\"MFADevices\":0}}");
    /* URL-encoded policy documents become JSON objects; timestamps ISO 8601 with +00:00. */
    json_t *details =
        xml("iam", "GetAccountAuthorizationDetails",
            "<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult>"
            "<IsTruncated>false</IsTruncated><RoleDetailList><member><RoleName>app</RoleName>"
            "<CreateDate>2026-03-14T09:12:44.512Z</CreateDate>"
            "<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%7D"
            "</AssumeRolePolicyDocument></member></RoleDetailList>"
            "</GetAccountAuthorizationDetailsResult></GetAccountAuthorizationDetailsResponse>");
    json_t *role = json_array_get(json_object_get(details, "RoleDetailList"), 0);
    assert_string_equal(json_string_value(json_object_get(role, "CreateDate")),
                        "2026-03-14T09:12:44.512000+00:00");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(role, "AssumeRolePolicyDocument"), "Version")),
                        "2012-10-17");
    assert_true(json_is_false(json_object_get(details, "IsTruncated")));
    json_decref(details);
}

static void formats_timestamps_like_the_cli(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(aws_model_format_epoch(out, sizeof(out), 1700000000.123), 0);
    assert_string_equal(out, "2023-11-14T22:13:20.123000+00:00");
    assert_int_equal(aws_model_format_epoch(out, sizeof(out), 1700000000), 0);
    assert_string_equal(out, "2023-11-14T22:13:20+00:00");
    assert_int_equal(aws_model_format_iso(out, sizeof(out), "2026-11-23T10:00:00Z"), 0);
    assert_string_equal(out, "2026-11-23T10:00:00+00:00");
    assert_int_equal(aws_model_format_iso(out, sizeof(out), "2026-11-23T10:00:00.1234567Z"), 0);
    assert_string_equal(out, "2026-11-23T10:00:00.123456+00:00");
    assert_int_equal(aws_model_format_iso(out, sizeof(out), "2026-11-23T10:00:00+02:00"), 0);
    assert_string_equal(out, "2026-11-23T10:00:00+02:00");
    assert_int_equal(aws_model_format_iso(out, sizeof(out), "1700000000"), 0);
    assert_string_equal(out, "2023-11-14T22:13:20+00:00");
    assert_int_equal(aws_model_format_iso(out, sizeof(out), "yesterday"), -1);
    assert_int_equal(aws_model_format_iso(out, sizeof(out), "2026-13-01T00:00:00Z"), -1);
    assert_int_equal(aws_model_format_epoch(out, sizeof(out), 1e300), -1);
}

static void converts_json_answers_in_shape_order(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    const char *body = "{\"Table\":{\"TableStatus\":\"ACTIVE\",\"Unknown\":1,"
                       "\"CreationDateTime\":1.7E9,\"TableName\":\"t\",\"ItemCount\":null}}";
    json_t *out = NULL;
    assert_int_equal(
        aws_model_json_to_json(&out, op("dynamodb", "DescribeTable"), body, strlen(body), &d), 0);
    char *text = aws_model_dump(out);
    /* Unknown members and nulls dropped (botocore does); order follows the model. */
    assert_string_equal(text, "{\n    \"Table\": {\n        \"TableName\": \"t\",\n"
                              "        \"TableStatus\": \"ACTIVE\",\n"
                              "        \"CreationDateTime\": \"2023-11-14T22:13:20+00:00\"\n"
                              "    }\n}\n");
    free(text);
    json_decref(out);
    assert_int_equal(aws_model_json_to_json(&out, op("dynamodb", "DescribeTable"), "{\"Ta", 4, &d),
                     DDB_EINPUT);
    assert_int_equal(
        aws_model_json_to_json(&out, op("dynamodb", "DescribeTable"), "{\"Table\":[1]}", 13, &d),
        DDB_EINPUT);
    diag_free(&d);
}

static void merges_pages_like_the_cli(void **state)
{
    (void)state;
    json_t *pages = json_pack("[{s:[s,s],s:s},{s:[s]}]", "TableNames", "a", "b",
                              "LastEvaluatedTableName", "b", "TableNames", "c");
    assert_string_equal(
        aws_model_next_token(op("dynamodb", "ListTables"), json_array_get(pages, 0)), "b");
    assert_null(aws_model_next_token(op("dynamodb", "ListTables"), json_array_get(pages, 1)));
    json_t *merged = NULL;
    assert_int_equal(aws_model_merge_pages(&merged, op("dynamodb", "ListTables"), pages), 0);
    assert_json(merged, "{\"TableNames\":[\"a\",\"b\",\"c\"]}");
    json_decref(pages);
    /* IAM stops when IsTruncated is false even if a Marker is present. */
    json_t *page = json_pack("{s:b,s:s}", "IsTruncated", 0, "Marker", "m");
    assert_null(aws_model_next_token(op("iam", "GetAccountAuthorizationDetails"), page));
    json_decref(page);
}

static void refuses_hostile_xml(void **state)
{
    (void)state;
    /* Truncated. */
    const char *cut = "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1</vp";
    assert_true(xml_fails("ec2", "DescribeVpcs", cut, strlen(cut)));
    /* Invalid UTF-8. */
    const char *bad = "<DescribeVpcsResponse><vpcSet><item><vpcId>\xff\xfe</vpcId></item>"
                      "</vpcSet></DescribeVpcsResponse>";
    assert_true(xml_fails("ec2", "DescribeVpcs", bad, strlen(bad)));
    /* Entity expansion (billion laughs) and external entities: refused outright. */
    const char *laughs =
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">"
        "<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<DescribeVpcsResponse><vpcSet><item><vpcId>&c;&x;</vpcId></item></vpcSet>"
        "</DescribeVpcsResponse>";
    assert_true(xml_fails("ec2", "DescribeVpcs", laughs, strlen(laughs)));
    /* Not a number where the model says integer. */
    const char *nan = "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry>"
                      "<key>Users</key><value>12abc</value></entry></SummaryMap>"
                      "</GetAccountSummaryResult></GetAccountSummaryResponse>";
    assert_true(xml_fails("iam", "GetAccountSummary", nan, strlen(nan)));
    /* Deeply nested: 100000 levels. libxml2's depth limit or ours refuses it. */
    struct buf deep;
    buf_init(&deep, 0);
    buf_puts(&deep, "<DescribeVpcsResponse><vpcSet>");
    for (int i = 0; i < 100000; i++)
        buf_puts(&deep, "<item>");
    assert_true(xml_fails("ec2", "DescribeVpcs", deep.data, deep.len));
    buf_free(&deep);
    /* Huge but well formed: 200000 VPCs (about 10 MB) convert without trouble. */
    struct buf huge;
    buf_init(&huge, 0);
    buf_puts(&huge, "<DescribeVpcsResponse><vpcSet>");
    for (int i = 0; i < 200000; i++)
        buf_printf(&huge, "<item><vpcId>vpc-%d</vpcId></item>", i);
    buf_puts(&huge, "</vpcSet></DescribeVpcsResponse>");
    struct diagnostics d;
    diag_init(&d);
    json_t *out = NULL;
    assert_int_equal(
        aws_model_xml_to_json(&out, op("ec2", "DescribeVpcs"), huge.data, huge.len, &d), 0);
    assert_int_equal(json_array_size(json_object_get(out, "Vpcs")), 200000);
    json_decref(out);
    diag_free(&d);
    buf_free(&huge);
    /* Empty and garbage. */
    assert_true(xml_fails("ec2", "DescribeVpcs", "", 0));
    assert_true(xml_fails("ec2", "DescribeVpcs", "{\"json\": true}", 14));
    /* A map entry with an unknown tag (botocore refuses it too). */
    const char *odd = "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry>"
                      "<key>Users</key><oops>1</oops></entry></SummaryMap>"
                      "</GetAccountSummaryResult></GetAccountSummaryResponse>";
    assert_true(xml_fails("iam", "GetAccountSummary", odd, strlen(odd)));
}

static void refuses_hostile_json(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    json_t *out = NULL;
    struct buf deep;
    buf_init(&deep, 0);
    for (int i = 0; i < 100000; i++)
        buf_putc(&deep, '[');
    assert_true(
        aws_model_json_to_json(&out, op("dynamodb", "ListTables"), deep.data, deep.len, &d) < 0);
    buf_free(&deep);
    const char *bad_utf8 = "{\"TableNames\":[\"\xc3\x28\"]}";
    assert_true(aws_model_json_to_json(&out, op("dynamodb", "ListTables"), bad_utf8,
                                       strlen(bad_utf8), &d) < 0);
    const char *bad_time = "{\"Table\":{\"CreationDateTime\":\"soon\"}}";
    assert_true(aws_model_json_to_json(&out, op("dynamodb", "DescribeTable"), bad_time,
                                       strlen(bad_time), &d) < 0);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(converts_ec2_item_lists),
        cmocka_unit_test(converts_query_maps_timestamps_and_policies),
        cmocka_unit_test(formats_timestamps_like_the_cli),
        cmocka_unit_test(converts_json_answers_in_shape_order),
        cmocka_unit_test(merges_pages_like_the_cli),
        cmocka_unit_test(refuses_hostile_xml),
        cmocka_unit_test(refuses_hostile_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
