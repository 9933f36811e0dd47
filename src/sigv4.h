/* AWS Signature Version 4: one signer for every service, header or presigned-query form.
 * Pure computation (no I/O, no clock): the caller passes the time. Nothing here logs; the
 * secret key, session token and signature never appear in a diagnostic.
 * Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html
 */
#ifndef DDBAUDIT_SIGV4_H
#define DDBAUDIT_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "digest.h"

struct buf;
struct diagnostics;

struct sigv4_header {
    const char *name;
    const char *value;
};

/* The request as the HTTP client will send it. */
struct sigv4_request {
    const char *method; /* "GET", "POST", ... (upper case) */
    /* The path exactly as it goes on the wire, already percent-encoded where needed (see
     * sigv4_uri_encode), e.g. "/" or "/my%20bucket/key". NULL or "" means "/". */
    const char *path;
    /* The query string without the '?', as it goes on the wire, or NULL. Each key and value is
     * percent-decoded and re-encoded with the SigV4 rules, so callers may pass either form. */
    const char *query;
    /* Every header is signed, in any order and case, except hop-by-hop ones and those proxies
     * rewrite, as in botocore: connection, expect, keep-alive, proxy-authenticate,
     * proxy-authorization, te, trailer, transfer-encoding, upgrade, user-agent, x-amzn-trace-id.
     * Must include Host. Names may repeat (values join with ","); values are trimmed and inner
     * whitespace runs collapse to one space. If X-Amz-Date or X-Amz-Security-Token is already here,
     * it is not added again. */
    const struct sigv4_header *headers;
    size_t header_count;
    const void *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    /* Lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"; when non-NULL the body is not
     * hashed (for streamed or large bodies). */
    const char *payload_hash;
};

enum sigv4_flags {
    /* Presigned URL: the signature goes into the query string (X-Amz-Algorithm, -Credential,
     * -Date, -Expires, -SignedHeaders, -Security-Token, -Signature) instead of headers. */
    SIGV4_QUERY = 1u << 0,
    /* Leave "." / ".." segments and repeated slashes as they are (S3). Default: normalize. */
    SIGV4_NO_NORMALIZE_PATH = 1u << 1,
    /* Use the path as given (S3: single encoding). Default: percent-encode the wire path once
     * more (every service except S3). */
    SIGV4_NO_DOUBLE_ENCODE = 1u << 2,
    /* Add and sign x-amz-content-sha256 (S3 requires it). Header signing only. */
    SIGV4_CONTENT_SHA256_HEADER = 1u << 3,
    /* Keep the session token out of the signature and add it after signing (a few services,
     * e.g. IoT, and the suite's post-sts-header-after case). */
    SIGV4_OMIT_SESSION_TOKEN = 1u << 4,
};

/* S3 signs its paths unnormalized and single-encoded, and wants x-amz-content-sha256. */
#define SIGV4_S3_FLAGS                                                                             \
    (SIGV4_NO_NORMALIZE_PATH | SIGV4_NO_DOUBLE_ENCODE | SIGV4_CONTENT_SHA256_HEADER)

struct sigv4_params {
    const char *region;  /* signing region, e.g. "us-east-1" */
    const char *service; /* signing name, e.g. "dynamodb", "monitoring" (see endpoints.h) */
    time_t time;         /* request time, UTC seconds since the epoch */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" when the credentials have none */
    unsigned flags;            /* enum sigv4_flags */
    long expires_seconds;      /* SIGV4_QUERY only: X-Amz-Expires, 1..604800; 0 means 3600 */
};

#define SIGV4_MAX_ADDED_HEADERS 4

/* What signing produced. Every string is owned by this struct; free with sigv4_signed_free,
 * which wipes the token and signature. */
struct sigv4_signed {
    /* Header signing: the headers to add to the request, in this order: X-Amz-Date (unless the
     * request had one), X-Amz-Security-Token (when there is a token and the request had none;
     * unsigned with SIGV4_OMIT_SESSION_TOKEN), x-amz-content-sha256 (with
     * SIGV4_CONTENT_SHA256_HEADER), Authorization. Names are static strings; values are owned.
     * Query signing adds no headers. */
    struct sigv4_header headers[SIGV4_MAX_ADDED_HEADERS];
    size_t header_count;
    /* Query signing: the complete query string to send (without '?'): the request's own
     * parameters and the X-Amz-* ones, canonically encoded and sorted, then X-Amz-Signature,
     * then X-Amz-Security-Token when SIGV4_OMIT_SESSION_TOKEN kept it out of the signature.
     * NULL for header signing. */
    char *query;
    /* For tests and --debug output that must not contain secrets: the canonical request and the
     * string to sign contain no secret key (the canonical request does contain the session token
     * when one is signed, so never log it). */
    char *canonical_request;
    char *string_to_sign;
    char signature[DIGEST_SHA256_HEX_LEN + 1];
    char amz_date[17]; /* "YYYYMMDDTHHMMSSZ" */
};

/* Signs req. Returns 0 and fills *out (which the caller frees with sigv4_signed_free, also
 * after failure), or DDB_EINPUT for invalid parameters (missing Host header, bad method, bad
 * time, bad expires) or DDB_ERUNTIME when memory runs out, with a diagnostic that names the
 * problem and never contains a secret. */
int sigv4_sign(struct sigv4_signed *out, const struct sigv4_request *req,
               const struct sigv4_params *params, struct diagnostics *d);

void sigv4_signed_free(struct sigv4_signed *s);

/* The value of an added header by name (case-insensitive), or NULL. */
const char *sigv4_signed_header(const struct sigv4_signed *s, const char *name);

/* Appends data percent-encoded with the SigV4 rules: every byte except A-Z a-z 0-9 - _ . ~ becomes
 * %XX (upper-case hex); '/' is kept when keep_slash is non-zero (paths). Use it to build the wire
 * path and query of a request. Returns 0 or -1 when the buffer's cap is reached. */
int sigv4_uri_encode(struct buf *out, const char *data, size_t len, int keep_slash);

/* Formats t as "YYYYMMDDTHHMMSSZ" (UTC). Returns 0, or -1 if t is out of range. */
int sigv4_format_amz_date(char out[17], time_t t);

#endif
