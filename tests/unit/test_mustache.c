/* The Mustache engine beyond the spec: diagnostics, strict mode, number formatting, the
 * partial cache, hostile templates, speed, and `ddbaudit template render` called directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "command.h"
#include "diag.h"
#include "escape.h"
#include "mustache.h"

extern const struct command command_template_render;

#if defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 10.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOWDOWN 10.0
#endif
#endif
#ifndef SLOWDOWN
#define SLOWDOWN 1.0
#endif

/* ---- helpers ---------------------------------------------------------------------------- */

struct memory_partials {
    json_t *map; /* name -> template text */
    int loads;   /* how often the loader was asked */
};

static int load_memory_partial(char **text, size_t *len, char **source_name, const char *name,
                               void *ctx, struct diagnostics *d)
{
    (void)d;
    struct memory_partials *partials = ctx;
    partials->loads++;
    json_t *partial = json_object_get(partials->map, name);
    if (!json_is_string(partial))
        return 0;
    *len = json_string_length(partial);
    *text = malloc(*len + 1);
    memcpy(*text, json_string_value(partial), *len + 1);
    *source_name = strdup(name);
    return 0;
}

/* Compiles and renders `len` bytes of template against JSON text; returns the error code and
 * leaves the output in *out (caller frees) and messages in d. */
static int render_bytes(char **out, const char *template, size_t len, const char *json,
                        const struct mustache_options *opt, struct diagnostics *d)
{
    struct mustache_template *t = NULL;
    struct buf b;
    buf_init(&b, 0);
    json_t *data = json ? json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (json)
        assert_non_null(data);
    int error = mustache_compile(&t, "t", template, len, d);
    if (error == 0)
        error = mustache_render(&b, t, data, opt, d);
    *out = buf_detach(&b);
    buf_free(&b);
    mustache_free(t);
    json_decref(data);
    return error;
}

static int render(char **out, const char *template, const char *json,
                  const struct mustache_options *opt, struct diagnostics *d)
{
    return render_bytes(out, template, strlen(template), json, opt, d);
}

static void assert_renders(const char *template, const char *json, const char *expected)
{
    struct diagnostics d;
    char *out = NULL;
    diag_init(&d);
    int error = render(&out, template, json, NULL, &d);
    if (error)
        diag_print(&d, stderr);
    assert_int_equal(error, 0);
    assert_string_equal(out, expected);
    free(out);
    diag_free(&d);
}

/* Asserts the first error is at line:col and its message contains `needle`. */
static void assert_error(const struct diagnostics *d, int line, int col, const char *needle)
{
    assert_true(d->errors > 0);
    const struct diag_entry *e = &d->entries[0];
    if (!strstr(e->message, needle))
        fprintf(stderr, "message: %s\n", e->message);
    assert_non_null(strstr(e->message, needle));
    assert_int_equal(e->line, line);
    assert_int_equal(e->col, col);
    assert_string_equal(e->file, "t");
    assert_non_null(e->source); /* the caret has a line to point into */
}

static void assert_compile_error(const char *template, size_t len, int line, int col,
                                 const char *needle)
{
    struct diagnostics d;
    struct mustache_template *t = NULL;
    diag_init(&d);
    assert_int_equal(mustache_compile(&t, "t", template, len, &d), DDB_EINPUT);
    assert_null(t);
    assert_error(&d, line, col, needle);
    diag_free(&d);
}

/* ---- values and truthiness -------------------------------------------------------------- */

static void test_numbers(void **state)
{
    (void)state;
    assert_renders("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}} {{h}} {{i}} {{j}}",
                   "{\"a\": 42, \"b\": -7, \"c\": 1.21, \"d\": 0.1, \"e\": 100.0, \"f\": 1e300, "
                   "\"g\": 9007199254740993, \"h\": 1.5e10, \"i\": 2e16, \"j\": 1e-7}",
                   "42 -7 1.21 0.1 100 1e+300 9007199254740993 15000000000 2e+16 1e-07");
    assert_renders("{{#x}}{{.}},{{/x}}", "{\"x\": [1.1, 2.5, 3.3333333333333335, -0.0]}",
                   "1.1,2.5,3.3333333333333335,-0,");
}

static void test_other_values(void **state)
{
    (void)state;
    assert_renders("{{t}}/{{f}}/{{n}}/{{o}}/{{{a}}}",
                   "{\"t\": true, \"f\": false, \"n\": null, "
                   "\"o\": {\"k\": \"<v>\"}, \"a\": [1, \"x\"]}",
                   "true/false//{&quot;k&quot;:&quot;&lt;v&gt;&quot;}/[1,\"x\"]");
}

