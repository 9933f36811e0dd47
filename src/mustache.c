/* The Mustache engine: compiles a template to a flat array of nodes (a preorder tree in which
 * each section records where its subtree ends) and renders it against a jansson context stack.
 * It must not know about output formats (the caller passes the escaper) and does no I/O of its
 * own: partials come from the caller's loader (the directory loader at the end is a helper). */
#include "mustache.h"
#include "buf.h"
#include "diag.h"
#include "escape.h"
#include "fsutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Indentation handed down through nested standalone partials can't grow past this; it is far
 * more than any real template needs and keeps a hostile one from using memory per line. */
#define MAX_INDENT ((size_t)1 << 20)
#define DEFAULT_PARTIAL_MAX_SIZE ((size_t)16 << 20)
/* Searching for a delimiter costs its length at every candidate byte; a megabyte-long one in a
 * large template would take hours. */
#define MAX_DELIMITER 32

enum node_type {
    NODE_TEXT,
    NODE_VARIABLE,     /* {{x}}: escaped */
    NODE_RAW_VARIABLE, /* {{{x}}} and {{&x}} */
    NODE_SECTION,
    NODE_INVERTED,
    NODE_PARTIAL,
    NODE_PARENT, /* {{<x}}: its direct {{$block}} children are the overrides */
    NODE_BLOCK,
};

/* Offsets point into the template's own copy of the source; 32 bits halve the memory of a
 * template with many tags, and mustache_compile refuses templates of 4 GiB or more. */
struct node {
    unsigned char type;
    unsigned char line_start;  /* begins an output line: the current indentation goes first */
    unsigned char dynamic;     /* partial/parent: the name is looked up in the context ({{>*x}}) */
    unsigned char standalone;  /* block: its opening tag had its line to itself */
    uint32_t off, len;         /* text: the bytes; otherwise the name */
    uint32_t end;              /* index of the first node after this node's subtree */
    uint32_t tag_off, tag_len; /* the tag in the source, for diagnostics */
    /* partial/parent: indentation of its standalone line. block: indentation added where the
     * block is expanded, relative to the enclosing block's content. */
    uint32_t indent_off, indent_len;
    /* block: indentation the content's lines are written with, removed when it is expanded */
    uint32_t strip_off, strip_len;
};

struct mustache_template {
    char *name;
    char *text;
    size_t len;
    struct node *nodes;
    size_t count;
};

/* ---- diagnostics ---------------------------------------------------------------------- */

/* Room for shown(): 60 bytes of name, each possibly 3 bytes of U+FFFD, and "...". */
#define SHOWN_SIZE 200

/* Up to 60 bytes of a name, for messages: cut at a character boundary and marked with "..."
 * when longer, with control characters and invalid UTF-8 cleaned up like any output text. */
static const char *shown(char out[SHOWN_SIZE], const char *s, size_t len)
{
    size_t n = len > 60 ? 60 : len;
    if (n < len)
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    struct buf clean;
    buf_init(&clean, SHOWN_SIZE - 4);
    if (escape_text(&clean, s, n) < 0)
        buf_reset(&clean);
    size_t w = clean.len;
    memcpy(out, buf_cstr(&clean), w);
    buf_free(&clean);
    if (n < len) {
        memcpy(out + w, "...", 3);
        w += 3;
    }
    out[w] = '\0';
    return out;
}

/* Characters to underline for `bytes` bytes at offset, stopping at the end of the line. */
static int span_chars(const char *text, size_t len, size_t offset, size_t bytes)
{
    int span = 0;
    for (size_t i = offset; i < len && i < offset + bytes && text[i] != '\n' && span < 200; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            span++;
    return span > 0 ? span : 1;
}

static void __attribute__((format(printf, 8, 0)))
vreport(struct diagnostics *d, enum diag_severity severity, const char *name, const char *text,
        size_t len, size_t offset, size_t bytes, const char *fmt, va_list ap)
{
    int line, col;
    diag_position(text, len, offset, &line, &col);
    diag_vadd(d, severity, name, line, col, span_chars(text, len, offset, bytes), fmt, ap);
    diag_attach_source(d, text, len);
}

static void __attribute__((format(printf, 7, 8)))
note_at(struct diagnostics *d, const char *name, const char *text, size_t len, size_t offset,
        size_t bytes, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(d, DIAG_NOTE, name, text, len, offset, bytes, fmt, ap);
    va_end(ap);
}

/* ---- compiling: tokens ------------------------------------------------------------------ */

enum token_kind {
    TOKEN_TEXT,
    TOKEN_VARIABLE,
    TOKEN_RAW,
    TOKEN_SECTION,
    TOKEN_INVERTED,
    TOKEN_CLOSE,
    TOKEN_COMMENT,
    TOKEN_PARTIAL,
    TOKEN_PARENT,
    TOKEN_BLOCK,
    TOKEN_DELIMITERS,
};

/* A text token is everything between two tags, newlines included. */
struct token {
    unsigned char kind;
    unsigned char dynamic;
    unsigned char standalone;    /* tag: alone on its line */
    unsigned char line_start;    /* first token of a line that stays */
    uint32_t start, end;         /* the token's bytes (text: trimmed by mark_lines) */
    uint32_t key_off, key_len;   /* tag content without sigil and padding: what {{/x}} repeats */
    uint32_t name_off, name_len; /* the name to look up: the key without a dynamic '*' */
    uint32_t match;              /* section open <-> close */
    uint32_t indent_off, indent_len;
    uint32_t strip_off, strip_len;
};

struct parser {
    const char *name;
    const char *text;
    size_t len;
    struct token *tokens;
    size_t count, cap;
    struct diagnostics *d;
};

static int parser_error(struct parser *p, size_t offset, size_t bytes, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int parser_error(struct parser *p, size_t offset, size_t bytes, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(p->d, DIAG_ERROR, p->name, p->text, p->len, offset, bytes, fmt, ap);
    va_end(ap);
    return DDB_EINPUT;
}

static struct token *push_token(struct parser *p, enum token_kind kind, size_t start, size_t end)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct token *grown =
            cap < SIZE_MAX / sizeof(*grown) ? realloc(p->tokens, cap * sizeof(*grown)) : NULL;
        if (!grown)
            return NULL;
        p->tokens = grown;
        p->cap = cap;
    }
    struct token *t = &p->tokens[p->count++];
    memset(t, 0, sizeof(*t));
    t->kind = (unsigned char)kind;
    t->start = start;
    t->end = end;
    return t;
}

