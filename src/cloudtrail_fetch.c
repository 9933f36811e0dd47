/* Copies a trail's S3 archive for a period (see cloudtrail_fetch.h): one ListObjectsV2 per day
 * prefix and region (logs, then digests), one GetObject per new object, ListPublicKeys per
 * region, all on the HTTP engine. Keys are checked before they become local paths; failures
 * become gaps in the record, never silence. It does not read the logs it copies. */
#include "cloudtrail_fetch.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aws_model.h"
#include "buf.h"
#include "credentials.h"
#include "date.h"
#include "diag.h"
#include "digest.h"
#include "endpoints.h"
#include "fsutil.h"
#include "http.h"
#include "s3.h"
#include "sigv4.h"

#define FETCH_DEFAULT_CONCURRENCY 8
/* CloudTrail log files are a few MB; a quarter GiB bounds memory per request in flight. */
#define FETCH_MAX_OBJECT ((size_t)256 << 20)
#define FETCH_MAX_REGIONS 64
#define MAX_SIGNATURE_HEX 2048

/* Every request in flight has a job. A stopped engine drops unanswered requests without a
 * callback, so the fetch keeps its jobs on a list and releases what is left at the end. */
struct live {
    struct live *prev, *next;
    void (*release)(struct live *);
};

struct fetch {
    const struct cloudtrail_fetch_options *options;
    struct live *live;
    struct cloudtrail_fetch_summary *summary;
    struct http_engine *engine;
    struct endpoint bucket_endpoint;
    char *path_prefix; /* "" (virtual-hosted) or "/bucket" (path style) */
    char *regions[FETCH_MAX_REGIONS];
    struct endpoint cloudtrail[FETCH_MAX_REGIONS];
    size_t region_count;
    json_t *previous; /* key -> entry of the earlier run's record */
    json_t *objects;  /* key -> entry */
    json_t *skipped;  /* [{key, reason}] */
    json_t *gaps;     /* [{what, region, error_code, http_status, message}] */
    json_t *key_pages[FETCH_MAX_REGIONS];
    FILE *log;
    double record_written; /* monotonic seconds */
};

static void live_add(struct fetch *f, struct live *job, void (*release)(struct live *))
{
    job->release = release;
    job->prev = NULL;
    job->next = f->live;
    if (f->live)
        f->live->prev = job;
    f->live = job;
}

static void live_remove(struct fetch *f, struct live *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else if (f->live == job)
        f->live = job->next;
    if (job->next)
        job->next->prev = job->prev;
    job->prev = job->next = NULL;
}

static struct http_engine *volatile running_engine;
static volatile sig_atomic_t interrupted;

void cloudtrail_fetch_interrupt(void)
{
    interrupted = 1;
    if (running_engine)
        http_engine_stop(running_engine);
}

static double monotonic_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct list_job {
    struct live live; /* first: the list holds jobs by it */
    struct fetch *fetch;
    char *prefix;
    char *token;
    int digest;
};

struct get_job {
    struct live live;
    struct fetch *fetch;
    char *key;
    char *etag;
    long long size;
    int digest;
};

struct keys_job {
    struct live live;
    struct fetch *fetch;
    size_t region;
    char *token;
};

/* ---- Keys and paths ---- */

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* UTF-8 without overlongs or surrogates, no C0/DEL controls. */
static int plain_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned char c = *s;
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c < 0x80) {
            s++;
            continue;
        }
        int extra = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
        if (extra < 0 || c > 0xf4)
            return 0;
        unsigned cp = c & (0x3f >> extra);
        for (int i = 1; i <= extra; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += extra + 1;
    }
    return 1;
}

/* Why a listed key cannot be saved under the prefix it was listed for, or NULL when it can:
 * CloudTrail writes "<prefix><file name>" and nothing else, so anything else (a "../", a
 * sub-directory, a hidden name the scanner would skip, control bytes) is not one of its files
 * and must not become a path. */