static void test_truthiness(void **state)
{
    (void)state;
    /* Falsey: false, null, missing, [], "" (our documented addition). Truthy: 0, {}, "0". */
    assert_renders("{{#a}}A{{/a}}{{#b}}B{{/b}}{{#c}}C{{/c}}{{#d}}D{{/d}}{{#e}}E{{/e}}",
                   "{\"a\": false, \"b\": null, \"c\": [], \"d\": \"\"}", "");
    assert_renders("{{^a}}A{{/a}}{{^d}}D{{/d}}{{^e}}E{{/e}}", "{\"a\": false, \"d\": \"\"}", "ADE");
    assert_renders("{{#z}}Z{{/z}}{{#o}}O{{/o}}{{#s}}{{.}}{{/s}}",
                   "{\"z\": 0, \"o\": {}, \"s\": "
                   "\"0\"}",
                   "ZO0");
}

static void test_escape_function(void **state)
{
    (void)state;
    struct mustache_options opt = {.escape = escape_markdown};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render(&out, "{{v}}|{{{v}}}|{{&v}}", "{\"v\": \"*a*\"}", &opt, &d), 0);
    assert_string_equal(out, "\\*a\\*|*a*|*a*");
    free(out);
    /* The default escaper is HTML, as in Mustache. */
    assert_int_equal(render(&out, "{{v}}", "{\"v\": \"<b>\"}", NULL, &d), 0);
    assert_string_equal(out, "&lt;b&gt;");
    free(out);
    diag_free(&d);
}

/* ---- diagnostics ------------------------------------------------------------------------ */

static void test_unclosed_section(void **state)
{
    (void)state;
    const char *t = "# Title\n\n  {{#items}}\n- {{name}}\n";
    assert_compile_error(t, strlen(t), 3, 3, "unclosed section '#items'");
}

static void test_mismatched_close(void **state)
{
    (void)state;
    const char *t = "{{#a}}\n{{#b}}x{{/a}}\n{{/b}}";
    struct diagnostics d;
    struct mustache_template *tpl = NULL;
    diag_init(&d);
    assert_int_equal(mustache_compile(&tpl, "t", t, strlen(t), &d), DDB_EINPUT);
    assert_error(&d, 2, 8,
                 "mismatched closing tag '/a': the open section is '#b' (line 2, "
                 "column 1)");
    assert_int_equal(d.count, 2); /* and a note at the open tag */
    assert_int_equal(d.entries[1].severity, DIAG_NOTE);
    assert_int_equal(d.entries[1].line, 2);
    assert_int_equal(d.entries[1].col, 1);
    diag_free(&d);
    assert_compile_error("x{{/a}}", 7, 1, 2, "closing tag '/a' has no open section");
}

static void test_unclosed_tags(void **state)
{
    (void)state;
    assert_compile_error("abc {{", 6, 1, 5, "unclosed tag");
    assert_compile_error("abc {{name", 10, 1, 5, "unclosed tag");
    assert_compile_error("{{{name}}", 9, 1, 1, "unclosed tag: no '}}}'");
    assert_compile_error("{{=<% %>=}}\n<%name", 18, 2, 1, "unclosed tag: no '%>'");
    assert_compile_error("{{", 2, 1, 1, "unclosed tag");
}

static void test_bad_delimiters(void **state)
{
    (void)state;
    assert_compile_error("a\n{{=<%=}}", 10, 2, 1, "bad delimiter tag");
    assert_compile_error("{{==}}", 6, 1, 1, "bad delimiter tag");
    assert_compile_error("{{=a b c=}}", 11, 1, 1, "bad delimiter tag");
    assert_compile_error("{{=a= b=}}", 10, 1, 1, "bad delimiter tag");
    assert_compile_error("{{=<% %>}}", 10, 1, 1, "unclosed tag");
    struct buf t;
    buf_init(&t, 0);
    buf_puts(&t, "x\n{{=<% ");
    for (int i = 0; i < 1000; i++)
        buf_putc(&t, '%');
    buf_puts(&t, "=}}");
    assert_compile_error(t.data, t.len, 2, 1, "delimiters longer than 32 bytes");
    buf_free(&t);
}