static int add_text(struct parser *p, size_t start, size_t end)
{
    if (start < end && !push_token(p, TOKEN_TEXT, start, end))
        return diag_error(p->d, DDB_ERUNTIME, "out of memory compiling %s", p->name);
    return 0;
}

/* memmem without _GNU_SOURCE: the first occurrence of needle in hay[0..len), or NULL. */
static const char *find_bytes(const char *hay, size_t len, const char *needle, size_t needle_len)
{
    while (len >= needle_len) {
        const char *c = memchr(hay, needle[0], len - needle_len + 1);
        if (!c)
            return NULL;
        if (memcmp(c, needle, needle_len) == 0)
            return c;
        len -= (size_t)(c - hay) + 1;
        hay = c + 1;
    }
    return NULL;
}

static int is_tag_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char *text, size_t *off, size_t *len)
{
    while (*len && is_tag_space(text[*off])) {
        (*off)++;
        (*len)--;
    }
    while (*len && is_tag_space(text[*off + *len - 1]))
        (*len)--;
}

/* Finds the end of a tag whose content starts at `from`: the close delimiter, preceded by
 * `before` when that is not '\0' ('}' for {{{x}}}, '=' for {{=a b=}}). Returns the offset of
 * the delimiter (after `before`) or SIZE_MAX. */
static size_t find_close(const struct parser *p, size_t from, const char *close, size_t close_len,
                         char before)
{
    size_t at = from;
    while (at < p->len) {
        const char *found = find_bytes(p->text + at, p->len - at, close, close_len);
        if (!found)
            return SIZE_MAX;
        size_t q = (size_t)(found - p->text);
        if (!before || (q > from && p->text[q - 1] == before))
            return q;
        at = q + 1;
    }
    return SIZE_MAX;
}

/* {{=OPEN CLOSE=}}: two non-empty delimiters, separated by whitespace, without whitespace or
 * '=' inside. */
static int parse_delimiters(struct parser *p, size_t tag, size_t off, size_t len, const char **open,
                            size_t *open_len, const char **close, size_t *close_len)
{
    trim(p->text, &off, &len);
    size_t first = 0;
    while (first < len && !is_tag_space(p->text[off + first]))
        first++;
    size_t second = first;
    while (second < len && is_tag_space(p->text[off + second]))
        second++;
    int ok = first > 0 && second > first && second < len;
    for (size_t i = 0; ok && i < len; i++) {
        char c = p->text[off + i];
        if (c == '=' || (i >= second && is_tag_space(c)))
            ok = 0;
    }
    if (ok && (first > MAX_DELIMITER || len - second > MAX_DELIMITER))
        return parser_error(p, tag, off + len + 1 - tag,
                            "bad delimiter tag: delimiters longer than %d bytes", MAX_DELIMITER);
    if (!ok)
        return parser_error(p, tag, off + len + 1 - tag,
                            "bad delimiter tag: expected {{=OPEN CLOSE=}} with two delimiters "
                            "separated by a space, neither containing whitespace or '='");
    *open = p->text + off;
    *open_len = first;
    *close = p->text + off + second;
    *close_len = len - second;
    return 0;
}

static int tokenize(struct parser *p)
{
    const char *open = "{{", *close = "}}";
    size_t open_len = 2, close_len = 2, pos = 0;
    int error;
    while (pos < p->len) {
        const char *found = find_bytes(p->text + pos, p->len - pos, open, open_len);
        size_t tag = found ? (size_t)(found - p->text) : p->len;
        if ((error = add_text(p, pos, tag)) < 0)
            return error;
        if (!found)
            break;
        size_t inner = tag + open_len;
        char sigil = inner < p->len ? p->text[inner] : '\0';
        enum token_kind kind;
        switch (sigil) {
        case '#':
            kind = TOKEN_SECTION;
            break;
        case '^':
            kind = TOKEN_INVERTED;
            break;
        case '/':
            kind = TOKEN_CLOSE;
            break;
        case '!':
            kind = TOKEN_COMMENT;
            break;
        case '>':
            kind = TOKEN_PARTIAL;
            break;
        case '<':
            kind = TOKEN_PARENT;
            break;
        case '$':
            kind = TOKEN_BLOCK;
            break;
        case '=':
            kind = TOKEN_DELIMITERS;
            break;
        case '&':
        case '{':
            kind = TOKEN_RAW;
            break;
        default:
            kind = TOKEN_VARIABLE;
        }
        size_t content = kind == TOKEN_VARIABLE ? inner : inner + 1;
        char before = sigil == '{' ? '}' : sigil == '=' ? '=' : '\0';
        size_t at = content <= p->len ? find_close(p, content, close, close_len, before) : SIZE_MAX;
        if (at == SIZE_MAX) {
            char shown_close[SHOWN_SIZE];
            return parser_error(p, tag, open_len, "unclosed tag: no '%s%s' before the end of %s",
                                before == '}'   ? "}"
                                : before == '=' ? "="
                                                : "",
                                shown(shown_close, close, close_len),
                                p->name ? p->name : "the template");
        }
        size_t content_end = before ? at - 1 : at, end = at + close_len;
        if (kind == TOKEN_DELIMITERS) {
            if ((error = parse_delimiters(p, tag, content, content_end - content, &open, &open_len,
                                          &close, &close_len)) < 0)
                return error;
        }
        struct token *t = push_token(p, kind, tag, end);
        if (!t)
            return diag_error(p->d, DDB_ERUNTIME, "out of memory compiling %s", p->name);
        if (kind != TOKEN_COMMENT && kind != TOKEN_DELIMITERS) {
            size_t key_off = content, key_len = content_end - content;
            trim(p->text, &key_off, &key_len);
            size_t name_off = key_off, name_len = key_len;
            if ((kind == TOKEN_PARTIAL || kind == TOKEN_PARENT) && name_len &&
                p->text[name_off] == '*') {
                t->dynamic = 1;
                name_off++;
                name_len--;
                trim(p->text, &name_off, &name_len);
            }
            t->key_off = (uint32_t)key_off;
            t->key_len = (uint32_t)key_len;
            t->name_off = (uint32_t)name_off;
            t->name_len = (uint32_t)name_len;
            if (name_len == 0)
                return parser_error(p, tag, end - tag, "empty tag name");
        }
        pos = end;
    }
    return 0;
}