static const char *key_problem(const char *key, const char *prefix, int digest)
{
    size_t n = strlen(prefix);
    if (strncmp(key, prefix, n) != 0)
        return "outside the prefix that was listed";
    const char *name = key + n;
    if (!*name)
        return "empty file name";
    if (strchr(name, '/'))
        return "in a sub-directory of the day prefix (CloudTrail writes none)";
    if (name[0] == '.')
        return "hidden file name";
    if (strlen(name) > 250)
        return "file name too long";
    if (!plain_utf8((const unsigned char *)name))
        return "file name with control bytes or invalid UTF-8";
    if (digest ? !has_suffix(name, ".json.gz")
               : !(has_suffix(name, ".json.gz") || has_suffix(name, ".json")))
        return "not a CloudTrail file name (.json.gz)";
    return NULL;
}

/* The trail's key prefix becomes directories of the copy: plain segments only. */
static int valid_prefix(const char *prefix)
{
    if (!*prefix || prefix[0] == '/' || !plain_utf8((const unsigned char *)prefix))
        return 0;
    const char *segment = prefix;
    while (*segment) {
        size_t len = strcspn(segment, "/");
        if (len == 0 || (len == 1 && segment[0] == '.') ||
            (len == 2 && segment[0] == '.' && segment[1] == '.') || segment[0] == '.')
            return 0;
        segment += len;
        if (*segment == '/')
            segment++;
    }
    return prefix[strlen(prefix) - 1] != '/';
}

