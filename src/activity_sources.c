/* Feeds CloudTrail into the report: scans the snapshot's LookupEvents evidence and the delivered
 * log files named with --cloudtrail-dir for one period, and records what each input covers.
 * It reads files and never judges them: the checks (checks_activity.c) decide. */
#include "activity_sources.h"
#include "activity.h"
#include "cloudtrail.h"
#include "cloudtrail_digest.h"
#include "date.h"
#include "diag.h"
#include "digest.h"
#include "evidence.h"
#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys the tables use: DescribeTable's SSEDescription.KMSMasterKeyArn, sorted, unique. */
static int compare_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t table_keys(const char ***out, const struct evidence_snapshot *snapshot)
{
    const char **keys = calloc(snapshot->call_count ? snapshot->call_count : 1, sizeof(*keys));
    size_t count = 0;
    for (size_t i = 0; keys && i < snapshot->call_count; i++) {
        const struct evidence_call *call = &snapshot->calls[i];
        if (call->outcome != EVIDENCE_OK || strcmp(call->service, "dynamodb") ||
            strcmp(call->operation, "DescribeTable"))
            continue;
        json_t *table = json_object_get(call->document, "Table");
        const char *arn = json_string_value(
            json_object_get(json_object_get(table, "SSEDescription"), "KMSMasterKeyArn"));
        if (arn && *arn)
            keys[count++] = arn;
    }
    if (count)
        qsort(keys, count, sizeof(*keys), compare_text);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (!unique || strcmp(keys[unique - 1], keys[i]))
            keys[unique++] = keys[i];
    *out = keys;
    return unique;
}

/* The first (or last) whole day of a range bound given as an ISO 8601 time: a start after
 * midnight begins the next day, an end (exclusive, as LookupEvents takes it) at midnight ends
 * the day before. "" when it is not a time. */
static void bound_day(const char *time, int is_end, char out[11])
{
    long days;
    char day[11] = "";
    out[0] = '\0';
    if (!time || strlen(time) < 10)
        return;
    memcpy(day, time, 10);
    if (date_parse(day, &days) < 0)
        return;
    int midnight = strlen(time) < 19 || !strncmp(time + 10, "T00:00:00", 9);
    if (!is_end && !midnight)
        days++;
    if (is_end && midnight && strlen(time) >= 19)
        days--;
    date_format(days, out);
}

/* What one LookupEvents answer covers. The collector (collect_cloudtrail.c) records the range
 * it asked the API for, clamped to what LookupEvents keeps, as StartTime and EndTime (exclusive)
 * and the period's range as RequestedStartTime and RequestedEndTime. A file gathered by hand
 * and sealed records neither: its range is taken to be what LookupEvents can reach, the 90 days
 * up to the collection, and says so ("covered_inferred"). */
static json_t *lookup_entry(const struct evidence_call *call,
                            const struct evidence_snapshot *snapshot)
{
    char requested_start[11], requested_end[11], start[11], end[11], collected[11];
    json_t *p = call->parameters;
    bound_day(json_string_value(json_object_get(p, "RequestedStartTime")), 0, requested_start);
    bound_day(json_string_value(json_object_get(p, "RequestedEndTime")), 1, requested_end);
    bound_day(json_string_value(json_object_get(p, "StartTime")), 0, start);
    bound_day(json_string_value(json_object_get(p, "EndTime")), 1, end);
    int inferred = !start[0] || !end[0];
    if (inferred) {
        long last;
        snprintf(collected, sizeof(collected), "%.10s",
                 snapshot->collected_at ? snapshot->collected_at : "");
        if (date_parse(collected, &last) < 0) {
            start[0] = end[0] = '\0';
        } else {
            date_format(last - (ACTIVITY_LOOKUP_DAYS - 1), start);
            memcpy(end, collected, 11);
        }
    }
    json_t *requested =
        requested_start[0] && requested_end[0]
            ? json_pack("{s:s, s:s}", "start", requested_start, "end", requested_end)
            : json_null();
    json_t *covered = start[0] ? json_pack("{s:s, s:s}", "start", start, "end", end) : json_null();
    return json_pack("{s:s?, s:s?, s:s, s:s?, s:s, s:s?, s:o, s:o, s:b}", "file", call->path,
                     "sha256", call->outcome == EVIDENCE_OK ? call->sha256 : NULL, "region",
                     call->region, "event_source", call->key, "outcome",
                     evidence_outcome_name(call->outcome), "error_code", call->error_code,
                     "requested", requested, "covered", covered, "covered_inferred", inferred);
}

/* How a --cloudtrail-dir value names its files: its length without trailing slashes and its
 * last path component (label, label_len), which is empty for ".", ".." and "/". A log file's
 * stable name is that label followed by the file's path below the directory. */
