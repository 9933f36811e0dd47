/* Per-format escapers: one function per output format, each turning an untrusted value into text
 * that is inert in that format (it can't open a tag, macro, link or table cell).
 *
 * Every escaper also cleans the text up the same way, because a report must be valid in its
 * format whatever AWS returned:
 *   - invalid UTF-8 becomes U+FFFD (one per maximal invalid subsequence, as Unicode recommends);
 *   - C0 controls other than tab, newline and carriage return, DEL, C1 controls (U+0080-U+009F)
 *     and noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF, ...) become U+FFFD. XML 1.0 forbids
 *     most of these even as character references, and on a terminal they are escape sequences.
 *
 * Each returns 0, or -1 when `out` would exceed its cap (out is then partly written). */
#ifndef DDBAUDIT_ESCAPE_H
#define DDBAUDIT_ESCAPE_H

#include <stddef.h>

struct buf;

typedef int (*escape_fn)(struct buf *out, const char *s, size_t len);

/* & < > " ' become entities: safe in element content and in quoted attribute values. */
int escape_html(struct buf *out, const char *s, size_t len);

/* The same for XML 1.0 (and Confluence storage format, which is XHTML): '>' is always escaped,
 * so "]]>" can neither end a CDATA section nor appear in the output; a carriage return becomes
 * &#13; so that a parser doesn't turn it into a newline. */
int escape_xml(struct buf *out, const char *s, size_t len);

/* GitHub-flavoured Markdown: every ASCII punctuation character that can start markup gets a
 * backslash (\ ` * _ { } [ ] < > ( ) # + - . ! | ~ and also & = $ @, which open entities, setext
 * headings, math and mentions), so "<script>" renders as text. Newlines are kept; a space or
 * tab that starts a line becomes &#32; or &#9;, so indentation can't start a code block. */
int escape_markdown(struct buf *out, const char *s, size_t len);

/* escape_markdown for a table cell: newlines become spaces (a newline ends a GFM table row). */
int escape_markdown_cell(struct buf *out, const char *s, size_t len);

/* Jira wiki markup: { } [ ] | * _ - + ^ ~ ? # ! get a backslash, so a value can't open a macro
 * ({code}, {html}), a link or mention ([...]), a table cell, an image (!x!) or text effects.
 * A backslash becomes the entity &#92; because "\\" is Jira's forced line break. */
int escape_jira(struct buf *out, const char *s, size_t len);

/* Only the UTF-8 and control-character cleanup. */
int escape_text(struct buf *out, const char *s, size_t len);

/* For href/src attribute values. Lets through only absolute http://, https:// and mailto: URLs
 * (surrounding whitespace trimmed), HTML-escaped; anything else (javascript:, data:, vbscript:,
 * relative references, a URL with whitespace or control characters inside) becomes "#". */
int escape_url_attr(struct buf *out, const char *s, size_t len);

/* The escaper for a format name: "html", "xml", "confluence" (XML), "md" or "markdown", "jira",
 * "text". NULL for anything else. */
escape_fn escape_for_format(const char *name);

#endif