static int valid_account(const char *account)
{
    if (strlen(account) != 12)
        return 0;
    for (const char *p = account; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

static int valid_region(const char *region)
{
    if (!*region || strlen(region) > 32)
        return 0;
    for (const char *p = region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

/* ---- Recording ---- */

static void add_gap(struct fetch *f, const char *what, const char *target, long status,
                    const char *code, const char *message)
{
    f->summary->gaps++;
    json_array_append_new(f->gaps, json_pack("{s:s, s:s, s:I, s:s, s:s}", "what", what, "target",
                                             target, "http_status", (json_int_t)status,
                                             "error_code", code && *code ? code : "RequestFailed",
                                             "message", message ? message : ""));
    if (f->log)
        fprintf(f->log, "cloudtrail fetch: NOT FETCHED: %s %s: %s%s%s\n", what, target,
                code && *code ? code : "request failed", message && *message ? ": " : "",
                message ? message : "");
}

static void add_skipped(struct fetch *f, const char *key, const char *reason)
{
    f->summary->skipped++;
    json_array_append_new(f->skipped, json_pack("{s:s, s:s}", "key", key, "reason", reason));
    if (f->log) {
        /* The key is hostile input: show it JSON-escaped, never raw on a terminal. */
        json_t *quoted = json_string(key);
        char *text = quoted ? json_dumps(quoted, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        fprintf(f->log, "cloudtrail fetch: skipped key %s: %s\n", text ? text : "(unprintable)",
                reason);
        free(text);
        json_decref(quoted);
    }
}

static void failure_of(const struct http_response *response, char code[64], long *status,
                       const char **message)
{
    *status = response->status;
    *message = response->result == HTTP_FAILED ? response->failure : response->error_message;
    /* S3 answers a request sent to the wrong region with the bucket's region in a header. */
    static char hint[192];
    char region[64];
    if (response->result == HTTP_ANSWERED &&
        http_response_header(response, "x-amz-bucket-region", region, sizeof(region)) > 0 &&
        (response->status == 301 || response->status == 400)) {
        snprintf(hint, sizeof(hint), "the bucket is in %s: pass --bucket-region %s", region,
                 region);
        *message = hint;
    }
    if (response->result == HTTP_FAILED)
        snprintf(code, 64, "RequestFailed");
    else if (response->error_code[0])
        snprintf(code, 64, "%s", response->error_code);
    else
        snprintf(code, 64, "HTTP%ld", response->status);
}

/* ---- Objects ---- */

static void get_job_free(struct get_job *job)
{
    live_remove(job->fetch, &job->live);
    free(job->key);
    free(job->etag);
    free(job);
}

static void release_get_job(struct live *job)
{
    get_job_free((struct get_job *)job);
}

static int write_file(struct fetch *f, const char *key, const char *suffix, const char *data,
                      size_t len, struct diagnostics *d)
{
    struct buf relative;
    buf_init(&relative, 8192);
    int rc = buf_printf(&relative, "%s%s", key, suffix) < 0 ? DDB_ERUNTIME : 0;
    char *path = rc == 0 ? fs_join(f->options->out_dir, buf_cstr(&relative)) : NULL;
    char *slash = path ? strrchr(path, '/') : NULL;
    if (!slash)
        rc = diag_error(d, DDB_ERUNTIME, "out of memory");
    else {
        *slash = '\0';
        rc = fs_mkdirs(path, d);
        *slash = '/';
        if (rc == 0)
            rc = fs_write_atomic(path, data, len, d);
    }
    free(path);
    buf_free(&relative);
    return rc;
}

static int write_record(struct fetch *f, int complete, struct diagnostics *d);

/* The record is rewritten every few seconds (complete: false), so a killed fetch resumes
 * without downloading again what it had already saved. */
static void checkpoint(struct fetch *f)
{
    if (monotonic_now() - f->record_written < 5.0)
        return;
    struct diagnostics local;
    diag_init(&local);
    write_record(f, 0, &local);
    diag_free(&local);
    f->record_written = monotonic_now();
}

static int on_object(void *ctx, const struct http_response *response)
{
    struct get_job *job = ctx;
    struct fetch *f = job->fetch;
    if (response->result != HTTP_ANSWERED || response->status != 200) {
        char code[64];
        long status;
        const char *message;
        failure_of(response, code, &status, &message);
        add_gap(f, job->digest ? "digest" : "log file", job->key, status, code, message);
        get_job_free(job);
        return 0;
    }
    /* A body shorter than the listing said was cut on the way: ask again. (A stored object
     * that is itself damaged arrives whole and is saved as it is, for scan to report.) */
    if ((long long)response->body_len != job->size && !response->final)
        return HTTP_RETRY;
    char etag[256];
    if (http_response_header(response, "ETag", etag, sizeof(etag)) < 0)
        snprintf(etag, sizeof(etag), "%s", job->etag);
    struct diagnostics local;
    diag_init(&local);
    char signature[MAX_SIGNATURE_HEX + 2];
    int signed_digest = 0;
    if (job->digest) {
        int n = http_response_header(response, "x-amz-meta-signature", signature,
                                     sizeof(signature) - 1);
        int hex = n > 0;
        for (int i = 0; hex && i < n; i++)
            hex = (signature[i] >= '0' && signature[i] <= '9') ||
                  (signature[i] >= 'a' && signature[i] <= 'f');
        if (hex) {
            signature[n] = '\n';
            signed_digest = write_file(f, job->key, ".sig", signature, (size_t)n + 1, &local) == 0;
            f->summary->signatures += signed_digest;
        } else if (f->log) {
            fprintf(f->log,
                    "cloudtrail fetch: digest without a usable x-amz-meta-signature: %s "
                    "(scan takes its signature from the next digest, if any)\n",
                    job->key);
        }
    }
    if (write_file(f, job->key, "", response->body, response->body_len, &local) < 0) {
        add_gap(f, job->digest ? "digest" : "log file", job->key, 0, "WriteFailed",
                diag_first_message(&local));
    } else {
        char sha256[DIGEST_SHA256_HEX_LEN + 1];
        digest_sha256_hex(response->body, response->body_len, sha256);
        json_object_set_new(f->objects, job->key,
                            json_pack("{s:s, s:I, s:s, s:s, s:b}", "key", job->key, "size",
                                      (json_int_t)response->body_len, "etag", etag, "sha256",
                                      sha256, "signature", signed_digest));
        f->summary->downloaded++;
        f->summary->bytes += response->body_len;
    }
    diag_free(&local);
    get_job_free(job);
    checkpoint(f);
    return 0;
}

static long long file_size(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
}

/* The earlier run saved this object whole: same size, same ETag, still on disk. */
static int already_copied(struct fetch *f, const struct s3_object *object, int digest)
{
    json_t *entry = json_object_get(f->previous, object->key);
    const char *etag = json_string_value(json_object_get(entry, "etag"));
    if (!entry || !etag || strcmp(etag, object->etag) != 0 ||
        json_integer_value(json_object_get(entry, "size")) != object->size)
        return 0;
    char *path = fs_join(f->options->out_dir, object->key);
    int same = path && file_size(path) == object->size;
    if (same && digest && json_is_true(json_object_get(entry, "signature"))) {
        struct buf sig;
        buf_init(&sig, 8192);
        same = buf_printf(&sig, "%s.sig", path) == 0 && file_size(buf_cstr(&sig)) > 0;
        buf_free(&sig);
    }
    free(path);
    if (same)
        json_object_set(f->objects, object->key, entry);
    return same;
}

static void get_object(struct fetch *f, const struct s3_object *object, int digest)
{
    struct get_job *job = calloc(1, sizeof(*job));
    struct buf path;
    buf_init(&path, 65536);
    struct diagnostics local;
    diag_init(&local);
    if (job) {
        job->fetch = f;
        live_add(f, &job->live, release_get_job);
        job->key = strdup(object->key);
        job->etag = strdup(object->etag);
        job->size = object->size;
        job->digest = digest;
    }
    if (!job || !job->key || !job->etag || s3_object_path(&path, f->path_prefix, object->key) < 0) {
        add_gap(f, digest ? "digest" : "log file", object->key, 0, "RequestFailed",
                "out of memory");
        if (job)
            get_job_free(job);
    } else {
        struct http_request request = {
            .endpoint = &f->bucket_endpoint,
            .method = "GET",
            .path = buf_cstr(&path),
            .rate_key = "s3",
            .label = "s3 GetObject",
            .sigv4_flags = SIGV4_S3_FLAGS,
            .raw_body = 1,
        };
        if (http_submit(f->engine, &request, on_object, job, &local) < 0) {
            add_gap(f, digest ? "digest" : "log file", object->key, 0, "RequestFailed",
                    diag_first_message(&local));
            get_job_free(job);
        }
    }
    diag_free(&local);
    buf_free(&path);
}

/* ---- Listings ---- */

static int submit_list(struct list_job *job);

static void list_job_free(struct list_job *job)
{
    live_remove(job->fetch, &job->live);
    free(job->prefix);
    free(job->token);
    free(job);
}

static void release_list_job(struct live *job)
{
    list_job_free((struct list_job *)job);
}

static int on_listing(void *ctx, const struct http_response *response)
{
    struct list_job *job = ctx;
    struct fetch *f = job->fetch;
    if (response->result != HTTP_ANSWERED || response->status != 200) {
        char code[64];
        long status;
        const char *message;
        failure_of(response, code, &status, &message);
        add_gap(f, job->digest ? "digest prefix" : "log prefix", job->prefix, status, code,
                message);
        list_job_free(job);
        return 0;
    }
    struct s3_listing listing;
    struct diagnostics local;
    diag_init(&local);
    if (s3_parse_listing(&listing, response->body, response->body_len, &local) < 0) {
        if (!response->final) {
            diag_free(&local);
            return HTTP_RETRY;
        }
        add_gap(f, job->digest ? "digest prefix" : "log prefix", job->prefix, response->status,
                "InvalidResponse", diag_first_message(&local));
        diag_free(&local);
        list_job_free(job);
        return 0;
    }
    diag_free(&local);
    for (size_t i = 0; i < listing.count; i++) {
        const struct s3_object *object = &listing.objects[i];
        f->summary->listed++;
        const char *problem = key_problem(object->key, job->prefix, job->digest);
        if (problem)
            add_skipped(f, object->key, problem);
        else if (already_copied(f, object, job->digest))
            f->summary->unchanged++;
        else
            get_object(f, object, job->digest);
    }
    if (listing.truncated) {
        if (!listing.next_token || (job->token && strcmp(job->token, listing.next_token) == 0)) {
            add_gap(f, job->digest ? "digest prefix" : "log prefix", job->prefix, response->status,
                    "InvalidResponse", "truncated listing without a new continuation token");
            list_job_free(job);
        } else {
            free(job->token);
            job->token = listing.next_token;
            listing.next_token = NULL;
            if (submit_list(job) < 0) {
                add_gap(f, "log prefix", job->prefix, 0, "RequestFailed",
                        "cannot request the next page");
                list_job_free(job);
            }
        }
    } else {
        list_job_free(job);
    }
    s3_listing_free(&listing);
    return 0;
}

static int submit_list(struct list_job *job)
{
    struct fetch *f = job->fetch;
    struct buf query;
    buf_init(&query, 65536);
    struct diagnostics local;
    diag_init(&local);
    int rc = -1;
    if (s3_list_query(&query, job->prefix, job->token) == 0) {
        struct http_request request = {
            .endpoint = &f->bucket_endpoint,
            .method = "GET",
            .path = *f->path_prefix ? f->path_prefix : "/",
            .query = buf_cstr(&query),
            .rate_key = "s3",
            .label = "s3 ListObjectsV2",
            .sigv4_flags = SIGV4_S3_FLAGS,
        };
        rc = http_submit(f->engine, &request, on_listing, job, &local);
    }
    diag_free(&local);
    buf_free(&query);
    return rc;
}

static void list_prefix(struct fetch *f, const char *kind, const char *region, long day, int digest)
{
    char date[11];
    date_format(day, date);
    struct buf prefix;
    buf_init(&prefix, 4096);
    const char *p = f->options->prefix;
    /* AWSLogs/<account>/CloudTrail[-Digest]/<region>/YYYY/MM/DD/ */
    int failed =
        buf_printf(&prefix, "%s%sAWSLogs/%s/%s/%s/%.4s/%.2s/%.2s/", p ? p : "", p ? "/" : "",
                   f->options->account, kind, region, date, date + 5, date + 8) < 0;
    struct list_job *job = failed ? NULL : calloc(1, sizeof(*job));
    if (job) {
        job->fetch = f;
        live_add(f, &job->live, release_list_job);
        job->prefix = buf_detach(&prefix);
        job->digest = digest;
    }
    f->summary->prefixes++;
    if (!job || !job->prefix || submit_list(job) < 0) {
        add_gap(f, digest ? "digest prefix" : "log prefix", job ? job->prefix : kind, 0,
                "RequestFailed", "cannot submit the request");
        if (job)
            list_job_free(job);
    }
    buf_free(&prefix);
}

/* ---- Public keys ---- */

static int submit_keys(struct keys_job *job);

static void keys_job_free(struct keys_job *job)
{
    live_remove(job->fetch, &job->live);
    free(job->token);
    free(job);
}

static void release_keys_job(struct live *job)
{
    keys_job_free((struct keys_job *)job);
}

static int on_keys(void *ctx, const struct http_response *response)
{
    struct keys_job *job = ctx;
    struct fetch *f = job->fetch;
    const char *region = f->regions[job->region];
    const struct aws_operation *op = aws_model_operation("cloudtrail", "ListPublicKeys");
    if (response->result != HTTP_ANSWERED || response->status != 200) {
        char code[64];
        long status;
        const char *message;
        failure_of(response, code, &status, &message);
        add_gap(f, "public keys", region, status, code, message);
        keys_job_free(job);
        return 0;
    }
    json_t *page = NULL;
    struct diagnostics local;
    diag_init(&local);
    if (aws_model_json_to_json(&page, op, response->body, response->body_len, &local) < 0) {
        if (!response->final) {
            diag_free(&local);
            return HTTP_RETRY;
        }
        add_gap(f, "public keys", region, response->status, "InvalidResponse",
                diag_first_message(&local));
        diag_free(&local);
        keys_job_free(job);
        return 0;
    }
    diag_free(&local);
    json_array_append_new(f->key_pages[job->region], page);
    const char *next = aws_model_next_token(op, page);
    if (next && (!job->token || strcmp(next, job->token) != 0)) {
        free(job->token);
        job->token = strdup(next);
        if (job->token && submit_keys(job) == 0)
            return 0;
        add_gap(f, "public keys", region, 0, "RequestFailed", "cannot request the next page");
    }
    keys_job_free(job);
    return 0;
}

static int submit_keys(struct keys_job *job)
{
    struct fetch *f = job->fetch;
    long first_day = 0, last_day = 0;
    date_parse(f->options->period_start, &first_day);
    date_parse(f->options->period_end, &last_day);
    /* The period's digests, and those of its last hour delivered the next day; never a
     * future end (the API refuses it). */
    time_t start = (time_t)first_day * 86400;
    time_t end = (time_t)(last_day + 2) * 86400;
    time_t now = time(NULL);
    if (end > now)
        end = now;
    if (start > end)
        start = end;
    json_t *body =
        json_pack("{s:I, s:I}", "StartTime", (json_int_t)start, "EndTime", (json_int_t)end);
    if (body && job->token)
        json_object_set_new(body, "NextToken", json_string(job->token));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    const struct aws_service *service = aws_model_service("cloudtrail");
    struct buf target, rate;
    buf_init(&target, 256);
    buf_init(&rate, 128);
    int rc = -1;
    if (text && buf_printf(&target, "%s.ListPublicKeys", service->target_prefix) == 0 &&
        buf_printf(&rate, "cloudtrail/%s", f->regions[job->region]) == 0) {
        struct http_request request = {
            .endpoint = &f->cloudtrail[job->region],
            .method = "POST",
            .path = "/",
            .rate_key = buf_cstr(&rate),
            .label = "cloudtrail ListPublicKeys",
            .content_type = "application/x-amz-json-1.1",
            .amz_target = buf_cstr(&target),
            .body = text,
            .body_len = strlen(text),
        };
        struct diagnostics local;
        diag_init(&local);
        rc = http_submit(f->engine, &request, on_keys, job, &local);
        diag_free(&local);
    }
    free(text);
    buf_free(&target);
    buf_free(&rate);
    return rc;
}

/* What `aws cloudtrail list-public-keys` prints, every region's keys in one list (scan takes
 * one file), each fingerprint once. */
static int write_public_keys(struct fetch *f, struct diagnostics *d)
{
    const struct aws_operation *op = aws_model_operation("cloudtrail", "ListPublicKeys");
    json_t *all = json_array();
    json_t *seen = json_object();
    for (size_t r = 0; r < f->region_count && all && seen; r++) {
        json_t *merged = NULL;
        if (json_array_size(f->key_pages[r]) == 0 ||
            aws_model_merge_pages(&merged, op, f->key_pages[r]) < 0)
            continue;
        size_t i;
        json_t *key;
        json_array_foreach(json_object_get(merged, "PublicKeyList"), i, key)
        {
            const char *fingerprint = json_string_value(json_object_get(key, "Fingerprint"));
            if (fingerprint && json_object_get(seen, fingerprint))
                continue;
            if (fingerprint)
                json_object_set_new(seen, fingerprint, json_true());
            json_array_append(all, key);
        }
        json_decref(merged);
    }
    f->summary->public_keys = json_array_size(all);
    json_t *document = all ? json_pack("{s:O}", "PublicKeyList", all) : NULL;
    char *text = document ? aws_model_dump(document) : NULL;
    int rc = text ? write_file(f, CLOUDTRAIL_FETCH_PUBLIC_KEYS, "", text, strlen(text), d)
                  : diag_error(d, DDB_ERUNTIME, "out of memory");
    free(text);
    json_decref(document);
    json_decref(all);
    json_decref(seen);
    return rc;
}

/* ---- The record ---- */

static json_t *sorted_values(json_t *object)
{
    const char **keys = calloc(json_object_size(object) + 1, sizeof(*keys));
    json_t *out = json_array();
    if (!keys || !out) {
        free(keys);
        json_decref(out);
        return NULL;
    }
    size_t n = 0;
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) keys[n++] = key;
    for (size_t i = 1; i < n; i++) /* insertion sort: byte order, as the scanner reads */
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++)
        json_array_append(out, json_object_get(object, keys[i]));
    free(keys);
    return out;
}

static int compare_by(const void *a, const void *b, const char *field)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, field));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, field));
    return strcmp(x ? x : "", y ? y : "");
}

