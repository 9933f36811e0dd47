/* The HTTP request engine: many signed AWS requests in flight at once over libcurl's multi
 * interface, with the AWS SDKs' "standard" retry mode, per-service rate limits, clock-skew
 * correction and a response size cap. It signs every attempt itself (so a retry after a clock
 * correction is re-signed) and never logs a header, a body, a signature or a secret.
 * Retry behaviour: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html */
#ifndef DDBAUDIT_HTTP_H
#define DDBAUDIT_HTTP_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "credentials.h"

struct diagnostics;
struct endpoint;

struct http_options {
    int concurrency;           /* requests in flight; 0 = HTTP_DEFAULT_CONCURRENCY */
    int max_attempts;          /* per request, first try included; 0 = 3 */
    long connect_timeout_ms;   /* 0 = 10000 */
    long transfer_timeout_ms;  /* whole attempt; 0 = 60000 */
    size_t max_response_bytes; /* 0 = HTTP_DEFAULT_MAX_RESPONSE */
    long backoff_base_ms;      /* full-jitter backoff: random(0, min(max, base * 2^n)); 0 = 1000 */
    long max_backoff_ms;       /* 0 = 20000 */
    /* Requests per second and burst per rate key (service/region); 0 = HTTP_DEFAULT_RATE. */
    double default_rate;
    unsigned random_seed; /* 0 = seeded from the clock (tests pin it) */
    /* Log one line per attempt (method, host, operation, status, time, request id). Never
     * headers or bodies. NULL = silent. */
    FILE *log;
};

#define HTTP_DEFAULT_CONCURRENCY 16
#define HTTP_DEFAULT_MAX_RESPONSE ((size_t)64 << 20)
#define HTTP_DEFAULT_RATE 400.0

struct http_engine;

/* One AWS request. The engine copies everything it keeps; the endpoint must outlive the run. */
struct http_request {
    const struct endpoint *endpoint;
    const char *method;       /* "POST", "GET" */
    const char *path;         /* wire path after the endpoint's base path, e.g. "/" */
    const char *query;        /* without '?', or NULL */
    const char *rate_key;     /* token bucket to draw from, e.g. "dynamodb/eu-west-1" */
    const char *label;        /* for log lines, e.g. "dynamodb DescribeTable eu-west-1 orders" */
    const char *content_type; /* or NULL */
    const char *amz_target;   /* X-Amz-Target, or NULL */
    const char *body;
    size_t body_len;
    long delay_ms; /* start no earlier than this from now (polling); 0 = as soon as possible */
    /* enum sigv4_flags for this request: SIGV4_S3_FLAGS for S3 (single-encoded, unnormalized
     * path; x-amz-content-sha256 signed). 0 for every other service. */
    unsigned sigv4_flags;
    /* Keep the body as the server sent it: no Accept-Encoding, no decoding of a
     * Content-Encoding (S3 objects stored gzip-encoded must be saved byte for byte). */
    int raw_body;
};

enum http_result {
    HTTP_ANSWERED, /* an HTTP response arrived (any status): see status */
    HTTP_FAILED,   /* no usable response after every attempt: see failure */
};

/* Passed to the completion callback; valid only during the call. */
struct http_response {
    enum http_result result;
    long status;
    const char *body; /* NUL-terminated, may hold NULs */
    size_t body_len;
    const char *request_id; /* x-amzn-RequestId / x-amz-request-id / body RequestId, or "" */
    const char *error_code; /* AWS error code from body or header, "" when none */
    const char *error_message;
    const char *failure; /* HTTP_FAILED: what went wrong (curl's words, or the cap) */
    /* The final response's header lines ("Name: value\r\n"...), for http_response_header. */
    const char *headers;
    size_t headers_len;
    int attempts;
    struct timespec started_at; /* wall clock at the first attempt */
    struct timespec ended_at;   /* wall clock when the final answer was complete */
    int final;                  /* 1 when no retry is possible any more (callback must accept) */
};

/* The completion callback. Return 0 to accept the response, or HTTP_RETRY to ask for another
 * attempt (e.g. a 200 whose body does not parse: truncated or corrupted); the engine then
 * retries under the same backoff and quota rules, or calls back again with final = 1. The
 * callback may submit new requests. */
#define HTTP_RETRY 1
typedef int (*http_callback)(void *ctx, const struct http_response *response);

/* Creates an engine signing with `credentials` (borrowed; refreshed when they near expiry).
 * Returns 0 or DDB_ERUNTIME. */
