/* Endpoint resolution: partitions, global services, FIPS, URL overrides and the https rule.
 * Expected hostnames are what botocore 1.43 resolves for the same inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "endpoints.h"

static void clear_environment(void)
{
    static const char *const names[] = {
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unsetenv(names[i]);
}

static int setup(void **state)
{
    (void)state;
    clear_environment();
    return 0;
}

struct expectation {
    const char *service;
    const char *region;
    bool fips;
    const char *url;
    const char *signing_region;
    const char *signing_name;
    const char *partition;
};

static void check(const struct expectation *e)
{
    struct endpoint endpoint;
    struct diagnostics d;
    diag_init(&d);
    struct endpoint_options options = {.use_fips = e->fips};
    int rc = endpoints_resolve(&endpoint, e->service, e->region, &options, &d);
    if (rc != 0)
        fail_msg("%s %s: %s", e->service, e->region, diag_first_message(&d));
    assert_string_equal(endpoint.url, e->url);
    assert_string_equal(endpoint.scheme, "https");
    assert_int_equal(endpoint.port, 443);
    assert_string_equal(endpoint.base_path, "");
    assert_string_equal(endpoint.signing_region, e->signing_region);
    assert_string_equal(endpoint.signing_name, e->signing_name);
    assert_string_equal(endpoint.partition, e->partition);
    assert_false(endpoint.overridden);
    endpoint_free(&endpoint);
    diag_free(&d);
}

static void test_aws_partition(void **state)
{
    (void)state;
    static const struct expectation cases[] = {
        {"dynamodb", "us-east-1", false, "https://dynamodb.us-east-1.amazonaws.com", "us-east-1",
         "dynamodb", "aws"},
        {"dynamodbstreams", "eu-west-1", false, "https://streams.dynamodb.eu-west-1.amazonaws.com",
         "eu-west-1", "dynamodb", "aws"},
        {"application-autoscaling", "eu-west-1", false,
         "https://application-autoscaling.eu-west-1.amazonaws.com", "eu-west-1",
         "application-autoscaling", "aws"},
        {"cloudwatch", "ap-southeast-2", false, "https://monitoring.ap-southeast-2.amazonaws.com",
         "ap-southeast-2", "monitoring", "aws"},
        {"logs", "us-west-2", false, "https://logs.us-west-2.amazonaws.com", "us-west-2", "logs",
         "aws"},
        {"events", "us-west-2", false, "https://events.us-west-2.amazonaws.com", "us-west-2",
         "events", "aws"},
        {"dax", "us-east-2", false, "https://dax.us-east-2.amazonaws.com", "us-east-2", "dax",
         "aws"},
        {"backup", "us-east-2", false, "https://backup.us-east-2.amazonaws.com", "us-east-2",
         "backup", "aws"},
        {"kms", "eu-central-1", false, "https://kms.eu-central-1.amazonaws.com", "eu-central-1",
         "kms", "aws"},
        {"ec2", "eu-central-1", false, "https://ec2.eu-central-1.amazonaws.com", "eu-central-1",
         "ec2", "aws"},
        {"cloudtrail", "sa-east-1", false, "https://cloudtrail.sa-east-1.amazonaws.com",
         "sa-east-1", "cloudtrail", "aws"},
        {"sts", "eu-west-1", false, "https://sts.eu-west-1.amazonaws.com", "eu-west-1", "sts",
         "aws"},
        {"iam", "eu-west-1", false, "https://iam.amazonaws.com", "us-east-1", "iam", "aws"},
        {"sso", "eu-west-1", false, "https://portal.sso.eu-west-1.amazonaws.com", "eu-west-1",
         "awsssoportal", "aws"},
        {"organizations", "eu-west-1", false, "https://organizations.us-east-1.amazonaws.com",
         "us-east-1", "organizations", "aws"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void test_china_partition(void **state)
{
    (void)state;
    static const struct expectation cases[] = {
        {"dynamodb", "cn-north-1", false, "https://dynamodb.cn-north-1.amazonaws.com.cn",
         "cn-north-1", "dynamodb", "aws-cn"},
        {"kms", "cn-northwest-1", false, "https://kms.cn-northwest-1.amazonaws.com.cn",
         "cn-northwest-1", "kms", "aws-cn"},
        {"iam", "cn-northwest-1", false, "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1",
         "iam", "aws-cn"},
        {"sts", "cn-northwest-1", false, "https://sts.cn-northwest-1.amazonaws.com.cn",
         "cn-northwest-1", "sts", "aws-cn"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void test_govcloud_partition(void **state)
{
    (void)state;
    static const struct expectation cases[] = {
        {"dynamodb", "us-gov-west-1", false, "https://dynamodb.us-gov-west-1.amazonaws.com",
         "us-gov-west-1", "dynamodb", "aws-us-gov"},
        {"iam", "us-gov-east-1", false, "https://iam.us-gov.amazonaws.com", "us-gov-west-1", "iam",
         "aws-us-gov"},
        {"sts", "us-gov-east-1", false, "https://sts.us-gov-east-1.amazonaws.com", "us-gov-east-1",
         "sts", "aws-us-gov"},
        /* In GovCloud some regional endpoints already are the FIPS ones. */
        {"cloudtrail", "us-gov-west-1", true, "https://cloudtrail.us-gov-west-1.amazonaws.com",
         "us-gov-west-1", "cloudtrail", "aws-us-gov"},
        {"dynamodb", "us-gov-west-1", true, "https://dynamodb-fips.us-gov-west-1.amazonaws.com",
         "us-gov-west-1", "dynamodb", "aws-us-gov"},
        {"iam", "us-gov-west-1", true, "https://iam.us-gov.amazonaws.com", "us-gov-west-1", "iam",
         "aws-us-gov"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void test_fips(void **state)
{
    (void)state;
    static const struct expectation cases[] = {
        {"dynamodb", "us-east-1", true, "https://dynamodb-fips.us-east-1.amazonaws.com",
         "us-east-1", "dynamodb", "aws"},
        {"kms", "us-west-2", true, "https://kms-fips.us-west-2.amazonaws.com", "us-west-2", "kms",
         "aws"},
        {"sts", "us-east-2", true, "https://sts-fips.us-east-2.amazonaws.com", "us-east-2", "sts",
         "aws"},
        {"iam", "us-east-1", true, "https://iam-fips.amazonaws.com", "us-east-1", "iam", "aws"},
        {"dynamodbstreams", "us-east-1", true,
         "https://streams.dynamodb-fips.us-east-1.amazonaws.com", "us-east-1", "dynamodb", "aws"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);

    /* The environment turns FIPS on too. */
    setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
    struct expectation from_env = {
        "kms",          "ca-central-1", false, "https://kms-fips.ca-central-1.amazonaws.com",
        "ca-central-1", "kms",          "aws"};
    check(&from_env);
    unsetenv("AWS_USE_FIPS_ENDPOINT");

    /* China has no FIPS endpoints. */
    struct endpoint endpoint;
    struct diagnostics d;
    diag_init(&d);
    struct endpoint_options options = {.use_fips = true};
    assert_int_equal(endpoints_resolve(&endpoint, "dynamodb", "cn-north-1", &options, &d),
                     DDB_EUSAGE);
    assert_non_null(strstr(diag_first_message(&d), "FIPS"));
    assert_null(endpoint.host);
    diag_free(&d);
}

static void resolve_ok(struct endpoint *endpoint, const char *service, const char *region,
                       const struct endpoint_options *options)
{
    struct diagnostics d;
    diag_init(&d);
    int rc = endpoints_resolve(endpoint, service, region, options, &d);
    if (rc != 0)
        fail_msg("%s: %s", service, diag_first_message(&d));
    diag_free(&d);
}

static void test_overrides(void **state)
{
    (void)state;
    struct endpoint endpoint;

    setenv("AWS_ENDPOINT_URL", "https://proxy.example.com:8443/base/", 1);
    resolve_ok(&endpoint, "kms", "eu-west-1", NULL);
    assert_true(endpoint.overridden);
    assert_string_equal(endpoint.host, "proxy.example.com");
    assert_int_equal(endpoint.port, 8443);
    assert_string_equal(endpoint.base_path, "/base");
    assert_string_equal(endpoint.url, "https://proxy.example.com:8443/base");
    assert_string_equal(endpoint.signing_region, "eu-west-1");
    assert_string_equal(endpoint.signing_name, "kms");
    endpoint_free(&endpoint);

    /* The service's own variable beats the general one. */
    setenv("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", "http://127.0.0.1:4566", 1);
    resolve_ok(&endpoint, "application-autoscaling", "us-east-1", NULL);
    assert_string_equal(endpoint.url, "http://127.0.0.1:4566");
    assert_string_equal(endpoint.scheme, "http");
    assert_int_equal(endpoint.port, 4566);
    assert_string_equal(endpoint.signing_name, "application-autoscaling");
    endpoint_free(&endpoint);

    setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://localhost:4566/", 1);
    resolve_ok(&endpoint, "logs", "us-east-1", NULL);
    assert_string_equal(endpoint.url, "http://localhost:4566");
    endpoint_free(&endpoint);

    /* The flag beats both; IPv6 loopback keeps its brackets in the URL only. */
    struct endpoint_options options = {.endpoint_url = "http://[::1]:8000"};
    resolve_ok(&endpoint, "application-autoscaling", "us-east-1", &options);
    assert_string_equal(endpoint.host, "::1");
    assert_string_equal(endpoint.url, "http://[::1]:8000");
    endpoint_free(&endpoint);

    /* Global services keep their signing region behind an override. */
    resolve_ok(&endpoint, "iam", "eu-west-1", NULL);
    assert_string_equal(endpoint.url, "https://proxy.example.com:8443/base");
    assert_string_equal(endpoint.signing_region, "us-east-1");
    endpoint_free(&endpoint);

    /* Overrides from the environment can be switched off. */
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    resolve_ok(&endpoint, "kms", "eu-west-1", NULL);
    assert_string_equal(endpoint.url, "https://kms.eu-west-1.amazonaws.com");
    assert_false(endpoint.overridden);
    endpoint_free(&endpoint);
    clear_environment();

    struct endpoint_options ignore = {.ignore_environment = true};
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "https://elsewhere.example", 1);
    resolve_ok(&endpoint, "dynamodb", "us-east-1", &ignore);
    assert_string_equal(endpoint.url, "https://dynamodb.us-east-1.amazonaws.com");
    endpoint_free(&endpoint);
    resolve_ok(&endpoint, "dynamodb", "us-east-1", NULL);
    assert_string_equal(endpoint.url, "https://elsewhere.example");
    endpoint_free(&endpoint);
    clear_environment();
}

static void expect_refused(const char *url, const char *fragment)
{
    struct endpoint endpoint;
    struct diagnostics d;
    diag_init(&d);
    struct endpoint_options options = {.endpoint_url = url};
    assert_int_equal(endpoints_resolve(&endpoint, "dynamodb", "us-east-1", &options, &d),
                     DDB_EUSAGE);
    if (!strstr(diag_first_message(&d), fragment))
        fail_msg("%s: message '%s' lacks '%s'", url, diag_first_message(&d), fragment);
    assert_null(endpoint.url);
    diag_free(&d);
}

static void test_refuses_plain_http_to_remote_hosts(void **state)
{
    (void)state;
    expect_refused("http://dynamodb.us-east-1.amazonaws.com", "loopback");
    expect_refused("http://10.0.0.5:8000", "loopback");
    expect_refused("http://128.0.0.1", "loopback");
    expect_refused("http://[::2]:8000", "loopback");
    expect_refused("http://localhost.evil.example", "loopback");
    expect_refused("ftp://127.0.0.1", "unsupported scheme");
    expect_refused("https://user:pw@proxy.example.com", "user name");
    expect_refused("https://proxy.example.com/?x=1", "query");
    expect_refused("not a url", "not a valid URL");

    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://192.168.1.10:8000", 1);
    struct endpoint endpoint;
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(endpoints_resolve(&endpoint, "dynamodb", "us-east-1", NULL, &d), DDB_EUSAGE);
    assert_non_null(strstr(diag_first_message(&d), "AWS_ENDPOINT_URL_DYNAMODB"));
    diag_free(&d);
    clear_environment();
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(endpoints_host_is_loopback("localhost"));
    assert_true(endpoints_host_is_loopback("LOCALHOST."));
    assert_true(endpoints_host_is_loopback("127.0.0.1"));
    assert_true(endpoints_host_is_loopback("127.255.3.4"));
    assert_true(endpoints_host_is_loopback("::1"));
    assert_true(endpoints_host_is_loopback("[::1]"));
    assert_false(endpoints_host_is_loopback("0:0:0:0:0:0:0:2"));
    assert_false(endpoints_host_is_loopback("127.0.0.1.nip.io"));
    assert_false(endpoints_host_is_loopback(""));
}

static void test_rejects_unknown_service_and_bad_region(void **state)
{
    (void)state;
    struct endpoint endpoint;
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(endpoints_resolve(&endpoint, "nosuch", "us-east-1", NULL, &d), DDB_EUSAGE);
    assert_int_equal(endpoints_resolve(&endpoint, "dynamodb", "US_EAST_1", NULL, &d), DDB_EUSAGE);
    assert_int_equal(endpoints_resolve(&endpoint, "dynamodb", "evil.com/x", NULL, &d), DDB_EUSAGE);
    assert_int_equal(endpoints_resolve(&endpoint, "dynamodb", "", NULL, &d), DDB_EUSAGE);
    assert_int_equal((int)d.errors, 4);
    diag_free(&d);
    assert_string_equal(endpoints_partition("cn-north-1"), "aws-cn");
    assert_string_equal(endpoints_partition("us-gov-west-1"), "aws-us-gov");
    assert_string_equal(endpoints_partition("eu-west-1"), "aws");
    assert_string_equal(endpoints_dns_suffix("cn-northwest-1"), "amazonaws.com.cn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_aws_partition, setup),
        cmocka_unit_test_setup(test_china_partition, setup),
        cmocka_unit_test_setup(test_govcloud_partition, setup),
        cmocka_unit_test_setup(test_fips, setup),
        cmocka_unit_test_setup(test_overrides, setup),
        cmocka_unit_test_setup(test_refuses_plain_http_to_remote_hosts, setup),
        cmocka_unit_test_setup(test_loopback, setup),
        cmocka_unit_test_setup(test_rejects_unknown_service_and_bad_region, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
