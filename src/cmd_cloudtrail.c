/* `ddbaudit cloudtrail scan`: scans local CloudTrail logs (delivered log files or saved
 * LookupEvents output) and prints the activity findings, optionally with log integrity; and
 * `ddbaudit cloudtrail fetch`, which copies a trail's S3 archive for scan to read. It wires
 * cloudtrail.c, activity.c, cloudtrail_digest.c and cloudtrail_fetch.c together and owns no
 * logic of its own. */
#include "activity.h"
#include "buf.h"
#include "cloudtrail.h"
#include "cloudtrail_digest.h"
#include "cloudtrail_fetch.h"
#include "command.h"
#include "diag.h"
#include "date.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEYS_MAX 256

struct scan_args {
    const char *period_start;
    const char *period_end;
    char period_days[2][11];
    char *keys_text;
    const char *keys[KEYS_MAX];
    size_t key_count;
    const char *public_keys;
    int text;
    int events;
    size_t max_record;
};

/* "YYYY-MM-DD..YYYY-MM-DD"; either side may be empty for an open end. */
static int parse_period(struct scan_args *args, const char *value, struct diagnostics *d)
{
    int rc = date_parse_period(value, 1, args->period_days[0], args->period_days[1]);
    if (rc == -2)
        return diag_error(d, DDB_EUSAGE, "--period '%s': start is after end", value);
    if (rc < 0)
        return diag_error(d, DDB_EUSAGE, "--period '%s': expected YYYY-MM-DD..YYYY-MM-DD", value);
    args->period_start = args->period_days[0][0] ? args->period_days[0] : NULL;
    args->period_end = args->period_days[1][0] ? args->period_days[1] : NULL;
    return 0;
}

static int parse_keys(struct scan_args *args, const char *value, struct diagnostics *d)
{
    free(args->keys_text);
    args->keys_text = strdup(value);
    args->key_count = 0;
    if (!args->keys_text)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    char *p = args->keys_text;
    while (*p) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p) {
            if (args->key_count == KEYS_MAX)
                return diag_error(d, DDB_EUSAGE, "--keys: more than %d keys", KEYS_MAX);
            args->keys[args->key_count++] = p;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static int parse_size(size_t *out, const char *value, struct diagnostics *d)
{
    char *end = NULL;
    unsigned long long n = strtoull(value, &end, 10);
    unsigned long long unit = 1;
    if (end && (*end == 'K' || *end == 'k'))
        unit = 1ULL << 10, end++;
    else if (end && (*end == 'M' || *end == 'm'))
        unit = 1ULL << 20, end++;
    else if (end && (*end == 'G' || *end == 'g'))
        unit = 1ULL << 30, end++;
    if (!end || end == value || *end || n == 0 || n > (1ULL << 40) / unit)
        return diag_error(d, DDB_EUSAGE, "--max-record-size '%s': expected a size like 32M", value);
    *out = (size_t)(n * unit);
    return 0;
}

static const char *text_or(json_t *object, const char *key, const char *fallback)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : fallback;
}

static void print_source(struct buf *out, json_t *link)
{
    buf_printf(out, "  [%s @%lld]", text_or(link, "file", "?"),
               (long long)json_integer_value(json_object_get(link, "offset")));
}

static void print_events(struct buf *out, const char *title, json_t *events)
{
    buf_printf(out, "%s: %zu\n", title, json_array_size(events));
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event)
    {
        buf_printf(
            out, "  %s %s %s by %s from %s", text_or(event, "time", "-"),
            text_or(event, "event_name", "-"),
            text_or(event, "table",
                    text_or(event, "key",
                            text_or(event, "policy_arn", text_or(event, "attached_to", "")))),
            text_or(event, "principal_arn", "-"), text_or(event, "source_ip", "-"));
        if (json_string_value(json_object_get(event, "status")))
            buf_printf(out, " (%s)", text_or(event, "status", ""));
        if (json_string_value(json_object_get(event, "error_code")))
            buf_printf(out, " error %s", text_or(event, "error_code", ""));
        print_source(out, json_object_get(event, "source"));
        buf_putc(out, '\n');
    }
}

