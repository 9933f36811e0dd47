/* SigV4 request signing for every service: canonical request, string to sign, derived key,
 * signature. Pure computation: no I/O, no clock, no logging. The secret key and derived keys
 * live only on the stack or in buffers wiped before they are freed. */
#include "sigv4.h"
#include "buf.h"
#include "diag.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_MAX_TEXT ((size_t)16 << 20) /* canonical requests are small; 16 MiB is plenty */

/* A header or query parameter in canonical form; both strings owned. */
struct pair {
    char *name;
    char *value;
    size_t order; /* position in the input, so duplicates keep their order */
};

struct pair_list {
    struct pair *items;
    size_t count;
    size_t capacity;
};

static void pair_list_free(struct pair_list *list, int wipe)
{
    for (size_t i = 0; i < list->count; i++) {
        if (wipe && list->items[i].value)
            OPENSSL_cleanse(list->items[i].value, strlen(list->items[i].value));
        free(list->items[i].name);
        free(list->items[i].value);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->capacity = 0;
}

/* Takes ownership of name and value (frees them on failure). */
static int pair_list_add(struct pair_list *list, char *name, char *value)
{
    if (!name || !value)
        goto fail;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        struct pair *grown = realloc(list->items, capacity * sizeof(*grown));
        if (!grown)
            goto fail;
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count].name = name;
    list->items[list->count].value = value;
    list->items[list->count].order = list->count;
    list->count++;
    return 0;
fail:
    free(name);
    free(value);
    return -1;
}

static int compare_pairs(const void *a, const void *b)
{
    const struct pair *left = a, *right = b;
    int by_name = strcmp(left->name, right->name);
    if (by_name)
        return by_name;
    return left->order < right->order ? -1 : left->order > right->order;
}

/* Query parameters sort by name, then by value, both in byte order of their encoded form. */
static int compare_query_pairs(const void *a, const void *b)
{
    const struct pair *left = a, *right = b;
    int by_name = strcmp(left->name, right->name);
    if (by_name)
        return by_name;
    return strcmp(left->value, right->value);
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int sigv4_uri_encode(struct buf *out, const char *data, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            if (buf_putc(out, (char)c) < 0)
                return -1;
        } else {
            char escaped[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (buf_append(out, escaped, 3) < 0)
                return -1;
        }
    }
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes then re-encodes one query component: callers may pass raw or encoded text
 * and get the one canonical form. A '%' not followed by two hex digits is taken literally. */
static char *canonical_query_component(const char *text, size_t len)
{
    struct buf decoded, encoded;
    buf_init(&decoded, SIGV4_MAX_TEXT);
    buf_init(&encoded, SIGV4_MAX_TEXT);
    char *result = NULL;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '%' && i + 2 < len && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            c = (char)(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        }
        if (buf_putc(&decoded, c) < 0)
            goto done;
    }
    if (buf_puts(&encoded, "") < 0 ||
        sigv4_uri_encode(&encoded, decoded.data ? decoded.data : "", decoded.len, 0) < 0)
        goto done;
    result = buf_detach(&encoded);
done:
    if (decoded.data)
        OPENSSL_cleanse(decoded.data, decoded.len);
    buf_free(&decoded);
    buf_free(&encoded);
    return result;
}

static char *copy_text(const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
}

static char *copy_string(const char *text)
{
    return copy_text(text, strlen(text));
}

static int parse_query(struct pair_list *list, const char *query)
{
    if (!query)
        return 0;
    const char *cursor = query;
    while (*cursor) {
        const char *end = strchr(cursor, '&');
        size_t len = end ? (size_t)(end - cursor) : strlen(cursor);
        if (len > 0) {
            const char *equals = memchr(cursor, '=', len);
            size_t name_len = equals ? (size_t)(equals - cursor) : len;
            const char *value = equals ? equals + 1 : cursor + len;
            size_t value_len = equals ? len - name_len - 1 : 0;
            if (pair_list_add(list, canonical_query_component(cursor, name_len),
                              canonical_query_component(value, value_len)) < 0)
                return -1;
        }
        if (!end)
            break;
        cursor = end + 1;
    }
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims and collapses every whitespace run (including folded line breaks) to one space. */
static char *canonical_header_value(const char *value)
{
    size_t len = strlen(value);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    int pending_space = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_space(value[i])) {
            pending_space = n > 0;
            continue;
        }
        if (pending_space)
            out[n++] = ' ';
        pending_space = 0;
        out[n++] = value[i];
    }
    out[n] = '\0';
    return out;
}

