/* `ddbaudit run` and `ddbaudit report`: load the catalog, the evidence snapshot, exceptions and
 * attestations; evaluate; write the packet. `run` will also collect live evidence when no
 * --evidence is given (the collector's issue); until then both read a snapshot. */
#include "activity_sources.h"
#include "attestations.h"
#include "catalog.h"
#include "cfn_evidence.h"
#include "collect.h"
#include "command.h"
#include "date.h"
#include "diag.h"
#include "evaluate.h"
#include "evidence.h"
#include "exceptions.h"
#include "fsutil.h"
#include "report.h"
#include "resources.h"
#include "results.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct report_options {
    const char *evidence;
    const char *controls;
    const char *exceptions;
    const char *attestations;
    const char *as_of;
    const char *formats;
    const char *out;
    const char *fail_on;
    const char *templates;
    const char *control;
    const char *resource;
    /* Pre-deployment mode (docs/templates.md): templates instead of a snapshot. */
    const char *cfn_templates[64];
    size_t cfn_template_count;
    const char *cfn_parameters;
    /* Live collection (`run` without --evidence). */
    const char *regions;
    const char *profile;
    const char *snapshot_dir;
    /* CloudTrail activity (docs/cloudtrail.md): --cloudtrail-dir values, each a comma list. */
    const char *cloudtrail_dirs[64];
    size_t cloudtrail_dir_count;
    char period[2][11]; /* --period A..B: its two days */
    const char *period_start;
    const char *period_end;
    const char *public_keys; /* --cloudtrail-public-keys: validate the logs' digest files */
};

enum { OPTION_CLOUDTRAIL_DIR = 1000, OPTION_PERIOD, OPTION_PUBLIC_KEYS };

static const struct option long_options[] = {
    {"evidence", required_argument, NULL, 'e'},
    {"controls", required_argument, NULL, 'c'},
    {"exceptions", required_argument, NULL, 'x'},
    {"attestations", required_argument, NULL, 'a'},
    {"as-of", required_argument, NULL, 'd'},
    {"format", required_argument, NULL, 'f'},
    {"out", required_argument, NULL, 'o'},
    {"fail-on", required_argument, NULL, 'F'},
    {"templates", required_argument, NULL, 't'},
    {"control", required_argument, NULL, 'C'},
    {"resource", required_argument, NULL, 'r'},
    {"template", required_argument, NULL, 'T'},
    {"parameters", required_argument, NULL, 'P'},
    {"regions", required_argument, NULL, 'R'},
    {"profile", required_argument, NULL, 'p'},
    {"snapshot", required_argument, NULL, 'S'},
    {"cloudtrail-dir", required_argument, NULL, OPTION_CLOUDTRAIL_DIR},
    {"period", required_argument, NULL, OPTION_PERIOD},
    {"cloudtrail-public-keys", required_argument, NULL, OPTION_PUBLIC_KEYS},
    {NULL, 0, NULL, 0},
};

/* "YYYY-MM-DD..YYYY-MM-DD", both ends real dates, start not after end. */
static int parse_period(struct report_options *o, const char *value, struct diagnostics *d)
{
    int rc = date_parse_period(value, 0, o->period[0], o->period[1]);
    if (rc == -2)
        return diag_error(d, DDB_EUSAGE, "--period '%s': the start is after the end", value);
    if (rc < 0)
        return diag_error(d, DDB_EUSAGE, "--period '%s': expected YYYY-MM-DD..YYYY-MM-DD", value);
    o->period_start = o->period[0];
    o->period_end = o->period[1];
    return 0;
}

