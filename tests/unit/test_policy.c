/* Policy engine tests. Every expected answer is worked out by hand from the IAM documentation
 * (policy grammar, evaluation logic, DynamoDB's actions and resource types), not by running the
 * engine: a comment above each case says which rule it exercises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "policy.h"

#define ACCOUNT "111122223333"
#define ORDERS "arn:aws:dynamodb:eu-west-1:" ACCOUNT ":table/orders"
#define SECRETS "arn:aws:dynamodb:eu-west-1:" ACCOUNT ":table/secrets"

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, 0, &error);
    if (!value)
        fail_msg("test JSON invalid at line %d: %s", error.line, error.text);
    return value;
}

static int action(const char *name)
{
    int i = policy_action_index(name);
    assert_true(i >= 0);
    return i;
}

/* ---- matching ---- */

static void test_action_wildcards(void **state)
{
    (void)state;
    /* IAM action names are case-insensitive; * and ? are the only wildcards. */
    assert_true(policy_action_matches("dynamodb:*", "dynamodb:GetItem"));
    assert_true(policy_action_matches("*", "dynamodb:GetItem"));
    assert_true(policy_action_matches("DynamoDB:getitem", "dynamodb:GetItem"));
    assert_true(policy_action_matches("dynamodb:Get*", "dynamodb:GetRecords"));
    assert_false(policy_action_matches("dynamodb:Get*", "dynamodb:BatchGetItem"));
    assert_true(policy_action_matches("dynamodb:*Get*", "dynamodb:BatchGetItem"));
    assert_true(policy_action_matches("dynamodb:?etItem", "dynamodb:GetItem"));
    assert_false(policy_action_matches("dynamodb:?etItem", "dynamodb:PutItem2"));
    assert_false(policy_action_matches("dynamodb:GetItem", "dynamodb:GetItems"));
    assert_false(policy_action_matches("dynamodb:Get", "dynamodb:GetItem"));
    assert_true(policy_action_matches("dynamodb:Restore*", "dynamodb:RestoreTableToPointInTime"));
    assert_false(policy_action_matches("dax:*", "dynamodb:GetItem"));
    assert_true(policy_action_matches("*:*", "dynamodb:GetItem"));
}

static void test_arn_wildcards(void **state)
{
    (void)state;
    /* Resource ARNs match case-sensitively and `*` spans '/' and ':'. */
    assert_true(policy_arn_matches("arn:aws:dynamodb:*:*:table/orders", ORDERS));
    assert_false(policy_arn_matches("arn:aws:dynamodb:*:*:table/Orders", ORDERS));
    assert_true(policy_arn_matches("arn:aws:dynamodb:eu-west-1:" ACCOUNT ":table/ord*", ORDERS));
    assert_true(policy_arn_matches("arn:aws:dynamodb:*:*:table/*", ORDERS "/index/by-date"));
    assert_false(policy_arn_matches("arn:aws:dynamodb:*:*:table/orders", ORDERS "/index/x"));
    assert_true(policy_arn_matches("arn:aws:dynamodb:eu-west-?:*:table/orders", ORDERS));
    assert_false(policy_arn_matches("arn:aws:dynamodb:us-east-1:*:table/orders", ORDERS));
    assert_true(policy_arn_matches("*", ORDERS));
}

/* ---- documents ---- */

static void test_statement_object_or_list(void **state)
{
    (void)state;
    /* "Statement" may be a single object; Action and Resource may be strings or lists. */
    json_t *one = parse("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                        "\"Action\":\"dynamodb:GetItem\",\"Resource\":\"*\"}}");
    struct policy_document *doc = policy_document_parse(one, "p", POLICY_SOURCE_INLINE, NULL, "/X");
    assert_null(doc->error);
    assert_int_equal(doc->statement_count, 1);
    assert_string_equal(doc->statements[0].pointer, "/X/Statement");
    assert_true(policy_action_set_has(&doc->statements[0].dynamodb_actions, action("GetItem")));
    assert_false(policy_action_set_has(&doc->statements[0].dynamodb_actions, action("PutItem")));
    policy_document_free(doc);
    json_decref(one);

    json_t *list =
        parse("{\"Statement\":[{\"Sid\":\"A\",\"Effect\":\"Deny\",\"Action\":"
              "[\"dynamodb:PutItem\",\"dynamodb:delete*\"],\"Resource\":[\"" ORDERS "\"]}]}");
    doc = policy_document_parse(list, "p", POLICY_SOURCE_INLINE, NULL, "/X");
    assert_null(doc->error);
    assert_string_equal(doc->statements[0].sid, "A");
    assert_string_equal(doc->statements[0].pointer, "/X/Statement/0");
    assert_int_equal(doc->statements[0].effect, POLICY_DENY);
    /* dynamodb:delete* names DeleteItem, DeleteTable, DeleteBackup, DeleteResourcePolicy and
     * DeleteTableReplica. */
    const struct policy_action_set *set = &doc->statements[0].dynamodb_actions;
    assert_true(policy_action_set_has(set, action("DeleteTable")));
    assert_true(policy_action_set_has(set, action("DeleteBackup")));
    assert_true(policy_action_set_has(set, action("PutItem")));
    assert_false(policy_action_set_has(set, action("UpdateItem")));
    policy_document_free(doc);
    json_decref(list);
}

static void test_not_action_is_complement(void **state)
{
    (void)state;
    /* NotAction names every action except those listed, including other services'. */
    json_t *value = parse("{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":\"dynamodb:Delete*\","
                          "\"Resource\":\"*\"}}");
    struct policy_document *doc =
        policy_document_parse(value, "p", POLICY_SOURCE_MANAGED, NULL, NULL);
    const struct policy_statement *st = &doc->statements[0];
    assert_true(st->not_action);
    assert_true(st->other_actions);
    assert_false(st->all_dynamodb);
    assert_true(policy_action_set_has(&st->dynamodb_actions, action("GetItem")));
    assert_true(policy_action_set_has(&st->dynamodb_actions, action("UpdateTable")));
    assert_false(policy_action_set_has(&st->dynamodb_actions, action("DeleteTable")));
    assert_null(st->pointer); /* no pointer given */
    policy_document_free(doc);
    json_decref(value);
}

