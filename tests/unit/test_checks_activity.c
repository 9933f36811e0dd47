/* checks_activity.c: what CloudTrail activity says about DDB-05, 08, 11, 16, 17 and 22. Each
 * case builds the activity JSON by hand (the shape activity_sources.c produces), runs one
 * function on a bare check context, and looks at the findings: status, resource, reason, and
 * the citation of the record (file, sha256, pointer, offset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "catalog.h"
#include "check.h"
#include "checks_activity.h"
#include "evidence.h"
#include "results.h"

#include <stdio.h>
#include <string.h>

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define LOOKUP_EU "111122223333/eu-west-1/cloudtrail/LookupEvents/dynamodb.amazonaws.com.json"

struct harness {
    struct evidence_snapshot snapshot;
    char *regions[2];
    struct control control;
    struct control_result result;
    struct check_context ctx;
    json_t *activity;
};

static void harness_init(struct harness *h, const char *activity_json, const char *params_json)
{
    memset(h, 0, sizeof(*h));
    h->regions[0] = "eu-west-1";
    h->regions[1] = "us-east-1";
    h->snapshot.account = "111122223333";
    h->snapshot.partition = "aws";
    h->snapshot.regions = h->regions;
    h->snapshot.region_count = 2;
    h->control.id = "DDB-XX";
    h->control.params = json_loads(params_json ? params_json : "{}", 0, NULL);
    assert_non_null(h->control.params);
    h->result.control = &h->control;
    if (activity_json) {
        json_error_t error;
        h->activity = json_loads(activity_json, 0, &error);
        if (!h->activity)
            fprintf(stderr, "bad test JSON: %s at %d:%d\n", error.text, error.line, error.column);
        assert_non_null(h->activity);
    }
    h->ctx.control = &h->control;
    h->ctx.evidence = &h->snapshot;
    h->ctx.as_of = "2026-10-01";
    h->ctx.result = &h->result;
    h->ctx.activity = h->activity;
}

static void harness_free(struct harness *h)
{
    for (size_t i = 0; i < h->result.finding_count; i++) {
        free(h->result.findings[i].resource);
        free(h->result.findings[i].reason);
        json_decref(h->result.findings[i].evidence);
    }
    free(h->result.findings);
    json_decref(h->result.notes);
    json_decref(h->control.params);
    json_decref(h->activity);
}

static const struct finding *find(const struct harness *h, const char *resource_suffix)
{
    size_t n = strlen(resource_suffix);
    for (size_t i = 0; i < h->result.finding_count; i++) {
        const char *r = h->result.findings[i].resource;
        size_t m = strlen(r);
        if (m >= n && !strcmp(r + m - n, resource_suffix))
            return &h->result.findings[i];
    }
    fprintf(stderr, "no finding for *%s; findings are:\n", resource_suffix);
    for (size_t i = 0; i < h->result.finding_count; i++)
        fprintf(stderr, "  %s %s: %s\n", h->result.findings[i].resource,
                status_name(h->result.findings[i].status), h->result.findings[i].reason);
    return NULL;
}

static const struct finding *expect(const struct harness *h, const char *resource_suffix,
                                    enum status status, const char *words)
{
    const struct finding *f = find(h, resource_suffix);
    assert_non_null(f);
    if (f->status != status || (words && !strstr(f->reason, words)))
        fprintf(stderr, "%s: got %s \"%s\", want %s with \"%s\"\n", f->resource,
                status_name(f->status), f->reason, status_name(status), words ? words : "");
    assert_int_equal(f->status, status);
    if (words)
        assert_non_null(strstr(f->reason, words));
    if (status == STATUS_PASS)
        assert_true(json_array_size(f->evidence) > 0);
    return f;
}

/* The finding cites the record: its file, hash, pointer into the file and byte offset. */
static void expect_cites(const struct finding *f, const char *file, const char *sha256,
                         const char *pointer, long long offset)
{
    size_t i;
    json_t *entry;
    json_array_foreach(f->evidence, i, entry)
    {
        if (!strcmp(json_string_value(json_object_get(entry, "file")), file) &&
            !strcmp(json_string_value(json_object_get(entry, "sha256")), sha256) &&
            !strcmp(json_string_value(json_object_get(entry, "pointer")), pointer) &&
            json_integer_value(json_object_get(entry, "offset")) == offset)
            return;
    }
    char *dump = json_dumps(f->evidence, 0);
    fprintf(stderr, "no citation of %s %s @%lld in %s\n", pointer, file, offset, dump);
    free(dump);
    fail();
}

