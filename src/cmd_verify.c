/* `ddbaudit verify DIR`: checks that an audit packet is what ddbaudit wrote and still matches
 * the evidence it cites. The checks live in packet.c; this parses the command line and prints
 * the one-line result. */
#include "command.h"
#include "diag.h"
#include "packet.h"

#include <getopt.h>
#include <stdio.h>

static const char usage[] =
    "usage: ddbaudit verify DIR [--evidence SNAPSHOT]\n"
    "\n"
    "Verifies the audit packet in DIR (e.g. output/sample):\n"
    "  - every file packet.json lists has its SHA-256 and size, and no file is unlisted;\n"
    "  - manifest.json is the evidence manifest the packet was made from;\n"
    "  - report.json has the shape of docs/schema/report.schema.json;\n"
    "  - report.xml is valid against docs/schema/report.xsd, and report.confluence.xml is\n"
    "    well-formed;\n"
    "  - every evidence reference in report.json resolves to a file of the evidence snapshot\n"
    "    with the same SHA-256, and the snapshot's manifest is the one the packet names.\n"
    "\n"
    "  --evidence SNAPSHOT  the evidence snapshot directory (default: evidence/<snapshot> in\n"
    "                       the current directory, else beside the packet's output directory)\n"
    "\n"
    "Each problem is printed as 'FILE: error: ...', naming the file that changed.\n"
    "Exit status: 0 verified, 2 bad command line, 3 the packet or its evidence changed,\n"
    "4 I/O error.\n";

static int verify(int argc, char **argv, struct diagnostics *d)
{
    static const struct option options[] = {
        {"evidence", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *evidence = NULL;
    int option;
    optind = 0;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":e:h", options, NULL)) != -1) {
        switch (option) {
        case 'e':
            evidence = optarg;
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
    const char *dir = argv[optind];
    struct packet_verify_result result;
    int error = packet_verify(&result, dir, evidence, d);
    if (error == 0)
        printf("%s: verified %zu files and %zu evidence references to %zu files of %s\n", dir,
               result.files, result.evidence_refs, result.evidence_files,
               result.evidence_dir ? result.evidence_dir : "(no snapshot)");
    packet_verify_result_free(&result);
    return error;
}

const struct command command_verify = {
    .name = "verify",
    .summary = "check an audit packet's hashes, schemas and evidence references",
    .usage = usage,
    .exec = verify,
};
