/* `ddbaudit collect`: the command-line face of the collect stage (options, signals, the
 * one-line summary). All the work is in collect.c; this file prints no errors itself. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "command.h"
#include "date.h"
#include "diag.h"

static void on_signal(int signal_number)
{
    (void)signal_number;
    collect_interrupt();
}

static int parse_concurrency(const char *text, int *out)
{
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (!*text || *end || value < 1 || value > 256)
        return -1;
    *out = (int)value;
    return 0;
}

/* A closed period of real dates, start not after end. */
static int valid_period(const char *text)
{
    char start[11], end[11];
    return date_parse_period(text, 0, start, end) == 0;
}

static int collect_exec(int argc, char **argv, struct diagnostics *d)
{
    static const struct option long_options[] = {
        {"out", required_argument, NULL, 'o'},
        {"regions", required_argument, NULL, 'r'},
        {"profile", required_argument, NULL, 'p'},
        {"concurrency", required_argument, NULL, 'c'},
        {"resume", no_argument, NULL, 'R'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"period", required_argument, NULL, 'P'},
        {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},
        {NULL, 0, NULL, 0},
    };
    struct collect_options options = {
        .verbosity = COLLECT_NORMAL,
        .progress = stderr,
        .progress_is_tty = isatty(STDERR_FILENO),
    };
    const char *since = NULL, *until = NULL;
    char period[32];
    optind = 0;
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, "o:r:p:c:qvP:", long_options, NULL)) != -1) {
        switch (option) {
        case 'o':
            options.out_dir = optarg;
            break;
        case 'r':
            options.regions = optarg;
            break;
        case 'p':
            options.profile = optarg;
            break;
        case 'c':
            if (parse_concurrency(optarg, &options.concurrency) < 0)
                return diag_error(d, DDB_EUSAGE, "--concurrency: expected 1..256, got '%s'",
                                  optarg);
            break;
        case 'R':
            options.resume = 1;
            break;
        case 'q':
            options.verbosity = COLLECT_QUIET;
            break;
        case 'v':
            options.verbosity = COLLECT_VERBOSE;
            break;
        case 'P':
            if (!valid_period(optarg))
                return diag_error(d, DDB_EUSAGE,
                                  "--period: expected YYYY-MM-DD..YYYY-MM-DD, got '%s'", optarg);
            options.period = optarg;
            break;
        case 'S':
            since = optarg;
            break;
        case 'U':
            until = optarg;
            break;
        default:
            return diag_error(d, DDB_EUSAGE, "collect: unknown option '%s' (see --help)",
                              argv[optind - 1]);
        }
    }
    if (optind < argc)
        return diag_error(d, DDB_EUSAGE, "collect: unexpected argument '%s'", argv[optind]);
    if (!options.out_dir)
        return diag_error(d, DDB_EUSAGE, "collect: --out DIR is required");
    if (since || until) {
        /* --since A [--until B] is --period A..B; without --until the period ends today. */
        if (options.period)
            return diag_error(d, DDB_EUSAGE, "--period and --since/--until cannot be combined");
        if (!since)
            return diag_error(d, DDB_EUSAGE, "--until needs --since (the period's first day)");
        char today[11];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        snprintf(period, sizeof(period), "%.10s..%.10s", since, until ? until : today);
        if (strlen(since) != 10 || (until && strlen(until) != 10) || !valid_period(period))
            return diag_error(d, DDB_EUSAGE,
                              "--since/--until: expected YYYY-MM-DD dates, the first not after "
                              "the second");
        options.period = period;
    }

    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    struct collect_summary summary;
    int rc = collect_run(&options, &summary, d);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc < 0)
        return rc;
    if (options.verbosity != COLLECT_QUIET)
        printf("%s: %zu calls: %zu ok, %zu not found, %zu denied, %zu failed%s"
               " (%zu HTTP requests, %zu retries%s)\n",
               options.out_dir, summary.calls, summary.ok, summary.not_found, summary.denied,
               summary.errors, summary.complete ? "" : "; INCOMPLETE", summary.http_attempts,
               summary.http_retries, summary.resumed ? ", earlier answers reused" : "");
    if (rc == 1)
        return diag_error(d, DDB_ERUNTIME,
                          "collection interrupted; the snapshot says complete: false. Run the "
                          "same command with --resume to finish it");
    return DDB_OK;
}

const struct command command_collect = {
    .name = "collect",
    .summary = "gather evidence from an AWS account into a snapshot (read-only)",
    .usage = "usage: ddbaudit collect --out DIR [--regions LIST|all] [--profile P]\n"
             "                        [--concurrency N] [--resume] [--quiet|--verbose]\n"
             "                        [--period YYYY-MM-DD..YYYY-MM-DD | --since A [--until B]]\n"
             "\n"
             "Calls, read-only, every AWS API the controls read (docs/iam-policy.json lists\n"
             "them), following every page, and writes DIR/manifest.json plus one file per call\n"
             "holding what AWS CLI v2 prints for it; raw answers are kept under DIR/raw/.\n"
             "Denied and failed calls are recorded in the manifest, never skipped.\n"
             "\n"
             "  --out DIR          snapshot directory (must not hold a snapshot unless --resume)\n"
             "  --regions LIST     comma-separated regions, or 'all' (the account's enabled\n"
             "                     regions); default: the configured region\n"
             "  --profile P        credentials profile (default: AWS_PROFILE, then the chain)\n"
             "  --concurrency N    requests in flight (1..256, default 16)\n"
             "  --resume           finish an interrupted snapshot in DIR\n"
             "  --period A..B      the audit period (UTC days, both included): recorded in the\n"
             "                     manifest, and CloudTrail LookupEvents for DynamoDB, KMS\n"
             "                     and IAM events in it (at most the last 90 days)\n"
             "  --since A, --until B  the same, one end at a time (--until defaults to today)\n"
             "  --quiet            no progress and no summary\n"
             "  --verbose          one log line per HTTP attempt (never headers or secrets)\n"
             "\n"
             "Endpoints: AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> override them (https, or\n"
             "http to a loopback address); AWS_USE_FIPS_ENDPOINT=true selects FIPS endpoints.\n",
    .exec = collect_exec,
};
