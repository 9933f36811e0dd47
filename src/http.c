/* The request engine behind `collect`: signs, sends, retries and paces AWS requests over one
 * libcurl multi handle (its connection cache reuses connections per endpoint). It knows HTTP and
 * the SDK retry rules, not what any answer means; it never logs headers, bodies or secrets. */
#include "http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "endpoints.h"
#include "sigv4.h"

/* Clock skew beyond this is corrected (botocore uses the same margin). */
#define SKEW_TOLERANCE_SECONDS 240
#define MAX_RATE_KEYS 128

struct rate_bucket {
    char key[64];
    double tokens;
    double rate;
    double burst;
    double updated; /* monotonic seconds */
};

/* One logical request and its current attempt. */
struct pending {
    struct pending *next;
    struct pending *next_in_flight;
    struct http_engine *engine;
    const struct endpoint *endpoint;
    char *method, *path, *query, *label, *content_type, *amz_target;
    char *body;
    size_t body_len;
    unsigned sigv4_flags;
    int raw_body;
    struct rate_bucket *bucket;
    http_callback callback;
    void *ctx;
    int attempts;
    enum http_retry_class last_retry;
    double ready_at;
    struct timespec started_at;
    double attempt_started; /* monotonic, for log lines */
    /* The attempt on the wire. */
    CURL *easy;
    struct curl_slist *headers;
    struct buf response;
    struct buf response_headers; /* capped; header lines of the last response only */
    int response_capped;
    char request_id[128];
    char date[64];
    char error_type[256];
};

struct http_engine {
    struct http_options options;
    struct credentials *credentials;
    CURLM *multi;
    struct pending *queue_head, *queue_tail; /* waiting to start (FIFO, with ready times) */
    struct pending *in_flight_list;          /* attempts on the wire */
    size_t in_flight;
    struct http_retry_quota quota;
    struct rate_bucket buckets[MAX_RATE_KEYS];
    size_t bucket_count;
    uint64_t random_state;
    long clock_skew; /* seconds to add to our clock when signing */
    volatile sig_atomic_t stop;
    struct http_stats stats;
    void (*on_progress)(void *ctx);
    void *progress_ctx;
};

/* ---- Retry policy ---- */

static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

/* ExpiredToken*: the next attempt signs with refreshed credentials. */
static const char *const transient_codes[] = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "ExpiredToken",   "ExpiredTokenException",
};

static const char *const clock_skew_codes[] = {
    "RequestTimeTooSkewed",      "RequestExpired",        "RequestInTheFuture",
    "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
};

static int code_in(const char *code, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(code, list[i]) == 0)
            return 1;
    return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum http_retry_class http_retry_classify(int curl_code, long status, const char *error_code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTP_RETRY_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return HTTP_RETRY_TRANSIENT;
    default:
        return HTTP_RETRY_NONE; /* e.g. the response cap, TLS verification, bad URL */
    }
    if (status < 300)
        return HTTP_RETRY_NONE;
    if (error_code && *error_code) {
        if (code_in(error_code, throttling_codes, COUNT(throttling_codes)))
            return HTTP_RETRY_THROTTLE;
        if (code_in(error_code, transient_codes, COUNT(transient_codes)))
            return HTTP_RETRY_TRANSIENT;
        if (code_in(error_code, clock_skew_codes, COUNT(clock_skew_codes)))
            return HTTP_RETRY_CLOCK_SKEW;
    }
    if (status == 429)
        return HTTP_RETRY_THROTTLE;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return HTTP_RETRY_TRANSIENT;
    return HTTP_RETRY_NONE;
}

long http_backoff_ms(int retry_number, long base_ms, long max_ms, double random01)
{
    if (retry_number < 1)
        retry_number = 1;
    double ceiling = (double)base_ms * pow(2.0, retry_number - 1);
    if (ceiling > (double)max_ms)
        ceiling = (double)max_ms;
    if (random01 < 0)
        random01 = 0;
    if (random01 > 1)
        random01 = 1;
    return (long)(random01 * ceiling);
}

