/* Scenario tests for the identity checks (DDB-02, 03, 05, 11, 12, 14, 15) on realistic
 * GetAccountAuthorizationDetails documents, through the real seal/open/evaluate path. Names are
 * hostile on purpose (quotes, <script>, unicode): they must reach the findings verbatim and
 * never break parsing or the report. */
#include "snapshot_fixture.h"

#include "policy.h"

#define R "eu-west-1"
#define ACCT "111122223333"
#define ORDERS_ARN "arn:aws:dynamodb:eu-west-1:" ACCT ":table/orders"
#define AUDIT_ARN "arn:aws:dynamodb:eu-west-1:" ACCT ":table/audit"
#define AS_OF "2026-10-01"
#define HOSTILE "ops-\\\"<script>alert(1)</script>-ü-日本"
#define HOSTILE_TEXT "ops-\"<script>alert(1)</script>-ü-日本"

static char *base64(const char *text)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(text);
    char *out = malloc(n / 3 * 4 + 8);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)text[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)text[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)text[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

#define REPORT_HEADER                                                                              \
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"       \
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"             \
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"    \
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"                   \
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"                  \
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
#define ROOT_ROW                                                                                   \
    "<root_account>,arn:aws:iam::" ACCT ":root,2019-01-01T00:00:00+00:00,not_supported,"           \
    "2026-09-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,"  \
    "N/A,N/A,N/A,false,N/A,false,N/A\n"

/* One credential report row for user `name`. */
static void user_row(char *out, size_t size, const char *name, const char *password,
                     const char *key_active, const char *rotated, const char *used)
{
    snprintf(out, size,
             "%s,arn:aws:iam::" ACCT ":user/%s,2020-01-01T00:00:00+00:00,%s,N/A,N/A,N/A,false,"
             "%s,%s,%s,eu-west-1,dynamodb,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
             name, name, password, key_active, rotated, used);
}

static void credential_report(struct fixture *fx, const char *rows)
{
    char csv[8192], json[16384];
    snprintf(csv, sizeof(csv), REPORT_HEADER ROOT_ROW "%s", rows);
    char *content = base64(csv);
    snprintf(json, sizeof(json),
             "{\"Content\": \"%s\", \"ReportFormat\": \"text/csv\", \"GeneratedTime\": "
             "\"2026-09-30T12:00:00+00:00\"}",
             content);
    free(content);
    fx_call(fx, "global", "iam", "GetCredentialReport", NULL, json);
}

static const char *const full_access_policy =
    "{\"PolicyName\": \"AmazonDynamoDBFullAccess\", \"PolicyId\": \"ANPAINUGF2JSOSUY76KYA\", "
    "\"Arn\": \"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess\", \"Path\": \"/\", "
    "\"DefaultVersionId\": \"v5\", \"AttachmentCount\": 1, \"IsAttachable\": true, "
    "\"PolicyVersionList\": [{\"Document\": {\"Version\": \"2012-10-17\", \"Statement\": "
    "[{\"Action\": [\"dynamodb:*\", \"dax:*\"], \"Effect\": \"Allow\", \"Resource\": \"*\"}]}, "
    "\"VersionId\": \"v5\", \"IsDefaultVersion\": true, \"CreateDate\": "
    "\"2019-01-01T00:00:00+00:00\"}]}";

/* Authorization details: roles app (read/write orders, TLS deny), admin (full access), the
 * hostile-named role (reads audit, no TLS deny), a service-linked role, and `users`. */
static void details(struct fixture *fx, const char *users, const char *extra_roles)
{
    char text[32768];
    snprintf(
        text, sizeof(text),
        "{\"UserDetailList\": [%s], \"GroupDetailList\": [{\"Path\": \"/\", \"GroupName\": "
        "\"readers\", \"GroupId\": \"AGPA1\", \"Arn\": \"arn:aws:iam::" ACCT ":group/readers\", "
        "\"CreateDate\": \"2020-01-01T00:00:00+00:00\", \"GroupPolicyList\": [{\"PolicyName\": "
        "\"read-orders\", \"PolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": "
        "[{\"Effect\": \"Allow\", \"Action\": [\"dynamodb:GetItem\", \"dynamodb:Query\"], "
        "\"Resource\": \"" ORDERS_ARN "\"}]}}], \"AttachedManagedPolicies\": []}], "
        "\"RoleDetailList\": ["
        "{\"Path\": \"/\", \"RoleName\": \"app\", \"RoleId\": \"AROA1\", \"Arn\": "
        "\"arn:aws:iam::" ACCT ":role/app\", \"CreateDate\": \"2020-01-01T00:00:00+00:00\", "
        "\"AssumeRolePolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": "
        "\"Allow\", \"Principal\": {\"Service\": \"lambda.amazonaws.com\"}, \"Action\": "
        "\"sts:AssumeRole\"}]}, \"InstanceProfileList\": [], \"RolePolicyList\": [{\"PolicyName\": "
        "\"orders-rw\", \"PolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": ["
        "{\"Sid\": \"OrdersReadWrite\", \"Effect\": \"Allow\", \"Action\": [\"dynamodb:GetItem\", "
        "\"dynamodb:PutItem\", \"dynamodb:UpdateItem\", \"dynamodb:Query\"], \"Resource\": "
        "[\"" ORDERS_ARN "\", \"" ORDERS_ARN
        "/index/*\"]}, {\"Sid\": \"TLSOnly\", \"Effect\": \"Deny\", \"Action\": "
        "\"dynamodb:*\", \"Resource\": \"*\", \"Condition\": {\"Bool\": {\"aws:SecureTransport\": "
        "\"false\"}}}]}}], \"AttachedManagedPolicies\": [], \"Tags\": []},"
        "{\"Path\": \"/\", \"RoleName\": \"admin\", \"RoleId\": \"AROA2\", \"Arn\": "
        "\"arn:aws:iam::" ACCT ":role/admin\", \"CreateDate\": \"2020-01-01T00:00:00+00:00\", "
        "\"AssumeRolePolicyDocument\": \"%%7B%%22Version%%22%%3A%%222012-10-17%%22%%2C%%22Statement"
        "%%22%%3A%%5B%%7B%%22Effect%%22%%3A%%22Allow%%22%%2C%%22Principal%%22%%3A%%7B%%22Federated"
        "%%22%%3A%%22arn%%3Aaws%%3Aiam%%3A%%3A" ACCT "%%3Asaml-provider%%2Fcorp%%22%%7D%%2C%%22"
        "Action%%22%%3A%%22sts%%3AAssumeRoleWithSAML%%22%%7D%%5D%%7D\", \"RolePolicyList\": [], "
        "\"AttachedManagedPolicies\": [{\"PolicyName\": \"AmazonDynamoDBFullAccess\", "
        "\"PolicyArn\": \"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess\"}]},"
        "{\"Path\": \"/\", \"RoleName\": \"" HOSTILE "\", \"RoleId\": \"AROA3\", \"Arn\": "
        "\"arn:aws:iam::" ACCT ":role/" HOSTILE
        "\", \"CreateDate\": \"2020-01-01T00:00:00+00:00\", "
        "\"AssumeRolePolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": "
        "\"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::" ACCT ":root\"}, \"Action\": "
        "\"sts:AssumeRole\"}]}, \"RolePolicyList\": [{\"PolicyName\": \"" HOSTILE "\", "
        "\"PolicyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": {\"Sid\": \"" HOSTILE
        "\", "
        "\"Effect\": \"Allow\", \"Action\": \"dynamodb:Scan\", \"Resource\": \"" AUDIT_ARN
        "\"}}}], "
        "\"AttachedManagedPolicies\": []},"
        "{\"Path\": \"/aws-service-role/replication.dynamodb.amazonaws.com/\", \"RoleName\": "
        "\"AWSServiceRoleForDynamoDBReplication\", \"RoleId\": \"AROA4\", \"Arn\": "
        "\"arn:aws:iam::" ACCT ":role/aws-service-role/replication.dynamodb.amazonaws.com/"
        "AWSServiceRoleForDynamoDBReplication\", \"AssumeRolePolicyDocument\": {\"Version\": "
        "\"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
        "\"replication.dynamodb.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}, "
        "\"RolePolicyList\": [{\"PolicyName\": \"replication\", \"PolicyDocument\": "
        "{\"Statement\": "
        "[{\"Effect\": \"Allow\", \"Action\": [\"dynamodb:UpdateTable\", \"dynamodb:PutItem\"], "
        "\"Resource\": \"*\"}]}}], \"AttachedManagedPolicies\": []}%s],"
        "\"Policies\": [%s, {\"PolicyName\": \"unused-admin\", \"Arn\": \"arn:aws:iam::" ACCT
        ":policy/unused-admin\", \"DefaultVersionId\": \"v1\", \"AttachmentCount\": 0, "
        "\"PolicyVersionList\": [{\"Document\": {\"Statement\": [{\"Effect\": \"Allow\", "
        "\"Action\": \"dynamodb:*\", \"Resource\": \"*\"}]}, \"VersionId\": \"v1\", "
        "\"IsDefaultVersion\": true}]}]}",
        users ? users : "", extra_roles ? extra_roles : "", full_access_policy);
    fx_call(fx, "global", "iam", "GetAccountAuthorizationDetails", NULL, text);
}

#define USER_ENTRY(name, groups, inline_policies)                                                  \
    "{\"Path\": \"/\", \"UserName\": \"" name "\", \"UserId\": \"AIDA" name "\", \"Arn\": "        \
    "\"arn:aws:iam::" ACCT ":user/" name "\", \"CreateDate\": \"2020-01-01T00:00:00+00:00\", "     \
    "\"GroupList\": [" groups "], \"UserPolicyList\": [" inline_policies "], "                     \
    "\"AttachedManagedPolicies\": [], \"Tags\": []}"

/* A table account: orders and audit in eu-west-1, IAM evidence, a resource policy on orders. */
static void base(struct fixture *fx, const char *orders_policy)
{
    fx_init(fx);
    fx_call(fx, R, "dynamodb", "ListTables", NULL, "{\"TableNames\": [\"audit\", \"orders\"]}");
    if (orders_policy) {
        json_t *wrapped = json_pack("{s:s, s:s}", "Policy", orders_policy, "RevisionId", "17");
        char *text = json_dumps(wrapped, 0);
        fx_call(fx, R, "dynamodb", "GetResourcePolicy", "orders", text);
        free(text);
        json_decref(wrapped);
    } else {
        fx_error(fx, R, "dynamodb", "GetResourcePolicy", "orders", "PolicyNotFoundException");
    }
    fx_error(fx, R, "dynamodb", "GetResourcePolicy", "audit", "PolicyNotFoundException");
    fx_call(fx, "global", "iam", "GetAccountSummary", NULL,
            "{\"SummaryMap\": {\"AccountAccessKeysPresent\": 0, \"AccountMFAEnabled\": 1, "
            "\"Users\": 2}}");
    fx_call(fx, "global", "iam", "ListSAMLProviders", NULL,
            "{\"SAMLProviderList\": [{\"Arn\": \"arn:aws:iam::" ACCT ":saml-provider/corp\", "
            "\"ValidUntil\": \"2030-01-01T00:00:00+00:00\", \"CreateDate\": "
            "\"2020-01-01T00:00:00+00:00\"}]}");
    fx_call(fx, "global", "iam", "ListOpenIDConnectProviders", NULL,
            "{\"OpenIDConnectProviderList\": []}");
    fx_call(fx, R, "ec2", "DescribeVpcEndpoints", NULL, "{\"VpcEndpoints\": []}");
    details(fx, NULL, NULL);
    credential_report(fx, "");
}

/* ---- DDB-02 ---- */

static void test_authentication_roles_only(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    struct control_result *r = fx_evaluate(&fx, "DDB-02", AS_OF);
    /* Three roles reach DynamoDB (app, admin, the hostile one) plus the service-linked role. */
    fx_expect(r, ":root", STATUS_PASS, "the root user has no access key; 4 roles and 0 IAM users");
    assert_int_equal(r->status, STATUS_PASS);
    fx_free(&fx);
}

static void test_authentication_user_keys_and_root(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    char rows[2048], row[512];
    user_row(rows, sizeof(rows), "etl", "false", "true", "2025-01-01T08:00:00+00:00",
             "2026-09-29T10:00:00+00:00");
    user_row(row, sizeof(row), "reader", "true", "false", "N/A", "N/A");
    snprintf(rows + strlen(rows), sizeof(rows) - strlen(rows), "%s", row);
    credential_report(&fx, rows);
    details(&fx,
            USER_ENTRY("etl", "",
                       "{\"PolicyName\": \"etl\", \"PolicyDocument\": {\"Statement\": "
                       "{\"Effect\": \"Allow\", \"Action\": \"dynamodb:BatchWriteItem\", "
                       "\"Resource\": \"" ORDERS_ARN
                       "\"}}}") ", " USER_ENTRY("reader", "\"readers\"", ""),
            NULL);
    fx_call(&fx, "global", "iam", "GetAccountSummary", NULL,
            "{\"SummaryMap\": {\"AccountAccessKeysPresent\": 1}}");
    struct control_result *r = fx_evaluate(&fx, "DDB-02", AS_OF);
    /* 2025-01-01 → 2026-10-01: 365 days of 2025 + 273 days of 2026 before October = 638. */
    fx_expect(r, ":user/etl", STATUS_REVIEW, "access key 1 (638 days old, last used 2026-09-29)");
    fx_expect(r, ":user/etl", STATUS_REVIEW, "write access to DynamoDB");
    fx_expect(r, ":user/reader", STATUS_PASS, "read access to DynamoDB and no active access key");
    fx_expect(r, ":root", STATUS_REMEDIATE, "the root user has an access key");
    assert_int_equal(r->status, STATUS_REMEDIATE);
    fx_free(&fx);
}

static void test_authentication_missing_evidence(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    fx_error(&fx, "global", "iam", "GetCredentialReport", NULL, "AccessDenied");
    details(&fx, USER_ENTRY("reader", "\"readers\"", ""), NULL);
    struct control_result *r = fx_evaluate(&fx, "DDB-02", AS_OF);
    fx_expect(r, ":user/reader", STATUS_REVIEW, "without the credential report");
    assert_int_equal(r->status, STATUS_REVIEW);
    fx_free(&fx);

    base(&fx, NULL);
    fx_call(&fx, "global", "iam", "GetAccountAuthorizationDetails", NULL, NULL);
    r = fx_evaluate(&fx, "DDB-02", AS_OF);
    fx_expect(r, ":root", STATUS_REVIEW, "GetAccountAuthorizationDetails");
    assert_int_equal(r->status, STATUS_REVIEW);
    fx_free(&fx);
}

/* ---- DDB-03 ---- */

static void test_least_privilege(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    struct control_result *r = fx_evaluate(&fx, "DDB-03", AS_OF);
    /* AmazonDynamoDBFullAccess (dynamodb:* on *) reaches the admin role. The service-linked
     * role's broad grant and the unattached policy are not findings. */
    fx_expect(r, "policy/AmazonDynamoDBFullAccess", STATUS_REMEDIATE,
              "allows dynamodb:* on every table; it reaches 1 principal: arn:aws:iam::" ACCT
              ":role/admin");
    assert_null(fx_finding(r, "AWSServiceRoleForDynamoDBReplication"));
    assert_null(fx_finding(r, "policy/unused-admin"));
    int noted = 0;
    for (size_t i = 0; i < json_array_size(r->notes); i++)
        noted |= strstr(json_string_value(json_array_get(r->notes, i)), "unused-admin") != NULL;
    assert_true(noted);
    assert_int_equal(r->status, STATUS_REMEDIATE);
    fx_free(&fx);
}

static void test_least_privilege_pass_and_conditions(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    /* Without the admin role only narrow grants remain, plus a conditional broad one. */
    char text[8192];
    snprintf(
        text, sizeof(text),
        "{\"UserDetailList\": [], \"GroupDetailList\": [], \"RoleDetailList\": [{\"RoleName\": "
        "\"app\", \"Arn\": \"arn:aws:iam::" ACCT ":role/app\", \"RolePolicyList\": "
        "[{\"PolicyName\": \"p\", \"PolicyDocument\": {\"Statement\": [{\"Effect\": \"Allow\", "
        "\"Action\": \"dynamodb:GetItem\", \"Resource\": \"" ORDERS_ARN "\"}, {\"Effect\": "
        "\"Allow\", \"Action\": \"dynamodb:Describe*\", \"Resource\": \"*\"}]}}], "
        "\"AttachedManagedPolicies\": []}], \"Policies\": []}");
    fx_call(&fx, "global", "iam", "GetAccountAuthorizationDetails", NULL, text);
    struct control_result *r = fx_evaluate(&fx, "DDB-03", AS_OF);
    fx_expect(r, ":root", STATUS_PASS, "grants dynamodb:* or a DynamoDB table action");
    fx_free(&fx);

    base(&fx, NULL);
    snprintf(
        text, sizeof(text),
        "{\"UserDetailList\": [], \"GroupDetailList\": [], \"RoleDetailList\": [{\"RoleName\": "
        "\"app\", \"Arn\": \"arn:aws:iam::" ACCT ":role/app\", \"RolePolicyList\": "
        "[{\"PolicyName\": \"p\", \"PolicyDocument\": {\"Statement\": [{\"Effect\": \"Allow\", "
        "\"Action\": \"dynamodb:PutItem\", \"Resource\": \"arn:aws:dynamodb:*:*:table/*\", "
        "\"Condition\": {\"ForAllValues:StringEquals\": {\"dynamodb:LeadingKeys\": "
        "[\"${aws:userid}\"]}}}]}}], \"AttachedManagedPolicies\": []}], \"Policies\": []}");
    fx_call(&fx, "global", "iam", "GetAccountAuthorizationDetails", NULL, text);
    r = fx_evaluate(&fx, "DDB-03", AS_OF);
    fx_expect(r, ":role/app", STATUS_REVIEW, "narrowed only by conditions");
    fx_free(&fx);
}

static void test_malformed_policy_is_a_finding(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    details(&fx, NULL,
            ", {\"RoleName\": \"broken\", \"Arn\": \"arn:aws:iam::" ACCT ":role/broken\", "
            "\"RolePolicyList\": [{\"PolicyName\": \"bad\", \"PolicyDocument\": "
            "\"%7B%22Statement%22%3A%5B\"}], \"AttachedManagedPolicies\": "
            "[{\"PolicyArn\": \"arn:aws:iam::" ACCT ":policy/not-collected\"}]}");
    struct control_result *r = fx_evaluate(&fx, "DDB-03", AS_OF);
    fx_expect(r, ":role/broken", STATUS_REVIEW, "could not be read");
    fx_free(&fx);
}

/* ---- DDB-05 ---- */

static void test_transport(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    struct control_result *r = fx_evaluate(&fx, "DDB-05", AS_OF);
    /* orders: app has the TLS deny but admin (full access) does not → Remediate naming admin.
     * audit: admin and the hostile role reach it without a TLS deny. */
    fx_expect(r, "table/orders", STATUS_REMEDIATE, "role/admin");
    fx_expect(r, "table/audit", STATUS_REMEDIATE, HOSTILE_TEXT);
    fx_free(&fx);

    /* A resource policy denying plain HTTP to everyone covers the table by itself. */
    base(&fx,
         "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"TLS\", \"Effect\": "
         "\"Deny\", \"Principal\": \"*\", \"Action\": \"dynamodb:*\", \"Resource\": [\"" ORDERS_ARN
         "\", \"" ORDERS_ARN "/index/*\"], \"Condition\": {\"Bool\": "
         "{\"aws:SecureTransport\": \"false\"}}}]}");
    r = fx_evaluate(&fx, "DDB-05", AS_OF);
    fx_expect(r, "table/orders", STATUS_PASS, "denies every DynamoDB action to every principal");
    fx_free(&fx);

    /* Only the app role (with its own TLS deny) reaches orders. */
    base(&fx, NULL);
    char text[8192];
    snprintf(
        text, sizeof(text),
        "{\"UserDetailList\": [], \"GroupDetailList\": [], \"RoleDetailList\": [{\"RoleName\": "
        "\"app\", \"Arn\": \"arn:aws:iam::" ACCT ":role/app\", \"RolePolicyList\": "
        "[{\"PolicyName\": \"p\", \"PolicyDocument\": {\"Statement\": [{\"Effect\": \"Allow\", "
        "\"Action\": \"dynamodb:GetItem\", \"Resource\": \"" ORDERS_ARN "\"}, {\"Sid\": \"TLS\", "
        "\"Effect\": \"Deny\", \"Action\": \"dynamodb:*\", \"Resource\": \"*\", \"Condition\": "
        "{\"Bool\": {\"aws:SecureTransport\": \"false\"}}}]}}], \"AttachedManagedPolicies\": "
        "[]}], \"Policies\": []}");
    fx_call(&fx, "global", "iam", "GetAccountAuthorizationDetails", NULL, text);
    r = fx_evaluate(&fx, "DDB-05", AS_OF);
    fx_expect(r, "table/orders", STATUS_PASS, "every principal that can reach this table");
    fx_expect(r, "table/audit", STATUS_PASS, "no principal's identity or resource policy");
    fx_free(&fx);

    base(&fx, NULL);
    fx_error(&fx, R, "dynamodb", "GetResourcePolicy", "orders", "AccessDeniedException");
    r = fx_evaluate(&fx, "DDB-05", AS_OF);
    fx_expect(r, "table/orders", STATUS_REVIEW, "GetResourcePolicy");
    fx_free(&fx);
}

/* ---- DDB-11 ---- */

static void isolation_case(const char *policy, enum status status, const char *words)
{
    struct fixture fx;
    base(&fx, policy);
    struct control_result *r = fx_evaluate(&fx, "DDB-11", AS_OF);
    fx_expect(r, "table/orders", status, words);
    fx_expect(r, "table/audit", STATUS_PASS, "no resource policy");
    fx_free(&fx);
}

#define ALLOW_ORDERS(principal, condition)                                                         \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"S\", \"Effect\": \"Allow\", "       \
    "\"Principal\": " principal ", \"Action\": \"dynamodb:GetItem\", \"Resource\": \"" ORDERS_ARN  \
    "\"" condition "}]}"

static void test_resource_policy_isolation(void **state)
{
    (void)state;
    isolation_case(ALLOW_ORDERS("\"*\"", ""), STATUS_REMEDIATE, "every principal (public)");
    isolation_case(ALLOW_ORDERS("{\"AWS\": \"*\"}",
                                ", \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": "
                                "\"203.0.113.0/24\"}}"),
                   STATUS_REMEDIATE, "narrowed only by source IP");
    isolation_case(ALLOW_ORDERS("\"*\"", ", \"Condition\": {\"StringEquals\": "
                                         "{\"aws:SourceVpce\": \"vpce-1a2b3c\"}}"),
                   STATUS_PASS, "pinned to a VPC or VPC endpoint");
    isolation_case(ALLOW_ORDERS("\"*\"", ", \"Condition\": {\"StringNotEquals\": "
                                         "{\"aws:SourceVpce\": \"vpce-1a2b3c\"}}"),
                   STATUS_REMEDIATE, "public");
    isolation_case(ALLOW_ORDERS("\"*\"", ", \"Condition\": {\"StringEquals\": "
                                         "{\"aws:PrincipalAccount\": \"" ACCT "\"}}"),
                   STATUS_PASS, "grants only to this account");
    isolation_case(ALLOW_ORDERS("\"*\"", ", \"Condition\": {\"StringEquals\": "
                                         "{\"aws:PrincipalOrgID\": \"o-abc123\"}}"),
                   STATUS_REVIEW, "organization condition");
    isolation_case(ALLOW_ORDERS("{\"AWS\": \"arn:aws:iam::444455556666:role/partner\"}", ""),
                   STATUS_REMEDIATE, "another account not in trusted_accounts");
    isolation_case(ALLOW_ORDERS("{\"AWS\": \"arn:aws:iam::" ACCT ":role/" HOSTILE "\"}", ""),
                   STATUS_PASS, "grants only to this account");
    isolation_case("{\"Statement\": [", STATUS_REVIEW, "cannot be read");
}

/* ---- DDB-12 ---- */

static void test_vpc_endpoint_policy(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    fx_call(
        &fx, R, "ec2", "DescribeVpcEndpoints", NULL,
        "{\"VpcEndpoints\": [{\"VpcEndpointId\": \"vpce-open\", \"VpcEndpointType\": "
        "\"Gateway\", \"VpcId\": \"vpc-1\", \"ServiceName\": \"com.amazonaws.eu-west-1."
        "dynamodb\", \"State\": \"available\", \"PolicyDocument\": \"{\\\"Version\\\":"
        "\\\"2008-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":"
        "\\\"*\\\",\\\"Action\\\":\\\"*\\\",\\\"Resource\\\":\\\"*\\\"}]}\"},"
        "{\"VpcEndpointId\": \"vpce-narrow\", \"VpcEndpointType\": \"Gateway\", \"VpcId\": "
        "\"vpc-2\", \"ServiceName\": \"com.amazonaws.eu-west-1.dynamodb\", \"State\": "
        "\"available\", \"PolicyDocument\": \"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
        "\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":[\\\"dynamodb:GetItem\\\"],\\\"Resource\\\":"
        "\\\"" ORDERS_ARN "\\\"}]}\"},"
        "{\"VpcEndpointId\": \"vpce-s3\", \"VpcEndpointType\": \"Gateway\", \"VpcId\": \"vpc-1\", "
        "\"ServiceName\": \"com.amazonaws.eu-west-1.s3\", \"State\": \"available\"}]}");
    struct control_result *r = fx_evaluate(&fx, "DDB-12", AS_OF);
    fx_expect(r, "vpc-endpoint/vpce-open", STATUS_REMEDIATE, "default full-access");
    fx_expect(r, "vpc-endpoint/vpce-narrow", STATUS_PASS, "restricted");
    assert_null(fx_finding(r, "vpce-s3"));
    fx_free(&fx);

    base(&fx, NULL);
    r = fx_evaluate(&fx, "DDB-12", AS_OF);
    assert_int_equal(r->status, STATUS_NOT_APPLICABLE);
    fx_free(&fx);
}

/* ---- DDB-14 ---- */

static void test_admin_access(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    struct control_result *r = fx_evaluate(&fx, "DDB-14", AS_OF);
    /* The bundled catalog's admin_allowlist is empty: admin is listed for approval. */
    fx_expect(r, ":role/admin", STATUS_REVIEW, "dynamodb:DeleteTable");
    fx_expect(r, ":role/admin", STATUS_REVIEW, "admin_allowlist is empty");
    fx_expect(r, "AWSServiceRoleForDynamoDBReplication", STATUS_PASS, "service-linked");
    assert_null(fx_finding(r, ":role/app"));
    assert_int_equal(r->status, STATUS_REVIEW);
    fx_free(&fx);
}

/* ---- DDB-15 ---- */

static void test_federation(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    struct control_result *r = fx_evaluate(&fx, "DDB-15", AS_OF);
    /* admin trusts the SAML provider (URL-encoded trust policy) and has DynamoDB access. */
    fx_expect(r, ":root", STATUS_PASS, "1 SAML and 0 OIDC providers; 1 role trusted");
    fx_expect(r, ":root", STATUS_PASS, "with DynamoDB access: admin");
    fx_free(&fx);

    base(&fx, NULL);
    char row[512];
    user_row(row, sizeof(row), "reader", "true", "false", "N/A", "N/A");
    credential_report(&fx, row);
    details(&fx, USER_ENTRY("reader", "\"readers\"", ""), NULL);
    fx_call(&fx, "global", "iam", "ListSAMLProviders", NULL, "{\"SAMLProviderList\": []}");
    r = fx_evaluate(&fx, "DDB-15", AS_OF);
    fx_expect(r, ":user/reader", STATUS_REMEDIATE, "console with a password");
    fx_expect(r, ":root", STATUS_REVIEW, "no SAML or OIDC identity provider");
    assert_int_equal(r->status, STATUS_REMEDIATE);
    fx_free(&fx);
}

/* ---- the access matrix from a snapshot ---- */

static void test_access_matrix_from_snapshot(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, ALLOW_ORDERS("{\"AWS\": \"444455556666\"}", ""));
    fx_evaluate(&fx, "DDB-11", AS_OF);
    json_t *matrix = policy_access_matrix(fx.snapshot, &fx.d);
    assert_non_null(matrix);
    json_t *principals = json_object_get(matrix, "principals");
    int external = 0, hostile = 0;
    size_t i;
    json_t *p;
    json_array_foreach(principals, i, p)
    {
        const char *arn = json_string_value(json_object_get(p, "arn"));
        external |= !strcmp(arn, "444455556666");
        hostile |= strstr(arn, HOSTILE_TEXT) != NULL;
    }
    assert_true(external && hostile);
    char *text = json_dumps(matrix, JSON_SORT_KEYS);
    assert_non_null(text);
    free(text);
    json_decref(matrix);
    fx_free(&fx);
}

/* ---- unused broad grants (DDB-03) ---- */

/* A role that holds AmazonDynamoDBFullAccess, with `last_used` as its RoleLastUsed member. */
#define FULL_ACCESS_ROLE(name, last_used)                                                          \
    ", {\"Path\": \"/\", \"RoleName\": \"" name "\", \"Arn\": \"arn:aws:iam::" ACCT ":role/" name  \
    "\", \"RolePolicyList\": [], \"AttachedManagedPolicies\": [{\"PolicyName\": "                  \
    "\"AmazonDynamoDBFullAccess\", \"PolicyArn\": "                                                \
    "\"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess\"}], \"RoleLastUsed\": " last_used "}"

static void test_unused_broad_grants(void **state)
{
    (void)state;
    struct fixture fx;
    /* admin has no RoleLastUsed at all: its use cannot be told. */
    base(&fx, NULL);
    struct control_result *r = fx_evaluate(&fx, "DDB-03", AS_OF);
    fx_expect(r, "policy/AmazonDynamoDBFullAccess", STATUS_REMEDIATE,
              "; whether 1 of them were used cannot be told from the evidence");
    fx_free(&fx);

    /* idle never used the role (an empty RoleLastUsed), stale last used it before the 90 days
     * before as_of (no audit period in the manifest), busy used it inside them. */
    base(&fx, NULL);
    details(&fx, NULL,
            FULL_ACCESS_ROLE("idle", "{}") FULL_ACCESS_ROLE(
                "stale", "{\"LastUsedDate\": \"2026-07-02T23:59:59+00:00\", \"Region\": "
                         "\"eu-west-1\"}")
                FULL_ACCESS_ROLE("busy", "{\"LastUsedDate\": "
                                         "\"2026-07-03T00:00:01+00:00\", "
                                         "\"Region\": \"eu-west-1\"}"));
    r = fx_evaluate(&fx, "DDB-03", AS_OF);
    fx_expect(r, "policy/AmazonDynamoDBFullAccess", STATUS_REMEDIATE,
              "it reaches 4 principals: arn:aws:iam::" ACCT ":role/admin, arn:aws:iam::" ACCT
              ":role/idle, arn:aws:iam::" ACCT ":role/stale, arn:aws:iam::" ACCT
              ":role/busy; 2 of them show no use since 2026-07-03 (RoleLastUsed, credential "
              "report): arn:aws:iam::" ACCT ":role/idle, arn:aws:iam::" ACCT ":role/stale");
    /* The finding cites where each idle role's last use is recorded. */
    const struct finding *f = fx_finding(r, "policy/AmazonDynamoDBFullAccess");
    size_t cited = 0;
    for (size_t i = 0; i < json_array_size(f->evidence); i++) {
        const char *pointer =
            json_string_value(json_object_get(json_array_get(f->evidence, i), "pointer"));
        cited += pointer && strstr(pointer, "/RoleLastUsed") != NULL;
    }
    assert_int_equal(cited, 2);
    fx_free(&fx);

    /* A user whose only broad grant is unused: the credential report shows its last use. */
    base(&fx, NULL);
    char row[512];
    user_row(row, sizeof(row), "etl", "false", "true", "2020-01-01T00:00:00+00:00",
             "2026-01-15T00:00:00+00:00");
    credential_report(&fx, row);
    char text[32768];
    snprintf(text, sizeof(text),
             "{\"UserDetailList\": [" USER_ENTRY("etl", "",
                                                 "") "], \"GroupDetailList\": [], "
                                                     "\"RoleDetailList\": [], \"Policies\": []}");
    /* USER_ENTRY attaches nothing; give etl the broad grant inline. */
    json_t *doc = json_loads(text, 0, NULL);
    json_t *user = json_array_get(json_object_get(doc, "UserDetailList"), 0);
    json_object_set_new(user, "UserPolicyList",
                        json_pack("[{s:s, s:{s:[{s:s, s:s, s:s}]}}]", "PolicyName", "etl-all",
                                  "PolicyDocument", "Statement", "Effect", "Allow", "Action",
                                  "dynamodb:PutItem", "Resource", "*"));
    char *dumped = json_dumps(doc, 0);
    fx_call(&fx, "global", "iam", "GetAccountAuthorizationDetails", NULL, dumped);
    free(dumped);
    json_decref(doc);
    r = fx_evaluate(&fx, "DDB-03", AS_OF);
    fx_expect(r, ":user/etl", STATUS_REMEDIATE,
              "none of them shows any use since 2026-07-03 (RoleLastUsed, credential report), "
              "so the grant is unused");
    fx_free(&fx);
}

/* ---- what the analysis cannot see ---- */

/* A table whose resource policy was denied or cannot be read may grant administrative or user
 * access nobody sees: DDB-02, 14 and 15 say so instead of passing on it. */
static void test_unseen_resource_policies_are_review(void **state)
{
    (void)state;
    static const char *const controls[] = {"DDB-02", "DDB-14", "DDB-15"};
    for (size_t c = 0; c < 3; c++) {
        struct fixture fx;
        base(&fx, NULL);
        fx_error(&fx, R, "dynamodb", "GetResourcePolicy", "audit", "AccessDeniedException");
        struct control_result *r = fx_evaluate(&fx, controls[c], AS_OF);
        fx_expect(r, "table/audit", STATUS_REVIEW, "denied");
        assert_int_not_equal(r->status, STATUS_PASS);
        fx_free(&fx);

        base(&fx, "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\"}]}");
        r = fx_evaluate(&fx, controls[c], AS_OF);
        fx_expect(r, "table/orders", STATUS_REVIEW, "the table's resource policy cannot be read");
        assert_int_not_equal(r->status, STATUS_PASS);
        fx_free(&fx);
    }
    /* Without the admin role DDB-14 would pass; an unseen policy keeps it at Review. */
    struct fixture fx;
    base(&fx, NULL);
    fx_error(&fx, R, "dynamodb", "GetResourcePolicy", "audit", "AccessDeniedException");
    fx_call(&fx, "global", "iam", "GetAccountAuthorizationDetails", NULL,
            "{\"UserDetailList\": [], \"GroupDetailList\": [], \"RoleDetailList\": [], "
            "\"Policies\": []}");
    struct control_result *r = fx_evaluate(&fx, "DDB-14", AS_OF);
    assert_null(fx_finding(r, ":root"));
    assert_int_equal(r->status, STATUS_REVIEW);
    fx_free(&fx);
}

/* report.json's access member states what the analysis could not see: a denied resource policy
 * as well as SCPs, RCPs and session policies. */
static void test_access_matrix_states_what_it_cannot_see(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    fx_error(&fx, R, "dynamodb", "GetResourcePolicy", "audit", "AccessDeniedException");
    fx_evaluate(&fx, "DDB-03", AS_OF);
    json_t *notes = json_object_get(fx.results->access, "notes");
    int denied = 0, scp = 0;
    size_t i;
    json_t *note;
    json_array_foreach(notes, i, note)
    {
        denied |= strstr(json_string_value(note),
                         "resource policy of table audit in " R " is denied") != NULL;
        scp |= strstr(json_string_value(note), "service control policies") != NULL;
    }
    assert_true(denied);
    assert_true(scp);
    fx_free(&fx);
}

/* ---- the access matrix's cells cite their own statements ---- */

/* The groups of access.statements[at] as "read write ..." (a static buffer). */
static const char *statement_groups(json_t *access, json_t *position)
{
    static char text[64];
    json_t *statement =
        json_array_get(json_object_get(access, "statements"), (size_t)json_integer_value(position));
    json_t *group;
    size_t i;
    text[0] = '\0';
    assert_non_null(statement);
    json_array_foreach(json_object_get(statement, "groups"), i, group)
    {
        size_t used = strlen(text);
        snprintf(text + used, sizeof(text) - used, "%s%s", used ? " " : "",
                 json_string_value(group));
    }
    return text;
}

/* The Sids of the statements of `row` whose groups include `group`, as "A B" (static buffer):
 * the statements a cell of that group cites. */
static const char *cell_sids(json_t *access, json_t *row, const char *group)
{
    static char text[128];
    json_t *position;
    size_t i;
    text[0] = '\0';
    json_array_foreach(json_object_get(row, "statements"), i, position)
    {
        char groups[80];
        snprintf(groups, sizeof(groups), " %s ", statement_groups(access, position));
        char wanted[32];
        snprintf(wanted, sizeof(wanted), " %s ", group);
        if (!strstr(groups, wanted))
            continue;
        json_t *statement = json_array_get(json_object_get(access, "statements"),
                                           (size_t)json_integer_value(position));
        size_t used = strlen(text);
        snprintf(text + used, sizeof(text) - used, "%s%s", used ? " " : "",
                 json_string_value(json_object_get(statement, "sid")));
    }
    return text;
}

#define CELL_ROLE(name, statements)                                                                \
    ", {\"Path\": \"/\", \"RoleName\": \"" name "\", \"Arn\": \"arn:aws:iam::" ACCT ":role/" name  \
    "\", \"RolePolicyList\": [{\"PolicyName\": \"" name "\", \"PolicyDocument\": {\"Version\": "   \
    "\"2012-10-17\", \"Statement\": [" statements "]}}], \"AttachedManagedPolicies\": []}"

static json_t *principal_named(json_t *access, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(access, "principals"), i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "name")), name))
            return p;
    }
    fail_msg("no principal %s in the access matrix", name);
    return NULL;
}

