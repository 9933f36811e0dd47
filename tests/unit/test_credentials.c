/* Credential resolution: every source, with fixture files in tests/data/credentials and a fake
 * transport that answers STS, IAM Identity Center, container and IMDS requests. Every fixture
 * secret contains "DO-NOT-LEAK"; each test checks that none reaches a diagnostic or a
 * description. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "credentials.h"
#include "diag.h"
#include "fsutil.h"

#define FIXTURES "tests/data/credentials"
#define SECRET_MARKER "DO-NOT-LEAK"

/* ---- Fake transport ---- */

struct scripted_answer {
    const char *method;
    const char *url_prefix;
    long status;
    const char *body;
    int used;
};

struct recorded_request {
    char *method;
    char *url;
    char *headers; /* "Name: value\n" lines */
    char *body;
};

struct fake_transport {
    struct scripted_answer answers[8];
    size_t answer_count;
    struct recorded_request requests[8];
    size_t request_count;
    int refuse; /* no answer at all, like a closed port */
};

static int fake_send(void *ctx, const struct credentials_http_request *request, long *status,
                     struct buf *body, struct diagnostics *d)
{
    struct fake_transport *fake = ctx;
    if (fake->request_count < 8) {
        struct recorded_request *r = &fake->requests[fake->request_count++];
        struct buf headers;
        buf_init(&headers, 0);
        for (size_t i = 0; i < request->header_count; i++)
            buf_printf(&headers, "%s: %s\n", request->headers[i].name, request->headers[i].value);
        buf_puts(&headers, "");
        r->method = strdup(request->method);
        r->url = strdup(request->url);
        r->headers = buf_detach(&headers);
        r->body = request->body ? strndup(request->body, request->body_len) : strdup("");
    }
    if (fake->refuse)
        return diag_error(d, DDB_ERUNTIME, "connection refused");
    for (size_t i = 0; i < fake->answer_count; i++) {
        struct scripted_answer *a = &fake->answers[i];
        if (!a->used && !strcmp(a->method, request->method) &&
            !strncmp(request->url, a->url_prefix, strlen(a->url_prefix))) {
            a->used = 1;
            *status = a->status;
            return buf_puts(body, a->body) < 0 ? diag_error(d, DDB_ERUNTIME, "too big") : 0;
        }
    }
    *status = 404;
    return 0;
}

static void fake_answer(struct fake_transport *fake, const char *method, const char *url_prefix,
                        long status, const char *body)
{
    assert_true(fake->answer_count < 8);
    fake->answers[fake->answer_count++] =
        (struct scripted_answer){method, url_prefix, status, body, 0};
}

static void fake_free(struct fake_transport *fake)
{
    for (size_t i = 0; i < fake->request_count; i++) {
        free(fake->requests[i].method);
        free(fake->requests[i].url);
        free(fake->requests[i].headers);
        free(fake->requests[i].body);
    }
    memset(fake, 0, sizeof(*fake));
}

/* ---- Environment and clock ---- */

static time_t fixed_now(void)
{
    return 1795431600; /* 2026-11-23T11:00:00Z */
}

static time_t clock_value;
static time_t movable_now(void)
{
    return clock_value;
}

static void clean_environment(void)
{
    static const char *const names[] = {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_USE_FIPS_ENDPOINT",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unsetenv(names[i]);
    setenv("HOME", FIXTURES "/home", 1);
    setenv("AWS_CONFIG_FILE", FIXTURES "/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/credentials", 1);
}

static void no_shared_files(void)
{
    setenv("AWS_CONFIG_FILE", FIXTURES "/does-not-exist-config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/does-not-exist-credentials", 1);
}

static int setup(void **state)
{
    (void)state;
    clean_environment();
    return 0;
}

/* Fails if any diagnostic or the description carries a fixture secret. */
static void assert_no_secret(const struct diagnostics *d, const struct credentials *c)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->entries[i].message, SECRET_MARKER))
            fail_msg("diagnostic leaks a secret: %s", d->entries[i].message);
    if (c && c->description && strstr(c->description, SECRET_MARKER))
        fail_msg("description leaks a secret: %s", c->description);
}