#define QUOTA_CAPACITY 500
#define QUOTA_RETRY_COST 5
#define QUOTA_TIMEOUT_COST 10
#define QUOTA_NO_RETRY_INCREMENT 1

void http_retry_quota_init(struct http_retry_quota *quota)
{
    quota->capacity = QUOTA_CAPACITY;
    quota->available = QUOTA_CAPACITY;
}

static int quota_cost(enum http_retry_class retry_class)
{
    return retry_class == HTTP_RETRY_TIMEOUT ? QUOTA_TIMEOUT_COST : QUOTA_RETRY_COST;
}

int http_retry_quota_acquire(struct http_retry_quota *quota, enum http_retry_class retry_class)
{
    int cost = quota_cost(retry_class);
    if (quota->available < cost)
        return -1;
    quota->available -= cost;
    return 0;
}

void http_retry_quota_release(struct http_retry_quota *quota,
                              enum http_retry_class last_retry_class)
{
    int refund = last_retry_class == HTTP_RETRY_NONE ? QUOTA_NO_RETRY_INCREMENT
                                                     : quota_cost(last_retry_class);
    quota->available += refund;
    if (quota->available > quota->capacity)
        quota->available = quota->capacity;
}

/* ---- Error answers ---- */

static void copy_bounded(char *out, size_t size, const char *text, size_t len)
{
    if (size == 0)
        return;
    if (len >= size)
        len = size - 1;
    memcpy(out, text, len);
    out[len] = '\0';
}

/* "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" and
 * "ValidationException:http://internal.amazon.com/..." both mean the bare name. */
static void clean_error_code(char *code)
{
    char *hash = strrchr(code, '#');
    if (hash)
        memmove(code, hash + 1, strlen(hash + 1) + 1);
    char *colon = strchr(code, ':');
    if (colon)
        *colon = '\0';
}

static const char *find_bytes(const char *haystack, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (haystack[i] == needle[0] && memcmp(haystack + i, needle, n) == 0)
            return haystack + i;
    return NULL;
}

static int xml_element_text(char *out, size_t size, const char *body, size_t len, const char *name)
{
    char open[32], close[32];
    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    const char *start = find_bytes(body, len, open);
    if (!start)
        return -1;
    start += strlen(open);
    const char *end = find_bytes(start, len - (size_t)(start - body), close);
    if (!end)
        return -1;
    copy_bounded(out, size, start, (size_t)(end - start));
    return 0;
}

