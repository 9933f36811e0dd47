/* The results model and its one serialisation, report.json. Deterministic by construction:
 * fixed key order, findings sorted by resource then reason, no clock, no hash order. */
#include "results.h"
#include "buf.h"
#include "catalog.h"
#include "evidence.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[STATUS_COUNT] = {"pass", "review", "remediate", "accepted",
                                                       "not_applicable"};
/* Rank for "worst of": not_applicable < pass < accepted < review < remediate. */
static const int status_rank[STATUS_COUNT] = {1, 3, 4, 2, 0};

const char *status_name(enum status status)
{
    return (unsigned)status < STATUS_COUNT ? status_names[status] : "review";
}

int status_parse(const char *name, enum status *out)
{
    for (int i = 0; i < STATUS_COUNT; i++)
        if (!strcmp(name, status_names[i])) {
            *out = (enum status)i;
            return 0;
        }
    return -1;
}

enum status status_worst(enum status a, enum status b)
{
    return status_rank[a] >= status_rank[b] ? a : b;
}

struct results *results_new(size_t control_count)
{
    struct results *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->controls = calloc(control_count ? control_count : 1, sizeof(*r->controls));
    r->count = control_count;
    r->exceptions_unmatched = json_array();
    return r;
}

static void finding_clear(struct finding *f)
{
    free(f->resource);
    free(f->reason);
    json_decref(f->evidence);
    json_decref(f->exception);
    json_decref(f->attestation);
}

void results_free(struct results *results)
{
    if (!results)
        return;
    for (size_t i = 0; i < results->count; i++) {
        struct control_result *c = &results->controls[i];
        for (size_t k = 0; k < c->finding_count; k++)
            finding_clear(&c->findings[k]);
        free(c->findings);
        free(c->reason);
        json_decref(c->notes);
    }
    free(results->controls);
    json_decref(results->exceptions_unmatched);
    json_decref(results->activity);
    json_decref(results->access);
    free(results);
}

struct control_result *results_find(const struct results *results, const char *control_id)
{
    for (size_t i = 0; i < results->count; i++)
        if (results->controls[i].control && !strcmp(results->controls[i].control->id, control_id))
            return &results->controls[i];
    return NULL;
}

static char *vformat(const char *fmt, va_list ap)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    if (buf_vprintf(&b, fmt, ap) < 0) {
        buf_free(&b);
        return strdup("(reason too long)");
    }
    return buf_detach(&b);
}

struct finding *result_add_finding(struct control_result *result, const char *resource,
                                   enum status status, const char *fmt, ...)
{
    if (result->finding_count == result->finding_capacity) {
        size_t capacity = result->finding_capacity ? result->finding_capacity * 2 : 8;
        struct finding *grown = realloc(result->findings, capacity * sizeof(*grown));
        if (!grown)
            return NULL;
        result->findings = grown;
        result->finding_capacity = capacity;
    }
    struct finding *f = &result->findings[result->finding_count++];
    memset(f, 0, sizeof(*f));
    f->resource = strdup(resource);
    f->status = status;
    f->original_status = status;
    va_list ap;
    va_start(ap, fmt);
    f->reason = vformat(fmt, ap);
    va_end(ap);
    f->evidence = json_array();
    return f;
}

void result_add_note(struct control_result *result, const char *fmt, ...)
{
    if (!result->notes)
        result->notes = json_array();
    va_list ap;
    va_start(ap, fmt);
    char *note = vformat(fmt, ap);
    va_end(ap);
    json_array_append_new(result->notes, json_string(note));
    free(note);
}

/* ---------------------------------------------------------------- report.json */

/* jansson refuses invalid UTF-8; everything we serialise came through a UTF-8-validating
 * parser, but a NULL here would silently drop a field, so fall back visibly. */
static json_t *text(const char *s)
{
    json_t *value = json_string(s ? s : "");
    return value ? value : json_string("(invalid UTF-8)");
}

