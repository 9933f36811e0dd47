/* `ddbaudit verify DIR`: checks that an audit packet is what ddbaudit wrote and still matches
 * the evidence it cites: snapshot files and delivered CloudTrail log files, or for a packet made
 * by `report --template` the template files. The checks live in packet.c; this parses the command
 * line, recomputes a template packet's manifest digest from the templates given (cfn_evidence.c),
 * and prints the one-line result. */
#include "cfn_evidence.h"
#include "command.h"
#include "diag.h"
#include "fsutil.h"
#include "packet.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_TEMPLATES 64          /* as many as `report --template` takes */
#define VERIFY_MAX_CLOUDTRAIL_OPTIONS 64 /* as `report` takes */
#define VERIFY_MAX_CLOUDTRAIL_DIRS 1024

static const char usage[] =
    "usage: ddbaudit verify DIR [--evidence SNAPSHOT] [--cloudtrail-dir DIR[,DIR...]]...\n"
    "       ddbaudit verify DIR [--template FILE ...] [--parameters FILE]\n"
    "\n"
    "Verifies the audit packet in DIR (e.g. output/sample):\n"
    "  - every file packet.json lists has its SHA-256 and size, and no file is unlisted;\n"
    "  - manifest.json is the evidence manifest the packet was made from;\n"
    "  - report.json has the shape of docs/schema/report.schema.json;\n"
    "  - report.xml is valid against docs/schema/report.xsd, and report.confluence.xml is\n"
    "    well-formed;\n"
    "  - every evidence reference in report.json resolves to a file of the evidence snapshot\n"
    "    with the same SHA-256, and the snapshot's manifest is the one the packet names;\n"
    "  - with --cloudtrail-dir, every delivered CloudTrail log file the report cites or read\n"
    "    (activity.sources) is there with the same SHA-256.\n"
    "\n"
    "A packet made by 'ddbaudit report --template' has templates for evidence: every template\n"
    "the report cites must be on disk where the report names it (run verify from the\n"
    "directory the report was made in) with the SHA-256 the report records. Naming the\n"
    "templates and parameters, as given to 'report', also checks the report's evidence\n"
    "manifest, which covers every template and the parameters.\n"
    "\n"
    "  --evidence SNAPSHOT  the evidence snapshot directory (default: evidence/<snapshot> in\n"
    "                       the current directory, else beside the packet's output directory)\n"
    "  --template FILE      a template the packet was made from (repeatable, same order)\n"
    "  --parameters FILE    the --parameters file the packet was made with\n"
    "  --cloudtrail-dir DIR the delivered CloudTrail logs given to 'report' (repeatable or a\n"
    "                       comma list); the report names each log file relative to the\n"
    "                       parent of its directory, so the directory keeps its name. Without\n"
    "                       it, those files are not checked and the summary says how many.\n"
    "\n"
    "Each problem is printed as 'FILE: error: ...', naming the file that changed.\n"
    "Exit status: 0 verified, 2 bad command line, 3 the packet or its evidence changed,\n"
    "4 I/O error.\n";

/* Splits the --cloudtrail-dir values (each a comma list, as `report` takes them) into dirs,
 * which point into *lists (the caller frees each of the `count` copies). */
static int split_cloudtrail_dirs(const char **dirs, size_t *dir_count, char **lists,
                                 const char *const *values, size_t count, struct diagnostics *d)
{
    *dir_count = 0;
    for (size_t i = 0; i < count; i++) {
        if (!(lists[i] = strdup(values[i])))
            return diag_error(d, DDB_ERUNTIME, "out of memory");
        for (char *item = lists[i], *comma; item; item = comma) {
            if ((comma = strchr(item, ',')))
                *comma++ = '\0';
            if (!*item)
                continue;
            if (*dir_count == VERIFY_MAX_CLOUDTRAIL_DIRS)
                return diag_error(d, DDB_EUSAGE, "too many --cloudtrail-dir paths");
            if (!fs_exists(item))
                return diag_error_at(d, DDB_EINPUT, item, 0, 0, 0,
                                     "missing: no such file or directory (--cloudtrail-dir)");
            dirs[(*dir_count)++] = item;
        }
    }
    return 0;
}