/* ---- compiling: structure ----------------------------------------------------------------- */

static int is_open_kind(unsigned char kind)
{
    return kind == TOKEN_SECTION || kind == TOKEN_INVERTED || kind == TOKEN_PARENT ||
           kind == TOKEN_BLOCK;
}

static char sigil_of(unsigned char kind)
{
    return kind == TOKEN_SECTION    ? '#'
           : kind == TOKEN_INVERTED ? '^'
           : kind == TOKEN_PARENT   ? '<'
                                    : '$';
}

/* Pairs every {{/x}} with its opening tag, so that later passes can trust the nesting. */
static int match_sections(struct parser *p)
{
    size_t *stack = malloc((p->count ? p->count : 1) * sizeof(*stack)), depth = 0;
    int error = 0;
    char a[SHOWN_SIZE], b[SHOWN_SIZE];
    if (!stack)
        return diag_error(p->d, DDB_ERUNTIME, "out of memory compiling %s", p->name);
    for (size_t i = 0; i < p->count; i++) {
        struct token *t = &p->tokens[i];
        if (is_open_kind(t->kind)) {
            stack[depth++] = i;
        } else if (t->kind == TOKEN_CLOSE) {
            if (depth == 0) {
                error = parser_error(p, t->start, t->end - t->start,
                                     "closing tag '/%s' has no open section",
                                     shown(a, p->text + t->key_off, t->key_len));
                goto done;
            }
            struct token *o = &p->tokens[stack[depth - 1]];
            if (o->key_len != t->key_len ||
                memcmp(p->text + o->key_off, p->text + t->key_off, t->key_len) != 0) {
                int line, col;
                diag_position(p->text, p->len, o->start, &line, &col);
                error = parser_error(
                    p, t->start, t->end - t->start,
                    "mismatched closing tag '/%s': the open section is '%c%s' (line %d, "
                    "column %d)",
                    shown(a, p->text + t->key_off, t->key_len), sigil_of(o->kind),
                    shown(b, p->text + o->key_off, o->key_len), line, col);
                note_at(p->d, p->name, p->text, p->len, o->start, o->end - o->start,
                        "section '%s' opened here", b);
                goto done;
            }
            o->match = i;
            t->match = stack[--depth];
        }
    }
    if (depth > 0) {
        struct token *o = &p->tokens[stack[depth - 1]];
        error = parser_error(p, o->start, o->end - o->start,
                             "unclosed section '%c%s': no '/%s' before the end of %s",
                             sigil_of(o->kind), shown(a, p->text + o->key_off, o->key_len), a,
                             p->name ? p->name : "the template");
    }
done:
    free(stack);
    return error;
}

static int is_parent_tag(const struct parser *p, const struct token *t)
{
    return t->kind == TOKEN_PARENT ||
           (t->kind == TOKEN_CLOSE && p->tokens[t->match].kind == TOKEN_PARENT);
}

/* The offset of the last '\n' in text[start..end), or SIZE_MAX. */
static size_t last_newline(const char *text, size_t start, size_t end)
{
    for (size_t k = end; k > start; k--)
        if (text[k - 1] == '\n')
            return k - 1;
    return SIZE_MAX;
}

/* Standalone lines (the spec's "standalone tags"): a line holding only whitespace and tags that
 * produce no output disappears entirely, leading whitespace and newline included, by trimming
 * the text tokens around its tags. Also records which token starts each line that stays
 * (indentation goes there) and the indentation each partial, parent and block needs. Only
 * lines with tags need a look: the lines inside one text token are plain text. */