static void test_encoded_documents(void **state)
{
    (void)state;
    /* IAM returns policy documents URL-encoded (RFC 3986) inside its XML answers. */
    json_t *encoded = json_string(
        "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow"
        "%22%2C%22Action%22%3A%22dynamodb%3AQuery%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D");
    struct policy_document *doc =
        policy_document_parse(encoded, "p", POLICY_SOURCE_INLINE, NULL, "/D");
    assert_null(doc->error);
    assert_true(doc->encoded);
    assert_null(doc->statements[0].pointer); /* a statement inside a string has no pointer */
    assert_true(policy_action_set_has(&doc->statements[0].dynamodb_actions, action("Query")));
    policy_document_free(doc);
    json_decref(encoded);

    /* A plain JSON string, as GetResourcePolicy and DescribeVpcEndpoints return it. */
    json_t *plain = json_string(" {\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                                "\"Action\":\"*\",\"Resource\":\"*\"}]}");
    doc = policy_document_parse(plain, "p", POLICY_SOURCE_ENDPOINT, NULL, NULL);
    assert_null(doc->error);
    assert_true(doc->statements[0].all_dynamodb);
    assert_int_equal(doc->statements[0].principal_count, 1);
    assert_string_equal(doc->statements[0].principals[0].value, "*");
    policy_document_free(doc);
    json_decref(plain);

    char *decoded = policy_url_decode("a%20b+c%2Fd", 11);
    assert_string_equal(decoded, "a b c/d");
    free(decoded);
    assert_null(policy_url_decode("%4", 2));
    assert_null(policy_url_decode("%zz", 3));
    assert_null(policy_url_decode("%00", 3));
}

static void test_malformed_documents(void **state)
{
    (void)state;
    static const struct {
        const char *json; /* NULL: use the string below */
        const char *string;
        enum policy_source source;
        const char *expect; /* a substring of the error */
    } cases[] = {
        {NULL, "{\"Statement\": [", POLICY_SOURCE_INLINE, "not valid JSON"},
        {NULL, "%7B%22Statement%22%3A", POLICY_SOURCE_INLINE, "URL-decoded policy document"},
        {NULL, "%7B%2", POLICY_SOURCE_INLINE, "bad %-escape"},
        {"[1]", NULL, POLICY_SOURCE_INLINE, "neither an object nor a string"},
        {"{\"Version\":\"2012-10-17\"}", NULL, POLICY_SOURCE_INLINE, "no Statement"},
        {"{\"Statement\":[{\"Effect\":\"allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}", NULL,
         POLICY_SOURCE_INLINE, "Effect must be"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Resource\":\"*\"}]}", NULL, POLICY_SOURCE_INLINE,
         "exactly one of Action and NotAction"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}]}", NULL,
         POLICY_SOURCE_INLINE, "non-empty list"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"a\",3],\"Resource\":\"*\"}]}", NULL,
         POLICY_SOURCE_INLINE, "Action must be"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}]}", NULL, POLICY_SOURCE_INLINE,
         "neither Resource nor NotResource"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
         "\"Principal\":\"*\"}]}",
         NULL, POLICY_SOURCE_MANAGED, "cannot name a Principal"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}", NULL,
         POLICY_SOURCE_RESOURCE, "neither Principal nor NotPrincipal"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
         "\"Principal\":{\"Robot\":\"x\"}}]}",
         NULL, POLICY_SOURCE_RESOURCE, "Principal must be"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
         "\"Condition\":{\"Bool\":\"x\"}}]}",
         NULL, POLICY_SOURCE_INLINE, "is not an object"},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\","
         "\"Actions\":\"x\"}]}",
         NULL, POLICY_SOURCE_INLINE, "unknown element \"Actions\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *value = cases[i].json ? parse(cases[i].json) : json_string(cases[i].string);
        struct policy_document *doc =
            policy_document_parse(value, "bad", cases[i].source, NULL, NULL);
        assert_non_null(doc);
        if (!doc->error || !strstr(doc->error, cases[i].expect))
            fail_msg("case %zu: expected error containing '%s', got '%s'", i, cases[i].expect,
                     doc->error ? doc->error : "(none)");
        assert_int_equal(doc->statement_count, 0);
        policy_document_free(doc);
        json_decref(value);
    }
    struct policy_document *doc =
        policy_document_parse(NULL, "missing", POLICY_SOURCE_INLINE, NULL, NULL);
    assert_string_equal(doc->error, "the policy document is missing");
    policy_document_free(doc);
}

static void test_condition_classification(void **state)
{
    (void)state;
    json_t *condition = parse(
        "{\"Bool\":{\"aws:SecureTransport\":\"false\",\"aws:MultiFactorAuthPresent\":\"true\"},"
        "\"StringEquals\":{\"AWS:SourceVpce\":\"vpce-1\",\"aws:PrincipalOrgID\":\"o-1\","
        "\"aws:SourceVpc\":\"vpc-1\",\"aws:PrincipalAccount\":\"1\"},"
        "\"ForAllValues:StringEquals\":{\"dynamodb:LeadingKeys\":[\"${www.amazon.com:user_id}\"],"
        "\"dynamodb:Attributes\":[\"a\"]},\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"},"
        "\"StringLike\":{\"aws:ResourceTag/team\":\"x\"}}");
    unsigned kinds = policy_condition_classify(condition);
    assert_int_equal(kinds, POLICY_COND_SECURE_TRANSPORT | POLICY_COND_MFA |
                                POLICY_COND_SOURCE_VPCE | POLICY_COND_SOURCE_VPC |
                                POLICY_COND_PRINCIPAL_ORG | POLICY_COND_PRINCIPAL_ACCOUNT |
                                POLICY_COND_FINE_GRAINED | POLICY_COND_SOURCE_IP |
                                POLICY_COND_OTHER);
    assert_false(policy_condition_denies_plaintext(condition));
    json_t *described = policy_condition_json(condition);
    assert_int_equal(json_array_size(described), 10);
    json_decref(described);
    json_decref(condition);

    static const char *const transport[] = {
        "{\"Bool\":{\"aws:SecureTransport\":\"false\"}}",
        "{\"Bool\":{\"aws:securetransport\":false}}",
        "{\"BoolIfExists\":{\"aws:SecureTransport\":[\"false\"]}}",
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *c = parse(transport[i]);
        assert_true(policy_condition_denies_plaintext(c));
        assert_int_equal(policy_condition_classify(c), POLICY_COND_SECURE_TRANSPORT);
        json_decref(c);
    }
    json_t *inverted = parse("{\"Bool\":{\"aws:SecureTransport\":\"true\"}}");
    assert_false(policy_condition_denies_plaintext(inverted));
    json_decref(inverted);
    assert_int_equal(policy_condition_classify(NULL), 0);
}

