/* The SigV4 signer's contract: added headers, S3 and presigned variants, encoding helpers, input
 * validation and secret hygiene. With DDBAUDIT_SIGV4_CASES set (by
 * tests/integration/test_sigv4_botocore.py) it also signs every botocore-generated case in that
 * JSON file and compares canonical request, string to sign and signature, one test per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "sigv4.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "session-token-value"
#define T_20150830 1440938160 /* 2015-08-30T12:36:00Z */

static const struct sigv4_header vanilla_headers[] = {{"Host", "example.amazonaws.com"}};

static struct sigv4_params vanilla_params(void)
{
    struct sigv4_params params = {
        .region = "us-east-1",
        .service = "service",
        .time = T_20150830,
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = SECRET,
    };
    return params;
}

static void sign_ok(struct sigv4_signed *out, const struct sigv4_request *request,
                    const struct sigv4_params *params)
{
    struct diagnostics d;
    diag_init(&d);
    int rc = sigv4_sign(out, request, params, &d);
    if (rc != 0)
        fail_msg("sigv4_sign: %s", diag_first_message(&d));
    diag_free(&d);
}

static void test_header_signing_adds_date_token_and_authorization(void **state)
{
    (void)state;
    struct sigv4_request request = {
        .method = "GET", .path = "/", .headers = vanilla_headers, .header_count = 1};
    struct sigv4_params params = vanilla_params();
    struct sigv4_signed result;
    sign_ok(&result, &request, &params);
    /* get-vanilla from the AWS suite */
    assert_string_equal(result.signature,
                        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    assert_int_equal(result.header_count, 2);
    assert_string_equal(result.headers[0].name, "X-Amz-Date");
    assert_string_equal(result.headers[0].value, "20150830T123600Z");
    assert_string_equal(result.headers[1].name, "Authorization");
    assert_string_equal(sigv4_signed_header(&result, "authorization"),
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                        "aws4_request, SignedHeaders=host;x-amz-date, Signature="
                        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    assert_null(result.query);
    assert_string_equal(result.amz_date, "20150830T123600Z");
    sigv4_signed_free(&result);

    params.session_token = TOKEN;
    sign_ok(&result, &request, &params);
    assert_int_equal(result.header_count, 3);
    assert_string_equal(sigv4_signed_header(&result, "X-Amz-Security-Token"), TOKEN);
    assert_non_null(strstr(sigv4_signed_header(&result, "Authorization"),
                           "SignedHeaders=host;x-amz-date;x-amz-security-token,"));
    sigv4_signed_free(&result);

    /* Kept out of the signature, still sent. */
    params.flags = SIGV4_OMIT_SESSION_TOKEN;
    sign_ok(&result, &request, &params);
    assert_string_equal(sigv4_signed_header(&result, "X-Amz-Security-Token"), TOKEN);
    assert_non_null(
        strstr(sigv4_signed_header(&result, "Authorization"), "SignedHeaders=host;x-amz-date,"));
    sigv4_signed_free(&result);
}

static void test_s3_flags(void **state)
{
    (void)state;
    const struct sigv4_header headers[] = {{"Host", "bucket.s3.us-east-1.amazonaws.com"}};
    struct sigv4_request request = {.method = "PUT",
                                    .path = "/a//b/../my%20key",
                                    .headers = headers,
                                    .header_count = 1,
                                    .body = "hello",
                                    .body_len = 5};
    struct sigv4_params params = vanilla_params();
    params.service = "s3";
    params.flags = SIGV4_S3_FLAGS;
    struct sigv4_signed result;
    sign_ok(&result, &request, &params);
    /* S3: no normalization, no second encoding, the body hash as a signed header. */
    assert_non_null(strstr(result.canonical_request, "PUT\n/a//b/../my%20key\n\n"));
    const char *hello_hash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    assert_string_equal(sigv4_signed_header(&result, "x-amz-content-sha256"), hello_hash);
    assert_non_null(strstr(result.canonical_request, "x-amz-content-sha256:"));
    assert_non_null(strstr(result.canonical_request, hello_hash));
    sigv4_signed_free(&result);

    /* Every other service: normalized and encoded again. */
    params.service = "dynamodb";
    params.flags = 0;
    sign_ok(&result, &request, &params);
    assert_non_null(strstr(result.canonical_request, "PUT\n/a/my%2520key\n\n"));
    assert_null(sigv4_signed_header(&result, "x-amz-content-sha256"));
    sigv4_signed_free(&result);

    /* A precomputed payload hash replaces hashing the body. */
    request.payload_hash = "UNSIGNED-PAYLOAD";
    sign_ok(&result, &request, &params);
    assert_non_null(strstr(result.canonical_request, "\nUNSIGNED-PAYLOAD"));
    sigv4_signed_free(&result);
}

static void test_presigned_query(void **state)
{
    (void)state;
    struct sigv4_request request = {.method = "GET",
                                    .path = "/",
                                    .query = "b=2&a=1",
                                    .headers = vanilla_headers,
                                    .header_count = 1};
    struct sigv4_params params = vanilla_params();
    params.flags = SIGV4_QUERY;
    params.expires_seconds = 900;
    params.session_token = "tok/en+";
    struct sigv4_signed result;
    sign_ok(&result, &request, &params);
    assert_int_equal(result.header_count, 0);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%%2F20150830"
             "%%2Fus-east-1%%2Fservice%%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires="
             "900&X-Amz-Security-Token=tok%%2Fen%%2B&X-Amz-SignedHeaders=host&a=1&b=2"
             "&X-Amz-Signature=%s",
             result.signature);
    /* Byte order: upper-case X-Amz-* sort before the lower-case parameters. */
    assert_string_equal(result.query, expected);
    sigv4_signed_free(&result);

    params.flags = SIGV4_QUERY | SIGV4_OMIT_SESSION_TOKEN;
    sign_ok(&result, &request, &params);
    assert_null(strstr(result.canonical_request, "Security-Token"));
    assert_non_null(strstr(result.query, "&X-Amz-Signature="));
    const char *tail = strstr(result.query, "&X-Amz-Security-Token=tok%2Fen%2B");
    assert_non_null(tail);
    assert_string_equal(tail, "&X-Amz-Security-Token=tok%2Fen%2B"); /* after the signature */
    sigv4_signed_free(&result);
}

static void test_query_and_header_canonical_forms(void **state)
{
    (void)state;
    const struct sigv4_header headers[] = {
        {"Host", "example.amazonaws.com"}, {"My-Header", "  a   b \t c  "}, {"my-header", "second"},
        {"User-Agent", "not signed"},      {"Connection", "keep-alive"},
    };
    struct sigv4_request request = {.method = "GET",
                                    .path = "/",
                                    .query = "z=%7e&a&b=&a=%41+&&c=%E1%88%B4",
                                    .headers = headers,
                                    .header_count = 5};
    struct sigv4_params params = vanilla_params();
    struct sigv4_signed result;
    sign_ok(&result, &request, &params);
    assert_string_equal(result.canonical_request,
                        "GET\n/\na=&a=A%2B&b=&c=%E1%88%B4&z=~\n"
                        "host:example.amazonaws.com\nmy-header:a b c,second\n"
                        "x-amz-date:20150830T123600Z\n\nhost;my-header;x-amz-date\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sigv4_signed_free(&result);
}

static void test_rejects_bad_input_without_leaking(void **state)
{
    (void)state;
    struct sigv4_request request = {
        .method = "GET", .path = "/", .headers = vanilla_headers, .header_count = 1};
    struct sigv4_params params = vanilla_params();
    params.session_token = TOKEN;
    struct sigv4_signed result;
    struct diagnostics d;
    diag_init(&d);

    struct sigv4_request no_host = {.method = "GET", .path = "/"};
    assert_int_equal(sigv4_sign(&result, &no_host, &params, &d), DDB_EINPUT);
    assert_null(result.canonical_request);

    struct sigv4_params bad = params;
    bad.region = "us-east-1/evil";
    assert_int_equal(sigv4_sign(&result, &request, &bad, &d), DDB_EINPUT);
    bad = params;
    bad.secret_access_key = "";
    assert_int_equal(sigv4_sign(&result, &request, &bad, &d), DDB_EINPUT);
    bad = params;
    bad.flags = SIGV4_QUERY;
    bad.expires_seconds = 604801;
    assert_int_equal(sigv4_sign(&result, &request, &bad, &d), DDB_EINPUT);
    bad = params;
    bad.time = -1;
    assert_int_equal(sigv4_sign(&result, &request, &bad, &d), DDB_EINPUT);
    struct sigv4_request bad_hash = request;
    bad_hash.payload_hash = "ABC";
    assert_int_equal(sigv4_sign(&result, &bad_hash, &params, &d), DDB_EINPUT);

    assert_int_equal((int)d.errors, 6);
    for (size_t i = 0; i < d.count; i++) {
        assert_null(strstr(d.entries[i].message, SECRET));
        assert_null(strstr(d.entries[i].message, TOKEN));
    }
    diag_free(&d);
    sigv4_signed_free(&result); /* safe after failure */
}

static void test_helpers(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(sigv4_uri_encode(&out, "a b/c~d*\xe1\x88\xb4", 11, 1), 0);
    assert_string_equal(buf_cstr(&out), "a%20b/c~d%2A%E1%88%B4");
    buf_reset(&out);
    assert_int_equal(sigv4_uri_encode(&out, "a/b", 3, 0), 0);
    assert_string_equal(buf_cstr(&out), "a%2Fb");
    buf_free(&out);

    char date[17];
    assert_int_equal(sigv4_format_amz_date(date, T_20150830), 0);
    assert_string_equal(date, "20150830T123600Z");
    assert_int_equal(sigv4_format_amz_date(date, -5), -1);
}

/* ---- botocore cases (see tests/integration/test_sigv4_botocore.py) ---- */

static unsigned case_flags(json_t *flags)
{
    unsigned result = 0;
    size_t i;
    json_t *flag;
    json_array_foreach(flags, i, flag)
    {
        if (!strcmp(json_string_value(flag), "query"))
            result |= SIGV4_QUERY;
        else if (!strcmp(json_string_value(flag), "s3"))
            result |= SIGV4_S3_FLAGS;
    }
    return result;
}

static void test_botocore_case(void **state)
{
    json_t *c = *state;
    json_t *header_list = json_object_get(c, "headers");
    size_t header_count = json_array_size(header_list);
    struct sigv4_header *headers = calloc(header_count ? header_count : 1, sizeof(*headers));
    assert_non_null(headers);
    for (size_t i = 0; i < header_count; i++) {
        headers[i].name = json_string_value(json_array_get(json_array_get(header_list, i), 0));
        headers[i].value = json_string_value(json_array_get(json_array_get(header_list, i), 1));
    }
    json_t *body = json_object_get(c, "body");
    struct sigv4_request request = {
        .method = json_string_value(json_object_get(c, "method")),
        .path = json_string_value(json_object_get(c, "path")),
        .query = json_string_value(json_object_get(c, "query")),
        .headers = headers,
        .header_count = header_count,
        .body = json_string_value(body),
        .body_len = json_string_length(body),
    };
    struct sigv4_params params = {
        .region = json_string_value(json_object_get(c, "region")),
        .service = json_string_value(json_object_get(c, "service")),
        .time = (time_t)json_integer_value(json_object_get(c, "time")),
        .access_key_id = json_string_value(json_object_get(c, "access_key_id")),
        .secret_access_key = json_string_value(json_object_get(c, "secret_access_key")),
        .session_token = json_string_value(json_object_get(c, "session_token")),
        .flags = case_flags(json_object_get(c, "flags")),
        .expires_seconds = (long)json_integer_value(json_object_get(c, "expires")),
    };
    struct sigv4_signed result;
    sign_ok(&result, &request, &params);
    assert_string_equal(result.canonical_request,
                        json_string_value(json_object_get(c, "canonical_request")));
    assert_string_equal(result.string_to_sign,
                        json_string_value(json_object_get(c, "string_to_sign")));
    assert_string_equal(result.signature, json_string_value(json_object_get(c, "signature")));
    sigv4_signed_free(&result);
    free(headers);
}

static int run_botocore_cases(const char *path)
{
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!root) {
        fprintf(stderr, "%s:%d: %s\n", path, error.line, error.text);
        return 1;
    }
    json_t *cases = json_object_get(root, "cases");
    size_t count = json_array_size(cases);
    struct CMUnitTest *tests = calloc(count ? count : 1, sizeof(*tests));
    if (!tests)
        return 1;
    for (size_t i = 0; i < count; i++) {
        json_t *c = json_array_get(cases, i);
        tests[i].name = json_string_value(json_object_get(c, "name"));
        tests[i].test_func = test_botocore_case;
        tests[i].initial_state = c;
    }
    int failures = _cmocka_run_group_tests("sigv4_botocore", tests, count, NULL, NULL);
    free(tests);
    json_decref(root);
    return failures;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_signing_adds_date_token_and_authorization),
        cmocka_unit_test(test_s3_flags),
        cmocka_unit_test(test_presigned_query),
        cmocka_unit_test(test_query_and_header_canonical_forms),
        cmocka_unit_test(test_rejects_bad_input_without_leaking),
        cmocka_unit_test(test_helpers),
    };
    int failures = cmocka_run_group_tests(tests, NULL, NULL);
    const char *cases = getenv("DDBAUDIT_SIGV4_CASES");
    if (cases && *cases)
        failures += run_botocore_cases(cases);
    else
        printf("botocore cases: not run here (tests/integration/test_sigv4_botocore.py sets "
               "DDBAUDIT_SIGV4_CASES)\n");
    return failures ? 1 : 0;
}