static void print_groups(struct buf *out, const char *title, json_t *groups, const char *detail)
{
    buf_printf(out, "%s: %zu\n", title, json_array_size(groups));
    size_t i;
    json_t *group;
    json_array_foreach(groups, i, group)
    {
        buf_printf(out, "  %6lld  %s %s",
                   (long long)json_integer_value(json_object_get(group, "count")),
                   text_or(group, "principal_arn", "-"), text_or(group, "operation", "-"));
        if (detail)
            buf_printf(out, " %s", text_or(group, detail, ""));
        buf_putc(out, '\n');
    }
}

static void print_text(struct buf *out, json_t *activity)
{
    json_t *period = json_object_get(activity, "period");
    json_t *counts = json_object_get(activity, "counts");
    buf_printf(out, "CloudTrail activity %s..%s\n", text_or(period, "start", ""),
               text_or(period, "end", ""));
    size_t damaged = 0, unreadable = 0, i;
    json_t *file;
    json_array_foreach(json_object_get(activity, "sources"), i, file)
    {
        const char *status = text_or(file, "status", "");
        unreadable += strcmp(status, "unreadable") == 0;
        damaged += strcmp(status, "ok") != 0 && strcmp(status, "unreadable") != 0;
    }
    buf_printf(out,
               "files: %zu (%zu damaged, %zu unreadable); records read: %lld; events kept: %lld, "
               "in period: %lld\n\n",
               json_array_size(json_object_get(activity, "sources")), damaged, unreadable,
               (long long)json_integer_value(json_object_get(counts, "records_read")),
               (long long)json_integer_value(json_object_get(counts, "events")),
               (long long)json_integer_value(json_object_get(counts, "in_period")));
    print_events(out, "DynamoDB control-plane changes",
                 json_object_get(activity, "dynamodb_control_plane"));
    print_events(out, "IAM policy writes granting DynamoDB",
                 json_object_get(activity, "iam_policy_changes"));
    json_t *kms = json_object_get(activity, "kms");
    print_events(out, "KMS key administration", json_object_get(kms, "key_administration"));
    print_groups(out, "KMS key usage", json_object_get(kms, "key_usage"), "via_service");
    json_t *transport = json_object_get(activity, "transport");
    print_groups(out, "Calls below TLS 1.2", json_object_get(transport, "below_tls_1_2"),
                 "tls_version");
    print_groups(out, "Calls not through a VPC endpoint",
                 json_object_get(transport, "not_via_vpc_endpoint"), "event_source");
    print_groups(out, "AccessDenied", json_object_get(activity, "access_denied"), "event_source");
    json_t *integrity = json_object_get(activity, "integrity");
    if (integrity) {
        json_t *summary = json_object_get(integrity, "summary");
        buf_printf(out,
                   "Log integrity: %lld/%lld digests valid; log files: %lld valid, %lld missing, "
                   "%lld changed, %lld not covered\n",
                   (long long)json_integer_value(json_object_get(summary, "digests_valid")),
                   (long long)json_integer_value(json_object_get(summary, "digests")),
                   (long long)json_integer_value(json_object_get(summary, "log_files_valid")),
                   (long long)json_integer_value(json_object_get(summary, "missing")),
                   (long long)json_integer_value(json_object_get(summary, "changed")),
                   (long long)json_integer_value(json_object_get(summary, "not_covered")));
    }
}

struct event_printer {
    struct activity *activity;
    const struct cloudtrail_scan *scan;
};

/* --format events: one line per event in the period, as it is read, so the listing of a
 * 100 GB archive needs no more memory than the scan. */
static int print_event(void *ctx, json_t *event, const struct cloudtrail_source *source)
{
    struct event_printer *printer = ctx;
    int error = activity_add(printer->activity, event, source);
    if (error < 0 || !activity_in_period(printer->activity, event))
        return error;
    json_t *line = json_pack("{s:o?, s:o?, s:o?, s:o?, s:s, s:I, s:I, s:I}", "event_id",
                             json_incref(json_object_get(event, "eventID")), "event_source",
                             json_incref(json_object_get(event, "eventSource")), "event_name",
                             json_incref(json_object_get(event, "eventName")), "time",
                             json_incref(json_object_get(event, "eventTime")), "file",
                             printer->scan->files[source->file_index].path, "offset",
                             (json_int_t)source->offset, "page", (json_int_t)source->page, "index",
                             (json_int_t)source->index);
    char *text = line ? json_dumps(line, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text)
        return DDB_ERUNTIME;
    int failed = puts(text) == EOF;
    free(text);
    return failed ? DDB_ERUNTIME : 0;
}

