/* The command table: every command ddbaudit has, in --help order, and the lookup of one from
 * the words on the command line. Adding a command is a cmd_<name>.c file and one line here. */
#include "command.h"

#include <string.h>

extern const struct command command_run;
extern const struct command command_collect;
extern const struct command command_report;
extern const struct command command_controls_list;
extern const struct command command_controls_lint;
extern const struct command command_controls_doc;
extern const struct command command_evidence_seal;
extern const struct command command_cloudtrail_scan;
extern const struct command command_cloudtrail_fetch;
extern const struct command command_template_render;
extern const struct command command_verify;

const struct command *const command_table[] = {
    &command_run,
    &command_collect,
    &command_report,
    &command_verify,
    &command_controls_list,
    &command_controls_lint,
    &command_controls_doc,
    &command_evidence_seal,
    &command_cloudtrail_scan,
    &command_cloudtrail_fetch,
    &command_template_render,
    NULL,
};

/* Matches the longest command name made of the leading words ("controls lint" before
 * "controls"). */
const struct command *command_find(int argc, char **argv, int *words_used)
{
    const struct command *best = NULL;
    int best_words = 0;
    for (const struct command *const *c = command_table; *c; c++) {
        const char *name = (*c)->name;
        int words = 0, i = 0;
        const char *p = name;
        while (*p && i < argc) {
            size_t n = strcspn(p, " ");
            if (strlen(argv[i]) != n || strncmp(argv[i], p, n))
                break;
            words++;
            i++;
            p += n;
            if (*p == ' ')
                p++;
        }
        if (!*p && words > best_words) {
            best = *c;
            best_words = words;
        }
    }
    *words_used = best_words;
    return best;
}
