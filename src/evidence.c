/* Evidence snapshots: manifest parsing and writing, integrity checks, parallel loading, and
 * sealing hand-gathered AWS CLI output. This module does file I/O and nothing else: it never
 * decides what evidence means. */
#include "evidence.h"
#include "buf.h"
#include "date.h"
#include "diag.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const outcome_names[] = {"ok", "not_found", "denied", "error", "missing"};

const char *evidence_outcome_name(enum evidence_outcome outcome)
{
    return outcome_names[outcome];
}

enum evidence_outcome evidence_outcome_of(const struct evidence_call *call)
{
    return call ? call->outcome : EVIDENCE_MISSING;
}

static int outcome_from_name(const char *name, enum evidence_outcome *out)
{
    for (int i = 0; i < EVIDENCE_MISSING; i++)
        if (!strcmp(name, outcome_names[i])) {
            *out = (enum evidence_outcome)i;
            return 0;
        }
    return -1;
}

enum evidence_outcome evidence_classify_error(const char *operation, const char *error_code)
{
    if (!error_code)
        return EVIDENCE_ERROR;
    if (!strncmp(error_code, "AccessDenied", 12) || !strcmp(error_code, "UnauthorizedOperation") ||
        !strcmp(error_code, "AuthorizationError") ||
        !strcmp(error_code, "UnrecognizedClientException"))
        return EVIDENCE_DENIED;
    /* "No policy attached" is an answer about the resource, not a failure to look. */
    if (!strcmp(error_code, "PolicyNotFoundException"))
        return EVIDENCE_NOT_FOUND;
    if (operation && !strcmp(operation, "GetCredentialReport") &&
        !strcmp(error_code, "ReportNotPresent"))
        return EVIDENCE_ERROR;
    return EVIDENCE_ERROR;
}

/* A path segment we are willing to put on disk: AWS names (tables, key ids, trails, rules) plus
 * '@' for "<table>@stream". Never empty, ".", "..", or anything with a slash. */
static int safe_segment(const char *s)
{
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 255)
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@' || c == '+'))
            return 0;
    }
    return 1;
}

char *evidence_path(const char *account, const char *region, const char *service,
                    const char *operation, const char *key)
{
    if (!safe_segment(account) || !safe_segment(region) || !safe_segment(service) ||
        !safe_segment(operation) || (key && !safe_segment(key)))
        return NULL;
    struct buf b;
    buf_init(&b, 4096);
    if (key)
        buf_printf(&b, "%s/%s/%s/%s/%s.json", account, region, service, operation, key);
    else
        buf_printf(&b, "%s/%s/%s/%s.json", account, region, service, operation);
    return buf_detach(&b);
}

/* ---------------------------------------------------------------- memory */

static void call_clear(struct evidence_call *call)
{
    free(call->path);
    free(call->service);
    free(call->operation);
    free(call->region);
    free(call->key);
    json_decref(call->parameters);
    free(call->error_code);
    free(call->error_message);
    free(call->request_id);
    free(call->started_at);
    free(call->ended_at);
    free(call->raw_path);
    json_decref(call->document);
    json_decref(call->locations);
    memset(call, 0, sizeof(*call));
}