static void mark_lines(struct parser *p)
{
    const char *text = p->text;
    size_t i = 0, from = p->tokens[0].start; /* the line starts at byte `from` of token i */
    while (i < p->count) {
        if (p->tokens[i].kind == TOKEN_TEXT && from >= p->tokens[i].end) {
            if (++i < p->count)
                from = p->tokens[i].start;
            continue;
        }
        /* The line ends after the first newline at or after `from`, in token j. */
        size_t j = i, line_end = p->len;
        int newline = 0;
        for (;; j++) {
            const struct token *t = &p->tokens[j];
            if (t->kind == TOKEN_TEXT) {
                size_t s = j == i ? from : t->start;
                const char *nl = memchr(text + s, '\n', t->end - s);
                if (nl) {
                    line_end = (size_t)(nl - text) + 1;
                    newline = 1;
                    break;
                }
            }
            if (j + 1 == p->count)
                break;
        }
        int standalone = 1;
        size_t tags = 0, others = 0;
        for (size_t k = i; k <= j && standalone; k++) {
            const struct token *t = &p->tokens[k];
            if (t->kind == TOKEN_TEXT) {
                size_t s = k == i ? from : t->start, e = k == j ? line_end : t->end;
                if (k == j && newline) {
                    e--;
                    if (e > s && text[e - 1] == '\r')
                        e--;
                }
                for (size_t c = s; c < e && standalone; c++)
                    standalone = is_blank(text[c]);
            } else if (t->kind == TOKEN_VARIABLE || t->kind == TOKEN_RAW) {
                standalone = 0;
            } else {
                tags++;
                if (!is_parent_tag(p, t))
                    others++;
            }
        }
        standalone = standalone && tags > 0 && others <= 1;

        /* Leading whitespace of this line: a first text token that is all blanks. */
        size_t lead_len = 0, after_lead = i;
        if (i < j && p->tokens[i].kind == TOKEN_TEXT) {
            size_t c = from;
            while (c < p->tokens[i].end && is_blank(text[c]))
                c++;
            if (c == p->tokens[i].end) {
                lead_len = c - from;
                after_lead = i + 1;
            }
        }
        if (standalone) {
            /* A standalone block's content is written at the indentation of the line after
             * its tag; that is also the indentation it is expanded at (the spec's
             * "Block reindentation" and "Intrinsic indentation"). */
            size_t next = newline ? line_end : p->len, next_len = 0;
            while (next + next_len < p->len && is_blank(text[next + next_len]))
                next_len++;
            for (size_t k = i; k <= j; k++) {
                struct token *t = &p->tokens[k];
                if (t->kind == TOKEN_TEXT) {
                    if (k == i)
                        t->end = from;
                    else
                        t->start = k == j && newline ? line_end : t->end;
                    continue;
                }
                t->standalone = 1;
                if (t->kind == TOKEN_PARTIAL || t->kind == TOKEN_PARENT) {
                    t->indent_off = from;
                    t->indent_len = lead_len;
                } else if (t->kind == TOKEN_BLOCK) {
                    t->indent_off = t->strip_off = next;
                    t->indent_len = t->strip_len = next_len;
                }
            }
        } else {
            if (from == p->tokens[i].start)
                p->tokens[i].line_start = 1;
            if (after_lead <= j && p->tokens[after_lead].kind == TOKEN_BLOCK) {
                /* An inline block first on its line is expanded at the whitespace before it. */
                p->tokens[after_lead].indent_off = from;
                p->tokens[after_lead].indent_len = lead_len;
            }
        }
        if (!newline)
            break;
        /* The lines up to the last newline of token j are plain text. */
        i = j;
        from = last_newline(text, line_end - 1, p->tokens[j].end) + 1;
    }
}

static enum node_type node_type_of(unsigned char kind)
{
    switch (kind) {
    case TOKEN_TEXT:
        return NODE_TEXT;
    case TOKEN_VARIABLE:
        return NODE_VARIABLE;
    case TOKEN_RAW:
        return NODE_RAW_VARIABLE;
    case TOKEN_SECTION:
        return NODE_SECTION;
    case TOKEN_INVERTED:
        return NODE_INVERTED;
    case TOKEN_PARTIAL:
        return NODE_PARTIAL;
    case TOKEN_PARENT:
        return NODE_PARENT;
    default:
        return NODE_BLOCK;
    }
}

/* Turns the token list into nodes. The nesting is already known to be balanced. */
static int build_nodes(struct parser *p, struct mustache_template *t)
{
    size_t n = p->count ? p->count : 1;
    size_t *stack = malloc(n * sizeof(*stack)); /* open containers */
    size_t *block = malloc(n * sizeof(*block)); /* innermost open block at each depth */
    t->nodes = malloc(n * sizeof(*t->nodes));
    if (!stack || !block || !t->nodes) {
        free(stack);
        free(block);
        return diag_error(p->d, DDB_ERUNTIME, "out of memory compiling %s", p->name);
    }
    size_t depth = 0;
    /* A line may start with tags that make no node ("{{! note }} text"): the first node after
     * them starts the line. */
    int pending = 0;
    for (size_t i = 0; i < p->count; i++) {
        const struct token *k = &p->tokens[i];
        if (k->line_start)
            pending = 1;
        if (k->kind == TOKEN_CLOSE) {
            t->nodes[stack[--depth]].end = t->count;
            continue;
        }
        if (k->kind == TOKEN_COMMENT || k->kind == TOKEN_DELIMITERS ||
            (k->kind == TOKEN_TEXT && k->start == k->end))
            continue;
        size_t index = t->count++;
        struct node *node = &t->nodes[index];
        memset(node, 0, sizeof(*node));
        node->type = (unsigned char)node_type_of(k->kind);
        int at_line_start = k->start == 0 || p->text[k->start - 1] == '\n';
        node->line_start = (unsigned char)(pending || (k->kind == TOKEN_TEXT && at_line_start));
        pending = 0;
        node->dynamic = k->dynamic;
        node->end = index + 1;
        node->tag_off = k->start;
        node->tag_len = k->end - k->start;
        if (k->kind == TOKEN_TEXT) {
            node->off = k->start;
            node->len = k->end - k->start;
        } else {
            node->off = k->name_off;
            node->len = k->name_len;
        }
        node->indent_off = k->indent_off;
        node->indent_len = k->indent_len;
        if (k->kind == TOKEN_BLOCK) {
            node->standalone = k->standalone;
            node->strip_off = k->strip_off;
            node->strip_len = k->strip_len;
            /* Expansion indentation is relative to the enclosing block's content, which is
             * itself re-indented when expanded ("Nested block reindentation"). */
            size_t outer = depth ? block[depth - 1] : SIZE_MAX;
            if (outer != SIZE_MAX) {
                const struct node *o = &t->nodes[outer];
                if (o->strip_len <= node->indent_len &&
                    memcmp(p->text + o->strip_off, p->text + node->indent_off, o->strip_len) == 0) {
                    node->indent_off += o->strip_len;
                    node->indent_len -= o->strip_len;
                }
            }
        }
        if (is_open_kind(k->kind)) {
            size_t outer = depth ? block[depth - 1] : SIZE_MAX;
            block[depth] = k->kind == TOKEN_BLOCK ? index : outer;
            stack[depth++] = index;
        }
    }
    free(stack);
    free(block);
    return 0;
}

