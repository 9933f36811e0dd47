/* GitHub/GitLab-flavoured Markdown for wikis: pipe tables and heading anchors. Values are
 * escaped as table cells everywhere (a newline would end a row); vendor notes keep their
 * Markdown through cmark (render.c). Link destinations are percent-encoded, never escaped. */
#include "render.h"
#include "buf.h"
#include "diag.h"

#include <string.h>

/* Characters left as they are in a link destination; the rest, notably ( ) < > [ ] | ` \ and
 * spaces, are percent-encoded so a URL can't close the link or the table cell. */
#define MARKDOWN_URL_KEEP "-._~:/?#@!$&'*+,;=%"

struct markdown_ctx {
    struct buf text;
    json_t *slugs; /* GitHub numbers repeated heading slugs: x, x-1, x-2 */
};

/* GitHub's heading anchor: lowercase, spaces become '-', punctuation other than '-' and '_'
 * dropped (bytes >= 0x80 are kept: GitHub keeps letters in any script). */
static int github_slug(struct markdown_ctx *ctx, json_t *object, const char *heading)
{
    buf_reset(&ctx->text);
    for (const unsigned char *p = (const unsigned char *)heading; *p; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c == ' ')
            c = '-';
        if (((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             c >= 0x80) &&
            buf_putc(&ctx->text, (char)c) < 0)
            return -1;
    }
    size_t base = ctx->text.len;
    for (unsigned n = 1; json_object_get(ctx->slugs, buf_cstr(&ctx->text)); n++) {
        ctx->text.len = base;
        if (ctx->text.data)
            ctx->text.data[base] = '\0';
        if (buf_printf(&ctx->text, "-%u", n) < 0)
            return -1;
    }
    if (json_object_set_new(ctx->slugs, buf_cstr(&ctx->text), json_true()) < 0)
        return -1;
    /* The link's fragment is percent-encoded: browsers decode it before matching the id. */
    struct buf href;
    buf_init(&href, BUF_DEFAULT_MAX);
    int error = render_percent_encode(&href, buf_cstr(&ctx->text), "-_");
    if (error == 0)
        error = render_set_string(object, "md_anchor", &href);
    buf_free(&href);
    return error;
}

static int markdown_walk(json_t *object, const char *kind, void *data)
{
    struct markdown_ctx *ctx = data;
    const char *url = json_string_value(json_object_get(object, "url_safe"));
    if (url) {
        buf_reset(&ctx->text);
        if (render_percent_encode(&ctx->text, url, MARKDOWN_URL_KEEP) < 0 ||
            render_set_string(object, "md_url", &ctx->text) < 0)
            return -1;
    }
    if (strcmp(kind, "control") == 0) {
        struct buf heading;
        const char *id = json_string_value(json_object_get(object, "id"));
        const char *title = json_string_value(json_object_get(object, "title"));
        int error = 0;
        buf_init(&heading, BUF_DEFAULT_MAX);
        /* The slug is made from the text as a reader sees it: invalid UTF-8 already U+FFFD. */
        if (escape_text(&heading, id ? id : "", id ? strlen(id) : 0) < 0 ||
            buf_putc(&heading, ' ') < 0 ||
            escape_text(&heading, title ? title : "", title ? strlen(title) : 0) < 0)
            error = -1;
        if (error == 0)
            error = github_slug(ctx, object, buf_cstr(&heading));
        buf_free(&heading);
        return error;
    }
    return 0;
}

static int markdown_decorate(json_t *view, struct diagnostics *d)
{
    static const char *const headings[] = {"contents", "summary", "controls", NULL};
    struct markdown_ctx ctx = {.slugs = json_object()};
    int error = 0;
    buf_init(&ctx.text, BUF_DEFAULT_MAX);
    if (!ctx.slugs)
        error = -1;
    for (size_t i = 0; !error && headings[i]; i++)
        error = json_object_set_new(ctx.slugs, headings[i], json_true());
    if (!error)
        error = render_walk(view, markdown_walk, &ctx);
    buf_free(&ctx.text);
    json_decref(ctx.slugs);
    return error < 0 ? diag_error(d, DDB_ERUNTIME, "out of memory") : 0;
}

const struct render_format render_format_markdown = {
    .name = "md",
    .template = "report.md",
    .file_name = "report.md",
    .escape = escape_markdown_cell,
    .decorate = markdown_decorate,
};