static void dir_label(const char *dir, size_t *len, const char **label, size_t *label_len)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    *len = n;
    *label = dir + start;
    *label_len = n - start;
    if ((*label_len == 1 && !strncmp(*label, ".", 1)) ||
        (*label_len == 2 && !strncmp(*label, "..", 2)))
        *label_len = 0;
}

/* The stable name of a path under one of the --cloudtrail-dir values: relative to the parent of
 * the directory given, so the report does not depend on where the logs sat on the auditor's
 * machine (a fresh string; the path itself when it is under none of them). */
static char *stable_path(const char *path, const char *const *dirs, size_t count)
{
    for (size_t i = 0; path && i < count; i++) {
        size_t len, label_len;
        const char *label;
        dir_label(dirs[i], &len, &label, &label_len);
        const char *rest = NULL;
        if (!strncmp(path, dirs[i], len) && path[len] == '/')
            rest = path + len + 1;
        else if (!strncmp(path, dirs[i], len) && !path[len])
            rest = "";
        if (!rest)
            continue;
        size_t size = label_len + strlen(rest) + 2;
        char *out = malloc(size);
        if (out)
            snprintf(out, size, "%.*s%s%s", (int)label_len, label, label_len && *rest ? "/" : "",
                     rest);
        return out;
    }
    return path ? strdup(path) : NULL;
}

char *activity_sources_log_path(const char *stable, const char *dir)
{
    size_t len, label_len;
    const char *label;
    dir_label(dir, &len, &label, &label_len);
    const char *rest = stable;
    if (label_len) {
        if (strncmp(stable, label, label_len) != 0 ||
            (stable[label_len] != '/' && stable[label_len] != '\0'))
            return NULL;
        rest = stable + label_len + (stable[label_len] == '/');
    }
    size_t size = len + strlen(rest) + 2;
    char *out = malloc(size);
    if (out)
        snprintf(out, size, "%.*s%s%s", (int)len, dir,
                 *rest && !(len == 1 && dir[0] == '/') ? "/" : "", rest);
    return out;
}

/* Renames the files scanned from `dir` (index first..) to their stable names. */
static int relabel(struct cloudtrail_scan *scan, size_t first, const char *dir)
{
    for (size_t i = first; i < scan->file_count; i++) {
        char *renamed = stable_path(scan->files[i].path, &dir, 1);
        if (!renamed)
            return DDB_ERUNTIME;
        free(scan->files[i].path);
        scan->files[i].path = renamed;
    }
    return 0;
}

/* Log integrity over the delivered logs: cloudtrail_validate's verdicts, with its file paths
 * made stable like the sources'. */
static int validate_digests(json_t **out, const struct activity_sources_options *options,
                            struct diagnostics *d)
{
    struct cloudtrail_keyring ring = {0};
    json_t *integrity = NULL;
    int error = cloudtrail_keyring_load(&ring, options->public_keys, d);
    if (!error)
        error = cloudtrail_validate(&integrity, options->dirs, options->dir_count, &ring,
                                    options->period_start, options->period_end, d);
    const char *const lists[] = {"digests", "log_files"};
    for (size_t l = 0; !error && l < 2; l++) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(integrity, lists[l]), i, item)
        {
            const char *file = json_string_value(json_object_get(item, "file"));
            if (!file)
                continue;
            char *stable = stable_path(file, options->dirs, options->dir_count);
            if (!stable) {
                error = diag_error(d, DDB_ERUNTIME, "out of memory");
                break;
            }
            json_object_set_new(item, "file", json_string(stable));
            free(stable);
        }
    }
    cloudtrail_keyring_free(&ring);
    if (error)
        json_decref(integrity);
    else
        *out = integrity;
    return error;
}

static int scan_lookup_events(struct cloudtrail_scan *scan, struct activity *activity,
                              const struct evidence_call *call,
                              const struct evidence_snapshot *snapshot, struct diagnostics *d)
{
    char *full = fs_join(snapshot->root, call->path);
    char *text = NULL;
    size_t len = 0;
    int error = full ? fs_read_file(&text, &len, full, EVIDENCE_MAX_FILE, d) : DDB_ERUNTIME;
    if (error == 0) {
        char sha256[DIGEST_SHA256_HEX_LEN + 1];
        digest_sha256_hex(text, len, sha256);
        if (strcmp(sha256, call->sha256))
            error = diag_error_at(d, DDB_EINPUT, full, 0, 0, 0,
                                  "changed while the report was being made: its SHA-256 is no "
                                  "longer the one manifest.json records");
    }
    if (error == 0)
        error = cloudtrail_scan_memory(scan, call->path, text, len, activity_on_event, activity, d);
    free(text);
    free(full);
    return error;
}

