/* Catalog parsing: the bundled catalog loads; each kind of mistake is reported at its position;
 * hostile documents (deep nesting, huge values, NUL, invalid UTF-8, markup) neither crash nor
 * slip through. */
#include "snapshot_fixture.h"

static const char *const good =
    "id: DDB-50\ntitle: 'A <script>alert(1)</script> {{title}} | pipe'\n"
    "sources: [{seed: \"004\", table: matrix, row: 1, text: External Certification}]\n"
    "objective: o\nvendor_status: review\nvendor_notes: |\n  **bold** <img src=x "
    "onerror=alert(1)>\n"
    "references: [{title: t, url: 'https://docs.aws.amazon.com/x'}]\n"
    "evidence: [dynamodb:DescribeTable]\napplies_to: {resource: table, tags: {Environment: "
    "[prod]}}\n"
    "params: {required_tags: [A, B]}\n"
    "rule: {check: required_tags, description: d}\n";

static int load_text(const char *text, size_t len, struct catalog **out, struct diagnostics *d,
                     char *dir)
{
    snprintf(dir, 64, "/tmp/ddbaudit-cat-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/c.yaml", dir);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, len, f);
    fclose(f);
    return catalog_load(out, dir, d);
}

static void cleanup(char *dir, struct catalog *catalog, struct diagnostics *d)
{
    catalog_free(catalog);
    fs_remove_tree(dir, d);
    diag_free(d);
}

static void bundled_catalog_loads(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    struct catalog *catalog = NULL;
    char *dir = fx_source_path("controls");
    int rc = catalog_load(&catalog, dir, &d);
    if (rc)
        diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(catalog->count, 25);
    assert_string_equal(catalog->controls[0].id, "DDB-01");
    assert_string_equal(catalog->controls[24].id, "DDB-25");
    for (size_t i = 0; i < catalog->count; i++) {
        assert_true(catalog->controls[i].reference_count > 0);
        assert_non_null(catalog->controls[i].check);
    }
    assert_non_null(catalog_find(catalog, "DDB-04"));
    assert_null(catalog_find(catalog, "DDB-99"));
    free(dir);
    catalog_free(catalog);
    diag_free(&d);
}

static void markup_is_kept_as_text_and_params_are_typed(void **state)
{
    (void)state;
    struct diagnostics d;
    diag_init(&d);
    struct catalog *c = NULL;
    char dir[64];
    assert_int_equal(load_text(good, strlen(good), &c, &d, dir), 0);
    const struct control *k = &c->controls[0];
    assert_non_null(strstr(k->title, "<script>"));
    assert_non_null(strstr(k->vendor_notes, "onerror"));
    assert_int_equal(json_array_size(json_object_get(k->params, "required_tags")), 2);
    assert_int_equal(json_array_size(json_object_get(k->applies_to_tags, "Environment")), 1);
    cleanup(dir, c, &d);
}

/* Expects loading `text` to fail with one error mentioning `words` at line:col. */
static void expect_error_in(const char *text, int line, int col, const char *words)
{
    struct diagnostics d;
    diag_init(&d);
    struct catalog *c = NULL;
    char dir[64];
    assert_int_equal(load_text(text, strlen(text), &c, &d, dir), DDB_EINPUT);
    const char *message = diag_first_message(&d);
    if (!strstr(message, words) || d.entries[0].line != line || d.entries[0].col != col)
        fprintf(stderr, "got %d:%d %s; want %d:%d %s\n", d.entries[0].line, d.entries[0].col,
                message, line, col, words);
    assert_non_null(strstr(message, words));
    assert_int_equal(d.entries[0].line, line);
    assert_int_equal(d.entries[0].col, col);
    cleanup(dir, c, &d);
}

/* Replaces `from` with `to` in the good document and expects one error mentioning `words`
 * at line:col. */
static void expect_error(const char *from, const char *to, int line, int col, const char *words)
{
    char text[4096];
    const char *at = strstr(good, from);
    assert_non_null(at);
    snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    expect_error_in(text, line, col, words);
}

/* The good document with another check and parameters (line 11 holds the parameters). */
static void with_check(char *text, size_t size, const char *check, const char *params)
{
    const char *p = strstr(good, "params: "); /* params and rule are the last two lines */
    snprintf(text, size, "%.*sparams: %s\nrule: {check: %s, description: d}\n", (int)(p - good),
             good, params, check);
}

/* A parameter is one its check reads, with a value of its type: a misspelt name or value would
 * otherwise leave the check on its default, for a level or status the most lenient one. */