void http_parse_error(char *code, size_t code_size, char *message, size_t message_size,
                      const char *body, size_t body_len, const char *error_type_header)
{
    code[0] = '\0';
    message[0] = '\0';
    size_t i = 0;
    while (i < body_len &&
           (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i < body_len && body[i] == '{') {
        json_t *doc = json_loadb(body, body_len, 0, NULL);
        if (doc) {
            const char *keys[] = {"__type", "code", "Code"};
            for (size_t k = 0; k < COUNT(keys) && !code[0]; k++) {
                const char *value = json_string_value(json_object_get(doc, keys[k]));
                if (value)
                    copy_bounded(code, code_size, value, strlen(value));
            }
            const char *message_keys[] = {"message", "Message", "errorMessage"};
            for (size_t k = 0; k < COUNT(message_keys) && !message[0]; k++) {
                const char *value = json_string_value(json_object_get(doc, message_keys[k]));
                if (value)
                    copy_bounded(message, message_size, value, strlen(value));
            }
            json_decref(doc);
        }
    } else if (i < body_len && body[i] == '<') {
        xml_element_text(code, code_size, body, body_len, "Code");
        xml_element_text(message, message_size, body, body_len, "Message");
    }
    if (error_type_header && *error_type_header)
        copy_bounded(code, code_size, error_type_header, strlen(error_type_header));
    clean_error_code(code);
}

void http_format_time(char out[32], const struct timespec *t)
{
    struct tm tm;
    time_t seconds = t->tv_sec;
    gmtime_r(&seconds, &tm);
    char date[24];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", date, (int)((t->tv_nsec / 1000000) % 1000));
}

/* ---- Engine ---- */

static double monotonic_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double random01(struct http_engine *engine)
{
    /* xorshift64*: jitter only, not security. */
    uint64_t x = engine->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    engine->random_state = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / (double)(1ULL << 53);
}

int http_engine_new(struct http_engine **out, const struct http_options *options,
                    struct credentials *credentials, struct diagnostics *d)
{
    *out = NULL;
    struct http_engine *engine = calloc(1, sizeof(*engine));
    if (!engine)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    engine->options = *options;
    struct http_options *o = &engine->options;
    if (o->concurrency <= 0)
        o->concurrency = HTTP_DEFAULT_CONCURRENCY;
    if (o->max_attempts <= 0)
        o->max_attempts = 3;
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 10000;
    if (o->transfer_timeout_ms <= 0)
        o->transfer_timeout_ms = 60000;
    if (o->max_response_bytes == 0)
        o->max_response_bytes = HTTP_DEFAULT_MAX_RESPONSE;
    if (o->backoff_base_ms <= 0)
        o->backoff_base_ms = 1000;
    if (o->max_backoff_ms <= 0)
        o->max_backoff_ms = 20000;
    if (o->default_rate <= 0)
        o->default_rate = HTTP_DEFAULT_RATE;
    engine->random_state =
        o->random_seed ? o->random_seed : ((uint64_t)time(NULL) << 20) ^ (uint64_t)clock();
    if (engine->random_state == 0)
        engine->random_state = 88172645463325252ULL;
    engine->credentials = credentials;
    http_retry_quota_init(&engine->quota);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(engine->multi = curl_multi_init())) {
        free(engine);
        return diag_error(d, DDB_ERUNTIME, "cannot initialise libcurl");
    }
    curl_multi_setopt(engine->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->concurrency);
    curl_multi_setopt(engine->multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency * 2);
    *out = engine;
    return 0;
}

static void pending_free(struct pending *p)
{
    if (!p)
        return;
    if (p->easy) {
        curl_multi_remove_handle(p->engine->multi, p->easy);
        curl_easy_cleanup(p->easy);
    }
    curl_slist_free_all(p->headers);
    buf_free(&p->response);
    buf_free(&p->response_headers);
    free(p->method);
    free(p->path);
    free(p->query);
    free(p->label);
    free(p->content_type);
    free(p->amz_target);
    free(p->body);
    free(p);
}

void http_engine_free(struct http_engine *engine)
{
    if (!engine)
        return;
    struct pending *p = engine->queue_head;
    while (p) {
        struct pending *next = p->next;
        pending_free(p);
        p = next;
    }
    /* Attempts still on the wire (after a stop). */
    p = engine->in_flight_list;
    while (p) {
        struct pending *next = p->next_in_flight;
        pending_free(p);
        p = next;
    }
    curl_multi_cleanup(engine->multi);
    free(engine);
}

void http_engine_stop(struct http_engine *engine)
{
    engine->stop = 1;
}

void http_engine_stats(const struct http_engine *engine, struct http_stats *out)
{
    *out = engine->stats;
    out->in_flight = engine->in_flight;
    out->clock_skew_seconds = engine->clock_skew;
}

void http_engine_on_progress(struct http_engine *engine, void (*fn)(void *ctx), void *ctx)
{
    engine->on_progress = fn;
    engine->progress_ctx = ctx;
}

static struct rate_bucket *bucket_for(struct http_engine *engine, const char *key)
{
    if (!key)
        key = "";
    for (size_t i = 0; i < engine->bucket_count; i++)
        if (strcmp(engine->buckets[i].key, key) == 0)
            return &engine->buckets[i];
    if (engine->bucket_count == MAX_RATE_KEYS)
        return &engine->buckets[MAX_RATE_KEYS - 1]; /* share the last: slower, never unbounded */
    struct rate_bucket *b = &engine->buckets[engine->bucket_count++];
    snprintf(b->key, sizeof(b->key), "%s", key);
    b->rate = engine->options.default_rate;
    b->burst = b->rate / 10 > 1 ? b->rate / 10 : 1;
    b->tokens = b->burst;
    b->updated = monotonic_now();
    return b;
}

