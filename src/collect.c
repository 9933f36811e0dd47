/* The collect stage's machinery: credentials, endpoints, the HTTP engine, the snapshot being
 * written, and one "call" (all pages of one AWS operation) from request to manifest entry.
 * What to call lives in collect_<area>.c; this file never decides which evidence matters and
 * never evaluates it. */
#include "collect.h"

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws_model.h"
#include "buf.h"
#include "collect_call.h"
#include "collect_writer.h"
#include "credentials.h"
#include "diag.h"
#include "digest.h"
#include "endpoints.h"
#include "evidence.h"
#include "fsutil.h"
#include "http.h"
#include "sigv4.h"
#include "date.h"

struct endpoint_entry {
    char *service;
    char *region;
    struct endpoint endpoint;
    int resolved;
    char *error;
};

struct collector {
    const struct collect_options *options;
    struct diagnostics *d;
    struct http_engine *engine;
    struct credentials *credentials;
    struct evidence_snapshot *snapshot; /* created once the account is known */
    struct evidence_snapshot *previous; /* --resume: the interrupted run */
    struct collect_writer *writer;      /* files are written off the event loop */
    char *home_region;
    char *partition;
    char **regions;
    size_t region_count;
    int all_regions;
    struct endpoint_entry **endpoints; /* each entry stays put: requests point into it */
    size_t endpoint_count, endpoint_capacity;
    char **seen; /* open-addressing set of call identities */
    size_t seen_count, seen_capacity;
    size_t planned, finished, failed;
    struct collect_summary *summary;
    double last_draw, last_manifest;
    int fatal; /* the account could not be identified: nothing can be written */
    char collected_at[32];
    time_t collected_epoch;
};

struct call {
    struct collector *c;
    const struct aws_operation *op;
    const struct aws_service *service;
    const struct endpoint *endpoint;
    char *region; /* evidence region ("global" for IAM/STS) */
    char *key;
    char *label;
    char *rate_key;
    json_t *parameters;      /* as recorded in the manifest */
    json_t *wire_parameters; /* as sent, when they differ (NULL = parameters) */
    json_t *pages;
    char *token; /* the token sent for the current page; NULL on the first */
    int page;
    collect_continuation then;
    void *user;
    long delay_ms;
    char started_at[32];
    char request_id[128];
    int http_status;
    char raw_path[1024];
    char raw_sha256[DIGEST_SHA256_HEX_LEN + 1];
};

static struct http_engine *volatile running_engine;
static volatile sig_atomic_t interrupted;

void collect_interrupt(void)
{
    interrupted = 1;
    if (running_engine)
        http_engine_stop(running_engine);
}

const char *collect_home_region(const struct collector *c)
{
    return c->home_region;
}

static double monotonic_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- Call identities (so no call is made twice) ---- */

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Returns 1 if newly added, 0 if already present, -1 on out of memory. */
static int seen_add(struct collector *c, const char *identity)
{
    if (c->seen_count * 2 >= c->seen_capacity) {
        size_t capacity = c->seen_capacity ? c->seen_capacity * 2 : 1024;
        char **grown = calloc(capacity, sizeof(*grown));
        if (!grown)
            return -1;
        for (size_t i = 0; i < c->seen_capacity; i++) {
            if (!c->seen[i])
                continue;
            size_t j = hash_text(c->seen[i]) & (capacity - 1);
            while (grown[j])
                j = (j + 1) & (capacity - 1);
            grown[j] = c->seen[i];
        }
        free(c->seen);
        c->seen = grown;
        c->seen_capacity = capacity;
    }
    size_t j = hash_text(identity) & (c->seen_capacity - 1);
    while (c->seen[j]) {
        if (strcmp(c->seen[j], identity) == 0)
            return 0;
        j = (j + 1) & (c->seen_capacity - 1);
    }
    if (!(c->seen[j] = strdup(identity)))
        return -1;
    c->seen_count++;
    return 1;
}

/* ---- Endpoints (one per service and region, resolved once) ---- */

