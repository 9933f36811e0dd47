/* Runs every case of both SigV4 test suites in $DDBAUDIT_SHARED_DIR/testdata/sigv4 through the
 * signer, one named cmocka test per case and mode, comparing canonical request, string to sign,
 * signature and the signed request's additions. Exits 77 when the data is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "fsutil.h"
#include "sigv4.h"

#define MAX_FILE ((size_t)1 << 20)
#define MAX_HEADERS 32

enum suite { SUITE_V4, SUITE_CLASSIC };
enum mode { MODE_HEADER, MODE_QUERY };

struct test_case {
    enum suite suite;
    enum mode mode;
    char *dir;  /* the case folder */
    char *name; /* the folder's last component */
};

/* A request read from request.txt / .req. */
struct parsed_request {
    char *method;
    char *path;
    char *query; /* NULL when none */
    struct sigv4_header headers[MAX_HEADERS];
    char *header_storage[MAX_HEADERS * 2];
    size_t header_count;
    char *body;
    size_t body_len;
};

static char *dup_range(const char *start, size_t len)
{
    char *out = malloc(len + 1);
    assert_non_null(out);
    memcpy(out, start, len);
    out[len] = '\0';
    return out;
}

static char *read_text(const char *dir, const char *file)
{
    char *path = fs_join(dir, file);
    struct diagnostics d;
    diag_init(&d);
    char *text = NULL;
    size_t len = 0;
    int rc = fs_read_file(&text, &len, path, MAX_FILE, &d);
    if (rc < 0)
        fail_msg("%s: %s", path, diag_first_message(&d));
    diag_free(&d);
    free(path);
    /* The harness strips any '\r' before comparing (PROVENANCE.md). */
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\r')
            text[n++] = text[i];
    text[n] = '\0';
    return text;
}

/* The HTTP request reader the suites need: request line "METHOD SP target SP HTTP/1.1" (the
 * target may contain spaces: it is everything up to the final " HTTP/1.1"), "Name:value" header
 * lines, continuation lines that start with whitespace (obs-fold), an empty line, the body. */
static void parse_request(struct parsed_request *out, const char *text)
{
    memset(out, 0, sizeof(*out));
    const char *line_end = strchr(text, '\n');
    size_t line_len = line_end ? (size_t)(line_end - text) : strlen(text);
    const char *space = memchr(text, ' ', line_len);
    assert_non_null(space);
    out->method = dup_range(text, (size_t)(space - text));
    const char *target = space + 1;
    size_t target_len = (size_t)(text + line_len - target);
    const char *suffix = " HTTP/1.1";
    assert_true(target_len >= strlen(suffix));
    assert_memory_equal(target + target_len - strlen(suffix), suffix, strlen(suffix));
    target_len -= strlen(suffix);
    const char *question = memchr(target, '?', target_len);
    if (question) {
        out->path = dup_range(target, (size_t)(question - target));
        out->query = dup_range(question + 1, target_len - (size_t)(question - target) - 1);
    } else {
        out->path = dup_range(target, target_len);
    }

    const char *cursor = line_end ? line_end + 1 : text + line_len;
    while (*cursor) {
        line_end = strchr(cursor, '\n');
        line_len = line_end ? (size_t)(line_end - cursor) : strlen(cursor);
        if (line_len == 0) {
            cursor = line_end + 1;
            out->body_len = strlen(cursor);
            out->body = dup_range(cursor, out->body_len);
            return;
        }
        if (cursor[0] == ' ' || cursor[0] == '\t') {
            assert_true(out->header_count > 0);
            size_t i = out->header_count - 1;
            char *previous = out->header_storage[2 * i + 1];
            size_t previous_len = strlen(previous);
            char *joined = malloc(previous_len + 1 + line_len + 1);
            assert_non_null(joined);
            memcpy(joined, previous, previous_len);
            joined[previous_len] = ' ';
            memcpy(joined + previous_len + 1, cursor, line_len);
            joined[previous_len + 1 + line_len] = '\0';
            free(previous);
            out->header_storage[2 * i + 1] = joined;
            out->headers[i].value = joined;
        } else {
            const char *colon = memchr(cursor, ':', line_len);
            assert_non_null(colon);
            assert_true(out->header_count < MAX_HEADERS);
            size_t i = out->header_count++;
            out->header_storage[2 * i] = dup_range(cursor, (size_t)(colon - cursor));
            out->header_storage[2 * i + 1] =
                dup_range(colon + 1, line_len - (size_t)(colon - cursor) - 1);
            out->headers[i].name = out->header_storage[2 * i];
            out->headers[i].value = out->header_storage[2 * i + 1];
        }
        if (!line_end)
            break;
        cursor = line_end + 1;
    }
}