static int verify(int argc, char **argv, struct diagnostics *d)
{
    static const struct option options[] = {
        {"evidence", required_argument, NULL, 'e'},
        {"cloudtrail-dir", required_argument, NULL, 'c'},
        {"template", required_argument, NULL, 'T'},
        {"parameters", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *templates[VERIFY_MAX_TEMPLATES];
    struct packet_verify_options verify_options = {.templates = templates};
    const char *parameters = NULL;
    const char *cloudtrail_values[VERIFY_MAX_CLOUDTRAIL_OPTIONS];
    size_t cloudtrail_value_count = 0;
    char manifest[DIGEST_SHA256_HEX_LEN + 1];
    int option;
    optind = 0;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":e:T:p:h", options, NULL)) != -1) {
        switch (option) {
        case 'e':
            verify_options.evidence_dir = optarg;
            break;
        case 'T':
            if (verify_options.template_count == VERIFY_MAX_TEMPLATES)
                return diag_error(d, DDB_EUSAGE, "too many --template files (at most %d)",
                                  VERIFY_MAX_TEMPLATES);
            templates[verify_options.template_count++] = optarg;
            break;
        case 'p':
            parameters = optarg;
            break;
        case 'c':
            if (cloudtrail_value_count == VERIFY_MAX_CLOUDTRAIL_OPTIONS)
                return diag_error(d, DDB_EUSAGE, "too many --cloudtrail-dir options (at most %d)",
                                  VERIFY_MAX_CLOUDTRAIL_OPTIONS);
            cloudtrail_values[cloudtrail_value_count++] = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case ':':
            return diag_error(d, DDB_EUSAGE, "option '%s' needs a value", argv[optind - 1]);
        default:
            return diag_error(d, DDB_EUSAGE, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return diag_error(d, DDB_EUSAGE,
                          "expected one packet directory (see 'ddbaudit verify --help')");
    if (parameters && !verify_options.template_count)
        return diag_error(d, DDB_EUSAGE, "--parameters goes with --template");
    if (verify_options.template_count && verify_options.evidence_dir)
        return diag_error(d, DDB_EUSAGE, "--template and --evidence cannot be combined");
    if (verify_options.template_count && cloudtrail_value_count)
        return diag_error(d, DDB_EUSAGE,
                          "--template and --cloudtrail-dir cannot be combined (a report made "
                          "from templates has no CloudTrail activity)");
    const char *dir = argv[optind];
    const char *cloudtrail_dirs[VERIFY_MAX_CLOUDTRAIL_DIRS];
    char *lists[VERIFY_MAX_CLOUDTRAIL_OPTIONS] = {NULL};
    struct packet_verify_result result = {0};
    int error = split_cloudtrail_dirs(cloudtrail_dirs, &verify_options.cloudtrail_dir_count, lists,
                                      cloudtrail_values, cloudtrail_value_count, d);
    if (error < 0)
        goto done;
    verify_options.cloudtrail_dirs = cloudtrail_dirs;
    for (size_t i = 0; i < verify_options.template_count; i++)
        if (!fs_exists(templates[i])) {
            error = diag_error_at(d, DDB_EINPUT, templates[i], 0, 0, 0,
                                  "missing: named with --template");
            goto done;
        }
    if (verify_options.template_count) {
        if ((error = cfn_evidence_manifest_sha256(
                 manifest, templates, verify_options.template_count, parameters, d)) < 0)
            goto done;
        verify_options.manifest_sha256 = manifest;
    }
    error = packet_verify_from(&result, dir, &verify_options, d);
    if (error == 0 && result.from_templates)
        printf("%s: verified %zu files and %zu evidence references to %zu template files%s\n", dir,
               result.files, result.evidence_refs, result.evidence_files,
               result.manifest_checked
                   ? ", and the evidence manifest of the templates and parameters given"
                   : " (the parameters are not checked: name the templates with --template and "
                     "--parameters to check the whole evidence manifest)");
    else if (error == 0 && verify_options.cloudtrail_dir_count)
        printf("%s: verified %zu files and %zu evidence references to %zu files of %s and %zu "
               "CloudTrail log files under the --cloudtrail-dir given\n",
               dir, result.files, result.evidence_refs, result.evidence_files,
               result.evidence_dir ? result.evidence_dir : "(no snapshot)",
               result.cloudtrail_files);
    else if (error == 0 && result.cloudtrail_unchecked)
        printf("%s: verified %zu files and %zu evidence references to %zu files of %s; %zu "
               "CloudTrail log files the report cites or read were not checked (give their "
               "directories with --cloudtrail-dir, as given to 'report', to check them)\n",
               dir, result.files, result.evidence_refs, result.evidence_files,
               result.evidence_dir ? result.evidence_dir : "(no snapshot)",
               result.cloudtrail_unchecked);
    else if (error == 0)
        printf("%s: verified %zu files and %zu evidence references to %zu files of %s\n", dir,
               result.files, result.evidence_refs, result.evidence_files,
               result.evidence_dir ? result.evidence_dir : "(no snapshot)");
done:
    packet_verify_result_free(&result);
    for (size_t i = 0; i < cloudtrail_value_count; i++)
        free(lists[i]);
    return error;
}

const struct command command_verify = {
    .name = "verify",
    .summary = "check an audit packet's hashes, schemas and evidence references",
    .usage = usage,
    .exec = verify,
};