/* ---- analysis ---- */

struct scenario {
    json_t *details;
    json_t *policies[2];
    struct policy_table_input tables[3];
    struct policy_input input;
    struct policy_analysis *analysis;
};

/* Analyses `details` (GetAccountAuthorizationDetails) over tables orders and secrets in
 * eu-west-1 (and archive in us-east-1), with optional resource policies on orders. */
static void analyse(struct scenario *s, const char *details, const char *orders_policy,
                    const char *orders_stream_policy)
{
    memset(s, 0, sizeof(*s));
    s->details = details ? parse(details) : NULL;
    if (orders_policy)
        s->policies[0] = json_pack("{s:s, s:s}", "Policy", orders_policy, "RevisionId", "1");
    if (orders_stream_policy)
        s->policies[1] = json_pack("{s:s}", "Policy", orders_stream_policy);
    s->tables[0] = (struct policy_table_input){"eu-west-1",    "orders", s->policies[0],
                                               s->policies[1], NULL,     NULL};
    s->tables[1] = (struct policy_table_input){"eu-west-1", "secrets", NULL, NULL, NULL, NULL};
    s->tables[2] = (struct policy_table_input){"us-east-1", "archive", NULL, NULL, NULL, NULL};
    s->input = (struct policy_input){"aws", ACCOUNT, s->details, NULL, s->tables, 3};
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(policy_analyze(&s->analysis, &s->input, &d), 0);
    diag_free(&d);
}

static void release(struct scenario *s)
{
    policy_analysis_free(s->analysis);
    json_decref(s->details);
    json_decref(s->policies[0]);
    json_decref(s->policies[1]);
}

static const struct policy_principal *principal(const struct scenario *s, const char *arn)
{
    for (size_t i = 0; i < s->analysis->principal_count; i++)
        if (!strcmp(s->analysis->principals[i].arn, arn))
            return &s->analysis->principals[i];
    fail_msg("no principal %s", arn);
    return NULL;
}

static const struct policy_cell *cell(const struct scenario *s, const char *arn, size_t table)
{
    return policy_cell_for(principal(s, arn), table);
}

static int allowed(const struct policy_cell *c, const char *name)
{
    return policy_action_set_has(&c->allowed, (size_t)action(name));
}

static int conditional(const struct policy_cell *c, const char *name)
{
    return policy_action_set_has(&c->conditional, (size_t)action(name));
}

#define ROLE(name) "arn:aws:iam::" ACCOUNT ":role/" name
#define USER(name) "arn:aws:iam::" ACCOUNT ":user/" name

/* GetAccountAuthorizationDetails with one role and one inline policy. */
static char *role_with_inline(const char *name, const char *document)
{
    char arn[128];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:role/%s", ACCOUNT, name);
    json_t *details =
        json_pack("{s:[], s:[], s:[{s:s, s:s, s:s, s:[{s:s, s:o}], s:[]}], s:[]}", "UserDetailList",
                  "GroupDetailList", "RoleDetailList", "RoleName", name, "Arn", arn, "Path", "/",
                  "RolePolicyList", "PolicyName", "inline", "PolicyDocument", parse(document),
                  "AttachedManagedPolicies", "Policies");
    char *text = json_dumps(details, 0);
    json_decref(details);
    return text;
}