int mustache_compile(struct mustache_template **out, const char *name, const char *text, size_t len,
                     struct diagnostics *d)
{
    int error = 0;
    struct mustache_template *t = calloc(1, sizeof(*t));
    struct parser p = {0};
    *out = NULL;
    if (!t || !(t->name = strdup(name ? name : "template")) || !(t->text = malloc(len + 1))) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory compiling %s", name ? name : "template");
        goto done;
    }
    if (len >= UINT32_MAX) {
        error = diag_error(d, DDB_EINPUT, "%s: template of %zu bytes is larger than 4 GiB", t->name,
                           len);
        goto done;
    }
    if (len)
        memcpy(t->text, text, len);
    t->text[len] = '\0';
    t->len = len;
    p.name = t->name;
    p.text = t->text;
    p.len = len;
    p.d = d;
    if ((error = tokenize(&p)) < 0 || (error = match_sections(&p)) < 0)
        goto done;
    if (p.count)
        mark_lines(&p);
    if ((error = build_nodes(&p, t)) < 0)
        goto done;
    *out = t;
    t = NULL;
done:
    free(p.tokens);
    mustache_free(t);
    return error;
}

void mustache_free(struct mustache_template *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t->text);
    free(t->name);
    free(t);
}

const char *mustache_name(const struct mustache_template *t)
{
    return t->name;
}

/* ---- the partial cache -------------------------------------------------------------------- */

struct cache_entry {
    char *name;
    size_t name_len;
    struct mustache_template *template; /* NULL: the loader doesn't have it */
};

struct mustache_cache {
    struct cache_entry *entries;
    size_t count, cap;
};

int mustache_cache_new(struct mustache_cache **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : DDB_ERUNTIME;
}

void mustache_cache_free(struct mustache_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < cache->count; i++) {
        free(cache->entries[i].name);
        mustache_free(cache->entries[i].template);
    }
    free(cache->entries);
    free(cache);
}

static struct cache_entry *cache_find(struct mustache_cache *cache, const char *name, size_t len)
{
    for (size_t i = 0; i < cache->count; i++)
        if (cache->entries[i].name_len == len && memcmp(cache->entries[i].name, name, len) == 0)
            return &cache->entries[i];
    return NULL;
}

