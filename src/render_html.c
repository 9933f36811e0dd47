/* HTML: one self-contained page (inline CSS, no script, nothing fetched) for the audit packet.
 * Everything format-specific lives in templates/report.html.mustache; this names it and its
 * escaper. It must not emit anything the escaper or cmark did not make safe. */
#include "render.h"

const struct render_format render_format_html = {
    .name = "html",
    .template = "report.html",
    .file_name = "report.html",
    .escape = escape_html,
    .decorate = NULL,
};
