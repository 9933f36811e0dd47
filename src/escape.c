/* Escapers, one per output format, over one shared UTF-8 cleanup loop. A format is a table of
 * replacements for ASCII bytes; everything else (validation, control characters) is common.
 * Must not know about templates or reports: it maps bytes to bytes. */
#include "escape.h"
#include "buf.h"

#include <stdint.h>
#include <string.h>

#define REPLACEMENT_CHARACTER "\xEF\xBF\xBD" /* U+FFFD */

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is invalid; then *invalid holds the
 * length of the maximal invalid subpart to replace with one U+FFFD (at least 1). Rejects
 * overlong forms, surrogates and code points above U+10FFFF (RFC 3629). */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end, uint32_t *codepoint,
                            size_t *invalid)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char low = 0x80, high = 0xBF; /* allowed range of the second byte */
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        if (c == 0xE0)
            low = 0xA0; /* overlong */
        else if (c == 0xED)
            high = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        if (c == 0xF0)
            low = 0x90; /* overlong */
        else if (c == 0xF4)
            high = 0x8F; /* above U+10FFFF */
    } else {
        *invalid = 1;
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char lo = i == 1 ? low : 0x80, hi = i == 1 ? high : 0xBF;
        if (p + i >= end || p[i] < lo || p[i] > hi) {
            *invalid = i;
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *codepoint = cp;
    return need + 1;
}

static int is_unwanted_codepoint(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || (cp & 0xFFFE) == 0xFFFE || (cp >= 0xFDD0 && cp <= 0xFDEF);
}

/* A space or tab starting a line becomes a character reference: Markdown would read four of
 * them as an indented code block, and a backslash can't escape whitespace. */
#define ESCAPE_LEADING_BLANK 1u

/* The shared loop: copies runs of harmless bytes in one append, replaces ASCII bytes that have
 * an entry in `table`, and cleans up controls and invalid UTF-8. */
static int escape_with(struct buf *out, const char *s, size_t len, const char *const table[128],
                       unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    int line_start = 1;
    while (p < end) {
        unsigned char c = *p;
        const char *replacement;
        size_t consumed = 1;
        int at_line_start = line_start;
        line_start = c == '\n' || c == '\r';
        if (c < 0x80) {
            if ((flags & ESCAPE_LEADING_BLANK) && at_line_start && (c == ' ' || c == '\t'))
                replacement = c == ' ' ? "&#32;" : "&#9;";
            else if (table && table[c])
                replacement = table[c];
            else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
                replacement = REPLACEMENT_CHARACTER;
            else {
                p++;
                continue;
            }
        } else {
            uint32_t cp = 0;
            size_t n = utf8_sequence(p, end, &cp, &consumed);
            if (n && !is_unwanted_codepoint(cp)) {
                p += n;
                continue;
            }
            if (n)
                consumed = n;
            replacement = REPLACEMENT_CHARACTER;
        }
        if (buf_append(out, run, (size_t)(p - run)) < 0 || buf_puts(out, replacement) < 0)
            return -1;
        p += consumed;
        run = p;
    }
    return buf_append(out, run, (size_t)(p - run));
}

static const char *const html_table[128] = {
    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
};

/* A carriage return is written as a reference: XML parsers turn a literal one into a newline
 * (XML 1.0 section 2.11), and evidence should read back byte for byte. */
static const char *const xml_table[128] = {
    ['&'] = "&amp;",  ['<'] = "&lt;",    ['>'] = "&gt;",
    ['"'] = "&quot;", ['\''] = "&apos;", ['\r'] = "&#13;",
};

static const char *const markdown_table[128] = {
    ['\\'] = "\\\\", ['`'] = "\\`", ['*'] = "\\*", ['_'] = "\\_", ['{'] = "\\{", ['}'] = "\\}",
    ['['] = "\\[",   [']'] = "\\]", ['<'] = "\\<", ['>'] = "\\>", ['('] = "\\(", [')'] = "\\)",
    ['#'] = "\\#",   ['+'] = "\\+", ['-'] = "\\-", ['.'] = "\\.", ['!'] = "\\!", ['|'] = "\\|",
    ['~'] = "\\~",   ['&'] = "\\&", ['='] = "\\=", ['$'] = "\\$", ['@'] = "\\@",
};

static const char *const markdown_cell_table[128] = {
    ['\\'] = "\\\\", ['`'] = "\\`", ['*'] = "\\*", ['_'] = "\\_", ['{'] = "\\{",
    ['}'] = "\\}",   ['['] = "\\[", [']'] = "\\]", ['<'] = "\\<", ['>'] = "\\>",
    ['('] = "\\(",   [')'] = "\\)", ['#'] = "\\#", ['+'] = "\\+", ['-'] = "\\-",
    ['.'] = "\\.",   ['!'] = "\\!", ['|'] = "\\|", ['~'] = "\\~", ['&'] = "\\&",
    ['='] = "\\=",   ['$'] = "\\$", ['@'] = "\\@", ['\n'] = " ",  ['\r'] = "",
};

static const char *const jira_table[128] = {
    ['{'] = "\\{", ['}'] = "\\}", ['['] = "\\[", [']'] = "\\]", ['|'] = "\\|",
    ['*'] = "\\*", ['_'] = "\\_", ['-'] = "\\-", ['+'] = "\\+", ['^'] = "\\^",
    ['~'] = "\\~", ['?'] = "\\?", ['#'] = "\\#", ['!'] = "\\!", ['\\'] = "&#92;",
};

int escape_html(struct buf *out, const char *s, size_t len)
{
    return escape_with(out, s, len, html_table, 0);
}

int escape_xml(struct buf *out, const char *s, size_t len)
{
    return escape_with(out, s, len, xml_table, 0);
}

int escape_markdown(struct buf *out, const char *s, size_t len)
{
    return escape_with(out, s, len, markdown_table, ESCAPE_LEADING_BLANK);
}

int escape_markdown_cell(struct buf *out, const char *s, size_t len)
{
    return escape_with(out, s, len, markdown_cell_table, 0);
}

int escape_jira(struct buf *out, const char *s, size_t len)
{
    return escape_with(out, s, len, jira_table, 0);
}

int escape_text(struct buf *out, const char *s, size_t len)
{
    return escape_with(out, s, len, NULL, 0);
}

static int is_url_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int has_prefix_nocase(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != prefix[i])
            return 0;
    }
    return 1;
}