static struct credentials *load_ok(const struct credentials_options *options)
{
    struct credentials *c = NULL;
    struct diagnostics d;
    diag_init(&d);
    int rc = credentials_load(&c, options, &d);
    if (rc != 0)
        fail_msg("credentials_load: %s", diag_first_message(&d));
    assert_no_secret(&d, c);
    diag_free(&d);
    return c;
}

/* Expects failure with `code` and a first message containing `fragment`. */
static void load_fails(const struct credentials_options *options, int code, const char *fragment)
{
    struct credentials *c = NULL;
    struct diagnostics d;
    diag_init(&d);
    int rc = credentials_load(&c, options, &d);
    assert_null(c);
    if (rc != code)
        fail_msg("expected %d, got %d (%s)", code, rc, diag_first_message(&d));
    int matched = 0;
    for (size_t i = 0; i < d.count; i++)
        matched |= strstr(d.entries[i].message, fragment) != NULL;
    if (!matched)
        fail_msg("no message contains '%s' (first: %s)", fragment, diag_first_message(&d));
    assert_no_secret(&d, NULL);
    diag_free(&d);
}

/* ---- Environment and static profiles ---- */

static void test_environment(void **state)
{
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-" SECRET_MARKER, 1);
    setenv("AWS_SESSION_TOKEN", "env-token-" SECRET_MARKER, 1);
    struct credentials_options options = {.now = fixed_now};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIAENV");
    assert_string_equal(c->secret_access_key, "env-secret-" SECRET_MARKER);
    assert_string_equal(c->session_token, "env-token-" SECRET_MARKER);
    assert_int_equal(c->expiration, 0);
    assert_string_equal(c->description, "environment variables (AWS_ACCESS_KEY_ID)");
    credentials_free(c);

    /* AWS_PROFILE does not outrank the environment's keys; --profile does. */
    setenv("AWS_PROFILE", "base", 1);
    c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIAENV");
    credentials_free(c);
    options.profile = "base";
    c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIABASEEXAMPLE");
    credentials_free(c);

    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_PROFILE");
    options.profile = NULL;
    load_fails(&options, DDB_EUSAGE, "partial credentials");
}

static void test_shared_credentials_file(void **state)
{
    (void)state;
    struct credentials_options options = {.now = fixed_now};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIADEFAULTEXAMPLE");
    assert_string_equal(c->secret_access_key, "default-secret-" SECRET_MARKER);
    assert_null(c->session_token);
    assert_string_equal(c->description,
                        "credentials from profile 'default' (shared credentials file)");
    credentials_free(c);

    options.profile = "base";
    c = load_ok(&options);
    assert_string_equal(c->session_token, "base-token-" SECRET_MARKER);
    assert_string_equal(c->description,
                        "credentials from profile 'base' (shared credentials file)");
    credentials_free(c);

    setenv("AWS_PROFILE", "static-config", 1);
    options.profile = NULL;
    c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIACONFIGEXAMPLE");
    assert_string_equal(c->description, "credentials from profile 'static-config' (config file)");
    credentials_free(c);

    /* Nested blocks ("s3 =" + indented lines) are skipped, the keys after them read. */
    options.profile = "nested";
    c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIANESTED");
    credentials_free(c);
}

static void test_profile_errors(void **state)
{
    (void)state;
    struct credentials_options options = {.now = fixed_now, .profile = "nope"};
    load_fails(&options, DDB_EUSAGE, "profile 'nope' not found");
    options.profile = "partial";
    load_fails(&options, DDB_EUSAGE, "only one of aws_access_key_id");
    options.profile = "nothing";
    load_fails(&options, DDB_EUSAGE, "profile 'nothing' has no credentials");

    options.profile = NULL;
    setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/malformed-credentials", 1);
    struct credentials *c = NULL;
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(credentials_load(&c, &options, &d), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "expected 'name = value'"));
    assert_int_equal(d.entries[0].line, 3);
    assert_int_equal(d.entries[0].col, 0); /* no column: the printer never echoes the line */
    assert_no_secret(&d, NULL);
    diag_free(&d);

    no_shared_files();
    load_fails(&options, DDB_EUSAGE, "no AWS credentials found");
}

