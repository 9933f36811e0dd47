/* The packet writer and `verify`: a packet made from the sample report verifies; changing one
 * byte of any file, of the evidence, or adding or removing a file makes verify fail naming that
 * file; a rewrite replaces the old packet whole; and the ticket excerpt cites the packet. The
 * evidence snapshot is made here, so the test does not depend on evidence/sample's contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "digest.h"
#include "fsutil.h"
#include "packet.h"

struct fixture {
    char root[64];
    char *evidence;    /* root/evidence/sample */
    char *packet;      /* root/output/sample */
    char *manifest;    /* root/evidence/sample/manifest.json */
    json_t *report;    /* the sample, its evidence hashes rewritten to the files made here */
    size_t references; /* evidence references in the report */
};

static char *source_path(const char *relative)
{
    const char *root = getenv("DDBAUDIT_SOURCE_DIR");
    return fs_join(root && *root ? root : ".", relative);
}

static void write_file(const char *path, const char *text)
{
    struct diagnostics d;
    diag_init(&d);
    char *slash = strrchr(path, '/');
    char *dir = strndup(path, (size_t)(slash - path));
    assert_int_equal(fs_mkdirs(dir, &d), 0);
    /* Plain stdio: the test makes hundreds of files and needs no fsync. */
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(text, 1, strlen(text), file), strlen(text));
    assert_int_equal(fclose(file), 0);
    free(dir);
    diag_free(&d);
}

static void hex_of(const char *text, char hex[DIGEST_SHA256_HEX_LEN + 1])
{
    digest_sha256_hex(text, strlen(text), hex);
}