static int compare_target(const void *a, const void *b)
{
    return compare_by(a, b, "target");
}

static int compare_key(const void *a, const void *b)
{
    return compare_by(a, b, "key");
}

/* Sorts a JSON array of objects in place by `compare` (deterministic record). */
static void sort_array(json_t *array, int (*compare)(const void *, const void *))
{
    size_t n = json_array_size(array);
    json_t **items = calloc(n + 1, sizeof(*items));
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(array, i));
    qsort(items, n, sizeof(*items), compare);
    json_array_clear(array);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(array, items[i]);
    free(items);
}

static int write_record(struct fetch *f, int complete, struct diagnostics *d)
{
    const struct cloudtrail_fetch_options *o = f->options;
    json_t *regions = json_array();
    for (size_t i = 0; i < f->region_count; i++)
        json_array_append_new(regions, json_string(f->regions[i]));
    sort_array(f->gaps, compare_target);
    sort_array(f->skipped, compare_key);
    json_t *objects = sorted_values(f->objects);
    /* Until the run ends, what the earlier record knew and this run did not reach yet is
     * kept, so an interrupted re-run loses nothing. */
    const char *key;
    json_t *entry;
    if (!complete && objects) {
        json_object_foreach(f->previous, key, entry) if (!json_object_get(f->objects, key))
            json_array_append(objects, entry);
    }
    char fetched_at[32];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    http_format_time(fetched_at, &now);
    json_t *record =
        json_pack("{s:s, s:i, s:s, s:s?, s:s, s:o, s:{s:s, s:s}, s:s, s:b, s:O, s:O, s:o?}",
                  "format", "ddbaudit-cloudtrail-fetch", "format_version", 1, "bucket", o->bucket,
                  "prefix", o->prefix, "account", o->account, "regions", regions, "period", "start",
                  o->period_start, "end", o->period_end, "fetched_at", fetched_at, "complete",
                  complete, "gaps", f->gaps, "skipped", f->skipped, "objects", objects);
    char *text = record ? json_dumps(record, JSON_INDENT(2)) : NULL;
    int rc = text ? write_file(f, CLOUDTRAIL_FETCH_RECORD, "", text, strlen(text), d)
                  : diag_error(d, DDB_ERUNTIME, "out of memory");
    free(text);
    json_decref(record);
    return rc;
}

