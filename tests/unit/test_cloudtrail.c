/* The CloudTrail scanner over the hand-made fixtures in tests/data/cloudtrail: both shapes,
 * gzip and plain, every kind of damage, and every chunk boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cloudtrail.h"
#include "diag.h"
#include "digest.h"

static char *data_path(const char *relative)
{
    const char *root = getenv("DDBAUDIT_SOURCE_DIR");
    struct buf path;
    buf_init(&path, 0);
    assert_int_equal(buf_printf(&path, "%s/tests/data/cloudtrail/%s", root ? root : ".", relative),
                     0);
    return buf_detach(&path);
}

/* Every kept event as "eventID@file_index:offset:page:index\n". */
struct seen {
    struct buf list;
    size_t count;
    int stop_after; /* 0 = never */
};

static int on_event(void *ctx, json_t *event, const struct cloudtrail_source *source)
{
    struct seen *seen = ctx;
    const char *id = json_string_value(json_object_get(event, "eventID"));
    buf_printf(&seen->list, "%s@%zu:%llu:%llu:%llu\n", id ? id : "-", source->file_index,
               (unsigned long long)source->offset, (unsigned long long)source->page,
               (unsigned long long)source->index);
    seen->count++;
    if (seen->stop_after && seen->count == (size_t)seen->stop_after)
        return DDB_ERUNTIME;
    return 0;
}

static int scan_with(struct cloudtrail_scan *scan, struct seen *seen, struct diagnostics *d,
                     const char *relative, size_t chunk, size_t max_record)
{
    struct cloudtrail_options options = {.chunk_size = chunk, .max_record = max_record};
    char *path = data_path(relative);
    cloudtrail_scan_init(scan, &options);
    buf_init(&seen->list, 0);
    seen->count = 0;
    seen->stop_after = 0;
    diag_init(d);
    int error = cloudtrail_scan_path(scan, path, on_event, seen, d);
    free(path);
    return error;
}

static int warned(const struct diagnostics *d, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->entries[i].message, needle))
            return 1;
    return 0;
}

/* Each source offset points at the '{' of a record holding the same event. */
static void check_offsets(const struct cloudtrail_scan *scan, const struct seen *seen)
{
    const char *line = buf_cstr(&seen->list);
    while (*line) {
        char id[128];
        size_t file_index;
        unsigned long long offset, page, index;
        assert_int_equal(
            sscanf(line, "%127[^@]@%zu:%llu:%llu:%llu", id, &file_index, &offset, &page, &index),
            5);
        char *content = NULL;
        size_t len = 0;
        struct diagnostics d;
        diag_init(&d);
        assert_int_equal(
            cloudtrail_read_content(&content, &len, scan->files[file_index].path, 1 << 26, &d), 0);
        assert_true(offset < len);
        assert_int_equal(content[offset], '{');
        json_t *record = json_loadb(content + offset, len - offset, JSON_DISABLE_EOF_CHECK, NULL);
        assert_non_null(record);
        json_t *wrapped = json_object_get(record, "CloudTrailEvent");
        json_t *event =
            wrapped ? json_loads(json_string_value(wrapped), 0, NULL) : json_incref(record);
        assert_string_equal(json_string_value(json_object_get(event, "eventID")), id);
        json_decref(event);
        json_decref(record);
        free(content);
        diag_free(&d);
        line = strchr(line, '\n') + 1;
    }
}

