/* Entry point: finds the command in the table, runs it, prints diagnostics once, and maps the
 * result to the documented exit codes (docs/usage.md). The only place that exits. */
#include "command.h"
#include "diag.h"

#include <stdio.h>
#include <string.h>

static void print_help(FILE *out)
{
    fputs("usage: ddbaudit COMMAND [OPTIONS]\n\n"
          "Turns an AWS account's configuration into audit evidence of how DynamoDB is secured.\n\n"
          "Commands:\n",
          out);
    for (const struct command *const *c = command_table; *c; c++)
        fprintf(out, "  %-20s %s\n", (*c)->name, (*c)->summary);
    fputs("\nRun `ddbaudit COMMAND --help` for a command's options.\n"
          "Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage, 3 invalid input, "
          "4 runtime failure.\n",
          out);
}

static int exit_code(int rc)
{
    switch (rc) {
    case DDB_OK:
        return 0;
    case DDB_EFINDINGS:
        return 1;
    case DDB_EUSAGE:
        return 2;
    case DDB_EINPUT:
        return 3;
    default:
        return 4;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_help(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ddbaudit %s\n", DDBAUDIT_VERSION);
        return 0;
    }
    int words = 0;
    const struct command *command = command_find(argc - 1, argv + 1, &words);
    if (!command) {
        fprintf(stderr, "ddbaudit: unknown command '%s'\n\n", argv[1]);
        print_help(stderr);
        return 2;
    }
    int sub_argc = argc - words;
    char **sub_argv = argv + words;
    for (int i = 1; i < sub_argc; i++) {
        if (!strcmp(sub_argv[i], "--"))
            break;
        if (!strcmp(sub_argv[i], "--help") || !strcmp(sub_argv[i], "-h")) {
            fputs(command->usage, stdout);
            return 0;
        }
    }
    struct diagnostics d;
    diag_init(&d);
    int rc = command->exec(sub_argc, sub_argv, &d);
    diag_print(&d, stderr);
    if (rc == DDB_EUSAGE)
        fprintf(stderr, "\n%s", command->usage);
    diag_free(&d);
    fflush(stdout);
    if (ferror(stdout) && rc == DDB_OK)
        return 4;
    return exit_code(rc);
}