int http_engine_set_rate(struct http_engine *engine, const char *rate_key, double per_second)
{
    if (per_second <= 0)
        return -1;
    struct rate_bucket *b = bucket_for(engine, rate_key);
    if (strcmp(b->key, rate_key) != 0)
        return -1;
    b->rate = per_second;
    b->burst = per_second / 10 > 1 ? per_second / 10 : 1;
    if (b->tokens > b->burst)
        b->tokens = b->burst;
    return 0;
}

/* Seconds until the bucket has a token (0 = take one now). */
static double bucket_wait(struct rate_bucket *b, double now)
{
    b->tokens += (now - b->updated) * b->rate;
    if (b->tokens > b->burst)
        b->tokens = b->burst;
    b->updated = now;
    if (b->tokens >= 1)
        return 0;
    return (1 - b->tokens) / b->rate;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void enqueue(struct http_engine *engine, struct pending *p)
{
    p->next = NULL;
    if (engine->queue_tail)
        engine->queue_tail->next = p;
    else
        engine->queue_head = p;
    engine->queue_tail = p;
}

int http_submit(struct http_engine *engine, const struct http_request *request,
                http_callback callback, void *ctx, struct diagnostics *d)
{
    if (!request->endpoint || !request->method || !callback)
        return diag_error(d, DDB_EUSAGE, "http_submit: incomplete request");
    struct pending *p = calloc(1, sizeof(*p));
    if (!p)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    p->engine = engine;
    p->endpoint = request->endpoint;
    p->method = strdup(request->method);
    p->path = strdup(request->path && *request->path ? request->path : "/");
    p->query = dup_or_null(request->query);
    p->label = strdup(request->label ? request->label : "");
    p->content_type = dup_or_null(request->content_type);
    p->amz_target = dup_or_null(request->amz_target);
    p->body_len = request->body_len;
    p->body = malloc(request->body_len + 1);
    if (p->body) {
        if (request->body_len)
            memcpy(p->body, request->body, request->body_len);
        p->body[request->body_len] = '\0';
    }
    buf_init(&p->response, engine->options.max_response_bytes);
    buf_init(&p->response_headers, 64 << 10);
    p->sigv4_flags = request->sigv4_flags;
    p->raw_body = request->raw_body;
    p->bucket = bucket_for(engine, request->rate_key);
    p->callback = callback;
    p->ctx = ctx;
    p->last_retry = HTTP_RETRY_NONE;
    p->ready_at = request->delay_ms > 0 ? monotonic_now() + (double)request->delay_ms / 1000 : 0;
    if (!p->method || !p->path || !p->label || !p->body || (request->query && !p->query) ||
        (request->content_type && !p->content_type) || (request->amz_target && !p->amz_target)) {
        pending_free(p);
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    }
    enqueue(engine, p);
    engine->stats.queued++;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    struct pending *p = userdata;
    size_t len = size * count;
    if (buf_append(&p->response, data, len) < 0) {
        p->response_capped = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    return len;
}

static int header_is(const char *line, size_t len, const char *name, const char **value,
                     size_t *value_len)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return 0;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *value = v;
    *value_len = (size_t)(end - v);
    return 1;
}

int http_response_header(const struct http_response *response, const char *name, char *out,
                         size_t size)
{
    const char *line = response->headers;
    const char *end = line ? line + response->headers_len : NULL;
    while (line && line < end) {
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        size_t len = newline ? (size_t)(newline - line + 1) : (size_t)(end - line);
        const char *value;
        size_t value_len;
        if (header_is(line, len, name, &value, &value_len)) {
            if (value_len >= size)
                return -1;
            memcpy(out, value, value_len);
            out[value_len] = '\0';
            return (int)value_len;
        }
        line += len;
    }
    return -1;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct pending *p = userdata;
    size_t len = size * count;
    const char *value;
    size_t value_len;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (e.g. after 100) */
        p->request_id[0] = p->date[0] = p->error_type[0] = '\0';
        buf_reset(&p->response_headers);
        return len;
    }
    /* Past the cap, later headers are simply not kept (never a failure). */
    (void)buf_append(&p->response_headers, data, len);
    if (header_is(data, len, "x-amzn-RequestId", &value, &value_len) ||
        header_is(data, len, "x-amz-request-id", &value, &value_len)) {
        copy_bounded(p->request_id, sizeof(p->request_id), value, value_len);
    } else if (header_is(data, len, "Date", &value, &value_len)) {
        copy_bounded(p->date, sizeof(p->date), value, value_len);
    } else if (header_is(data, len, "x-amzn-ErrorType", &value, &value_len)) {
        copy_bounded(p->error_type, sizeof(p->error_type), value, value_len);
    }
    return len;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    struct buf line;
    buf_init(&line, 16384);
    int rc = buf_printf(&line, "%s: %s", name, value);
    struct curl_slist *grown = rc == 0 ? curl_slist_append(*list, buf_cstr(&line)) : NULL;
    /* Wipe: the line may be the Authorization header or the session token. */
    if (line.data)
        memset(line.data, 0, line.cap);
    buf_free(&line);
    if (!grown)
        return -1;
    *list = grown;
    return 0;
}