static void load_previous(struct fetch *f)
{
    char *path = fs_join(f->options->out_dir, CLOUDTRAIL_FETCH_RECORD);
    json_t *record = path ? json_load_file(path, 0, NULL) : NULL;
    free(path);
    f->previous = json_object();
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(record, "objects"), i, entry)
    {
        const char *key = json_string_value(json_object_get(entry, "key"));
        if (key)
            json_object_set(f->previous, key, entry);
    }
    json_decref(record);
}

/* ---- The run ---- */

static int split_regions(struct fetch *f, const char *list, struct diagnostics *d)
{
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len) {
            if (f->region_count == FETCH_MAX_REGIONS)
                return diag_error(d, DDB_EUSAGE, "--regions: at most %d regions",
                                  FETCH_MAX_REGIONS);
            char *region = strndup(p, len);
            if (!region)
                return diag_error(d, DDB_ERUNTIME, "out of memory");
            f->regions[f->region_count++] = region;
            if (!valid_region(region))
                return diag_error(d, DDB_EUSAGE, "--regions: '%s' is not a region name", region);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return f->region_count ? 0 : diag_error(d, DDB_EUSAGE, "--regions: no region given");
}

static void fetch_free(struct fetch *f)
{
    while (f->live)
        f->live->release(f->live);
    http_engine_free(f->engine);
    endpoint_free(&f->bucket_endpoint);
    free(f->path_prefix);
    for (size_t i = 0; i < f->region_count; i++) {
        free(f->regions[i]);
        endpoint_free(&f->cloudtrail[i]);
        json_decref(f->key_pages[i]);
    }
    json_decref(f->previous);
    json_decref(f->objects);
    json_decref(f->skipped);
    json_decref(f->gaps);
}