static int exec_scan(int argc, char **argv, struct diagnostics *d)
{
    static const struct option long_options[] = {
        {"period", required_argument, NULL, 'p'},          {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},           {"keys", required_argument, NULL, 'k'},
        {"public-keys", required_argument, NULL, 'P'},     {"format", required_argument, NULL, 'f'},
        {"max-record-size", required_argument, NULL, 'm'}, {NULL, 0, NULL, 0},
    };
    struct scan_args args = {0};
    struct cloudtrail_scan scan;
    struct cloudtrail_keyring ring = {0};
    struct activity *activity = NULL;
    json_t *result = NULL;
    struct buf out;
    int error = 0, option;
    buf_init(&out, 0);
    cloudtrail_scan_init(&scan, NULL);
    optind = 0;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
        case 'p':
            error = parse_period(&args, optarg, d);
            break;
        case 's':
        case 'u':
            if (!activity_valid_date(optarg))
                error = diag_error(d, DDB_EUSAGE, "--%s '%s': expected YYYY-MM-DD",
                                   option == 's' ? "since" : "until", optarg);
            else if (option == 's')
                args.period_start = optarg;
            else
                args.period_end = optarg;
            break;
        case 'k':
            error = parse_keys(&args, optarg, d);
            break;
        case 'P':
            args.public_keys = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                args.text = 0;
            else if (strcmp(optarg, "text") == 0)
                args.text = 1;
            else if (strcmp(optarg, "events") == 0)
                args.events = 1;
            else
                error = diag_error(d, DDB_EUSAGE, "--format '%s': expected json, text or events",
                                   optarg);
            break;
        case 'm':
            error = parse_size(&args.max_record, optarg, d);
            break;
        default:
            error = diag_error(d, DDB_EUSAGE, "see `ddbaudit cloudtrail scan --help`");
            break;
        }
        if (error < 0)
            goto done;
    }
    if (args.period_start && args.period_end && strcmp(args.period_start, args.period_end) > 0) {
        error = diag_error(d, DDB_EUSAGE, "the period starts (%s) after it ends (%s)",
                           args.period_start, args.period_end);
        goto done;
    }
    if (optind >= argc) {
        error = diag_error(d, DDB_EUSAGE, "cloudtrail scan: give at least one DIR or FILE");
        goto done;
    }
    struct cloudtrail_options scan_options = {
        .max_record = args.max_record,
        .detail = activity_detail,
    };
    cloudtrail_scan_init(&scan, &scan_options);
    struct activity_options activity_options = {
        .period_start = args.period_start,
        .period_end = args.period_end,
        .kms_keys = args.keys,
        .kms_key_count = args.key_count,
    };
    if ((error = activity_new(&activity, &activity_options, d)) < 0)
        goto done;
    if (args.public_keys && (error = cloudtrail_keyring_load(&ring, args.public_keys, d)) < 0)
        goto done;
    struct event_printer printer = {activity, &scan};
    for (int i = optind; i < argc; i++) {
        error = args.events ? cloudtrail_scan_path(&scan, argv[i], print_event, &printer, d)
                            : cloudtrail_scan_path(&scan, argv[i], activity_on_event, activity, d);
        if (error < 0 && error != DDB_EINPUT)
            goto done;
    }
    error = 0;
    size_t readable = 0;
    for (size_t i = 0; i < scan.file_count; i++)
        readable += scan.files[i].status != CLOUDTRAIL_FILE_UNREADABLE;
    if (readable == 0) {
        error = diag_error(d, DDB_EINPUT,
                           scan.file_count ? "no CloudTrail input could be read"
                                           : "no CloudTrail log files (*.json, *.json.gz) found");
        goto done;
    }
    result = activity_to_json(activity, &scan);
    if (!result) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    if (args.public_keys) {
        json_t *integrity = NULL;
        if ((error = cloudtrail_validate(&integrity, (const char *const *)argv + optind,
                                         (size_t)(argc - optind), &ring, args.period_start,
                                         args.period_end, d)) < 0)
            goto done;
        json_object_set_new(result, "integrity", integrity);
    }
    if (args.text)
        print_text(&out, result);
    else if (!args.events) { /* events were printed during the scan */
        char *text = json_dumps(result, JSON_SORT_KEYS | JSON_INDENT(2));
        if (!text || buf_puts(&out, text) < 0 || buf_putc(&out, '\n') < 0) {
            free(text);
            error = diag_error(d, DDB_ERUNTIME, "out of memory");
            goto done;
        }
        free(text);
    }
    if (fwrite(out.data ? out.data : "", 1, out.len, stdout) != out.len || fflush(stdout) != 0)
        error = diag_error(d, DDB_ERUNTIME, "cannot write to standard output");