/* Signs the attempt now (our clock + the measured skew) and hands it to libcurl. */
static int start_attempt(struct http_engine *engine, struct pending *p, struct diagnostics *d)
{
    const struct endpoint *e = p->endpoint;
    int rc = DDB_ERUNTIME;
    struct sigv4_signed signed_request;
    memset(&signed_request, 0, sizeof(signed_request));
    struct buf url, host;
    buf_init(&url, 65536);
    buf_init(&host, 1024);

    if (engine->credentials && (rc = credentials_refresh_if_needed(engine->credentials, d)) < 0)
        goto done;
    rc = DDB_ERUNTIME;
    int ipv6 = strchr(e->host, ':') != NULL;
    int default_port = (strcmp(e->scheme, "https") == 0 && e->port == 443) ||
                       (strcmp(e->scheme, "http") == 0 && e->port == 80);
    if (buf_printf(&host, ipv6 ? "[%s]" : "%s", e->host) < 0 ||
        (!default_port && buf_printf(&host, ":%d", e->port) < 0))
        goto done;
    if (buf_printf(&url, "%s%s", e->url, p->path) < 0 ||
        (p->query && *p->query && buf_printf(&url, "?%s", p->query) < 0))
        goto done;

    struct sigv4_header headers[3];
    size_t header_count = 0;
    headers[header_count++] = (struct sigv4_header){"Host", buf_cstr(&host)};
    if (p->content_type)
        headers[header_count++] = (struct sigv4_header){"Content-Type", p->content_type};
    if (p->amz_target)
        headers[header_count++] = (struct sigv4_header){"X-Amz-Target", p->amz_target};
    struct sigv4_request request = {
        .method = p->method,
        .path = e->base_path && *e->base_path ? NULL : p->path,
        .query = p->query,
        .headers = headers,
        .header_count = header_count,
        .body = p->body,
        .body_len = p->body_len,
    };
    /* The signed path is the full wire path, base path of an override included. */
    struct buf signed_path;
    buf_init(&signed_path, 65536);
    if (e->base_path && *e->base_path) {
        if (buf_printf(&signed_path, "%s%s", e->base_path, p->path) < 0) {
            buf_free(&signed_path);
            goto done;
        }
        request.path = buf_cstr(&signed_path);
    }
    struct sigv4_params params = {
        .region = e->signing_region,
        .service = e->signing_name,
        .time = time(NULL) + engine->clock_skew,
        .flags = p->sigv4_flags,
        .access_key_id = engine->credentials ? engine->credentials->access_key_id : "",
        .secret_access_key = engine->credentials ? engine->credentials->secret_access_key : "",
        .session_token = engine->credentials ? engine->credentials->session_token : NULL,
    };
    rc = sigv4_sign(&signed_request, &request, &params, d);
    buf_free(&signed_path);
    if (rc < 0)
        goto done;
    rc = DDB_ERUNTIME;

    curl_slist_free_all(p->headers);
    p->headers = NULL;
    for (size_t i = 0; i < header_count; i++)
        if (add_header(&p->headers, headers[i].name, headers[i].value) < 0)
            goto done;
    for (size_t i = 0; i < signed_request.header_count; i++)
        if (add_header(&p->headers, signed_request.headers[i].name,
                       signed_request.headers[i].value) < 0)
            goto done;
    /* No "Expect: 100-continue" round trip. */
    if (add_header(&p->headers, "Expect", "") < 0)
        goto done;

    CURL *easy = curl_easy_init();
    if (!easy)
        goto done;
    p->easy = easy;
    buf_reset(&p->response);
    buf_reset(&p->response_headers);
    p->response_capped = 0;
    p->request_id[0] = p->date[0] = p->error_type[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_URL, buf_cstr(&url));
    /* https only; plain http only when the endpoint module allowed it (loopback overrides). */
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, e->scheme);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, p->method);
    if (strcmp(p->method, "GET") != 0) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, p->body);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body_len);
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "ddbaudit/" DDBAUDIT_VERSION);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, p);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, engine->options.connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, engine->options.transfer_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)engine->options.max_response_bytes);
    if (p->raw_body)
        curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    else
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    if (curl_multi_add_handle(engine->multi, easy) != CURLM_OK) {
        p->easy = NULL;
        curl_easy_cleanup(easy);
        goto done;
    }
    p->attempts++;
    if (p->attempts == 1)
        clock_gettime(CLOCK_REALTIME, &p->started_at);
    p->attempt_started = monotonic_now();
    p->next_in_flight = engine->in_flight_list;
    engine->in_flight_list = p;
    engine->in_flight++;
    engine->stats.attempts++;
    if (p->attempts > 1)
        engine->stats.retries++;
    rc = 0;
