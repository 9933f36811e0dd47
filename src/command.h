/* The command table (after tmux's cmd_entry): each command is one descriptor in its own
 * cmd_<name>.c, listed once in cmd.c. Usage text, --help and dispatch all come from it. */
#ifndef DDBAUDIT_COMMAND_H
#define DDBAUDIT_COMMAND_H

struct diagnostics;

struct command {
    const char *name;    /* the words that select it: "run", "controls lint", "template render" */
    const char *summary; /* one line for `ddbaudit --help` */
    const char
        *usage; /* the full text for `ddbaudit NAME --help`, starting "usage: ddbaudit ..." */
    /* argv[0] is the last word of the name; options follow (parse with getopt_long, reset
     * optind = 0 first). Returns DDB_OK or a negative DDB_E* code with diagnostics recorded;
     * never prints errors or exits itself. Normal output goes to stdout. */
    int (*exec)(int argc, char **argv, struct diagnostics *d);
};

/* NULL-terminated, in the order --help lists them. */
extern const struct command *const command_table[];

const struct command *command_find(int argc, char **argv, int *words_used);

#endif