/* An activity with two sources (a LookupEvents evidence file and a delivered log file) and
 * whatever `sections` adds. */
static char *activity_with(const char *sections)
{
    static const char *const base =
        "{\"period\": {\"start\": \"2026-07-01\", \"end\": \"2026-09-30\"},"
        " \"sources\": ["
        "  {\"file\": \"" LOOKUP_EU "\", \"sha256\": \"" SHA_A "\", \"shape\": \"lookup-events\","
        "   \"status\": \"ok\", \"records\": 5, \"kept\": 5, \"skipped\": 0, \"origin\": "
        "\"evidence\"},"
        "  {\"file\": \"logs/a.json.gz\", \"sha256\": \"" SHA_B "\", \"shape\": \"records\","
        "   \"status\": \"ok\", \"records\": 9, \"kept\": 4, \"skipped\": 0, \"origin\": "
        "\"cloudtrail_dir\"}],"
        " \"lookup_events\": [], \"dynamodb_control_plane\": [], \"iam_policy_changes\": [],"
        " \"kms\": {\"key_usage\": [], \"key_administration\": [], \"watched_keys\": []},"
        " \"transport\": {\"tls_versions\": {\"TLSv1.2\": 3}, \"below_tls_1_2\": [],"
        "   \"network\": {\"dynamodb.amazonaws.com\": {\"calls\": 3, \"via_vpc_endpoint\": 2,"
        "     \"by_aws_service\": 1, \"not_via_vpc_endpoint\": 0}},"
        "   \"not_via_vpc_endpoint\": []},"
        " \"access_denied\": [], \"counts\": {}}";
    json_t *activity = json_loads(base, 0, NULL);
    assert_non_null(activity);
    if (sections) {
        json_error_t error;
        json_t *extra = json_loads(sections, 0, &error);
        if (!extra)
            fprintf(stderr, "bad test JSON: %s at %d:%d\n", error.text, error.line, error.column);
        assert_non_null(extra);
        const char *key;
        json_t *value;
        json_object_foreach(extra, key, value)
        {
            json_t *into = json_object_get(activity, key);
            if (json_is_object(into) && json_is_object(value))
                json_object_update(into, value);
            else
                json_object_set(activity, key, value);
        }
        json_decref(extra);
    }
    char *text = json_dumps(activity, 0);
    json_decref(activity);
    return text;
}

#define LINK_B(offset, index)                                                                      \
    "{\"file_index\": 1, \"file\": \"logs/a.json.gz\", \"sha256\": \"" SHA_B                       \
    "\", \"offset\": " #offset ", \"page\": 0, \"index\": " #index "}"
#define LINK_A(offset, index)                                                                      \
    "{\"file_index\": 0, \"file\": \"" LOOKUP_EU "\", \"sha256\": \"" SHA_A                        \
    "\", \"offset\": " #offset ", \"page\": 0, \"index\": " #index "}"

static int (*const every_check[])(struct check_context *) = {
    activity_check_transport, activity_check_network, activity_check_log_coverage,
    activity_check_changes, activity_check_access};

/* ---- fail closed ---- */

static void no_activity_is_review(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(every_check) / sizeof(every_check[0]); i++) {
        struct harness h;
        harness_init(&h, NULL, NULL);
        h.ctx.activity_absent = "CloudTrail activity was not provided: test";
        assert_int_equal(every_check[i](&h.ctx), 0);
        assert_int_equal(h.result.finding_count, 1);
        const struct finding *f = expect(&h, "activity/provided", STATUS_REVIEW, "not provided");
        assert_true(f->evidence_gap); /* no risk acceptance can cover it */
        harness_free(&h);
    }
}