static void test_empty_names(void **state)
{
    (void)state;
    assert_compile_error("x {{}}", 6, 1, 3, "empty tag name");
    assert_compile_error("{{ }}", 5, 1, 1, "empty tag name");
    assert_compile_error("{{{ }}}", 7, 1, 1, "empty tag name");
    assert_compile_error("{{#}}{{/}}", 10, 1, 1, "empty tag name");
    assert_compile_error("{{> }}", 6, 1, 1, "empty tag name");
    assert_compile_error("{{>* }}", 7, 1, 1, "empty tag name");
}

static void test_strict_mode(void **state)
{
    (void)state;
    struct mustache_options strict = {.strict = 1};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render(&out, "a\n  {{user.nmae}}", "{\"user\": {\"name\": 1}}", &strict, &d),
                     DDB_EINPUT);
    assert_error(&d, 2, 3, "no value for 'user.nmae'");
    assert_int_equal(d.entries[0].span, 13);
    free(out);
    diag_free(&d);

    /* null is a value; a missing section is just false */
    diag_init(&d);
    assert_int_equal(render(&out, "[{{n}}]{{#missing}}x{{/missing}}", "{\"n\": null}", &strict, &d),
                     0);
    assert_string_equal(out, "[]");
    free(out);

    /* non-strict: the spec's empty string */
    assert_int_equal(render(&out, "[{{missing}}][{{>nope}}]", "{}", NULL, &d), 0);
    assert_string_equal(out, "[][]");
    free(out);
    diag_free(&d);
}

static void test_unknown_partial(void **state)
{
    (void)state;
    struct memory_partials partials = {.map = json_pack("{s:s}", "known", "k")};
    struct mustache_options opt = {
        .strict = 1, .load_partial = load_memory_partial, .partial_ctx = &partials};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render(&out, "{{>known}}\n{{> unknown }}", "{}", &opt, &d), DDB_EINPUT);
    assert_error(&d, 2, 1, "unknown partial 'unknown'");
    free(out);
    diag_free(&d);

    diag_init(&d);
    assert_int_equal(render(&out, "{{>*which}}", "{\"which\": 3}", &opt, &d), DDB_EINPUT);
    assert_error(&d, 1, 1, "dynamic partial name 'which' does not name a string");
    free(out);
    diag_free(&d);

    opt.strict = 0;
    diag_init(&d);
    assert_int_equal(render(&out, "<{{>unknown}}{{>known}}>", "{}", &opt, &d), 0);
    assert_string_equal(out, "<k>");
    free(out);
    diag_free(&d);
    json_decref(partials.map);
}

static void test_error_in_partial(void **state)
{
    (void)state;
    struct memory_partials partials = {.map = json_pack("{s:s}", "broken", "ok\n{{#x}}")};
    struct mustache_options opt = {.load_partial = load_memory_partial, .partial_ctx = &partials};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render(&out, "a {{>broken}}", "{}", &opt, &d), DDB_EINPUT);
    /* The error points into the partial, a note at the tag that included it. */
    assert_string_equal(d.entries[0].file, "broken");
    assert_int_equal(d.entries[0].line, 2);
    assert_non_null(strstr(d.entries[0].message, "unclosed section '#x'"));
    assert_int_equal(d.entries[1].severity, DIAG_NOTE);
    assert_string_equal(d.entries[1].file, "t");
    assert_int_equal(d.entries[1].col, 3);
    free(out);
    diag_free(&d);
    json_decref(partials.map);
}

/* ---- partials ------------------------------------------------------------------------------ */

static void test_partial_cache(void **state)
{
    (void)state;
    struct memory_partials partials = {.map = json_pack("{s:s}", "row", "<{{.}}>")};
    struct mustache_options opt = {.load_partial = load_memory_partial, .partial_ctx = &partials};
    json_t *rows = json_array();
    for (int i = 0; i < 10000; i++)
        json_array_append_new(rows, json_integer(i));
    json_t *data = json_pack("{s:o}", "rows", rows);
    struct mustache_template *t = NULL;
    struct diagnostics d;
    struct buf out;
    diag_init(&d);
    buf_init(&out, 0);
    assert_int_equal(mustache_compile(&t, "t", "{{#rows}}{{>row}}{{/rows}}", 26, &d), 0);
    assert_int_equal(mustache_render(&out, t, data, &opt, &d), 0);
    assert_int_equal(partials.loads, 1);
    assert_memory_equal(out.data, "<0><1><2>", 9);

    /* A shared cache keeps compiled partials from one render to the next. */
    struct mustache_cache *cache = NULL;
    assert_int_equal(mustache_cache_new(&cache), 0);
    opt.cache = cache;
    partials.loads = 0;
    for (int i = 0; i < 3; i++) {
        buf_reset(&out);
        assert_int_equal(mustache_render(&out, t, data, &opt, &d), 0);
    }
    assert_int_equal(partials.loads, 1);
    mustache_cache_free(cache);
    mustache_free(t);
    buf_free(&out);
    json_decref(data);
    diag_free(&d);
    json_decref(partials.map);
}