static void parsed_request_free(struct parsed_request *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    free(r->body);
    for (size_t i = 0; i < 2 * r->header_count; i++)
        free(r->header_storage[i]);
}

/* The value of header `name` in a signed-request file, compared as a set (order-free). */
static char *signed_request_header(const char *text, const char *name)
{
    struct parsed_request r;
    parse_request(&r, text);
    char *value = NULL;
    for (size_t i = 0; i < r.header_count; i++)
        if (!strcasecmp(r.headers[i].name, name)) {
            const char *v = r.headers[i].value;
            while (*v == ' ')
                v++;
            value = strdup(v);
        }
    parsed_request_free(&r);
    return value;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Decodes %XX and re-encodes with the SigV4 rules: the signed-request files keep raw UTF-8. */
static void append_canonical(struct buf *out, const char *text, size_t len)
{
    struct buf decoded;
    buf_init(&decoded, 0);
    for (size_t i = 0; i < len; i++) {
        unsigned int byte;
        if (text[i] == '%' && i + 2 < len && sscanf(text + i + 1, "%2x", &byte) == 1) {
            assert_int_equal(buf_putc(&decoded, (char)byte), 0);
            i += 2;
        } else {
            assert_int_equal(buf_putc(&decoded, text[i]), 0);
        }
    }
    assert_int_equal(sigv4_uri_encode(out, buf_cstr(&decoded), decoded.len, 0), 0);
    buf_free(&decoded);
}

/* Splits a query on '&', canonicalizes each piece and sorts them, to compare queries as sets. */
static char *sorted_query(const char *query)
{
    char *pieces[64];
    size_t count = 0;
    for (const char *cursor = query; cursor && count < 64;) {
        const char *amp = strchr(cursor, '&');
        size_t len = amp ? (size_t)(amp - cursor) : strlen(cursor);
        const char *equals = memchr(cursor, '=', len);
        size_t name_len = equals ? (size_t)(equals - cursor) : len;
        struct buf piece;
        buf_init(&piece, 0);
        append_canonical(&piece, cursor, name_len);
        assert_int_equal(buf_putc(&piece, '='), 0);
        if (equals)
            append_canonical(&piece, equals + 1, len - name_len - 1);
        pieces[count++] = buf_detach(&piece);
        cursor = amp ? amp + 1 : NULL;
    }
    qsort(pieces, count, sizeof(pieces[0]), compare_strings);
    struct buf out;
    buf_init(&out, 0);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(buf_printf(&out, "%s%s", i ? "&" : "", pieces[i]), 0);
        free(pieces[i]);
    }
    return buf_detach(&out);
}

/* Fixed values of both suites (PROVENANCE.md). */
static const char *const access_key_id = "AKIDEXAMPLE";
static const char *const secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/* The session token a classic case signs: botocore takes it from the .creq. */
static char *classic_token_from(const char *text)
{
    const char *line = strstr(text, "x-amz-security-token:");
    if (!line)
        line = strstr(text, "X-Amz-Security-Token:");
    if (!line)
        return NULL;
    line += strlen("x-amz-security-token:");
    const char *end = strchr(line, '\n');
    return dup_range(line, end ? (size_t)(end - line) : strlen(line));
}