void evidence_free(struct evidence_snapshot *snapshot)
{
    if (!snapshot)
        return;
    for (size_t i = 0; i < snapshot->call_count; i++)
        call_clear(&snapshot->calls[i]);
    free(snapshot->calls);
    for (size_t i = 0; i < snapshot->region_count; i++)
        free(snapshot->regions[i]);
    free(snapshot->regions);
    free(snapshot->root);
    free(snapshot->name);
    free(snapshot->account);
    free(snapshot->partition);
    free(snapshot->period_start);
    free(snapshot->period_end);
    free(snapshot->collected_at);
    free(snapshot->tool);
    free(snapshot);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *last_component(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    return strndup(dir + start, n - start);
}

struct evidence_snapshot *evidence_new(const char *dir, const char *account, const char *partition)
{
    struct evidence_snapshot *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->root = strdup(dir);
    s->name = last_component(dir);
    s->account = dup_or_null(account);
    s->partition = strdup(partition ? partition : "aws");
    s->complete = 1;
    return s;
}

static int compare_nullable(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int compare_identity(const char *service_a, const char *region_a, const char *operation_a,
                            const char *key_a, const struct evidence_call *b)
{
    int c = strcmp(service_a, b->service);
    if (!c)
        c = strcmp(region_a, b->region);
    if (!c)
        c = strcmp(operation_a, b->operation);
    if (!c)
        c = compare_nullable(key_a, b->key);
    return c;
}

static int compare_calls(const void *pa, const void *pb)
{
    const struct evidence_call *a = pa;
    return compare_identity(a->service, a->region, a->operation, a->key, pb);
}

const struct evidence_call *evidence_find(const struct evidence_snapshot *snapshot,
                                          const char *region, const char *service,
                                          const char *operation, const char *key)
{
    size_t lo = 0, hi = snapshot->call_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_identity(service, region, operation, key, &snapshot->calls[mid]);
        if (!c)
            return &snapshot->calls[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Appends a copy of call; returns it (NULL on OOM). Duplicates are resolved by sort_calls. */
static struct evidence_call *append_call(struct evidence_snapshot *snapshot,
                                         const struct evidence_call *call)
{
    if (snapshot->call_count == snapshot->call_capacity) {
        size_t capacity = snapshot->call_capacity ? snapshot->call_capacity * 2 : 64;
        struct evidence_call *grown = realloc(snapshot->calls, capacity * sizeof(*grown));
        if (!grown)
            return NULL;
        snapshot->calls = grown;
        snapshot->call_capacity = capacity;
    }
    struct evidence_call *copy = &snapshot->calls[snapshot->call_count++];
    memset(copy, 0, sizeof(*copy));
    copy->path = dup_or_null(call->path);
    copy->service = strdup(call->service);
    copy->operation = strdup(call->operation);
    copy->region = strdup(call->region);
    copy->key = dup_or_null(call->key);
    copy->parameters = call->parameters ? json_deep_copy(call->parameters) : json_object();
    copy->outcome = call->outcome;
    copy->error_code = dup_or_null(call->error_code);
    copy->error_message = dup_or_null(call->error_message);
    memcpy(copy->sha256, call->sha256, sizeof(copy->sha256));
    copy->size = call->size;
    copy->request_id = dup_or_null(call->request_id);
    copy->started_at = dup_or_null(call->started_at);
    copy->ended_at = dup_or_null(call->ended_at);
    copy->http_status = call->http_status;
    copy->raw_path = dup_or_null(call->raw_path);
    memcpy(copy->raw_sha256, call->raw_sha256, sizeof(copy->raw_sha256));
    copy->manifest_index = snapshot->call_count - 1; /* insertion order, for sort_calls */
    return copy;
}

int evidence_add_call(struct evidence_snapshot *snapshot, const struct evidence_call *call,
                      struct diagnostics *d)
{
    if (!call->service || !call->operation || !call->region)
        return diag_error(d, DDB_ERUNTIME, "evidence call lacks service, operation or region");
    if (!append_call(snapshot, call))
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    return 0;
}

int evidence_add_document(struct evidence_snapshot *snapshot, const struct evidence_call *call,
                          json_t *document, json_t *locations, struct diagnostics *d)
{
    if (!call->service || !call->operation || !call->region)
        return diag_error(d, DDB_ERUNTIME, "evidence call lacks service, operation or region");
    struct evidence_call *added = append_call(snapshot, call);
    if (!added)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    added->outcome = EVIDENCE_OK;
    added->document = json_incref(document);
    added->locations = locations ? json_incref(locations) : NULL;
    return 0;
}

static int compare_calls_then_order(const void *pa, const void *pb)
{
    const struct evidence_call *a = pa, *b = pb;
    int c = compare_calls(a, b);
    if (c)
        return c;
    return (a->manifest_index > b->manifest_index) - (a->manifest_index < b->manifest_index);
}

/* Sorts the calls and keeps only the last one added for each call (collect --resume, retries). */
static void sort_calls(struct evidence_snapshot *snapshot)
{
    if (snapshot->call_count > 1)
        qsort(snapshot->calls, snapshot->call_count, sizeof(*snapshot->calls),
              compare_calls_then_order);
    size_t kept = 0;
    for (size_t i = 0; i < snapshot->call_count; i++) {
        if (kept && !compare_calls(&snapshot->calls[kept - 1], &snapshot->calls[i])) {
            call_clear(&snapshot->calls[kept - 1]);
            snapshot->calls[kept - 1] = snapshot->calls[i];
        } else {
            snapshot->calls[kept++] = snapshot->calls[i];
        }
    }
    snapshot->call_count = kept;
    for (size_t i = 0; i < kept; i++)
        snapshot->calls[i].manifest_index = i;
}

int evidence_write_document(struct evidence_snapshot *snapshot, struct evidence_call *call,
                            const char *json, size_t len, struct diagnostics *d)
{
    int error = 0;
    char *relative =
        evidence_path(snapshot->account, call->region, call->service, call->operation, call->key);
    char *full = NULL, *dir = NULL;
    if (!relative)
        return diag_error(d, DDB_ERUNTIME, "unsafe evidence path for %s %s %s", call->service,
                          call->operation, call->key ? call->key : "");
    full = fs_join(snapshot->root, relative);
    dir = full ? strdup(full) : NULL;
    if (!dir) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    *strrchr(dir, '/') = '\0';
    if ((error = fs_mkdirs(dir, d)) < 0 || (error = fs_write_atomic(full, json, len, d)) < 0)
        goto done;
    free(call->path);
    call->path = relative;
    relative = NULL;
    digest_sha256_hex(json, len, call->sha256);
    call->size = len;
    call->outcome = EVIDENCE_OK;
    error = evidence_add_call(snapshot, call, d);
done:
    free(relative);
    free(full);
    free(dir);
    return error;
}

void evidence_index(struct evidence_snapshot *snapshot)
{
    sort_calls(snapshot);
}

/* ---------------------------------------------------------------- manifest writing */

static void set_string(json_t *object, const char *key, const char *value)
{
    if (value)
        json_object_set_new(object, key, json_string(value));
}

int evidence_write_manifest(struct evidence_snapshot *snapshot, struct diagnostics *d)
{
    sort_calls(snapshot);
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(EVIDENCE_FORMAT));
    json_object_set_new(root, "format_version", json_integer(EVIDENCE_FORMAT_VERSION));
    set_string(root, "account", snapshot->account);
    set_string(root, "partition", snapshot->partition);
    json_t *regions = json_array();
    for (size_t i = 0; i < snapshot->region_count; i++)
        json_array_append_new(regions, json_string(snapshot->regions[i]));
    json_object_set_new(root, "regions", regions);
    if (snapshot->period_start && snapshot->period_end) {
        json_t *period = json_object();
        json_object_set_new(period, "start", json_string(snapshot->period_start));
        json_object_set_new(period, "end", json_string(snapshot->period_end));
        json_object_set_new(root, "period", period);
    } else {
        json_object_set_new(root, "period", json_null());
    }
    set_string(root, "collected_at", snapshot->collected_at);
    set_string(root, "tool", snapshot->tool ? snapshot->tool : "ddbaudit " DDBAUDIT_VERSION);
    json_object_set_new(root, "complete", json_boolean(snapshot->complete));
    json_t *calls = json_array();
    for (size_t i = 0; i < snapshot->call_count; i++) {
        const struct evidence_call *c = &snapshot->calls[i];
        json_t *entry = json_object();
        set_string(entry, "path", c->path);
        set_string(entry, "service", c->service);
        set_string(entry, "operation", c->operation);
        set_string(entry, "region", c->region);
        set_string(entry, "key", c->key);
        json_object_set(entry, "parameters", c->parameters ? c->parameters : json_object());
        if (!c->parameters)
            json_decref(json_object_get(entry, "parameters"));
        json_object_set_new(entry, "outcome", json_string(outcome_names[c->outcome]));
        set_string(entry, "error_code", c->error_code);
        set_string(entry, "error_message", c->error_message);
        if (c->path) {
            json_object_set_new(entry, "sha256", json_string(c->sha256));
            json_object_set_new(entry, "size", json_integer((json_int_t)c->size));
        }
        set_string(entry, "request_id", c->request_id);
        set_string(entry, "started_at", c->started_at);
        set_string(entry, "ended_at", c->ended_at);
        if (c->http_status)
            json_object_set_new(entry, "http_status", json_integer(c->http_status));
        if (c->raw_path) {
            json_object_set_new(entry, "raw_path", json_string(c->raw_path));
            json_object_set_new(entry, "raw_sha256", json_string(c->raw_sha256));
        }
        json_array_append_new(calls, entry);
    }
    json_object_set_new(root, "calls", calls);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    if (!text)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    size_t len = strlen(text);
    char *with_newline = realloc(text, len + 2);
    if (!with_newline) {
        free(text);
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    }
    with_newline[len] = '\n';
    with_newline[len + 1] = '\0';
    char *path = fs_join(snapshot->root, "manifest.json");
    int error = path ? fs_write_atomic(path, with_newline, len + 1, d)
                     : diag_error(d, DDB_ERUNTIME, "out of memory");
    if (!error)
        digest_sha256_hex(with_newline, len + 1, snapshot->manifest_sha256);
    free(path);
    free(with_newline);
    return error;
}

/* Whether `region` is one of the snapshot's regions (or "global", for IAM and STS). */
static int region_listed(const struct evidence_snapshot *s, const char *region)
{
    if (!strcmp(region, "global"))
        return 1;
    for (size_t i = 0; i < s->region_count; i++)
        if (!strcmp(s->regions[i], region))
            return 1;
    return 0;
}

/* A collection time as the manifest records it: UTC, YYYY-MM-DDTHH:MM:SS[.fff]Z. "Today" for
 * a report is its date part, so an offset such as +02:00 would shift it by a day. */
static int valid_timestamp(const char *text)
{
    long day;
    char date[11];
    if (!text || strlen(text) < 20)
        return 0;
    memcpy(date, text, 10);
    date[10] = '\0';
    if (date_parse(date, &day) < 0 || text[10] != 'T' || text[strlen(text) - 1] != 'Z')
        return 0;
    int h, m, sec;
    char tail;
    return sscanf(text + 11, "%2d:%2d:%2d%c", &h, &m, &sec, &tail) == 4 && h < 24 && m < 60 &&
           sec < 61 && (tail == 'Z' || tail == '.');
}

/* ---------------------------------------------------------------- manifest reading */

struct manifest_reader {
    const char *file; /* display name for diagnostics */
    struct diagnostics *d;
    int error;
};

static int manifest_fail(struct manifest_reader *r, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int manifest_fail(struct manifest_reader *r, const char *pointer, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    r->error = diag_error_at(r->d, DDB_EINPUT, r->file, 0, 0, 0, "%s: %s", pointer, message);
    return r->error;
}

/* Optional string member; fails on a present non-string. */
static int get_string(struct manifest_reader *r, json_t *object, const char *key,
                      const char *pointer, char **out, int required)
{
    json_t *value = json_object_get(object, key);
    if (!value || json_is_null(value)) {
        if (required)
            return manifest_fail(r, pointer, "missing required field '%s'", key);
        return 0;
    }
    if (!json_is_string(value))
        return manifest_fail(r, pointer, "field '%s' must be a string", key);
    *out = strdup(json_string_value(value));
    return 0;
}

static int check_known_keys(struct manifest_reader *r, json_t *object, const char *pointer,
                            const char *const *known)
{
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value)
    {
        int found = 0;
        for (const char *const *k = known; *k && !found; k++)
            found = !strcmp(*k, key);
        if (!found)
            return manifest_fail(r, pointer, "unknown field '%s'", key);
    }
    return 0;
}

static int is_hex_digest(const char *s)
{
    if (!s || strlen(s) != DIGEST_SHA256_HEX_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static int read_call(struct manifest_reader *r, json_t *entry, size_t index,
                     struct evidence_call *call)
{
    static const char *const known[] = {
        "path",       "service",    "operation",     "region",   "key",        "parameters",
        "outcome",    "error_code", "error_message", "sha256",   "size",       "request_id",
        "started_at", "ended_at",   "http_status",   "raw_path", "raw_sha256", NULL};
    char pointer[64];
    snprintf(pointer, sizeof(pointer), "/calls/%zu", index);
    if (!json_is_object(entry))
        return manifest_fail(r, pointer, "each call must be an object");
    if (check_known_keys(r, entry, pointer, known) < 0)
        return r->error;
    char *outcome = NULL;
    char *sha = NULL, *raw_sha = NULL;
    if (get_string(r, entry, "service", pointer, &call->service, 1) < 0 ||
        get_string(r, entry, "operation", pointer, &call->operation, 1) < 0 ||
        get_string(r, entry, "region", pointer, &call->region, 1) < 0 ||
        get_string(r, entry, "key", pointer, &call->key, 0) < 0 ||
        get_string(r, entry, "path", pointer, &call->path, 0) < 0 ||
        get_string(r, entry, "outcome", pointer, &outcome, 1) < 0 ||
        get_string(r, entry, "error_code", pointer, &call->error_code, 0) < 0 ||
        get_string(r, entry, "error_message", pointer, &call->error_message, 0) < 0 ||
        get_string(r, entry, "sha256", pointer, &sha, 0) < 0 ||
        get_string(r, entry, "request_id", pointer, &call->request_id, 0) < 0 ||
        get_string(r, entry, "started_at", pointer, &call->started_at, 0) < 0 ||
        get_string(r, entry, "ended_at", pointer, &call->ended_at, 0) < 0 ||
        get_string(r, entry, "raw_path", pointer, &call->raw_path, 0) < 0 ||
        get_string(r, entry, "raw_sha256", pointer, &raw_sha, 0) < 0)
        goto done;
    if (outcome_from_name(outcome, &call->outcome) < 0) {
        manifest_fail(r, pointer, "unknown outcome '%s' (expected ok, not_found, denied, error)",
                      outcome);
        goto done;
    }
    json_t *parameters = json_object_get(entry, "parameters");
    if (parameters && !json_is_object(parameters)) {
        manifest_fail(r, pointer, "'parameters' must be an object");
        goto done;
    }
    call->parameters = parameters ? json_incref(parameters) : json_object();
    json_t *size = json_object_get(entry, "size");
    if (size && (!json_is_integer(size) || json_integer_value(size) < 0)) {
        manifest_fail(r, pointer, "'size' must be a non-negative integer");
        goto done;
    }
    call->size = size ? (size_t)json_integer_value(size) : 0;
    json_t *status = json_object_get(entry, "http_status");
    if (status && !json_is_integer(status)) {
        manifest_fail(r, pointer, "'http_status' must be an integer");
        goto done;
    }
    call->http_status = status ? (int)json_integer_value(status) : 0;
    if (call->outcome == EVIDENCE_OK) {
        if (!call->path || !sha || !size) {
            manifest_fail(r, pointer, "an 'ok' call needs path, sha256 and size");
            goto done;
        }
    } else if (call->path) {
        manifest_fail(r, pointer, "a call with outcome '%s' must not have a file", outcome);
        goto done;
    }
    if (sha && !is_hex_digest(sha)) {
        manifest_fail(r, pointer, "'sha256' must be 64 lowercase hex digits");
        goto done;
    }
    if (raw_sha && !is_hex_digest(raw_sha)) {
        manifest_fail(r, pointer, "'raw_sha256' must be 64 lowercase hex digits");
        goto done;
    }
    if (sha)
        memcpy(call->sha256, sha, sizeof(call->sha256));
    if (raw_sha)
        memcpy(call->raw_sha256, raw_sha, sizeof(call->raw_sha256));
    call->manifest_index = index;
done:
    free(outcome);
    free(sha);
    free(raw_sha);
    return r->error;
}

struct manifest_hash {
    const char *text;
    size_t len;
    char *out;
};

static void *hash_manifest(void *arg)
{
    struct manifest_hash *h = arg;
    digest_sha256_hex(h->text, h->len, h->out);
    return NULL;
}

static int read_manifest(struct evidence_snapshot *s, const char *manifest_path,
                         struct diagnostics *d)
{
    static const char *const known[] = {
        "format",       "format_version", "account",  "partition", "regions", "period",
        "collected_at", "tool",           "complete", "calls",     NULL};
    struct manifest_reader r = {manifest_path, d, 0};
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    int error = fs_read_file(&text, &len, manifest_path, EVIDENCE_MAX_FILE, d);
    if (error < 0) {
        if (!fs_exists(manifest_path))
            return diag_error_at(d, DDB_EINPUT, s->root, 0, 0, 0,
                                 "not an evidence snapshot: no manifest.json (seal a directory "
                                 "of AWS CLI outputs with `ddbaudit evidence seal`)");
        return error;
    }
    /* Hash on a second core while jansson parses: the manifest is ~2.5 MB per 1,000 tables and
     * nothing else can start before both are done. */
    struct manifest_hash hash = {text, len, s->manifest_sha256};
    pthread_t hasher;
    int hashing = pthread_create(&hasher, NULL, hash_manifest, &hash) == 0;
    if (!hashing)
        hash_manifest(&hash);
    json_error_t jerr;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (hashing)
        pthread_join(hasher, NULL);
    if (!root) {
        error =
            diag_error_at(d, DDB_EINPUT, manifest_path, jerr.line, jerr.column, 1, "%s", jerr.text);
        goto done;
    }
    if (!json_is_object(root)) {
        error = manifest_fail(&r, "/", "the manifest must be a JSON object");
        goto done;
    }
    if (check_known_keys(&r, root, "", known) < 0) {
        error = r.error;
        goto done;
    }
    char *format = NULL;
    if (get_string(&r, root, "format", "", &format, 1) < 0) {
        error = r.error;
        goto done;
    }
    int format_ok = !strcmp(format, EVIDENCE_FORMAT);
    free(format);
    json_t *version = json_object_get(root, "format_version");
    if (!format_ok || !json_is_integer(version) ||
        json_integer_value(version) != EVIDENCE_FORMAT_VERSION) {
        error = manifest_fail(&r, "/format", "not a ddbaudit evidence manifest of version %d",
                              EVIDENCE_FORMAT_VERSION);
        goto done;
    }
    if (get_string(&r, root, "account", "", &s->account, 1) < 0 ||
        get_string(&r, root, "partition", "", &s->partition, 1) < 0 ||
        get_string(&r, root, "collected_at", "", &s->collected_at, 1) < 0 ||
        get_string(&r, root, "tool", "", &s->tool, 0) < 0) {
        error = r.error;
        goto done;
    }
    if (!safe_segment(s->account)) {
        error = manifest_fail(&r, "/account", "'%s' is not an account id", s->account);
        goto done;
    }
    json_t *regions = json_object_get(root, "regions");
    if (!json_is_array(regions)) {
        error = manifest_fail(&r, "/regions", "must be a list of region names");
        goto done;
    }
    s->regions = calloc(json_array_size(regions) + 1, sizeof(char *));
    size_t i;
    json_t *value;
    json_array_foreach(regions, i, value)
    {
        if (!json_is_string(value) || !safe_segment(json_string_value(value))) {
            error = manifest_fail(&r, "/regions", "item %zu is not a region name", i);
            goto done;
        }
        if (region_listed(s, json_string_value(value))) {
            error = manifest_fail(&r, "/regions", "'%s' is listed twice", json_string_value(value));
            goto done;
        }
        s->regions[s->region_count++] = strdup(json_string_value(value));
    }
    /* Checks enumerate resources region by region: an empty list would make every control
     * "nothing in scope" instead of failing. */
    if (s->region_count == 0) {
        error = manifest_fail(&r, "/regions", "lists no regions: nothing could be evaluated");
        goto done;
    }
    if (!valid_timestamp(s->collected_at)) {
        error = manifest_fail(&r, "/collected_at", "'%s' is not a UTC time (YYYY-MM-DDTHH:MM:SSZ)",
                              s->collected_at);
        goto done;
    }
    json_t *period = json_object_get(root, "period");
    if (period && !json_is_null(period)) {
        if (!json_is_object(period) ||
            get_string(&r, period, "start", "/period", &s->period_start, 1) < 0 ||
            get_string(&r, period, "end", "/period", &s->period_end, 1) < 0) {
            error = r.error ? r.error : manifest_fail(&r, "/period", "must be {start, end}");
            goto done;
        }
    }
    json_t *complete = json_object_get(root, "complete");
    s->complete = complete ? json_is_true(complete) : 1;
    json_t *calls = json_object_get(root, "calls");
    if (!json_is_array(calls)) {
        error = manifest_fail(&r, "/calls", "must be a list");
        goto done;
    }
    s->calls = calloc(json_array_size(calls) + 1, sizeof(*s->calls));
    s->call_capacity = json_array_size(calls) + 1;
    json_array_foreach(calls, i, value)
    {
        if ((error = read_call(&r, value, i, &s->calls[s->call_count])) < 0) {
            call_clear(&s->calls[s->call_count]);
            goto done;
        }
        if (!region_listed(s, s->calls[s->call_count].region)) {
            char pointer[64];
            snprintf(pointer, sizeof(pointer), "/calls/%zu/region", i);
            error = manifest_fail(&r, pointer,
                                  "region '%s' is not in the manifest's regions: its evidence "
                                  "would be ignored",
                                  s->calls[s->call_count].region);
            call_clear(&s->calls[s->call_count]);
            goto done;
        }
        s->call_count++;
    }
    if (s->call_count > 1)
        qsort(s->calls, s->call_count, sizeof(*s->calls), compare_calls);
    for (i = 1; i < s->call_count; i++) {
        if (!compare_calls(&s->calls[i - 1], &s->calls[i])) {
            error = manifest_fail(&r, "/calls", "%s %s %s %s is listed twice", s->calls[i].service,
                                  s->calls[i].region, s->calls[i].operation,
                                  s->calls[i].key ? s->calls[i].key : "");
            goto done;
        }
    }
done:
    json_decref(root);
    free(text);
    return error;
}

/* ---------------------------------------------------------------- file verification */

struct load_job {
    struct evidence_snapshot *snapshot;
    const char *real_root;
    size_t next;
    pthread_mutex_t lock;
    struct diagnostics *worker_diags;
    struct speculation *speculation; /* files loaded while the manifest parsed, or NULL */
};

/* The directory a worker verified last. Calls are sorted by service, region and operation, so
 * thousands of files in a row share one directory: resolving it once instead of once per file
 * (realpath costs a readlink per path component) removes most of the loader's system calls. */
struct verified_dir {
    char relative[PATH_MAX];
    int fd; /* open on the directory when it resolved to itself inside the snapshot, else -1 */
};

/* Verifies that `relative` stays inside the snapshot: no absolute path, no "..", no symlink at
 * any level (a symlinked directory could point anywhere). */
static int check_inside(const char *real_root, const char *root, const char *relative,
                        struct diagnostics *d, const char *manifest)
{
    if (relative[0] == '/' || strstr(relative, "..") || strstr(relative, "//"))
        return diag_error_at(d, DDB_EINPUT, manifest, 0, 0, 0,
                             "evidence path '%s' leaves the snapshot", relative);
    char *full = fs_join(root, relative);
    if (!full)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    char resolved[PATH_MAX];
    int error = 0;
    if (!realpath(full, resolved)) {
        error =
            diag_error_at(d, DDB_EINPUT, full, 0, 0, 0,
                          "evidence file listed in the manifest is missing: %s", strerror(errno));
    } else {
        size_t n = strlen(real_root);
        if (strncmp(resolved, real_root, n) || resolved[n] != '/')
            error = diag_error_at(d, DDB_EINPUT, full, 0, 0, 0,
                                  "evidence file resolves to %s, outside the snapshot", resolved);
        else if (strcmp(resolved + n + 1, relative))
            error = diag_error_at(d, DDB_EINPUT, full, 0, 0, 0,
                                  "evidence path goes through a symbolic link; evidence files "
                                  "must be regular files inside the snapshot");
    }
    free(full);
    return error;
}

/* Reads `relative` when that needs no further proof that it is a regular file inside the
 * snapshot: its directory resolves to itself under the real root (checked once per directory)
 * and the file is opened without following a symbolic link. The same facts check_inside
 * establishes with one realpath per file. Returns -1, reading nothing, when any of it fails. */
static int read_verified(char **out, size_t *len, struct load_job *job, struct verified_dir *dir,
                         const char *relative)
{
    const char *slash = strrchr(relative, '/');
    if (relative[0] == '/' || strstr(relative, "..") || strstr(relative, "//") || !slash ||
        (size_t)(slash - relative) >= sizeof(dir->relative))
        return -1;
    size_t dir_len = (size_t)(slash - relative);
    if (strncmp(dir->relative, relative, dir_len) || dir->relative[dir_len] != '\0') {
        if (dir->fd >= 0)
            close(dir->fd);
        dir->fd = -1;
        memcpy(dir->relative, relative, dir_len);
        dir->relative[dir_len] = '\0';
        char *full = fs_join(job->snapshot->root, dir->relative);
        char resolved[PATH_MAX];
        size_t n = strlen(job->real_root);
        if (full && realpath(full, resolved) && !strncmp(resolved, job->real_root, n) &&
            resolved[n] == '/' && !strcmp(resolved + n + 1, dir->relative))
            dir->fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(full);
    }
    if (dir->fd < 0)
        return -1;
    int fd = openat(dir->fd, slash + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    char *data = NULL;
    size_t size = 0, got = 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > EVIDENCE_MAX_FILE)
        goto fail;
    size = (size_t)st.st_size;
    if (!(data = malloc(size + 1)))
        goto fail;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto fail;
        got += (size_t)r;
    }
    close(fd);
    data[size] = '\0';
    *out = data;
    *len = size;
    return 0;
fail:
    free(data);
    close(fd);
    return -1;
}

/* ---------------------------------------------------------------- speculative loading */

static int has_suffix(const char *name, const char *suffix);

/* jansson parses the manifest on one core (~390 M instructions per 1,000 tables); nothing in it
 * is needed to find the evidence files, whose paths follow the layout. So while the manifest
 * parses, a second thread walks the snapshot (never following a symbolic link), and reads,
 * hashes and parses each file that could be evidence. A call later takes its file's document
 * only when the path is the one its identity implies and the size and SHA-256 match what the
 * manifest says: exactly what load_one would have accepted. Anything else is loaded (and
 * refused, with the same message) by load_one as before. */
struct speculative_file {
    char *relative;
    size_t size;
    char sha256[DIGEST_SHA256_HEX_LEN + 1];
    json_t *document; /* NULL when unreadable or not a JSON object */
};

struct speculation {
    struct load_job *job; /* root and real root only */
    struct speculative_file *files;
    size_t count, capacity;
    size_t next;   /* next file to load; under lock */
    int walked;    /* the list is complete and sorted; under lock */
    int cancelled; /* the manifest failed: stop; under lock */
    pthread_mutex_t lock;
};

static int speculation_add(struct speculation *sp, const char *relative)
{
    if (sp->count == sp->capacity) {
        size_t capacity = sp->capacity ? sp->capacity * 2 : 1024;
        struct speculative_file *grown = realloc(sp->files, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        sp->files = grown;
        sp->capacity = capacity;
    }
    char *copy = strdup(relative);
    if (!copy)
        return -1;
    sp->files[sp->count++] = (struct speculative_file){.relative = copy};
    return 0;
}

/* Evidence files sit at <account>/<region>/<service>/<Operation>.json (depth 3) or one level
 * deeper with a key; the account is digits, which keeps raw/ answers out. */
static void speculation_walk(struct speculation *sp, int dir_fd, char *relative, size_t len,
                             int depth)
{
    DIR *dir = fdopendir(dir_fd);
    if (!dir) {
        close(dir_fd);
        return;
    }
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        const char *name = entry->d_name;
        size_t name_len = strlen(name);
        if (!safe_segment(name) || len + name_len + 2 >= PATH_MAX)
            continue;
        int is_dir = entry->d_type == DT_DIR, is_file = entry->d_type == DT_REG;
        if (entry->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                is_dir = S_ISDIR(st.st_mode);
                is_file = S_ISREG(st.st_mode);
            }
        }
        if (depth == 0) {
            int digits = 1;
            for (const char *c = name; *c; c++)
                digits &= *c >= '0' && *c <= '9';
            if (!digits)
                continue;
        }
        size_t next_len = len ? len + 1 + name_len : name_len;
        if (len)
            relative[len] = '/';
        memcpy(relative + (len ? len + 1 : 0), name, name_len + 1);
        if (is_dir && depth < 3) {
            int fd = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0)
                speculation_walk(sp, fd, relative, next_len, depth + 1);
        } else if (is_file && depth >= 3 && has_suffix(name, ".json")) {
            speculation_add(sp, relative);
        }
        relative[len] = '\0';
    }
    closedir(dir);
}

static int compare_speculative(const void *pa, const void *pb)
{
    const struct speculative_file *a = pa, *b = pb;
    return strcmp(a->relative, b->relative);
}

/* Loads listed files until none is left; both the walking thread and, once the manifest is
 * read, the main thread run it. */
static void speculation_load(struct speculation *sp)
{
    struct verified_dir dir = {.fd = -1};
    for (;;) {
        /* The list is read only once the walk has finished writing it. */
        pthread_mutex_lock(&sp->lock);
        size_t index = 0, end = 0;
        if (sp->walked && !sp->cancelled && sp->next < sp->count) {
            index = sp->next;
            end = index + 16 < sp->count ? index + 16 : sp->count;
            sp->next = end;
        }
        pthread_mutex_unlock(&sp->lock);
        if (end == 0)
            break;
        for (; index < end; index++) {
            struct speculative_file *f = &sp->files[index];
            char *text = NULL;
            if (read_verified(&text, &f->size, sp->job, &dir, f->relative) < 0)
                continue;
            digest_sha256_hex(text, f->size, f->sha256);
            f->document = json_loadb(text, f->size, JSON_REJECT_DUPLICATES, NULL);
            if (f->document && !json_is_object(f->document)) {
                json_decref(f->document);
                f->document = NULL;
            }
            free(text);
        }
    }
    if (dir.fd >= 0)
        close(dir.fd);
}

static void *speculate(void *arg)
{
    struct speculation *sp = arg;
    char relative[PATH_MAX] = "";
    int fd = open(sp->job->snapshot->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        speculation_walk(sp, fd, relative, 0, 0);
    if (sp->count > 1)
        qsort(sp->files, sp->count, sizeof(*sp->files), compare_speculative);
    pthread_mutex_lock(&sp->lock);
    sp->walked = 1;
    pthread_mutex_unlock(&sp->lock);
    speculation_load(sp);
    return NULL;
}

/* The document loaded for `call`, handed over (NULL when it must be loaded as usual). */
static json_t *speculation_take(struct speculation *sp, const struct evidence_call *call)
{
    if (!sp || !sp->count)
        return NULL;
    struct speculative_file key = {.relative = call->path};
    struct speculative_file *f =
        bsearch(&key, sp->files, sp->count, sizeof(*sp->files), compare_speculative);
    if (!f || !f->document || f->size != call->size || strcmp(f->sha256, call->sha256))
        return NULL;
    json_t *document = f->document;
    f->document = NULL;
    return document;
}

static void speculation_free(struct speculation *sp)
{
    for (size_t i = 0; i < sp->count; i++) {
        free(sp->files[i].relative);
        json_decref(sp->files[i].document);
    }
    free(sp->files);
}

static int load_one(struct load_job *job, struct verified_dir *dir, struct evidence_call *call,
                    struct diagnostics *d)
{
    struct evidence_snapshot *s = job->snapshot;
    char *expected =
        evidence_path(s->account, call->region, call->service, call->operation, call->key);
    int error = 0;
    char *full = NULL, *text = NULL;
    size_t len = 0;
    if (!expected || strcmp(expected, call->path)) {
        error = diag_error_at(d, DDB_EINPUT, "manifest.json", 0, 0, 0,
                              "/calls/%zu: path '%s' is not where %s %s %s belongs (%s)",
                              call->manifest_index, call->path, call->service, call->operation,
                              call->key ? call->key : "", expected ? expected : "unsafe name");
        goto done;
    }
    if ((call->document = speculation_take(job->speculation, call)))
        goto done;
    full = fs_join(s->root, call->path);
    if (!full) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    /* Anything the fast path does not accept takes the original checks, which say why. */
    if (read_verified(&text, &len, job, dir, call->path) < 0) {
        if ((error = check_inside(job->real_root, s->root, call->path, d, "manifest.json")) < 0)
            goto done;
        if ((error = fs_read_file(&text, &len, full, EVIDENCE_MAX_FILE, d)) < 0)
            goto done;
    }
    char actual[DIGEST_SHA256_HEX_LEN + 1];
    digest_sha256_hex(text, len, actual);
    if (strcmp(actual, call->sha256) || len != call->size) {
        error = diag_error_at(d, DDB_EINPUT, full, 0, 0, 0,
                              "changed after sealing: the manifest says sha256 %.12s… (%zu "
                              "bytes), the file is %.12s… (%zu bytes); refusing to use it",
                              call->sha256, call->size, actual, len);
        goto done;
    }
    json_error_t jerr;
    /* A key given twice is refused: jansson, jq and Python would each pick a value, and an
     * auditor's tool might not pick the one the evaluation used. */
    call->document = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!call->document) {
        error = diag_error_at(d, DDB_EINPUT, full, jerr.line, jerr.column, 1, "not valid JSON: %s",
                              jerr.text);
        goto done;
    }
    if (!json_is_object(call->document)) {
        error = diag_error_at(d, DDB_EINPUT, full, 1, 1, 1, "an AWS CLI output is a JSON object");
        goto done;
    }
done:
    free(expected);
    free(full);
    free(text);
    return error;
}

struct worker_arg {
    struct load_job *job;
    struct diagnostics diags;
};

static void *load_files(void *arg)
{
    struct worker_arg *w = arg;
    struct load_job *job = w->job;
    struct verified_dir dir = {.fd = -1};
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t index = job->next;
        job->next += 64;
        pthread_mutex_unlock(&job->lock);
        if (index >= job->snapshot->call_count)
            break;
        size_t end = index + 64;
        if (end > job->snapshot->call_count)
            end = job->snapshot->call_count;
        for (; index < end; index++) {
            struct evidence_call *call = &job->snapshot->calls[index];
            if (call->outcome == EVIDENCE_OK && w->diags.errors < 20)
                load_one(job, &dir, call, &w->diags);
        }
    }
    if (dir.fd >= 0)
        close(dir.fd);
    return NULL;
}

static int compare_entries(const void *pa, const void *pb)
{
    const struct diag_entry *a = pa, *b = pb;
    int c = compare_nullable(a->file, b->file);
    return c ? c : strcmp(a->message, b->message);
}

/* Workers finish in any order; sorting keeps the error output the same from run to run. */
static void merge_diagnostics(struct diagnostics *into, const struct diagnostics *from)
{
    for (size_t i = 0; i < from->count; i++) {
        const struct diag_entry *e = &from->entries[i];
        diag_error_at(into, DDB_EINPUT, e->file, e->line, e->col, e->span, "%s", e->message);
    }
}

int evidence_open(struct evidence_snapshot **out, const char *dir, struct diagnostics *d)
{
    int error = 0;
    *out = NULL;
    if (!fs_is_dir(dir))
        return diag_error_at(d, DDB_EINPUT, dir, 0, 0, 0, "evidence snapshot not found");
    struct evidence_snapshot *s = calloc(1, sizeof(*s));
    s->root = strdup(dir);
    s->name = last_component(dir);
    char *manifest = fs_join(dir, "manifest.json");
    char real_root[PATH_MAX];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t workers = cores > 1 ? (size_t)(cores > 8 ? 8 : cores) : 1;
    struct load_job speculation_job = {.snapshot = s, .real_root = real_root};
    struct speculation speculation = {.job = &speculation_job};
    pthread_t speculator;
    int speculating =
        workers > 1 && realpath(dir, real_root) && pthread_mutex_init(&speculation.lock, NULL) == 0;
    if (speculating && pthread_create(&speculator, NULL, speculate, &speculation) != 0) {
        pthread_mutex_destroy(&speculation.lock);
        speculating = 0;
    }
    error = read_manifest(s, manifest, d);
    if (speculating) {
        if (error < 0 || s->call_count == 0) {
            pthread_mutex_lock(&speculation.lock);
            speculation.cancelled = 1;
            pthread_mutex_unlock(&speculation.lock);
        } else {
            speculation_load(&speculation); /* help with what is left */
        }
        pthread_join(speculator, NULL);
        pthread_mutex_destroy(&speculation.lock);
    }
    if (error < 0)
        goto done;
    if (s->call_count == 0) {
        error = diag_error_at(d, DDB_EINPUT, manifest, 0, 0, 0,
                              "the snapshot records no API calls: nothing to evaluate");
        goto done;
    }
    if (!realpath(dir, real_root)) {
        error = diag_error_at(d, DDB_ERUNTIME, dir, 0, 0, 0, "%s", strerror(errno));
        goto done;
    }

    /* Hashing and parsing dominate a large snapshot; two workers match our 2-core target. */
    struct load_job job = {.snapshot = s,
                           .real_root = real_root,
                           .next = 0,
                           .speculation = speculating ? &speculation : NULL};
    pthread_mutex_init(&job.lock, NULL);
    struct worker_arg args[8];
    pthread_t threads[8];
    size_t started = 0;
    for (size_t i = 0; i < workers; i++) {
        args[i].job = &job;
        diag_init(&args[i].diags);
    }
    for (size_t i = 1; i < workers; i++)
        if (pthread_create(&threads[i], NULL, load_files, &args[i]) == 0)
            started = i;
    load_files(&args[0]);
    for (size_t i = 1; i <= started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&job.lock);
    size_t first_new = d->count;
    for (size_t i = 0; i < workers; i++) {
        if (args[i].diags.errors)
            error = DDB_EINPUT;
        merge_diagnostics(d, &args[i].diags);
        diag_free(&args[i].diags);
    }
    if (d->count > first_new)
        qsort(d->entries + first_new, d->count - first_new, sizeof(*d->entries), compare_entries);
done:
    if (speculating)
        speculation_free(&speculation);
    free(manifest);
    if (error < 0)
        evidence_free(s);
    else
        *out = s;
    return error;
}

/* ---------------------------------------------------------------- sealing */

/* The request parameters a hand-gathered file implies, from its place in the layout. */
static json_t *parameters_for(const struct evidence_snapshot *s, const char *region,
                              const char *service, const char *operation, const char *key)
{
    json_t *p = json_object();
    if (!strcmp(service, "application-autoscaling"))
        json_object_set_new(p, "ServiceNamespace", json_string("dynamodb"));
    if (!key)
        return p;
    char arn[1024];
    if (!strcmp(service, "dynamodb")) {
        const char *at = strchr(key, '@');
        size_t table_len = at ? (size_t)(at - key) : strlen(key);
        snprintf(arn, sizeof(arn), "arn:%s:dynamodb:%s:%s:table/%.*s", s->partition, region,
                 s->account, (int)table_len, key);
        if (!strcmp(operation, "ListTagsOfResource") || !strcmp(operation, "GetResourcePolicy")) {
            if (at) {
                /* The stream's ARN is in the table's description, if it was gathered. */
                char table[256];
                snprintf(table, sizeof(table), "%.*s", (int)table_len, key);
                const struct evidence_call *describe =
                    evidence_find(s, region, "dynamodb", "DescribeTable", table);
                json_t *stream = describe
                                     ? json_object_get(json_object_get(describe->document, "Table"),
                                                       "LatestStreamArn")
                                     : NULL;
                json_object_set_new(p, "ResourceArn",
                                    json_is_string(stream) ? json_copy(stream) : json_string(arn));
            } else {
                json_object_set_new(p, "ResourceArn", json_string(arn));
            }
        } else {
            json_object_set_new(p, "TableName", json_string(key));
        }
    } else if (!strcmp(service, "kms")) {
        json_object_set_new(p, "KeyId", json_string(key));
        if (!strcmp(operation, "GetKeyPolicy"))
            json_object_set_new(p, "PolicyName", json_string("default"));
    } else if (!strcmp(service, "cloudtrail") && !strcmp(operation, "LookupEvents")) {
        /* The time range the CLI was given is not in its output: only the period asked for is
         * known (no StartTime, so no stage may assume the period was covered). */
        json_object_set_new(
            p, "LookupAttributes",
            json_pack("[{s:s, s:s}]", "AttributeKey", "EventSource", "AttributeValue", key));
        if (s->period_start && s->period_end) {
            long first, last;
            char start[32], end[32], day[11];
            if (date_parse(s->period_start, &first) == 0 && date_parse(s->period_end, &last) == 0) {
                date_format(first, day);
                snprintf(start, sizeof(start), "%sT00:00:00Z", day);
                date_format(last + 1, day);
                snprintf(end, sizeof(end), "%sT00:00:00Z", day);
                json_object_set_new(p, "RequestedStartTime", json_string(start));
                json_object_set_new(p, "RequestedEndTime", json_string(end));
            }
        }
    } else if (!strcmp(service, "cloudtrail")) {
        json_object_set_new(p, !strcmp(operation, "GetTrailStatus") ? "Name" : "TrailName",
                            json_string(key));
    } else if (!strcmp(service, "events")) {
        json_object_set_new(p, "Rule", json_string(key));
    } else {
        json_object_set_new(p, "Key", json_string(key));
    }
    return p;
}

/* Reads the AWS CLI's error line: "An error occurred (Code) when calling the Op operation: msg". */
static void parse_cli_error(const char *text, char **code, char **message)
{
    const char *open = strstr(text, "An error occurred (");
    *code = NULL;
    *message = NULL;
    if (open) {
        open += strlen("An error occurred (");
        const char *close = strchr(open, ')');
        if (close && close > open)
            *code = strndup(open, (size_t)(close - open));
        const char *colon = close ? strstr(close, ": ") : NULL;
        if (colon) {
            colon += 2;
            size_t n = strcspn(colon, "\r\n");
            *message = strndup(colon, n > 500 ? 500 : n);
        }
    }
    if (!*code)
        *code = strdup("CliError");
    if (!*message) {
        size_t skip = strspn(text, " \r\n\t");
        size_t n = strcspn(text + skip, "\r\n");
        *message = strndup(text + skip, n > 500 ? 500 : n);
    }
}

struct seal_walk {
    struct evidence_snapshot *snapshot;
    struct diagnostics *d;
    time_t newest;
};

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n > m && !strcmp(name + n - m, suffix);
}