/* {{<*name}}: the parent's name comes from the data, like {{>*name}}; its closing tag repeats
 * the '*'. Blocks work the same as with a named parent. */
static void test_dynamic_parent(void **state)
{
    (void)state;
    struct memory_partials partials = {.map = json_pack("{s:s,s:s}", "layout-a",
                                                        "A[{{$body}}default{{/body}}]", "layout-b",
                                                        "B({{$body}}default{{/body}})")};
    struct mustache_options opt = {.load_partial = load_memory_partial, .partial_ctx = &partials};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    const char *template = "{{<*layout}}{{$body}}{{name}}{{/body}}{{/*layout}}";
    assert_int_equal(
        render(&out, template, "{\"layout\": \"layout-b\", \"name\": \"n\"}", &opt, &d), 0);
    assert_string_equal(out, "B(n)");
    free(out);
    assert_int_equal(
        render(&out, template, "{\"layout\": \"layout-a\", \"name\": \"n\"}", &opt, &d), 0);
    assert_string_equal(out, "A[n]");
    free(out);
    assert_int_equal(render(&out, template, "{\"name\": \"n\"}", &opt, &d), 0);
    assert_string_equal(out, "");
    free(out);
    diag_free(&d);

    /* The close must repeat the '*'. */
    diag_init(&d);
    assert_int_equal(render(&out, "{{<*layout}}{{/layout}}", "{}", &opt, &d), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "the open section is '<*layout'"));
    free(out);
    diag_free(&d);
    json_decref(partials.map);
}

/* Standalone partials indent every line of their template, not of the values in it; lines
 * removed as standalone leave no indentation behind. */
static void test_partial_indentation(void **state)
{
    (void)state;
    struct memory_partials partials = {
        .map = json_pack("{s:s,s:s,s:s,s:s}", "p", "line1\n{{#a}}\n  in {{v}}\n{{/a}}\nline2\n",
                         "c", "{{! note }}text\nmore", "crlf", "a\r\n{{#a}}\r\nb\r\n{{/a}}\r\n",
                         "nest", "top\n  {{>c}}\n")};
    struct mustache_options opt = {.load_partial = load_memory_partial, .partial_ctx = &partials};
    const struct {
        const char *template, *expected;
    } cases[] = {
        {"x\n  {{>p}}\ny", "x\n  line1\n    in 1\n2\n  line2\ny"},
        {"x\n> {{>p}}", "x\n> line1\n  in 1\n2\nline2\n"}, /* not standalone */
        {"  {{>c}}\n", "  text\n  more"},
        {"\t{{>crlf}}\r\nz", "\ta\r\n\tb\r\nz"},
        {"\t{{>nest}}\n", "\ttop\n\t  text\n\t  more"},
        {"[{{>p}}]", "[line1\n  in 1\n2\nline2\n]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diagnostics d;
        char *out;
        diag_init(&d);
        assert_int_equal(
            render(&out, cases[i].template, "{\"a\": true, \"v\": \"1\\n2\"}", &opt, &d), 0);
        if (strcmp(out, cases[i].expected) != 0)
            fprintf(stderr, "template: %s\n", cases[i].template);
        assert_string_equal(out, cases[i].expected);
        free(out);
        diag_free(&d);
    }
    json_decref(partials.map);
}

static void test_dir_loader(void **state)
{
    (void)state;
    const char *dirs[] = {"tests/data/templates/override", "tests/data/templates"};
    struct mustache_dir_loader loader = {.dirs = dirs, .dir_count = 2, .suffix = ".mustache"};
    struct mustache_options opt = {.load_partial = mustache_load_from_dirs, .partial_ctx = &loader};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render(&out, "{{>row}}", "{\"name\": \"n\"}", &opt, &d), 0);
    assert_string_equal(out, "<tr><td>n (override)</td></tr>\n");
    free(out);
    /* Only the bundled directory: the fallback. */
    loader.dir_count = 1;
    dirs[0] = "tests/data/templates";
    assert_int_equal(render(&out, "{{>row}}", "{\"name\": \"n\"}", &opt, &d), 0);
    assert_string_equal(out, "<tr><td>n</td><td></td><td></td></tr>\n");
    free(out);
    diag_free(&d);

    const char *bad[] = {"../templates/row", "/etc/passwd", "a//b", ".hidden",
                         "a/../b",           "a b",         "row/", "a\\b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char template[64];
        snprintf(template, sizeof(template), "{{>%s}}", bad[i]);
        diag_init(&d);
        assert_int_equal(render(&out, template, "{}", &opt, &d), DDB_EINPUT);
        assert_non_null(strstr(diag_first_message(&d), "invalid partial name"));
        free(out);
        diag_free(&d);
    }
}

