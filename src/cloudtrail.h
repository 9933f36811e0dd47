/* The CloudTrail scanner: reads delivered log files (gzip or plain JSON) and event-history
 * output one record at a time and hands each event whose eventSource is wanted to a callback,
 * together with where it came from. Memory is bounded by the largest record, never the file.
 *
 * Shapes understood:
 *   {"Records":[{event}, ...]}                     log files as CloudTrail delivers them to S3
 *   {"Events":[{"CloudTrailEvent":"<json>"}, ...]} `aws cloudtrail lookup-events` / LookupEvents
 *   {event}\n{event}\n...                          one event per line (exports such as Logstash)
 *   [{event}, ...]                                 a bare array of events
 * Several top-level values may follow one another (saved pages); each is one "page". */
#ifndef DDBAUDIT_CLOUDTRAIL_H
#define DDBAUDIT_CLOUDTRAIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"

struct diagnostics;

/* Real CloudTrail records are a few KB; AWS caps what it sends to CloudWatch Logs and
 * EventBridge at 256 KB per event, and log files themselves rarely pass a few MB. 32 MiB is
 * 128 times the largest event AWS forwards anywhere, yet a hostile record cannot push the
 * scanner past the 64 MB RSS budget by itself. Larger records are skipped with a warning that
 * names the file and offset; --max-record-size raises the cap. */
#define CLOUDTRAIL_DEFAULT_MAX_RECORD ((size_t)32 << 20)

enum cloudtrail_shape {
    CLOUDTRAIL_SHAPE_UNKNOWN = 0,
    CLOUDTRAIL_SHAPE_RECORDS, /* {"Records":[...]} */
    CLOUDTRAIL_SHAPE_EVENTS,  /* {"Events":[...]} from LookupEvents */
    CLOUDTRAIL_SHAPE_LINES,   /* one object per top-level value */
    CLOUDTRAIL_SHAPE_ARRAY,   /* [ {...}, ... ] */
};

/* A summary holds eventTime (or @timestamp), eventSource, eventName, awsRegion,
 * sourceIPAddress, eventID, errorCode, vpcEndpointId, tlsDetails.tlsVersion and userIdentity's
 * type, principalId, arn and invokedBy; requestParameters, responseElements, userAgent and the
 * rest are left unread. */
enum cloudtrail_detail {
    CLOUDTRAIL_SUMMARY = 0,
    CLOUDTRAIL_SUMMARY_WITH_PARAMETERS, /* plus requestParameters and resources */
    CLOUDTRAIL_WHOLE,
};

enum cloudtrail_file_status {
    CLOUDTRAIL_FILE_OK = 0,
    CLOUDTRAIL_FILE_DAMAGED,    /* read, but with records skipped (bad JSON, oversize, ...) */
    CLOUDTRAIL_FILE_TRUNCATED,  /* gzip stream or JSON ended early; complete records kept */
    CLOUDTRAIL_FILE_UNREADABLE, /* could not be opened or read at all */
};

/* One scanned input. The hash is complete once the file has been scanned. */
struct cloudtrail_file {
    char *path;
    char sha256[DIGEST_SHA256_HEX_LEN + 1]; /* of the bytes on disk */
    char content_sha256[DIGEST_SHA256_HEX_LEN +
                        1]; /* of the decompressed JSON (what digests hash) */
    uint64_t size;          /* bytes on disk */
    uint64_t content_size;  /* decompressed bytes */
    int compressed;
    enum cloudtrail_shape shape;
    enum cloudtrail_file_status status;
    uint64_t records; /* records seen */
    uint64_t kept;    /* records handed to the callback */
    uint64_t skipped; /* records that could not be read */
};

/* Where an event came from, so an auditor can find the raw record. */
struct cloudtrail_source {
    size_t file_index; /* into scan->files */
    uint64_t offset;   /* byte offset of the record's '{' in the decompressed stream */
    uint64_t page;     /* 0-based top-level value ("page" of saved LookupEvents output) */
    uint64_t index;    /* 0-based position within the page's Records/Events array */
};

/* Called for each kept event. `event` is the CloudTrail record (for LookupEvents output, the
 * decoded CloudTrailEvent), borrowed for the duration of the call (json_incref to keep it).
 * Return 0 to go on, negative to stop the scan with that code. */
typedef int (*cloudtrail_event_fn)(void *ctx, json_t *event,
                                   const struct cloudtrail_source *source);

struct cloudtrail_options {
    const char *const *sources; /* eventSource values to keep; NULL = dynamodb, kms, iam */
    size_t source_count;
    size_t max_record; /* 0 = CLOUDTRAIL_DEFAULT_MAX_RECORD */
    size_t chunk_size; /* bytes read (and inflated) at a time; 0 = 256 KiB. Tests use 1. */
    /* How much of each wanted record the callback needs, by eventSource and eventName; NULL =
     * always CLOUDTRAIL_WHOLE. Reading less is what keeps the scanner near the speed of
     * decompression. */
    enum cloudtrail_detail (*detail)(const char *event_source, const char *event_name);
};

struct cloudtrail_scan {
    struct cloudtrail_options options;
    struct cloudtrail_file *files; /* owned; in scan order */
    size_t file_count;
    size_t file_capacity;
    uint64_t records; /* totals over all files */
    uint64_t kept;
    uint64_t prefiltered;       /* records skipped by the eventSource pre-filter without parsing */
    unsigned char *read_buffer; /* private: reused from file to file, so a scan of thousands */
    unsigned char *inflate_buffer; /* of small files does not fault fresh pages in for each */
};

/* Default eventSource list: dynamodb.amazonaws.com, kms.amazonaws.com, iam.amazonaws.com. */
extern const char *const cloudtrail_default_sources[];
extern const size_t cloudtrail_default_source_count;

void cloudtrail_scan_init(struct cloudtrail_scan *scan, const struct cloudtrail_options *options);
void cloudtrail_scan_free(struct cloudtrail_scan *scan);

/* Scans a file, or every *.json / *.json.gz / *.gz file under a directory (recursively, in
 * byte order of path, skipping CloudTrail-Digest directories). Damage inside a file is a
 * warning in `d` naming the file and byte offset; the scan goes on. Returns 0, DDB_EINPUT when
 * the path itself cannot be read (recorded as an unreadable file), or the callback's code. */
int cloudtrail_scan_path(struct cloudtrail_scan *scan, const char *path, cloudtrail_event_fn fn,
                         void *ctx, struct diagnostics *d);

/* Scans bytes already in memory (an API page, a test) as if they were a file named `name`. */
int cloudtrail_scan_memory(struct cloudtrail_scan *scan, const char *name, const void *data,
                           size_t len, cloudtrail_event_fn fn, void *ctx, struct diagnostics *d);

/* SHA-256 of a file's content after gzip decompression (plain files: of the bytes), the value
 * CloudTrail digest files record. DDB_EINPUT on a damaged gzip stream, DDB_ERUNTIME on I/O. */
int cloudtrail_content_sha256(char hex[DIGEST_SHA256_HEX_LEN + 1], const char *path,
                              struct diagnostics *d);

/* Reads a whole file, gunzipping it when it starts with the gzip magic, up to `max` bytes of
 * content. The caller frees *out (NUL-terminated). */
int cloudtrail_read_content(char **out, size_t *len, const char *path, size_t max,
                            struct diagnostics *d);

const char *cloudtrail_shape_name(enum cloudtrail_shape shape);
const char *cloudtrail_file_status_name(enum cloudtrail_file_status status);

#endif