static void activity_not_considered_adds_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(every_check) / sizeof(every_check[0]); i++) {
        struct harness h;
        harness_init(&h, NULL, NULL);
        assert_int_equal(every_check[i](&h.ctx), 0);
        assert_int_equal(h.result.finding_count, 0);
        harness_free(&h);
    }
}

/* ---- DDB-05 ---- */

static void transport(void **state)
{
    (void)state;
    struct harness h;
    char *text = activity_with(NULL);
    harness_init(&h, text, NULL);
    activity_check_transport(&h.ctx);
    const struct finding *f = expect(&h, "activity/tls", STATUS_PASS, "below 1.2");
    expect_cites(f, "logs/a.json.gz", SHA_B, "", 0);
    harness_free(&h);
    free(text);

    text = activity_with(
        "{\"transport\": {\"tls_versions\": {\"TLSv1.1\": 2, \"TLSv1.2\": 1}, \"below_tls_1_2\": ["
        "{\"event_source\": \"dynamodb.amazonaws.com\", \"principal_arn\": "
        "\"arn:aws:iam::111122223333:user/etl\", \"operation\": \"Scan\", \"tls_version\": "
        "\"TLSv1.1\", \"count\": 2, \"first_time\": \"2026-08-19T02:03:27Z\", \"last_time\": "
        "\"2026-08-20T00:00:00Z\", \"example\": " LINK_B(
            4242, 7) "},"
                     "{\"event_source\": \"kms.amazonaws.com\", \"principal_arn\": \"arn:x\", "
                     "\"operation\": "
                     "\"Decrypt\", \"tls_version\": \"TLSv1\", \"count\": 1, \"example\": " LINK_B(
                         1, 1) "}]}}");
    harness_init(&h, text, NULL);
    activity_check_transport(&h.ctx);
    f = expect(&h, "user/etl", STATUS_REMEDIATE, "TLSv1.1");
    assert_non_null(strstr(f->reason, "2 DynamoDB Scan calls"));
    expect_cites(f, "logs/a.json.gz", SHA_B, "/Records/7", 4242);
    assert_null(find(&h, "arn:x")); /* KMS is not DynamoDB's transport */
    assert_null(find(&h, "activity/tls"));
    harness_free(&h);
    /* The catalog decides how bad an old TLS version is. */
    harness_init(&h, text, "{\"below_tls_1_2_status\": \"review\"}");
    activity_check_transport(&h.ctx);
    expect(&h, "user/etl", STATUS_REVIEW, "TLSv1.1");
    harness_free(&h);
    free(text);

    /* tlsDetails absent: cannot pass, and says why. */
    text = activity_with("{\"transport\": {\"tls_versions\": {\"not recorded\": 3}}}");
    harness_init(&h, text, NULL);
    activity_check_transport(&h.ctx);
    expect(&h, "activity/tls", STATUS_REVIEW, "tlsDetails");
    harness_free(&h);
    free(text);
    /* Some without: still a Pass, with a note saying how many are unknown. */
    text =
        activity_with("{\"transport\": {\"tls_versions\": {\"not recorded\": 4, \"TLSv1.3\": 2}}}");
    harness_init(&h, text, NULL);
    activity_check_transport(&h.ctx);
    expect(&h, "activity/tls", STATUS_PASS, NULL);
    assert_non_null(strstr(json_string_value(json_array_get(h.result.notes, 0)), "4 recorded"));
    harness_free(&h);
    free(text);
    /* No DynamoDB call at all: nothing shown, nothing passed. */
    text = activity_with("{\"transport\": {\"network\": {}}}");
    harness_init(&h, text, NULL);
    activity_check_transport(&h.ctx);
    expect(&h, "activity/tls", STATUS_REVIEW, "no DynamoDB call");
    harness_free(&h);
    free(text);
}

/* ---- DDB-08, DDB-11 ---- */