static const struct endpoint *endpoint_for(struct collector *c, const char *service,
                                           const char *region, const char **error)
{
    for (size_t i = 0; i < c->endpoint_count; i++) {
        struct endpoint_entry *e = c->endpoints[i];
        if (strcmp(e->service, service) == 0 && strcmp(e->region, region) == 0) {
            *error = e->error;
            return e->resolved ? &e->endpoint : NULL;
        }
    }
    if (c->endpoint_count == c->endpoint_capacity) {
        size_t capacity = c->endpoint_capacity ? c->endpoint_capacity * 2 : 32;
        struct endpoint_entry **grown = realloc(c->endpoints, capacity * sizeof(*grown));
        if (!grown) {
            *error = "out of memory";
            return NULL;
        }
        c->endpoints = grown;
        c->endpoint_capacity = capacity;
    }
    struct endpoint_entry *e = calloc(1, sizeof(*e));
    if (!e) {
        *error = "out of memory";
        return NULL;
    }
    c->endpoints[c->endpoint_count++] = e;
    e->service = strdup(service);
    e->region = strdup(region);
    struct diagnostics local;
    diag_init(&local);
    struct endpoint_options options = {0};
    if (endpoints_resolve(&e->endpoint, service, region, &options, &local) == 0)
        e->resolved = 1;
    else
        e->error = strdup(diag_first_message(&local));
    diag_free(&local);
    *error = e->error;
    return e->resolved ? &e->endpoint : NULL;
}

/* ---- Progress ---- */

static void draw_progress(struct collector *c, int force)
{
    const struct collect_options *o = c->options;
    if (o->verbosity == COLLECT_QUIET || !o->progress)
        return;
    double now = monotonic_now();
    if (!force && now - c->last_draw < (o->progress_is_tty ? 0.1 : 5.0))
        return;
    c->last_draw = now;
    if (o->progress_is_tty) {
        int width = 30;
        int filled = c->planned ? (int)((double)c->finished / (double)c->planned * width) : 0;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        fprintf(o->progress, "\r\033[Kcollect [%s] %zu/%zu calls, %zu errors", bar, c->finished,
                c->planned, c->failed);
        if (force)
            fputc('\n', o->progress);
    } else {
        fprintf(o->progress, "collect: %zu/%zu calls done, %zu errors\n", c->finished, c->planned,
                c->failed);
    }
    fflush(o->progress);
}

static void save_manifest_now(struct collector *c)
{
    if (!c->snapshot)
        return;
    c->failed += collect_writer_drain(c->writer, c->snapshot);
    struct diagnostics local;
    diag_init(&local);
    evidence_write_manifest(c->snapshot, &local);
    diag_free(&local);
    c->last_manifest = monotonic_now();
}

static void call_finished(struct collector *c, int failed)
{
    c->finished++;
    if (failed)
        c->failed++;
    draw_progress(c, 0);
    /* A manifest that says complete: false is on disk throughout, so a killed run can be
     * resumed without redoing what was already written. */
    if (monotonic_now() - c->last_manifest > 5.0)
        save_manifest_now(c);
}

/* ---- Calls ---- */

static void call_free(struct call *call)
{
    if (!call)
        return;
    free(call->region);
    free(call->key);
    free(call->label);
    free(call->rate_key);
    free(call->token);
    json_decref(call->parameters);
    json_decref(call->wire_parameters);
    json_decref(call->pages);
    free(call);
}

static int create_snapshot(struct collector *c, const char *account)
{
    c->snapshot = evidence_new(c->options->out_dir, account, c->partition);
    if (!c->snapshot)
        return diag_error(c->d, DDB_ERUNTIME, "out of memory");
    c->snapshot->collected_at = strdup(c->collected_at);
    char start[11], end[11];
    if (c->options->period && date_parse_period(c->options->period, 0, start, end) == 0) {
        c->snapshot->period_start = strdup(start);
        c->snapshot->period_end = strdup(end);
    }
    c->snapshot->complete = 0;
    return 0;
}

static int set_regions(struct collector *c, char **regions, size_t count)
{
    if (!c->snapshot)
        return 0;
    for (size_t i = 0; i < c->snapshot->region_count; i++)
        free(c->snapshot->regions[i]);
    free(c->snapshot->regions);
    c->snapshot->regions = calloc(count ? count : 1, sizeof(char *));
    if (!c->snapshot->regions)
        return -1;
    for (size_t i = 0; i < count; i++)
        c->snapshot->regions[i] = strdup(regions[i]);
    c->snapshot->region_count = count;
    return 0;
}