static char *lowercase_copy(const char *name)
{
    char *out = copy_string(name);
    if (out)
        for (char *p = out; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return out;
}

/* Headers botocore (1.43) never signs: hop-by-hop headers and the ones proxies and load
 * balancers add or rewrite. */
static int is_unsigned_header(const char *lower_name)
{
    static const char *const names[] = {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(lower_name, names[i]))
            return 1;
    return 0;
}

static int has_header(const struct sigv4_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name && !strcasecmp(req->headers[i].name, name))
            return 1;
    return 0;
}

/* botocore's remove_dot_segments: drop empty and "." segments, ".." pops one, keep a leading
 * '/' and a trailing '/' when anything is left. */
static int normalize_path(struct buf *out, const char *path)
{
    size_t len = strlen(path);
    size_t *starts = malloc((len / 2 + 2) * sizeof(*starts));
    size_t *lengths = malloc((len / 2 + 2) * sizeof(*lengths));
    size_t kept = 0;
    int rc = -1;
    if (!starts || !lengths)
        goto done;
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t seg = j - i;
        if (seg == 0 || (seg == 1 && path[i] == '.')) {
            /* skip */
        } else if (seg == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (kept)
                kept--;
        } else {
            starts[kept] = i;
            lengths[kept] = seg;
            kept++;
        }
        i = j + 1;
    }
    if (path[0] == '/' && buf_putc(out, '/') < 0)
        goto done;
    for (size_t k = 0; k < kept; k++) {
        if (k && buf_putc(out, '/') < 0)
            goto done;
        if (buf_append(out, path + starts[k], lengths[k]) < 0)
            goto done;
    }
    if (len && path[len - 1] == '/' && kept && buf_putc(out, '/') < 0)
        goto done;
    if (out->len == 0 && buf_putc(out, '/') < 0)
        goto done;
    rc = 0;
done:
    free(starts);
    free(lengths);
    return rc;
}

static int canonical_uri(struct buf *out, const char *path, unsigned flags)
{
    if (!path || !*path)
        path = "/";
    struct buf normalized;
    buf_init(&normalized, SIGV4_MAX_TEXT);
    int rc = -1;
    if (flags & SIGV4_NO_NORMALIZE_PATH) {
        if (buf_puts(&normalized, path) < 0)
            goto done;
    } else if (normalize_path(&normalized, path) < 0) {
        goto done;
    }
    if (flags & SIGV4_NO_DOUBLE_ENCODE)
        rc = buf_append(out, normalized.data, normalized.len);
    else
        rc = sigv4_uri_encode(out, normalized.data, normalized.len, 1);
done:
    buf_free(&normalized);
    return rc;
}