int http_engine_new(struct http_engine **out, const struct http_options *options,
                    struct credentials *credentials, struct diagnostics *d);
void http_engine_free(struct http_engine *engine);

/* Queues a request. Returns 0 or DDB_ERUNTIME (out of memory) / DDB_EUSAGE (bad request). */
int http_submit(struct http_engine *engine, const struct http_request *request,
                http_callback callback, void *ctx, struct diagnostics *d);

/* Runs until every queued request (and every request queued by callbacks) completed, or
 * http_engine_stop was called. Returns 0, DDB_ERUNTIME on a libcurl failure, or 1 when
 * stopped early (requests not yet answered are dropped without a callback). */
int http_engine_run(struct http_engine *engine, struct diagnostics *d);

/* Asks a running engine to stop soon (async-signal-safe: sets a flag). */
void http_engine_stop(struct http_engine *engine);

struct http_stats {
    size_t requests;  /* completed logical requests */
    size_t attempts;  /* HTTP attempts made */
    size_t retries;   /* attempts beyond the first */
    size_t failures;  /* requests that ended HTTP_FAILED or with a status >= 400 */
    size_t queued;    /* submitted, not yet completed */
    size_t in_flight; /* attempts on the wire now */
    long clock_skew_seconds;
};
void http_engine_stats(const struct http_engine *engine, struct http_stats *out);

/* Sets the rate (requests per second, burst a tenth of it, at least 1) of one rate key before
 * requests use it; keys not set get options.default_rate. Returns 0 or -1 (too many keys). */
int http_engine_set_rate(struct http_engine *engine, const char *rate_key, double per_second);

/* Called after each completion so a progress display can redraw; may be NULL. */
void http_engine_on_progress(struct http_engine *engine, void (*fn)(void *ctx), void *ctx);

/* ---- Retry policy (pure; exposed for tests) ---- */

enum http_retry_class {
    HTTP_RETRY_NONE,       /* final: success or a permanent error */
    HTTP_RETRY_THROTTLE,   /* throttling error code or 429 */
    HTTP_RETRY_TRANSIENT,  /* 500/502/503/504, connection error, truncated or unparsable body */
    HTTP_RETRY_TIMEOUT,    /* connect or transfer timeout (costs more quota) */
    HTTP_RETRY_CLOCK_SKEW, /* signature rejected because our clock is off: re-sign and retry */
};

/* Classifies one attempt: curl_code is a CURLcode (0 = a response arrived), status the HTTP
 * status, error_code the AWS error code ("" when none). */
enum http_retry_class http_retry_classify(int curl_code, long status, const char *error_code);

/* Full-jitter exponential backoff for attempt n (1 = first retry): random01 * min(max_ms,
 * base_ms * 2^(n-1)). */
long http_backoff_ms(int retry_number, long base_ms, long max_ms, double random01);

/* The standard mode's retry quota (token bucket of 500; a retry costs 5, a timeout retry 10;
 * a success refunds the cost of its retry, or adds 1 when it needed none). */
struct http_retry_quota {
    int capacity;
    int available;
};
void http_retry_quota_init(struct http_retry_quota *quota);
/* Takes the cost of a retry of this class; returns 0, or -1 when the quota is exhausted. */
int http_retry_quota_acquire(struct http_retry_quota *quota, enum http_retry_class retry_class);
/* Records a success; `last_retry_class` is the class of the retry that led to it, or
 * HTTP_RETRY_NONE when the first attempt succeeded. */
void http_retry_quota_release(struct http_retry_quota *quota,
                              enum http_retry_class last_retry_class);

/* Extracts the AWS error code and message from an error answer in any protocol: JSON
 * ("__type"/"code", "message"/"Message"; the part after '#' or before ':'), query/EC2 XML
 * (<Code>, <Message>), or the x-amzn-ErrorType header (may be NULL). Writes "" when none. */
void http_parse_error(char *code, size_t code_size, char *message, size_t message_size,
                      const char *body, size_t body_len, const char *error_type_header);

/* Copies the value of response header `name` (case-insensitive; the first one) into out,
 * trimmed. Returns its length, or -1 when absent or longer than size - 1. */
int http_response_header(const struct http_response *response, const char *name, char *out,
                         size_t size);

/* Formats a wall-clock time as RFC 3339 UTC with milliseconds ("2026-11-23T12:00:00.123Z"). */
void http_format_time(char out[32], const struct timespec *t);

/* A blocking transport for credentials.h (STS AssumeRole, SSO, container, IMDS). ctx unused. */
extern const struct credentials_transport http_credentials_transport;

#endif
