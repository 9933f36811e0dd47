/* The pure parts of digest verification: the string CloudTrail signs, and reading
 * ListPublicKeys output. The signed chain end to end is
 * tests/integration/test_cloudtrail_digest.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cloudtrail_digest.h"
#include "diag.h"

static void test_string_to_sign(void **state)
{
    (void)state;
    json_t *first =
        json_pack("{s:s, s:s, s:s, s:n}", "digestEndTime", "2026-07-01T00:59:59Z", "digestS3Bucket",
                  "b", "digestS3Object", "AWSLogs/1/d.json.gz", "previousDigestSignature");
    char *text = cloudtrail_digest_string_to_sign(first, "abc123");
    /* aws-cli and the Java validator write "null" for the first digest of a chain */
    assert_string_equal(text, "2026-07-01T00:59:59Z\nb/AWSLogs/1/d.json.gz\nabc123\nnull");
    free(text);
    json_object_set_new(first, "previousDigestSignature", json_string("00ff"));
    text = cloudtrail_digest_string_to_sign(first, "abc123");
    assert_string_equal(text, "2026-07-01T00:59:59Z\nb/AWSLogs/1/d.json.gz\nabc123\n00ff");
    free(text);
    json_object_del(first, "digestS3Bucket");
    assert_null(cloudtrail_digest_string_to_sign(first, "abc123"));
    json_decref(first);
}

/* ListPublicKeys output for a fresh key, as PKCS#1 DER in base64. */
static char *public_keys_json(void)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    assert_non_null(key);
    unsigned char *der = NULL;
    int der_len = i2d_PublicKey(key, &der);
    assert_true(der_len > 0);
    unsigned char *base64 = malloc((size_t)der_len * 2 + 4);
    EVP_EncodeBlock(base64, der, der_len);
    struct buf text;
    buf_init(&text, 0);
    buf_printf(&text,
               "{\"PublicKeyList\":[{\"Value\":\"%s\",\"ValidityStartTime\":\"2026-01-01T00:00:"
               "00Z\",\"Fingerprint\":\"0123456789abcdef0123456789abcdef\"}]}",
               (char *)base64);
    free(base64);
    OPENSSL_free(der);
    EVP_PKEY_free(key);
    return buf_detach(&text);
}

static void test_keyring(void **state)
{
    (void)state;
    struct cloudtrail_keyring ring = {0};
    struct diagnostics d;
    diag_init(&d);
    char *text = public_keys_json();
    assert_int_equal(cloudtrail_keyring_parse(&ring, text, strlen(text), "keys.json", &d), 0);
    assert_int_equal(ring.count, 1);
    assert_string_equal(ring.keys[0].fingerprint, "0123456789abcdef0123456789abcdef");
    assert_non_null(ring.keys[0].key);
    cloudtrail_keyring_free(&ring);
    free(text);

    const char *bad[] = {
        "not json",
        "{\"Keys\":[]}",
        "{\"PublicKeyList\":[{\"Value\":\"bm90IGEga2V5\",\"Fingerprint\":\"00\"}]}",
        "{\"PublicKeyList\":[{\"Value\":\"%%%\",\"Fingerprint\":\"00\"}]}",
        "{\"PublicKeyList\":[{\"Fingerprint\":\"00\"}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cloudtrail_keyring_parse(&ring, bad[i], strlen(bad[i]), "keys.json", &d),
                         DDB_EINPUT);
        assert_int_equal(ring.count, 0);
        assert_null(ring.keys);
    }
    assert_int_equal(d.errors, sizeof(bad) / sizeof(bad[0]));
    assert_string_equal(d.entries[0].file, "keys.json");
    diag_free(&d);
}

/* A directory with no digests: nothing valid, nothing missing; its logs are not covered. */
static void test_no_digests(void **state)
{
    (void)state;
    const char *root = getenv("DDBAUDIT_SOURCE_DIR");
    struct buf path;
    buf_init(&path, 0);
    buf_printf(&path, "%s/tests/data/cloudtrail/records", root ? root : ".");
    const char *roots[] = {buf_cstr(&path)};
    struct cloudtrail_keyring ring = {0};
    struct diagnostics d;
    diag_init(&d);
    json_t *result = NULL;
    assert_int_equal(cloudtrail_validate(&result, roots, 1, &ring, NULL, NULL, &d), 0);
    json_t *summary = json_object_get(result, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "digests")), 0);
    assert_int_equal(json_integer_value(json_object_get(summary, "not_covered")), 4);
    json_decref(result);
    /* A period the log file names fall outside of: nothing to report. */
    assert_int_equal(cloudtrail_validate(&result, roots, 1, &ring, "2026-08-01", NULL, &d), 0);
    summary = json_object_get(result, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "not_covered")), 0);
    json_decref(result);
    diag_free(&d);
    buf_free(&path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_to_sign),
        cmocka_unit_test(test_keyring),
        cmocka_unit_test(test_no_digests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