static void network(void **state)
{
    (void)state;
    struct harness h;
    char *text = activity_with(NULL);
    harness_init(&h, text, NULL);
    activity_check_network(&h.ctx);
    expect(&h, "activity/network", STATUS_PASS, "VPC endpoint (2)");
    harness_free(&h);
    free(text);

    text = activity_with(
        "{\"transport\": {\"not_via_vpc_endpoint\": [{\"event_source\": "
        "\"dynamodb.amazonaws.com\", \"principal_arn\": \"arn:aws:iam::111122223333:user/alice\", "
        "\"operation\": \"UpdateTable\", \"count\": 1, \"first_time\": \"2026-08-05T16:40:11Z\", "
        "\"last_time\": \"2026-08-05T16:40:11Z\", \"example\": " LINK_A(
            812,
            3) "},"
               "{\"event_source\": \"kms.amazonaws.com\", \"principal_arn\": \"arn:kms-caller\", "
               "\"operation\": \"Decrypt\", \"count\": 5, \"example\": " LINK_A(1, 1) "}]}}");
    harness_init(&h, text, NULL);
    activity_check_network(&h.ctx);
    const struct finding *f = expect(&h, "user/alice", STATUS_REVIEW, "did not come through");
    expect_cites(f, LOOKUP_EU, SHA_A, "/Events/3", 812);
    assert_null(find(&h, "arn:kms-caller"));
    assert_null(find(&h, "activity/network"));
    harness_free(&h);
    harness_init(&h, text, "{\"outside_vpc_endpoint_status\": \"remediate\"}");
    activity_check_network(&h.ctx);
    expect(&h, "user/alice", STATUS_REMEDIATE, NULL);
    harness_free(&h);
    free(text);

    text = activity_with("{\"transport\": {\"network\": {}}}");
    harness_init(&h, text, NULL);
    activity_check_network(&h.ctx);
    expect(&h, "activity/network", STATUS_REVIEW, "no DynamoDB call");
    harness_free(&h);
    free(text);
}

/* ---- DDB-16 ---- */

#define LOOKUP(region, start, end, outcome)                                                        \
    "{\"file\": \"" LOOKUP_EU "\", \"sha256\": \"" SHA_A "\", \"region\": \"" region               \
    "\", \"event_source\": \"dynamodb.amazonaws.com\", \"outcome\": \"" outcome                    \
    "\", \"error_code\": null, \"covered\": {\"start\": \"" start "\", \"end\": \"" end            \
    "\"}, \"covered_inferred\": false}"

static void log_coverage(void **state)
{
    (void)state;
    struct harness h;
    /* Delivered logs read whole: a Pass citing them. */
    char *text = activity_with(NULL);
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    const struct finding *f = expect(&h, "activity/coverage", STATUS_PASS, "read whole");
    expect_cites(f, "logs/a.json.gz", SHA_B, "", 0);
    harness_free(&h);
    free(text);

    /* A truncated log file: Review naming it, its hash cited. */
    text = activity_with(
        "{\"sources\": [{\"file\": \"logs/cut.json.gz\", \"sha256\": \"" SHA_B
        "\", \"shape\": \"records\", \"status\": \"truncated\", \"records\": 3, \"skipped\": 1, "
        "\"origin\": \"cloudtrail_dir\"}]}");
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    f = expect(&h, "activity/log-file/0", STATUS_REVIEW, "logs/cut.json.gz is truncated");
    expect_cites(f, "logs/cut.json.gz", SHA_B, "", 0);
    assert_null(find(&h, "activity/coverage"));
    harness_free(&h);
    free(text);

/* LookupEvents only: each region's answer must cover the period. */
#define ONLY_LOOKUP                                                                                \
    "{\"sources\": [{\"file\": \"" LOOKUP_EU "\", \"sha256\": \"" SHA_A                            \
    "\", \"shape\": \"lookup-events\", \"status\": \"ok\", \"origin\": \"evidence\"}], "           \
    "\"lookup_events\": [%s, %s]}"
    char sections[4096];
    snprintf(sections, sizeof(sections), ONLY_LOOKUP,
             LOOKUP("eu-west-1", "2026-06-15", "2026-10-01", "ok"),
             LOOKUP("us-east-1", "2026-07-01", "2026-09-30", "ok"));
    text = activity_with(sections);
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    expect(&h, "activity/coverage", STATUS_PASS, "LookupEvents answers for every region");
    harness_free(&h);
    free(text);

    snprintf(sections, sizeof(sections), ONLY_LOOKUP,
             LOOKUP("eu-west-1", "2026-07-04", "2026-10-01", "ok"),
             LOOKUP("us-east-1", "2026-07-01", "2026-09-30", "denied"));
    text = activity_with(sections);
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    expect(&h, "coverage/eu-west-1", STATUS_REVIEW, "covers 2026-07-04..2026-10-01");
    expect(&h, "coverage/us-east-1", STATUS_REVIEW, "denied");
    assert_null(find(&h, "activity/coverage"));
    harness_free(&h);
    free(text);

    /* A region with no answer at all. */
    snprintf(sections, sizeof(sections), ONLY_LOOKUP,
             LOOKUP("eu-west-1", "2026-06-01", "2026-10-01", "ok"),
             LOOKUP("eu-west-1", "2026-06-01", "2026-10-01", "ok"));
    text = activity_with(sections);
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    expect(&h, "coverage/us-east-1", STATUS_REVIEW, "no LookupEvents answer");
    harness_free(&h);
    free(text);
}