static void params_follow_their_check(void **state)
{
    (void)state;
    char text[4096];
    with_check(text, sizeof(text), "client_side_encryption",
               "{confidentiality_tag: C, required_values: [A], max_age_days: 30}");
    struct diagnostics d;
    diag_init(&d);
    struct catalog *c = NULL;
    char dir[64];
    assert_int_equal(load_text(text, strlen(text), &c, &d, dir), 0);
    const struct control *k = &c->controls[0];
    assert_true(json_is_integer(json_object_get(k->params, "max_age_days")));
    assert_int_equal(json_integer_value(json_object_get(k->params, "max_age_days")), 30);
    assert_true(json_is_string(json_object_get(k->params, "confidentiality_tag")));
    cleanup(dir, c, &d);

    expect_error("params: {required_tags: [A, B]}", "params: {required_tag: [A, B]}", 11, 10,
                 "unknown parameter 'required_tag' for check 'required_tags' (it reads: "
                 "required_tags)");
    expect_error("params: {required_tags: [A, B]}", "params: {required_tags: A}", 11, 25,
                 "'required_tags' must be a list of strings");
    expect_error("params: {required_tags: [A, B]}", "params: {required_tags: [A, [B]]}", 11, 29,
                 "list of non-empty strings");
    expect_error("params: {required_tags: [A, B]}", "params: {limit: 3}", 11, 10,
                 "unknown parameter 'limit'");
    static const struct {
        const char *check, *params;
        int col;
        const char *words;
    } cases[] = {
        {"table_encryption_at_rest", "{required_level: customer_managd}", 26,
         "must be aws_owned, aws_managed or customer_managed"},
        {"transport_encryption", "{below_tls_1_2_status: warn}", 32,
         "must be pass, review or remediate"},
        {"attested_inherited", "{max_age_days: -1}", 24, "whole number"},
        {"attested_inherited", "{max_age_days: 0.5}", 24, "whole number"},
        {"attested_inherited", "{max_age_days: '30'}", 24, "whole number"},
        {"attested_inherited", "{max_age_days: true}", 24, "whole number"},
        {"attested_inherited", "{max_age_days: [1]}", 24, "whole number"},
        {"derived_worst", "{controls: [DDB-01]}", 20, "mapping of names to strings"},
        {"derived_worst", "{controls: {KMS: [DDB-13]}}", 26, "map each name to a string"},
        {"identity_authentication", "{max_age_days: 1}", 10, "(it reads none)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        with_check(text, sizeof(text), cases[i].check, cases[i].params);
        expect_error_in(text, 11, cases[i].col, cases[i].words);
    }
}

static void each_mistake_has_its_position(void **state)
{
    (void)state;
    expect_error("vendor_status: review", "vendor_status: passs", 5, 16, "unknown status 'passs'");
    expect_error("objective: o", "objective: o\ncolour: blue", 5, 1, "unknown key 'colour'");
    expect_error("objective: o", "objective: [o]", 4, 12, "'objective' must be a string");
    expect_error("[dynamodb:DescribeTable]", "[dynamodb:DescribeTables]", 9, 12,
                 "unknown operation 'dynamodb:DescribeTables'");
    expect_error("references: [{title: t, url: 'https://docs.aws.amazon.com/x'}]", "references: []",
                 8, 13, "'references' is empty");
    expect_error("'https://docs.aws.amazon.com/x'", "'javascript:alert(1)'", 8, 30,
                 "malformed URL");
    expect_error("check: required_tags", "check: required_tagz", 12, 15, "unknown check");
    expect_error("id: DDB-50", "id: DDB-50\nid: DDB-51", 2, 1, "duplicate key 'id'");
    expect_error("row: 1", "row: first", 3, 45, "'row' must be a positive row number");
    expect_error("title: 'A", "title: \"A", 3, 19, "invalid YAML");
}

static void duplicate_ids_across_documents(void **state)
{
    (void)state;
    char text[8192];
    snprintf(text, sizeof(text), "%s---\n%s", good, good);
    struct diagnostics d;
    diag_init(&d);
    struct catalog *c = NULL;
    char dir[64];
    assert_int_equal(load_text(text, strlen(text), &c, &d, dir), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "duplicate id 'DDB-50'"));
    cleanup(dir, c, &d);
}

static void hostile_documents_fail_cleanly(void **state)
{
    (void)state;
    struct diagnostics d;
    struct catalog *c = NULL;
    char dir[64];

    /* 100k nested sequences. */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 16);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    diag_init(&d);
    assert_int_equal(load_text(deep, strlen(deep), &c, &d, dir), DDB_EINPUT);
    cleanup(dir, c, &d);
    free(deep);

    /* A NUL byte and invalid UTF-8 inside a value. */
    const char bad[] = "id: DDB-50\ntitle: \"a\0b\"\n";
    diag_init(&d);
    assert_int_equal(load_text(bad, sizeof(bad) - 1, &c, &d, dir), DDB_EINPUT);
    cleanup(dir, c, &d);
    const char utf[] = "id: DDB-50\ntitle: \"\xc3\x28\"\n";
    diag_init(&d);
    assert_int_equal(load_text(utf, sizeof(utf) - 1, &c, &d, dir), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "invalid YAML"));
    cleanup(dir, c, &d);

    /* A 20 MB document is refused by size before parsing. */
    size_t big = (size_t)20 << 20;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    memcpy(huge, "x: ", 3);
    diag_init(&d);
    assert_int_equal(load_text(huge, big, &c, &d, dir), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "limit"));
    cleanup(dir, c, &d);
    free(huge);

    /* Aliases, where a control would use them: a cycle (which recursed forever) and a
     * billion-laughs shape are both refused at the alias. */
    char text[4096];
    snprintf(text, sizeof(text), "%s", good);
    char *params = strstr(text, "params: {");
    assert_non_null(params);
    const char *loop = "params: {loop: &l [1, *l]}\nrule: {check: required_tags, description: d}\n";
    snprintf(params, sizeof(text) - (size_t)(params - text), "%s", loop);
    diag_init(&d);
    assert_int_equal(load_text(text, strlen(text), &c, &d, dir), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "aliases"));
    assert_int_equal(d.entries[0].line, 11);
    cleanup(dir, c, &d);
    const char *laughs = "params: {a: &a [x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a], "
                         "c: [*b, *b, *b, *b]}\nrule: {check: required_tags, description: d}\n";
    snprintf(params, sizeof(text) - (size_t)(params - text), "%s", laughs);
    diag_init(&d);
    assert_int_equal(load_text(text, strlen(text), &c, &d, dir), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "aliases"));
    cleanup(dir, c, &d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundled_catalog_loads),
        cmocka_unit_test(markup_is_kept_as_text_and_params_are_typed),
        cmocka_unit_test(each_mistake_has_its_position),
        cmocka_unit_test(params_follow_their_check),
        cmocka_unit_test(duplicate_ids_across_documents),
        cmocka_unit_test(hostile_documents_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
