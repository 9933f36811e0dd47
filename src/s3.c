/* S3 addressing and ListObjectsV2 parsing (see s3.h). Builds strings and reads XML; sends
 * nothing, signs nothing (sigv4.c does, with SIGV4_S3_FLAGS). */
#include "s3.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "endpoints.h"
#include "sigv4.h"
#include "urldecode.h"

int s3_valid_bucket(const char *bucket)
{
    size_t len = strlen(bucket);
    if (len < 3 || len > 63)
        return 0;
    int all_digits_and_dots = 1;
    for (size_t i = 0; i < len; i++) {
        char c = bucket[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-')
            return 0;
        if ((i == 0 || i == len - 1) && !alnum)
            return 0;
        if (c == '.' && (bucket[i + 1] == '.' || bucket[i + 1] == '-' || bucket[i - 1] == '-'))
            return 0;
        if (!(c >= '0' && c <= '9') && c != '.')
            all_digits_and_dots = 0;
    }
    return !all_digits_and_dots; /* "192.168.5.4" is not a bucket name */
}

static char *copy_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int s3_bucket_endpoint(struct endpoint *out, char **path_prefix, const struct endpoint *s3,
                       const char *bucket, struct diagnostics *d)
{
    memset(out, 0, sizeof(*out));
    *path_prefix = NULL;
    if (!s3_valid_bucket(bucket))
        return diag_error(d, DDB_EUSAGE,
                          "bucket name '%s' is not a valid S3 bucket name (3-63 characters: "
                          "a-z, 0-9, '.', '-')",
                          bucket);
    int path_style = s3->overridden || strchr(bucket, '.') != NULL;
    struct buf host, url, prefix;
    buf_init(&host, 512);
    buf_init(&url, 1024);
    buf_init(&prefix, 512);
    int rc = DDB_ERUNTIME;
    if (path_style) {
        if (buf_puts(&host, s3->host) < 0 || buf_printf(&prefix, "/%s", bucket) < 0 ||
            buf_puts(&url, s3->url) < 0)
            goto done;
    } else {
        int default_port = (strcmp(s3->scheme, "https") == 0 && s3->port == 443) ||
                           (strcmp(s3->scheme, "http") == 0 && s3->port == 80);
        if (buf_printf(&host, "%s.%s", bucket, s3->host) < 0 ||
            buf_printf(&url, "%s://%s", s3->scheme, buf_cstr(&host)) < 0 ||
            (!default_port && buf_printf(&url, ":%d", s3->port) < 0) ||
            buf_puts(&url, s3->base_path ? s3->base_path : "") < 0 || buf_puts(&prefix, "") < 0)
            goto done;
    }
    out->scheme = copy_or_null(s3->scheme);
    out->host = buf_detach(&host);
    out->port = s3->port;
    out->base_path = copy_or_null(s3->base_path ? s3->base_path : "");
    out->url = buf_detach(&url);
    out->signing_region = copy_or_null(s3->signing_region);
    out->signing_name = copy_or_null(s3->signing_name);
    out->partition = copy_or_null(s3->partition);
    out->overridden = s3->overridden;
    *path_prefix = buf_detach(&prefix);
    if (out->scheme && out->host && out->base_path && out->url && out->signing_region &&
        out->signing_name && out->partition && *path_prefix)
        rc = 0;
done:
    buf_free(&host);
    buf_free(&url);
    buf_free(&prefix);
    if (rc < 0) {
        endpoint_free(out);
        free(*path_prefix);
        *path_prefix = NULL;
        diag_error(d, rc, "out of memory");
    }
    return rc;
}

int s3_object_path(struct buf *out, const char *path_prefix, const char *key)
{
    if (buf_printf(out, "%s/", path_prefix) < 0)
        return -1;
    return sigv4_uri_encode(out, key, strlen(key), 1);
}

int s3_list_query(struct buf *out, const char *prefix, const char *continuation_token)
{
    if (continuation_token &&
        (buf_puts(out, "continuation-token=") < 0 ||
         sigv4_uri_encode(out, continuation_token, strlen(continuation_token), 0) < 0 ||
         buf_putc(out, '&') < 0))
        return -1;
    if (buf_puts(out, "encoding-type=url&list-type=2&max-keys=1000&prefix=") < 0)
        return -1;
    return sigv4_uri_encode(out, prefix, strlen(prefix), 0);
}

/* ---- The answer ---- */

static int is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

/* The text of the first child element `name` of parent (a fresh string), or NULL. */
static char *child_text(const xmlNode *parent, const char *name)
{
    for (const xmlNode *child = parent->children; child; child = child->next) {
        if (!is_element(child, name))
            continue;
        xmlChar *text = xmlNodeGetContent(child);
        char *copy = text ? strdup((const char *)text) : strdup("");
        xmlFree(text);
        return copy;
    }
    return NULL;
}

void s3_listing_free(struct s3_listing *listing)
{
    for (size_t i = 0; i < listing->count; i++) {
        free(listing->objects[i].key);
        free(listing->objects[i].etag);
    }
    free(listing->objects);
    free(listing->next_token);
    memset(listing, 0, sizeof(*listing));
}

int s3_parse_listing(struct s3_listing *out, const char *xml, size_t len, struct diagnostics *d)
{
    memset(out, 0, sizeof(*out));
    if (len > (size_t)1 << 30)
        return diag_error(d, DDB_EINPUT, "ListObjectsV2 answer too large");
    /* No network, no entity expansion beyond the predefined ones, no huge-text mode. */
    xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return diag_error(d, DDB_EINPUT, "ListObjectsV2 answer is not well-formed XML");
    int rc = DDB_EINPUT;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is_element(root, "ListBucketResult")) {
        diag_error(d, DDB_EINPUT, "ListObjectsV2 answer has no ListBucketResult");
        goto done;
    }
    char *encoding = child_text(root, "EncodingType");
    int url_encoded = encoding && strcmp(encoding, "url") == 0;
    free(encoding);
    char *truncated = child_text(root, "IsTruncated");
    out->truncated = truncated && strcmp(truncated, "true") == 0;
    free(truncated);
    out->next_token = child_text(root, "NextContinuationToken");
    size_t capacity = 0;
    for (xmlNode *node = root->children; node; node = node->next) {
        if (!is_element(node, "Contents"))
            continue;
        char *raw_key = child_text(node, "Key");
        char *size = child_text(node, "Size");
        char *etag = child_text(node, "ETag");
        char *key = raw_key && url_encoded
                        ? url_decode(raw_key, strlen(raw_key), URLDECODE_PLUS, NULL)
                        : raw_key;
        if (key != raw_key)
            free(raw_key);
        char *end = NULL;
        long long bytes = size ? strtoll(size, &end, 10) : -1;
        int bad = !key || !*key || !size || !end || *end || bytes < 0 || !etag;
        free(size);
        if (bad) {
            free(key);
            free(etag);
            diag_error(d, DDB_EINPUT,
                       "ListObjectsV2 answer: an object without a usable Key, Size or ETag");
            goto done;
        }
        if (out->count == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            struct s3_object *grown = realloc(out->objects, capacity * sizeof(*grown));
            if (!grown) {
                free(key);
                free(etag);
                rc = diag_error(d, DDB_ERUNTIME, "out of memory");
                goto done;
            }
            out->objects = grown;
        }
        out->objects[out->count++] = (struct s3_object){key, bytes, etag};
    }
    rc = 0;
done:
    xmlFreeDoc(doc);
    if (rc < 0)
        s3_listing_free(out);
    return rc;
}