/* Browsers ignore tabs and newlines inside a URL and strip leading controls, so "java\nscript:"
 * is javascript:. Rather than model that, a URL with any whitespace or control character inside
 * is refused, and so is anything but an absolute http:, https: or mailto: URL: a value from AWS
 * or a user has no business pointing anywhere else, even relatively. */
static int url_is_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c == 0x7F)
            return 0;
    }
    return (has_prefix_nocase(s, len, "http://") && len > 7) ||
           (has_prefix_nocase(s, len, "https://") && len > 8) ||
           (has_prefix_nocase(s, len, "mailto:") && len > 7);
}

int escape_url_attr(struct buf *out, const char *s, size_t len)
{
    while (len && is_url_space((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len && is_url_space((unsigned char)s[len - 1]))
        len--;
    if (!url_is_safe(s, len))
        return buf_putc(out, '#');
    return escape_html(out, s, len);
}

escape_fn escape_for_format(const char *name)
{
    static const struct {
        const char *name;
        escape_fn escape;
    } formats[] = {
        {"html", escape_html},         {"xml", escape_xml},   {"confluence", escape_xml},
        {"md", escape_markdown},       {"jira", escape_jira}, {"text", escape_text},
        {"markdown", escape_markdown},
    };
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(name, formats[i].name) == 0)
            return formats[i].escape;
    return NULL;
}