/* ---- Assume role ---- */

static const char *const assume_role_answer =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/Audit/s</Arn>"
    "<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAROLE</AccessKeyId>\n"
    "      <SecretAccessKey>role-secret-DO-NOT-LEAK</SecretAccessKey>\n"
    "      <SessionToken>role-token-DO-NOT-LEAK</SessionToken>\n"
    "      <Expiration>2026-11-23T12:00:00.123Z</Expiration>\n"
    "    </Credentials>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

static void test_assume_role(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    fake_answer(&fake, "POST", "https://sts.eu-central-1.amazonaws.com/", 200, assume_role_answer);
    struct credentials_options options = {
        .now = fixed_now, .profile = "role", .transport = &transport};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIAROLE");
    assert_string_equal(c->secret_access_key, "role-secret-" SECRET_MARKER);
    assert_string_equal(c->session_token, "role-token-" SECRET_MARKER);
    assert_int_equal(c->expiration, fixed_now() + 3600);
    assert_string_equal(c->description,
                        "assumed role arn:aws:iam::123456789012:role/Audit via profile 'role'");

    assert_int_equal(fake.request_count, 1);
    const struct recorded_request *r = &fake.requests[0];
    assert_string_equal(r->method, "POST");
    /* The profile's region chooses the regional STS endpoint. */
    assert_string_equal(r->url, "https://sts.eu-central-1.amazonaws.com/");
    assert_non_null(strstr(r->body, "Action=AssumeRole&Version=2011-06-15"));
    assert_non_null(strstr(r->body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FAudit"));
    assert_non_null(strstr(r->body, "RoleSessionName=audit-session"));
    assert_non_null(strstr(r->body, "DurationSeconds=1800"));
    assert_non_null(strstr(r->body, "ExternalId=ext-123"));
    assert_non_null(strstr(r->headers, "Host: sts.eu-central-1.amazonaws.com\n"));
    assert_non_null(strstr(r->headers, "X-Amz-Date: 20261123T110000Z\n"));
    assert_non_null(strstr(r->headers, "X-Amz-Security-Token: base-token-" SECRET_MARKER));
    assert_non_null(strstr(r->headers, "Authorization: AWS4-HMAC-SHA256 Credential=AKIABASEEXAMPLE/"
                                       "20261123/eu-central-1/sts/aws4_request, SignedHeaders="
                                       "content-type;host;x-amz-date;x-amz-security-token, "));
    credentials_free(c);
    fake_free(&fake);

    /* --region beats the profile's region. */
    fake_answer(&fake, "POST", "https://sts.ap-south-1.amazonaws.com/", 200, assume_role_answer);
    options.region = "ap-south-1";
    c = load_ok(&options);
    credentials_free(c);
    fake_free(&fake);
}

static void test_assume_role_chain_and_errors(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    fake_answer(&fake, "POST", "https://sts.us-east-1.amazonaws.com/", 200, assume_role_answer);
    fake_answer(&fake, "POST", "https://sts.us-east-1.amazonaws.com/", 200,
                "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
                "<AccessKeyId>ASIASECOND</AccessKeyId>"
                "<SecretAccessKey>second-secret-DO-NOT-LEAK</SecretAccessKey>"
                "<SessionToken>second-token-DO-NOT-LEAK</SessionToken>"
                "<Expiration>2026-11-23T11:30:00Z</Expiration>"
                "</Credentials></AssumeRoleResult></AssumeRoleResponse>");
    struct credentials_options options = {
        .now = fixed_now, .profile = "chain", .transport = &transport, .region = "us-east-1"};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIASECOND");
    assert_int_equal(fake.request_count, 2);
    /* The second call is signed with the first role's credentials. */
    assert_non_null(strstr(fake.requests[1].headers, "Credential=ASIAROLE/"));
    assert_non_null(strstr(fake.requests[1].body, "role%2FSecond"));
    credentials_free(c);
    fake_free(&fake);

    fake_answer(&fake, "POST", "https://sts.us-east-1.amazonaws.com/", 403,
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                "<Message>User is not authorized to perform: sts:AssumeRole</Message></Error>"
                "</ErrorResponse>");
    options.profile = "role";
    load_fails(&options, DDB_ERUNTIME,
               "sts:AssumeRole for arn:aws:iam::123456789012:role/Audit failed: HTTP 403 "
               "AccessDenied: User is not authorized");
    fake_free(&fake);

    fake_answer(&fake, "POST", "https://sts.us-east-1.amazonaws.com/", 200, "<not-xml");
    load_fails(&options, DDB_EINPUT, "no complete Credentials element");
    fake_free(&fake);

    fake.refuse = 1;
    load_fails(&options, DDB_ERUNTIME, "no response");
    fake_free(&fake);

    options.profile = "loop-a";
    load_fails(&options, DDB_EUSAGE, "source_profile loop: 'loop-a' -> 'loop-b' -> 'loop-a'");
    options.profile = "mfa";
    load_fails(&options, DDB_EUSAGE, "requires MFA");
    options.profile = "bad-source";
    load_fails(&options, DDB_EUSAGE, "unknown credential_source 'Somewhere'");
    options.profile = "env-role";
    load_fails(&options, DDB_EUSAGE, "AWS_ACCESS_KEY_ID is not set");

    /* Without a transport, a role is an error rather than a silent fallback. */
    options.transport = NULL;
    options.profile = "role";
    load_fails(&options, DDB_EUSAGE, "needs network access");
}

static void test_credential_source_environment(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    fake_answer(&fake, "POST", "http://127.0.0.1:5000/", 200, assume_role_answer);
    setenv("AWS_ACCESS_KEY_ID", "AKIAENVSOURCE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-" SECRET_MARKER, 1);
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000", 1);
    struct credentials_options options = {
        .now = fixed_now, .profile = "env-role", .transport = &transport};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIAROLE");
    /* The STS endpoint override applies; the profile has no region, so us-east-1 signs. */
    assert_string_equal(fake.requests[0].url, "http://127.0.0.1:5000/");
    assert_non_null(strstr(fake.requests[0].headers, "Host: 127.0.0.1:5000\n"));
    assert_non_null(
        strstr(fake.requests[0].headers, "Credential=AKIAENVSOURCE/20261123/us-east-1/sts/"));
    credentials_free(c);
    fake_free(&fake);
}

/* ---- Web identity ---- */

static const char *const web_identity_answer =
    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
    "<AccessKeyId>ASIAWEB</AccessKeyId>"
    "<SecretAccessKey>web-secret-DO-NOT-LEAK</SecretAccessKey>"
    "<SessionToken>web-token-DO-NOT-LEAK</SessionToken>"
    "<Expiration>2026-11-23T12:00:00Z</Expiration>"
    "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";

static void test_web_identity(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    fake_answer(&fake, "POST", "https://sts.us-west-2.amazonaws.com/", 200, web_identity_answer);
    no_shared_files();
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", FIXTURES "/web-identity-token", 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/Pod", 1);
    setenv("AWS_ROLE_SESSION_NAME", "pod-session", 1);
    setenv("AWS_REGION", "us-west-2", 1);
    struct credentials_options options = {.now = fixed_now, .transport = &transport};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIAWEB");
    assert_string_equal(c->description, "web identity role arn:aws:iam::123456789012:role/Pod "
                                        "(AWS_WEB_IDENTITY_TOKEN_FILE)");
    const struct recorded_request *r = &fake.requests[0];
    assert_non_null(strstr(r->body, "Action=AssumeRoleWithWebIdentity"));
    assert_non_null(strstr(r->body, "RoleSessionName=pod-session"));
    /* The trailing newline of the token file is not part of the token. */
    assert_non_null(strstr(r->body, "WebIdentityToken=web-identity-token-" SECRET_MARKER));
    assert_null(strstr(r->body, "WebIdentityToken=web-identity-token-" SECRET_MARKER "%0A"));
    assert_null(strstr(r->headers, "Authorization")); /* the call is unsigned */
    credentials_free(c);
    fake_free(&fake);

    /* The same from a profile. */
    clean_environment();
    fake_answer(&fake, "POST", "https://sts.", 200, web_identity_answer);
    options.profile = "webid";
    c = load_ok(&options);
    assert_string_equal(c->description,
                        "web identity role arn:aws:iam::123456789012:role/WebId (profile 'webid')");
    assert_non_null(strstr(fake.requests[0].body, "RoleSessionName=webid-session"));
    credentials_free(c);
    fake_free(&fake);

    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", FIXTURES "/missing-token", 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/Pod", 1);
    options.profile = NULL;
    load_fails(&options, DDB_EINPUT, "web identity token file");
}