/* One evidence file per distinct path the report cites, its content derived from the path. */
static void make_evidence(struct fixture *f)
{
    size_t i, j, k;
    json_t *control, *finding, *item;
    char hex[DIGEST_SHA256_HEX_LEN + 1];
    struct buf content;
    buf_init(&content, 0);
    json_array_foreach(json_object_get(f->report, "controls"), i, control)
    {
        json_array_foreach(json_object_get(control, "findings"), j, finding)
        {
            json_array_foreach(json_object_get(finding, "evidence"), k, item)
            {
                const char *file = json_string_value(json_object_get(item, "file"));
                char *path = fs_join(f->evidence, file);
                buf_reset(&content);
                buf_printf(&content, "{\"evidence\": \"%s\"}\n", file);
                write_file(path, content.data);
                hex_of(content.data, hex);
                json_object_set_new(item, "sha256", json_string(hex));
                f->references++;
                free(path);
            }
        }
    }
    buf_free(&content);
    const char manifest[] = "{\"format\": \"ddbaudit-evidence\", \"calls\": []}\n";
    write_file(f->manifest, manifest);
    hex_of(manifest, hex);
    json_object_set_new(json_object_get(f->report, "inputs"), "evidence_manifest_sha256",
                        json_string(hex));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->root, sizeof(f->root), "/tmp/ddbaudit-packet-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    f->evidence = fs_join(f->root, "evidence/sample");
    f->packet = fs_join(f->root, "output/sample");
    f->manifest = fs_join(f->evidence, "manifest.json");
    char *sample = source_path("tests/data/reports/sample.json");
    json_error_t error;
    f->report = json_load_file(sample, 0, &error);
    free(sample);
    if (!f->report)
        return -1;
    make_evidence(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct diagnostics d;
    diag_init(&d);
    fs_remove_tree(f->root, &d);
    diag_free(&d);
    free(f->evidence);
    free(f->packet);
    free(f->manifest);
    json_decref(f->report);
    free(f);
    return 0;
}

static void write_packet(struct fixture *f, const char *formats)
{
    struct diagnostics d;
    char *out = NULL;
    diag_init(&d);
    if (packet_write(&out, f->packet, f->report, f->manifest, formats, NULL, &d) < 0)
        fail_msg("packet_write: %s", diag_first_message(&d));
    assert_string_equal(out, f->packet);
    free(out);
    diag_free(&d);
}

/* Runs verify; returns its code and leaves the diagnostics in *d (caller frees). */
static int run_verify(struct fixture *f, struct diagnostics *d, struct packet_verify_result *r)
{
    diag_init(d);
    int error = packet_verify(r, f->packet, f->evidence, d);
    packet_verify_result_free(r);
    return error;
}

/* True if some error diagnostic is about a file whose path ends with `suffix`. */
static int names_file(const struct diagnostics *d, const char *suffix)
{
    for (size_t i = 0; i < d->count; i++) {
        const char *file = d->entries[i].file;
        size_t n = file ? strlen(file) : 0, m = strlen(suffix);
        if (n >= m && strcmp(file + n - m, suffix) == 0)
            return 1;
    }
    return 0;
}

static void flip_byte(const char *path, long offset)
{
    FILE *file = fopen(path, "r+b");
    assert_non_null(file);
    assert_int_equal(fseek(file, offset, SEEK_SET), 0);
    int c = fgetc(file);
    assert_int_equal(fseek(file, offset, SEEK_SET), 0);
    fputc(c ^ 0x01, file);
    fclose(file);
}

static void assert_verifies(struct fixture *f)
{
    struct diagnostics d;
    struct packet_verify_result r;
    int error = run_verify(f, &d, &r);
    if (error)
        fail_msg("verify: %s: %s", d.count && d.entries[0].file ? d.entries[0].file : "",
                 diag_first_message(&d));
    diag_free(&d);
}

static void test_packet_holds_every_format(void **state)
{
    struct fixture *f = *state;
    write_packet(f, NULL);
    static const char *const names[] = {
        "report.html", "report.md",     "report.xml", "report.confluence.xml",
        "report.json", "manifest.json", "packet.json"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *path = fs_join(f->packet, names[i]);
        assert_true(fs_exists(path));
        free(path);
    }
    struct diagnostics d;
    struct packet_verify_result r;
    diag_init(&d);
    assert_int_equal(packet_verify(&r, f->packet, f->evidence, &d), 0);
    assert_int_equal(r.files, 6);
    assert_int_equal(r.evidence_refs, f->references);
    packet_verify_result_free(&r);
    diag_free(&d);
}

static void test_tampered_file_is_named(void **state)
{
    struct fixture *f = *state;
    static const char *const names[] = {"report.html",           "report.md",   "report.xml",
                                        "report.confluence.xml", "report.json", "manifest.json"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        write_packet(f, NULL);
        char *path = fs_join(f->packet, names[i]);
        flip_byte(path, 200);
        struct diagnostics d;
        struct packet_verify_result r;
        assert_int_equal(run_verify(f, &d, &r), DDB_EINPUT);
        if (!names_file(&d, names[i]))
            fail_msg("verify did not name %s: %s", names[i], diag_first_message(&d));
        diag_free(&d);
        free(path);
    }
}

static void test_added_and_missing_files_are_named(void **state)
{
    struct fixture *f = *state;
    write_packet(f, NULL);
    char *extra = fs_join(f->packet, "extra.html");
    char *xml = fs_join(f->packet, "report.xml");
    write_file(extra, "<p>not from ddbaudit</p>");
    assert_int_equal(unlink(xml), 0);
    struct diagnostics d;
    struct packet_verify_result r;
    assert_int_equal(run_verify(f, &d, &r), DDB_EINPUT);
    assert_true(names_file(&d, "extra.html"));
    assert_true(names_file(&d, "report.xml"));
    diag_free(&d);
    free(extra);
    free(xml);
}

static void test_changed_evidence_is_named(void **state)
{
    struct fixture *f = *state;
    write_packet(f, NULL);
    assert_verifies(f);
    const char *file = "111122223333/eu-west-1/dynamodb/ListTables.json";
    char *path = fs_join(f->evidence, file);
    char *original = NULL;
    size_t len = 0;
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(fs_read_file(&original, &len, path, 1 << 20, &d), 0);
    flip_byte(path, 3);
    struct packet_verify_result r;
    diag_free(&d);
    assert_int_equal(run_verify(f, &d, &r), DDB_EINPUT);
    assert_true(names_file(&d, file));
    assert_int_equal(d.errors, 1); /* cited many times, reported once */
    diag_free(&d);
    write_file(path, original);
    unlink(path);
    assert_int_equal(run_verify(f, &d, &r), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "missing"));
    diag_free(&d);
    write_file(path, original);
    assert_verifies(f);
    free(original);
    free(path);
}

/* Rewrites `name` in the packet and lists its new hash in packet.json, so that only the
 * content check (not the hash check) can catch it. */
