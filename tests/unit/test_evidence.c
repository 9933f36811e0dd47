/* The evidence snapshot contract: sealing derives parameters and outcomes from hand-gathered
 * AWS CLI output; the manifest round-trips byte for byte; the reader refuses hostile files. */
#include "snapshot_fixture.h"

static void seal_records_outcomes_and_parameters(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx);
    fx_call(&fx, "eu-west-1", "dynamodb", "ListTables", NULL, "{\"TableNames\": [\"a\"]}");
    fx_call(&fx, "eu-west-1", "dynamodb", "DescribeTable", "a",
            "{\"Table\": {\"TableName\": \"a\", \"LatestStreamArn\": "
            "\"arn:aws:dynamodb:eu-west-1:111122223333:table/a/stream/2026\"}}");
    fx_error(&fx, "eu-west-1", "dynamodb", "GetResourcePolicy", "a", "PolicyNotFoundException");
    fx_error(&fx, "eu-west-1", "dynamodb", "GetResourcePolicy", "a@stream",
             "AccessDeniedException");
    fx_error(&fx, "eu-west-1", "kms", "DescribeKey", "k1", "InternalFailure");
    struct evidence_seal_options o = {.account = FX_ACCOUNT,
                                      .collected_at = "2026-10-01T00:00:00Z"};
    assert_int_equal(evidence_seal(fx.dir, &o, &fx.d), 0);
    assert_int_equal(evidence_open(&fx.snapshot, fx.dir, &fx.d), 0);
    const struct evidence_snapshot *s = fx.snapshot;
    assert_int_equal(s->call_count, 5);
    assert_int_equal(s->region_count, 1);
    const struct evidence_call *c =
        evidence_find(s, "eu-west-1", "dynamodb", "GetResourcePolicy", "a");
    assert_int_equal(c->outcome, EVIDENCE_NOT_FOUND);
    assert_string_equal(json_string_value(json_object_get(c->parameters, "ResourceArn")),
                        "arn:aws:dynamodb:eu-west-1:111122223333:table/a");
    c = evidence_find(s, "eu-west-1", "dynamodb", "GetResourcePolicy", "a@stream");
    assert_int_equal(c->outcome, EVIDENCE_DENIED);
    assert_string_equal(c->error_code, "AccessDeniedException");
    assert_string_equal(json_string_value(json_object_get(c->parameters, "ResourceArn")),
                        "arn:aws:dynamodb:eu-west-1:111122223333:table/a/stream/2026");
    c = evidence_find(s, "eu-west-1", "kms", "DescribeKey", "k1");
    assert_int_equal(c->outcome, EVIDENCE_ERROR);
    c = evidence_find(s, "eu-west-1", "dynamodb", "DescribeTable", "a");
    assert_int_equal(c->outcome, EVIDENCE_OK);
    assert_string_equal(json_string_value(json_object_get(c->parameters, "TableName")), "a");
    assert_null(evidence_find(s, "eu-west-1", "dynamodb", "DescribeTable", "b"));
    fx_free(&fx);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len;
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(fs_read_file(&text, &len, path, 1 << 24, &d), 0);
    diag_free(&d);
    return text;
}

static void manifest_round_trips_byte_for_byte(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx);
    fx_call(&fx, "us-east-1", "dynamodb", "ListTables", NULL, "{\"TableNames\": []}");
    fx_call(&fx, "global", "iam", "GetAccountSummary", NULL, "{\"SummaryMap\": {}}");
    struct evidence_seal_options o = {.account = FX_ACCOUNT,
                                      .collected_at = "2026-10-01T00:00:00Z",
                                      .period = "2026-07-01..2026-09-30"};
    assert_int_equal(evidence_seal(fx.dir, &o, &fx.d), 0);
    char manifest[300];
    snprintf(manifest, sizeof(manifest), "%s/manifest.json", fx.dir);
    char *first = slurp(manifest);
    /* Opening and re-writing changes nothing. */
    assert_int_equal(evidence_open(&fx.snapshot, fx.dir, &fx.d), 0);
    assert_string_equal(fx.snapshot->period_start, "2026-07-01");
    assert_int_equal(evidence_write_manifest(fx.snapshot, &fx.d), 0);
    char *second = slurp(manifest);
    assert_string_equal(first, second);
    /* Sealing again (different readdir order, same files) gives the same bytes. */
    assert_int_equal(evidence_seal(fx.dir, &o, &fx.d), 0);
    char *third = slurp(manifest);
    assert_string_equal(first, third);
    free(first);
    free(second);
    free(third);
    fx_free(&fx);
}

