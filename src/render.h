/* The renderer: report.json (docs/report-format.md) in, documents out. render.c builds one view
 * model from the report (labels, CSS classes, counts, anchors, safe URLs, vendor notes made safe
 * by cmark) and drives the Mustache engine; each output format is one render_<format>.c that
 * names its template, its escaper and any view fields of its own. The renderer never decides a
 * status: it prints what the evaluator wrote.
 *
 * Templates are looked up in the user's --templates directory first, then in the bundled
 * templates/ (render_bundled_dir); a user directory may override any template or partial. */
#ifndef DDBAUDIT_RENDER_H
#define DDBAUDIT_RENDER_H

#include <jansson.h>
#include <stddef.h>

#include "escape.h"

struct buf;
struct diagnostics;
struct renderer;

/* One output format. Defined in render_<format>.c; found by name with render_format_find. */
struct render_format {
    const char *name;      /* as given to --format: "html", "md", "ticket-jira", ... */
    const char *template;  /* template name, without ".mustache": "report.html" */
    const char *file_name; /* file in the packet ("report.html"); NULL for ticket excerpts */
    escape_fn escape;      /* for {{x}} */
    /* Adds this format's own fields to the view (may be NULL). Fields are namespaced by the
     * format ("md_anchor", "jira_url") so one view serves every format. */
    int (*decorate)(json_t *view, struct diagnostics *d);
};

extern const struct render_format render_format_html;
extern const struct render_format render_format_markdown;
extern const struct render_format render_format_xml;
extern const struct render_format render_format_confluence;
extern const struct render_format render_format_ticket_md;
extern const struct render_format render_format_ticket_jira;
extern const struct render_format render_format_ticket_html;

/* The packet formats in the order `--format` defaults to: html, md, xml, confluence (report.json
 * is written by the packet itself). NULL-terminated. */
extern const struct render_format *const render_packet_formats[];

/* The format called `name` ("markdown" is an alias of "md"), or NULL. */
const struct render_format *render_format_find(const char *name);

/* The bundled templates directory, found by resources_path ($DDBAUDIT_DATA_DIR/templates,
 * <exe>/../share/ddbaudit/templates, or ./templates in the source tree). Caller frees. */
int render_bundled_dir(char **out, struct diagnostics *d);

/* A renderer with its template search path: user_dir (may be NULL) before the bundled one. It
 * caches compiled templates across documents. The caller frees it with render_free. */
int render_new(struct renderer **out, const char *user_dir, struct diagnostics *d);
void render_free(struct renderer *renderer);

/* Builds the view model of a report (a new reference the caller owns). Checks the shape the
 * renderer relies on (statuses, strings, arrays) and fails with DDB_EINPUT naming the JSON
 * Pointer of anything else. `report` is not modified; the view shares its unchanged parts. */
int render_view(json_t **out, json_t *report, struct diagnostics *d);

/* Renders `view` (from render_view) in `format`, appending to `out`. Runs the format's decorate
 * hook first, so the view gains that format's fields. */
int render_document(struct buf *out, struct renderer *renderer, const struct render_format *format,
                    json_t *view, struct diagnostics *d);

/* The two halves of render_document, for rendering several formats at once from threads:
 * render_prepare (one thread, before any render_prepared) runs the decorate hook and compiles
 * the template; render_prepared only reads the view and the renderer, so calls for different
 * formats may run concurrently once every format has been prepared. */
int render_prepare(struct renderer *renderer, const struct render_format *format, json_t *view,
                   struct diagnostics *d);
int render_prepared(struct buf *out, const struct renderer *renderer,
                    const struct render_format *format, json_t *view, struct diagnostics *d);

/* ---- Helpers shared by the format modules ---- */

/* The URL if it is http:, https: or mailto: with no whitespace or control characters, else NULL
 * (a report's ticket and reference URLs are untrusted: javascript: must never become a link). */
int render_url_is_safe(const char *url);

/* Appends a safe URL (render_url_is_safe) percent-encoding every character a URL may not
 * hold: non-ASCII, quotes, brackets, pipes, a second '#', a '%' that starts no escape. */
int render_url_encode(struct buf *out, const char *url);

/* Appends `s` with every byte outside `keep` (and every byte >= 0x80, space and control)
 * percent-encoded; for URLs placed raw into formats whose link syntax has its own delimiters. */
int render_percent_encode(struct buf *out, const char *s, const char *keep);

/* Sets view[key] to a string the caller built (takes the buffer's contents). */
int render_set_string(json_t *object, const char *key, struct buf *value);

/* Calls fn on every control, finding, evidence item, exception and reference in the view, for
 * decorate hooks: `kind` is "control", "finding", "evidence", "exception", "reference",
 * "unmatched" (an exceptions_unmatched entry) or "artifact". */
int render_walk(json_t *view, int (*fn)(json_t *object, const char *kind, void *ctx), void *ctx);

#endif