/* Relative "raw/<account>/<region>/<service>/<Operation>[/<key>][.page-N].<ext>". */
static int raw_relative_path(char *out, size_t size, struct call *call, const char *extension)
{
    char *path = evidence_path(call->c->snapshot ? call->c->snapshot->account : "unknown",
                               call->region, call->op->service, call->op->name, call->key);
    if (!path)
        return -1;
    size_t stem = strlen(path) - strlen(".json");
    int n = call->page > 1
                ? snprintf(out, size, "raw/%.*s.page-%d.%s", (int)stem, path, call->page, extension)
                : snprintf(out, size, "raw/%.*s.%s", (int)stem, path, extension);
    free(path);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Keeps the answer's bytes as they came: the auditor can check our normalisation. */
static void save_raw(struct call *call, const struct http_response *response)
{
    struct collector *c = call->c;
    if (!c->snapshot || response->result != HTTP_ANSWERED)
        return;
    const char *extension =
        call->service->protocol == AWS_PROTOCOL_QUERY || call->service->protocol == AWS_PROTOCOL_EC2
            ? "xml"
            : "json";
    char relative[1024];
    if (raw_relative_path(relative, sizeof(relative), call, extension) < 0)
        return;
    char *full = fs_join(c->options->out_dir, relative);
    char *copy = malloc(response->body_len + 1);
    if (copy)
        memcpy(copy, response->body, response->body_len);
    if (call->page <= 1) {
        snprintf(call->raw_path, sizeof(call->raw_path), "%s", relative);
        digest_sha256_hex(response->body, response->body_len, call->raw_sha256);
    }
    /* Raw answers are renamed into place but not fsynced (the documents and the manifest
     * are): that halves the disk flushes of a collection. */
    collect_writer_submit(c->writer, full, copy, response->body_len, 0, NULL, NULL);
}

static void fill_entry(struct evidence_call *entry, struct call *call,
                       const struct http_response *response)
{
    char ended[32];
    http_format_time(ended, &response->ended_at);
    memset(entry, 0, sizeof(*entry));
    entry->service = (char *)call->op->service;
    entry->operation = (char *)call->op->name;
    entry->region = call->region;
    entry->key = call->key;
    entry->parameters = call->parameters;
    entry->request_id = call->request_id[0] ? call->request_id : NULL;
    entry->started_at = call->started_at;
    entry->ended_at = strdup(ended);
    entry->http_status = call->http_status;
    if (call->raw_path[0]) {
        entry->raw_path = call->raw_path;
        memcpy(entry->raw_sha256, call->raw_sha256, sizeof(entry->raw_sha256));
    }
}

static void finish_with_error(struct call *call, const struct http_response *response,
                              const char *code, const char *message)
{
    struct collector *c = call->c;
    if (c->snapshot) {
        struct evidence_call entry;
        fill_entry(&entry, call, response);
        entry.outcome = code[0] ? evidence_classify_error(call->op->name, code) : EVIDENCE_ERROR;
        entry.error_code = (char *)(code[0] ? code : "RequestFailed");
        entry.error_message = (char *)message;
        struct diagnostics local;
        diag_init(&local);
        evidence_add_call(c->snapshot, &entry, &local);
        diag_free(&local);
        free(entry.ended_at);
        if (c->options->verbosity != COLLECT_QUIET && c->options->progress &&
            entry.outcome != EVIDENCE_NOT_FOUND) {
            fprintf(c->options->progress, "%scollect: %s: %s%s%s\n",
                    c->options->progress_is_tty ? "\r\033[K" : "", call->label, entry.error_code,
                    message && *message ? ": " : "", message ? message : "");
        }
        call_finished(c, entry.outcome != EVIDENCE_NOT_FOUND);
    } else {
        call_finished(c, 1);
    }
    if (call->then)
        call->then(c, call->region, call->key, NULL, code, call->user);
    call_free(call);
}

static void finish_with_result(struct call *call, const struct http_response *response,
                               json_t *result)
{
    struct collector *c = call->c;
    struct diagnostics local;
    diag_init(&local);
    if (!c->snapshot && strcmp(call->op->name, "GetCallerIdentity") == 0) {
        const char *account = json_string_value(json_object_get(result, "Account"));
        if (!account || create_snapshot(c, account) < 0) {
            finish_with_error(call, response, "InvalidResponse",
                              "GetCallerIdentity answered without an account");
            diag_free(&local);
            return;
        }
        set_regions(c, c->regions, c->region_count);
        /* The raw answer of this first call could not be placed before the account was
         * known. */
        save_raw(call, response);
    }
    char *text = aws_model_dump(result);
    struct evidence_call entry;
    fill_entry(&entry, call, response);
    char *relative = c->snapshot ? evidence_path(c->snapshot->account, call->region,
                                                 call->op->service, call->op->name, call->key)
                                 : NULL;
    char *full = relative ? fs_join(c->options->out_dir, relative) : NULL;
    struct evidence_call *copy = full && text ? collect_writer_entry_copy(&entry) : NULL;
    if (copy) {
        collect_writer_submit(c->writer, full, text, strlen(text), 1, copy, relative);
        call_finished(c, 0);
    } else {
        entry.outcome = EVIDENCE_ERROR;
        entry.error_code = "WriteFailed";
        entry.error_message = relative ? "out of memory" : "unsafe evidence path";
        if (c->snapshot)
            evidence_add_call(c->snapshot, &entry, &local);
        call_finished(c, 1);
        free(full);
        free(text);
        free(relative);
    }
    free(entry.ended_at);
    diag_free(&local);
    if (call->then)
        call->then(c, call->region, call->key, result, NULL, call->user);
    call_free(call);
}

static int submit_page(struct call *call);

static int on_response(void *ctx, const struct http_response *response)
{
    struct call *call = ctx;
    if (call->page <= 1) {
        http_format_time(call->started_at, &response->started_at);
        snprintf(call->request_id, sizeof(call->request_id), "%s", response->request_id);
    }
    call->http_status = (int)response->status;
    if (response->result == HTTP_FAILED) {
        finish_with_error(call, response, "", response->failure);
        return 0;
    }
    save_raw(call, response);
    if (response->status >= 300) {
        /* An error without an AWS error code (a proxy, a missing operation) keeps its status. */
        char status_code[32];
        snprintf(status_code, sizeof(status_code), "HTTP%ld", response->status);
        finish_with_error(call, response,
                          response->error_code[0] ? response->error_code : status_code,
                          response->error_message);
        return 0;
    }
    struct diagnostics local;
    diag_init(&local);
    json_t *page = NULL;
    int rc =
        call->service->protocol == AWS_PROTOCOL_QUERY || call->service->protocol == AWS_PROTOCOL_EC2
            ? aws_model_xml_to_json(&page, call->op, response->body, response->body_len, &local)
            : aws_model_json_to_json(&page, call->op, response->body, response->body_len, &local);
    if (rc < 0) {
        /* A 200 whose body does not parse was damaged on the way: ask again. */
        if (!response->final) {
            diag_free(&local);
            return HTTP_RETRY;
        }
        finish_with_error(call, response, "InvalidResponse", diag_first_message(&local));
        diag_free(&local);
        return 0;
    }
    diag_free(&local);
    json_array_append_new(call->pages, page);
    const char *next = aws_model_next_token(call->op, page);
    if (next && (!call->token || strcmp(next, call->token) != 0)) {
        free(call->token);
        call->token = strdup(next);
        call->page++;
        if (call->token && submit_page(call) == 0)
            return 0;
        finish_with_error(call, response, "RequestFailed", "cannot request the next page");
        return 0;
    }
    json_t *merged = NULL;
    if (aws_model_merge_pages(&merged, call->op, call->pages) < 0) {
        finish_with_error(call, response, "RequestFailed", "out of memory");
        return 0;
    }
    finish_with_result(call, response, merged);
    json_decref(merged);
    return 0;
}

static int append_form(struct buf *body, const char *name, const char *value)
{
    if (buf_printf(body, "&%s=", name) < 0)
        return -1;
    return sigv4_uri_encode(body, value, strlen(value), 0);
}

/* Serialises the parameters (+ page token) in the service's protocol and submits the page. */
static int submit_page(struct call *call)
{
    struct collector *c = call->c;
    struct buf body, query, target;
    buf_init(&body, 1 << 20);
    buf_init(&query, 1 << 16);
    buf_init(&target, 256);
    int rc = -1;
    struct http_request request = {
        .endpoint = call->endpoint,
        .method = call->op->http_method,
        .path = "/",
        .rate_key = call->rate_key,
        .label = call->label,
        .delay_ms = call->page <= 1 ? call->delay_ms : 0,
    };
    const char *name;
    json_t *value;
    switch (call->service->protocol) {
    case AWS_PROTOCOL_JSON: {
        json_t *parameters =
            json_deep_copy(call->wire_parameters ? call->wire_parameters : call->parameters);
        if (!parameters)
            goto done;
        if (call->token)
            json_object_set_new(parameters, call->op->input_token, json_string(call->token));
        char *text = json_dumps(parameters, JSON_COMPACT);
        json_decref(parameters);
        if (!text)
            goto done;
        int appended = buf_puts(&body, text);
        free(text);
        if (appended < 0 ||
            buf_printf(&target, "%s.%s", call->service->target_prefix, call->op->name) < 0)
            goto done;
        request.content_type = strcmp(call->service->json_version, "1.0") == 0
                                   ? "application/x-amz-json-1.0"
                                   : "application/x-amz-json-1.1";
        request.amz_target = buf_cstr(&target);
        break;
    }
    case AWS_PROTOCOL_QUERY:
    case AWS_PROTOCOL_EC2:
        if (buf_printf(&body, "Action=%s&Version=%s", call->op->name, call->service->api_version) <
            0)
            goto done;
        json_object_foreach(call->parameters, name, value)
        {
            char number[32];
            const char *text = json_string_value(value);
            if (json_is_boolean(value))
                text = json_is_true(value) ? "true" : "false";
            else if (json_is_integer(value)) {
                snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(value));
                text = number;
            }
            if (text && append_form(&body, name, text) < 0)
                goto done;
        }
        if (call->token && append_form(&body, call->op->input_token_wire, call->token) < 0)
            goto done;
        request.content_type = "application/x-www-form-urlencoded; charset=utf-8";
        break;
    case AWS_PROTOCOL_REST_JSON:
        request.path = call->op->request_uri;
        if (call->token) {
            if (buf_printf(&query, "%s=", call->op->input_token_wire) < 0 ||
                sigv4_uri_encode(&query, call->token, strlen(call->token), 0) < 0)
                goto done;
            request.query = buf_cstr(&query);
        }
        break;
    }
    request.body = buf_cstr(&body);
    request.body_len = body.len;
    struct diagnostics local;
    diag_init(&local);
    rc = http_submit(c->engine, &request, on_response, call, &local);
    diag_free(&local);
done:
    buf_free(&body);
    buf_free(&query);
    buf_free(&target);
    return rc;
}