static void test_report_fixture(void **state)
{
    (void)state;
    FILE *f = fopen("tests/data/templates/report.expected.html", "rb");
    assert_non_null(f);
    char expected[4096];
    size_t n = fread(expected, 1, sizeof(expected) - 1, f);
    expected[n] = '\0';
    fclose(f);
    f = fopen("tests/data/templates/report.html.mustache", "rb");
    assert_non_null(f);
    char template[4096];
    size_t len = fread(template, 1, sizeof(template), f);
    fclose(f);
    json_t *data = json_load_file("tests/data/templates/data.json", 0, NULL);
    assert_non_null(data);
    char *json = json_dumps(data, 0);
    const char *dirs[] = {"tests/data/templates"};
    struct mustache_dir_loader loader = {.dirs = dirs, .dir_count = 1, .suffix = ".mustache"};
    struct mustache_options opt = {
        .escape = escape_html, .load_partial = mustache_load_from_dirs, .partial_ctx = &loader};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render_bytes(&out, template, len, json, &opt, &d), 0);
    assert_string_equal(out, expected);
    free(out);
    free(json);
    json_decref(data);
    diag_free(&d);
}

/* ---- hostile templates --------------------------------------------------------------------- */

static void test_nul_bytes(void **state)
{
    (void)state;
    struct diagnostics d;
    char *out;
    diag_init(&d);
    /* NUL in template text passes through; in a value, the escaper replaces it. */
    static const char template[] = "a\0b{{v}}{{{v}}}";
    assert_int_equal(
        render_bytes(&out, template, sizeof(template) - 1, "{\"v\": \"x\\u0000y\"}", NULL, &d), 0);
    assert_memory_equal(out, "a\0bx\xEF\xBF\xBDyx\0y", 11);
    free(out);
    /* NUL inside a tag name is just an unknown name. */
    static const char in_tag[] = "[{{a\0b}}]{{#a\0b}}x{{/a\0b}}";
    assert_int_equal(render_bytes(&out, in_tag, sizeof(in_tag) - 1, "{\"a\": 1}", NULL, &d), 0);
    assert_string_equal(out, "[]");
    free(out);
    diag_free(&d);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render(&out, "\xff{{v}}\xc3", "{\"v\": \"ok\"}", NULL, &d), 0);
    assert_string_equal(out, "\xffok\xc3");
    free(out);
    /* Names in messages are valid UTF-8 even when the template isn't. */
    struct mustache_options strict = {.strict = 1};
    assert_int_equal(render(&out, "{{a\xff\x1b}}", "{}", &strict, &d), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "'a\xEF\xBF\xBD\xEF\xBF\xBD'"));
    free(out);
    diag_free(&d);
    diag_init(&d);
    /* Positions stay sane after invalid bytes. */
    assert_int_equal(render(&out, "\xff\xfe{{#x}}", "{}", NULL, &d), DDB_EINPUT);
    assert_int_equal(d.entries[0].line, 1);
    free(out);
    diag_free(&d);
}