static void replace_and_rehash(struct fixture *f, const char *name, const char *text)
{
    char *path = fs_join(f->packet, name), *index_path = fs_join(f->packet, "packet.json");
    char hex[DIGEST_SHA256_HEX_LEN + 1];
    write_file(path, text);
    hex_of(text, hex);
    json_error_t error;
    json_t *index = json_load_file(index_path, 0, &error);
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(index, "files"), i, entry)
    {
        if (strcmp(json_string_value(json_object_get(entry, "path")), name) == 0) {
            json_object_set_new(entry, "sha256", json_string(hex));
            json_object_set_new(entry, "size", json_integer((json_int_t)strlen(text)));
        }
    }
    assert_int_equal(json_dump_file(index, index_path, JSON_INDENT(2)), 0);
    json_decref(index);
    free(path);
    free(index_path);
}

static void test_schemas_are_checked(void **state)
{
    struct fixture *f = *state;
    write_packet(f, NULL);
    /* A report.json that parses but breaks the schema. */
    json_t *broken = json_deep_copy(f->report);
    json_t *control = json_array_get(json_object_get(broken, "controls"), 3);
    json_object_set_new(control, "status", json_string("passs"));
    json_object_del(control, "title");
    char *text = json_dumps(broken, JSON_INDENT(2));
    replace_and_rehash(f, "report.json", text);
    struct diagnostics d;
    struct packet_verify_result r;
    assert_int_equal(run_verify(f, &d, &r), DDB_EINPUT);
    assert_true(names_file(&d, "report.json"));
    assert_int_equal(d.errors, 2);
    assert_non_null(strstr(d.entries[0].message, "/controls/3/status") ? d.entries[0].message
                                                                       : d.entries[1].message);
    diag_free(&d);
    free(text);
    json_decref(broken);

    /* XML that is well-formed but not valid against the XSD, and Confluence that is not
     * well-formed. */
    write_packet(f, NULL);
    replace_and_rehash(f, "report.xml",
                       "<?xml version=\"1.0\"?>\n<report xmlns=\"https://ddbaudit.invalid/schema/"
                       "report-1.xsd\" schema_version=\"1\"><bogus/></report>\n");
    replace_and_rehash(f, "report.confluence.xml", "<p>unclosed <strong>tag</p>\n");
    assert_int_equal(run_verify(f, &d, &r), DDB_EINPUT);
    assert_true(names_file(&d, "report.xml"));
    assert_true(names_file(&d, "report.confluence.xml"));
    diag_free(&d);
}