/* Finishes a call without any request (resume, or a call that cannot be made). */
static void finish_locally(struct call *call, const char *code, const char *message)
{
    struct http_response response = {.result = HTTP_FAILED};
    clock_gettime(CLOCK_REALTIME, &response.started_at);
    response.ended_at = response.started_at;
    http_format_time(call->started_at, &response.started_at);
    finish_with_error(call, &response, code, message);
}

static int resume_call(struct collector *c, const char *service, const char *operation,
                       const char *region, const char *key, collect_continuation then, void *user)
{
    if (!c->previous || !c->snapshot)
        return 0;
    const struct evidence_call *done = evidence_find(c->previous, region, service, operation, key);
    if (!done || (done->outcome != EVIDENCE_OK && done->outcome != EVIDENCE_NOT_FOUND))
        return 0;
    struct diagnostics local;
    diag_init(&local);
    int rc = evidence_add_call(c->snapshot, done, &local);
    diag_free(&local);
    if (rc < 0)
        return 0;
    c->summary->resumed++;
    c->planned++;
    call_finished(c, 0);
    if (then)
        then(c, region, key, done->outcome == EVIDENCE_OK ? done->document : NULL,
             done->outcome == EVIDENCE_OK ? NULL : done->error_code, user);
    return 1;
}