/* ---- IAM Identity Center ---- */

static const char *const sso_answer =
    "{\"roleCredentials\": {\"accessKeyId\": \"ASIASSO\", \"secretAccessKey\": "
    "\"sso-secret-DO-NOT-LEAK\", \"sessionToken\": \"sso-token-DO-NOT-LEAK\", \"expiration\": "
    "1795435200000}}";

static void test_sso(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    fake_answer(&fake, "GET", "https://portal.sso.us-east-2.amazonaws.com/", 200, sso_answer);
    struct credentials_options options = {
        .now = fixed_now, .profile = "sso-new", .transport = &transport};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIASSO");
    assert_string_equal(c->session_token, "sso-token-" SECRET_MARKER);
    assert_int_equal(c->expiration, 1795435200);
    assert_string_equal(c->description, "IAM Identity Center role ReadOnly in account "
                                        "111122223333 via profile 'sso-new'");
    assert_string_equal(fake.requests[0].url,
                        "https://portal.sso.us-east-2.amazonaws.com/federation/credentials?"
                        "account_id=111122223333&role_name=ReadOnly");
    assert_string_equal(fake.requests[0].headers,
                        "x-amz-sso_bearer_token: sso-access-token-" SECRET_MARKER "\n");
    credentials_free(c);
    fake_free(&fake);

    fake_answer(&fake, "GET", "https://portal.sso.eu-central-1.amazonaws.com/", 200, sso_answer);
    options.profile = "sso-legacy";
    c = load_ok(&options);
    assert_non_null(strstr(fake.requests[0].headers, "legacy-access-token-"));
    assert_non_null(strstr(fake.requests[0].url, "account_id=444455556666&role_name=Auditor"));
    credentials_free(c);
    fake_free(&fake);

    options.profile = "sso-expired";
    load_fails(&options, DDB_EUSAGE, "cached token has expired; run `aws sso login");
    options.profile = "sso-logged-out";
    load_fails(&options, DDB_EUSAGE, "not logged in");
    fake_answer(&fake, "GET", "https://portal.sso.us-east-2.amazonaws.com/", 403, "{}");
    options.profile = "sso-new";
    load_fails(&options, DDB_ERUNTIME, "GetRoleCredentials failed with HTTP 403");
    fake_free(&fake);
}