int cloudtrail_fetch(const struct cloudtrail_fetch_options *o,
                     struct cloudtrail_fetch_summary *summary, struct diagnostics *d)
{
    struct fetch f;
    memset(&f, 0, sizeof(f));
    memset(summary, 0, sizeof(*summary));
    f.options = o;
    f.summary = summary;
    f.log = o->progress;
    struct credentials *credentials = NULL;
    char *home_region = NULL;
    long first_day, last_day;
    int rc;
    if (!o->bucket || !o->account || !o->regions || !o->out_dir || !o->period_start ||
        !o->period_end) {
        rc = diag_error(d, DDB_EUSAGE,
                        "cloudtrail fetch: --bucket, --account, --regions, --period and --out "
                        "are required");
        goto done;
    }
    if (!valid_account(o->account)) {
        rc =
            diag_error(d, DDB_EUSAGE, "--account '%s': expected a 12-digit account id", o->account);
        goto done;
    }
    if (o->prefix && !valid_prefix(o->prefix)) {
        rc = diag_error(d, DDB_EUSAGE,
                        "--prefix '%s': expected the trail's S3 key prefix (segments without "
                        "'.' or '..', no leading or trailing '/')",
                        o->prefix);
        goto done;
    }
    if (date_parse(o->period_start, &first_day) < 0 || date_parse(o->period_end, &last_day) < 0 ||
        first_day > last_day) {
        rc = diag_error(d, DDB_EUSAGE, "the period must be two YYYY-MM-DD dates, in order");
        goto done;
    }
    if (last_day - first_day > 3660) {
        rc = diag_error(d, DDB_EUSAGE, "the period is longer than ten years");
        goto done;
    }
    if ((rc = split_regions(&f, o->regions, d)) < 0)
        goto done;
    f.objects = json_object();
    f.skipped = json_array();
    f.gaps = json_array();
    for (size_t i = 0; i < f.region_count; i++)
        f.key_pages[i] = json_array();
    load_previous(&f);