/* A call's identity, and whether it still has to be made; takes parameters and wire. */
static void start_call(struct collector *c, const char *service, const char *operation,
                       const char *region, const char *key, json_t *parameters, json_t *wire,
                       collect_continuation then, void *user, long delay_ms,
                       const char *refused_code, const char *refused_message)
{
    if (!parameters)
        parameters = json_object();
    if (c->fatal || interrupted) {
        json_decref(parameters);
        json_decref(wire);
        return;
    }
    char identity[1024];
    snprintf(identity, sizeof(identity), "%s|%s|%s|%s", service, operation, region, key ? key : "");
    /* Polls (delay_ms > 0) repeat a call on purpose. */
    if (delay_ms == 0 && seen_add(c, identity) == 0) {
        json_decref(parameters);
        json_decref(wire);
        return;
    }
    if (delay_ms == 0 && !refused_code &&
        resume_call(c, service, operation, region, key, then, user)) {
        json_decref(parameters);
        json_decref(wire);
        return;
    }
    struct call *call = calloc(1, sizeof(*call));
    if (!call) {
        json_decref(parameters);
        json_decref(wire);
        return;
    }
    call->c = c;
    call->op = aws_model_operation(service, operation);
    call->service = aws_model_service(service);
    call->region = strdup(region);
    call->key = key ? strdup(key) : NULL;
    call->parameters = parameters;
    call->wire_parameters = wire;
    call->pages = json_array();
    call->then = then;
    call->user = user;
    call->delay_ms = delay_ms;
    call->page = 1;
    struct buf label;
    buf_init(&label, 1024);
    buf_printf(&label, "%s %s %s%s%s", service, operation, region, key ? " " : "", key ? key : "");
    call->label = buf_detach(&label);
    c->planned++;
    if (!call->op || !call->service || !call->region || !call->pages || !call->label) {
        finish_locally(call, "RequestFailed", "internal error: unknown operation");
        return;
    }
    if (refused_code) {
        finish_locally(call, refused_code, refused_message);
        return;
    }
    const char *api_region = strcmp(region, "global") == 0 ? c->home_region : region;
    const char *error = NULL;
    call->endpoint = endpoint_for(c, service, api_region, &error);
    struct buf rate;
    buf_init(&rate, 256);
    /* LookupEvents has its own quota, 2 requests a second per account and region, far below
     * the rest of CloudTrail's: its own bucket keeps it there without slowing the others. */
    int lookup = strcmp(service, "cloudtrail") == 0 && strcmp(operation, "LookupEvents") == 0;
    buf_printf(&rate, lookup ? "%s/LookupEvents/%s" : "%s/%s", service, api_region);
    call->rate_key = buf_detach(&rate);
    if (lookup && call->rate_key)
        http_engine_set_rate(c->engine, call->rate_key, 2);
    if (!call->endpoint) {
        finish_locally(call, "EndpointError", error ? error : "no endpoint");
        return;
    }
    if (submit_page(call) < 0)
        finish_locally(call, "RequestFailed", "cannot submit the request");
}