/* One candidate file: `<stem>.json` or `<stem>.err` in dir, for (region, service, operation, key).
 */
static int seal_file(struct seal_walk *w, const char *dir, const char *stem, const char *region,
                     const char *service, const char *operation, const char *key)
{
    struct evidence_snapshot *s = w->snapshot;
    struct diagnostics *d = w->d;
    char json_name[300], err_name[300];
    snprintf(json_name, sizeof(json_name), "%s.json", stem);
    snprintf(err_name, sizeof(err_name), "%s.err", stem);
    char *json_path = fs_join(dir, json_name), *err_path = fs_join(dir, err_name);
    int error = 0;
    char *text = NULL, *err_text = NULL;
    size_t len = 0, err_len = 0;
    struct evidence_call call = {0};
    call.service = (char *)service;
    call.operation = (char *)operation;
    call.region = (char *)region;
    call.key = (char *)key;
    struct stat st;
    if (lstat(json_path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            error = diag_error_at(d, DDB_EINPUT, json_path, 0, 0, 0,
                                  "not a regular file (symbolic links are not sealed)");
            goto done;
        }
        if (st.st_mtime > w->newest)
            w->newest = st.st_mtime;
        if ((error = fs_read_file(&text, &len, json_path, EVIDENCE_MAX_FILE, d)) < 0)
            goto done;
    }
    if (lstat(err_path, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((error = fs_read_file(&err_text, &err_len, err_path, 1 << 20, d)) < 0)
            goto done;
    }
    size_t blank = 0;
    while (text && blank < len && strchr(" \r\n\t", text[blank]))
        blank++;
    if (text && blank < len) {
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
            error = diag_error_at(d, DDB_EINPUT, json_path, jerr.line, jerr.column, 1,
                                  "not valid JSON: %s", jerr.text);
            goto done;
        }
        call.document = doc;
        call.path = evidence_path(s->account, region, service, operation, key);
        if (!call.path) {
            json_decref(doc);
            error = diag_error_at(d, DDB_EINPUT, json_path, 0, 0, 0, "unsafe file name");
            goto done;
        }
        digest_sha256_hex(text, len, call.sha256);
        call.size = len;
        call.outcome = EVIDENCE_OK;
        struct evidence_call *added = append_call(s, &call);
        if (!added) {
            json_decref(doc);
            error = diag_error(d, DDB_ERUNTIME, "out of memory");
        } else {
            added->document = doc; /* kept for parameter look-ups (stream ARNs) */
        }
        free(call.path);
    } else if (err_text) {
        parse_cli_error(err_text, &call.error_code, &call.error_message);
        call.outcome = evidence_classify_error(operation, call.error_code);
        error = evidence_add_call(s, &call, d);
        free(call.error_code);
        free(call.error_message);
    } else {
        call.outcome = EVIDENCE_ERROR;
        call.error_code = "EmptyOutput";
        call.error_message = "the output file is empty and no .err file says why";
        error = evidence_add_call(s, &call, d);
    }
done:
    free(text);
    free(err_text);
    free(json_path);
    free(err_path);
    return error;
}

