/* `ddbaudit evidence seal`: writes the manifest for a directory of hand-gathered AWS CLI outputs.
 */
#include "command.h"
#include "diag.h"
#include "evidence.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int exec_seal(int argc, char **argv, struct diagnostics *d)
{
    static const struct option options[] = {
        {"account", required_argument, NULL, 'a'},      {"regions", required_argument, NULL, 'r'},
        {"period", required_argument, NULL, 'p'},       {"partition", required_argument, NULL, 'P'},
        {"collected-at", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
    };
    struct evidence_seal_options o = {0};
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "a:r:p:P:c:", options, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.account = optarg;
            break;
        case 'r':
            o.regions = optarg;
            break;
        case 'p':
            o.period = optarg;
            break;
        case 'P':
            o.partition = optarg;
            break;
        case 'c':
            o.collected_at = optarg;
            break;
        default:
            return diag_error(d, DDB_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return diag_error(d, DDB_EUSAGE, "evidence seal takes one directory");
    if (!o.account)
        return diag_error(d, DDB_EUSAGE, "--account is required");
    int error = evidence_seal(argv[optind], &o, d);
    if (!error)
        printf("sealed %s\n", argv[optind]);
    return error;
}

const struct command command_evidence_seal = {
    .name = "evidence seal",
    .summary = "write manifest.json for hand-gathered AWS CLI outputs",
    .usage = "usage: ddbaudit evidence seal DIR --account ID [--regions LIST] [--period A..B]\n"
             "                             [--partition aws] [--collected-at RFC3339]\n\n"
             "DIR holds <account>/<region>/<service>/<Operation>[/<key>].json files, each what\n"
             "`aws <service> <operation> --output json` printed. A failed call is an empty .json\n"
             "plus a .err file with the CLI's error output (`aws ... > X.json 2> X.err`).\n"
             "--collected-at defaults to the newest file's modification time.\n",
    .exec = exec_seal,
};
