/* Diagnostics: errors recorded where they happen, printed once, with file:line:col and a caret.
 * Every fallible function in ddbaudit returns int (0 ok, negative DDB_E*) and records its message
 * here; nothing below main() prints an error or exits. */
#ifndef DDBAUDIT_DIAG_H
#define DDBAUDIT_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Error classes double as the negated process exit codes (docs/usage.md). */
enum {
    DDB_OK = 0,
    DDB_EFINDINGS = -1, /* findings at or above --fail-on: exit 1 */
    DDB_EUSAGE = -2,    /* bad command line: exit 2 */
    DDB_EINPUT = -3,    /* invalid catalog, evidence, exceptions, attestations, template: exit 3 */
    DDB_ERUNTIME = -4,  /* I/O, network, out of memory: exit 4 */
};

enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag_entry {
    enum diag_severity severity;
    char *file;   /* may be NULL */
    int line;     /* 1-based; 0 = no position */
    int col;      /* 1-based; 0 = no column */
    int span;     /* characters to underline, >= 1 when col > 0 */
    char *source; /* the offending source line, copied; NULL = read it from file when printing */
    char *message;
};

struct diagnostics {
    struct diag_entry *entries;
    size_t count;
    size_t capacity;
    size_t errors;
};

void diag_init(struct diagnostics *d);
void diag_free(struct diagnostics *d);

/* Records an entry and returns `code` so callers can write `return diag_error(d, DDB_EINPUT, ...)`.
 * `file` may be NULL; line/col 0 mean "no position". Positions are 1-based. */
int diag_error_at(struct diagnostics *d, int code, const char *file, int line, int col, int span,
                  const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int diag_error(struct diagnostics *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warning_at(struct diagnostics *d, const char *file, int line, int col, int span,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int diag_vadd(struct diagnostics *d, enum diag_severity severity, const char *file, int line,
              int col, int span, const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));

/* Attaches the source line to the most recent entry (for in-memory inputs such as templates). */
void diag_attach_source(struct diagnostics *d, const char *text, size_t len);

/* Line/column of byte `offset` in text[0..len): 1-based, columns count UTF-8 characters. */
void diag_position(const char *text, size_t len, size_t offset, int *line, int *col);

/* Prints every entry as `file:line:col: error: message`, then the source line and a caret. */
void diag_print(const struct diagnostics *d, FILE *out);

/* The message of the first error, or "" (for tests and one-line summaries). */
const char *diag_first_message(const struct diagnostics *d);

#endif