/* Log integrity (--cloudtrail-public-keys): tampering is Remediate, the unverifiable Review. */
static void log_integrity(void **state)
{
    (void)state;
    struct harness h;
    char *text = activity_with(
        "{\"integrity\": {\"digests\": ["
        "{\"file\": \"logs/d1_CloudTrail-Digest_x.json.gz\", \"signature\": \"valid\", "
        "\"chain\": \"ok\"},"
        "{\"file\": \"logs/d2_CloudTrail-Digest_x.json.gz\", \"signature\": \"invalid\", "
        "\"chain\": \"ok\"},"
        "{\"file\": \"logs/d3_CloudTrail-Digest_x.json.gz\", \"signature\": \"unavailable\", "
        "\"chain\": \"start\"}],"
        "\"log_files\": ["
        "{\"file\": \"logs/a.json.gz\", \"status\": \"changed\", \"s3_object\": \"k/a\"},"
        "{\"file\": null, \"status\": \"missing\", \"s3_object\": \"k/gone.json.gz\"},"
        "{\"file\": \"logs/new.json.gz\", \"status\": \"not_covered\"},"
        "{\"file\": \"logs/ok.json.gz\", \"status\": \"valid\"}]}}");
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    expect(&h, "activity/digest/1", STATUS_REMEDIATE, "signature invalid");
    expect(&h, "activity/digest/2", STATUS_REVIEW, "signature unavailable");
    assert_null(find(&h, "activity/digest/0"));
    const struct finding *f =
        expect(&h, "activity/log-integrity/0", STATUS_REMEDIATE, "logs/a.json.gz is changed");
    expect_cites(f, "logs/a.json.gz", SHA_B, "", 0);
    expect(&h, "activity/log-integrity/1", STATUS_REMEDIATE, "k/gone.json.gz is missing");
    expect(&h, "activity/log-integrity/2", STATUS_REVIEW, "no digest lists it");
    assert_null(find(&h, "activity/log-integrity/3"));
    assert_null(find(&h, "activity/coverage"));
    harness_free(&h);
    free(text);

    /* All valid: the coverage Pass stands; without a check, a note says it was not made. */
    text = activity_with("{\"integrity\": {\"digests\": [{\"file\": \"d\", \"signature\": "
                         "\"valid\", \"chain\": \"start\"}], \"log_files\": []}}");
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    expect(&h, "activity/coverage", STATUS_PASS, NULL);
    for (size_t i = 0; i < json_array_size(h.result.notes); i++)
        assert_null(strstr(json_string_value(json_array_get(h.result.notes, i)), "not validated"));
    harness_free(&h);
    free(text);
    text = activity_with(NULL);
    harness_init(&h, text, NULL);
    activity_check_log_coverage(&h.ctx);
    assert_non_null(strstr(json_string_value(json_array_get(h.result.notes, 0)), "not validated"));
    harness_free(&h);
    free(text);
}

/* ---- DDB-17 ---- */

#define CONCERNS                                                                                   \
    "{\"activity_concerns\": [\"table_created\", \"table_deleted\", \"pitr_disabled\"]}"