void collect_call_later(struct collector *c, const char *service, const char *operation,
                        const char *region, const char *key, json_t *parameters,
                        collect_continuation then, void *user, long delay_ms)
{
    start_call(c, service, operation, region, key, parameters, NULL, then, user, delay_ms, NULL,
               NULL);
}

void collect_call(struct collector *c, const char *service, const char *operation,
                  const char *region, const char *key, json_t *parameters,
                  collect_continuation then, void *user)
{
    start_call(c, service, operation, region, key, parameters, NULL, then, user, 0, NULL, NULL);
}

void collect_call_wire(struct collector *c, const char *service, const char *operation,
                       const char *region, const char *key, json_t *parameters,
                       json_t *wire_parameters, collect_continuation then, void *user)
{
    start_call(c, service, operation, region, key, parameters, wire_parameters, then, user, 0, NULL,
               NULL);
}

void collect_call_refused(struct collector *c, const char *service, const char *operation,
                          const char *region, const char *key, json_t *parameters,
                          const char *error_code, const char *message)
{
    start_call(c, service, operation, region, key, parameters, NULL, NULL, NULL, 0, error_code,
               message);
}

/* ---- The run ---- */

static void start_regions(struct collector *c)
{
    set_regions(c, c->regions, c->region_count);
    collect_iam_global(c);
    for (size_t i = 0; i < c->region_count; i++) {
        collect_dynamodb_region(c, c->regions[i]);
        collect_network_region(c, c->regions[i]);
        collect_logging_region(c, c->regions[i]);
        collect_resilience_region(c, c->regions[i]);
        if (c->snapshot && c->snapshot->period_start && c->snapshot->period_end)
            collect_cloudtrail_region(c, c->regions[i], c->snapshot->period_start,
                                      c->snapshot->period_end, c->collected_epoch);
    }
}