/* Takes ownership of `template` (freed on failure). */
static int cache_add(struct mustache_cache *cache, const char *name, size_t len,
                     struct mustache_template *template)
{
    if (cache->count == cache->cap) {
        size_t cap = cache->cap ? cache->cap * 2 : 16;
        struct cache_entry *grown = realloc(cache->entries, cap * sizeof(*grown));
        if (!grown) {
            mustache_free(template);
            return DDB_ERUNTIME;
        }
        cache->entries = grown;
        cache->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        mustache_free(template);
        return DDB_ERUNTIME;
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    struct cache_entry *entry = &cache->entries[cache->count++];
    entry->name = copy;
    entry->name_len = len;
    entry->template = template;
    return 0;
}

/* ---- rendering ---------------------------------------------------------------------------- */

/* The context stack lives on the C stack: each section pushes a frame pointing at the one
 * below, so a lookup walks from the innermost value outwards. */
struct frame {
    json_t *value;
    const struct frame *up;
};

struct override {
    const struct mustache_template *template;
    const struct node *block;
};

struct render {
    struct buf *out;
    const struct mustache_options *opt;
    struct diagnostics *d;
    mustache_escape_fn escape;
    struct mustache_cache *cache;
    struct buf indent;   /* what each output line of the current partial starts with */
    int suppress_indent; /* an inline block's first line already has its indentation */
    /* Block overrides in force, most important first: a parent's blocks rank below those of
     * the templates that include it ("Multi-level inheritance"). */
    struct override *overrides;
    size_t override_count, override_cap;
    unsigned depth, max_depth;
    size_t limit; /* the output cap, for messages */
};

static int render_error(struct render *r, int code, const struct mustache_template *t,
                        const struct node *n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int render_error(struct render *r, int code, const struct mustache_template *t,
                        const struct node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(r->d, DIAG_ERROR, t->name, t->text, t->len, n->tag_off, n->tag_len, fmt, ap);
    va_end(ap);
    return code;
}

/* An append failed: the output cap, or memory. `worst` is the most the append could have
 * needed (an escaper writes at most 6 bytes per input byte: "&quot;"). */
static int output_error(struct render *r, const struct mustache_template *t, const struct node *n,
                        size_t worst)
{
    if (worst > r->out->max || r->out->len > r->out->max - worst)
        return render_error(r, DDB_EINPUT, t, n,
                            "rendered output would exceed the limit of %zu bytes", r->limit);
    return render_error(r, DDB_ERUNTIME, t, n, "out of memory rendering");
}

static int emit(struct render *r, const struct mustache_template *t, const struct node *n,
                const char *s, size_t len)
{
    if (!len)
        return 0;
    r->suppress_indent = 0;
    if (buf_append(r->out, s, len) < 0)
        return output_error(r, t, n, len);
    return 0;
}

static int emit_escaped(struct render *r, const struct mustache_template *t, const struct node *n,
                        const char *s, size_t len)
{
    if (!len)
        return 0;
    r->suppress_indent = 0;
    if (r->escape(r->out, s, len) < 0)
        return output_error(r, t, n, len > SIZE_MAX / 6 ? SIZE_MAX : len * 6);
    return 0;
}

/* The shortest %g text that reads back as the same double: 1.21 prints "1.21", not
 * "1.2100000000000000". Whole numbers below 1e16 print without an exponent (100.0 is "100",
 * not "1e+02"); below 2^53 they are exact and up to 1e16 the next double is 2 away, so the
 * extra digits are zeros, not noise. */
static size_t format_real(char out[32], double value)
{
    int n = 0, precision;
    for (precision = 1; precision <= 17; precision++) {
        n = snprintf(out, 32, "%.*g", precision, value);
        if (strtod(out, NULL) == value)
            break;
    }
    const char *e = strchr(out, 'e');
    if (e) {
        int exponent = atoi(e + 1);
        if (exponent >= 0 && exponent < 16)
            n = snprintf(out, 32, "%.*g", exponent + 1 > precision ? exponent + 1 : precision,
                         value);
    }
    return n > 0 ? (size_t)n : 0;
}

static int emit_value(struct render *r, const struct mustache_template *t, const struct node *n,
                      json_t *value)
{
    char number[32];
    const char *s = number;
    size_t len = 0;
    char *dumped = NULL;
    switch (json_typeof(value)) {
    case JSON_STRING:
        s = json_string_value(value);
        len = json_string_length(value);
        break;
    case JSON_INTEGER: {
        int w =
            snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        len = w > 0 ? (size_t)w : 0;
        break;
    }
    case JSON_REAL:
        len = format_real(number, json_real_value(value));
        break;
    case JSON_TRUE:
        s = "true";
        len = 4;
        break;
    case JSON_FALSE:
        s = "false";
        len = 5;
        break;
    case JSON_NULL:
        return 0;
    default:
        dumped = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!dumped)
            return render_error(r, DDB_ERUNTIME, t, n, "out of memory rendering");
        s = dumped;
        len = strlen(dumped);
    }
    int error = n->type == NODE_VARIABLE ? emit_escaped(r, t, n, s, len) : emit(r, t, n, s, len);
    free(dumped);
    return error;
}

/* Resolves a (possibly dotted) name against the context stack. The first part is looked up
 * from the innermost frame outwards; the rest only inside what it found (the spec's
 * "Dotted Names - Context Precedence"). NULL when nothing matches; a JSON null is a match. */
static json_t *lookup(const struct frame *f, const char *name, size_t len)
{
    if (len == 1 && name[0] == '.')
        return f ? f->value : NULL;
    const char *dot = memchr(name, '.', len);
    size_t part = dot ? (size_t)(dot - name) : len;
    json_t *value = NULL;
    for (; f && !value; f = f->up)
        if (json_is_object(f->value))
            value = json_object_getn(f->value, name, part);
    while (value && dot) {
        len -= part + 1;
        name = dot + 1;
        dot = memchr(name, '.', len);
        part = dot ? (size_t)(dot - name) : len;
        value = json_is_object(value) ? json_object_getn(value, name, part) : NULL;
    }
    return value;
}

static int is_truthy(const json_t *value)
{
    if (!value || json_is_false(value) || json_is_null(value))
        return 0;
    if (json_is_array(value))
        return json_array_size(value) > 0;
    if (json_is_string(value))
        return json_string_length(value) > 0;
    return 1;
}

static int enter(struct render *r, const struct mustache_template *t, const struct node *n)
{
    if (r->depth >= r->max_depth)
        return render_error(r, DDB_EINPUT, t, n,
                            "templates nest deeper than %u levels here (a partial that includes "
                            "itself without end, or data nested too deeply)",
                            r->max_depth);
    r->depth++;
    return 0;
}

static int push_indent(struct render *r, const struct mustache_template *t, const struct node *n,
                       size_t off, size_t len)
{
    if (len && buf_append(&r->indent, t->text + off, len) < 0)
        return render_error(r, DDB_EINPUT, t, n, "indentation of nested partials exceeds %zu bytes",
                            r->indent.max);
    return 0;
}

static void pop_indent(struct render *r, size_t len)
{
    r->indent.len = len;
    if (r->indent.data)
        r->indent.data[len] = '\0';
}

static int render_nodes(struct render *r, const struct mustache_template *t, size_t begin,
                        size_t end, const struct frame *f, const char *strip, size_t strip_len);

/* Text, with `strip` removed from the start of each of its lines and the current indentation
 * put before each line after the first (render_nodes indents the first, when it starts a line):
 * standalone partials and blocks indent every line of their template. */
static int emit_text(struct render *r, const struct mustache_template *t, const struct node *n,
                     const char *strip, size_t strip_len)
{
    const char *s = t->text + n->off, *end = s + n->len;
    int error = 0, line_start = n->line_start;
    if (!r->indent.len && !strip_len)
        return emit(r, t, n, s, n->len);
    while (s < end && error == 0) {
        for (size_t k = 0; line_start && k < strip_len && s < end && *s == strip[k]; k++)
            s++;
        const char *newline = memchr(s, '\n', (size_t)(end - s));
        const char *stop = newline ? newline + 1 : end;
        error = emit(r, t, n, s, (size_t)(stop - s));
        s = stop;
        line_start = newline && s < end;
        if (line_start && error == 0)
            error = emit(r, t, n, r->indent.data, r->indent.len);
    }
    return error;
}

/* Finds partial `name` (or the name `n` resolves to, for {{>*x}}) through the cache and the
 * loader. *out is NULL when there is no such partial and that isn't an error. */
static int resolve_partial(struct render *r, const struct mustache_template **out,
                           const struct mustache_template *t, const struct node *n,
                           const struct frame *f)
{
    const char *name = t->text + n->off;
    size_t len = n->len;
    char shown_name[SHOWN_SIZE];
    int error = 0;
    *out = NULL;
    if (n->dynamic) {
        json_t *value = lookup(f, name, len);
        if (!value || !json_is_string(value)) {
            if (r->opt->strict)
                return render_error(r, DDB_EINPUT, t, n,
                                    "dynamic partial name '%s' does not name a string",
                                    shown(shown_name, name, len));
            return 0;
        }
        name = json_string_value(value);
        len = json_string_length(value);
    }
    struct cache_entry *entry = cache_find(r->cache, name, len);
    if (entry) {
        *out = entry->template;
    } else {
        struct mustache_template *partial = NULL;
        char *text = NULL, *source_name = NULL, *key = NULL;
        size_t text_len = 0;
        if (r->opt->load_partial && !memchr(name, '\0', len)) {
            if (!(key = strndup(name, len)))
                return render_error(r, DDB_ERUNTIME, t, n, "out of memory rendering");
            error = r->opt->load_partial(&text, &text_len, &source_name, key, r->opt->partial_ctx,
                                         r->d);
            if (error < 0) {
                note_at(r->d, t->name, t->text, t->len, n->tag_off, n->tag_len,
                        "while loading partial '%s' for this tag", shown(shown_name, name, len));
            } else if (text && (error = mustache_compile(&partial, source_name ? source_name : key,
                                                         text, text_len, r->d)) < 0) {
                note_at(r->d, t->name, t->text, t->len, n->tag_off, n->tag_len,
                        "in partial '%s' included here", shown(shown_name, name, len));
            }
        }
        free(text);
        free(source_name);
        free(key);
        if (error < 0)
            return error;
        if (cache_add(r->cache, name, len, partial) < 0)
            return render_error(r, DDB_ERUNTIME, t, n, "out of memory rendering");
        *out = partial;
    }
    if (!*out && r->opt->strict)
        return render_error(r, DDB_EINPUT, t, n, "unknown partial '%s'",
                            shown(shown_name, name, len));
    return 0;
}

static int render_partial(struct render *r, const struct mustache_template *t, const struct node *n,
                          const struct frame *f)
{
    const struct mustache_template *partial;
    int error = resolve_partial(r, &partial, t, n, f);
    if (error < 0 || !partial)
        return error;
    size_t saved_indent = r->indent.len;
    if ((error = enter(r, t, n)) < 0)
        return error;
    if ((error = push_indent(r, t, n, n->indent_off, n->indent_len)) == 0)
        error = render_nodes(r, partial, 0, partial->count, f, NULL, 0);
    pop_indent(r, saved_indent);
    r->depth--;
    return error;
}

/* {{<parent}}: renders the parent template like a partial, with this tag's direct {{$block}}
 * children added to the overrides (below any already in force). */
static int render_parent(struct render *r, const struct mustache_template *t, size_t index,
                         const struct frame *f)
{
    const struct node *n = &t->nodes[index];
    size_t saved_count = r->override_count;
    for (size_t i = index + 1; i < n->end; i = t->nodes[i].end) {
        if (t->nodes[i].type != NODE_BLOCK)
            continue;
        if (r->override_count == r->override_cap) {
            size_t cap = r->override_cap ? r->override_cap * 2 : 16;
            struct override *grown = realloc(r->overrides, cap * sizeof(*grown));
            if (!grown)
                return render_error(r, DDB_ERUNTIME, t, n, "out of memory rendering");
            r->overrides = grown;
            r->override_cap = cap;
        }
        r->overrides[r->override_count++] = (struct override){t, &t->nodes[i]};
    }
    int error = render_partial(r, t, n, f);
    r->override_count = saved_count;
    return error;
}

/* {{$block}}: the most important override of that name, or the block's own content. Lines of
 * the content lose the indentation they were written with and gain the one of this site. */
static int render_block(struct render *r, const struct mustache_template *t, const struct node *n,
                        const struct frame *f)
{
    const struct mustache_template *source = t;
    const struct node *content = n;
    for (size_t i = 0; i < r->override_count; i++) {
        const struct override *o = &r->overrides[i];
        if (o->block->len == n->len &&
            memcmp(o->template->text + o->block->off, t->text + n->off, n->len) == 0) {
            source = o->template;
            content = o->block;
            break;
        }
    }
    int overridden = content != n, error;
    size_t saved_indent = r->indent.len;
    if ((error = enter(r, t, n)) < 0)
        return error;
    if (overridden || n->standalone)
        error = push_indent(r, t, n, n->indent_off, n->indent_len);
    if (overridden && !n->standalone)
        r->suppress_indent = 1;
    if (error == 0)
        error = render_nodes(r, source, (size_t)(content - source->nodes) + 1, content->end, f,
                             source->text + content->strip_off, content->strip_len);
    r->suppress_indent = 0;
    pop_indent(r, saved_indent);
    r->depth--;
    return error;
}

static int render_section(struct render *r, const struct mustache_template *t, size_t index,
                          json_t *value, const struct frame *f, const char *strip, size_t strip_len)
{
    const struct node *n = &t->nodes[index];
    int error = enter(r, t, n);
    if (error < 0)
        return error;
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item)
        {
            struct frame inner = {item, f};
            if ((error = render_nodes(r, t, index + 1, n->end, &inner, strip, strip_len)) < 0)
                break;
        }
    } else {
        struct frame inner = {value, f};
        error = render_nodes(r, t, index + 1, n->end, &inner, strip, strip_len);
    }
    r->depth--;
    return error;
}