static void test_records_shape(void **state)
{
    (void)state;
    struct cloudtrail_scan scan;
    struct seen seen;
    struct diagnostics d;
    assert_int_equal(scan_with(&scan, &seen, &d, "records", 0, 0), 0);
    assert_int_equal(d.count, 0);
    assert_int_equal(scan.file_count, 4);
    assert_int_equal(scan.records, 41);
    assert_int_equal(scan.kept, 38);
    /* ec2 and sts by the substring test; the s3 record names dynamodb.amazonaws.com in its
     * parameters, so only the eventSource test before parsing drops it. */
    assert_int_equal(scan.prefiltered, 3);
    int compressed = 0;
    for (size_t i = 0; i < scan.file_count; i++) {
        assert_int_equal(scan.files[i].status, CLOUDTRAIL_FILE_OK);
        assert_int_equal(scan.files[i].shape, CLOUDTRAIL_SHAPE_RECORDS);
        assert_int_equal(strlen(scan.files[i].sha256), 64);
        compressed += scan.files[i].compressed;
    }
    assert_int_equal(compressed, 2);
    check_offsets(&scan, &seen);
    buf_free(&seen.list);
    diag_free(&d);
    cloudtrail_scan_free(&scan);
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The event ids of a seen-list, sorted, one per line. */
static char *sorted_ids(const char *list)
{
    char *lines[256];
    size_t n = 0;
    while (*list && n < 256) {
        const char *at = strchr(list, '@');
        lines[n++] = strndup(list, (size_t)(at - list));
        list = strchr(list, '\n') + 1;
    }
    qsort(lines, n, sizeof(*lines), compare_lines);
    struct buf out;
    buf_init(&out, 0);
    for (size_t i = 0; i < n; i++) {
        buf_printf(&out, "%s\n", lines[i]);
        free(lines[i]);
    }
    return buf_detach(&out);
}

static void test_lookup_shape_matches_records(void **state)
{
    (void)state;
    struct cloudtrail_scan records, lookup;
    struct seen from_records, from_lookup;
    struct diagnostics d1, d2;
    assert_int_equal(scan_with(&records, &from_records, &d1, "records", 0, 0), 0);
    assert_int_equal(scan_with(&lookup, &from_lookup, &d2, "lookup", 0, 0), 0);
    assert_int_equal(d2.count, 0);
    assert_int_equal(lookup.kept, records.kept);
    for (size_t i = 0; i < lookup.file_count; i++)
        assert_int_equal(lookup.files[i].shape, CLOUDTRAIL_SHAPE_EVENTS);
    /* The same event ids; the lookup fixture keeps the records' order within each file. */
    char *ids_records = sorted_ids(buf_cstr(&from_records.list));
    char *ids_lookup = sorted_ids(buf_cstr(&from_lookup.list));
    assert_string_equal(ids_records, ids_lookup);
    free(ids_records);
    free(ids_lookup);
    check_offsets(&lookup, &from_lookup);
    buf_free(&from_records.list);
    buf_free(&from_lookup.list);
    diag_free(&d1);
    diag_free(&d2);
    cloudtrail_scan_free(&records);
    cloudtrail_scan_free(&lookup);
}

/* The boundary finder must give the same answer whatever the read size. */
static void test_every_chunk_boundary(void **state)
{
    (void)state;
    const char *inputs[] = {"records", "lookup", "hostile"};
    const size_t chunks[] = {1, 2, 3, 7, 61, 4096};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct cloudtrail_scan reference;
        struct seen expected;
        struct diagnostics d0;
        scan_with(&reference, &expected, &d0, inputs[i], 0, 0);
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct cloudtrail_scan scan;
            struct seen seen;
            struct diagnostics d;
            scan_with(&scan, &seen, &d, inputs[i], chunks[c], 0);
            assert_string_equal(buf_cstr(&seen.list), buf_cstr(&expected.list));
            assert_int_equal(scan.records, reference.records);
            assert_int_equal(scan.kept, reference.kept);
            for (size_t f = 0; f < scan.file_count; f++) {
                assert_int_equal(scan.files[f].status, reference.files[f].status);
                assert_int_equal(scan.files[f].skipped, reference.files[f].skipped);
                assert_string_equal(scan.files[f].sha256, reference.files[f].sha256);
            }
            buf_free(&seen.list);
            diag_free(&d);
            cloudtrail_scan_free(&scan);
        }
        buf_free(&expected.list);
        diag_free(&d0);
        cloudtrail_scan_free(&reference);
    }
}

struct hostile_case {
    const char *file;
    enum cloudtrail_file_status status;
    uint64_t records, kept, skipped;
    const char *warning; /* NULL = no warning expected */
};