done:
    if (rc < 0 && !diag_first_message(d)[0])
        diag_error(d, rc, "%s: cannot prepare the request", p->label);
    sigv4_signed_free(&signed_request);
    buf_free(&url);
    buf_free(&host);
    return rc;
}

static void log_attempt(struct http_engine *engine, struct pending *p, long status,
                        const char *outcome, double first_byte_ms)
{
    if (!engine->options.log)
        return;
    double ms = (monotonic_now() - p->attempt_started) * 1000;
    fprintf(engine->options.log, "%s %s %s attempt %d: %s %ld (%.0f ms, first byte %.0f ms)%s%s\n",
            p->method, p->endpoint->host, p->label, p->attempts, outcome, status, ms, first_byte_ms,
            p->request_id[0] ? " request-id " : "", p->request_id);
}

/* Delivers a final answer to the callback; returns 1 when it asked for a retry that is
 * possible (the pending then stays alive). */
static int deliver(struct http_engine *engine, struct pending *p, enum http_result result,
                   long status, const char *failure, const char *code, const char *message,
                   int can_retry)
{
    struct http_response response = {
        .result = result,
        .status = status,
        .body = buf_cstr(&p->response),
        .body_len = p->response.len,
        .request_id = p->request_id,
        .error_code = code,
        .error_message = message,
        .failure = failure,
        .headers = buf_cstr(&p->response_headers),
        .headers_len = p->response_headers.len,
        .attempts = p->attempts,
        .started_at = p->started_at,
        .final = !can_retry,
    };
    clock_gettime(CLOCK_REALTIME, &response.ended_at);
    int answer = p->callback(p->ctx, &response);
    if (answer == HTTP_RETRY && can_retry)
        return 1;
    if (result == HTTP_FAILED || status >= 400)
        engine->stats.failures++;
    else
        http_retry_quota_release(&engine->quota, p->last_retry);
    engine->stats.requests++;
    engine->stats.queued--;
    if (engine->on_progress)
        engine->on_progress(engine->progress_ctx);
    return 0;
}

static void schedule_retry(struct http_engine *engine, struct pending *p,
                           enum http_retry_class retry_class)
{
    long delay = retry_class == HTTP_RETRY_CLOCK_SKEW
                     ? 0
                     : http_backoff_ms(p->attempts, engine->options.backoff_base_ms,
                                       engine->options.max_backoff_ms, random01(engine));
    p->last_retry = retry_class;
    p->ready_at = monotonic_now() + (double)delay / 1000.0;
    enqueue(engine, p);
}

