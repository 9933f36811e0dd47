/* CloudFormation template reading (cfn_template.c) and its mapping into evidence
 * (cfn_evidence.c): intrinsics in both forms, parameters, conditions, what stays unresolved,
 * errors at file:line:col, and the control statuses the mapped evidence leads to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "catalog.h"
#include "check.h"
#include "cfn_evidence.h"
#include "cfn_template.h"
#include "diag.h"
#include "evaluate.h"
#include "evidence.h"
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_temp(const char *suffix, const char *text)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/ddbaudit-cfn-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Loads `text` as a template; returns it (NULL on error, with *d holding the diagnostics). */
static struct cfn_template *load(const char *text, json_t *parameters, struct diagnostics *d,
                                 char **path_out)
{
    char *path = write_temp(".yaml", text);
    struct cfn_context context = {.region = "eu-west-1", .parameters = parameters};
    struct cfn_template *t = NULL;
    cfn_template_load(&t, path, &context, d);
    if (path_out)
        *path_out = path;
    else {
        unlink(path);
        free(path);
    }
    return t;
}

static json_t *property(const struct cfn_template *t, const char *resource, const char *name)
{
    const struct cfn_resource *r = cfn_template_find(t, resource);
    assert_non_null(r);
    return json_object_get(r->properties, name);
}

static const char intrinsics_yaml[] =
    "Parameters:\n"
    "  Env: {Type: String, Default: prod}\n"
    "  Zones: {Type: CommaDelimitedList, Default: 'a,b,c'}\n"
    "Mappings:\n"
    "  Sizes: {prod: {read: 10}, dev: {read: 1}, test: {read: 2}}\n"
    "Conditions:\n"
    "  IsProd: !Equals [!Ref Env, prod]\n"
    "  NotProd: {Fn::Not: [{Condition: IsProd}]}\n"
    "Resources:\n"
    "  Key: {Type: AWS::KMS::Key}\n"
    "  T:\n"
    "    Type: AWS::DynamoDB::Table\n"
    "    Properties:\n"
    "      TableName: !Sub '${Env}-orders-${AWS::Region}'\n"
    "      LongSub: {Fn::Sub: ['${A}-${!Literal}', {A: !Ref Env}]}\n"
    "      Joined: !Join ['/', [table, !Ref Env]]\n"
    "      LongJoin: {Fn::Join: ['', [a, {Ref: Env}]]}\n"
    "      Second: !Select [1, !Ref Zones]\n"
    "      Split: !Split [',', 'x,y']\n"
    "      IfShort: !If [IsProd, on, off]\n"
    "      IfLong: {Fn::If: [NotProd, on, off]}\n"
    "      Removed: !If [IsProd, !Ref AWS::NoValue, kept]\n"
    "      KeyArn: !GetAtt Key.Arn\n"
    "      KeyArnLong: {Fn::GetAtt: [Key, Arn]}\n"
    "      Mapped: !FindInMap [Sizes, !Ref Env, read]\n"
    "      Imported: !ImportValue shared-key\n"
    "      Nested: {A: [1, {B: !Ref Env}]}\n";

static void test_intrinsics_in_both_forms(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    struct cfn_template *t = load(intrinsics_yaml, NULL, &d, NULL);
    if (!t)
        diag_print(&d, stderr);
    assert_non_null(t);
    assert_string_equal(json_string_value(property(t, "T", "TableName")), "prod-orders-eu-west-1");
    assert_string_equal(json_string_value(property(t, "T", "LongSub")), "prod-${Literal}");
    assert_string_equal(json_string_value(property(t, "T", "Joined")), "table/prod");
    assert_string_equal(json_string_value(property(t, "T", "LongJoin")), "aprod");
    assert_string_equal(json_string_value(property(t, "T", "Second")), "b");
    assert_int_equal(json_array_size(property(t, "T", "Split")), 2);
    assert_string_equal(json_string_value(property(t, "T", "IfShort")), "on");
    assert_string_equal(json_string_value(property(t, "T", "IfLong")), "off");
    assert_null(property(t, "T", "Removed"));
    assert_string_equal(json_string_value(property(t, "T", "KeyArn")),
                        "arn:aws:kms:eu-west-1:123456789012:key/Key");
    assert_string_equal(json_string_value(property(t, "T", "KeyArnLong")),
                        json_string_value(property(t, "T", "KeyArn")));
    assert_int_equal(json_integer_value(property(t, "T", "Mapped")), 10);
    json_t *nested = property(t, "T", "Nested");
    assert_string_equal(json_string_value(json_pointer_get(nested, "/A/1/B")), "prod");
    cfn_template_free(t);
    diag_free(&d);
}