/* ---- credential_process ---- */

static void test_credential_process(void **state)
{
    (void)state;
    struct credentials_options options = {.now = fixed_now, .profile = "process"};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIAPROCESS");
    assert_string_equal(c->secret_access_key, "process-secret-" SECRET_MARKER);
    assert_string_equal(c->session_token, "process-token-" SECRET_MARKER);
    assert_int_equal(c->expiration, fixed_now() + 7200);
    assert_string_equal(c->description, "credential_process of profile 'process'");
    credentials_free(c);

    options.profile = "process-bad-version";
    load_fails(&options, DDB_EINPUT, "unsupported Version");
    options.profile = "process-fails";
    load_fails(&options, DDB_ERUNTIME, "exited with status 3");
    options.profile = "process-missing";
    load_fails(&options, DDB_ERUNTIME, "cannot run '/nonexistent/ddbaudit-helper'");
    options.profile = "process-unbalanced";
    load_fails(&options, DDB_EINPUT, "cannot split the command line");
}

/* ---- Container and IMDS ---- */

static const char *const container_answer =
    "{\"AccessKeyId\": \"ASIACONTAINER\", \"SecretAccessKey\": \"container-secret-DO-NOT-LEAK\", "
    "\"Token\": \"container-token-DO-NOT-LEAK\", \"Expiration\": \"2026-11-23T17:00:00Z\"}";

