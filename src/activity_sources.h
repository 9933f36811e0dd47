/* The inputs of report.json's "activity": CloudTrail log files the user names (--cloudtrail-dir)
 * and the snapshot's own LookupEvents evidence, scanned with cloudtrail.c and classified with
 * activity.c for one audit period. This is the I/O step before evaluation; the checks only read
 * the JSON it builds (docs/cloudtrail.md, "From the logs to the report"). */
#ifndef DDBAUDIT_ACTIVITY_SOURCES_H
#define DDBAUDIT_ACTIVITY_SOURCES_H

#include <jansson.h>
#include <stddef.h>

struct evidence_snapshot;
struct diagnostics;

/* LookupEvents only reaches this many days back from the collection. */
#define ACTIVITY_LOOKUP_DAYS 90

struct activity_sources_options {
    const char *const *dirs; /* --cloudtrail-dir values: directories or files of delivered logs */
    size_t dir_count;
    const char *period_start; /* YYYY-MM-DD, both set or both NULL */
    const char *period_end;
    /* `aws cloudtrail list-public-keys` output: validate the digest files under `dirs` too
     * (cloudtrail_digest.h) and add "integrity"; NULL = not checked. */
    const char *public_keys;
};

/* Builds the activity JSON (activity_to_json's shape plus "sources[].origin", "lookup_events"
 * and "kms.watched_keys") into *out, or sets *out NULL and *absent to why there is none (a
 * static string): no period, or no CloudTrail input at all. LookupEvents files are re-read from
 * the snapshot and must still have the SHA-256 the manifest records. File paths in the result
 * are relative to something stable: evidence files to the snapshot root (as every other
 * citation), delivered logs to the parent of the --cloudtrail-dir given. Returns 0, DDB_EINPUT
 * (a named directory that holds no log file, or evidence changed since it was verified) or
 * DDB_ERUNTIME. Damage inside a log file is not an error: the file's status says so. */
int activity_sources_build(json_t **out, const char **absent,
                           const struct activity_sources_options *options,
                           const struct evidence_snapshot *snapshot, struct diagnostics *d);

/* Where a delivered log file the report names `stable` (a sources[].file or evidence "file" with
 * origin "cloudtrail_dir") is on disk when `dir` is a --cloudtrail-dir value: the inverse of the
 * naming above, the parent of `dir` joined with `stable`. NULL when `stable` does not begin with
 * dir's last component (it is under another directory) or out of memory; else a fresh string
 * the caller frees. `stable` must already be a safe relative path (no "..", not absolute). */
char *activity_sources_log_path(const char *stable, const char *dir);

#endif
