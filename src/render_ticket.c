/* Ticket excerpts: a short block about one control for a Jira or ServiceNow risk-acceptance
 * ticket, in Markdown, Jira wiki markup or an HTML fragment. packet.c builds the view (one
 * control, optionally one resource, plus the packet it came from); this names the templates. */
#include "render.h"
#include "buf.h"
#include "diag.h"

#include <string.h>

/* Jira link destinations: [title|url] ends at ']' or '|', and text effects could start inside. */
#define JIRA_URL_KEEP "-._~:/?#@$&'+,;=%"

/* Jira wiki markup with newlines folded: a newline ends a table row in Jira too. */
static int escape_jira_line(struct buf *out, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '\n' && s[i] != '\r')
            continue;
        if (escape_jira(out, s + start, i - start) < 0 || (i < len && buf_putc(out, ' ') < 0))
            return -1;
        start = i + 1;
    }
    return 0;
}

static int jira_walk(json_t *object, const char *kind, void *data)
{
    struct buf *text = data;
    const char *url = json_string_value(json_object_get(object, "url_safe"));
    (void)kind;
    if (!url)
        return 0;
    buf_reset(text);
    if (render_percent_encode(text, url, JIRA_URL_KEEP) < 0)
        return -1;
    return render_set_string(object, "jira_url", text);
}

static int jira_decorate(json_t *view, struct diagnostics *d)
{
    struct buf text;
    buf_init(&text, BUF_DEFAULT_MAX);
    int error = render_walk(view, jira_walk, &text);
    buf_free(&text);
    return error < 0 ? diag_error(d, DDB_ERUNTIME, "out of memory") : 0;
}

static int ticket_md_decorate(json_t *view, struct diagnostics *d)
{
    return render_format_markdown.decorate(view, d);
}

const struct render_format render_format_ticket_md = {
    .name = "ticket-md",
    .template = "ticket.md",
    .file_name = NULL,
    .escape = escape_markdown_cell,
    .decorate = ticket_md_decorate,
};

const struct render_format render_format_ticket_jira = {
    .name = "ticket-jira",
    .template = "ticket.jira",
    .file_name = NULL,
    .escape = escape_jira_line,
    .decorate = jira_decorate,
};

const struct render_format render_format_ticket_html = {
    .name = "ticket-html",
    .template = "ticket.html",
    .file_name = NULL,
    .escape = escape_html,
    .decorate = NULL,
};
