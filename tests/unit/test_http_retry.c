/* The standard retry mode's pure parts: which attempts are retried, the full-jitter backoff,
 * the retry quota, and error codes read from every protocol's error answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <string.h>

#include "http.h"

static void classifies_attempts(void **state)
{
    (void)state;
    assert_int_equal(http_retry_classify(CURLE_OK, 200, ""), HTTP_RETRY_NONE);
    assert_int_equal(http_retry_classify(CURLE_OK, 400, "ThrottlingException"),
                     HTTP_RETRY_THROTTLE);
    assert_int_equal(http_retry_classify(CURLE_OK, 400, "ProvisionedThroughputExceededException"),
                     HTTP_RETRY_THROTTLE);
    assert_int_equal(http_retry_classify(CURLE_OK, 503, "RequestLimitExceeded"),
                     HTTP_RETRY_THROTTLE);
    assert_int_equal(http_retry_classify(CURLE_OK, 429, ""), HTTP_RETRY_THROTTLE);
    assert_int_equal(http_retry_classify(CURLE_OK, 500, "InternalFailure"), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_OK, 502, ""), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_OK, 503, ""), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_OK, 504, ""), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_OK, 400, "ExpiredTokenException"),
                     HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_OK, 400, "RequestTimeout"), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_OK, 403, "RequestTimeTooSkewed"),
                     HTTP_RETRY_CLOCK_SKEW);
    assert_int_equal(http_retry_classify(CURLE_OK, 403, "SignatureDoesNotMatch"),
                     HTTP_RETRY_CLOCK_SKEW);
    /* Permanent: the manifest records them. */
    assert_int_equal(http_retry_classify(CURLE_OK, 400, "AccessDeniedException"), HTTP_RETRY_NONE);
    assert_int_equal(http_retry_classify(CURLE_OK, 400, "ResourceNotFoundException"),
                     HTTP_RETRY_NONE);
    assert_int_equal(http_retry_classify(CURLE_OK, 404, ""), HTTP_RETRY_NONE);
    assert_int_equal(http_retry_classify(CURLE_OK, 501, ""), HTTP_RETRY_NONE);
    /* Transport. */
    assert_int_equal(http_retry_classify(CURLE_OPERATION_TIMEDOUT, 0, ""), HTTP_RETRY_TIMEOUT);
    assert_int_equal(http_retry_classify(CURLE_COULDNT_CONNECT, 0, ""), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_RECV_ERROR, 0, ""), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_PARTIAL_FILE, 200, ""), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_GOT_NOTHING, 0, ""), HTTP_RETRY_TRANSIENT);
    assert_int_equal(http_retry_classify(CURLE_FILESIZE_EXCEEDED, 200, ""), HTTP_RETRY_NONE);
    assert_int_equal(http_retry_classify(CURLE_PEER_FAILED_VERIFICATION, 0, ""), HTTP_RETRY_NONE);
}

static void backs_off_with_full_jitter(void **state)
{
    (void)state;
    /* Ceiling doubles per retry and stops at the maximum; jitter scales it from 0. */
    assert_int_equal(http_backoff_ms(1, 1000, 20000, 1.0), 1000);
    assert_int_equal(http_backoff_ms(2, 1000, 20000, 1.0), 2000);
    assert_int_equal(http_backoff_ms(3, 1000, 20000, 1.0), 4000);
    assert_int_equal(http_backoff_ms(6, 1000, 20000, 1.0), 20000);
    assert_int_equal(http_backoff_ms(60, 1000, 20000, 1.0), 20000);
    assert_int_equal(http_backoff_ms(3, 1000, 20000, 0.0), 0);
    assert_int_equal(http_backoff_ms(3, 1000, 20000, 0.5), 2000);
    /* Out-of-range inputs are clamped, never negative or huge. */
    assert_int_equal(http_backoff_ms(0, 1000, 20000, 1.0), 1000);
    assert_int_equal(http_backoff_ms(2, 1000, 20000, 7.0), 2000);
    assert_int_equal(http_backoff_ms(2, 1000, 20000, -1.0), 0);
}