static void changes(void **state)
{
    (void)state;
    struct harness h;
    char *text = activity_with(
        "{\"dynamodb_control_plane\": ["
        "{\"time\": \"2026-08-05T16:40:11Z\", \"event_name\": \"UpdateContinuousBackups\", "
        "\"region\": \"eu-west-1\", \"table\": \"payments\", \"principal_arn\": \"arn:alice\", "
        "\"error_code\": null, \"concerns\": [\"pitr_disabled\"], \"source\": " LINK_B(
            99,
            2) "},"
               "{\"time\": \"2026-08-06T00:00:00Z\", \"event_name\": \"DeleteTable\", \"region\": "
               "\"eu-west-1\", \"table\": \"orders\", \"principal_arn\": \"arn:mallory\", "
               "\"error_code\": "
               "\"AccessDeniedException\", \"concerns\": [\"table_deleted\"], \"source\": " LINK_B(
                   5, 3) "},"
                         "{\"time\": \"2026-08-07T00:00:00Z\", \"event_name\": "
                         "\"UpdateTimeToLive\", \"region\": "
                         "\"eu-west-1\", \"table\": \"ttl\", \"principal_arn\": \"arn:bob\", "
                         "\"error_code\": null, "
                         "\"concerns\": [\"ttl_changed\"], \"source\": " LINK_B(
                             6,
                             4) "},"
                                "{\"time\": \"2026-07-14T08:12:45Z\", \"event_name\": "
                                "\"CreateTable\", \"region\": "
                                "\"us-east-1\", \"table\": \"new\", \"principal_arn\": \"arn:ci\", "
                                "\"error_code\": null, "
                                "\"concerns\": [], \"source\": " LINK_B(
                                    7,
                                    5) "}],"
                                       "\"iam_policy_changes\": [{\"time\": "
                                       "\"2026-08-27T22:58:31Z\", \"event_name\": "
                                       "\"PutRolePolicy\", \"principal_arn\": \"arn:alice\", "
                                       "\"status\": \"grants_dynamodb\", "
                                       "\"dynamodb_actions\": [\"dynamodb:*\"], \"attached_to\": "
                                       "\"ci-deployer\", \"error_code\": "
                                       "null, \"source\": " LINK_A(
                                           26,
                                           0) "}],"
                                              "\"kms\": {\"key_administration\": ["
                                              "{\"time\": \"2026-09-01T00:00:00Z\", "
                                              "\"event_name\": \"ScheduleKeyDeletion\", \"key\": "
                                              "\"arn:aws:kms:eu-west-1:111122223333:key/k1\", "
                                              "\"watched_key\": true, \"principal_arn\": "
                                              "\"arn:admin\", \"error_code\": null, "
                                              "\"source\": " LINK_B(
                                                  300,
                                                  9) "},"
                                                     "{\"time\": \"2026-09-01T00:00:00Z\", "
                                                     "\"event_name\": \"DisableKey\", \"key\": "
                                                     "\"arn:aws:kms:eu-west-1:111122223333:key/"
                                                     "other\", \"watched_key\": false, "
                                                     "\"principal_arn\": \"arn:admin\", "
                                                     "\"error_code\": null, \"source\": " LINK_B(
                                                         301, 10) "}]}}");
    harness_init(&h, text, CONCERNS);
    activity_check_changes(&h.ctx);
    const struct finding *f = expect(&h, "table/payments", STATUS_REVIEW, "pitr_disabled");
    expect_cites(f, "logs/a.json.gz", SHA_B, "/Records/2", 99);
    assert_non_null(strstr(f->resource, "arn:aws:dynamodb:eu-west-1:111122223333:table/payments"));
    expect(&h, "us-east-1:111122223333:table/new", STATUS_REVIEW, "CreateTable (table_created)");
    assert_null(find(&h, "table/orders")); /* a denied attempt changed nothing */
    assert_null(find(&h, "table/ttl"));    /* not in activity_concerns */
    f = expect(&h, "role/ci-deployer", STATUS_REVIEW, "grants DynamoDB actions (dynamodb:*)");
    expect_cites(f, LOOKUP_EU, SHA_A, "/Events/0", 26);
    expect(&h, "key/k1", STATUS_REVIEW, "ScheduleKeyDeletion on a key a table uses");
    assert_null(find(&h, "key/other"));
    assert_null(find(&h, "activity/changes"));
    harness_free(&h);
    harness_init(&h, text,
                 "{\"activity_concerns\": [\"pitr_disabled\"], \"activity_status\": "
                 "\"remediate\"}");
    activity_check_changes(&h.ctx);
    expect(&h, "table/payments", STATUS_REMEDIATE, NULL);
    harness_free(&h);
    free(text);

    text = activity_with(NULL);
    harness_init(&h, text, CONCERNS);
    activity_check_changes(&h.ctx);
    expect(&h, "activity/changes", STATUS_PASS, "no monitored change");
    harness_free(&h);
    free(text);
}