static int retry_allowed(struct http_engine *engine, struct pending *p,
                         enum http_retry_class retry_class)
{
    if (retry_class == HTTP_RETRY_NONE || p->attempts >= engine->options.max_attempts ||
        engine->stop)
        return 0;
    if (retry_class == HTTP_RETRY_CLOCK_SKEW)
        return 1; /* a corrected clock is not a failing service: no quota cost */
    return http_retry_quota_acquire(&engine->quota, retry_class) == 0;
}

static void finish_attempt(struct http_engine *engine, struct pending *p, CURLcode curl_code)
{
    long status = 0;
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t first_byte_us = 0;
    curl_easy_getinfo(p->easy, CURLINFO_STARTTRANSFER_TIME_T, &first_byte_us);
    char curl_message[CURL_ERROR_SIZE];
    snprintf(curl_message, sizeof(curl_message), "%s", curl_easy_strerror(curl_code));
    curl_multi_remove_handle(engine->multi, p->easy);
    curl_easy_cleanup(p->easy);
    p->easy = NULL;
    engine->in_flight--;
    for (struct pending **link = &engine->in_flight_list; *link; link = &(*link)->next_in_flight)
        if (*link == p) {
            *link = p->next_in_flight;
            break;
        }

    char code[256], message[1024];
    code[0] = message[0] = '\0';
    if (curl_code == CURLE_OK && status >= 300)
        http_parse_error(code, sizeof(code), message, sizeof(message), buf_cstr(&p->response),
                         p->response.len, p->error_type);
    /* Query and EC2 answers carry the request id in the body only. */
    static const char *const body_request_id[] = {"RequestId", "requestId", "RequestID"};
    for (size_t i = 0; curl_code == CURLE_OK && !p->request_id[0] && i < COUNT(body_request_id);
         i++)
        xml_element_text(p->request_id, sizeof(p->request_id), buf_cstr(&p->response),
                         p->response.len, body_request_id[i]);
    if (p->response_capped) {
        snprintf(curl_message, sizeof(curl_message), "response larger than %zu bytes",
                 engine->options.max_response_bytes);
        curl_code = CURLE_FILESIZE_EXCEEDED;
    }

    enum http_retry_class retry_class = http_retry_classify((int)curl_code, status, code);
    if (retry_class == HTTP_RETRY_CLOCK_SKEW) {
        /* Only a real difference between our clock and the server's justifies re-signing;
         * otherwise the signature is simply wrong and that is final. */
        time_t server = p->date[0] ? curl_getdate(p->date, NULL) : -1;
        long skew = server > 0 ? (long)(server - time(NULL)) : 0;
        if (server > 0 && labs(skew - engine->clock_skew) > SKEW_TOLERANCE_SECONDS)
            engine->clock_skew = skew;
        else
            retry_class = HTTP_RETRY_NONE;
    }
    log_attempt(engine, p, status, curl_code == CURLE_OK ? (code[0] ? code : "HTTP") : curl_message,
                (double)first_byte_us / 1000);

    if (retry_allowed(engine, p, retry_class)) {
        schedule_retry(engine, p, retry_class);
        return;
    }
    int can_retry_body = curl_code == CURLE_OK && p->attempts < engine->options.max_attempts &&
                         engine->quota.available >= QUOTA_RETRY_COST && !engine->stop;
    int again;
    if (curl_code != CURLE_OK)
        again = deliver(engine, p, HTTP_FAILED, status, curl_message, "", "", 0);
    else
        again = deliver(engine, p, HTTP_ANSWERED, status, "", code, message, can_retry_body);
    if (again && http_retry_quota_acquire(&engine->quota, HTTP_RETRY_TRANSIENT) == 0) {
        schedule_retry(engine, p, HTTP_RETRY_TRANSIENT);
        return;
    }
    pending_free(p);
}