static void test_rewrite_replaces_whole_packet(void **state)
{
    struct fixture *f = *state;
    write_packet(f, NULL);
    char *md = fs_join(f->packet, "report.md");
    char *index = fs_join(f->packet, "packet.json");
    char *first = NULL, *second = NULL;
    size_t len = 0;
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(fs_read_file(&first, &len, index, 1 << 20, &d), 0);
    /* The same report gives the same bytes. */
    write_packet(f, NULL);
    assert_int_equal(fs_read_file(&second, &len, index, 1 << 20, &d), 0);
    assert_string_equal(first, second);
    /* A packet of fewer formats replaces the old one entirely: no stale report.md. */
    write_packet(f, "html,json");
    assert_false(fs_exists(md));
    assert_verifies(f);
    /* A trailing slash names the same directory (the temporary one must not go inside it). */
    struct buf slashed;
    buf_init(&slashed, 0);
    buf_printf(&slashed, "%s/", f->packet);
    assert_int_equal(packet_write(NULL, slashed.data, f->report, f->manifest, NULL, NULL, &d), 0);
    buf_free(&slashed);
    assert_true(fs_exists(md));
    assert_verifies(f);
    /* Nothing is left beside it: no temporary or set-aside directory. */
    char *output = fs_join(f->root, "output");
    DIR *dir = opendir(output);
    struct dirent *entry;
    size_t entries = 0;
    while ((entry = readdir(dir)))
        if (entry->d_name[0] != '.' || (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..")))
            entries++;
    closedir(dir);
    assert_int_equal(entries, 1);
    free(output);
    free(first);
    free(second);
    free(md);
    free(index);
    diag_free(&d);
}

static void test_bad_inputs_write_nothing(void **state)
{
    struct fixture *f = *state;
    struct diagnostics d;
    char *elsewhere = fs_join(f->root, "output/other");
    diag_init(&d);
    assert_int_equal(packet_write(NULL, elsewhere, f->report, f->manifest, "html,pdf", NULL, &d),
                     DDB_EUSAGE);
    assert_int_equal(packet_write(NULL, elsewhere, f->report, f->manifest, "ticket-md", NULL, &d),
                     DDB_EUSAGE);
    /* A manifest that is not the one the report was made from. */
    char *other_manifest = fs_join(f->root, "other-manifest.json");
    write_file(other_manifest, "{}\n");
    assert_int_equal(packet_write(NULL, elsewhere, f->report, other_manifest, NULL, NULL, &d),
                     DDB_EINPUT);
    assert_false(fs_exists(elsewhere));
    /* A snapshot name that would leave the output directory. */
    json_t *report = json_deep_copy(f->report);
    json_object_set_new(json_object_get(report, "inputs"), "snapshot", json_string("../x"));
    assert_int_equal(packet_write(NULL, NULL, report, NULL, NULL, NULL, &d), DDB_EINPUT);
    json_decref(report);
    free(other_manifest);
    free(elsewhere);
    diag_free(&d);
}

static void test_ticket_cites_control_evidence_and_packet(void **state)
{
    struct fixture *f = *state;
    write_packet(f, NULL);
    const char *resource = "arn:aws:dynamodb:us-east-1:111122223333:table/tmp-migration";
    struct diagnostics d;
    struct buf out;
    diag_init(&d);
    buf_init(&out, 0);
    if (packet_ticket(&out, f->report, "DDB-21", resource, "ticket-md", f->packet, NULL, &d) < 0)
        fail_msg("ticket: %s", diag_first_message(&d));
    const char *md = buf_cstr(&out);
    assert_non_null(strstr(md, "DDB\\-21 Tagging: Remediate"));
    assert_non_null(strstr(md, "table/tmp\\-migration"));
    assert_non_null(strstr(md, "RISK\\-101"));
    assert_non_null(strstr(md, "expires 2027\\-01\\-31"));
    assert_non_null(strstr(md, "packet.json SHA\\-256"));
    /* Only the asked resource's findings. */
    assert_null(strstr(md, "table/orders"));
    /* The evidence with its hash. */
    json_t *control = json_array_get(json_object_get(f->report, "controls"), 20);
    assert_string_equal(json_string_value(json_object_get(control, "id")), "DDB-21");
    size_t i;
    json_t *finding;
    json_array_foreach(json_object_get(control, "findings"), i, finding)
    {
        if (strcmp(json_string_value(json_object_get(finding, "resource")), resource) == 0) {
            json_t *item = json_array_get(json_object_get(finding, "evidence"), 0);
            assert_non_null(strstr(md, json_string_value(json_object_get(item, "sha256"))));
        }
    }
    buf_reset(&out);
    assert_int_equal(
        packet_ticket(&out, f->report, "DDB-21", resource, "ticket-jira", f->packet, NULL, &d), 0);
    assert_non_null(strstr(buf_cstr(&out), "h3. DDB\\-21 Tagging: Remediate"));
    assert_non_null(strstr(buf_cstr(&out), "[RISK\\-101|https://"));
    buf_reset(&out);
    assert_int_equal(packet_ticket(&out, f->report, "DDB-21", NULL, "ticket-html", NULL, NULL, &d),
                     0);
    assert_non_null(strstr(buf_cstr(&out), "<strong>DDB-21 Tagging: Remediate.</strong>"));
    assert_non_null(strstr(buf_cstr(&out), "(no packet written)"));

    assert_int_equal(packet_ticket(&out, f->report, "DDB-99", NULL, "ticket-md", NULL, NULL, &d),
                     DDB_EUSAGE);
    assert_int_equal(
        packet_ticket(&out, f->report, "DDB-21", "arn:nope", "ticket-md", NULL, NULL, &d),
        DDB_EUSAGE);
    assert_int_equal(packet_ticket(&out, f->report, "DDB-21", NULL, "html", NULL, NULL, &d),
                     DDB_EUSAGE);
    buf_free(&out);
    diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_packet_holds_every_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_file_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_added_and_missing_files_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_evidence_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schemas_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrite_replaces_whole_packet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_inputs_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ticket_cites_control_evidence_and_packet, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