static void test_inline_grant_on_one_table(void **state)
{
    (void)state;
    struct scenario s;
    char *details = role_with_inline(
        "app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:GetItem\","
               "\"dynamodb:Query\"],\"Resource\":\"" ORDERS "\"}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_cell *orders = cell(&s, ROLE("app"), 0);
    assert_true(allowed(orders, "GetItem"));
    assert_true(allowed(orders, "Query")); /* on the table itself */
    assert_false(allowed(orders, "PutItem"));
    assert_int_equal(orders->grant_count, 1);
    assert_string_equal(orders->grants[0].document->name, ROLE("app") "#inline");
    assert_string_equal(orders->grants[0].statement->pointer,
                        "/RoleDetailList/0/RolePolicyList/0/PolicyDocument/Statement/0");
    const struct policy_cell *secrets = cell(&s, ROLE("app"), 1);
    assert_true(policy_action_set_empty(&secrets->allowed));
    assert_false(policy_action_set_empty(&orders->plaintext)); /* nothing enforces TLS */
    release(&s);
    free(details);
}

static void test_wildcard_resource_reaches_every_table(void **state)
{
    (void)state;
    struct scenario s;
    char *details =
        role_with_inline("app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\","
                                "\"Resource\":\"arn:aws:dynamodb:*:" ACCOUNT ":table/*\"}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_principal *p = principal(&s, ROLE("app"));
    assert_int_equal(p->cell_count, 0); /* one all-tables cell, no per-table ones */
    assert_true(allowed(&p->all, "DeleteTable"));
    assert_true(allowed(&p->all, "GetRecords"));  /* "table/" + "*" spans a stream ARN too */
    assert_false(allowed(&p->all, "ListTables")); /* only authorized on "*" */
    assert_true(allowed(cell(&s, ROLE("app"), 2), "PutItem"));
    release(&s);
    free(details);

    /* A prefix wildcard reaches the tables it names: ord* → orders, not secrets. */
    details = role_with_inline(
        "app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:PutItem\","
               "\"Resource\":\"arn:aws:dynamodb:eu-west-1:" ACCOUNT ":table/ord*\"}]}");
    analyse(&s, details, NULL, NULL);
    assert_true(allowed(cell(&s, ROLE("app"), 0), "PutItem"));
    assert_false(allowed(cell(&s, ROLE("app"), 1), "PutItem"));
    assert_false(allowed(cell(&s, ROLE("app"), 2), "PutItem"));
    release(&s);
    free(details);
}

static void test_index_and_stream_arns(void **state)
{
    (void)state;
    struct scenario s;
    /* Query on an index ARN; stream reads on the stream ARN; neither on the table. */
    char *details = role_with_inline(
        "app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:Query\","
               "\"dynamodb:GetItem\"],\"Resource\":\"" ORDERS "/index/by-date\"},"
               "{\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetRecords\",\"Resource\":\"" ORDERS
               "/stream/*\"}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_cell *orders = cell(&s, ROLE("app"), 0);
    assert_true(allowed(orders, "Query"));
    assert_false(allowed(orders, "GetItem")); /* GetItem is not authorized on an index */
    assert_true(allowed(orders, "GetRecords"));
    release(&s);
    free(details);
}

static void test_not_resource(void **state)
{
    (void)state;
    struct scenario s;
    /* NotResource excludes only the ARNs it names: the secrets table ARN, not its indexes. */
    char *details =
        role_with_inline("app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\","
                                "\"NotResource\":\"" SECRETS "\"}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_cell *orders = cell(&s, ROLE("app"), 0);
    const struct policy_cell *secrets = cell(&s, ROLE("app"), 1);
    assert_true(allowed(orders, "GetItem"));
    assert_false(allowed(secrets, "GetItem"));
    assert_false(allowed(secrets, "DeleteTable"));
    assert_true(allowed(secrets, "Query"));      /* via arn:…:table/secrets/index/… */
    assert_true(allowed(secrets, "GetRecords")); /* via its stream */
    assert_true(
        policy_action_set_has(&principal(&s, ROLE("app"))->any, (size_t)action("ListTables")));
    release(&s);
    free(details);
}

static void test_unconditional_deny_wins(void **state)
{
    (void)state;
    struct scenario s;
    /* An explicit Deny overrides any Allow (evaluation logic, step 1). */
    char *details = role_with_inline(
        "app",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"},"
        "{\"Effect\":\"Deny\",\"Action\":[\"dynamodb:DeleteTable\",\"dynamodb:Update*\"],"
        "\"Resource\":\"" ORDERS "\"},"
        "{\"Effect\":\"Deny\",\"Action\":\"dynamodb:Query\",\"Resource\":\"" ORDERS
        "/index/*\"}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_cell *orders = cell(&s, ROLE("app"), 0);
    assert_false(allowed(orders, "DeleteTable"));
    assert_false(allowed(orders, "UpdateItem"));
    assert_true(allowed(orders, "PutItem"));
    /* The Query deny covers the indexes only, so Query on the table stays allowed. */
    assert_true(allowed(orders, "Query"));
    assert_true(allowed(cell(&s, ROLE("app"), 1), "DeleteTable"));
    release(&s);
    free(details);

    /* A Deny on one index does not remove Query from the other indexes. */
    details = role_with_inline(
        "app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:Query\","
               "\"Resource\":\"" ORDERS "/index/*\"},{\"Effect\":\"Deny\",\"Action\":"
               "\"dynamodb:Query\",\"Resource\":\"" ORDERS "/index/private\"}]}");
    analyse(&s, details, NULL, NULL);
    assert_true(allowed(cell(&s, ROLE("app"), 0), "Query"));
    release(&s);
    free(details);
}

static void test_conditional_statements_are_kept(void **state)
{
    (void)state;
    struct scenario s;
    /* A conditional Allow grants only when its condition holds; a conditional Deny makes an
     * Allow conditional. The transport Deny is recognised as such. */
    char *details = role_with_inline(
        "app",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\",\"Resource\":"
        "\"" ORDERS "\",\"Condition\":{\"ForAllValues:StringEquals\":{\"dynamodb:LeadingKeys\":"
        "[\"${aws:userid}\"]}}},{\"Effect\":\"Allow\",\"Action\":\"dynamodb:PutItem\","
        "\"Resource\":\"" ORDERS "\"},{\"Sid\":\"TLS\",\"Effect\":\"Deny\",\"Action\":"
        "\"dynamodb:*\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":"
        "\"false\"}}}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_cell *orders = cell(&s, ROLE("app"), 0);
    assert_false(allowed(orders, "GetItem"));
    assert_true(conditional(orders, "GetItem"));
    assert_false(allowed(orders, "PutItem"));
    assert_true(conditional(orders, "PutItem"));
    assert_true(policy_action_set_empty(&orders->plaintext)); /* TLS enforced for both */
    /* The cell keeps its two allows; the conditional deny on "*" is an all-tables grant. */
    assert_int_equal(orders->grant_count, 2);
    assert_int_equal(principal(&s, ROLE("app"))->all.grant_count, 1);
    assert_string_equal(principal(&s, ROLE("app"))->all.grants[0].statement->sid, "TLS");
    release(&s);
    free(details);
}

static const char *const group_details =
    "{\"UserDetailList\":[{\"UserName\":\"alice\",\"Arn\":\"" USER(
        "alice") "\","
                 "\"GroupList\":[\"readers\"],\"UserPolicyList\":[],\"AttachedManagedPolicies\":[]}"
                 ","
                 "{\"UserName\":\"bob\",\"Arn\":\"" USER(
                     "bob") "\",\"GroupList\":[],"
                            "\"AttachedManagedPolicies\":[{\"PolicyName\":\"Orders\",\"PolicyArn\":"
                            "\"arn:aws:iam::" ACCOUNT ":policy/Orders\"}]}],"
                            "\"GroupDetailList\":[{\"GroupName\":\"readers\",\"Arn\":\"arn:aws:iam:"
                            ":" ACCOUNT ":group/"
                            "readers\",\"GroupPolicyList\":[{\"PolicyName\":\"g\","
                            "\"PolicyDocument\":"
                            "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"dynamodb:PutItem\","
                            "\"Resource\":\"*\"}}}],"
                            "\"AttachedManagedPolicies\":[{\"PolicyName\":\"Orders\",\"PolicyArn\":"
                            "\"arn:aws:iam::" ACCOUNT ":policy/Orders\"}]}],"
                            "\"RoleDetailList\":[],"
                            "\"Policies\":[{\"PolicyName\":\"Orders\",\"Arn\":\"arn:aws:iam:"
                            ":" ACCOUNT ":policy/Orders\","
                            "\"DefaultVersionId\":\"v2\",\"PolicyVersionList\":["
                            "{\"VersionId\":\"v1\",\"IsDefaultVersion\":false,\"Document\":{"
                            "\"Statement\":{\"Effect\":"
                            "\"Allow\",\"Action\":\"dynamodb:DeleteTable\",\"Resource\":\"*\"}}},"
                            "{\"VersionId\":\"v2\",\"IsDefaultVersion\":true,\"Document\":{"
                            "\"Statement\":{\"Effect\":"
                            "\"Allow\",\"Action\":[\"dynamodb:GetItem\",\"dynamodb:PutItem\"],"
                            "\"Resource\":\"" ORDERS "\"}}}]}]}";

static void test_groups_and_default_version(void **state)
{
    (void)state;
    struct scenario s;
    analyse(&s, group_details, NULL, NULL);
    /* alice gets the managed policy through her group (default version v2 only, so no
     * DeleteTable from v1) and the group's inline Deny removes PutItem. */
    const struct policy_cell *alice = cell(&s, USER("alice"), 0);
    assert_true(allowed(alice, "GetItem"));
    assert_false(allowed(alice, "PutItem"));
    assert_false(allowed(alice, "DeleteTable"));
    int via_group = 0;
    for (size_t i = 0; i < alice->grant_count; i++)
        via_group |= alice->grants[i].via && !strcmp(alice->grants[i].via, "readers");
    assert_true(via_group);
    /* bob has the same policy directly and no deny. */
    const struct policy_cell *bob = cell(&s, USER("bob"), 0);
    assert_true(allowed(bob, "PutItem"));
    assert_false(allowed(bob, "DeleteTable"));
    assert_string_equal(bob->grants[0].statement->pointer,
                        "/Policies/0/PolicyVersionList/1/Document/Statement");
    assert_int_equal(s.analysis->documents[0]->attachments, 2);
    release(&s);
}

static void test_default_version_by_id(void **state)
{
    (void)state;
    /* Without IsDefaultVersion flags, DefaultVersionId picks the version. */
    struct scenario s;
    analyse(
        &s,
        "{\"UserDetailList\":[],\"GroupDetailList\":[],\"RoleDetailList\":[{\"RoleName\":\"app\","
        "\"Arn\":\"" ROLE(
            "app") "\",\"AttachedManagedPolicies\":[{\"PolicyArn\":\"arn:aws:"
                   "iam::" ACCOUNT ":policy/P\"}]}],\"Policies\":[{\"Arn\":\"arn:aws:iam::" ACCOUNT
                   ":policy/"
                   "P\",\"DefaultVersionId\":\"v1\",\"PolicyVersionList\":[{\"VersionId\":\"v2\","
                   "\"Document\":{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dynamodb:Scan\","
                   "\"Resource\":\"*\"}}},{\"VersionId\":\"v1\",\"Document\":\"%7B%22Statement%22%"
                   "3A%7B"
                   "%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22dynamodb%3AGetItem%22%2C%"
                   "22Resource"
                   "%22%3A%22*%22%7D%7D\"}]}]}",
        NULL, NULL);
    const struct policy_cell *c = cell(&s, ROLE("app"), 1);
    assert_true(allowed(c, "GetItem"));
    assert_false(allowed(c, "Scan"));
    release(&s);
}

static void test_permissions_boundary(void **state)
{
    (void)state;
    struct scenario s;
    /* Effective identity permissions are the intersection of the policies and the boundary. */
    analyse(
        &s,
        "{\"UserDetailList\":[],\"GroupDetailList\":[],\"RoleDetailList\":[{\"RoleName\":\"app\","
        "\"Arn\":\"" ROLE(
            "app") "\",\"RolePolicyList\":[{\"PolicyName\":\"admin\","
                   "\"PolicyDocument\":{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
                   "\"Resource\":\"*\"}}}],\"PermissionsBoundary\":{\"PermissionsBoundaryType\":"
                   "\"Policy\",\"PermissionsBoundaryArn\":\"arn:aws:iam::" ACCOUNT ":policy/B\"}},"
                   "{\"RoleName\":\"lost\",\"Arn\":\"" ROLE(
                       "lost") "\",\"PermissionsBoundary\":"
                               "{\"PermissionsBoundaryArn\":\"arn:aws:iam::" ACCOUNT
                               ":policy/Gone\"},"
                               "\"AttachedManagedPolicies\":[{\"PolicyArn\":\"arn:aws:iam::aws:"
                               "policy/"
                               "AmazonDynamoDBFullAccess\"}]}],"
                               "\"Policies\":[{\"Arn\":\"arn:aws:iam::" ACCOUNT
                               ":policy/B\",\"PolicyVersionList\":"
                               "[{\"IsDefaultVersion\":true,\"Document\":{\"Statement\":{"
                               "\"Effect\":\"Allow\","
                               "\"Action\":[\"dynamodb:GetItem\",\"dynamodb:Query\"],\"Resource\":"
                               "\"" ORDERS "\"}}}]}]}",
        NULL, NULL);
    const struct policy_cell *orders = cell(&s, ROLE("app"), 0);
    assert_true(allowed(orders, "GetItem"));
    assert_false(allowed(orders, "PutItem"));
    assert_true(policy_action_set_empty(&cell(&s, ROLE("app"), 1)->allowed));
    /* Missing boundary and missing managed policy: recorded, never silently ignored. */
    const struct policy_principal *lost = principal(&s, ROLE("lost"));
    assert_true(lost->boundary_unresolved);
    assert_int_equal(lost->unresolved_policies, 1);
    assert_true(json_array_size(s.analysis->notes) >= 3);
    release(&s);
}

static const char *const public_policy =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Sid\":\"Public\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"dynamodb:GetItem\","
    "\"Resource\":\"" ORDERS "\"},"
    "{\"Sid\":\"Partner\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"444455556666\","
    "\"arn:aws:iam::555566667777:role/"
    "reader\"]},\"Action\":\"dynamodb:Query\",\"Resource\":\"" ORDERS "/index/*\"},"
    "{\"Sid\":\"Own\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ROLE(
        "app") "\"},"
               "\"Action\":\"dynamodb:PutItem\",\"Resource\":\"" ORDERS "\"},"
               "{\"Sid\":\"Account\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam:"
               ":" ACCOUNT ":root\"},\"Action\":\"dynamodb:*\",\"Resource\":\"" ORDERS "\"},"
               "{\"Sid\":\"TLS\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"dynamodb:*\","
               "\"Resource\":[\"" ORDERS "\",\"" ORDERS "/index/*\"],\"Condition\":{\"Bool\":"
               "{\"aws:SecureTransport\":\"false\"}}}]}";

static void test_resource_policy_principals(void **state)
{
    (void)state;
    struct scenario s;
    char *details = role_with_inline(
        "app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\","
               "\"Resource\":\"*\"}]}");
    analyse(&s, details, public_policy,
            "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
            "444455556666:root\"},\"Action\":\"dynamodb:GetRecords\",\"Resource\":\"" ORDERS
            "/stream/2024\"}]}");
    /* Public: "*" with no narrowing condition. */
    const struct policy_principal *anyone = principal(&s, "*");
    assert_int_equal(anyone->type, POLICY_PRINCIPAL_PUBLIC);
    const struct policy_cell *public_cell = policy_cell_for(anyone, 0);
    assert_true(allowed(public_cell, "GetItem"));
    /* The deny of plain HTTP to everyone is the table's own guarantee, kept on the table. */
    assert_non_null(s.analysis->tables[0].transport_deny);
    assert_string_equal(s.analysis->tables[0].transport_deny->sid, "TLS");
    assert_null(s.analysis->tables[1].transport_deny);
    assert_true(policy_action_set_empty(&policy_cell_for(anyone, 1)->allowed));
    /* Cross-account: an account id and a role in another account. */
    assert_int_equal(principal(&s, "444455556666")->type, POLICY_PRINCIPAL_EXTERNAL);
    assert_true(allowed(policy_cell_for(principal(&s, "444455556666"), 0), "Query"));
    assert_true(allowed(policy_cell_for(principal(&s, "arn:aws:iam::555566667777:role/reader"), 0),
                        "Query"));
    /* The stream policy grants GetRecords to the account root of 444455556666. */
    assert_true(
        allowed(policy_cell_for(principal(&s, "arn:aws:iam::444455556666:root"), 0), "GetRecords"));
    /* Same account, by role ARN: the resource policy alone grants PutItem. The grant to the
     * account root delegates to identity policies and adds nothing (no DeleteTable). */
    const struct policy_cell *app = cell(&s, ROLE("app"), 0);
    assert_true(allowed(app, "PutItem"));
    assert_true(allowed(app, "GetItem"));
    assert_false(conditional(app, "DeleteTable") || allowed(app, "DeleteTable"));
    /* On the other tables the role's identity grant has no TLS deny. */
    assert_true(allowed(cell(&s, ROLE("app"), 1), "GetItem"));
    assert_false(policy_action_set_empty(&cell(&s, ROLE("app"), 1)->plaintext));
    release(&s);
    free(details);
}

static void test_malformed_policy_in_details(void **state)
{
    (void)state;
    struct scenario s;
    /* One malformed inline policy does not stop the analysis of the rest. */
    analyse(
        &s,
        "{\"UserDetailList\":[{\"UserName\":\"\\\"<script>alert(1)</script>\",\"Arn\":\"" USER(
            "x") "\",\"UserPolicyList\":[{\"PolicyName\":\"bad\",\"PolicyDocument\":"
                 "\"%7B%22Statement\"}]}],\"GroupDetailList\":[],\"RoleDetailList\":[{\"RoleName\":"
                 "\"app\",\"Arn\":\"" ROLE("app") "\",\"RolePolicyList\":[{\"PolicyName\":\"ok\","
                                                  "\"PolicyDocument\":{\"Statement\":{\"Effect\":"
                                                  "\"Allow\",\"Action\":\"dynamodb:Scan\","
                                                  "\"Resource\":\"*\"}}}]}],\"Policies\":[]}",
        "{\"Statement\": nope", NULL);
    assert_non_null(s.analysis->documents[0]->error);
    assert_true(allowed(cell(&s, ROLE("app"), 0), "Scan"));
    json_t *matrix = policy_analysis_matrix(s.analysis);
    json_t *malformed = json_object_get(matrix, "malformed_policies");
    assert_int_equal(json_array_size(malformed), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(malformed, 1), "policy")),
                        ORDERS);
    json_decref(matrix);
    release(&s);
}

static void test_policy_variables_match_anything(void **state)
{
    (void)state;
    struct scenario s;
    /* ${aws:username} is unknown to an offline analysis: it may name any table. */
    char *details = role_with_inline(
        "app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\","
               "\"Resource\":\"arn:aws:dynamodb:*:*:table/${aws:username}\"}]}");
    analyse(&s, details, NULL, NULL);
    assert_true(allowed(cell(&s, ROLE("app"), 1), "GetItem"));
    release(&s);
    free(details);
}

static void test_matrix_shape(void **state)
{
    (void)state;
    struct scenario s;
    analyse(&s, group_details, NULL, NULL);
    json_t *matrix = policy_analysis_matrix(s.analysis);
    json_t *principals = json_object_get(matrix, "principals");
    assert_int_equal(json_array_size(principals), 2);
    json_t *alice = json_array_get(principals, 0);
    assert_string_equal(json_string_value(json_object_get(alice, "type")), "user");
    assert_true(json_is_null(json_object_get(alice, "all_tables")));
    json_t *orders = json_array_get(json_object_get(alice, "tables"), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(orders, "tables"), 0)),
                        ORDERS);
    assert_string_equal(json_string_value(json_object_get(orders, "read")), "allowed");
    assert_null(json_object_get(orders, "write")); /* absent: none */
    assert_null(json_object_get(orders, "conditional_actions"));
    assert_string_equal(json_string_value(json_object_get(orders, "actions")), "GetItem");
    assert_false(json_is_true(json_object_get(orders, "transport_enforced")));
    /* Statements are listed once and referenced by position: the group's Deny on "*" (an
     * all-tables statement) and the managed policy's Allow through the group. */
    json_t *refs = json_object_get(orders, "statements");
    assert_int_equal(json_array_size(refs), 2);
    json_t *statements = json_object_get(matrix, "statements");
    json_t *allow = json_array_get(statements, json_integer_value(json_array_get(refs, 1)));
    assert_string_equal(json_string_value(json_object_get(allow, "policy")),
                        "arn:aws:iam::" ACCOUNT ":policy/Orders");
    assert_string_equal(json_string_value(json_object_get(allow, "via")), "readers");
    assert_string_equal(json_string_value(json_object_get(allow, "effect")), "Allow");
    json_t *tables = json_object_get(matrix, "tables");
    assert_int_equal(json_array_size(tables), 3);
    assert_false(json_is_true(json_object_get(json_array_get(tables, 0), "transport_enforced")));
    /* Same input, same bytes. */
    char *first = json_dumps(matrix, JSON_COMPACT);
    struct scenario again;
    analyse(&again, group_details, NULL, NULL);
    json_t *second_matrix = policy_analysis_matrix(again.analysis);
    char *second = json_dumps(second_matrix, JSON_COMPACT);
    assert_string_equal(first, second);
    free(first);
    free(second);
    json_decref(second_matrix);
    release(&again);
    json_decref(matrix);
    release(&s);
}

static void test_deny_with_not_action_and_not_resource(void **state)
{
    (void)state;
    struct scenario s;
    /* Deny + NotAction denies everything but GetItem: only GetItem survives the Allow. */
    char *details = role_with_inline(
        "app",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"},"
        "{\"Effect\":\"Deny\",\"NotAction\":\"dynamodb:GetItem\",\"Resource\":\"*\"}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_cell *orders = cell(&s, ROLE("app"), 0);
    assert_true(allowed(orders, "GetItem"));
    assert_false(allowed(orders, "Query"));
    assert_false(allowed(orders, "DeleteTable"));
    release(&s);
    free(details);

    /* Deny + NotResource on the orders table ARN denies every other ARN, including the orders
     * table's own indexes and stream; the table itself keeps its actions. */
    details = role_with_inline(
        "app",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"},"
        "{\"Effect\":\"Deny\",\"Action\":\"dynamodb:*\",\"NotResource\":\"" ORDERS "\"}]}");
    analyse(&s, details, NULL, NULL);
    orders = cell(&s, ROLE("app"), 0);
    assert_true(allowed(orders, "GetItem"));
    assert_true(allowed(orders, "Query"));       /* on the table */
    assert_false(allowed(orders, "GetRecords")); /* only on the stream, which is denied */
    assert_true(policy_action_set_empty(&cell(&s, ROLE("app"), 1)->allowed));
    release(&s);
    free(details);
}

static void test_other_services_grant_nothing(void **state)
{
    (void)state;
    struct scenario s;
    /* s3:* on "*" and dynamodb:* on an S3 ARN give no DynamoDB access to any table. */
    char *details = role_with_inline(
        "app", "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},"
               "{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":"
               "\"arn:aws:s3:::bucket/*\"}]}");
    analyse(&s, details, NULL, NULL);
    const struct policy_principal *p = principal(&s, ROLE("app"));
    assert_true(policy_action_set_empty(&p->any));
    json_t *matrix = policy_analysis_matrix(s.analysis);
    assert_int_equal(json_array_size(json_object_get(matrix, "principals")), 0);
    json_decref(matrix);
    release(&s);
    free(details);
}

static void test_boundary_deny_and_conditional_boundary(void **state)
{
    (void)state;
    struct scenario s;
    /* A Deny in the boundary denies; a conditional boundary Allow makes the grant conditional. */
    analyse(
        &s,
        "{\"UserDetailList\":[],\"GroupDetailList\":[],\"RoleDetailList\":[{\"RoleName\":\"app\","
        "\"Arn\":\"" ROLE(
            "app") "\",\"RolePolicyList\":[{\"PolicyName\":\"p\",\"PolicyDocument\":"
                   "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*"
                   "\"}}}],"
                   "\"PermissionsBoundary\":{\"PermissionsBoundaryArn\":\"arn:aws:iam::" ACCOUNT
                   ":policy/B\"}},{\"RoleName\":\"mfa\",\"Arn\":\"" ROLE(
                       "mfa") "\",\"RolePolicyList\":"
                              "[{\"PolicyName\":\"p\",\"PolicyDocument\":{\"Statement\":{"
                              "\"Effect\":\"Allow\","
                              "\"Action\":\"dynamodb:GetItem\",\"Resource\":\"*\"}}}],"
                              "\"PermissionsBoundary\":"
                              "{\"PermissionsBoundaryArn\":\"arn:aws:iam::" ACCOUNT
                              ":policy/MfaOnly\"}}],"
                              "\"Policies\":[{\"Arn\":\"arn:aws:iam::" ACCOUNT ":policy/B\","
                              "\"PolicyVersionList\":[{\"IsDefaultVersion\":true,\"Document\":{"
                              "\"Statement\":["
                              "{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"},"
                              "{\"Effect\":\"Deny\",\"Action\":\"dynamodb:Delete*\",\"Resource\":"
                              "\"*\"},"
                              "{\"Effect\":\"Allow\",\"Action\":\"dynamodb:Scan\",\"Resource\":\"*"
                              "\"}]}}]},"
                              "{\"Arn\":\"arn:aws:iam::" ACCOUNT
                              ":policy/MfaOnly\",\"PolicyVersionList\":"
                              "[{\"IsDefaultVersion\":true,\"Document\":{\"Statement\":{\"Effect\":"
                              "\"Allow\","
                              "\"Action\":\"dynamodb:*\",\"Resource\":\"*\",\"Condition\":{"
                              "\"Bool\":"
                              "{\"aws:MultiFactorAuthPresent\":\"true\"}}}}}]}]}",
        NULL, NULL);
    const struct policy_cell *c = cell(&s, ROLE("app"), 0);
    assert_true(allowed(c, "PutItem"));
    assert_false(allowed(c, "DeleteTable") || conditional(c, "DeleteTable"));
    assert_false(allowed(c, "DeleteItem"));
    assert_int_equal(s.analysis->documents[0]->boundary_uses, 1);
    assert_int_equal(s.analysis->documents[0]->attachments, 0);
    json_t *condition = s.analysis->documents[1]->statements[0].condition;
    assert_int_equal(policy_condition_classify(condition), POLICY_COND_MFA);
    const struct policy_cell *mfa = cell(&s, ROLE("mfa"), 0);
    assert_false(allowed(mfa, "GetItem"));
    assert_true(conditional(mfa, "GetItem"));
    assert_false(conditional(mfa, "PutItem")); /* the boundary never adds what the role lacks */
    release(&s);
}

static void test_not_principal_and_service_principals(void **state)
{
    (void)state;
    struct scenario s;
    /* Allow with NotPrincipal admits everyone else: public. A service principal is its own
     * entry, never the public one. */
    analyse(&s, NULL,
            "{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"" ROLE(
                "app") "\"},\"Action\":\"dynamodb:Scan\",\"Resource\":\"" ORDERS
                       "\"},{\"Effect\":\"Allow\","
                       "\"Principal\":{\"Service\":\"backup.amazonaws.com\"},\"Action\":"
                       "\"dynamodb:DescribeTable\",\"Resource\":\"" ORDERS "\"}]}",
            NULL);
    const struct policy_principal *anyone = principal(&s, "*");
    assert_int_equal(anyone->type, POLICY_PRINCIPAL_PUBLIC);
    assert_true(allowed(policy_cell_for(anyone, 0), "Scan"));
    const struct policy_principal *service = principal(&s, "backup.amazonaws.com");
    assert_int_equal(service->type, POLICY_PRINCIPAL_SERVICE_NAME);
    assert_true(allowed(policy_cell_for(service, 0), "DescribeTable"));
    /* No authorization details: said in the notes. */
    int noted = 0;
    for (size_t i = 0; i < json_array_size(s.analysis->notes); i++)
        noted |= strstr(json_string_value(json_array_get(s.analysis->notes, i)),
                        "authorization details are not in the evidence") != NULL;
    assert_true(noted);
    release(&s);
}

