/* The official Mustache spec (shared/testdata/mustache-spec, see its PROVENANCE.md), one cmocka
 * test per spec case, named "<file>: <case name>". ~lambdas.json is skipped: lambdas need code
 * in the data, and our data is JSON. Rendering uses escape_html, the spec's escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "escape.h"
#include "mustache.h"

struct spec_case {
    char *name; /* "<file>: <case name>" */
    json_t *test;
};

static int load_spec_partial(char **text, size_t *len, char **source_name, const char *name,
                             void *ctx, struct diagnostics *d)
{
    (void)d;
    json_t *partial = json_object_get((json_t *)ctx, name);
    *source_name = NULL;
    if (!json_is_string(partial))
        return 0;
    *len = json_string_length(partial);
    *text = malloc(*len + 1);
    if (!*text)
        return DDB_ERUNTIME;
    memcpy(*text, json_string_value(partial), *len + 1);
    return 0;
}

/* Prints a string with newlines, tabs and carriage returns made visible. */
static void print_visible(const char *label, const char *s, size_t len)
{
    fprintf(stderr, "%s \"", label);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", stderr);
        else if (c == '\r')
            fputs("\\r", stderr);
        else if (c == '\t')
            fputs("\\t", stderr);
        else if (c < 0x20)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputs("\"\n", stderr);
}

static void run_case(void **state)
{
    const struct spec_case *c = *state;
    json_t *test = c->test;
    const char *template = json_string_value(json_object_get(test, "template"));
    const char *expected = json_string_value(json_object_get(test, "expected"));
    assert_non_null(template);
    assert_non_null(expected);

    struct diagnostics d;
    struct buf out;
    struct mustache_template *t = NULL;
    diag_init(&d);
    buf_init(&out, 0);
    json_t *partials = json_object_get(test, "partials");
    struct mustache_options opt = {
        .escape = escape_html,
        .load_partial = partials ? load_spec_partial : NULL,
        .partial_ctx = partials,
    };
    int error = mustache_compile(&t, "template", template,
                                 json_string_length(json_object_get(test, "template")), &d);
    if (error == 0)
        error = mustache_render(&out, t, json_object_get(test, "data"), &opt, &d);
    int ok = error == 0 && out.len == strlen(expected) &&
             memcmp(out.data ? out.data : "", expected, out.len) == 0;
    if (!ok) {
        fprintf(stderr, "%s\n", c->name);
        print_visible("  template:", template, strlen(template));
        print_visible("  expected:", expected, strlen(expected));
        if (error)
            diag_print(&d, stderr);
        else
            print_visible("  got:     ", buf_cstr(&out), out.len);
    }
    mustache_free(t);
    buf_free(&out);
    diag_free(&d);
    if (!ok)
        fail_msg("%s", c->name);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *shared = getenv("DDBAUDIT_SHARED_DIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/testdata/mustache-spec", shared ? shared : "../shared");
    DIR *listing = opendir(dir);
    if (!listing) {
        printf("skipped: no mustache spec at %s\n", dir);
        return 77;
    }
    char *files[64];
    size_t file_count = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) && file_count < 64) {
        size_t n = strlen(entry->d_name);
        if (n > 5 && strcmp(entry->d_name + n - 5, ".json") == 0)
            files[file_count++] = strdup(entry->d_name);
    }
    closedir(listing);
    qsort(files, file_count, sizeof(files[0]), compare_names);

    json_t *documents = json_array();
    struct spec_case *cases = NULL;
    size_t case_count = 0;
    for (size_t f = 0; f < file_count; f++) {
        if (strcmp(files[f], "~lambdas.json") == 0) {
            printf("skipping %s: lambdas are out of scope (the data model is JSON, which has no "
                   "functions)\n",
                   files[f]);
            continue;
        }
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
        json_error_t json_error;
        json_t *doc = json_load_file(path, 0, &json_error);
        if (!doc) {
            fprintf(stderr, "%s:%d:%d: %s\n", path, json_error.line, json_error.column,
                    json_error.text);
            return 1;
        }
        json_array_append_new(documents, doc);
        json_t *tests = json_object_get(doc, "tests");
        size_t i;
        json_t *test;
        json_array_foreach(tests, i, test)
        {
            struct spec_case *grown = realloc(cases, (case_count + 1) * sizeof(*cases));
            if (!grown)
                return 1;
            cases = grown;
            const char *name = json_string_value(json_object_get(test, "name"));
            size_t len = strlen(files[f]) + strlen(name ? name : "?") + 3;
            cases[case_count].name = malloc(len);
            snprintf(cases[case_count].name, len, "%s: %s", files[f], name ? name : "?");
            cases[case_count].test = test;
            case_count++;
        }
    }

    struct CMUnitTest *tests = calloc(case_count ? case_count : 1, sizeof(*tests));
    for (size_t i = 0; i < case_count; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    int failed = _cmocka_run_group_tests("mustache_spec", tests, case_count, NULL, NULL);

    for (size_t i = 0; i < case_count; i++)
        free(cases[i].name);
    free(cases);
    free(tests);
    for (size_t f = 0; f < file_count; f++)
        free(files[f]);
    json_decref(documents);
    return failed ? 1 : 0;
}