static void test_unresolved_values_say_why(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    char *path = NULL;
    struct cfn_template *t = load(intrinsics_yaml, NULL, &d, &path);
    assert_non_null(t);
    json_t *imported = property(t, "T", "Imported");
    assert_true(cfn_is_unresolved(imported));
    const char *reason = cfn_unresolved_reason(imported);
    assert_non_null(strstr(reason, "Fn::ImportValue 'shared-key'"));
    char where[128];
    snprintf(where, sizeof(where), "%s:26:17", path);
    assert_non_null(strstr(reason, where));
    /* Locations: a property is found at its key; an absent one at the resource. */
    const struct cfn_resource *r = cfn_template_find(t, "T");
    json_t *at = cfn_location(r, "/TableName");
    assert_int_equal(json_integer_value(json_object_get(at, "line")), 14);
    assert_int_equal(json_integer_value(json_object_get(at, "column")), 7);
    at = cfn_location(r, "/SSESpecification/SSEEnabled");
    assert_int_equal(json_integer_value(json_object_get(at, "line")), 11);
    at = cfn_location(r, "/Nested/A/1/B");
    assert_int_equal(json_integer_value(json_object_get(at, "line")), 27);
    assert_int_equal(json_integer_value(json_object_get(at, "column")), 24);
    cfn_template_free(t);
    unlink(path);
    free(path);
    diag_free(&d);
}

static void test_parameters_override_defaults(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    char *list =
        write_temp(".json", "[{\"ParameterKey\": \"Env\", \"ParameterValue\": \"dev\"},"
                            " {\"ParameterKey\": \"Zones\", \"ParameterValue\": \"q,r\"}]");
    char *object = write_temp(".json", "{\"Env\": \"test\", \"Zones\": [\"s\", \"t\"]}");
    char *bad = write_temp(".json", "[{\"ParameterKey\": \"Env\", \"Value\": \"x\"}]");
    json_t *parameters = NULL;
    assert_int_equal(cfn_parameters_load(&parameters, list, &d), 0);
    struct cfn_template *t = load(intrinsics_yaml, parameters, &d, NULL);
    assert_non_null(t);
    assert_string_equal(json_string_value(property(t, "T", "TableName")), "dev-orders-eu-west-1");
    assert_string_equal(json_string_value(property(t, "T", "Second")), "r");
    assert_string_equal(json_string_value(property(t, "T", "IfShort")), "off");
    assert_string_equal(json_string_value(property(t, "T", "Removed")), "kept");
    cfn_template_free(t);
    json_decref(parameters);

    assert_int_equal(cfn_parameters_load(&parameters, object, &d), 0);
    t = load(intrinsics_yaml, parameters, &d, NULL);
    assert_non_null(t);
    assert_string_equal(json_string_value(property(t, "T", "Second")), "t");
    cfn_template_free(t);
    json_decref(parameters);

    assert_int_equal(cfn_parameters_load(&parameters, bad, &d), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "unknown key 'Value'"));
    assert_int_equal(d.entries[0].line, 1);
    for (char **p = (char *[]){list, object, bad, NULL}; *p; p++) {
        unlink(*p);
        free(*p);
    }
    diag_free(&d);
}

/* A template that must be refused, and where. */
static void expect_error(const char *text, int line, int column, const char *message)
{
    struct diagnostics d;
    diag_init(&d);
    struct cfn_template *t = load(text, NULL, &d, NULL);
    assert_null(t);
    assert_true(d.errors > 0);
    if (!strstr(diag_first_message(&d), message) || d.entries[0].line != line ||
        d.entries[0].col != column)
        fprintf(stderr, "got %d:%d %s; want %d:%d %s\n", d.entries[0].line, d.entries[0].col,
                diag_first_message(&d), line, column, message);
    assert_non_null(strstr(diag_first_message(&d), message));
    assert_int_equal(d.entries[0].line, line);
    assert_int_equal(d.entries[0].col, column);
    diag_free(&d);
}

static void test_malformed_templates_point_at_the_byte(void **state)
{
    (void)state;
    expect_error("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
                 "      TableName: !Concat [a, b]\n",
                 5, 18, "unknown intrinsic function '!Concat'");
    expect_error("{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\",\n"
                 "  \"Properties\": {\"TableName\": {\"Fn::Concat\": [\"a\"]}}}}}\n",
                 2, 31, "unknown intrinsic function 'Fn::Concat'");
    expect_error("Resources:\n  A:\n    Type: AWS::DynamoDB::Table\n"
                 "    Properties: {TableName: !Ref B}\n"
                 "  B:\n    Type: AWS::DynamoDB::Table\n"
                 "    Properties: {TableName: !Sub '${A}-b'}\n",
                 7, 29, "circular dependency: A → B → A");
    expect_error("Conditions:\n  X: {Condition: Y}\n  Y: !Not [{Condition: X}]\n"
                 "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n"
                 "    Properties: {TableName: !If [X, a, b]}\n",
                 3, 12, "circular condition");
    expect_error("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n"
                 "    Properties: {TableName: !Ref Nothing}\n",
                 4, 29, "Ref to 'Nothing'");
    expect_error("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n"
                 "    Properties:\n      TableName: \"open\n",
                 6, 1, "invalid YAML");
    expect_error("Description: no resources\n", 1, 1, "Resources mapping");
}

/* ---------------------------------------------------------------- evidence and statuses */

