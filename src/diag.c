/* Diagnostics collection and printing (jq/compiler style: file:line:col, source line, caret).
 * Must not decide exit codes or terminate: callers propagate the returned code to main(). */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

void diag_init(struct diagnostics *d)
{
    memset(d, 0, sizeof(*d));
}

void diag_free(struct diagnostics *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->entries[i].file);
        free(d->entries[i].source);
        free(d->entries[i].message);
    }
    free(d->entries);
    memset(d, 0, sizeof(*d));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int diag_vadd(struct diagnostics *d, enum diag_severity severity, const char *file, int line,
              int col, int span, const char *fmt, va_list ap)
{
    if (d->count == d->capacity) {
        size_t capacity = d->capacity ? d->capacity * 2 : 8;
        struct diag_entry *grown = realloc(d->entries, capacity * sizeof(*grown));
        if (!grown)
            return DDB_ERUNTIME;
        d->entries = grown;
        d->capacity = capacity;
    }
    char message[2048];
    vsnprintf(message, sizeof(message), fmt, ap);
    struct diag_entry *e = &d->entries[d->count++];
    e->severity = severity;
    e->file = dup_or_null(file);
    e->line = line > 0 ? line : 0;
    e->col = col > 0 ? col : 0;
    e->span = span > 0 ? span : 1;
    e->source = NULL;
    e->message = strdup(message);
    if (severity == DIAG_ERROR)
        d->errors++;
    return 0;
}

int diag_error_at(struct diagnostics *d, int code, const char *file, int line, int col, int span,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_ERROR, file, line, col, span, fmt, ap);
    va_end(ap);
    return code;
}

int diag_error(struct diagnostics *d, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_ERROR, NULL, 0, 0, 0, fmt, ap);
    va_end(ap);
    return code;
}

void diag_warning_at(struct diagnostics *d, const char *file, int line, int col, int span,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_WARNING, file, line, col, span, fmt, ap);
    va_end(ap);
}

void diag_attach_source(struct diagnostics *d, const char *text, size_t len)
{
    if (!d->count || !text)
        return;
    struct diag_entry *e = &d->entries[d->count - 1];
    if (e->line <= 0)
        return;
    const char *p = text, *end = text + len;
    for (int line = 1; line < e->line && p < end; p++)
        if (*p == '\n')
            line++;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((eol ? eol : end) - p);
    free(e->source);
    e->source = strndup(p, n);
}

void diag_position(const char *text, size_t len, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Reads line `wanted` of `path` into a fresh string; NULL if unreadable. Lines longer than the
 * cap are cut: the excerpt is a pointer for a person, not a copy of the input. */
static char *read_source_line(const char *path, int wanted)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0, len = 0;
    int current = 1, ch;
    while ((ch = fgetc(f)) != EOF) {
        if (current == wanted) {
            if (ch == '\n')
                break;
            if (len + 2 > cap) {
                if (cap >= 4096)
                    break;
                cap = cap ? cap * 2 : 128;
                char *grown = realloc(line, cap);
                if (!grown)
                    break;
                line = grown;
            }
            line[len++] = (char)ch;
        } else if (ch == '\n' && ++current > wanted) {
            break;
        }
    }
    fclose(f);
    if (line)
        line[len] = '\0';
    return line;
}

static void print_excerpt(FILE *out, const char *source, int col, int span)
{
    fputs("   ", out);
    for (const unsigned char *p = (const unsigned char *)source; *p; p++)
        fputc(*p == '\t' ? ' ' : (*p < 0x20 || *p == 0x7f ? '?' : *p), out);
    fputs("\n   ", out);
    /* Column counts characters; the caret lines up for ASCII and single-width UTF-8. */
    for (int i = 1; i < col; i++)
        fputc(' ', out);
    fputc('^', out);
    for (int i = 1; i < span && i < 200; i++)
        fputc('~', out);
    fputc('\n', out);
}

/* Writes `s` with control characters shown as \xNN: a file name or a value quoted from hostile
 * input must not move the cursor, retitle the terminal or hide the rest of the line. C1 controls
 * (U+0080..U+009F, which some terminals obey) are escaped too; other UTF-8 passes through. */
static void put_sanitized(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            fprintf(out, "\\u%04x", *++p);
        else
            fputc(*p, out);
    }
}

void diag_print(const struct diagnostics *d, FILE *out)
{
    static const char *const names[] = {"error", "warning", "note"};
    for (size_t i = 0; i < d->count; i++) {
        const struct diag_entry *e = &d->entries[i];
        if (e->file) {
            put_sanitized(out, e->file);
            if (e->line && e->col)
                fprintf(out, ":%d:%d", e->line, e->col);
            else if (e->line)
                fprintf(out, ":%d", e->line);
            fputs(": ", out);
        }
        fprintf(out, "%s: ", names[e->severity]);
        put_sanitized(out, e->message);
        fputc('\n', out);
        if (e->line && e->col) {
            char *source = e->source ? NULL : (e->file ? read_source_line(e->file, e->line) : NULL);
            const char *text = e->source ? e->source : source;
            if (text)
                print_excerpt(out, text, e->col, e->span);
            free(source);
        }
    }
}

const char *diag_first_message(const struct diagnostics *d)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->entries[i].severity == DIAG_ERROR)
            return d->entries[i].message;
    return "";
}