static void retry_quota_drains_and_refills(void **state)
{
    (void)state;
    struct http_retry_quota quota;
    http_retry_quota_init(&quota);
    assert_int_equal(quota.available, 500);
    int granted = 0;
    while (http_retry_quota_acquire(&quota, HTTP_RETRY_THROTTLE) == 0)
        granted++;
    assert_int_equal(granted, 100); /* 500 / 5 */
    assert_int_equal(http_retry_quota_acquire(&quota, HTTP_RETRY_TRANSIENT), -1);
    http_retry_quota_release(&quota, HTTP_RETRY_TRANSIENT); /* a retried success refunds 5 */
    assert_int_equal(quota.available, 5);
    assert_int_equal(http_retry_quota_acquire(&quota, HTTP_RETRY_TIMEOUT), -1); /* costs 10 */
    http_retry_quota_release(&quota, HTTP_RETRY_NONE); /* a first-try success adds 1 */
    assert_int_equal(quota.available, 6);
    for (int i = 0; i < 1000; i++)
        http_retry_quota_release(&quota, HTTP_RETRY_TIMEOUT);
    assert_int_equal(quota.available, 500); /* never above capacity */
}

static void reads_error_codes_of_every_protocol(void **state)
{
    (void)state;
    char code[128], message[256];
    const char *json = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                       "\"message\":\"Requested resource not found\"}";
    http_parse_error(code, sizeof(code), message, sizeof(message), json, strlen(json), NULL);
    assert_string_equal(code, "ResourceNotFoundException");
    assert_string_equal(message, "Requested resource not found");

    const char *kms = "{\"__type\":\"AccessDeniedException\",\"Message\":\"not allowed\"}";
    http_parse_error(code, sizeof(code), message, sizeof(message), kms, strlen(kms), NULL);
    assert_string_equal(code, "AccessDeniedException");
    assert_string_equal(message, "not allowed");

    const char *query = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                        "<Message>Rate exceeded</Message></Error><RequestId>1</RequestId>"
                        "</ErrorResponse>";
    http_parse_error(code, sizeof(code), message, sizeof(message), query, strlen(query), NULL);
    assert_string_equal(code, "Throttling");
    assert_string_equal(message, "Rate exceeded");

    const char *ec2 = "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no"
                      "</Message></Error></Errors><RequestID>x</RequestID></Response>";
    http_parse_error(code, sizeof(code), message, sizeof(message), ec2, strlen(ec2), NULL);
    assert_string_equal(code, "UnauthorizedOperation");

    const char *rest = "{\"message\":\"slow down\"}";
    http_parse_error(code, sizeof(code), message, sizeof(message), rest, strlen(rest),
                     "ThrottlingException:http://internal.amazon.com/coral/");
    assert_string_equal(code, "ThrottlingException");
    assert_string_equal(message, "slow down");

    /* Garbage, truncation and oversize never overflow and give no code. */
    const char *cut = "<ErrorResponse><Error><Code>Thrott";
    http_parse_error(code, sizeof(code), message, sizeof(message), cut, strlen(cut), NULL);
    assert_string_equal(code, "");
    http_parse_error(code, sizeof(code), message, sizeof(message), "{\"__type\":", 10, NULL);
    assert_string_equal(code, "");
    char huge[4096];
    memset(huge, 'A', sizeof(huge));
    memcpy(huge, "<Code>", 6);
    memcpy(huge + sizeof(huge) - 7, "</Code>", 7);
    char small[16];
    http_parse_error(small, sizeof(small), message, sizeof(message), huge, sizeof(huge), NULL);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void formats_times_for_the_manifest(void **state)
{
    (void)state;
    struct timespec t = {1700000000, 123456789};
    char out[32];
    http_format_time(out, &t);
    assert_string_equal(out, "2023-11-14T22:13:20.123Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classifies_attempts),
        cmocka_unit_test(backs_off_with_full_jitter),
        cmocka_unit_test(retry_quota_drains_and_refills),
        cmocka_unit_test(reads_error_codes_of_every_protocol),
        cmocka_unit_test(formats_times_for_the_manifest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