static void test_access_matrix_cells_cite_their_statements(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx, NULL);
    details(&fx, NULL,
            CELL_ROLE("reader-writer",
                      "{\"Sid\": \"ReadOnly\", \"Effect\": \"Allow\", \"Action\": "
                      "[\"dynamodb:GetItem\", \"dynamodb:Query\"], \"Resource\": \"*\"}, "
                      "{\"Sid\": \"WriteOnly\", \"Effect\": \"Allow\", \"Action\": "
                      "\"dynamodb:PutItem\", \"Resource\": \"*\"}")
                CELL_ROLE("no-delete",
                          "{\"Sid\": \"Everything\", \"Effect\": \"Allow\", \"Action\": "
                          "\"dynamodb:*\", \"Resource\": \"*\"}, {\"Sid\": \"KeepTables\", "
                          "\"Effect\": \"Deny\", \"Action\": \"dynamodb:DeleteTable\", "
                          "\"Resource\": \"*\"}"));
    fx_evaluate(&fx, "DDB-03", AS_OF);
    json_t *access = fx.results->access;
    assert_non_null(access);

    /* One read-only and one write statement: each cell cites only its own. */
    json_t *row = json_object_get(principal_named(access, "reader-writer"), "all_tables");
    assert_string_equal(json_string_value(json_object_get(row, "read")), "allowed");
    assert_string_equal(json_string_value(json_object_get(row, "write")), "allowed");
    assert_null(json_object_get(row, "admin"));
    assert_int_equal(json_array_size(json_object_get(row, "statements")), 2);
    assert_string_equal(cell_sids(access, row, "read"), "ReadOnly");
    assert_string_equal(cell_sids(access, row, "write"), "WriteOnly");
    assert_string_equal(cell_sids(access, row, "admin"), "");
    assert_string_equal(
        statement_groups(access, json_array_get(json_object_get(row, "statements"), 0)), "read");
    assert_string_equal(
        statement_groups(access, json_array_get(json_object_get(row, "statements"), 1)), "write");

    /* A Deny of DeleteTable narrows admin only: admin cites it beside the Allow, read and write
     * cite the Allow alone. */
    row = json_object_get(principal_named(access, "no-delete"), "all_tables");
    assert_string_equal(json_string_value(json_object_get(row, "admin")), "allowed");
    assert_null(strstr(json_string_value(json_object_get(row, "actions")), "DeleteTable "));
    assert_string_equal(cell_sids(access, row, "read"), "Everything");
    assert_string_equal(cell_sids(access, row, "write"), "Everything");
    assert_string_equal(cell_sids(access, row, "admin"), "Everything KeepTables");
    assert_string_equal(
        statement_groups(access, json_array_get(json_object_get(row, "statements"), 1)), "admin");
    fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authentication_roles_only),
        cmocka_unit_test(test_authentication_user_keys_and_root),
        cmocka_unit_test(test_authentication_missing_evidence),
        cmocka_unit_test(test_least_privilege),
        cmocka_unit_test(test_least_privilege_pass_and_conditions),
        cmocka_unit_test(test_malformed_policy_is_a_finding),
        cmocka_unit_test(test_transport),
        cmocka_unit_test(test_resource_policy_isolation),
        cmocka_unit_test(test_vpc_endpoint_policy),
        cmocka_unit_test(test_admin_access),
        cmocka_unit_test(test_federation),
        cmocka_unit_test(test_access_matrix_from_snapshot),
        cmocka_unit_test(test_unused_broad_grants),
        cmocka_unit_test(test_unseen_resource_policies_are_review),
        cmocka_unit_test(test_access_matrix_states_what_it_cannot_see),
        cmocka_unit_test(test_access_matrix_cells_cite_their_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