static const char stack_yaml[] =
    "Parameters:\n"
    "  Shared: {Type: String, Default: shared-key}\n"
    "Resources:\n"
    "  Key:\n"
    "    Type: AWS::KMS::Key\n"
    "    Properties: {EnableKeyRotation: false}\n"
    "  Orders:\n"
    "    Type: AWS::DynamoDB::Table\n"
    "    Properties:\n"
    "      TableName: orders\n"
    "      BillingMode: PAY_PER_REQUEST\n"
    "      SSESpecification: {SSEEnabled: true, KMSMasterKeyId: !Ref Key}\n"
    "      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n"
    "      Tags: [{Key: Security, Value: x}, {Key: Confidentiality, Value: Restricted},\n"
    "             {Key: Environment, Value: prod}]\n"
    "  Imported:\n"
    "    Type: AWS::DynamoDB::Table\n"
    "    Properties:\n"
    "      TableName: imported\n"
    "      ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}\n"
    "      SSESpecification: {SSEEnabled: true, KMSMasterKeyId: !ImportValue {Ref: Shared}}\n";

static void test_evidence_from_a_stack(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    char *path = write_temp(".yaml", stack_yaml);
    const char *templates[] = {path};
    struct cfn_evidence_options options = {templates, 1, NULL, "2026-11-23"};
    struct evidence_snapshot *s = NULL;
    int rc = cfn_evidence_build(&s, &options, &d);
    if (rc)
        diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    assert_string_equal(s->account, "123456789012");
    assert_int_equal(s->region_count, 1);
    assert_string_equal(s->regions[0], "us-east-1");

    const struct evidence_call *list =
        evidence_find(s, "us-east-1", "dynamodb", "ListTables", NULL);
    assert_non_null(list);
    assert_string_equal(json_string_value(json_pointer_get(list->document, "/TableNames/0")),
                        "imported");
    const struct evidence_call *table =
        evidence_find(s, "us-east-1", "dynamodb", "DescribeTable", "orders");
    assert_non_null(table);
    assert_string_equal(json_string_value(json_pointer_get(
                            table->document, "/Table/SSEDescription/KMSMasterKeyArn")),
                        "arn:aws:kms:us-east-1:123456789012:key/Key");
    json_t *at = json_object_get(table->locations, "/Table/SSEDescription/KMSMasterKeyArn");
    assert_int_equal(json_integer_value(json_object_get(at, "line")), 12);
    const struct evidence_call *key =
        evidence_find(s, "us-east-1", "kms", "DescribeKey", "unresolved-imported");
    assert_non_null(key);
    assert_int_equal(key->outcome, EVIDENCE_ERROR);
    assert_non_null(strstr(key->error_message, "Fn::ImportValue 'shared-key'"));
    const struct evidence_call *policy =
        evidence_find(s, "us-east-1", "dynamodb", "GetResourcePolicy", "orders");
    assert_int_equal(policy->outcome, EVIDENCE_NOT_FOUND);

    /* The same catalog and checks; live-only controls are not applicable and say so. */
    struct catalog *catalog = NULL;
    assert_int_equal(catalog_load(&catalog, "controls", &d), 0);
    struct evaluation_inputs in = {
        .catalog = catalog, .evidence = s, .as_of = "2026-11-23", .source = EVIDENCE_FROM_TEMPLATE};
    struct results *results = NULL;
    assert_int_equal(evaluate(&results, &in, &d), 0);
    struct {
        const char *control;
        enum status status;
    } expected[] = {
        {"DDB-04", STATUS_REVIEW},         /* the imported key: never Pass */
        {"DDB-13", STATUS_REMEDIATE},      /* the template key does not rotate */
        {"DDB-16", STATUS_NOT_APPLICABLE}, /* CloudTrail: live evidence only */
        {"DDB-10", STATUS_NOT_APPLICABLE}, {"DDB-19", STATUS_REMEDIATE}, /* imported has no PITR */
        {"DDB-23", STATUS_REMEDIATE}, /* provisioned without scaling */
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const struct control_result *r = results_find(results, expected[i].control);
        assert_non_null(r);
        if (r->status != expected[i].status)
            fprintf(stderr, "%s: %s (%s)\n", expected[i].control, status_name(r->status),
                    r->reason);
        assert_int_equal(r->status, expected[i].status);
    }
    const struct control_result *trail = results_find(results, "DDB-16");
    assert_non_null(strstr(trail->reason, "only live evidence"));
    const struct control_result *keys = results_find(results, "DDB-04");
    for (size_t i = 0; i < keys->finding_count; i++) {
        const struct finding *f = &keys->findings[i];
        if (!strstr(f->resource, "table/imported"))
            continue;
        assert_int_equal(f->status, STATUS_REVIEW);
        json_t *location = json_object_get(json_array_get(f->evidence, 0), "location");
        assert_int_equal(json_integer_value(json_object_get(location, "line")), 21);
    }
    results_free(results);
    catalog_free(catalog);
    evidence_free(s);
    unlink(path);
    free(path);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intrinsics_in_both_forms),
        cmocka_unit_test(test_unresolved_values_say_why),
        cmocka_unit_test(test_parameters_override_defaults),
        cmocka_unit_test(test_malformed_templates_point_at_the_byte),
        cmocka_unit_test(test_evidence_from_a_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