static void on_regions(struct collector *c, const char *region, const char *key, json_t *result,
                       const char *error_code, void *user)
{
    (void)region, (void)key, (void)error_code, (void)user;
    if (result) {
        json_t *list = json_object_get(result, "Regions");
        size_t count = json_array_size(list);
        char **regions = calloc(count ? count : 1, sizeof(char *));
        size_t kept = 0;
        for (size_t i = 0; regions && i < count; i++) {
            json_t *entry = json_array_get(list, i);
            const char *name = json_string_value(json_object_get(entry, "RegionName"));
            const char *status = json_string_value(json_object_get(entry, "OptInStatus"));
            if (name && (!status || strcmp(status, "not-opted-in") != 0))
                regions[kept++] = strdup(name);
        }
        if (regions && kept) {
            for (size_t i = 0; i < c->region_count; i++)
                free(c->regions[i]);
            free(c->regions);
            c->regions = regions;
            c->region_count = kept;
        } else {
            free(regions);
        }
    }
    /* Without DescribeRegions the home region is still collected, and the manifest shows
     * why the rest is missing. */
    start_regions(c);
}

static void on_identity(struct collector *c, const char *region, const char *key, json_t *result,
                        const char *error_code, void *user)
{
    (void)region, (void)key, (void)user;
    if (!result) {
        c->fatal = 1;
        diag_error(c->d, DDB_ERUNTIME,
                   "cannot identify the account: sts GetCallerIdentity failed (%s); nothing "
                   "was collected",
                   error_code && *error_code ? error_code : "no answer");
        return;
    }
    if (c->all_regions)
        collect_call(c, "ec2", "DescribeRegions", c->home_region, NULL, NULL, on_regions, NULL);
    else
        start_regions(c);
}

static int split_regions(struct collector *c, const char *list)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    size_t capacity = 8;
    c->regions = calloc(capacity, sizeof(char *));
    char *save = NULL;
    for (char *part = strtok_r(copy, ",", &save); part && c->regions;
         part = strtok_r(NULL, ",", &save)) {
        while (*part == ' ')
            part++;
        if (!*part)
            continue;
        if (c->region_count == capacity) {
            capacity *= 2;
            char **grown = realloc(c->regions, capacity * sizeof(char *));
            if (!grown)
                break;
            c->regions = grown;
        }
        c->regions[c->region_count++] = strdup(part);
    }
    free(copy);
    return c->regions && c->region_count ? 0 : -1;
}

static void collector_free(struct collector *c)
{
    collect_writer_free(c->writer);
    http_engine_free(c->engine);
    credentials_free(c->credentials);
    evidence_free(c->snapshot);
    evidence_free(c->previous);
    free(c->home_region);
    free(c->partition);
    for (size_t i = 0; i < c->region_count; i++)
        free(c->regions[i]);
    free(c->regions);
    for (size_t i = 0; i < c->endpoint_count; i++) {
        endpoint_free(&c->endpoints[i]->endpoint);
        free(c->endpoints[i]->service);
        free(c->endpoints[i]->region);
        free(c->endpoints[i]->error);
        free(c->endpoints[i]);
    }
    free(c->endpoints);
    for (size_t i = 0; i < c->seen_capacity; i++)
        free(c->seen[i]);
    free(c->seen);
}

static void summarise(struct collector *c, struct collect_summary *summary)
{
    if (c->snapshot) {
        summary->calls = c->snapshot->call_count;
        for (size_t i = 0; i < c->snapshot->call_count; i++) {
            switch (c->snapshot->calls[i].outcome) {
            case EVIDENCE_OK:
                summary->ok++;
                break;
            case EVIDENCE_NOT_FOUND:
                summary->not_found++;
                break;
            case EVIDENCE_DENIED:
                summary->denied++;
                break;
            default:
                summary->errors++;
            }
        }
    }
    struct http_stats stats;
    http_engine_stats(c->engine, &stats);
    summary->http_attempts = stats.attempts;
    summary->http_retries = stats.retries;
}

int collect_run(const struct collect_options *options, struct collect_summary *summary,
                struct diagnostics *d)
{
    struct collector c;
    memset(&c, 0, sizeof(c));
    memset(summary, 0, sizeof(*summary));
    c.options = options;
    c.d = d;
    c.summary = summary;
    interrupted = 0;
    int rc = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    http_format_time(c.collected_at, &now);
    c.collected_epoch = now.tv_sec;