/* ---- DDB-22 ---- */

static void access(void **state)
{
    (void)state;
    struct harness h;
    char *text = activity_with(
        "{\"access_denied\": ["
        "{\"event_source\": \"dynamodb.amazonaws.com\", \"principal_arn\": \"arn:etl\", "
        "\"operation\": \"DescribeTable\", \"error_code\": \"AccessDeniedException\", \"count\": "
        "12, \"first_time\": \"2026-09-21T03:14:00Z\", \"last_time\": \"2026-09-21T03:16:57Z\", "
        "\"example\": " LINK_A(
            19844,
            11) "},"
                "{\"event_source\": \"dynamodb.amazonaws.com\", \"principal_arn\": \"arn:quiet\", "
                "\"operation\": \"Scan\", \"error_code\": \"AccessDeniedException\", \"count\": 2, "
                "\"example\": " LINK_A(
                    1, 1) "},"
                          "{\"event_source\": \"s3.amazonaws.com\", \"principal_arn\": \"arn:s3\", "
                          "\"operation\": "
                          "\"GetObject\", \"error_code\": \"AccessDenied\", \"count\": 500, "
                          "\"example\": " LINK_A(
                              2,
                              2) "}],"
                                 "\"kms\": {\"key_usage\": ["
                                 "{\"key\": \"arn:aws:kms:eu-west-1:111122223333:key/k1\", "
                                 "\"principal_arn\": "
                                 "\"arn:direct\", \"operation\": \"Decrypt\", \"via_service\": "
                                 "\"direct\", \"error_code\": "
                                 "null, \"count\": 3, \"example\": " LINK_B(
                                     77,
                                     8) "},"
                                        "{\"key\": \"arn:aws:kms:eu-west-1:111122223333:key/k2\", "
                                        "\"principal_arn\": \"arn:app\", "
                                        "\"operation\": \"Decrypt\", \"via_service\": "
                                        "\"dynamodb.amazonaws.com\", \"error_code\": "
                                        "null, \"count\": 90, \"example\": " LINK_B(78, 9) "}]}}");
    harness_init(&h, text, "{\"access_denied_threshold\": 10}");
    activity_check_access(&h.ctx);
    const struct finding *f = expect(&h, "arn:etl", STATUS_REVIEW, "12 AccessDeniedException");
    expect_cites(f, LOOKUP_EU, SHA_A, "/Events/11", 19844);
    assert_null(find(&h, "arn:quiet"));
    assert_null(find(&h, "arn:s3"));
    f = expect(&h, "key/k1", STATUS_REVIEW, "direct Decrypt");
    expect_cites(f, "logs/a.json.gz", SHA_B, "/Records/8", 77);
    assert_null(find(&h, "key/k2"));
    assert_non_null(strstr(json_string_value(json_array_get(h.result.notes, 0)), "fewer than 10"));
    harness_free(&h);
    /* A higher threshold: no spike left, but the direct key use remains. */
    harness_init(&h, text, "{\"access_denied_threshold\": 13}");
    activity_check_access(&h.ctx);
    assert_null(find(&h, "arn:etl"));
    expect(&h, "key/k1", STATUS_REVIEW, NULL);
    harness_free(&h);
    free(text);

    text = activity_with(NULL);
    harness_init(&h, text, NULL);
    activity_check_access(&h.ctx);
    expect(&h, "activity/access", STATUS_PASS, "no principal was denied");
    harness_free(&h);
    free(text);
}

/* ---- hostile event fields ---- */