done:
    json_decref(result);
    activity_free(activity);
    cloudtrail_keyring_free(&ring);
    cloudtrail_scan_free(&scan);
    free(args.keys_text);
    buf_free(&out);
    return error;
}

const struct command command_cloudtrail_scan = {
    .name = "cloudtrail scan",
    .summary = "Report DynamoDB, IAM and KMS activity from CloudTrail logs",
    .usage =
        "usage: ddbaudit cloudtrail scan DIR|FILE... [--period YYYY-MM-DD..YYYY-MM-DD]\n"
        "                                [--since YYYY-MM-DD] [--until YYYY-MM-DD]\n"
        "                                [--keys ARN,...] [--public-keys FILE]\n"
        "                                [--format json|text|events] [--max-record-size SIZE]\n"
        "\n"
        "Reads CloudTrail log files (.json.gz or .json, as delivered to S3) and saved\n"
        "`aws cloudtrail lookup-events` output, and prints the activity in the period:\n"
        "DynamoDB control-plane changes, IAM policy writes granting DynamoDB actions, KMS\n"
        "key usage and administration, calls below TLS 1.2 or not through a VPC endpoint,\n"
        "and AccessDenied counts. Every event links to its file, SHA-256 and byte offset.\n"
        "\n"
        "  --period A..B          keep events whose eventTime falls on days A..B (UTC)\n"
        "  --since A, --until B   the same, one end at a time\n"
        "  --keys ARN,...         KMS keys whose usage to report (default: all keys)\n"
        "  --public-keys FILE     `aws cloudtrail list-public-keys` output: also verify\n"
        "                         the digest files under the given directories\n"
        "  --format FORMAT        json (default): the activity section of report.json;\n"
        "                         text: a summary; events: one JSON line per event in\n"
        "                         the period with its file and offset\n"
        "  --max-record-size SIZE skip records larger than SIZE (default 32M)\n"
        "\n"
        "Damaged files are reported with file and byte offset and the scan goes on; the\n"
        "exit status is 3 only when no input could be read at all.\n",
    .exec = exec_scan,
};

/* ---- `ddbaudit cloudtrail fetch` ---- */

static void on_fetch_signal(int signal_number)
{
    (void)signal_number;
    cloudtrail_fetch_interrupt();
}