    char *manifest = fs_join(options->out_dir, "manifest.json");
    if (!manifest) {
        rc = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    if (options->resume) {
        if (!fs_exists(manifest)) {
            rc = diag_error(d, DDB_EUSAGE, "%s: no snapshot to resume (manifest.json missing)",
                            options->out_dir);
            goto done;
        }
        if ((rc = evidence_open(&c.previous, options->out_dir, d)) < 0)
            goto done;
    } else if (fs_exists(manifest)) {
        rc = diag_error(d, DDB_EUSAGE,
                        "%s already holds a snapshot: use --resume to finish it, or choose "
                        "another directory",
                        options->out_dir);
        goto done;
    }
    if ((rc = fs_mkdirs(options->out_dir, d)) < 0)
        goto done;

    struct credentials_options credential_options = {
        .profile = options->profile,
        .transport = &http_credentials_transport,
    };
    if (options->regions && strcmp(options->regions, "all") != 0) {
        if (split_regions(&c, options->regions) < 0) {
            rc = diag_error(d, DDB_EUSAGE, "--regions: expected a comma-separated list");
            goto done;
        }
        c.home_region = strdup(c.regions[0]);
    } else {
        c.all_regions = options->regions != NULL;
        if ((rc = credentials_resolve_region(&c.home_region, &credential_options, d)) < 0)
            goto done;
        if (!c.all_regions && split_regions(&c, c.home_region) < 0) {
            rc = diag_error(d, DDB_ERUNTIME, "out of memory");
            goto done;
        }
    }
    credential_options.region = c.home_region;
    c.partition = strdup(endpoints_partition(c.home_region));
    if ((rc = credentials_load(&c.credentials, &credential_options, d)) < 0)
        goto done;

    struct http_options http_options = {
        .concurrency = options->concurrency,
        .backoff_base_ms = options->backoff_base_ms,
        .log = options->verbosity == COLLECT_VERBOSE ? options->progress : NULL,
    };
    if ((rc = http_engine_new(&c.engine, &http_options, c.credentials, d)) < 0)
        goto done;
    /* IAM's control plane is rate-limited account-wide and far below the others; staying
     * under it avoids throttling storms that would cost the retry quota. */
    char rate_key[128];
    snprintf(rate_key, sizeof(rate_key), "iam/%s", c.home_region);
    http_engine_set_rate(c.engine, rate_key, 15);
    snprintf(rate_key, sizeof(rate_key), "sts/%s", c.home_region);
    http_engine_set_rate(c.engine, rate_key, 15);
    if (collect_writer_new(&c.writer, 8) < 0) {
        rc = diag_error(d, DDB_ERUNTIME, "cannot start the file writers");
        goto done;
    }
    running_engine = c.engine;

    if (c.previous) {
        /* The earlier run fixed the account; its answers seed this one. */
        if ((rc = create_snapshot(&c, c.previous->account)) < 0)
            goto done;
        free(c.snapshot->collected_at);
        c.snapshot->collected_at =
            strdup(c.previous->collected_at ? c.previous->collected_at : c.collected_at);
        /* The period and its LookupEvents window stay those of the run being finished. */
        time_t previous_time;
        if (c.previous->collected_at &&
            credentials_parse_time(&previous_time, c.previous->collected_at) == 0)
            c.collected_epoch = previous_time;
        if (!options->period && c.previous->period_start && c.previous->period_end) {
            c.snapshot->period_start = strdup(c.previous->period_start);
            c.snapshot->period_end = strdup(c.previous->period_end);
        }
    }
    collect_call(&c, "sts", "GetCallerIdentity", "global", NULL, NULL, on_identity, NULL);
    int stopped = http_engine_run(c.engine, d);
    running_engine = NULL;
    collect_writer_wait(c.writer);
    if (c.snapshot)
        c.failed += collect_writer_drain(c.writer, c.snapshot);
    if (stopped < 0) {
        rc = stopped;
        goto done;
    }
    if (c.fatal || !c.snapshot) {
        draw_progress(&c, 1); /* end the progress line before the error is printed */
        rc = d->errors ? DDB_ERUNTIME : diag_error(d, DDB_ERUNTIME, "cannot identify the account");
        goto done;
    }
    c.snapshot->complete = !stopped && !interrupted;
    summary->complete = c.snapshot->complete;
    if ((rc = evidence_write_manifest(c.snapshot, d)) < 0)
        goto done;
    draw_progress(&c, 1);
    rc = summary->complete ? 0 : 1;
done:
    if (c.engine)
        summarise(&c, summary);
    running_engine = NULL;
    collector_free(&c);
    free(manifest);
    return rc;
}