int sigv4_format_amz_date(char out[17], time_t t)
{
    struct tm tm;
    if (t < 0 || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return -1;
    return strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 16 ? 0 : -1;
}

const char *sigv4_signed_header(const struct sigv4_signed *s, const char *name)
{
    for (size_t i = 0; i < s->header_count; i++)
        if (!strcasecmp(s->headers[i].name, name))
            return s->headers[i].value;
    return NULL;
}

static void wipe_string(char *s)
{
    if (s)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void sigv4_signed_free(struct sigv4_signed *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->header_count; i++)
        wipe_string((char *)s->headers[i].value);
    wipe_string(s->query);
    wipe_string(s->canonical_request);
    free(s->string_to_sign);
    OPENSSL_cleanse(s->signature, sizeof(s->signature));
    memset(s, 0, sizeof(*s));
}

static int add_output_header(struct sigv4_signed *out, const char *name, char *value)
{
    if (!value || out->header_count >= SIGV4_MAX_ADDED_HEADERS) {
        free(value);
        return -1;
    }
    out->headers[out->header_count].name = name;
    out->headers[out->header_count].value = value;
    out->header_count++;
    return 0;
}

static int is_empty(const char *s)
{
    return !s || !*s;
}

static int is_payload_hash(const char *s)
{
    if (!strcmp(s, "UNSIGNED-PAYLOAD") || !strcmp(s, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
        return 1;
    if (strlen(s) != DIGEST_SHA256_HEX_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int derive_signing_key(unsigned char key[DIGEST_SHA256_LEN], const char *secret,
                              const char *date, const char *region, const char *service)
{
    size_t secret_len = strlen(secret);
    unsigned char *seed = malloc(secret_len + 4);
    if (!seed)
        return -1;
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, secret_len);
    unsigned char k_date[DIGEST_SHA256_LEN], k_region[DIGEST_SHA256_LEN],
        k_service[DIGEST_SHA256_LEN];
    digest_hmac_sha256(seed, secret_len + 4, date, strlen(date), k_date);
    digest_hmac_sha256(k_date, sizeof(k_date), region, strlen(region), k_region);
    digest_hmac_sha256(k_region, sizeof(k_region), service, strlen(service), k_service);
    digest_hmac_sha256(k_service, sizeof(k_service), "aws4_request", 12, key);
    OPENSSL_cleanse(seed, secret_len + 4);
    OPENSSL_cleanse(k_date, sizeof(k_date));
    OPENSSL_cleanse(k_region, sizeof(k_region));
    OPENSSL_cleanse(k_service, sizeof(k_service));
    free(seed);
    return 0;
}

static int valid_scope_part(const char *s)
{
    if (is_empty(s))
        return 0;
    for (const char *p = s; *p; p++)
        if (*p == '/' || is_space(*p) || (unsigned char)*p < 0x20)
            return 0;
    return 1;
}

/* The query string of a presigned URL: the canonical parameters, X-Amz-Signature, and a session
 * token that was kept out of the signature (SIGV4_OMIT_SESSION_TOKEN), if any. */
static int presigned_query(char **out, const struct pair_list *query, const char *signature,
                           const char *unsigned_token)
{
    struct buf result;
    buf_init(&result, SIGV4_MAX_TEXT);
    char *token = NULL;
    int rc = -1;
    for (size_t i = 0; i < query->count; i++)
        if (buf_printf(&result, "%s%s=%s", i ? "&" : "", query->items[i].name,
                       query->items[i].value) < 0)
            goto done;
    if (buf_printf(&result, "%sX-Amz-Signature=%s", query->count ? "&" : "", signature) < 0)
        goto done;
    if (unsigned_token) {
        token = canonical_query_component(unsigned_token, strlen(unsigned_token));
        if (!token || buf_printf(&result, "&X-Amz-Security-Token=%s", token) < 0)
            goto done;
    }
    *out = buf_detach(&result);
    rc = 0;
done:
    wipe_string(token);
    if (result.data)
        OPENSSL_cleanse(result.data, result.len);
    buf_free(&result);
    return rc;
}

/* Checks what signing cannot do without; messages name the field, never its value. */
static int validate(const struct sigv4_request *req, const struct sigv4_params *params,
                    struct diagnostics *d)
{
    long expires = params->expires_seconds ? params->expires_seconds : 3600;
    if (is_empty(req->method))
        return diag_error(d, DDB_EINPUT, "sigv4: request has no method");
    if (!valid_scope_part(params->region) || !valid_scope_part(params->service))
        return diag_error(d, DDB_EINPUT,
                          "sigv4: signing region and service must be non-empty and contain no "
                          "'/' or whitespace");
    if (!valid_scope_part(params->access_key_id) || is_empty(params->secret_access_key))
        return diag_error(d, DDB_EINPUT,
                          "sigv4: credentials are incomplete (access key id or secret access "
                          "key missing)");
    if ((params->flags & SIGV4_QUERY) && (expires < 1 || expires > 604800))
        return diag_error(d, DDB_EINPUT, "sigv4: presigned URL expiry %ld s is outside 1..604800",
                          expires);
    if (!has_header(req, "host"))
        return diag_error(d, DDB_EINPUT, "sigv4: request has no Host header");
    for (size_t i = 0; i < req->header_count; i++)
        if (!req->headers[i].name || !req->headers[i].value)
            return diag_error(d, DDB_EINPUT, "sigv4: header %zu has no name or value", i);
    if (req->payload_hash && !is_payload_hash(req->payload_hash))
        return diag_error(d, DDB_EINPUT,
                          "sigv4: payload hash is neither 64 lowercase hex digits nor "
                          "UNSIGNED-PAYLOAD");
    return 0;
}

/* The request's signed headers in canonical form, plus the ones header signing adds (also
 * recorded in out->headers), sorted by name with duplicates in request order. */
static int collect_headers(struct pair_list *headers, struct sigv4_signed *out,
                           const struct sigv4_request *req, const struct sigv4_params *params,
                           const char *payload_hash)
{
    for (size_t i = 0; i < req->header_count; i++) {
        char *name = lowercase_copy(req->headers[i].name);
        if (name && is_unsigned_header(name)) {
            free(name);
            continue;
        }
        if (pair_list_add(headers, name, canonical_header_value(req->headers[i].value)) < 0)
            return -1;
    }
    if (!(params->flags & SIGV4_QUERY)) {
        const char *token = params->session_token;
        if (!has_header(req, "x-amz-date") &&
            (pair_list_add(headers, copy_string("x-amz-date"), copy_string(out->amz_date)) < 0 ||
             add_output_header(out, "X-Amz-Date", copy_string(out->amz_date)) < 0))
            return -1;
        if (!is_empty(token) && !(params->flags & SIGV4_OMIT_SESSION_TOKEN) &&
            !has_header(req, "x-amz-security-token") &&
            (pair_list_add(headers, copy_string("x-amz-security-token"),
                           canonical_header_value(token)) < 0 ||
             add_output_header(out, "X-Amz-Security-Token", copy_string(token)) < 0))
            return -1;
        if ((params->flags & SIGV4_CONTENT_SHA256_HEADER) &&
            !has_header(req, "x-amz-content-sha256") &&
            (pair_list_add(headers, copy_string("x-amz-content-sha256"),
                           copy_string(payload_hash)) < 0 ||
             add_output_header(out, "x-amz-content-sha256", copy_string(payload_hash)) < 0))
            return -1;
    }
    if (headers->count)
        qsort(headers->items, headers->count, sizeof(*headers->items), compare_pairs);
    return 0;
}

/* "host;x-amz-date": the unique names of the sorted header list. */
static int signed_header_names(struct buf *out, const struct pair_list *headers)
{
    for (size_t i = 0; i < headers->count; i++) {
        if (i && !strcmp(headers->items[i].name, headers->items[i - 1].name))
            continue;
        if ((i && buf_putc(out, ';') < 0) || buf_puts(out, headers->items[i].name) < 0)
            return -1;
    }
    return buf_puts(out, "");
}

/* The request's query parameters plus, for a presigned URL, the X-Amz-* ones; sorted. */
static int collect_query(struct pair_list *query, const struct sigv4_request *req,
                         const struct sigv4_params *params, const char *amz_date, const char *scope,
                         const char *signed_headers)
{
    if (parse_query(query, req->query) < 0)
        return -1;
    if (params->flags & SIGV4_QUERY) {
        const char *token = params->session_token;
        char expires[24];
        snprintf(expires, sizeof(expires), "%ld",
                 params->expires_seconds ? params->expires_seconds : 3600);
        if (pair_list_add(query, copy_string("X-Amz-Algorithm"), copy_string(SIGV4_ALGORITHM)) <
                0 ||
            pair_list_add(query, copy_string("X-Amz-Credential"),
                          canonical_query_component(scope, strlen(scope))) < 0 ||
            pair_list_add(query, copy_string("X-Amz-Date"), copy_string(amz_date)) < 0 ||
            pair_list_add(query, copy_string("X-Amz-Expires"), copy_string(expires)) < 0 ||
            pair_list_add(query, copy_string("X-Amz-SignedHeaders"),
                          canonical_query_component(signed_headers, strlen(signed_headers))) < 0)
            return -1;
        if (!is_empty(token) && !(params->flags & SIGV4_OMIT_SESSION_TOKEN) &&
            pair_list_add(query, copy_string("X-Amz-Security-Token"),
                          canonical_query_component(token, strlen(token))) < 0)
            return -1;
    }
    if (query->count)
        qsort(query->items, query->count, sizeof(*query->items), compare_query_pairs);
    return 0;
}

/* METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH */
static int canonical_request(struct buf *out, const struct sigv4_request *req, unsigned flags,
                             const struct pair_list *query, const struct pair_list *headers,
                             const char *signed_headers, const char *payload_hash)
{
    if (buf_puts(out, req->method) < 0 || buf_putc(out, '\n') < 0 ||
        canonical_uri(out, req->path, flags) < 0 || buf_putc(out, '\n') < 0)
        return -1;
    for (size_t i = 0; i < query->count; i++)
        if (buf_printf(out, "%s%s=%s", i ? "&" : "", query->items[i].name, query->items[i].value) <
            0)
            return -1;
    if (buf_putc(out, '\n') < 0)
        return -1;
    for (size_t i = 0; i < headers->count; i++) {
        const struct pair *h = &headers->items[i];
        int first = i == 0 || strcmp(h->name, h[-1].name) != 0;
        int last = i + 1 == headers->count || strcmp(h->name, h[1].name) != 0;
        if ((first ? buf_printf(out, "%s:", h->name) : buf_putc(out, ',')) < 0 ||
            buf_puts(out, h->value) < 0 || (last && buf_putc(out, '\n') < 0))
            return -1;
    }
    return buf_printf(out, "\n%s\n%s", signed_headers, payload_hash);
}

int sigv4_sign(struct sigv4_signed *out, const struct sigv4_request *req,
               const struct sigv4_params *params, struct diagnostics *d)
{
    struct pair_list headers = {0}, query = {0};
    struct buf creq, sts, text, signed_headers;
    buf_init(&signed_headers, SIGV4_MAX_TEXT);
    buf_init(&creq, SIGV4_MAX_TEXT);
    buf_init(&sts, SIGV4_MAX_TEXT);
    buf_init(&text, SIGV4_MAX_TEXT);
    unsigned char signing_key[DIGEST_SHA256_LEN], signature[DIGEST_SHA256_LEN];
    char date[9], scope[512], payload_hash[DIGEST_SHA256_HEX_LEN + 40];
    char creq_hash[DIGEST_SHA256_HEX_LEN + 1];
    int error;
    memset(out, 0, sizeof(*out));

    if ((error = validate(req, params, d)) < 0)
        goto done;
    if (sigv4_format_amz_date(out->amz_date, params->time) < 0) {
        error = diag_error(d, DDB_EINPUT, "sigv4: request time is out of range");
        goto done;
    }
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    if ((size_t)snprintf(scope, sizeof(scope), "%s/%s/%s/%s/aws4_request", params->access_key_id,
                         date, params->region, params->service) >= sizeof(scope)) {
        error = diag_error(d, DDB_EINPUT, "sigv4: access key id, region or service too long");
        goto done;
    }
    if (req->payload_hash)
        snprintf(payload_hash, sizeof(payload_hash), "%s", req->payload_hash);
    else if (req->body_len)
        digest_sha256_hex(req->body, req->body_len, payload_hash);
    else
        snprintf(payload_hash, sizeof(payload_hash), "%s", EMPTY_SHA256);

    const int has_token = !is_empty(params->session_token);
    const int token_unsigned = has_token && (params->flags & SIGV4_OMIT_SESSION_TOKEN);
    if (collect_headers(&headers, out, req, params, payload_hash) < 0 ||
        signed_header_names(&signed_headers, &headers) < 0 ||
        collect_query(&query, req, params, out->amz_date, scope, signed_headers.data) < 0 ||
        canonical_request(&creq, req, params->flags, &query, &headers, signed_headers.data,
                          payload_hash) < 0)
        goto oom;

    digest_sha256_hex(creq.data, creq.len, creq_hash);
    if (buf_printf(&sts, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", out->amz_date, date,
                   params->region, params->service, creq_hash) < 0 ||
        derive_signing_key(signing_key, params->secret_access_key, date, params->region,
                           params->service) < 0)
        goto oom;
    digest_hmac_sha256(signing_key, sizeof(signing_key), sts.data, sts.len, signature);
    digest_to_hex(signature, sizeof(signature), out->signature);

    if (params->flags & SIGV4_QUERY) {
        if (presigned_query(&out->query, &query, out->signature,
                            token_unsigned ? params->session_token : NULL) < 0)
            goto oom;
    } else {
        if (buf_printf(&text, SIGV4_ALGORITHM " Credential=%s, SignedHeaders=%s, Signature=%s",
                       scope, signed_headers.data, out->signature) < 0)
            goto oom;
        if (token_unsigned && !has_header(req, "x-amz-security-token") &&
            add_output_header(out, "X-Amz-Security-Token", copy_string(params->session_token)) < 0)
            goto oom;
        if (add_output_header(out, "Authorization", buf_detach(&text)) < 0)
            goto oom;
    }
    out->canonical_request = buf_detach(&creq);
    out->string_to_sign = buf_detach(&sts);
    error = 0;
    goto done;

oom:
    error = diag_error(d, DDB_ERUNTIME, "sigv4: out of memory while signing");
done:
    OPENSSL_cleanse(signing_key, sizeof(signing_key));
    OPENSSL_cleanse(signature, sizeof(signature));
    pair_list_free(&headers, 1);
    pair_list_free(&query, 1);
    if (creq.data)
        OPENSSL_cleanse(creq.data, creq.cap);
    if (text.data)
        OPENSSL_cleanse(text.data, text.cap);
    buf_free(&signed_headers);
    buf_free(&creq);
    buf_free(&sts);
    buf_free(&text);
    if (error < 0)
        sigv4_signed_free(out);
    return error;
}