static void test_container(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    no_shared_files();
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    fake_answer(&fake, "GET", "http://169.254.170.2/v2/credentials/abc", 200, container_answer);
    struct credentials_options options = {.now = fixed_now, .transport = &transport};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIACONTAINER");
    assert_string_equal(c->session_token, "container-token-" SECRET_MARKER);
    assert_string_equal(c->description,
                        "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)");
    assert_string_equal(fake.requests[0].headers, "");
    credentials_free(c);
    fake_free(&fake);

    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost:8080/creds", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", FIXTURES "/container-token", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set", 1);
    fake_answer(&fake, "GET", "http://localhost:8080/creds", 200, container_answer);
    c = load_ok(&options);
    assert_string_equal(fake.requests[0].headers,
                        "Authorization: container-auth-token-" SECRET_MARKER "\n");
    credentials_free(c);
    fake_free(&fake);

    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds", 1);
    load_fails(&options, DDB_EUSAGE, "must be https, or http to loopback");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x", 1);
    fake_answer(&fake, "GET", "https://creds.example.com/x", 500, "oops");
    load_fails(&options, DDB_ERUNTIME, "HTTP 500");
    fake_free(&fake);
}

static const char *const imds_answer =
    "{\"Code\": \"Success\", \"LastUpdated\": \"2026-11-23T10:00:00Z\", \"Type\": "
    "\"AWS-HMAC\", \"AccessKeyId\": \"ASIAIMDS\", \"SecretAccessKey\": "
    "\"imds-secret-DO-NOT-LEAK\", \"Token\": \"imds-token-DO-NOT-LEAK\", \"Expiration\": "
    "\"2026-11-23T11:04:00Z\"}";