static void test_huge_tag_name(void **state)
{
    (void)state;
    size_t n = (size_t)1 << 20;
    char *template = malloc(n + 5);
    memcpy(template, "{{", 2);
    memset(template + 2, 'a', n);
    memcpy(template + 2 + n, "}}", 3);
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(render_bytes(&out, template, n + 4, "{}", NULL, &d), 0);
    assert_string_equal(out, "");
    free(out);
    struct mustache_options strict = {.strict = 1};
    assert_int_equal(render_bytes(&out, template, n + 4, "{}", &strict, &d), DDB_EINPUT);
    assert_true(strlen(d.entries[0].message) < 200); /* the name is cut short */
    assert_non_null(strstr(d.entries[0].message, "aaa..."));
    free(out);
    diag_free(&d);
    /* and unclosed */
    diag_init(&d);
    assert_int_equal(render_bytes(&out, template, n + 2, "{}", NULL, &d), DDB_EINPUT);
    free(out);
    diag_free(&d);
    free(template);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    struct buf t;
    buf_init(&t, 0);
    for (int i = 0; i < 10000; i++)
        buf_puts(&t, "{{#a}}");
    buf_puts(&t, "x");
    for (int i = 0; i < 10000; i++)
        buf_puts(&t, "{{/a}}");
    struct diagnostics d;
    char *out;
    diag_init(&d);
    /* Falsey: nothing to do. Truthy: too deep, an error rather than a blown stack. */
    assert_int_equal(render_bytes(&out, t.data, t.len, "{}", NULL, &d), 0);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(render_bytes(&out, t.data, t.len, "{\"a\": true}", NULL, &d), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "deeper than 256"));
    free(out);
    diag_free(&d);
    /* A raised limit renders it. */
    diag_init(&d);
    struct mustache_options deep = {.max_depth = 20000};
    assert_int_equal(render_bytes(&out, t.data, t.len, "{\"a\": true}", &deep, &d), 0);
    assert_string_equal(out, "x");
    free(out);
    diag_free(&d);
    /* 10k unclosed sections */
    diag_init(&d);
    assert_int_equal(render_bytes(&out, t.data, 6 * 10000, "{}", NULL, &d), DDB_EINPUT);
    assert_int_equal(d.entries[0].col, 6 * 9999 + 1);
    free(out);
    diag_free(&d);
    buf_free(&t);
}

static void test_recursive_partials(void **state)
{
    (void)state;
    struct memory_partials partials = {.map = json_pack("{s:s,s:s,s:s,s:s}", "self", "x{{>self}}",
                                                        "ping", "{{>pong}}", "pong", "{{>ping}}",
                                                        "indent", "  {{>indent}}\nx\n")};
    struct mustache_options opt = {.load_partial = load_memory_partial, .partial_ctx = &partials};
    const char *templates[] = {"{{>self}}", "{{>ping}}", "{{>indent}}", "{{<self}}{{/self}}",
                               "{{<x}}{{$a}}{{$a}}{{/a}}{{/a}}{{/x}}"};
    json_object_set_new(partials.map, "x", json_string("{{$a}}{{/a}}"));
    for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
        struct diagnostics d;
        char *out;
        diag_init(&d);
        assert_int_equal(render(&out, templates[i], "{}", &opt, &d), DDB_EINPUT);
        assert_non_null(strstr(diag_first_message(&d), "nest deeper"));
        free(out);
        diag_free(&d);
    }
    json_decref(partials.map);
}

static void test_output_cap(void **state)
{
    (void)state;
    struct mustache_options opt = {.max_output = 100};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(
        render(&out, "{{#a}}0123456789{{/a}}", "{\"a\": [1,2,3,4,5,6,7,8,9,10,11]}", &opt, &d),
        DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "exceed the limit of 100 bytes"));
    assert_true(strlen(out) <= 100);
    free(out);
    diag_free(&d);

    /* The buffer's own cap counts too, and is restored afterwards. */
    struct mustache_template *t = NULL;
    struct buf b;
    buf_init(&b, 16);
    diag_init(&d);
    assert_int_equal(mustache_compile(&t, "t", "{{v}}", 5, &d), 0);
    json_t *data = json_pack("{s:s}", "v", "<<<<<<<<");
    assert_int_equal(mustache_render(&b, t, data, NULL, &d), DDB_EINPUT);
    assert_int_equal(b.max, 16);
    json_decref(data);
    mustache_free(t);
    buf_free(&b);
    diag_free(&d);
}

/* Random templates from pieces that matter to the parser: nothing may crash (the sanitizer
 * build runs this too). */
