/* `ddbaudit cloudtrail fetch`: copies a trail's S3 log archive for an audit period to a local
 * directory that `cloudtrail scan` reads: the log files and digest files of the period's days
 * only (ListObjectsV2 per day prefix, GetObject), each digest's signature (S3 metadata
 * x-amz-meta-signature) beside it as `<digest>.sig`, and the CloudTrail public keys of the
 * period (ListPublicKeys). Re-running skips what is already there (same size and ETag). It
 * copies and records; it never judges a log or a digest (cloudtrail_digest.c does). */
#ifndef DDBAUDIT_CLOUDTRAIL_FETCH_H
#define DDBAUDIT_CLOUDTRAIL_FETCH_H

#include <stddef.h>
#include <stdio.h>

struct diagnostics;

struct cloudtrail_fetch_options {
    const char *bucket;       /* the trail's S3 bucket */
    const char *prefix;       /* the trail's S3 key prefix, or NULL */
    const char *account;      /* the account whose logs to copy (12 digits) */
    const char *regions;      /* comma-separated regions whose logs to copy */
    const char *period_start; /* YYYY-MM-DD, both days included (UTC) */
    const char *period_end;
    const char *out_dir;       /* the local copy (created; may hold an earlier copy) */
    const char *profile;       /* NULL = AWS_PROFILE / default */
    const char *endpoint_url;  /* overrides the S3 and CloudTrail endpoints (tests, proxies) */
    const char *bucket_region; /* NULL = the configured region */
    int concurrency;           /* 0 = 8 */
    FILE *progress;            /* warnings and the summary (stderr), or NULL */
};

struct cloudtrail_fetch_summary {
    size_t prefixes;   /* day prefixes listed */
    size_t listed;     /* objects listed under them */
    size_t downloaded; /* objects written now */
    size_t unchanged;  /* already in the copy with the same size and ETag */
    size_t skipped;    /* keys that cannot be a CloudTrail file (not saved) */
    size_t signatures; /* digest signatures saved as .sig */
    size_t public_keys;
    size_t gaps; /* prefixes, objects or key lists that could not be fetched */
    unsigned long long bytes;
};

/* Where the fetch keeps what it did (dot-directory: `cloudtrail scan` does not read it). */
#define CLOUDTRAIL_FETCH_DIR ".ddbaudit-fetch"
#define CLOUDTRAIL_FETCH_RECORD ".ddbaudit-fetch/fetch.json"
#define CLOUDTRAIL_FETCH_PUBLIC_KEYS ".ddbaudit-fetch/public-keys.json"

/* Runs the copy. Returns 0 when everything of the period was fetched; DDB_ERUNTIME when
 * anything could not be (the copy and its record are still written, with `complete: false` and
 * every gap listed: the copy must not pass for the whole period); DDB_EUSAGE for bad options,
 * no credentials or no endpoint. */
int cloudtrail_fetch(const struct cloudtrail_fetch_options *options,
                     struct cloudtrail_fetch_summary *summary, struct diagnostics *d);

/* Stops a running fetch soon (async-signal-safe; for SIGINT/SIGTERM handlers); the record is
 * written with what was copied, and the same command finishes the copy. */
void cloudtrail_fetch_interrupt(void);

#endif