/* Compares two JSON values by their canonical text (ties only: rare and small). */
static int compare_json(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    char *ta = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *tb = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    int c = strcmp(ta ? ta : "", tb ? tb : "");
    free(ta);
    free(tb);
    return c;
}

/* A total order on everything a finding prints, so the report never depends on the order the
 * checks added findings in or on qsort's handling of equal keys. */
static int compare_findings(const void *pa, const void *pb)
{
    const struct finding *a = pa, *b = pb;
    int c = strcmp(a->resource, b->resource);
    if (!c)
        c = strcmp(a->reason, b->reason);
    if (!c)
        c = (int)a->status - (int)b->status;
    if (!c)
        c = (int)a->original_status - (int)b->original_status;
    if (!c)
        c = compare_json(a->evidence, b->evidence);
    if (!c)
        c = compare_json(a->exception, b->exception);
    if (!c)
        c = compare_json(a->attestation, b->attestation);
    return c;
}

static json_t *control_json(const struct control_result *r)
{
    const struct control *c = r->control;
    json_t *o = json_object();
    json_object_set_new(o, "id", text(c->id));
    json_object_set_new(o, "title", text(c->title));
    json_object_set_new(o, "objective", text(c->objective));
    json_t *sources = json_array();
    for (size_t i = 0; i < c->source_count; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "seed", text(c->sources[i].seed));
        json_object_set_new(s, "table", text(c->sources[i].table));
        json_object_set_new(s, "row", json_integer(c->sources[i].row));
        json_object_set_new(s, "text", text(c->sources[i].text));
        json_array_append_new(sources, s);
    }
    json_object_set_new(o, "sources", sources);
    json_object_set_new(o, "status", text(status_name(r->status)));
    json_object_set_new(o, "reason", text(r->reason));
    json_object_set_new(o, "vendor_status", text(status_name(c->vendor_status)));
    json_object_set_new(o, "vendor_notes", text(c->vendor_notes));
    json_t *references = json_array();
    for (size_t i = 0; i < c->reference_count; i++) {
        json_t *ref = json_object();
        json_object_set_new(ref, "title", text(c->references[i].title));
        json_object_set_new(ref, "url", text(c->references[i].url));
        json_array_append_new(references, ref);
    }
    json_object_set_new(o, "references", references);
    json_t *rule = json_object();
    json_object_set_new(rule, "check", text(c->check));
    json_object_set_new(rule, "description", text(c->rule_description));
    json_object_set_new(o, "rule", rule);
    json_t *operations = json_array();
    for (size_t i = 0; i < c->evidence_count; i++)
        json_array_append_new(operations, text(c->evidence[i]));
    json_object_set_new(o, "evidence_operations", operations);
    json_object_set_new(o, "notes", r->notes ? json_incref(r->notes) : json_array());

    struct finding *sorted = malloc((r->finding_count ? r->finding_count : 1) * sizeof(*sorted));
    if (r->finding_count)
        memcpy(sorted, r->findings, r->finding_count * sizeof(*sorted));
    qsort(sorted, r->finding_count, sizeof(*sorted), compare_findings);
    json_t *findings = json_array();
    json_t *exception_ids = json_array();
    size_t attestations = 0;
    for (size_t i = 0; i < r->finding_count; i++) {
        const struct finding *f = &sorted[i];
        json_t *fo = json_object();
        json_object_set_new(fo, "resource", text(f->resource));
        json_object_set_new(fo, "status", text(status_name(f->status)));
        json_object_set_new(fo, "original_status", text(status_name(f->original_status)));
        json_object_set_new(fo, "reason", text(f->reason));
        json_object_set_new(fo, "evidence", f->evidence ? json_incref(f->evidence) : json_array());
        if (f->exception) {
            json_object_set(fo, "exception", f->exception);
            json_t *id = json_object_get(f->exception, "id");
            int seen = 0;
            size_t k;
            json_t *existing;
            json_array_foreach(exception_ids, k, existing) seen |= json_equal(existing, id);
            if (!seen && id)
                json_array_append(exception_ids, id);
        }
        if (f->attestation) {
            json_object_set(fo, "attestation", f->attestation);
            attestations++;
        }
        json_array_append_new(findings, fo);
    }
    free(sorted);
    json_object_set_new(o, "findings", findings);
    json_object_set_new(o, "exceptions", exception_ids);
    json_object_set_new(o, "attestations", json_integer((json_int_t)attestations));
    return o;
}