static void test_imds(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    no_shared_files();
    fake_answer(&fake, "PUT", "http://169.254.169.254/latest/api/token", 200,
                "imds-session-DO-NOT-LEAK");
    fake_answer(&fake, "GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                200, "audit-role\n");
    fake_answer(&fake, "GET",
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/audit-role", 200,
                imds_answer);
    struct credentials_options options = {.now = fixed_now, .transport = &transport};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIAIMDS");
    assert_string_equal(c->description, "EC2 instance role 'audit-role' (IMDSv2)");
    assert_int_equal(fake.request_count, 3);
    assert_string_equal(fake.requests[0].method, "PUT");
    assert_string_equal(fake.requests[0].headers, "X-aws-ec2-metadata-token-ttl-seconds: 21600\n");
    assert_string_equal(fake.requests[1].headers,
                        "X-aws-ec2-metadata-token: imds-session-" SECRET_MARKER "\n");
    assert_string_equal(fake.requests[2].url,
                        "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
                        "audit-role");
    credentials_free(c);
    fake_free(&fake);

    /* Not on EC2: no answer means "no credentials", not a transport error. */
    fake.refuse = 1;
    load_fails(&options, DDB_EUSAGE, "no AWS credentials found");
    fake_free(&fake);

    /* Disabled: IMDS is never asked. */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    load_fails(&options, DDB_EUSAGE, "no AWS credentials found");
    assert_int_equal(fake.request_count, 0);
    fake_free(&fake);
}

/* ---- Refresh ---- */

static void test_refresh(void **state)
{
    (void)state;
    struct fake_transport fake = {0};
    struct credentials_transport transport = {fake_send, &fake};
    no_shared_files();
    fake_answer(&fake, "PUT", "http://169.254.169.254/latest/api/token", 200, "t1");
    fake_answer(&fake, "GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                200, "audit-role");
    fake_answer(&fake, "GET",
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/audit-role", 200,
                imds_answer);         /* expires 11:04 */
    clock_value = fixed_now() - 3600; /* 10:00: an hour before expiry */
    struct credentials_options options = {.now = movable_now, .transport = &transport};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "ASIAIMDS");

    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(credentials_refresh_if_needed(c, &d), 0);
    assert_int_equal(fake.request_count, 3); /* not yet inside the 5-minute window */

    fake_answer(&fake, "PUT", "http://169.254.169.254/latest/api/token", 200, "t2");
    fake_answer(&fake, "GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                200, "audit-role");
    fake_answer(&fake, "GET",
                "http://169.254.169.254/latest/meta-data/iam/security-credentials/audit-role", 200,
                "{\"Code\": \"Success\", \"AccessKeyId\": \"ASIAFRESH\", \"SecretAccessKey\": "
                "\"fresh-secret-DO-NOT-LEAK\", \"Token\": \"fresh-token-DO-NOT-LEAK\", "
                "\"Expiration\": \"2026-11-23T17:00:00Z\"}");
    clock_value = fixed_now(); /* 11:00, four minutes before expiry */
    assert_int_equal(credentials_refresh_if_needed(c, &d), 0);
    assert_string_equal(c->access_key_id, "ASIAFRESH");
    assert_string_equal(c->secret_access_key, "fresh-secret-" SECRET_MARKER);
    assert_int_equal(c->expiration, fixed_now() + 6 * 3600);

    /* A failed refresh keeps the old values and reports. */
    clock_value = fixed_now() + 6 * 3600;
    fake.refuse = 1;
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    assert_int_equal(credentials_refresh_if_needed(c, &d), DDB_EUSAGE);
    assert_string_equal(c->access_key_id, "ASIAFRESH");
    assert_no_secret(&d, c);
    diag_free(&d);
    credentials_free(c);
    fake_free(&fake);

    /* Static credentials never refresh. */
    clean_environment();
    struct credentials_options static_options = {.now = fixed_now};
    c = load_ok(&static_options);
    diag_init(&d);
    assert_int_equal(credentials_refresh_if_needed(c, &d), 0);
    assert_int_equal(d.count, 0);
    diag_free(&d);
    credentials_free(c);
}

/* ---- Region ---- */

static void expect_region(const struct credentials_options *options, const char *expected)
{
    char *region = NULL;
    struct diagnostics d;
    diag_init(&d);
    int rc = credentials_resolve_region(&region, options, &d);
    if (rc != 0)
        fail_msg("region: %s", diag_first_message(&d));
    assert_string_equal(region, expected);
    free(region);
    diag_free(&d);
}

static void test_region(void **state)
{
    (void)state;
    struct credentials_options options = {0};
    expect_region(&options, "eu-west-1"); /* [default] region */
    options.profile = "static-config";
    expect_region(&options, "us-west-2");
    setenv("AWS_DEFAULT_REGION", "ca-central-1", 1);
    expect_region(&options, "ca-central-1");
    setenv("AWS_REGION", "sa-east-1", 1);
    expect_region(&options, "sa-east-1");
    options.region = "ap-northeast-1";
    expect_region(&options, "ap-northeast-1");

    clean_environment();
    no_shared_files();
    char *region = NULL;
    struct diagnostics d;
    diag_init(&d);
    options.region = NULL;
    options.profile = NULL;
    assert_int_equal(credentials_resolve_region(&region, &options, &d), DDB_EUSAGE);
    assert_null(region);
    assert_non_null(strstr(diag_first_message(&d), "--region"));
    diag_free(&d);
}

/* Every failure path, printed the way main() prints it (with source excerpts), must not show a
 * secret: the excerpt printer reads lines back from the files, which hold keys. */
static void test_printed_diagnostics_never_contain_secrets(void **state)
{
    (void)state;
    static const char *const failing_profiles[] = {
        "partial",
        "nothing",
        "loop-a",
        "mfa",
        "bad-source",
        "env-role",
        "sso-expired",
        "sso-logged-out",
        "process-fails",
        "process-missing",
        "process-unbalanced",
        "process-bad-version",
        "role",
        "chain",
        "webid",
        "sso-new",
    };
    struct fake_transport fake = {.refuse = 1};
    struct credentials_transport transport = {fake_send, &fake};
    struct diagnostics d;
    diag_init(&d);
    for (size_t i = 0; i < sizeof(failing_profiles) / sizeof(failing_profiles[0]); i++) {
        struct credentials_options options = {
            .now = fixed_now, .profile = failing_profiles[i], .transport = &transport};
        struct credentials *c = NULL;
        assert_true(credentials_load(&c, &options, &d) < 0);
        assert_null(c);
    }
    setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/malformed-credentials", 1);
    struct credentials_options options = {.now = fixed_now};
    struct credentials *c = NULL;
    assert_true(credentials_load(&c, &options, &d) < 0);
    fake_free(&fake);

    char *printed = NULL;
    size_t printed_len = 0;
    FILE *out = open_memstream(&printed, &printed_len);
    assert_non_null(out);
    diag_print(&d, out);
    fclose(out);
    assert_true(d.count >= 17);
    if (strstr(printed, SECRET_MARKER))
        fail_msg("printed diagnostics leak a secret:\n%s", printed);
    free(printed);
    diag_free(&d);
}

/* configparser details: CRLF, "key: value", upper-case keys, comments, spaced section names. */
static void test_ini_dialect(void **state)
{
    (void)state;
    char directory[] = "/tmp/ddbaudit-credentials-XXXXXX";
    assert_non_null(mkdtemp(directory));
    char *path = fs_join(directory, "credentials");
    const char *text = "# comment\r\n"
                       "[ spaced ]\r\n"
                       "AWS_ACCESS_KEY_ID: AKIACOLON\r\n"
                       "; another comment\r\n"
                       "aws_secret_access_key =   colon-secret-DO-NOT-LEAK  \r\n"
                       "\r\n";
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(fs_write_atomic(path, text, strlen(text), &d), 0);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    struct credentials_options options = {.now = fixed_now, .profile = "spaced"};
    struct credentials *c = load_ok(&options);
    assert_string_equal(c->access_key_id, "AKIACOLON");
    assert_string_equal(c->secret_access_key, "colon-secret-" SECRET_MARKER);
    credentials_free(c);
    assert_int_equal(fs_remove_tree(directory, &d), 0);
    diag_free(&d);
    free(path);
}

static void test_parse_time(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(credentials_parse_time(&t, "2026-11-23T11:00:00Z"), 0);
    assert_int_equal(t, fixed_now());
    assert_int_equal(credentials_parse_time(&t, "2026-11-23T11:00:00.5Z"), 0);
    assert_int_equal(t, fixed_now());
    assert_int_equal(credentials_parse_time(&t, "2026-11-23T11:00:00+00:00"), 0);
    assert_int_equal(t, fixed_now());
    assert_int_equal(credentials_parse_time(&t, "2026-11-23T11:00:00"), -1);
    assert_int_equal(credentials_parse_time(&t, "2026-13-23T11:00:00Z"), -1);
    assert_int_equal(credentials_parse_time(&t, "2026-11-23T11:00:00+02:00"), -1);
    assert_int_equal(credentials_parse_time(&t, ""), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_environment, setup),
        cmocka_unit_test_setup(test_shared_credentials_file, setup),
        cmocka_unit_test_setup(test_profile_errors, setup),
        cmocka_unit_test_setup(test_assume_role, setup),
        cmocka_unit_test_setup(test_assume_role_chain_and_errors, setup),
        cmocka_unit_test_setup(test_credential_source_environment, setup),
        cmocka_unit_test_setup(test_web_identity, setup),
        cmocka_unit_test_setup(test_sso, setup),
        cmocka_unit_test_setup(test_credential_process, setup),
        cmocka_unit_test_setup(test_container, setup),
        cmocka_unit_test_setup(test_imds, setup),
        cmocka_unit_test_setup(test_refresh, setup),
        cmocka_unit_test_setup(test_region, setup),
        cmocka_unit_test_setup(test_printed_diagnostics_never_contain_secrets, setup),
        cmocka_unit_test_setup(test_ini_dialect, setup),
        cmocka_unit_test_setup(test_parse_time, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