/* "2015-08-30T12:36:00Z" -> seconds since the epoch. */
static time_t parse_timestamp(const char *text)
{
    struct tm tm = {0};
    assert_non_null(text);
    assert_int_equal(sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static void run_case(void **state)
{
    const struct test_case *tc = *state;
    const char *prefix = tc->mode == MODE_QUERY ? "query-" : "header-";
    char file[512];
    struct parsed_request request;
    struct sigv4_params params = {
        .access_key_id = access_key_id,
        .secret_access_key = secret_access_key,
    };
    char *token = NULL, *region = NULL, *service = NULL;
    json_t *context = NULL;
    char *expected_creq, *expected_sts, *expected_signature, *signed_request;

    snprintf(file, sizeof(file), "%s.req", tc->name);
    char *request_text = read_text(tc->dir, tc->suite == SUITE_V4 ? "request.txt" : file);
    parse_request(&request, request_text);

    if (tc->suite == SUITE_V4) {
        char *context_text = read_text(tc->dir, "context.json");
        json_error_t error;
        context = json_loads(context_text, 0, &error);
        free(context_text);
        assert_non_null(context);
        json_t *credentials = json_object_get(context, "credentials");
        assert_string_equal(json_string_value(json_object_get(credentials, "access_key_id")),
                            access_key_id);
        assert_string_equal(json_string_value(json_object_get(credentials, "secret_access_key")),
                            secret_access_key);
        const char *context_token = json_string_value(json_object_get(credentials, "token"));
        token = context_token ? strdup(context_token) : NULL;
        region = strdup(json_string_value(json_object_get(context, "region")));
        service = strdup(json_string_value(json_object_get(context, "service")));
        params.time = parse_timestamp(json_string_value(json_object_get(context, "timestamp")));
        params.expires_seconds =
            (long)json_integer_value(json_object_get(context, "expiration_in_seconds"));
        if (!json_is_true(json_object_get(context, "normalize")))
            params.flags |= SIGV4_NO_NORMALIZE_PATH;
        if (json_is_true(json_object_get(context, "omit_session_token")))
            params.flags |= SIGV4_OMIT_SESSION_TOKEN;
        if (json_is_true(json_object_get(context, "sign_body")))
            params.flags |= SIGV4_CONTENT_SHA256_HEADER;
        if (tc->mode == MODE_QUERY)
            params.flags |= SIGV4_QUERY;

        snprintf(file, sizeof(file), "%scanonical-request.txt", prefix);
        expected_creq = read_text(tc->dir, file);
        snprintf(file, sizeof(file), "%sstring-to-sign.txt", prefix);
        expected_sts = read_text(tc->dir, file);
        snprintf(file, sizeof(file), "%ssignature.txt", prefix);
        expected_signature = read_text(tc->dir, file);
        snprintf(file, sizeof(file), "%ssigned-request.txt", prefix);
        signed_request = read_text(tc->dir, file);
    } else {
        region = strdup("us-east-1");
        service = strdup("service");
        params.time = parse_timestamp("2015-08-30T12:36:00Z");
        snprintf(file, sizeof(file), "%s.creq", tc->name);
        expected_creq = read_text(tc->dir, file);
        snprintf(file, sizeof(file), "%s.sts", tc->name);
        expected_sts = read_text(tc->dir, file);
        snprintf(file, sizeof(file), "%s.authz", tc->name);
        char *authz = read_text(tc->dir, file);
        const char *signature = strstr(authz, "Signature=");
        assert_non_null(signature);
        expected_signature = strdup(signature + strlen("Signature="));
        /* Compare the whole Authorization value with .authz (not .sreq: see PROVENANCE.md). */
        signed_request = authz;
        token = classic_token_from(expected_creq);
        if (!strcmp(tc->name, "post-sts-header-after")) {
            /* The token is added after signing, so only the .sreq has it. */
            snprintf(file, sizeof(file), "%s.sreq", tc->name);
            char *sreq = read_text(tc->dir, file);
            token = signed_request_header(sreq, "X-Amz-Security-Token");
            free(sreq);
            params.flags |= SIGV4_OMIT_SESSION_TOKEN;
        }
    }
    params.region = region;
    params.service = service;
    params.session_token = token;

    struct sigv4_request sign_request = {
        .method = request.method,
        .path = request.path,
        .query = request.query,
        .headers = request.headers,
        .header_count = request.header_count,
        .body = request.body,
        .body_len = request.body_len,
    };
    struct sigv4_signed result;
    struct diagnostics d;
    diag_init(&d);
    int rc = sigv4_sign(&result, &sign_request, &params, &d);
    if (rc < 0)
        fail_msg("sigv4_sign: %s", diag_first_message(&d));

    assert_string_equal(result.canonical_request, expected_creq);
    assert_string_equal(result.string_to_sign, expected_sts);
    assert_string_equal(result.signature, expected_signature);

    if (tc->suite == SUITE_CLASSIC) {
        assert_string_equal(sigv4_signed_header(&result, "Authorization"), signed_request);
    } else if (tc->mode == MODE_HEADER) {
        /* Every header signing added must appear, with the same value, in the signed request. */
        for (size_t i = 0; i < result.header_count; i++) {
            char *expected = signed_request_header(signed_request, result.headers[i].name);
            if (!expected)
                fail_msg("signed request lacks %s", result.headers[i].name);
            assert_string_equal(result.headers[i].value, expected);
            free(expected);
        }
    } else {
        struct parsed_request expected_request;
        parse_request(&expected_request, signed_request);
        assert_non_null(expected_request.query);
        char *expected_query = sorted_query(expected_request.query);
        char *actual_query = sorted_query(result.query);
        assert_string_equal(actual_query, expected_query);
        free(expected_query);
        free(actual_query);
        parsed_request_free(&expected_request);
    }

    sigv4_signed_free(&result);
    diag_free(&d);
    json_decref(context);
    free(expected_creq);
    free(expected_sts);
    free(expected_signature);
    free(signed_request);
    free(token);
    free(region);
    free(service);
    parsed_request_free(&request);
    free(request_text);
}

struct case_list {
    struct test_case *items;
    size_t count, capacity;
};

static void add_case(struct case_list *list, enum suite suite, enum mode mode, const char *dir,
                     const char *name)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 64;
        list->items = realloc(list->items, list->capacity * sizeof(*list->items));
        if (!list->items)
            abort();
    }
    struct test_case *tc = &list->items[list->count++];
    tc->suite = suite;
    tc->mode = mode;
    tc->dir = strdup(dir);
    tc->name = strdup(name);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted subdirectory names of dir (the caller frees each and the array). */
static size_t list_subdirs(char ***out, const char *dir)
{
    DIR *handle = opendir(dir);
    size_t count = 0, capacity = 0;
    char **names = NULL;
    struct dirent *entry;
    while (handle && (entry = readdir(handle))) {
        if (entry->d_name[0] == '.')
            continue;
        char *path = fs_join(dir, entry->d_name);
        if (fs_is_dir(path)) {
            if (count == capacity) {
                capacity = capacity ? capacity * 2 : 64;
                names = realloc(names, capacity * sizeof(*names));
                if (!names)
                    abort();
            }
            names[count++] = strdup(entry->d_name);
        }
        free(path);
    }
    if (handle)
        closedir(handle);
    if (count)
        qsort(names, count, sizeof(*names), compare_names);
    *out = names;
    return count;
}

/* Classic cases are folders <name>/ holding <name>.req, at the top level or one level down. */
static void find_classic_cases(struct case_list *list, const char *dir, int depth)
{
    char **names;
    size_t count = list_subdirs(&names, dir);
    for (size_t i = 0; i < count; i++) {
        char *sub = fs_join(dir, names[i]);
        char request_name[512];
        snprintf(request_name, sizeof(request_name), "%s.req", names[i]);
        char *request_path = fs_join(sub, request_name);
        if (fs_exists(request_path))
            add_case(list, SUITE_CLASSIC, MODE_HEADER, sub, names[i]);
        else if (depth < 1)
            find_classic_cases(list, sub, depth + 1);
        free(request_path);
        free(sub);
        free(names[i]);
    }
    free(names);
}

int main(void)
{
    const char *shared = getenv("DDBAUDIT_SHARED_DIR");
    if (!shared)
        shared = "/work/shared";
    char *base = fs_join(shared, "testdata/sigv4");
    char *v4_dir = fs_join(base, "aws-signing-test-suite/v4");
    char *classic_dir = fs_join(base, "aws-sig-v4-test-suite");
    if (!fs_is_dir(v4_dir) || !fs_is_dir(classic_dir)) {
        printf("skipped: SigV4 suites not found under %s\n", base);
        free(base);
        free(v4_dir);
        free(classic_dir);
        return 77;
    }

    struct case_list list = {0};
    char **names;
    size_t count = list_subdirs(&names, v4_dir);
    for (size_t i = 0; i < count; i++) {
        char *sub = fs_join(v4_dir, names[i]);
        add_case(&list, SUITE_V4, MODE_HEADER, sub, names[i]);
        add_case(&list, SUITE_V4, MODE_QUERY, sub, names[i]);
        free(sub);
        free(names[i]);
    }
    free(names);
    size_t v4_count = list.count;
    find_classic_cases(&list, classic_dir, 0);

    struct CMUnitTest *tests = calloc(list.count, sizeof(*tests));
    char **test_names = calloc(list.count, sizeof(*test_names));
    for (size_t i = 0; i < list.count; i++) {
        struct test_case *tc = &list.items[i];
        struct buf name;
        buf_init(&name, 0);
        if (tc->suite == SUITE_V4)
            buf_printf(&name, "v4/%s/%s", tc->name, tc->mode == MODE_QUERY ? "query" : "header");
        else
            buf_printf(&name, "classic/%s", tc->name);
        test_names[i] = buf_detach(&name);
        tests[i].name = test_names[i];
        tests[i].test_func = run_case;
        tests[i].initial_state = tc;
    }
    printf("sigv4 suites: %zu aws-c-auth (header + query), %zu classic cases\n", v4_count,
           list.count - v4_count);
    int failures = _cmocka_run_group_tests("sigv4_suites", tests, list.count, NULL, NULL);

    for (size_t i = 0; i < list.count; i++) {
        free(list.items[i].dir);
        free(list.items[i].name);
        free(test_names[i]);
    }
    free(list.items);
    free(tests);
    free(test_names);
    free(base);
    free(v4_dir);
    free(classic_dir);
    return failures ? 1 : 0;
}