static int walk_calls(struct seal_walk *w, const char *service_dir, const char *region,
                      const char *service)
{
    int error = 0;
    DIR *dir = opendir(service_dir);
    if (!dir)
        return diag_error_at(w->d, DDB_ERUNTIME, service_dir, 0, 0, 0, "%s", strerror(errno));
    struct dirent *entry;
    while (!error && (entry = readdir(dir))) {
        const char *name = entry->d_name;
        if (name[0] == '.')
            continue;
        char *path = fs_join(service_dir, name);
        struct stat st;
        if (lstat(path, &st) < 0) {
            free(path);
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            error = diag_error_at(w->d, DDB_EINPUT, path, 0, 0, 0,
                                  "symbolic link in the evidence directory; evidence files must "
                                  "be regular files");
        } else if (S_ISDIR(st.st_mode)) {
            /* <Operation>/<key>.json|.err */
            DIR *keys = opendir(path);
            struct dirent *k;
            while (!error && keys && (k = readdir(keys))) {
                size_t n = strlen(k->d_name);
                char stem[300];
                if (k->d_name[0] == '.' || n >= sizeof(stem))
                    continue;
                int is_json = has_suffix(k->d_name, ".json");
                int is_err = has_suffix(k->d_name, ".err");
                if (!is_json && !is_err)
                    continue;
                snprintf(stem, sizeof(stem), "%.*s", (int)(n - (is_json ? 5 : 4)), k->d_name);
                if (is_err) {
                    /* Sealed together with its .json when both exist. */
                    char json_name[310];
                    snprintf(json_name, sizeof(json_name), "%s.json", stem);
                    char *sibling = fs_join(path, json_name);
                    int has_json = fs_exists(sibling);
                    free(sibling);
                    if (has_json)
                        continue;
                }
                if (!safe_segment(stem)) {
                    error = diag_error_at(w->d, DDB_EINPUT, path, 0, 0, 0,
                                          "'%s' is not a safe evidence key", stem);
                    break;
                }
                error = seal_file(w, path, stem, region, service, name, stem);
            }
            if (keys)
                closedir(keys);
        } else if (S_ISREG(st.st_mode)) {
            size_t n = strlen(name);
            char stem[300];
            int is_json = has_suffix(name, ".json"), is_err = has_suffix(name, ".err");
            if ((is_json || is_err) && n < sizeof(stem)) {
                snprintf(stem, sizeof(stem), "%.*s", (int)(n - (is_json ? 5 : 4)), name);
                char json_name[310];
                snprintf(json_name, sizeof(json_name), "%s.json", stem);
                char *sibling = fs_join(service_dir, json_name);
                int skip = is_err && fs_exists(sibling);
                free(sibling);
                if (!skip)
                    error = seal_file(w, service_dir, stem, region, service, stem, NULL);
            }
        }
        free(path);
    }
    closedir(dir);
    return error;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int evidence_seal(const char *dir, const struct evidence_seal_options *options,
                  struct diagnostics *d)
{
    int error = 0;
    if (!options->account || !safe_segment(options->account))
        return diag_error(d, DDB_EUSAGE, "--account must be an AWS account id");
    struct evidence_snapshot *s = evidence_new(dir, options->account, options->partition);
    struct seal_walk w = {s, d, 0};
    char *account_dir = fs_join(dir, options->account);
    DIR *regions = NULL;
    if (!fs_is_dir(account_dir)) {
        error = diag_error_at(d, DDB_EINPUT, account_dir, 0, 0, 0,
                              "no evidence for account %s (expected <dir>/<account>/<region>/…)",
                              options->account);
        goto done;
    }
    regions = opendir(account_dir);
    struct dirent *region;
    while (!error && regions && (region = readdir(regions))) {
        if (region->d_name[0] == '.')
            continue;
        char *region_dir = fs_join(account_dir, region->d_name);
        if (!fs_is_dir(region_dir) || !safe_segment(region->d_name)) {
            free(region_dir);
            continue;
        }
        if (strcmp(region->d_name, "global")) {
            char **grown = realloc(s->regions, (s->region_count + 1) * sizeof(char *));
            if (grown) {
                s->regions = grown;
                s->regions[s->region_count++] = strdup(region->d_name);
            }
        }
        DIR *services = opendir(region_dir);
        struct dirent *service;
        while (!error && services && (service = readdir(services))) {
            if (service->d_name[0] == '.' || !strcmp(service->d_name, "raw"))
                continue;
            char *service_dir = fs_join(region_dir, service->d_name);
            if (fs_is_dir(service_dir) && safe_segment(service->d_name))
                error = walk_calls(&w, service_dir, region->d_name, service->d_name);
            free(service_dir);
        }
        if (services)
            closedir(services);
        free(region_dir);
    }
    if (error < 0)
        goto done;
    if (options->regions) {
        for (size_t i = 0; i < s->region_count; i++)
            free(s->regions[i]);
        s->region_count = 0;
        for (const char *p = options->regions; *p;) {
            size_t n = strcspn(p, ",");
            char *name = strndup(p, n);
            char **grown =
                name ? realloc(s->regions, (s->region_count + 1) * sizeof(char *)) : NULL;
            if (!grown || !safe_segment(name) || !strcmp(name, "global")) {
                error = grown ? diag_error(d, DDB_EUSAGE, "--regions: '%s' is not a region", name)
                              : diag_error(d, DDB_ERUNTIME, "out of memory");
                free(name);
                goto done;
            }
            s->regions = grown;
            s->regions[s->region_count++] = name;
            p += n + (p[n] == ',');
        }
    }
    if (s->region_count > 1)
        qsort(s->regions, s->region_count, sizeof(char *), compare_strings);
    if (options->period) {
        char start[11], end[11];
        if (date_parse_period(options->period, 0, start, end) < 0) {
            error = diag_error(d, DDB_EUSAGE, "--period must be YYYY-MM-DD..YYYY-MM-DD, in order");
            goto done;
        }
        s->period_start = strdup(start);
        s->period_end = strdup(end);
    }
    if (options->collected_at) {
        if (!valid_timestamp(options->collected_at)) {
            error = diag_error(d, DDB_EUSAGE,
                               "--collected-at must be a UTC time "
                               "(YYYY-MM-DDTHH:MM:SSZ)");
            goto done;
        }
        s->collected_at = strdup(options->collected_at);
    } else {
        char stamp[32];
        struct tm tm;
        gmtime_r(&w.newest, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        s->collected_at = strdup(stamp);
    }
    if (s->call_count == 0) {
        error = diag_error_at(d, DDB_EINPUT, dir, 0, 0, 0, "no AWS CLI outputs found to seal");
        goto done;
    }
    sort_calls(s);
    for (size_t i = 0; i < s->call_count; i++) {
        struct evidence_call *c = &s->calls[i];
        json_decref(c->parameters);
        c->parameters = parameters_for(s, c->region, c->service, c->operation, c->key);
    }
    error = evidence_write_manifest(s, d);
done:
    if (regions)
        closedir(regions);
    free(account_dir);
    evidence_free(s);
    return error;
}