static int render_nodes(struct render *r, const struct mustache_template *t, size_t begin,
                        size_t end, const struct frame *f, const char *strip, size_t strip_len)
{
    int error = 0;
    char shown_name[SHOWN_SIZE];
    for (size_t i = begin; i < end && error == 0;) {
        const struct node *n = &t->nodes[i];
        if (n->line_start) {
            if (r->suppress_indent)
                r->suppress_indent = 0;
            else if ((error = emit(r, t, n, r->indent.data, r->indent.len)) < 0)
                break;
        }
        switch (n->type) {
        case NODE_TEXT:
            error = emit_text(r, t, n, strip, strip_len);
            i++;
            break;
        case NODE_VARIABLE:
        case NODE_RAW_VARIABLE: {
            json_t *value = lookup(f, t->text + n->off, n->len);
            if (value)
                error = emit_value(r, t, n, value);
            else if (r->opt->strict)
                error = render_error(r, DDB_EINPUT, t, n, "no value for '%s'",
                                     shown(shown_name, t->text + n->off, n->len));
            i++;
            break;
        }
        case NODE_SECTION: {
            json_t *value = lookup(f, t->text + n->off, n->len);
            if (is_truthy(value))
                error = render_section(r, t, i, value, f, strip, strip_len);
            i = n->end;
            break;
        }
        case NODE_INVERTED:
            if (!is_truthy(lookup(f, t->text + n->off, n->len)) && (error = enter(r, t, n)) == 0) {
                error = render_nodes(r, t, i + 1, n->end, f, strip, strip_len);
                r->depth--;
            }
            i = n->end;
            break;
        case NODE_PARTIAL:
            error = render_partial(r, t, n, f);
            i++;
            break;
        case NODE_PARENT:
            error = render_parent(r, t, i, f);
            i = n->end;
            break;
        case NODE_BLOCK:
            error = render_block(r, t, n, f);
            i = n->end;
            break;
        default:
            i++;
        }
    }
    return error;
}