static void test_random_templates(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "{{",     "}}",     "{{{",    "}}}",    "#a",     "/a",     "^a",    ">p", "<p",
        "$b",     "/b",     "/p",     "=",      "!",      "&",      "{",     "}",  "\n",
        " ",      "a",      ".",      "*",      "\r\n",   "\xff",   "<% %>", "x",  "{{#a}}",
        "{{/a}}", "{{>p}}", "{{<p}}", "{{/p}}", "{{$b}}", "{{/b}}", "{{a}}", "  ",
    };
    size_t piece_count = sizeof(pieces) / sizeof(pieces[0]);
    struct memory_partials partials = {
        .map = json_pack("{s:s}", "p", "{{#a}}\n  {{$b}}x{{/b}}\n{{/a}}{{>p}}")};
    struct mustache_options opt = {.load_partial = load_memory_partial,
                                   .partial_ctx = &partials,
                                   .max_depth = 40,
                                   .max_output = 1 << 20};
    srand(12345);
    for (int round = 0; round < 20000; round++) {
        struct buf t;
        buf_init(&t, 0);
        int n = rand() % 24;
        for (int i = 0; i < n; i++)
            buf_puts(&t, pieces[rand() % piece_count]);
        struct diagnostics d;
        char *out;
        diag_init(&d);
        int error = render_bytes(&out, buf_cstr(&t), t.len,
                                 "{\"a\": [1, {\"a\": false}], \"b\": \"<\"}", &opt, &d);
        assert_true(error == 0 || error == DDB_EINPUT);
        assert_true(error == 0 || d.errors > 0);
        free(out);
        diag_free(&d);
        buf_free(&t);
    }
    json_decref(partials.map);
}

/* ---- speed ----------------------------------------------------------------------------- */

static void test_speed(void **state)
{
    (void)state;
    json_t *rows = json_array();
    for (int i = 0; i < 100000; i++)
        json_array_append_new(
            rows, json_pack("{s:s,s:i,s:b}", "name", "table-<x>", "items", i, "encrypted", i % 2));
    json_t *data = json_pack("{s:o,s:s}", "rows", rows, "region", "eu-west-1");
    struct memory_partials partials = {
        .map = json_pack("{s:s}", "status",
                         "{{#encrypted}}yes{{/encrypted}}{{^encrypted}}no{{/encrypted}}")};
    struct mustache_options opt = {.load_partial = load_memory_partial, .partial_ctx = &partials};
    const char *template = "{{#rows}}<tr><td>{{name}}</td><td>{{items}}</td><td>{{region}}</td>"
                           "<td>{{>status}}</td></tr>\n{{/rows}}";
    struct mustache_template *t = NULL;
    struct diagnostics d;
    struct buf out;
    diag_init(&d);
    buf_init(&out, 0);
    assert_int_equal(mustache_compile(&t, "t", template, strlen(template), &d), 0);
    clock_t start = clock();
    assert_int_equal(mustache_render(&out, t, data, &opt, &d), 0);
    double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    printf("rendered 100000 rows (%zu bytes) in %.3f s\n", out.len, seconds);
    assert_true(seconds < 1.0 * SLOWDOWN);
    assert_non_null(strstr(out.data, "<tr><td>table-&lt;x&gt;</td><td>99999</td><td>eu-west-1</td>"
                                     "<td>yes</td></tr>\n"));
    mustache_free(t);
    buf_free(&out);
    json_decref(data);
    json_decref(partials.map);
    diag_free(&d);
}

/* ---- the command ----------------------------------------------------------------------- */

/* Runs `ddbaudit template render ARGS...` in-process, capturing stdout. */
static int run_command(char **stdout_text, struct diagnostics *d, int argc, char **argv)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *capture = tmpfile();
    assert_non_null(capture);
    dup2(fileno(capture), STDOUT_FILENO);
    int rc = command_template_render.exec(argc, argv, d);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    long size = ftell(capture);
    *stdout_text = calloc(1, (size_t)(size > 0 ? size : 0) + 1);
    rewind(capture);
    if (size > 0)
        assert_int_equal(fread(*stdout_text, 1, (size_t)size, capture), (size_t)size);
    fclose(capture);
    return rc;
}

static void test_command_renders(void **state)
{
    (void)state;
    char *argv[] = {"render", "tests/data/templates/report.html.mustache",
                    "tests/data/templates/data.json", NULL};
    struct diagnostics d;
    char *out;
    diag_init(&d);
    assert_int_equal(run_command(&out, &d, 3, argv), 0);
    assert_non_null(strstr(out, "<h1>DynamoDB &lt;encryption&gt; &amp; keys</h1>"));
    assert_non_null(strstr(out, "orders&quot;&gt;&lt;img"));
    free(out);

    /* --format overrides the extension; --partials picks the directory. */
    char *md[] = {"render",
                  "--format",
                  "md",
                  "tests/data/templates/report.html.mustache",
                  "tests/data/templates/data.json",
                  "--partials",
                  "tests/data/templates/override",
                  NULL};
    assert_int_equal(run_command(&out, &d, 7, md), 0);
    assert_non_null(strstr(out, "<h1>DynamoDB \\<encryption\\> \\& keys</h1>"));
    assert_non_null(strstr(out, "payments (override)"));
    free(out);

    char *summary[] = {"render", "tests/data/templates/summary.md.mustache",
                       "tests/data/templates/data.json", NULL};
    assert_int_equal(run_command(&out, &d, 3, summary), 0);
    assert_non_null(strstr(out, "| payments | pass |\n"));
    free(out);
    assert_int_equal(d.errors, 0);
    diag_free(&d);
}

