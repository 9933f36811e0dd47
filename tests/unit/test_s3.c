/* S3 addressing and ListObjectsV2 parsing: bucket names that could change the host are refused,
 * virtual-hosted vs path style, keys encoded once, and listings decoded the way botocore decodes
 * them (encoding-type=url, '+' is a space), with hostile answers refused or defused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "endpoints.h"
#include "s3.h"

static void bucket_names(void **state)
{
    (void)state;
    assert_true(s3_valid_bucket("trail-bucket"));
    assert_true(s3_valid_bucket("my.trail.logs"));
    assert_true(s3_valid_bucket("abc"));
    assert_false(s3_valid_bucket("ab"));
    assert_false(s3_valid_bucket("Trail"));
    assert_false(s3_valid_bucket("bad..dots"));
    assert_false(s3_valid_bucket("a.-b"));
    assert_false(s3_valid_bucket("-abc"));
    assert_false(s3_valid_bucket("abc-"));
    assert_false(s3_valid_bucket("192.168.1.1"));
    assert_false(s3_valid_bucket("evil.com/x"));
    assert_false(s3_valid_bucket("evil.com:443"));
    assert_false(s3_valid_bucket("a@b.c"));
}

static void addressing(const char *region, const char *override, const char *bucket,
                       const char *host, const char *url, const char *prefix)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_S3");
    struct diagnostics d;
    diag_init(&d);
    struct endpoint s3, out;
    struct endpoint_options options = {.endpoint_url = override};
    assert_int_equal(endpoints_resolve(&s3, "s3", region, &options, &d), 0);
    char *path_prefix = NULL;
    assert_int_equal(s3_bucket_endpoint(&out, &path_prefix, &s3, bucket, &d), 0);
    assert_string_equal(out.host, host);
    assert_string_equal(out.url, url);
    assert_string_equal(path_prefix, prefix);
    assert_string_equal(out.signing_name, "s3");
    assert_string_equal(out.signing_region, region);
    endpoint_free(&out);
    endpoint_free(&s3);
    free(path_prefix);
    diag_free(&d);
}

static void virtual_hosted_and_path_style(void **state)
{
    (void)state;
    addressing("eu-west-1", NULL, "trail-bucket", "trail-bucket.s3.eu-west-1.amazonaws.com",
               "https://trail-bucket.s3.eu-west-1.amazonaws.com", "");
    /* Dots would not match the *.s3 wildcard certificate. */
    addressing("eu-west-1", NULL, "my.trail", "s3.eu-west-1.amazonaws.com",
               "https://s3.eu-west-1.amazonaws.com", "/my.trail");
    /* A local endpoint cannot resolve bucket host names. */
    addressing("us-east-1", "http://127.0.0.1:4566", "trail-bucket", "127.0.0.1",
               "http://127.0.0.1:4566", "/trail-bucket");

    struct diagnostics d;
    diag_init(&d);
    struct endpoint s3, out;
    struct endpoint_options options = {0};
    assert_int_equal(endpoints_resolve(&s3, "s3", "eu-west-1", &options, &d), 0);
    char *path_prefix = NULL;
    assert_int_equal(s3_bucket_endpoint(&out, &path_prefix, &s3, "evil.com/x", &d), DDB_EUSAGE);
    assert_null(path_prefix);
    assert_null(out.host);
    endpoint_free(&s3);
    diag_free(&d);
}

static void paths_and_queries_are_encoded_once(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(s3_object_path(&b, "/trail", "AWSLogs/1/a b+c%~\xc3\xbc&=.json.gz"), 0);
    assert_string_equal(buf_cstr(&b), "/trail/AWSLogs/1/a%20b%2Bc%25~%C3%BC%26%3D.json.gz");
    buf_reset(&b);
    assert_int_equal(s3_object_path(&b, "", "a/../b"), 0);
    assert_string_equal(buf_cstr(&b), "/a/../b"); /* never normalised: S3 keys are literal */
    buf_reset(&b);
    assert_int_equal(s3_list_query(&b, "AWSLogs/1/", "t+/=="), 0);
    assert_string_equal(buf_cstr(&b), "continuation-token=t%2B%2F%3D%3D&encoding-type=url&"
                                      "list-type=2&max-keys=1000&prefix=AWSLogs%2F1%2F");
    buf_free(&b);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

static void listing_is_decoded(void **state)
{
    (void)state;
    const char *xml = HEAD
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>p%2F</Prefix><EncodingType>url</EncodingType>"
        "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/en==</NextContinuationToken>"
        "<Contents><Key>p/a+b%2Bc%C3%BC%20%25.json.gz</Key><Size>12</Size>"
        "<ETag>&quot;abc&quot;</ETag></Contents>"
        "<Contents><Key>p/..%2F..%2Fx</Key><Size>0</Size><ETag>\"e\"</ETag></Contents>"
        "</ListBucketResult>";
    struct diagnostics d;
    diag_init(&d);
    struct s3_listing listing;
    assert_int_equal(s3_parse_listing(&listing, xml, strlen(xml), &d), 0);
    assert_int_equal(listing.count, 2);
    assert_string_equal(listing.objects[0].key, "p/a b+c\xc3\xbc %.json.gz");
    assert_int_equal(listing.objects[0].size, 12);
    assert_string_equal(listing.objects[0].etag, "\"abc\"");
    assert_string_equal(listing.objects[1].key, "p/../../x");
    assert_true(listing.truncated);
    assert_string_equal(listing.next_token, "tok/en==");
    s3_listing_free(&listing);
    diag_free(&d);
}

static void refuse(const char *xml)
{
    struct diagnostics d;
    diag_init(&d);
    struct s3_listing listing;
    assert_true(s3_parse_listing(&listing, xml, strlen(xml), &d) < 0);
    assert_int_equal(listing.count, 0);
    assert_null(listing.objects);
    diag_free(&d);
}

static void hostile_listings(void **state)
{
    (void)state;
    /* A NUL byte smuggled through url encoding would cut the path short. */
    refuse(HEAD "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%00.json"
                "</Key><Size>1</Size><ETag>e</ETag></Contents></ListBucketResult>");
    refuse(HEAD "<Error><Code>AccessDenied</Code></Error>");
    refuse(HEAD "<ListBucketResult><Contents><Key>a</Key>");
    refuse(HEAD "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size><ETag>e</ETag>"
                "</Contents></ListBucketResult>");
    refuse(HEAD "<ListBucketResult><Contents><Key>a</Key><Size>1x</Size><ETag>e</ETag>"
                "</Contents></ListBucketResult>");
    refuse(HEAD "<ListBucketResult><Contents><Size>1</Size><ETag>e</ETag></Contents>"
                "</ListBucketResult>");
    /* An external entity is never fetched or expanded into a key. */
    const char *xxe = HEAD "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                           "<ListBucketResult><Contents><Key>k&x;</Key><Size>1</Size>"
                           "<ETag>e</ETag></Contents></ListBucketResult>";
    struct diagnostics d;
    diag_init(&d);
    struct s3_listing listing;
    if (s3_parse_listing(&listing, xxe, strlen(xxe), &d) == 0) {
        assert_int_equal(listing.count, 1);
        assert_null(strstr(listing.objects[0].key, "root:"));
        s3_listing_free(&listing);
    }
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_names),
        cmocka_unit_test(virtual_hosted_and_path_style),
        cmocka_unit_test(paths_and_queries_are_encoded_once),
        cmocka_unit_test(listing_is_decoded),
        cmocka_unit_test(hostile_listings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