int mustache_render(struct buf *out, const struct mustache_template *t, json_t *data,
                    const struct mustache_options *opt, struct diagnostics *d)
{
    static const struct mustache_options defaults = {0};
    struct render r = {0};
    int error = 0;
    r.out = out;
    r.opt = opt ? opt : &defaults;
    r.d = d;
    r.escape = r.opt->escape ? r.opt->escape : escape_html;
    r.max_depth = r.opt->max_depth ? r.opt->max_depth : MUSTACHE_DEFAULT_MAX_DEPTH;
    buf_init(&r.indent, MAX_INDENT);
    r.cache = r.opt->cache;
    if (!r.cache && mustache_cache_new(&r.cache) < 0)
        return diag_error(d, DDB_ERUNTIME, "out of memory rendering %s", t->name);
    size_t saved_max = out->max;
    r.limit = out->max;
    if (r.opt->max_output && out->len < out->max && r.opt->max_output < out->max - out->len) {
        out->max = out->len + r.opt->max_output;
        r.limit = r.opt->max_output;
    }
    struct frame root = {data, NULL};
    error = render_nodes(&r, t, 0, t->count, data ? &root : NULL, NULL, 0);
    out->max = saved_max;
    if (!r.opt->cache)
        mustache_cache_free(r.cache);
    buf_free(&r.indent);
    free(r.overrides);
    return error;
}

/* ---- partials from directories ------------------------------------------------------------ */

/* Letters, digits and "._-", in '/'-separated segments that don't start with '.': no way out
 * of the directory, no hidden files, nothing a shell or a terminal would mangle. */
static int partial_name_is_safe(const char *name)
{
    int segment_start = 1;
    if (!*name)
        return 0;
    for (const char *c = name; *c; c++) {
        if (*c == '/') {
            if (segment_start)
                return 0;
            segment_start = 1;
            continue;
        }
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                 *c == '_' || *c == '-' || *c == '.';
        if (!ok || (segment_start && *c == '.'))
            return 0;
        segment_start = 0;
    }
    return !segment_start;
}

int mustache_load_from_dirs(char **text, size_t *len, char **source_name, const char *name,
                            void *ctx, struct diagnostics *d)
{
    const struct mustache_dir_loader *loader = ctx;
    char shown_name[SHOWN_SIZE];
    *text = NULL;
    *source_name = NULL;
    if (!partial_name_is_safe(name))
        return diag_error(d, DDB_EINPUT,
                          "invalid partial name '%s': use letters, digits and \"._-\" in "
                          "'/'-separated parts that don't start with '.'",
                          shown(shown_name, name, strlen(name)));
    for (size_t i = 0; i < loader->dir_count; i++) {
        struct buf path;
        buf_init(&path, 0);
        if (buf_printf(&path, "%s/%s%s", loader->dirs[i], name,
                       loader->suffix ? loader->suffix : "") < 0) {
            buf_free(&path);
            return diag_error(d, DDB_ERUNTIME, "out of memory loading partial %s", name);
        }
        if (!fs_exists(buf_cstr(&path))) {
            buf_free(&path);
            continue;
        }
        int error = fs_read_file(text, len, buf_cstr(&path),
                                 loader->max_size ? loader->max_size : DEFAULT_PARTIAL_MAX_SIZE, d);
        if (error < 0) {
            buf_free(&path);
            return error;
        }
        *source_name = buf_detach(&path);
        return 0;
    }
    return 0;
}