static void test_command_errors(void **state)
{
    (void)state;
    struct {
        int argc;
        char *argv[6];
        int rc;
        const char *file;
        int line, col;
        const char *needle;
    } cases[] = {
        {3,
         {"render", "tests/data/templates/unclosed.md.mustache", "tests/data/templates/data.json"},
         DDB_EINPUT,
         "tests/data/templates/unclosed.md.mustache",
         3,
         1,
         "unclosed section '#tables'"},
        {3,
         {"render", "tests/data/templates/mismatched.md.mustache",
          "tests/data/templates/data.json"},
         DDB_EINPUT,
         "tests/data/templates/mismatched.md.mustache",
         5,
         1,
         "mismatched closing tag '/tables': the open section is '#tags' (line 4, column 1)"},
        {3,
         {"render", "tests/data/templates/report.html.mustache", "tests/data/templates/bad.json"},
         DDB_EINPUT,
         "tests/data/templates/bad.json",
         3,
         19,
         "unexpected token near ']'"},
        {4,
         {"render", "--strict", "tests/data/templates/missing-partial.mustache",
          "tests/data/templates/data.json"},
         DDB_EINPUT,
         "tests/data/templates/missing-partial.mustache",
         1,
         12,
         "unknown partial 'missing'"},
        {2,
         {"render", "tests/data/templates/report.html.mustache"},
         DDB_EUSAGE,
         NULL,
         0,
         0,
         "expected a template and a data file"},
        {5,
         {"render", "--format", "pdf", "tests/data/templates/report.html.mustache",
          "tests/data/templates/data.json"},
         DDB_EUSAGE,
         NULL,
         0,
         0,
         "unknown format 'pdf'"},
        {4,
         {"render", "--bogus", "tests/data/templates/report.html.mustache",
          "tests/data/templates/data.json"},
         DDB_EUSAGE,
         NULL,
         0,
         0,
         "unknown option '--bogus'"},
        {4,
         {"render", "tests/data/templates/report.html.mustache", "tests/data/templates/data.json",
          "--partials"},
         DDB_EUSAGE,
         NULL,
         0,
         0,
         "needs a value"},
        {3,
         {"render", "tests/data/templates/nope.mustache", "tests/data/templates/data.json"},
         DDB_EINPUT,
         "tests/data/templates/nope.mustache",
         0,
         0,
         "cannot open"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diagnostics d;
        char *out;
        diag_init(&d);
        int rc = run_command(&out, &d, cases[i].argc, cases[i].argv);
        if (rc != cases[i].rc || !strstr(diag_first_message(&d), cases[i].needle))
            diag_print(&d, stderr);
        assert_int_equal(rc, cases[i].rc);
        assert_non_null(strstr(diag_first_message(&d), cases[i].needle));
        if (cases[i].file) {
            assert_string_equal(d.entries[0].file, cases[i].file);
            assert_int_equal(d.entries[0].line, cases[i].line);
            assert_int_equal(d.entries[0].col, cases[i].col);
        }
        assert_string_equal(out, "");
        free(out);
        diag_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_other_values),
        cmocka_unit_test(test_truthiness),
        cmocka_unit_test(test_escape_function),
        cmocka_unit_test(test_unclosed_section),
        cmocka_unit_test(test_mismatched_close),
        cmocka_unit_test(test_unclosed_tags),
        cmocka_unit_test(test_bad_delimiters),
        cmocka_unit_test(test_empty_names),
        cmocka_unit_test(test_strict_mode),
        cmocka_unit_test(test_unknown_partial),
        cmocka_unit_test(test_error_in_partial),
        cmocka_unit_test(test_partial_cache),
        cmocka_unit_test(test_dynamic_parent),
        cmocka_unit_test(test_partial_indentation),
        cmocka_unit_test(test_dir_loader),
        cmocka_unit_test(test_report_fixture),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_huge_tag_name),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_recursive_partials),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_random_templates),
        cmocka_unit_test(test_speed),
        cmocka_unit_test(test_command_renders),
        cmocka_unit_test(test_command_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