    struct credentials_options credential_options = {
        .profile = o->profile,
        .transport = &http_credentials_transport,
    };
    if (o->bucket_region)
        home_region = strdup(o->bucket_region);
    else if ((rc = credentials_resolve_region(&home_region, &credential_options, d)) < 0)
        goto done;
    credential_options.region = home_region;
    if ((rc = credentials_load(&credentials, &credential_options, d)) < 0)
        goto done;
    struct endpoint_options endpoint_options = {.endpoint_url = o->endpoint_url};
    struct endpoint s3;
    if ((rc = endpoints_resolve(&s3, "s3", home_region, &endpoint_options, d)) < 0)
        goto done;
    rc = s3_bucket_endpoint(&f.bucket_endpoint, &f.path_prefix, &s3, o->bucket, d);
    endpoint_free(&s3);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < f.region_count; i++)
        if ((rc = endpoints_resolve(&f.cloudtrail[i], "cloudtrail", f.regions[i], &endpoint_options,
                                    d)) < 0)
            goto done;
    if ((rc = fs_mkdirs(o->out_dir, d)) < 0)
        goto done;

    struct http_options http_options = {
        .concurrency = o->concurrency > 0 ? o->concurrency : FETCH_DEFAULT_CONCURRENCY,
        .max_response_bytes = FETCH_MAX_OBJECT,
    };
    if ((rc = http_engine_new(&f.engine, &http_options, credentials, d)) < 0)
        goto done;
    /* S3 takes 5,500 GETs a second per prefix; stay far below. */
    http_engine_set_rate(f.engine, "s3", 200);
    for (size_t r = 0; r < f.region_count; r++) {
        for (long day = first_day; day <= last_day; day++)
            list_prefix(&f, "CloudTrail", f.regions[r], day, 0);
        /* The digest of the period's last hour is delivered on the next day. */
        for (long day = first_day; day <= last_day + 1; day++)
            list_prefix(&f, "CloudTrail-Digest", f.regions[r], day, 1);
        struct keys_job *job = calloc(1, sizeof(*job));
        if (job) {
            job->fetch = &f;
            job->region = r;
            live_add(&f, &job->live, release_keys_job);
        }
        if (!job || submit_keys(job) < 0) {
            add_gap(&f, "public keys", f.regions[r], 0, "RequestFailed",
                    "cannot submit the request");
            if (job)
                keys_job_free(job);
        }
    }
    f.record_written = monotonic_now();
    interrupted = 0;
    running_engine = f.engine;
    int stopped = http_engine_run(f.engine, d);
    running_engine = NULL;
    if (stopped < 0) {
        rc = stopped;
        goto done;
    }
    if (stopped || interrupted) {
        write_record(&f, 0, d);
        rc = diag_error(d, DDB_ERUNTIME,
                        "fetch interrupted: run the same command again to finish the copy");
        goto done;
    }
    if ((rc = write_public_keys(&f, d)) < 0 || (rc = write_record(&f, summary->gaps == 0, d)) < 0)
        goto done;
    if (summary->gaps)
        rc = diag_error(d, DDB_ERUNTIME,
                        "%zu part(s) of the period could not be fetched (listed in %s/%s): the "
                        "copy is incomplete",
                        summary->gaps, o->out_dir, CLOUDTRAIL_FETCH_RECORD);
done:
    fetch_free(&f);
    credentials_free(credentials);
    free(home_region);
    return rc;
}
