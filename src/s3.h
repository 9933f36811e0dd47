/* Amazon S3's request details that no other service shares, and its ListObjectsV2 answer:
 * bucket addressing (virtual-hosted or path style), object paths encoded once, the listing
 * query, and the XML answer parsed with libxml2 into keys, sizes and ETags. Pure: no I/O.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
#ifndef DDBAUDIT_S3_H
#define DDBAUDIT_S3_H

#include <stddef.h>

struct buf;
struct diagnostics;
struct endpoint;

/* True when `bucket` is a valid S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with
 * a letter or digit, no "..", not an IP address). Anything else could change the host name. */
int s3_valid_bucket(const char *bucket);

/* The endpoint and path prefix to reach `bucket` through `s3` (the regional S3 endpoint):
 * virtual-hosted style (host "<bucket>.<s3 host>", prefix "") by default; path style (same
 * host, prefix "/<bucket>") when the bucket name has dots (TLS wildcard certificates do not
 * match them) or the endpoint came from an override (local S3-compatible servers). Fills *out
 * (free with endpoint_free) and *path_prefix (caller frees). Returns 0 or DDB_EUSAGE /
 * DDB_ERUNTIME with a diagnostic. */
int s3_bucket_endpoint(struct endpoint *out, char **path_prefix, const struct endpoint *s3,
                       const char *bucket, struct diagnostics *d);

/* Appends path_prefix + "/" + key, percent-encoded once with '/' kept (S3 signs the path as
 * sent: never encode it twice). Returns 0 or -1 (cap). */
int s3_object_path(struct buf *out, const char *path_prefix, const char *key);

/* Appends the ListObjectsV2 query for `prefix` (and the continuation token of the next page, or
 * NULL): list-type=2, encoding-type=url (keys come back percent-encoded, so any byte S3 allows
 * in a key survives XML), max-keys 1000. Returns 0 or -1. */
int s3_list_query(struct buf *out, const char *prefix, const char *continuation_token);

struct s3_object {
    char *key; /* decoded; may hold any byte but NUL */
    long long size;
    char *etag; /* as S3 gives it, quotes included */
};

struct s3_listing {
    struct s3_object *objects;
    size_t count;
    int truncated;
    char *next_token; /* NextContinuationToken, or NULL */
};

/* Parses one ListObjectsV2 answer. Keys are url-decoded when the answer says EncodingType url
 * ('+' is a space, as botocore decodes them); a key that decodes to a NUL byte, or an answer
 * that is not a ListBucketResult, is refused. Returns 0 or DDB_EINPUT with a diagnostic. */
int s3_parse_listing(struct s3_listing *out, const char *xml, size_t len, struct diagnostics *d);

void s3_listing_free(struct s3_listing *listing);

#endif