static void hostile_fields(void **state)
{
    (void)state;
    size_t huge = 200000;
    char *long_name = malloc(huge + 1);
    assert_non_null(long_name);
    memset(long_name, 'A', huge);
    long_name[huge] = '\0';
    static const char *const hostile = "arn:\"q\" <script>alert(1)</script> {{#x}}{{/x}} %s %n";
    json_t *group = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o}", "event_source", "dynamodb.amazonaws.com",
        "principal_arn", hostile, "operation", long_name, "tls_version", "TLSv1.0\"><b>", "count",
        (json_int_t)1, "first_time", "{{time}}", "last_time", "<i>", "example",
        json_pack("{s:I, s:s, s:s, s:I, s:I, s:I}", "file_index", (json_int_t)1, "file",
                  "logs/<script>.json", "sha256", SHA_B, "offset", (json_int_t)5, "page",
                  (json_int_t)0, "index", (json_int_t)0));
    json_t *sections = json_pack("{s:{s:[O], s:[O]}}", "transport", "below_tls_1_2", group,
                                 "not_via_vpc_endpoint", group);
    char *section_text = json_dumps(sections, 0);
    char *text = activity_with(section_text);
    struct harness h;
    harness_init(&h, text, NULL);
    activity_check_transport(&h.ctx);
    activity_check_network(&h.ctx);
    assert_int_equal(h.result.finding_count, 2);
    for (size_t i = 0; i < h.result.finding_count; i++) {
        const struct finding *f = &h.result.findings[i];
        /* Text from logs is carried as data, never interpreted, and a huge field is cut. */
        assert_string_equal(f->resource, hostile);
        assert_non_null(strstr(f->reason, "<script>alert(1)</script> {{#x}}{{/x}} %s %n"));
        assert_true(strlen(f->reason) < 1024);
        char *dump = json_dumps(f->evidence, 0);
        assert_non_null(dump);
        assert_true(strlen(dump) < 2048);
        assert_non_null(strstr(dump, "logs/<script>.json"));
        free(dump);
    }
    harness_free(&h);
    free(text);
    free(section_text);
    json_decref(sections);
    json_decref(group);
    free(long_name);
}

/* A cut at QUOTE_MAX bytes through a multi-byte character still leaves UTF-8 text. */
static void hostile_utf8_cut(void **state)
{
    (void)state;
    char principal[512];
    memset(principal, 'A', 199);
    strcpy(principal + 199, "\xc3\xa9\xe2\x82\xac tail"); /* é at bytes 199-200, then € */
    json_t *group =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "event_source", "dynamodb.amazonaws.com",
                  "principal_arn", principal, "operation", "GetItem", "tls_version", "TLSv1.1",
                  "count", (json_int_t)1, "example",
                  json_pack("{s:I, s:s, s:s, s:I, s:I, s:I}", "file_index", (json_int_t)1, "file",
                            "logs/a.json.gz", "sha256", SHA_B, "offset", (json_int_t)5, "page",
                            (json_int_t)0, "index", (json_int_t)0));
    assert_non_null(group);
    json_t *sections = json_pack("{s:{s:[o]}}", "transport", "below_tls_1_2", group);
    char *section_text = json_dumps(sections, 0);
    char *text = activity_with(section_text);
    struct harness h;
    harness_init(&h, text, NULL);
    activity_check_transport(&h.ctx);
    const struct finding *f = expect(&h, "tail", STATUS_REMEDIATE, "?");
    json_t *reason = json_string(f->reason); /* NULL if it is not UTF-8 */
    assert_non_null(reason);
    json_decref(reason);
    json_t *value = json_object_get(json_array_get(f->evidence, 0), "value");
    assert_non_null(strstr(json_string_value(value), "?"));
    harness_free(&h);
    free(text);
    free(section_text);
    json_decref(sections);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_activity_is_review),
        cmocka_unit_test(activity_not_considered_adds_nothing),
        cmocka_unit_test(transport),
        cmocka_unit_test(network),
        cmocka_unit_test(log_coverage),
        cmocka_unit_test(log_integrity),
        cmocka_unit_test(changes),
        cmocka_unit_test(access),
        cmocka_unit_test(hostile_fields),
        cmocka_unit_test(hostile_utf8_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