/* Writes one evidence file with raw bytes, seals with a patched hash, and expects open to fail
 * with a message containing `words`. */
static void expect_refused(const char *bytes, size_t len, const char *words)
{
    struct fixture fx;
    fx_init(&fx);
    fx_call(&fx, "eu-west-1", "dynamodb", "ListTables", NULL, "{\"TableNames\": []}");
    struct evidence_seal_options o = {.account = FX_ACCOUNT,
                                      .collected_at = "2026-10-01T00:00:00Z"};
    assert_int_equal(evidence_seal(fx.dir, &o, &fx.d), 0);
    /* Replace the file and patch its hash and size, as an attacker who edits both would. */
    char path[512];
    snprintf(path, sizeof(path), "%s/" FX_ACCOUNT "/eu-west-1/dynamodb/ListTables.json", fx.dir);
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    struct evidence_snapshot *s = evidence_new(fx.dir, FX_ACCOUNT, "aws");
    s->regions = calloc(2, sizeof(char *));
    s->regions[0] = strdup("eu-west-1");
    s->region_count = 1;
    struct evidence_call call = {.service = "dynamodb",
                                 .operation = "ListTables",
                                 .region = "eu-west-1",
                                 .outcome = EVIDENCE_OK,
                                 .path = FX_ACCOUNT "/eu-west-1/dynamodb/ListTables.json",
                                 .size = len};
    digest_sha256_hex(bytes, len, call.sha256);
    assert_int_equal(evidence_add_call(s, &call, &fx.d), 0);
    s->collected_at = strdup("2026-10-01T00:00:00Z");
    assert_int_equal(evidence_write_manifest(s, &fx.d), 0);
    evidence_free(s);
    assert_int_equal(evidence_open(&fx.snapshot, fx.dir, &fx.d), DDB_EINPUT);
    if (!strstr(diag_first_message(&fx.d), words))
        fprintf(stderr, "got: %s\n", diag_first_message(&fx.d));
    assert_non_null(strstr(diag_first_message(&fx.d), words));
    fx_free(&fx);
}

static void hostile_evidence_is_refused(void **state)
{
    (void)state;
    expect_refused("{\"TableNames\": [\"a\"", 19, "not valid JSON");
    expect_refused("{\"TableNames\": \"\\u0000\"}", 24, "not valid JSON");
    expect_refused("{\"TableNames\": \"\xc3\x28\"}", 19, "not valid JSON");
    expect_refused("[1, 2]", 6, "JSON object");
    /* Two values for one key: tools disagree on which one wins, so neither is evidence. */
    expect_refused("{\"TableNames\": [], \"TableNames\": [\"x\"]}", 39, "duplicate object key");
    expect_refused("{\"a\": 1}\0{\"b\": 2}", 17, "not valid JSON");
    /* 100k nested arrays: jansson's depth limit stops it. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 32);
    size_t n = (size_t)sprintf(deep, "{\"a\": ");
    memset(deep + n, '[', depth);
    memset(deep + n + depth, ']', depth);
    n += 2 * depth;
    deep[n++] = '}';
    expect_refused(deep, n, "not valid JSON");
    free(deep);
}

static void path_segments_are_safe(void **state)
{
    (void)state;
    char *p = evidence_path("111122223333", "eu-west-1", "dynamodb", "DescribeTable", "orders.v2");
    assert_string_equal(p, "111122223333/eu-west-1/dynamodb/DescribeTable/orders.v2.json");
    free(p);
    assert_null(evidence_path("111122223333", "eu-west-1", "dynamodb", "DescribeTable", ".."));
    assert_null(evidence_path("111122223333", "eu-west-1", "dynamodb", "DescribeTable", "a/b"));
    assert_null(evidence_path("111122223333", "", "dynamodb", "DescribeTable", NULL));
    assert_int_equal(evidence_classify_error("GetResourcePolicy", "PolicyNotFoundException"),
                     EVIDENCE_NOT_FOUND);
    assert_int_equal(evidence_classify_error("DescribeVpcs", "UnauthorizedOperation"),
                     EVIDENCE_DENIED);
    assert_int_equal(evidence_classify_error("DescribeTable", "ResourceNotFoundException"),
                     EVIDENCE_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seal_records_outcomes_and_parameters),
        cmocka_unit_test(manifest_round_trips_byte_for_byte),
        cmocka_unit_test(hostile_evidence_is_refused),
        cmocka_unit_test(path_segments_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