static int parse_options(struct report_options *o, int argc, char **argv, struct diagnostics *d)
{
    memset(o, 0, sizeof(*o));
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "e:c:x:a:d:f:o:F:t:C:r:T:P:R:p:S:", long_options, NULL)) !=
           -1) {
        switch (c) {
        case 'R':
            o->regions = optarg;
            break;
        case 'p':
            o->profile = optarg;
            break;
        case 'S':
            o->snapshot_dir = optarg;
            break;
        case 'e':
            o->evidence = optarg;
            break;
        case 'c':
            o->controls = optarg;
            break;
        case 'x':
            o->exceptions = optarg;
            break;
        case 'a':
            o->attestations = optarg;
            break;
        case 'd':
            o->as_of = optarg;
            break;
        case 'f':
            o->formats = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'F':
            o->fail_on = optarg;
            break;
        case 't':
            o->templates = optarg;
            break;
        case 'C':
            o->control = optarg;
            break;
        case 'r':
            o->resource = optarg;
            break;
        case 'T':
            if (o->cfn_template_count == sizeof(o->cfn_templates) / sizeof(o->cfn_templates[0]))
                return diag_error(d, DDB_EUSAGE, "too many --template files (at most 64)");
            o->cfn_templates[o->cfn_template_count++] = optarg;
            break;
        case 'P':
            o->cfn_parameters = optarg;
            break;
        case OPTION_CLOUDTRAIL_DIR:
            if (o->cloudtrail_dir_count ==
                sizeof(o->cloudtrail_dirs) / sizeof(o->cloudtrail_dirs[0]))
                return diag_error(d, DDB_EUSAGE, "too many --cloudtrail-dir options (at most 64)");
            o->cloudtrail_dirs[o->cloudtrail_dir_count++] = optarg;
            break;
        case OPTION_PUBLIC_KEYS:
            o->public_keys = optarg;
            break;
        case OPTION_PERIOD: {
            int rc = parse_period(o, optarg, d);
            if (rc < 0)
                return rc;
            break;
        }
        default:
            return diag_error(d, DDB_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return diag_error(d, DDB_EUSAGE, "unexpected argument '%s'", argv[optind]);
    if (o->fail_on && strcmp(o->fail_on, "remediate") && strcmp(o->fail_on, "review"))
        return diag_error(d, DDB_EUSAGE, "--fail-on takes remediate or review");
    long day;
    if (o->as_of && date_parse(o->as_of, &day) < 0)
        return diag_error(d, DDB_EUSAGE, "--as-of '%s' is not a date (YYYY-MM-DD)", o->as_of);
    return 0;
}

/* An input file named explicitly, or the snapshot's own (evidence/<snap>/exceptions.yaml) when
 * it has one: the report records which file it used either way. */
static char *input_file(const char *given, const char *snapshot, const char *name)
{
    if (given)
        return strdup(given);
    if (!snapshot)
        return NULL;
    char *path = fs_join(snapshot, name);
    if (path && fs_exists(path))
        return path;
    free(path);
    return NULL;
}

static int fails(const struct results *results, const char *fail_on)
{
    if (!fail_on)
        return 0;
    int review = !strcmp(fail_on, "review");
    for (size_t i = 0; i < results->count; i++) {
        enum status s = results->controls[i].status;
        if (s == STATUS_REMEDIATE || (review && s == STATUS_REVIEW))
            return 1;
    }
    return 0;
}

/* Evidence from CloudFormation templates, judged as of --as-of or today (UTC): there is no
 * collection date before deployment, and risk acceptances expire in real time. */
static int template_snapshot(struct evidence_snapshot **out, const struct report_options *o,
                             struct diagnostics *d)
{
    char today[16];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(today, sizeof(today), "%Y-%m-%d", &utc);
    struct cfn_evidence_options options = {o->cfn_templates, o->cfn_template_count,
                                           o->cfn_parameters, o->as_of ? o->as_of : today};
    return cfn_evidence_build(out, &options, d);
}

/* Collects a fresh snapshot into --snapshot DIR (default evidence/live-<UTC time>) and sets
 * *dir to it. An interrupted collection is an error that says how to finish it. */
static int collect_live(char **dir, const struct report_options *o, struct diagnostics *d)
{
    char name[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(name, sizeof(name), "evidence/live-%Y%m%dT%H%M%SZ", &tm);
    *dir = strdup(o->snapshot_dir ? o->snapshot_dir : name);
    if (!*dir)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    /* With --period the snapshot also holds the period's CloudTrail event history. */
    char period[32] = "";
    if (o->period_start)
        snprintf(period, sizeof(period), "%s..%s", o->period_start, o->period_end);
    struct collect_options options = {
        .out_dir = *dir,
        .period = o->period_start ? period : NULL,
        .regions = o->regions,
        .profile = o->profile,
        .verbosity = COLLECT_NORMAL,
        .progress = stderr,
        .progress_is_tty = isatty(STDERR_FILENO),
    };
    struct collect_summary summary = {0};
    int rc = collect_run(&options, &summary, d);
    if (rc == 1)
        rc = diag_error(d, DDB_ERUNTIME,
                        "the collection was interrupted; finish it with `ddbaudit collect "
                        "--resume --out %s`, then `ddbaudit run --evidence %s`",
                        *dir, *dir);
    if (rc < 0) {
        free(*dir);
        *dir = NULL;
    }
    return rc;
}

/* The CloudTrail activity of the period (--period, else the snapshot's) from the snapshot's
 * LookupEvents evidence and --cloudtrail-dir; *activity NULL with *absent saying why when there
 * is none. */
static int build_activity(json_t **activity, const char **absent, const struct report_options *o,
                          const struct evidence_snapshot *snapshot, struct diagnostics *d)
{
    const char *dirs[1024];
    size_t count = 0;
    char *lists[64] = {NULL};
    int error = 0;
    for (size_t i = 0; i < o->cloudtrail_dir_count && !error; i++) {
        if (!(lists[i] = strdup(o->cloudtrail_dirs[i]))) {
            error = diag_error(d, DDB_ERUNTIME, "out of memory");
            break;
        }
        for (char *item = lists[i], *comma; item; item = comma) {
            if ((comma = strchr(item, ',')))
                *comma++ = '\0';
            if (!*item)
                continue;
            if (count == sizeof(dirs) / sizeof(dirs[0])) {
                error = diag_error(d, DDB_EUSAGE, "too many --cloudtrail-dir paths");
                break;
            }
            dirs[count++] = item;
        }
    }
    struct activity_sources_options options = {
        .dirs = dirs,
        .dir_count = count,
        .period_start = o->period_start ? o->period_start : snapshot->period_start,
        .period_end = o->period_start ? o->period_end : snapshot->period_end,
        .public_keys = o->public_keys,
    };
    if (!error && o->public_keys && !count)
        error =
            diag_error(d, DDB_EUSAGE,
                       "--cloudtrail-public-keys validates the digests of --cloudtrail-dir logs: "
                       "give --cloudtrail-dir too");
    if (!error)
        error = activity_sources_build(activity, absent, &options, snapshot, d);
    for (size_t i = 0; i < o->cloudtrail_dir_count; i++)
        free(lists[i]);
    return error;
}

static int run_report(int argc, char **argv, struct diagnostics *d, int live_allowed)
{
    struct report_options o;
    int error = parse_options(&o, argc, argv, d);
    if (error < 0)
        return error;
    if (o.cfn_template_count && o.evidence)
        return diag_error(d, DDB_EUSAGE, "--template and --evidence cannot be combined");
    if (o.cfn_parameters && !o.cfn_template_count)
        return diag_error(d, DDB_EUSAGE, "--parameters goes with --template");
    if (o.cfn_template_count && (o.cloudtrail_dir_count || o.period_start))
        return diag_error(d, DDB_EUSAGE,
                          "--cloudtrail-dir and --period judge a deployed account, not --template");
    if ((o.regions || o.profile || o.snapshot_dir) && (o.evidence || !live_allowed))
        return diag_error(d, DDB_EUSAGE,
                          "--regions, --profile and --snapshot are for `run` without --evidence");
    char *collected = NULL;
    if (!o.evidence && !o.cfn_template_count) {
        if (!live_allowed)
            return diag_error(d, DDB_EUSAGE, "--evidence DIR is required");
        /* `run` without a snapshot collects one first, then reports on it like any other. */
        if ((error = collect_live(&collected, &o, d)) < 0)
            return error;
        o.evidence = collected;
    }
    struct catalog *catalog = NULL;
    struct evidence_snapshot *snapshot = NULL;
    struct exception_set *exceptions = NULL;
    struct attestation_set *attestations = NULL;
    struct results *results = NULL;
    json_t *activity = NULL;
    const char *activity_absent = NULL;
    char *controls_dir = o.controls ? strdup(o.controls) : resources_path("controls");
    char *exceptions_file = input_file(o.exceptions, o.evidence, "exceptions.yaml");
    char *attestations_file = input_file(o.attestations, o.evidence, "attestations.yaml");
    char as_of[16];
    if (!controls_dir) {
        error = diag_error(d, DDB_EINPUT, "cannot find the bundled controls/: pass --controls");
        goto done;
    }
    /* Load everything before judging anything, so an input error reports them all. */
    int rc;
    if ((rc = catalog_load(&catalog, controls_dir, d)) < 0)
        error = rc;
    if (o.cfn_template_count)
        rc = template_snapshot(&snapshot, &o, d);
    else
        rc = evidence_open(&snapshot, o.evidence, d);
    if (rc < 0)
        error = error ? error : rc;
    if (error < 0)
        goto done;
    if (exceptions_file && (rc = exceptions_load(&exceptions, exceptions_file, catalog, d)) < 0)
        error = rc;
    if (attestations_file &&
        (rc = attestations_load(&attestations, attestations_file, catalog, d)) < 0)
        error = error ? error : rc;
    if (error < 0)
        goto done;
    if (!o.cfn_template_count &&
        (error = build_activity(&activity, &activity_absent, &o, snapshot, d)) < 0)
        goto done;
    /* "Today" is the collection date unless fixed: reports are reproducible from their inputs. */
    snprintf(as_of, sizeof(as_of), "%.10s", o.as_of ? o.as_of : snapshot->collected_at);
    struct evaluation_inputs in = {
        .catalog = catalog,
        .evidence = snapshot,
        .exceptions = exceptions,
        .attestations = attestations,
        .as_of = as_of,
        .only_control = o.control,
        .source = o.cfn_template_count ? EVIDENCE_FROM_TEMPLATE : EVIDENCE_FROM_SNAPSHOT,
        .activity = activity,
        .activity_absent = activity_absent,
    };
    if ((error = evaluate(&results, &in, d)) < 0)
        goto done;
    struct report_inputs inputs = {
        .as_of = as_of,
        .catalog_digest = catalog->digest,
        .catalog_controls = catalog->count,
        .exceptions_file = exceptions_file,
        .exceptions_sha256 = exceptions ? exceptions->sha256 : NULL,
        .attestations_file = attestations_file,
        .attestations_sha256 = attestations ? attestations->sha256 : NULL,
    };
    struct report_output out = {
        .out_dir = o.out,
        .formats = o.formats,
        .templates = o.templates,
        .control = o.control,
        .resource = o.resource,
    };
    if ((error = report_write(results, snapshot, &inputs, &out, d)) < 0)
        goto done;
    if (fails(results, o.fail_on))
        error = DDB_EFINDINGS;
done:
    json_decref(activity);
    results_free(results);
    attestations_free(attestations);
    exceptions_free(exceptions);
    evidence_free(snapshot);
    catalog_free(catalog);
    free(controls_dir);
    free(exceptions_file);
    free(attestations_file);
    free(collected);
    return error;
}

static int exec_run(int argc, char **argv, struct diagnostics *d)
{
    return run_report(argc, argv, d, 1);
}

static int exec_report(int argc, char **argv, struct diagnostics *d)
{
    return run_report(argc, argv, d, 0);
}

#define REPORT_OPTIONS                                                                             \
    "  --evidence DIR        evidence snapshot (manifest.json + AWS CLI outputs)\n"                \
    "  --controls DIR        control catalog (default: the bundled controls/)\n"                   \
    "  --exceptions FILE     risk acceptances (default: DIR/exceptions.yaml if present)\n"         \
    "  --attestations FILE   manual evidence (default: DIR/attestations.yaml if present)\n"        \
    "  --as-of YYYY-MM-DD    the date expiry and staleness are judged at (default: the\n"          \
    "                        snapshot's collection date)\n"                                        \
    "  --format LIST         html,md,xml,json,confluence,sarif (default: all but sarif);\n"        \
    "                        or one of\n"                                                          \
    "                        ticket-md, ticket-jira, ticket-html with --control\n"                 \
    "  --out DIR             packet directory (default: output/<snapshot>)\n"                      \
    "  --templates DIR       templates that override the bundled ones\n"                           \
    "  --control ID          only this control (ticket excerpts)\n"                                \
    "  --resource ARN        only findings for this resource (ticket excerpts)\n"                  \
    "  --fail-on LEVEL       exit 1 when a control is remediate (or review and worse)\n"           \
    "  --template FILE       judge a CloudFormation/SAM template before deployment instead of\n"   \
    "                        a snapshot (repeatable; docs/templates.md)\n"                         \
    "  --parameters FILE     template parameter values ([{ParameterKey, ParameterValue}] or\n"     \
    "                        {Key: Value}; AWS::Region and AWS::AccountId set the placeholders)\n" \
    "  --cloudtrail-dir DIR  CloudTrail log files as delivered to S3 (.json.gz or .json; a\n"      \
    "                        directory or file; repeatable or a comma list; extract tarballs\n"    \
    "                        first), scanned with the snapshot's LookupEvents evidence\n"          \
    "  --period A..B         audit period for CloudTrail activity, YYYY-MM-DD..YYYY-MM-DD\n"       \
    "                        (default: the snapshot's period; without --evidence, run also\n"      \
    "                        collects the period's CloudTrail event history)\n"                    \
    "  --cloudtrail-public-keys FILE\n"                                                            \
    "                        `aws cloudtrail list-public-keys` output: also validate the\n"        \
    "                        digest files under --cloudtrail-dir (log integrity, DDB-16)\n"

const struct command command_run = {
    .name = "run",
    .summary = "evaluate a snapshot and write the audit packet",
    .usage = "usage: ddbaudit run [--evidence DIR] [options]\n\n"
             "Evaluates every control against the snapshot and writes the packet. Without\n"
             "--evidence, first collects a snapshot from the AWS account (read-only; see\n"
             "`ddbaudit collect --help` and docs/iam-policy.json):\n"
             "  --regions LIST        regions to collect (comma list, or all)\n"
             "  --profile NAME        AWS CLI profile for credentials\n"
             "  --snapshot DIR        where the snapshot goes (default evidence/live-<UTC "
             "time>)\n\n" REPORT_OPTIONS,
    .exec = exec_run,
};

const struct command command_report = {
    .name = "report",
    .summary = "evaluate and write outputs (or a ticket excerpt)",
    .usage = "usage: ddbaudit report --evidence DIR [options]\n"
             "       ddbaudit report --template FILE [--template FILE ...] [--parameters FILE]\n"
             "                       [options]\n\n"
             "Evaluates the snapshot, or CloudFormation/SAM templates before deployment, and\n"
             "writes the requested formats (sarif too, for templates).\n\n" REPORT_OPTIONS,
    .exec = exec_report,
};