static int exec_fetch(int argc, char **argv, struct diagnostics *d)
{
    static const struct option long_options[] = {
        {"bucket", required_argument, NULL, 'b'},
        {"prefix", required_argument, NULL, 'x'},
        {"account", required_argument, NULL, 'a'},
        {"regions", required_argument, NULL, 'r'},
        {"period", required_argument, NULL, 'p'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"out", required_argument, NULL, 'o'},
        {"profile", required_argument, NULL, 'P'},
        {"endpoint-url", required_argument, NULL, 'e'},
        {"bucket-region", required_argument, NULL, 'B'},
        {"concurrency", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct scan_args period = {0};
    struct cloudtrail_fetch_options options = {.progress = stderr};
    int quiet = 0, option, error = 0;
    optind = 0;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
        case 'b':
            options.bucket = optarg;
            break;
        case 'x':
            options.prefix = optarg;
            break;
        case 'a':
            options.account = optarg;
            break;
        case 'r':
            options.regions = optarg;
            break;
        case 'p':
            error = parse_period(&period, optarg, d);
            break;
        case 's':
        case 'u':
            if (!activity_valid_date(optarg))
                error = diag_error(d, DDB_EUSAGE, "--%s '%s': expected YYYY-MM-DD",
                                   option == 's' ? "since" : "until", optarg);
            else if (option == 's')
                period.period_start = optarg;
            else
                period.period_end = optarg;
            break;
        case 'o':
            options.out_dir = optarg;
            break;
        case 'P':
            options.profile = optarg;
            break;
        case 'e':
            options.endpoint_url = optarg;
            break;
        case 'B':
            options.bucket_region = optarg;
            break;
        case 'c': {
            char *end = NULL;
            long value = strtol(optarg, &end, 10);
            if (!*optarg || *end || value < 1 || value > 64)
                error =
                    diag_error(d, DDB_EUSAGE, "--concurrency: expected 1..64, got '%s'", optarg);
            options.concurrency = (int)value;
            break;
        }
        case 'q':
            quiet = 1;
            break;
        default:
            error = diag_error(d, DDB_EUSAGE, "see `ddbaudit cloudtrail fetch --help`");
            break;
        }
        if (error < 0)
            return error;
    }
    if (optind < argc)
        return diag_error(d, DDB_EUSAGE, "cloudtrail fetch: unexpected argument '%s'",
                          argv[optind]);
    char today[11];
    if (period.period_start && !period.period_end) {
        /* --since alone: up to today (UTC). */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        period.period_end = today;
    }
    if (!period.period_start || !period.period_end)
        return diag_error(d, DDB_EUSAGE,
                          "cloudtrail fetch: give the period (--period A..B, or --since A)");
    options.period_start = period.period_start;
    options.period_end = period.period_end;
    if (quiet)
        options.progress = NULL;
    struct cloudtrail_fetch_summary summary;
    struct sigaction action, old_int, old_term;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_fetch_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    error = cloudtrail_fetch(&options, &summary, d);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (!quiet && (error == 0 || error == DDB_ERUNTIME) && options.out_dir)
        printf("%s: %zu day prefixes, %zu objects listed: %zu downloaded (%llu bytes), %zu "
               "already copied, %zu skipped; %zu digest signatures, %zu public keys; %zu "
               "gaps%s\n",
               options.out_dir, summary.prefixes, summary.listed, summary.downloaded, summary.bytes,
               summary.unchanged, summary.skipped, summary.signatures, summary.public_keys,
               summary.gaps, summary.gaps ? " (INCOMPLETE)" : "");
    return error;
}

const struct command command_cloudtrail_fetch = {
    .name = "cloudtrail fetch",
    .summary = "Copy a trail's S3 log archive for a period, for `cloudtrail scan`",
    .usage = "usage: ddbaudit cloudtrail fetch --bucket NAME [--prefix P] --account ID\n"
             "                                 --regions LIST --period YYYY-MM-DD..YYYY-MM-DD\n"
             "                                 --out DIR [--profile P] [--endpoint-url URL]\n"
             "                                 [--bucket-region R] [--concurrency N] [--quiet]\n"
             "\n"
             "Copies, read-only, the trail's log files of the period's days (ListObjectsV2 on\n"
             "AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/, GetObject) and its digest\n"
             "files (CloudTrail-Digest/, up to the day after the period), each digest's\n"
             "signature beside it as <digest>.sig, and `aws cloudtrail list-public-keys` for\n"
             "the period as DIR/" CLOUDTRAIL_FETCH_PUBLIC_KEYS ". Then:\n"
             "  ddbaudit cloudtrail scan DIR --period A..B --public-keys "
             "DIR/" CLOUDTRAIL_FETCH_PUBLIC_KEYS "\n"
             "Running it again copies only what is new or changed (size and ETag).\n"
             "\n"
             "  --bucket NAME        the trail's S3 bucket\n"
             "  --prefix P           the trail's S3 key prefix (if it has one)\n"
             "  --account ID         the account whose logs to copy\n"
             "  --regions LIST       comma-separated regions whose logs to copy\n"
             "  --period A..B        the days to copy (UTC, both included); --since A [--until B]\n"
             "  --out DIR            the local copy (a mirror of the bucket's keys)\n"
             "  --profile P          credentials profile\n"
             "  --endpoint-url URL   S3 and CloudTrail endpoint (path-style addressing)\n"
             "  --bucket-region R    the bucket's region (default: the configured region)\n"
             "  --concurrency N      requests in flight (1..64, default 8)\n"
             "\n"
             "Keys that CloudTrail cannot have written (../, sub-directories, hidden or\n"
             "control-character names) are skipped with a warning. Anything that cannot be\n"
             "fetched (AccessDenied on a day, a failed download) is listed as a gap in\n"
             "DIR/" CLOUDTRAIL_FETCH_RECORD " and the exit status is 4: the copy is incomplete.\n",
    .exec = exec_fetch,
};