/* Starts what may start now; returns seconds until something else may (or 1.0). */
static double start_ready(struct http_engine *engine, struct diagnostics *d)
{
    double now = monotonic_now();
    double wait = 1.0;
    struct pending *previous = NULL, *p = engine->queue_head;
    while (p && engine->in_flight < (size_t)engine->options.concurrency && !engine->stop) {
        struct pending *next = p->next;
        double until = p->ready_at - now;
        if (until <= 0)
            until = bucket_wait(p->bucket, now);
        if (until > 0) {
            if (until < wait)
                wait = until;
            previous = p;
            p = next;
            continue;
        }
        p->bucket->tokens -= 1;
        /* Unlink, then start. */
        if (previous)
            previous->next = next;
        else
            engine->queue_head = next;
        if (engine->queue_tail == p)
            engine->queue_tail = previous;
        p->next = NULL;
        struct diagnostics local;
        diag_init(&local);
        if (start_attempt(engine, p, &local) < 0) {
            /* Signing or credentials failed: this request cannot be sent. */
            deliver(engine, p, HTTP_FAILED, 0, diag_first_message(&local), "", "", 0);
            pending_free(p);
        }
        diag_free(&local);
        (void)d;
        p = next;
    }
    return wait;
}

int http_engine_run(struct http_engine *engine, struct diagnostics *d)
{
    while ((engine->queue_head || engine->in_flight) && !engine->stop) {
        double wait = start_ready(engine, d);
        int running = 0;
        if (curl_multi_perform(engine->multi, &running) != CURLM_OK)
            return diag_error(d, DDB_ERUNTIME, "libcurl multi interface failed");
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(engine->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct pending *p = NULL;
            CURL *easy = msg->easy_handle;
            CURLcode result = msg->data.result;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&p);
            finish_attempt(engine, p, result);
        }
        if (!engine->queue_head && !engine->in_flight)
            break;
        /* Something may be startable right now after completions. */
        if (engine->queue_head && engine->in_flight < (size_t)engine->options.concurrency) {
            double again = start_ready(engine, d);
            if (again < wait)
                wait = again;
        }
        int timeout_ms = (int)(wait * 1000) + 1;
        if (timeout_ms > 1000)
            timeout_ms = 1000;
        if (curl_multi_poll(engine->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
            return diag_error(d, DDB_ERUNTIME, "libcurl multi interface failed");
    }
    return engine->stop ? 1 : 0;
}

/* ---- Blocking transport for credential sources ---- */

struct transport_body {
    struct buf *body;
    int capped;
};

static size_t transport_write(char *data, size_t size, size_t count, void *userdata)
{
    struct transport_body *t = userdata;
    if (buf_append(t->body, data, size * count) < 0) {
        t->capped = 1;
        return 0;
    }
    return size * count;
}

static int transport_send(void *ctx, const struct credentials_http_request *request, long *status,
                          struct buf *body, struct diagnostics *d)
{
    (void)ctx;
    *status = 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return diag_error(d, DDB_ERUNTIME, "cannot initialise libcurl");
    CURL *easy = curl_easy_init();
    if (!easy)
        return diag_error(d, DDB_ERUNTIME, "cannot initialise libcurl");
    struct curl_slist *headers = NULL;
    int rc = 0;
    for (size_t i = 0; i < request->header_count; i++)
        if (add_header(&headers, request->headers[i].name, request->headers[i].value) < 0)
            rc = DDB_ERUNTIME;
    struct transport_body sink = {body, 0};
    if (rc == 0) {
        curl_easy_setopt(easy, CURLOPT_URL, request->url);
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request->method);
        if (request->body) {
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request->body);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_len);
        }
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "ddbaudit/" DDBAUDIT_VERSION);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, transport_write);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                         (long)(request->timeout_ms > 0 ? request->timeout_ms : 10000));
        CURLcode result = curl_easy_perform(easy);
        if (result != CURLE_OK)
            rc = diag_error(d, DDB_ERUNTIME, "%s %s: %s", request->method, request->url,
                            sink.capped ? "response too large" : curl_easy_strerror(result));
        else
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    return rc;
}

const struct credentials_transport http_credentials_transport = {transport_send, NULL};