static void test_action_table_is_sorted(void **state)
{
    (void)state;
    for (size_t i = 1; i < policy_action_count; i++)
        assert_true(strcmp(policy_actions[i - 1].name, policy_actions[i].name) < 0);
    struct policy_action_set privileged = policy_privileged_set();
    static const char *const expected[] = {"DeleteTable",
                                           "UpdateTable",
                                           "DeleteBackup",
                                           "RestoreTableFromBackup",
                                           "RestoreTableToPointInTime",
                                           "RestoreTableFromAwsBackup",
                                           "PutResourcePolicy",
                                           "DeleteResourcePolicy",
                                           "UpdateContinuousBackups"};
    size_t count = 0;
    for (size_t i = 0; i < policy_action_count; i++)
        count += policy_action_set_has(&privileged, i);
    assert_int_equal(count, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        assert_true(policy_action_set_has(&privileged, (size_t)action(expected[i])));
}

/* Key policies parse like resource policies, with a Principal; their KMS condition keys are
 * classified (kms:CallerAccount narrows the caller's account, kms:ViaService the service). */
static void test_key_policy_conditions(void **state)
{
    (void)state;
    json_t *value = parse(
        "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"*\"}, \"Action\": "
        "[\"kms:Decrypt\", \"kms:GenerateDataKey*\"], \"Resource\": \"*\", \"Condition\": "
        "{\"StringEquals\": {\"KMS:CallerAccount\": \"111122223333\", \"kms:ViaService\": "
        "\"dynamodb.eu-west-1.amazonaws.com\"}}}}");
    struct policy_document *doc =
        policy_document_parse(value, "key", POLICY_SOURCE_KEY, NULL, NULL);
    assert_null(doc->error);
    assert_int_equal(doc->statement_count, 1);
    assert_int_equal(doc->statements[0].condition_kinds,
                     POLICY_COND_PRINCIPAL_ACCOUNT | POLICY_COND_VIA_SERVICE);
    assert_string_equal(policy_condition_kind_name(POLICY_COND_VIA_SERVICE), "via_service");
    assert_true(policy_action_matches(doc->statements[0].actions[1], "kms:GenerateDataKeyPair"));
    assert_false(policy_action_matches(doc->statements[0].actions[0], "kms:DecryptX"));
    /* It names no DynamoDB action, so it can never reach a table cell. */
    assert_true(policy_action_set_empty(&doc->statements[0].dynamodb_actions));
    assert_true(doc->statements[0].other_actions);
    policy_document_free(doc);
    json_decref(value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_action_wildcards),
        cmocka_unit_test(test_arn_wildcards),
        cmocka_unit_test(test_statement_object_or_list),
        cmocka_unit_test(test_not_action_is_complement),
        cmocka_unit_test(test_encoded_documents),
        cmocka_unit_test(test_malformed_documents),
        cmocka_unit_test(test_condition_classification),
        cmocka_unit_test(test_inline_grant_on_one_table),
        cmocka_unit_test(test_wildcard_resource_reaches_every_table),
        cmocka_unit_test(test_index_and_stream_arns),
        cmocka_unit_test(test_not_resource),
        cmocka_unit_test(test_unconditional_deny_wins),
        cmocka_unit_test(test_conditional_statements_are_kept),
        cmocka_unit_test(test_groups_and_default_version),
        cmocka_unit_test(test_default_version_by_id),
        cmocka_unit_test(test_permissions_boundary),
        cmocka_unit_test(test_resource_policy_principals),
        cmocka_unit_test(test_malformed_policy_in_details),
        cmocka_unit_test(test_policy_variables_match_anything),
        cmocka_unit_test(test_matrix_shape),
        cmocka_unit_test(test_deny_with_not_action_and_not_resource),
        cmocka_unit_test(test_other_services_grant_nothing),
        cmocka_unit_test(test_boundary_deny_and_conditional_boundary),
        cmocka_unit_test(test_not_principal_and_service_principals),
        cmocka_unit_test(test_action_table_is_sorted),
        cmocka_unit_test(test_key_policy_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