static int scan_dir(struct cloudtrail_scan *scan, struct activity *activity, const char *given,
                    struct diagnostics *d)
{
    size_t len = strlen(given);
    while (len > 1 && given[len - 1] == '/')
        len--;
    char *dir = strndup(given, len);
    if (!dir)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    size_t first = scan->file_count;
    int error = 0;
    if (!fs_exists(dir))
        error = diag_error(d, DDB_EINPUT, "--cloudtrail-dir %s: no such file or directory", dir);
    else
        error = cloudtrail_scan_path(scan, dir, activity_on_event, activity, d);
    if (error == 0 && scan->file_count == first)
        error =
            diag_error(d, DDB_EINPUT,
                       "--cloudtrail-dir %s: no CloudTrail log files (*.json, *.json.gz) found; "
                       "a tarball must be extracted first",
                       dir);
    if (error == DDB_EINPUT && scan->file_count > first)
        error = 0; /* an unreadable file is recorded as such; the controls see it */
    if (error == 0)
        error = relabel(scan, first, dir);
    free(dir);
    return error;
}

int activity_sources_build(json_t **out, const char **absent,
                           const struct activity_sources_options *options,
                           const struct evidence_snapshot *snapshot, struct diagnostics *d)
{
    *out = NULL;
    *absent = NULL;
    size_t lookups = 0;
    for (size_t i = 0; i < snapshot->call_count; i++)
        lookups += !strcmp(snapshot->calls[i].service, "cloudtrail") &&
                   !strcmp(snapshot->calls[i].operation, "LookupEvents");
    if (!lookups && !options->dir_count) {
        *absent = "CloudTrail activity was not provided: the snapshot holds no cloudtrail "
                  "LookupEvents evidence and no --cloudtrail-dir was given";
        return 0;
    }
    if (!options->period_start || !options->period_end) {
        *absent = "CloudTrail activity was not evaluated: no audit period (give --period "
                  "YYYY-MM-DD..YYYY-MM-DD, or seal the snapshot with --period)";
        return 0;
    }
    const char **keys = NULL;
    size_t key_count = table_keys(&keys, snapshot);
    if (!keys)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    struct activity_options activity_options = {
        .period_start = options->period_start,
        .period_end = options->period_end,
        .kms_keys = keys,
        .kms_key_count = key_count,
        .kms_keys_only = 1,
    };
    struct cloudtrail_options scan_options = {.detail = activity_detail};
    struct cloudtrail_scan scan;
    cloudtrail_scan_init(&scan, &scan_options);
    struct activity *activity = NULL;
    json_t *result = NULL, *lookup = json_array(), *origins = json_array();
    int error = activity_new(&activity, &activity_options, d);
    if (!error && (!lookup || !origins))
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
    for (size_t i = 0; !error && i < snapshot->call_count; i++) {
        const struct evidence_call *call = &snapshot->calls[i];
        if (strcmp(call->service, "cloudtrail") || strcmp(call->operation, "LookupEvents"))
            continue;
        json_array_append_new(lookup, lookup_entry(call, snapshot));
        if (call->outcome != EVIDENCE_OK || !call->path)
            continue;
        size_t first = scan.file_count;
        error = scan_lookup_events(&scan, activity, call, snapshot, d);
        for (size_t k = first; k < scan.file_count; k++)
            json_array_append_new(origins, json_string("evidence"));
    }
    for (size_t i = 0; !error && i < options->dir_count; i++) {
        size_t first = scan.file_count;
        error = scan_dir(&scan, activity, options->dirs[i], d);
        for (size_t k = first; k < scan.file_count; k++)
            json_array_append_new(origins, json_string("cloudtrail_dir"));
    }
    if (!error && !(result = activity_to_json(activity, &scan)))
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
    if (!error) {
        size_t i;
        json_t *source;
        json_array_foreach(json_object_get(result, "sources"), i, source)
            json_object_set(source, "origin", json_array_get(origins, i));
        json_object_set(result, "lookup_events", lookup);
        json_t *watched = json_array();
        for (size_t k = 0; k < key_count; k++)
            json_array_append_new(watched, json_string(keys[k]));
        json_object_set_new(json_object_get(result, "kms"), "watched_keys", watched);
        json_t *integrity = NULL;
        if (options->public_keys && options->dir_count &&
            (error = validate_digests(&integrity, options, d)) == 0)
            json_object_set_new(result, "integrity", integrity);
    }
    if (!error) {
        *out = result;
        result = NULL;
    }
    json_decref(result);
    json_decref(lookup);
    json_decref(origins);
    activity_free(activity);
    cloudtrail_scan_free(&scan);
    free(keys);
    return error;
}