static json_t *file_ref(const char *file, const char *sha256)
{
    if (!file)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "file", text(file));
    json_object_set_new(o, "sha256", text(sha256));
    return o;
}

json_t *results_to_json(const struct results *results, const struct evidence_snapshot *snapshot,
                        const struct report_inputs *in)
{
    json_t *root = json_object();
    json_object_set_new(root, "$schema", json_string(REPORT_SCHEMA_ID));
    json_object_set_new(root, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
    json_t *tool = json_object();
    json_object_set_new(tool, "name", json_string("ddbaudit"));
    json_object_set_new(tool, "version", json_string(DDBAUDIT_VERSION));
    json_object_set_new(root, "tool", tool);

    json_t *inputs = json_object();
    json_object_set_new(inputs, "account", text(snapshot->account));
    json_object_set_new(inputs, "partition", text(snapshot->partition));
    json_t *regions = json_array();
    for (size_t i = 0; i < snapshot->region_count; i++)
        json_array_append_new(regions, text(snapshot->regions[i]));
    json_object_set_new(inputs, "regions", regions);
    if (snapshot->period_start) {
        json_t *period = json_object();
        json_object_set_new(period, "start", text(snapshot->period_start));
        json_object_set_new(period, "end", text(snapshot->period_end));
        json_object_set_new(inputs, "period", period);
    } else {
        json_object_set_new(inputs, "period", json_null());
    }
    json_object_set_new(inputs, "as_of", text(in->as_of));
    json_object_set_new(inputs, "collected_at", text(snapshot->collected_at));
    json_object_set_new(inputs, "snapshot", text(snapshot->name));
    json_object_set_new(inputs, "evidence_manifest_sha256", text(snapshot->manifest_sha256));
    json_object_set_new(inputs, "evidence_complete", json_boolean(snapshot->complete));
    json_object_set_new(inputs, "evidence_calls", json_integer((json_int_t)snapshot->call_count));
    json_object_set_new(inputs, "catalog_sha256", text(in->catalog_digest));
    json_object_set_new(inputs, "catalog_controls", json_integer((json_int_t)in->catalog_controls));
    json_object_set_new(inputs, "exceptions", file_ref(in->exceptions_file, in->exceptions_sha256));
    json_object_set_new(inputs, "attestations",
                        file_ref(in->attestations_file, in->attestations_sha256));
    json_object_set_new(root, "inputs", inputs);

    size_t control_counts[STATUS_COUNT] = {0}, finding_counts[STATUS_COUNT] = {0};
    json_t *controls = json_array();
    for (size_t i = 0; i < results->count; i++) {
        const struct control_result *r = &results->controls[i];
        control_counts[r->status]++;
        for (size_t k = 0; k < r->finding_count; k++)
            finding_counts[r->findings[k].status]++;
        json_array_append_new(controls, control_json(r));
    }
    json_t *summary = json_object(), *by_control = json_object(), *by_finding = json_object();
    for (int s = 0; s < STATUS_COUNT; s++) {
        json_object_set_new(by_control, status_names[s],
                            json_integer((json_int_t)control_counts[s]));
        json_object_set_new(by_finding, status_names[s],
                            json_integer((json_int_t)finding_counts[s]));
    }
    json_object_set_new(summary, "controls", by_control);
    json_object_set_new(summary, "findings", by_finding);
    json_object_set_new(root, "summary", summary);
    json_object_set_new(root, "controls", controls);
    json_object_set_new(root, "exceptions_unmatched", json_incref(results->exceptions_unmatched));
    json_object_set_new(root, "access",
                        results->access ? json_incref(results->access) : json_null());
    json_object_set_new(root, "activity",
                        results->activity ? json_incref(results->activity) : json_null());
    return root;
}
