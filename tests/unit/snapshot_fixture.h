/* Test fixture: builds a small evidence snapshot on disk from JSON strings, seals it with the
 * real sealer, opens it with the real reader, and evaluates one control of the bundled catalog.
 * Every check test goes through the same path a user's hand-made snapshot does. */
#ifndef DDBAUDIT_TEST_SNAPSHOT_FIXTURE_H
#define DDBAUDIT_TEST_SNAPSHOT_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attestations.h"
#include "catalog.h"
#include "diag.h"
#include "evaluate.h"
#include "evidence.h"
#include "exceptions.h"
#include "fsutil.h"
#include "results.h"

#define FX_ACCOUNT "111122223333"

struct fixture {
    char dir[256];
    struct catalog *catalog;
    struct evidence_snapshot *snapshot;
    struct attestation_set *attestations;
    struct exception_set *exceptions;
    struct results *results;
    struct diagnostics d;
};

static inline void fx_write(const char *path, const char *text)
{
    char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(fs_mkdirs(dir, &d), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    diag_free(&d);
    free(dir);
}

static inline void fx_init(struct fixture *fx)
{
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/ddbaudit-test-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    diag_init(&fx->d);
}

/* Writes <dir>/<account>/<region>/<service>/<op>[/<key>].json. NULL json = remove it. */
static inline void fx_call(struct fixture *fx, const char *region, const char *service,
                           const char *operation, const char *key, const char *json)
{
    char path[1024];
    if (key)
        snprintf(path, sizeof(path), "%s/" FX_ACCOUNT "/%s/%s/%s/%s.json", fx->dir, region, service,
                 operation, key);
    else
        snprintf(path, sizeof(path), "%s/" FX_ACCOUNT "/%s/%s/%s.json", fx->dir, region, service,
                 operation);
    if (!json) {
        unlink(path);
        return;
    }
    fx_write(path, json);
}

/* A failed call as the AWS CLI leaves it: empty .json, error text in .err. */
static inline void fx_error(struct fixture *fx, const char *region, const char *service,
                            const char *operation, const char *key, const char *code)
{
    fx_call(fx, region, service, operation, key, "");
    char path[1024], text[512];
    if (key)
        snprintf(path, sizeof(path), "%s/" FX_ACCOUNT "/%s/%s/%s/%s.err", fx->dir, region, service,
                 operation, key);
    else
        snprintf(path, sizeof(path), "%s/" FX_ACCOUNT "/%s/%s/%s.err", fx->dir, region, service,
                 operation);
    snprintf(text, sizeof(text),
             "\nAn error occurred (%s) when calling the %s operation: not allowed\n", code,
             operation);
    fx_write(path, text);
}

static inline void fx_file(struct fixture *fx, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    fx_write(path, text);
}

static inline char *fx_source_path(const char *relative)
{
    const char *root = getenv("DDBAUDIT_SOURCE_DIR");
    return fs_join(root ? root : ".", relative);
}

/* Seals, opens, loads the bundled catalog and the fixture's attestations/exceptions if written,
 * and evaluates `control` as of `as_of`. Returns the control's result. */
static inline struct control_result *fx_evaluate(struct fixture *fx, const char *control,
                                                 const char *as_of)
{
    struct evidence_seal_options o = {.account = FX_ACCOUNT,
                                      .collected_at = "2026-10-01T09:30:00Z"};
    int rc = evidence_seal(fx->dir, &o, &fx->d);
    if (rc)
        diag_print(&fx->d, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(evidence_open(&fx->snapshot, fx->dir, &fx->d), 0);
    char *controls = fx_source_path("controls");
    rc = catalog_load(&fx->catalog, controls, &fx->d);
    free(controls);
    if (rc)
        diag_print(&fx->d, stderr);
    assert_int_equal(rc, 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/attestations.yaml", fx->dir);
    if (fs_exists(path))
        assert_int_equal(attestations_load(&fx->attestations, path, fx->catalog, &fx->d), 0);
    snprintf(path, sizeof(path), "%s/exceptions.yaml", fx->dir);
    if (fs_exists(path))
        assert_int_equal(exceptions_load(&fx->exceptions, path, fx->catalog, &fx->d), 0);
    struct evaluation_inputs in = {.catalog = fx->catalog,
                                   .evidence = fx->snapshot,
                                   .exceptions = fx->exceptions,
                                   .attestations = fx->attestations,
                                   .as_of = as_of ? as_of : "2026-10-01",
                                   .only_control = control,
                                   .source = EVIDENCE_FROM_SNAPSHOT};
    rc = evaluate(&fx->results, &in, &fx->d);
    if (rc)
        diag_print(&fx->d, stderr);
    assert_int_equal(rc, 0);
    return results_find(fx->results, control);
}

static inline void fx_free(struct fixture *fx)
{
    results_free(fx->results);
    exceptions_free(fx->exceptions);
    attestations_free(fx->attestations);
    evidence_free(fx->snapshot);
    catalog_free(fx->catalog);
    fs_remove_tree(fx->dir, &fx->d);
    diag_free(&fx->d);
}

/* The finding for a resource whose ARN ends with `suffix`, or NULL. */
static inline const struct finding *fx_finding(const struct control_result *r, const char *suffix)
{
    size_t n = strlen(suffix);
    for (size_t i = 0; i < r->finding_count; i++) {
        size_t m = strlen(r->findings[i].resource);
        if (m >= n && !strcmp(r->findings[i].resource + m - n, suffix))
            return &r->findings[i];
    }
    return NULL;
}

/* Asserts the finding's status, that its reason mentions `words`, and that a Pass cites
 * evidence. */
static inline void fx_expect(const struct control_result *r, const char *suffix, enum status status,
                             const char *words)
{
    const struct finding *f = fx_finding(r, suffix);
    if (!f) {
        fprintf(stderr, "no finding for *%s; findings are:\n", suffix);
        for (size_t i = 0; i < r->finding_count; i++)
            fprintf(stderr, "  %s %s: %s\n", r->findings[i].resource,
                    status_name(r->findings[i].status), r->findings[i].reason);
    }
    assert_non_null(f);
    if (f->status != status || (words && !strstr(f->reason, words)))
        fprintf(stderr, "%s: got %s \"%s\", want %s mentioning \"%s\"\n", f->resource,
                status_name(f->status), f->reason, status_name(status), words ? words : "");
    assert_int_equal(f->status, status);
    if (words)
        assert_non_null(strstr(f->reason, words));
    if (status == STATUS_PASS)
        assert_true(json_array_size(f->evidence) > 0 || f->attestation);
}

#endif