static void test_hostile_files(void **state)
{
    (void)state;
    static const struct hostile_case cases[] = {
        {"binary.json", CLOUDTRAIL_FILE_DAMAGED, 0, 0, 0, "byte 0: unexpected byte 0x00"},
        {"broken-record.json", CLOUDTRAIL_FILE_DAMAGED, 3, 2, 1, "is not valid JSON"},
        {"deep-nesting.json", CLOUDTRAIL_FILE_DAMAGED, 2, 1, 1, "maximum parsing depth"},
        {"empty.json", CLOUDTRAIL_FILE_TRUNCATED, 0, 0, 0, "no data"},
        {"ends-in-string.json", CLOUDTRAIL_FILE_TRUNCATED, 1, 0, 1, "file ends inside the record"},
        {"escaped-source.json", CLOUDTRAIL_FILE_OK, 1, 1, 0, NULL},
        {"garbage.json.gz", CLOUDTRAIL_FILE_DAMAGED, 0, 0, 0, "outside any record"},
        {"huge-integer.json", CLOUDTRAIL_FILE_OK, 1, 1, 0, NULL},
        {"invalid-utf8.json", CLOUDTRAIL_FILE_OK, 1, 1, 0, "invalid UTF-8"},
        {"lookup-bad-inner.json", CLOUDTRAIL_FILE_DAMAGED, 2, 1, 1, "CloudTrailEvent"},
        {"ndjson.json", CLOUDTRAIL_FILE_OK, 3, 2, 0, NULL},
        {"not-gzip.json.gz", CLOUDTRAIL_FILE_OK, 1, 1, 0, "not gzip"},
        {"not-object.json", CLOUDTRAIL_FILE_DAMAGED, 6, 1, 5, "is not an object"},
        {"trailing-junk.json.gz", CLOUDTRAIL_FILE_DAMAGED, 1, 1, 0, "after the end of the gzip"},
        {"truncated.json.gz", CLOUDTRAIL_FILE_TRUNCATED, 1, 0, 1, "gzip stream is truncated"},
        {"two-members.json.gz", CLOUDTRAIL_FILE_OK, 2, 2, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct hostile_case *c = &cases[i];
        struct buf relative;
        buf_init(&relative, 0);
        buf_printf(&relative, "hostile/%s", c->file);
        struct cloudtrail_scan scan;
        struct seen seen;
        struct diagnostics d;
        int error = scan_with(&scan, &seen, &d, buf_cstr(&relative), 0, 0);
        print_message("%s\n", c->file);
        assert_int_equal(error, 0);
        assert_int_equal(scan.file_count, 1);
        assert_int_equal(scan.files[0].status, c->status);
        assert_int_equal(scan.files[0].records, c->records);
        assert_int_equal(scan.files[0].kept, c->kept);
        assert_int_equal(scan.files[0].skipped, c->skipped);
        assert_int_equal(d.errors, 0); /* damage is a warning; the scan goes on */
        char sha[DIGEST_SHA256_HEX_LEN + 1];
        assert_int_equal(digest_file_sha256_hex(sha, NULL, scan.files[0].path, &d), 0);
        assert_string_equal(scan.files[0].sha256, sha); /* of the whole file, read or not */
        if (c->warning) {
            assert_true(warned(&d, c->warning));
            assert_string_equal(d.entries[0].file, scan.files[0].path);
        } else
            assert_int_equal(d.count, 0);
        buf_free(&relative);
        buf_free(&seen.list);
        diag_free(&d);
        cloudtrail_scan_free(&scan);
    }
}

/* A directory with broken files in it still yields every good event. */
static void test_hostile_directory_goes_on(void **state)
{
    (void)state;
    struct cloudtrail_scan scan;
    struct seen seen;
    struct diagnostics d;
    assert_int_equal(scan_with(&scan, &seen, &d, "hostile", 0, 0), 0);
    assert_int_equal(scan.file_count, 16);
    assert_int_equal(scan.kept, 14);
    buf_free(&seen.list);
    diag_free(&d);
    cloudtrail_scan_free(&scan);
}

static char *big_record_file(size_t padding)
{
    struct buf text;
    buf_init(&text, 0);
    buf_puts(&text, "{\"Records\":[{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventID\":\"big\","
                    "\"padding\":\"");
    for (size_t i = 0; i < padding; i++)
        buf_putc(&text, 'A');
    buf_puts(&text, "\"},{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventID\":\"small\"}]}");
    return buf_detach(&text);
}

static void test_record_size_cap(void **state)
{
    (void)state;
    char *text = big_record_file(1 << 20);
    struct cloudtrail_options small = {.max_record = 64 << 10, .chunk_size = 4096};
    struct cloudtrail_scan scan;
    struct seen seen = {0};
    struct diagnostics d;
    diag_init(&d);
    buf_init(&seen.list, 0);
    cloudtrail_scan_init(&scan, &small);
    assert_int_equal(
        cloudtrail_scan_memory(&scan, "big.json", text, strlen(text), on_event, &seen, &d), 0);
    char expected[64];
    snprintf(expected, sizeof(expected), "small@0:%td:0:1\n",
             strstr(text, "{\"eventSource\":\"dynamodb.amazonaws.com\",\"eventID\":\"small\"") -
                 text);
    assert_string_equal(buf_cstr(&seen.list), expected);
    assert_true(warned(&d, "larger than the 65536-byte record limit"));
    assert_int_equal(scan.files[0].skipped, 1);
    cloudtrail_scan_free(&scan);
    diag_free(&d);
    buf_free(&seen.list);

    struct cloudtrail_options large = {.max_record = 4 << 20};
    diag_init(&d);
    buf_init(&seen.list, 0);
    seen.count = 0;
    cloudtrail_scan_init(&scan, &large);
    assert_int_equal(
        cloudtrail_scan_memory(&scan, "big.json", text, strlen(text), on_event, &seen, &d), 0);
    assert_int_equal(seen.count, 2);
    assert_int_equal(d.count, 0);
    cloudtrail_scan_free(&scan);
    diag_free(&d);
    buf_free(&seen.list);
    free(text);
}

static void test_only_wanted_sources(void **state)
{
    (void)state;
    const char *kms[] = {"kms.amazonaws.com"};
    struct cloudtrail_options options = {.sources = kms, .source_count = 1};
    struct cloudtrail_scan scan;
    struct seen seen = {0};
    struct diagnostics d;
    char *path = data_path("records");
    diag_init(&d);
    buf_init(&seen.list, 0);
    cloudtrail_scan_init(&scan, &options);
    assert_int_equal(cloudtrail_scan_path(&scan, path, on_event, &seen, &d), 0);
    assert_int_equal(scan.kept, 8);
    assert_true(scan.prefiltered >= 30);
    free(path);
    cloudtrail_scan_free(&scan);
    diag_free(&d);
    buf_free(&seen.list);
}

static void test_callback_stops_the_scan(void **state)
{
    (void)state;
    struct cloudtrail_scan scan;
    struct seen seen = {.stop_after = 3};
    struct diagnostics d;
    char *path = data_path("records");
    diag_init(&d);
    buf_init(&seen.list, 0);
    cloudtrail_scan_init(&scan, NULL);
    assert_int_equal(cloudtrail_scan_path(&scan, path, on_event, &seen, &d), DDB_ERUNTIME);
    assert_int_equal(seen.count, 3);
    free(path);
    cloudtrail_scan_free(&scan);
    diag_free(&d);
    buf_free(&seen.list);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct cloudtrail_scan scan;
    struct diagnostics d;
    diag_init(&d);
    cloudtrail_scan_init(&scan, NULL);
    assert_int_equal(cloudtrail_scan_path(&scan, "/nonexistent/x.json.gz", NULL, NULL, &d),
                     DDB_EINPUT);
    assert_int_equal(scan.files[0].status, CLOUDTRAIL_FILE_UNREADABLE);
    assert_true(warned(&d, "cannot read"));
    cloudtrail_scan_free(&scan);
    diag_free(&d);
}

static void test_pages_of_saved_output(void **state)
{
    (void)state;
    const char *text =
        "{\"Events\":[{\"CloudTrailEvent\":\"{\\\"eventSource\\\":\\\"iam.amazonaws."
        "com\\\",\\\"eventID\\\":\\\"a\\\"}\"}],\"NextToken\":\"t\"}\n"
        "{\"Events\":[{\"CloudTrailEvent\":\"{}\"},{\"CloudTrailEvent\":\"{\\\"eventSo"
        "urce\\\":\\\"iam.amazonaws.com\\\",\\\"eventID\\\":\\\"b\\\"}\"}]}";
    struct cloudtrail_scan scan;
    struct seen seen = {0};
    struct diagnostics d;
    diag_init(&d);
    buf_init(&seen.list, 0);
    cloudtrail_scan_init(&scan, NULL);
    assert_int_equal(
        cloudtrail_scan_memory(&scan, "pages", text, strlen(text), on_event, &seen, &d), 0);
    char expected[64];
    snprintf(expected, sizeof(expected), "a@0:11:0:0\nb@0:%td:1:1\n",
             strstr(strchr(text, '\n'), "{\"CloudTrailEvent\":\"{\\\"eventSo") - text);
    assert_string_equal(buf_cstr(&seen.list), expected);
    assert_int_equal(scan.files[0].shape, CLOUDTRAIL_SHAPE_EVENTS);
    cloudtrail_scan_free(&scan);
    diag_free(&d);
    buf_free(&seen.list);
}

static enum cloudtrail_detail never_whole(const char *event_source, const char *event_name)
{
    (void)event_source;
    return strcmp(event_name, "CreateTable") == 0 ? CLOUDTRAIL_WHOLE : CLOUDTRAIL_SUMMARY;
}

/* Summaries: the same events as whole records, carrying what activity.c reads. */
static void test_summaries(void **state)
{
    (void)state;
    const char *inputs[] = {"records", "hostile"};
    for (size_t i = 0; i < 2; i++) {
        struct cloudtrail_scan whole, summary;
        struct seen expected, seen;
        struct diagnostics d1, d2;
        scan_with(&whole, &expected, &d1, inputs[i], 0, 0);
        struct cloudtrail_options options = {.detail = never_whole, .chunk_size = 7};
        char *path = data_path(inputs[i]);
        cloudtrail_scan_init(&summary, &options);
        buf_init(&seen.list, 0);
        seen.count = 0;
        seen.stop_after = 0;
        diag_init(&d2);
        assert_int_equal(cloudtrail_scan_path(&summary, path, on_event, &seen, &d2), 0);
        assert_string_equal(buf_cstr(&seen.list), buf_cstr(&expected.list));
        assert_int_equal(summary.kept, whole.kept);
        /* A summary skips the members it does not read, so invalid UTF-8 in a userAgent is
         * not even seen: one warning fewer for hostile/invalid-utf8.json, never one more. */
        assert_true(d2.count <= d1.count && d2.count + 1 >= d1.count);
        free(path);
        buf_free(&seen.list);
        buf_free(&expected.list);
        diag_free(&d1);
        diag_free(&d2);
        cloudtrail_scan_free(&whole);
        cloudtrail_scan_free(&summary);
    }
}

static int check_summary(void *ctx, json_t *event, const struct cloudtrail_source *source)
{
    (void)source;
    (void)ctx;
    const char *name = json_string_value(json_object_get(event, "eventName"));
    if (strcmp(name, "CreateTable") == 0) {
        assert_non_null(json_object_get(event, "requestParameters"));
        return 0;
    }
    assert_null(json_object_get(event, "requestParameters"));
    assert_null(json_object_get(event, "userAgent"));
    assert_non_null(json_object_get(event, "eventTime"));
    assert_non_null(json_object_get(event, "eventID"));
    assert_non_null(
        json_string_value(json_object_get(json_object_get(event, "userIdentity"), "arn")));
    assert_non_null(
        json_string_value(json_object_get(json_object_get(event, "tlsDetails"), "tlsVersion")));
    assert_null(json_object_get(json_object_get(event, "tlsDetails"), "cipherSuite"));
    if (strcmp(name, "GetItem") == 0)
        assert_string_equal(json_string_value(json_object_get(event, "vpcEndpointId")),
                            "vpce-0123456789abcdef0");
    if (strcmp(name, "DescribeTable") == 0)
        assert_string_equal(json_string_value(json_object_get(event, "errorCode")),
                            "AccessDeniedException");
    return 0;
}

static void test_summary_members(void **state)
{
    (void)state;
    struct cloudtrail_options options = {.detail = never_whole};
    struct cloudtrail_scan scan;
    struct diagnostics d;
    char *path = data_path("records");
    diag_init(&d);
    cloudtrail_scan_init(&scan, &options);
    assert_int_equal(cloudtrail_scan_path(&scan, path, check_summary, NULL, &d), 0);
    assert_int_equal(scan.kept, 38);
    free(path);
    diag_free(&d);
    cloudtrail_scan_free(&scan);
}

static int count_event(void *ctx, json_t *event, const struct cloudtrail_source *source)
{
    (void)event;
    (void)source;
    (*(size_t *)ctx)++;
    return 0;
}

/* Deterministic mutation fuzzing: flipped, dropped and duplicated bytes and cut tails of every
 * fixture, through both the whole-record and the summary paths and odd read sizes. Nothing may
 * crash (the sanitizer build runs this), and damage stays a warning. */
static void test_mutations(void **state)
{
    (void)state;
    static const char *const fixtures[] = {
        "records/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/07/01/"
        "111122223333_CloudTrail_eu-west-1_20260701T0800Z_kms00001.json",
        "records/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/07/01/"
        "111122223333_CloudTrail_eu-west-1_20260701T0800Z_iam00001.json.gz",
        "lookup/lookup-events-dynamodb.json",
        "hostile/ndjson.json",
        "hostile/not-object.json",
    };
    static const char interesting[] = "{}[]\",:\\u0 \n\xff\x1f\x8b";
    uint32_t seed = 12345;
    for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
        char *path = data_path(fixtures[f]);
        char *content = NULL;
        size_t len = 0;
        struct diagnostics d;
        diag_init(&d);
        FILE *file = fopen(path, "rb");
        assert_non_null(file);
        struct buf raw;
        buf_init(&raw, 0);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0)
            buf_append(&raw, chunk, n);
        fclose(file);
        content = raw.data;
        len = raw.len;
        for (int round = 0; round < 600; round++) {
            struct buf mutated;
            buf_init(&mutated, 0);
            buf_append(&mutated, content, len);
            int edits = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
            for (int e = 0; e < edits && mutated.len > 0; e++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % mutated.len;
                switch ((seed >> 4) % 4) {
                case 0:
                    mutated.data[at] = interesting[(seed >> 20) % (sizeof(interesting) - 1)];
                    break;
                case 1:
                    memmove(mutated.data + at, mutated.data + at + 1, mutated.len - at - 1);
                    mutated.len--;
                    break;
                case 2:
                    mutated.data[at] ^= (char)(1u << ((seed >> 24) % 8));
                    break;
                default:
                    mutated.len = at; /* cut */
                    break;
                }
            }
            struct cloudtrail_options options = {
                .chunk_size = 1 + (seed >> 10) % 97,
                .detail = round % 2 ? never_whole : NULL,
                .max_record = round % 3 ? 0 : 1 + (seed >> 3) % 4096,
            };
            struct cloudtrail_scan scan;
            size_t events = 0;
            cloudtrail_scan_init(&scan, &options);
            assert_int_equal(cloudtrail_scan_memory(&scan, "mutated", mutated.data, mutated.len,
                                                    count_event, &events, &d),
                             0);
            assert_int_equal(d.errors, 0);
            assert_true(events <= scan.records);
            cloudtrail_scan_free(&scan);
            buf_free(&mutated);
        }
        buf_free(&raw);
        diag_free(&d);
        free(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_shape),
        cmocka_unit_test(test_lookup_shape_matches_records),
        cmocka_unit_test(test_every_chunk_boundary),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_hostile_directory_goes_on),
        cmocka_unit_test(test_record_size_cap),
        cmocka_unit_test(test_only_wanted_sources),
        cmocka_unit_test(test_callback_stops_the_scan),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_pages_of_saved_output),
        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_summary_members),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
