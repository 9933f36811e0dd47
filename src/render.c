/* The shared half of the renderer: finds templates, builds the view model from report.json and
 * drives the Mustache engine with the format's escaper. It must not decide a status or read
 * evidence: everything it prints comes from the report. */
#include "render.h"
#include "buf.h"
#include "diag.h"
#include "fsutil.h"
#include "mustache.h"
#include "resources.h"

#include <cmark.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_SUFFIX ".mustache"
#define TEMPLATE_MAX_SIZE ((size_t)16 << 20)
/* RFC 3986 unreserved and reserved characters, less the brackets (legal only around an IPv6
 * host) and the '#' render_url_encode treats itself, plus '%' of an escape. */
#define URL_LEGAL "-._~:/?@!$&'()*+,;=%"
#define CHART_BAR_MAX 320 /* pixels for the longest bar of the summary chart */

const struct render_format *const render_packet_formats[] = {
    &render_format_html,
    &render_format_markdown,
    &render_format_xml,
    &render_format_confluence,
    NULL,
};

static const struct render_format *const all_formats[] = {
    &render_format_html,        &render_format_markdown,
    &render_format_xml,         &render_format_confluence,
    &render_format_ticket_md,   &render_format_ticket_jira,
    &render_format_ticket_html, NULL,
};

const struct render_format *render_format_find(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "markdown") == 0)
        name = "md";
    for (size_t i = 0; all_formats[i]; i++)
        if (strcmp(all_formats[i]->name, name) == 0)
            return all_formats[i];
    return NULL;
}

/* ---- Bundled templates ---- */

int render_bundled_dir(char **out, struct diagnostics *d)
{
    char *probe = resources_path("templates/report.html" TEMPLATE_SUFFIX);
    if (!probe)
        return diag_error(d, DDB_EINPUT,
                          "cannot find the bundled templates/ (set DDBAUDIT_DATA_DIR to the "
                          "directory holding it)");
    free(probe);
    *out = resources_path("templates");
    return *out ? 0 : diag_error(d, DDB_ERUNTIME, "out of memory");
}

/* ---- The renderer: search path and compiled templates ---- */

struct compiled {
    char *name;
    struct mustache_template *template;
};

struct renderer {
    char *dirs[2];
    size_t dir_count;
    struct mustache_dir_loader loader;
    struct mustache_cache *cache;
    struct compiled *templates;
    size_t template_count;
};

int render_new(struct renderer **out, const char *user_dir, struct diagnostics *d)
{
    int error = 0;
    struct renderer *renderer = calloc(1, sizeof(*renderer));
    if (!renderer)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    if (user_dir) {
        if (!fs_is_dir(user_dir)) {
            error = diag_error(d, DDB_EUSAGE, "--templates %s: not a directory", user_dir);
            goto done;
        }
        if (!(renderer->dirs[renderer->dir_count++] = strdup(user_dir))) {
            error = diag_error(d, DDB_ERUNTIME, "out of memory");
            goto done;
        }
    }
    if ((error = render_bundled_dir(&renderer->dirs[renderer->dir_count], d)) < 0)
        goto done;
    renderer->dir_count++;
    if (mustache_cache_new(&renderer->cache) < 0) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    renderer->loader.dirs = (const char *const *)renderer->dirs;
    renderer->loader.dir_count = renderer->dir_count;
    renderer->loader.suffix = TEMPLATE_SUFFIX;
    renderer->loader.max_size = TEMPLATE_MAX_SIZE;
    *out = renderer;
    renderer = NULL;
done:
    render_free(renderer);
    return error;
}

void render_free(struct renderer *renderer)
{
    if (!renderer)
        return;
    for (size_t i = 0; i < renderer->dir_count; i++)
        free(renderer->dirs[i]);
    for (size_t i = 0; i < renderer->template_count; i++) {
        free(renderer->templates[i].name);
        mustache_free(renderer->templates[i].template);
    }
    free(renderer->templates);
    mustache_cache_free(renderer->cache);
    free(renderer);
}

static int template_get(const struct mustache_template **out, struct renderer *renderer,
                        const char *name, struct diagnostics *d)
{
    for (size_t i = 0; i < renderer->template_count; i++)
        if (strcmp(renderer->templates[i].name, name) == 0) {
            *out = renderer->templates[i].template;
            return 0;
        }
    char *text = NULL, *source_name = NULL;
    size_t len = 0;
    struct mustache_template *template = NULL;
    int error = mustache_load_from_dirs(&text, &len, &source_name, name, &renderer->loader, d);
    if (error < 0)
        goto done;
    if (!text) {
        error =
            diag_error(d, DDB_EINPUT, "template %s%s not found in %s%s%s", name, TEMPLATE_SUFFIX,
                       renderer->dirs[0], renderer->dir_count > 1 ? " or " : "",
                       renderer->dir_count > 1 ? renderer->dirs[1] : "");
        goto done;
    }
    if ((error = mustache_compile(&template, source_name ? source_name : name, text, len, d)) < 0)
        goto done;
    struct compiled *grown =
        realloc(renderer->templates, (renderer->template_count + 1) * sizeof(*grown));
    char *copy = strdup(name);
    if (!grown || !copy) {
        if (grown)
            renderer->templates = grown;
        free(copy);
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    renderer->templates = grown;
    renderer->templates[renderer->template_count].name = copy;
    renderer->templates[renderer->template_count].template = template;
    renderer->template_count++;
    *out = template;
    template = NULL;
done:
    mustache_free(template);
    free(text);
    free(source_name);
    return error;
}

int render_prepare(struct renderer *renderer, const struct render_format *format, json_t *view,
                   struct diagnostics *d)
{
    int error;
    const struct mustache_template *template = NULL;
    if (format->decorate && (error = format->decorate(view, d)) < 0)
        return error;
    return template_get(&template, renderer, format->template, d);
}

static int render_with_cache(struct buf *out, const struct renderer *renderer,
                             const struct render_format *format, json_t *view,
                             struct mustache_cache *cache, struct diagnostics *d)
{
    const struct mustache_template *template = NULL;
    for (size_t i = 0; i < renderer->template_count; i++)
        if (strcmp(renderer->templates[i].name, format->template) == 0)
            template = renderer->templates[i].template;
    if (!template)
        return diag_error(d, DDB_ERUNTIME, "template %s was not prepared", format->template);
    struct mustache_options options = {
        .escape = format->escape,
        .load_partial = mustache_load_from_dirs,
        .partial_ctx = (void *)&renderer->loader,
        .cache = cache,
    };
    return mustache_render(out, template, view, &options, d);
}

int render_prepared(struct buf *out, const struct renderer *renderer,
                    const struct render_format *format, json_t *view, struct diagnostics *d)
{
    /* A cache of partials for this render alone: the shared one is not safe across threads. */
    return render_with_cache(out, renderer, format, view, NULL, d);
}

int render_document(struct buf *out, struct renderer *renderer, const struct render_format *format,
                    json_t *view, struct diagnostics *d)
{
    int error = render_prepare(renderer, format, view, d);
    if (error < 0)
        return error;
    return render_with_cache(out, renderer, format, view, renderer->cache, d);
}

/* ---- Helpers ---- */

int render_url_is_safe(const char *url)
{
    static const char *const schemes[] = {"https://", "http://", "mailto:"};
    if (!url)
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7F)
            return 0;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i]);
        if (strncasecmp(url, schemes[i], n) == 0 && url[n])
            return 1;
    }
    return 0;
}

int render_percent_encode(struct buf *out, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || (*p < 0x80 && *p > 0x20 && strchr(keep, *p));
        if (plain ? buf_putc(out, (char)*p) < 0
                  : buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]) < 0)
            return -1;
    }
    return 0;
}

int render_url_encode(struct buf *out, const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    int fragment = 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || (*p < 0x80 && strchr(URL_LEGAL, *p));
        /* A second '#' is not allowed: the fragment began at the first. */
        if (*p == '#') {
            plain = !fragment;
            fragment = 1;
        }
        if (*p == '%' && !(isxdigit(p[1]) && isxdigit(p[2])))
            plain = 0;
        if (plain ? buf_putc(out, (char)*p) < 0
                  : buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]) < 0)
            return -1;
    }
    return 0;
}

int render_set_string(json_t *object, const char *key, struct buf *value)
{
    json_t *string = json_stringn_nocheck(buf_cstr(value), value->len);
    buf_reset(value);
    return string ? json_object_set_new(object, key, string) : -1;
}

static int walk_array(json_t *array, const char *kind,
                      int (*fn)(json_t *object, const char *kind, void *ctx), void *ctx)
{
    size_t i;
    json_t *item;
    int error;
    json_array_foreach(array, i, item)
    {
        if (json_is_object(item) && (error = fn(item, kind, ctx)) < 0)
            return error;
    }
    return 0;
}

int render_walk(json_t *view, int (*fn)(json_t *object, const char *kind, void *ctx), void *ctx)
{
    size_t i, j;
    json_t *control, *finding;
    int error;
    json_array_foreach(json_object_get(view, "controls"), i, control)
    {
        if ((error = fn(control, "control", ctx)) < 0 ||
            (error = walk_array(json_object_get(control, "references"), "reference", fn, ctx)) < 0)
            return error;
        json_array_foreach(json_object_get(control, "findings"), j, finding)
        {
            json_t *exception = json_object_get(finding, "exception");
            json_t *attestation = json_object_get(finding, "attestation");
            if ((error = fn(finding, "finding", ctx)) < 0 ||
                (error = walk_array(json_object_get(finding, "evidence"), "evidence", fn, ctx)) <
                    0 ||
                (json_is_object(exception) && (error = fn(exception, "exception", ctx)) < 0))
                return error;
            if (json_is_object(attestation) &&
                (error = walk_array(json_object_get(attestation, "artifacts"), "artifact", fn,
                                    ctx)) < 0)
                return error;
        }
    }
    return walk_array(json_object_get(view, "exceptions_unmatched"), "unmatched", fn, ctx);
}

/* ---- The view model ---- */

struct status_info {
    const char *name, *label;
};

/* Display order of the summary: what needs attention first. */
static const struct status_info statuses[] = {
    {"remediate", "Remediate"},
    {"review", "Review"},
    {"accepted", "Accepted"},
    {"pass", "Pass"},
    {"not_applicable", "Not applicable"},
};
#define STATUS_KINDS (sizeof(statuses) / sizeof(statuses[0]))

static const struct status_info *status_find(const char *name)
{
    for (size_t i = 0; name && i < STATUS_KINDS; i++)
        if (strcmp(statuses[i].name, name) == 0)
            return &statuses[i];
    return NULL;
}

struct view_builder {
    struct diagnostics *d;
    struct buf text;
    json_t *anchors;                   /* anchors handed out so far: an HTML id must be unique */
    json_t *labels[STATUS_KINDS];      /* "Remediate", ... */
    json_t *classes[STATUS_KINDS + 1]; /* "status-remediate", ..., "status-other" */
    char flags[STATUS_KINDS][24];      /* "is_remediate", ... */
};

static int view_builder_init(struct view_builder *vb, struct diagnostics *d)
{
    memset(vb, 0, sizeof(*vb));
    vb->d = d;
    buf_init(&vb->text, BUF_DEFAULT_MAX);
    vb->anchors = json_object();
    int ok = vb->anchors != NULL;
    for (size_t s = 0; s <= STATUS_KINDS; s++) {
        const char *name = s < STATUS_KINDS ? statuses[s].name : "other";
        char class_name[32];
        snprintf(class_name, sizeof(class_name), "status-%s", name);
        ok &= (vb->classes[s] = json_string(class_name)) != NULL;
        if (s < STATUS_KINDS) {
            ok &= (vb->labels[s] = json_string(statuses[s].label)) != NULL;
            snprintf(vb->flags[s], sizeof(vb->flags[s]), "is_%s", name);
        }
    }
    return ok ? 0 : -1;
}

static void view_builder_free(struct view_builder *vb)
{
    buf_free(&vb->text);
    json_decref(vb->anchors);
    for (size_t s = 0; s <= STATUS_KINDS; s++) {
        json_decref(vb->classes[s]);
        if (s < STATUS_KINDS)
            json_decref(vb->labels[s]);
    }
}

static int shape_error(struct view_builder *vb, const char *pointer, const char *what)
{
    return diag_error(vb->d, DDB_EINPUT, "report.json%s: %s", pointer, what);
}

static int oom(struct view_builder *vb)
{
    return diag_error(vb->d, DDB_ERUNTIME, "out of memory building the view");
}

/* Sets <prefix>status_label and <prefix>status_class from object[<prefix>status]. A status the
 * renderer does not know is an input error for our own statuses; `lenient` (vendor_status,
 * which comes from the catalog's text) shows it as written. */
/* How much add_status adds: findings get only the label (100k of them; a template writes
 * their class as status-{{status}}, which is safe once the status is known to be one of five
 * words), controls the label, the class and the is_<status> flag. */
enum { STATUS_LABEL = 0, STATUS_CLASS = 1, STATUS_FLAG = 2, STATUS_LENIENT = 4 };

static int add_status(struct view_builder *vb, json_t *object, const char *key, const char *pointer,
                      int what)
{
    int lenient = what & STATUS_LENIENT;
    json_t *value = json_object_get(object, key);
    const char *name = json_string_value(value);
    const struct status_info *info = status_find(name);
    char label_key[64], class_key[64];
    size_t key_len = strlen(key);
    if (key_len + 7 > sizeof(label_key))
        return shape_error(vb, pointer, "status key too long");
    memcpy(label_key, key, key_len);
    memcpy(label_key + key_len, "_label", 7);
    memcpy(class_key, key, key_len);
    memcpy(class_key + key_len, "_class", 7);
    if (!info && !(lenient && (!value || json_is_null(value) || name))) {
        buf_reset(&vb->text);
        buf_printf(&vb->text,
                   "/%s is not one of pass, review, remediate, accepted, "
                   "not_applicable",
                   key);
        return shape_error(vb, pointer, vb->text.data);
    }
    /* A 100k-finding report has 100k labels: each known one is one shared string. */
    size_t index = info ? (size_t)(info - statuses) : STATUS_KINDS;
    json_t *label = info ? json_incref(vb->labels[index]) : json_string_nocheck(name ? name : "");
    if (json_object_set_new(object, label_key, label) < 0 ||
        ((what & STATUS_CLASS) && json_object_set(object, class_key, vb->classes[index]) < 0))
        return oom(vb);
    /* Per-status booleans let a template pick a colour without comparing strings. */
    if (info && (what & STATUS_FLAG) &&
        json_object_set_new(object, vb->flags[index], json_true()) < 0)
        return oom(vb);
    return 0;
}

/* An id made of [a-z0-9-] from `text`, unique within the document. */
static int make_anchor(struct view_builder *vb, json_t *object, const char *prefix,
                       const char *text)
{
    buf_reset(&vb->text);
    if (buf_puts(&vb->text, prefix) < 0)
        return oom(vb);
    int dash = 1;
    for (const unsigned char *p = (const unsigned char *)text; *p && vb->text.len < 80; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (buf_putc(&vb->text, (char)c) < 0)
                return oom(vb);
            dash = 0;
        } else if (!dash) {
            if (buf_putc(&vb->text, '-') < 0)
                return oom(vb);
            dash = 1;
        }
    }
    while (vb->text.len && vb->text.data[vb->text.len - 1] == '-')
        vb->text.data[--vb->text.len] = '\0';
    size_t base = vb->text.len;
    for (unsigned n = 2; json_object_get(vb->anchors, vb->text.data); n++) {
        vb->text.len = base;
        vb->text.data[base] = '\0';
        if (buf_printf(&vb->text, "-%u", n) < 0)
            return oom(vb);
    }
    if (json_object_set_new(vb->anchors, vb->text.data, json_true()) < 0 ||
        json_object_set_new(object, "anchor", json_string(vb->text.data)) < 0)
        return oom(vb);
    return 0;
}

static const char *string_of(json_t *object, const char *key)
{
    const char *s = json_string_value(json_object_get(object, key));
    return s ? s : "";
}

/* Copies `object` shallowly (the view shares unchanged children with the report). */
static json_t *view_object(json_t *object)
{
    return json_is_object(object) ? json_copy(object) : json_object();
}

static int has_visible_text(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s > 0x20)
            return 1;
    return 0;
}

/* url_safe: the URL when it may become a link; link_text: the words to show for it (a link
 * must have a name: the title, else the id, else the URL itself). */
static int add_safe_url(struct view_builder *vb, json_t *object)
{
    static const char *const names[] = {"title", "id", "url", "file"};
    const char *url = json_string_value(json_object_get(object, "url"));
    const char *text = "link";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *candidate = json_string_value(json_object_get(object, names[i]));
        if (has_visible_text(candidate)) {
            text = candidate;
            break;
        }
    }
    if (json_object_set_new(object, "link_text", json_string_nocheck(text)) < 0)
        return oom(vb);
    if (!render_url_is_safe(url))
        return 0;
    /* Characters a URL may not hold (spaces are already refused) are percent-encoded, so the
     * href is a valid URL whatever the ticket system's link looked like. */
    buf_reset(&vb->text);
    if (render_url_encode(&vb->text, url) < 0 ||
        render_set_string(object, "url_safe", &vb->text) < 0)
        return oom(vb);
    return 0;
}

/* A template can't test an array for emptiness without iterating it: has_<key> says. */
static int add_has(struct view_builder *vb, json_t *object, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++) {
        json_t *value = json_object_get(object, keys[i]);
        int has = json_is_array(value) ? json_array_size(value) > 0 : json_is_true(value);
        buf_reset(&vb->text);
        if (buf_printf(&vb->text, "has_%s", keys[i]) < 0 ||
            json_object_set_new(object, vb->text.data, json_boolean(has)) < 0)
            return oom(vb);
    }
    return 0;
}

/* ---- Vendor notes: Markdown made inert once, printed as HTML and as Markdown ---- */

static cmark_node *text_node(const char *literal)
{
    cmark_node *node = cmark_node_new(CMARK_NODE_TEXT);
    if (node && !cmark_node_set_literal(node, literal ? literal : "")) {
        cmark_node_free(node);
        return NULL;
    }
    return node;
}

/* Raw HTML becomes visible text, images become links (a packet must not fetch anything), links
 * with a scheme other than http(s)/mailto lose their link, and headings move below the
 * document's own (h4 and lower) so notes can't break the outline. */
static int sanitize_notes(cmark_node *document)
{
    cmark_iter *iter = cmark_iter_new(document);
    cmark_event_type event;
    cmark_node **pending = NULL; /* nodes to replace after the walk */
    size_t count = 0, capacity = 0;
    int error = 0;
    if (!iter)
        return -1;
    while ((event = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(iter);
        cmark_node_type type = cmark_node_get_type(node);
        if (event != CMARK_EVENT_ENTER)
            continue;
        if (type == CMARK_NODE_HEADING) {
            int level = cmark_node_get_heading_level(node) + 3;
            cmark_node_set_heading_level(node, level > 6 ? 6 : level);
        } else if (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_HTML_INLINE ||
                   type == CMARK_NODE_IMAGE ||
                   (type == CMARK_NODE_LINK && !render_url_is_safe(cmark_node_get_url(node)) &&
                    cmark_node_get_url(node)[0] != '#')) {
            if (count == capacity) {
                size_t grown = capacity ? capacity * 2 : 16;
                cmark_node **bigger = realloc(pending, grown * sizeof(*bigger));
                if (!bigger) {
                    error = -1;
                    goto done;
                }
                pending = bigger;
                capacity = grown;
            }
            pending[count++] = node;
        }
    }
    for (size_t i = count; i-- > 0;) {
        cmark_node *node = pending[i];
        cmark_node_type type = cmark_node_get_type(node);
        cmark_node *replacement = NULL;
        if (type == CMARK_NODE_HTML_BLOCK) {
            replacement = cmark_node_new(CMARK_NODE_CODE_BLOCK);
            if (replacement && !cmark_node_set_literal(replacement, cmark_node_get_literal(node))) {
                cmark_node_free(replacement);
                replacement = NULL;
            }
        } else if (type == CMARK_NODE_HTML_INLINE) {
            replacement = text_node(cmark_node_get_literal(node));
        } else {
            /* An image keeps its alt text; a safe image URL becomes a plain link to it. */
            const char *url = cmark_node_get_url(node);
            replacement = cmark_node_new(type == CMARK_NODE_IMAGE && render_url_is_safe(url)
                                             ? CMARK_NODE_LINK
                                             : CMARK_NODE_EMPH);
            if (replacement && cmark_node_get_type(replacement) == CMARK_NODE_LINK)
                cmark_node_set_url(replacement, url);
            cmark_node *child;
            while (replacement && (child = cmark_node_first_child(node))) {
                cmark_node_unlink(child);
                cmark_node_append_child(replacement, child);
            }
        }
        if (!replacement) {
            error = -1;
            goto done;
        }
        cmark_node_replace(node, replacement);
        cmark_node_free(node);
    }
done:
    free(pending);
    cmark_iter_free(iter);
    return error;
}

static int add_vendor_notes(struct view_builder *vb, json_t *control)
{
    const char *notes = string_of(control, "vendor_notes");
    int error = 0;
    char *html = NULL, *markdown = NULL;
    cmark_node *document = NULL;
    /* cmark passes control characters through; XML (Confluence) forbids them. */
    buf_reset(&vb->text);
    if (escape_text(&vb->text, notes, strlen(notes)) < 0)
        return oom(vb);
    document = cmark_parse_document(buf_cstr(&vb->text), vb->text.len,
                                    CMARK_OPT_SAFE | CMARK_OPT_NOBREAKS);
    if (!document || sanitize_notes(document) < 0 ||
        !(html = cmark_render_html(document, CMARK_OPT_SAFE)) ||
        !(markdown = cmark_render_commonmark(document, CMARK_OPT_SAFE, 0)) ||
        json_object_set_new(control, "vendor_notes_html", json_string_nocheck(html)) < 0 ||
        json_object_set_new(control, "vendor_notes_md", json_string_nocheck(markdown)) < 0)
        error = oom(vb);
    free(html);
    free(markdown);
    if (document)
        cmark_node_free(document);
    return error;
}

/* ---- Findings ---- */

static int view_evidence(struct view_builder *vb, json_t **out, json_t *evidence,
                         const char *pointer)
{
    size_t i;
    json_t *item, *list = json_array();
    if (!list)
        return oom(vb);
    if (evidence && !json_is_array(evidence)) {
        json_decref(list);
        return shape_error(vb, pointer, "evidence is not an array");
    }
    json_array_foreach(evidence, i, item)
    {
        json_t *view = view_object(item);
        json_t *value = json_object_get(item, "value");
        char *text = value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        /* value_json is "" only when there is no value (null prints as "null"), so templates
         * test it with {{#value_json}}. */
        if (!view || json_array_append_new(list, view) < 0 ||
            json_object_set_new(view, "value_json", json_string_nocheck(text ? text : "")) < 0) {
            free(text);
            json_decref(list);
            return oom(vb);
        }
        free(text);
    }
    *out = list;
    return 0;
}

static int view_finding(struct view_builder *vb, json_t **out, json_t *finding, const char *pointer)
{
    int error = 0;
    json_t *view = view_object(finding), *evidence = NULL;
    if (!view)
        return oom(vb);
    if (!json_is_object(finding) || !json_is_string(json_object_get(finding, "resource"))) {
        error = shape_error(vb, pointer, "finding needs a string \"resource\"");
        goto done;
    }
    if ((error = add_status(vb, view, "status", pointer, STATUS_LABEL)) < 0)
        goto done;
    json_t *original = json_object_get(view, "original_status");
    if (original && !status_find(json_string_value(original))) {
        error = shape_error(vb, pointer,
                            "/original_status is not one of pass, review, "
                            "remediate, accepted, not_applicable");
        goto done;
    }
    if (original && strcmp(json_string_value(original), string_of(view, "status")) != 0 &&
        ((error = add_status(vb, view, "original_status", pointer, STATUS_LABEL)) < 0 ||
         json_object_set_new(view, "status_changed", json_true()) < 0)) {
        error = error ? error : oom(vb);
        goto done;
    }
    if ((error = view_evidence(vb, &evidence, json_object_get(finding, "evidence"), pointer)) < 0)
        goto done;
    if (json_object_set_new(view, "evidence", evidence) < 0) {
        error = oom(vb);
        goto done;
    }
    json_t *exception = json_object_get(finding, "exception");
    if (json_is_object(exception)) {
        json_t *copy = json_copy(exception);
        const char *state = string_of(exception, "state");
        if (!copy || json_object_set_new(view, "exception", copy) < 0 ||
            json_object_set_new(copy, "is_current", json_boolean(strcmp(state, "current") == 0)) <
                0 ||
            (error = add_safe_url(vb, copy)) < 0) {
            error = error ? error : oom(vb);
            goto done;
        }
    }
    json_t *attestation = json_object_get(finding, "attestation");
    if (json_is_object(attestation)) {
        json_t *copy = json_copy(attestation), *artifacts = json_array();
        size_t i;
        json_t *artifact;
        if (!copy || !artifacts || json_object_set_new(view, "attestation", copy) < 0 ||
            json_object_set_new(copy, "artifacts", artifacts) < 0) {
            error = oom(vb);
            goto done;
        }
        json_array_foreach(json_object_get(attestation, "artifacts"), i, artifact)
        {
            json_t *item = view_object(artifact);
            if (!item || json_array_append_new(artifacts, item) < 0 ||
                (error = add_safe_url(vb, item)) < 0) {
                error = error ? error : oom(vb);
                goto done;
            }
        }
    }
    *out = view;
    view = NULL;
done:
    json_decref(view);
    return error;
}

static int view_control(struct view_builder *vb, json_t **out, json_t *control, size_t index)
{
    char pointer[64];
    int error = 0;
    size_t i;
    json_t *finding, *item;
    json_t *view = view_object(control), *findings = json_array(), *references = json_array();
    size_t per_status[STATUS_KINDS] = {0};
    snprintf(pointer, sizeof(pointer), "/controls/%zu", index);
    if (!view || !findings || !references) {
        error = oom(vb);
        goto done;
    }
    if (!json_is_object(control) || !json_is_string(json_object_get(control, "id"))) {
        error = shape_error(vb, pointer, "control needs a string \"id\"");
        goto done;
    }
    json_t *report_findings = json_object_get(control, "findings");
    if (report_findings && !json_is_array(report_findings)) {
        error = shape_error(vb, pointer, "\"findings\" is not an array");
        goto done;
    }
    if ((error = add_status(vb, view, "status", pointer, STATUS_CLASS | STATUS_FLAG)) < 0 ||
        (error = add_status(vb, view, "vendor_status", pointer, STATUS_CLASS | STATUS_LENIENT)) <
            0 ||
        (error = make_anchor(vb, view, "control-", string_of(control, "id"))) < 0 ||
        (error = add_vendor_notes(vb, view)) < 0)
        goto done;
    json_array_foreach(report_findings, i, finding)
    {
        char finding_pointer[96];
        json_t *finding_view = NULL;
        snprintf(finding_pointer, sizeof(finding_pointer), "%s/findings/%zu", pointer, i);
        if ((error = view_finding(vb, &finding_view, finding, finding_pointer)) < 0)
            goto done;
        if (json_array_append_new(findings, finding_view) < 0) {
            error = oom(vb);
            goto done;
        }
        const struct status_info *info = status_find(string_of(finding, "status"));
        per_status[info - statuses]++;
    }
    json_array_foreach(json_object_get(control, "references"), i, item)
    {
        json_t *reference = view_object(item);
        if (!reference || json_array_append_new(references, reference) < 0 ||
            (error = add_safe_url(vb, reference)) < 0) {
            error = error ? error : oom(vb);
            goto done;
        }
    }
    /* "3 Remediate, 9 Pass": the findings behind the status at a glance. */
    buf_reset(&vb->text);
    for (size_t s = 0; s < STATUS_KINDS; s++) {
        if (!per_status[s])
            continue;
        if ((vb->text.len && buf_puts(&vb->text, ", ") < 0) ||
            buf_printf(&vb->text, "%zu %s", per_status[s], statuses[s].label) < 0) {
            error = oom(vb);
            goto done;
        }
    }
    if (render_set_string(view, "finding_summary", &vb->text) < 0 ||
        json_object_set_new(view, "number", json_integer((json_int_t)index + 1)) < 0 ||
        json_object_set_new(view, "finding_count",
                            json_integer((json_int_t)json_array_size(findings))) < 0 ||
        json_object_set(view, "findings", findings) < 0 ||
        json_object_set(view, "references", references) < 0) {
        error = oom(vb);
        goto done;
    }
    static const char *const arrays[] = {
        "findings", "references", "notes", "sources", "evidence_operations", "exceptions", NULL};
    if ((error = add_has(vb, view, arrays)) < 0)
        goto done;
    *out = view;
    view = NULL;
done:
    json_decref(findings);
    json_decref(references);
    json_decref(view);
    return error;
}

/* The summary table and chart rows, from the report's own counts (the renderer never counts
 * statuses itself: "summary" is what the evaluator decided). */
static int view_summary(struct view_builder *vb, json_t *view, json_t *report)
{
    json_t *summary = json_object_get(report, "summary");
    json_t *controls = json_object_get(summary, "controls");
    json_t *findings = json_object_get(summary, "findings");
    json_t *rows = json_array();
    json_int_t max = 0, control_total = 0, finding_total = 0;
    if (!rows)
        return oom(vb);
    if (json_object_set_new(view, "summary_rows", rows) < 0)
        return oom(vb);
    for (size_t s = 0; s < STATUS_KINDS; s++) {
        json_int_t n = json_integer_value(json_object_get(controls, statuses[s].name));
        if (n > max)
            max = n;
    }
    for (size_t s = 0; s < STATUS_KINDS; s++) {
        json_int_t c = json_integer_value(json_object_get(controls, statuses[s].name));
        json_int_t f = json_integer_value(json_object_get(findings, statuses[s].name));
        json_int_t width = max > 0 ? c * CHART_BAR_MAX / max : 0;
        control_total += c;
        finding_total += f;
        buf_reset(&vb->text);
        json_t *row =
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "status", statuses[s].name,
                      "label", statuses[s].label, "controls", c, "findings", f, "bar_width",
                      width > 0 || c == 0 ? width : 1, "bar_y", (json_int_t)(8 + 32 * s), "text_y",
                      (json_int_t)(27 + 32 * s), "count_x", width + 178);
        if (!row || json_array_append_new(rows, row) < 0 ||
            buf_printf(&vb->text, "status-%s", statuses[s].name) < 0 ||
            json_object_set_new(row, "status_class", json_string(vb->text.data)) < 0)
            return oom(vb);
        buf_reset(&vb->text);
        if (buf_printf(&vb->text, "is_%s", statuses[s].name) < 0 ||
            json_object_set_new(row, vb->text.data, json_true()) < 0)
            return oom(vb);
    }
    if (json_object_set_new(view, "summary_controls_total", json_integer(control_total)) < 0 ||
        json_object_set_new(view, "summary_findings_total", json_integer(finding_total)) < 0 ||
        json_object_set_new(view, "chart_height",
                            json_integer((json_int_t)(16 + 32 * STATUS_KINDS))) < 0)
        return oom(vb);
    return 0;
}

static int join_regions(struct view_builder *vb, json_t *view, json_t *inputs)
{
    size_t i;
    json_t *region;
    buf_reset(&vb->text);
    json_array_foreach(json_object_get(inputs, "regions"), i, region)
    {
        if ((i && buf_puts(&vb->text, ", ") < 0) ||
            buf_puts(&vb->text, json_string_value(region) ? json_string_value(region) : "") < 0)
            return oom(vb);
    }
    return render_set_string(view, "regions_text", &vb->text) < 0 ? oom(vb) : 0;
}

/* ---- Sections: the access matrix and the activity in the period ----
 *
 * Both come from analyses whose shapes are documented with them (policy.c "Access matrix shape",
 * docs/cloudtrail.md "What it reports"); everything the templates need from them is derived here
 * and nowhere else, so a change of shape is a change to this part of the file. Values are shared
 * with the report wherever they are printed unchanged (json_object_set increments), so the view
 * costs one small object per row, not a copy of the section. Missing fields print as empty:
 * these sections are evidence summaries, not verdicts, and an unexpected shape must not stop the
 * packet; only what would print something false (a statement reference to nothing) is an error. */

static int set_text(struct view_builder *vb, json_t *object, const char *key)
{
    return render_set_string(object, key, &vb->text) < 0 ? oom(vb) : 0;
}

/* Appends a JSON string's bytes (all of them, NULs included), or a scalar as JSON text. */
static int put_value(struct buf *b, json_t *value)
{
    if (json_is_string(value))
        return buf_append(b, json_string_value(value), json_string_length(value));
    if (!value || json_is_null(value))
        return 0;
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    int error = text ? buf_puts(b, text) : -1;
    free(text);
    return error;
}

/* vb->text = the array's items joined by `separator`; with `readable`, underscores become
 * spaces ("table_deleted" reads "table deleted"). */
static int join_array(struct view_builder *vb, json_t *array, const char *separator, int readable)
{
    size_t i;
    json_t *item;
    buf_reset(&vb->text);
    json_array_foreach(array, i, item)
    {
        size_t start = vb->text.len;
        if ((i && buf_puts(&vb->text, separator) < 0) || put_value(&vb->text, item) < 0)
            return oom(vb);
        for (size_t k = start; readable && k < vb->text.len; k++)
            if (vb->text.data[k] == '_')
                vb->text.data[k] = ' ';
    }
    return 0;
}

/* A word the analysis writes ("role", "allowed", "ok") as a label for people; a word it does
 * not know is shown as written. */
struct word_label {
    const char *word, *label;
};

static int set_label(struct view_builder *vb, json_t *object, const char *key,
                     const char *label_key, const struct word_label *labels)
{
    json_t *value = json_object_get(object, key);
    const char *word = json_string_value(value);
    for (size_t i = 0; word && labels[i].word; i++)
        if (strcmp(word, labels[i].word) == 0)
            return json_object_set_new(object, label_key, json_string(labels[i].label)) < 0
                       ? oom(vb)
                       : 0;
    buf_reset(&vb->text);
    if (put_value(&vb->text, value) < 0)
        return oom(vb);
    return set_text(vb, object, label_key);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A JSON object's members as an array sorted by name, each {name_key: name, ...}: an object
 * value's members are merged in, a scalar one becomes "count". For the activity's per-source
 * counters, whose order in the file is not part of the format. */
static int object_rows(struct view_builder *vb, json_t **out, json_t *object, const char *name_key)
{
    size_t n = json_is_object(object) ? json_object_size(object) : 0, k = 0;
    const char **names = n ? malloc(n * sizeof(*names)) : NULL;
    json_t *rows = json_array(), *value;
    const char *name;
    if ((n && !names) || !rows)
        goto fail;
    json_object_foreach(object, name, value) names[k++] = name;
    if (n > 1) /* qsort must not be given a NULL array, even empty */
        qsort(names, n, sizeof(*names), compare_names);
    for (k = 0; k < n; k++) {
        json_t *member = json_object_get(object, names[k]);
        json_t *row = json_is_object(member) ? json_copy(member) : json_object();
        if (!row || json_array_append_new(rows, row) < 0 ||
            json_object_set_new(row, name_key, json_string_nocheck(names[k])) < 0 ||
            (!json_is_object(member) && json_object_set(row, "count", member) < 0))
            goto fail;
    }
    free(names);
    *out = rows;
    return 0;
fail:
    free(names);
    json_decref(rows);
    return oom(vb);
}

/* ---- The access matrix ---- */

#define ACCESS_GROUPS 3 /* the matrix's columns: read, write, admin (describe is in "actions") */

static const char *const access_groups[ACCESS_GROUPS] = {"read", "write", "admin"};
#define ACCESS_DENY (1u << ACCESS_GROUPS) /* in access_builder.statement_groups */

static const struct word_label principal_types[] = {
    {"user", "IAM user"},          {"role", "IAM role"},       {"external", "Other account"},
    {"public", "Anyone (public)"}, {"service", "AWS service"}, {NULL, NULL},
};

static const struct word_label statement_sources[] = {
    {"managed", "managed policy"},   {"inline", "inline policy"},
    {"resource", "resource policy"}, {"boundary", "permissions boundary"},
    {"trust", "trust policy"},       {"endpoint", "VPC endpoint policy"},
    {"key", "key policy"},           {NULL, NULL},
};

struct access_builder {
    json_t *statements; /* the view's statements, shared by every row that cites them */
    json_t *states[2];  /* {state, label, is_allowed|is_conditional}, copied into each cell */
    json_t *no_access;  /* {state: "none", label: "None", is_none} */
    /* Per statement: bit g set when its actions fall in access_groups[g] (its "groups") and
     * ACCESS_DENY when it denies; its citation in a cell as the first ({ref, anchor}) and as a
     * later one (separator ", "), shared by every cell that cites it. */
    unsigned char *statement_groups;
    json_t *cites_first, *cites_later;
    size_t rows;
};

/* One statement of access.statements as the templates show it: S<n>, its anchor, where it comes
 * from in words, "statement 2 (Sid X)", whether it denies, and each condition on one line. */
static int access_statement(struct view_builder *vb, json_t **out, json_t *statement, size_t index)
{
    json_t *view = view_object(statement), *conditions = json_array(), *condition;
    size_t i;
    if (!view || !conditions)
        goto fail;
    json_t *sid = json_object_get(statement, "sid");
    buf_reset(&vb->text);
    if (buf_puts(&vb->text, "statement ") < 0 ||
        put_value(&vb->text, json_object_get(statement, "statement")) < 0 ||
        (json_is_string(sid) && (buf_puts(&vb->text, " (Sid ") < 0 ||
                                 put_value(&vb->text, sid) < 0 || buf_putc(&vb->text, ')') < 0)) ||
        render_set_string(view, "statement_label", &vb->text) < 0 ||
        buf_printf(&vb->text, "S%zu", index + 1) < 0 ||
        render_set_string(view, "ref", &vb->text) < 0 ||
        buf_printf(&vb->text, "access-s%zu", index + 1) < 0 ||
        render_set_string(view, "anchor", &vb->text) < 0 ||
        json_object_set_new(view, "is_deny",
                            json_boolean(strcmp(string_of(statement, "effect"), "Deny") == 0)) <
            0 ||
        set_label(vb, view, "source", "source_label", statement_sources) < 0)
        goto fail;
    json_array_foreach(json_object_get(statement, "conditions"), i, condition)
    {
        json_t *item = view_object(condition);
        if (!item || json_array_append_new(conditions, item) < 0 ||
            join_array(vb, json_object_get(condition, "values"), ", ", 0) < 0 ||
            render_set_string(item, "values_text", &vb->text) < 0)
            goto fail;
    }
    if (json_object_set_new(view, "has_conditions", json_boolean(json_array_size(conditions))) <
            0 ||
        json_object_set_new(view, "conditions", conditions) < 0) {
        conditions = NULL;
        goto fail;
    }
    *out = view;
    return 0;
fail:
    json_decref(conditions);
    json_decref(view);
    return oom(vb);
}

/* One row of the matrix: a principal's access to every table (`tables` NULL) or to a group of
 * tables with identical access; the cells read/write/admin, the actions and the statements. */
static int access_row(struct view_builder *vb, struct access_builder *ab, json_t *rows,
                      json_t *cell, json_t *tables, const char *pointer)
{
    size_t i;
    json_t *reference, *row = json_object(), *grants = json_array();
    if (!row || !grants || json_array_append_new(rows, row) < 0) {
        json_decref(grants);
        return oom(vb);
    }
    if (json_object_set_new(row, "grants", grants) < 0)
        return oom(vb);
    json_t *references = json_object_get(cell, "statements");
    json_array_foreach(references, i, reference)
    {
        json_t *statement =
            json_is_integer(reference)
                ? json_array_get(ab->statements, (size_t)json_integer_value(reference))
                : NULL;
        if (!statement || json_integer_value(reference) < 0)
            return shape_error(vb, pointer, "cites a statement that access.statements lacks");
        if (json_array_append(grants, statement) < 0)
            return oom(vb);
    }
    for (int g = 0; g < ACCESS_GROUPS; g++) {
        json_t *value = json_object_get(cell, access_groups[g]);
        const char *state = json_string_value(value);
        json_t *shown = !value || json_is_null(value)            ? json_copy(ab->no_access)
                        : state && strcmp(state, "allowed") == 0 ? json_copy(ab->states[0])
                        : state && strcmp(state, "conditional") == 0
                            ? json_copy(ab->states[1])
                            : json_pack("{s:s, s:b}", "state", "other", "is_other", 1);
        if (!shown || json_object_set_new(row, access_groups[g], shown) < 0)
            return oom(vb); /* json_object_set_new released `shown` */
        json_t *cites = json_array();
        if (!cites || json_object_set_new(shown, "cites", cites) < 0)
            return oom(vb);
        if (json_is_true(json_object_get(shown, "is_other"))) { /* a state this renderer does
                                                                   not know: shown as written */
            buf_reset(&vb->text);
            if (put_value(&vb->text, value) < 0 || render_set_string(shown, "label", &vb->text))
                return oom(vb);
        }
        /* The cell cites the row's statements whose actions fall in its group: the Allows that
         * grant them and the Denys that narrow them. A Deny where nothing of the group is
         * allowed narrows nothing and is not cited. */
        int granted = 0;
        json_array_foreach(references, i, reference)
        {
            unsigned char groups = ab->statement_groups[json_integer_value(reference)];
            granted |= (groups & (1u << g)) && !(groups & ACCESS_DENY);
        }
        json_array_foreach(references, i, reference)
        {
            size_t at = (size_t)json_integer_value(reference);
            if (!granted || !(ab->statement_groups[at] & (1u << g)))
                continue;
            json_t *cite =
                json_array_get(json_array_size(cites) ? ab->cites_later : ab->cites_first, at);
            if (json_array_append(cites, cite) < 0)
                return oom(vb);
        }
        if (json_object_set_new(shown, "has_cites", json_boolean(json_array_size(cites))) < 0)
            return oom(vb);
    }
    size_t table_count = json_array_size(tables);
    buf_reset(&vb->text);
    if (tables ? buf_printf(&vb->text, "%zu table%s", table_count, table_count == 1 ? "" : "s")
               : buf_puts(&vb->text, "All tables") < 0)
        return oom(vb);
    if (render_set_string(row, "scope_label", &vb->text) < 0 ||
        json_object_set_new(row, "all_tables", json_boolean(!tables)) < 0 ||
        (tables && json_object_set(row, "tables", tables) < 0) ||
        json_object_set_new(row, "table_count", json_integer((json_int_t)table_count)) < 0 ||
        json_object_set_new(row, "first", json_boolean(json_array_size(rows) == 1)) < 0 ||
        json_object_set_new(row, "has_grants", json_boolean(json_array_size(grants))) < 0)
        return oom(vb);
    static const char *const shared[] = {"actions", "conditional_actions", NULL};
    for (size_t k = 0; shared[k]; k++) {
        json_t *value = json_object_get(cell, shared[k]);
        if (json_is_string(value) && json_object_set(row, shared[k], value) < 0)
            return oom(vb);
    }
    int enforced = json_is_true(json_object_get(cell, "transport_enforced"));
    if (json_object_set_new(row, "transport_enforced", json_boolean(enforced)) < 0 ||
        json_object_set_new(row, "transport_label", json_string(enforced ? "Yes" : "No")) < 0)
        return oom(vb);
    ab->rows++;
    return 0;
}

static int access_principal(struct view_builder *vb, struct access_builder *ab, json_t **out,
                            json_t *principal, size_t index)
{
    char pointer[96];
    size_t i;
    int error = 0;
    json_t *group, *view = json_object(), *rows = json_array();
    snprintf(pointer, sizeof(pointer), "/access/principals/%zu", index);
    if (!view || !rows || json_object_set_new(view, "rows", rows) < 0) {
        json_decref(view);
        return oom(vb);
    }
    static const char *const shared[] = {"arn", "name", "type", NULL};
    for (size_t k = 0; shared[k]; k++) {
        json_t *value = json_object_get(principal, shared[k]);
        if (value && json_object_set(view, shared[k], value) < 0) {
            error = oom(vb);
            goto done;
        }
    }
    if ((error = set_label(vb, view, "type", "type_label", principal_types)) < 0)
        goto done;
    buf_reset(&vb->text);
    if (buf_printf(&vb->text, "access-p%zu", index + 1) < 0 ||
        render_set_string(view, "anchor", &vb->text) < 0) {
        error = oom(vb);
        goto done;
    }
    json_t *all = json_object_get(principal, "all_tables");
    if (json_is_object(all) && (error = access_row(vb, ab, rows, all, NULL, pointer)) < 0)
        goto done;
    json_array_foreach(json_object_get(principal, "tables"), i, group)
    {
        char group_pointer[128];
        snprintf(group_pointer, sizeof(group_pointer), "%s/tables/%zu", pointer, i);
        json_t *tables = json_object_get(group, "tables");
        if (!json_is_object(group) || !json_is_array(tables)) {
            error = shape_error(vb, group_pointer, "needs an array \"tables\"");
            goto done;
        }
        if ((error = access_row(vb, ab, rows, group, tables, group_pointer)) < 0)
            goto done;
    }
    if (json_object_set_new(view, "row_count", json_integer((json_int_t)json_array_size(rows))) <
        0) {
        error = oom(vb);
        goto done;
    }
    *out = view;
    view = NULL;
done:
    json_decref(view);
    return error;
}

/* view.access: the matrix grouped by principal, one row per principal for "all tables" and one
 * per group of tables with identical access, each citing the statements behind it; the
 * statements once, in a table of their own; the tables with a resource policy. The size is that
 * of report.json's own "access" (which holds no empty cell), never principals x tables. */
static int view_access(struct view_builder *vb, json_t *view, json_t *report)
{
    json_t *access = json_object_get(report, "access");
    struct access_builder ab = {0};
    json_t *out = NULL, *principals = NULL, *policy_tables = NULL, *item;
    size_t i;
    int error = 0;
    if (!json_is_object(access))
        return 0; /* null: the templates say the analysis was not available */
    out = json_object();
    ab.statements = json_array();
    principals = json_array();
    policy_tables = json_array();
    ab.states[0] =
        json_pack("{s:s, s:s, s:b}", "state", "allowed", "label", "Allowed", "is_allowed", 1);
    ab.states[1] = json_pack("{s:s, s:s, s:b}", "state", "conditional", "label", "Conditional",
                             "is_conditional", 1);
    ab.no_access = json_pack("{s:s, s:s, s:b}", "state", "none", "label", "None", "is_none", 1);
    if (!out || !ab.statements || !principals || !policy_tables || !ab.states[0] || !ab.states[1] ||
        !ab.no_access) {
        error = oom(vb);
        goto done;
    }
    json_t *statements = json_object_get(access, "statements");
    ab.cites_first = json_array();
    ab.cites_later = json_array();
    ab.statement_groups = calloc(json_array_size(statements) + 1, 1);
    if (!ab.cites_first || !ab.cites_later || !ab.statement_groups) {
        error = oom(vb);
        goto done;
    }
    json_array_foreach(statements, i, item)
    {
        json_t *statement = NULL, *group;
        size_t k;
        if ((error = access_statement(vb, &statement, item, i)) < 0)
            goto done;
        if (json_array_append_new(ab.statements, statement) < 0) {
            error = oom(vb);
            goto done;
        }
        if (strcmp(string_of(item, "effect"), "Deny") == 0)
            ab.statement_groups[i] |= (unsigned char)ACCESS_DENY;
        json_array_foreach(json_object_get(item, "groups"), k, group)
        {
            for (int g = 0; g < ACCESS_GROUPS; g++)
                if (json_is_string(group) &&
                    strcmp(json_string_value(group), access_groups[g]) == 0)
                    ab.statement_groups[i] |= (unsigned char)(1u << g);
        }
        json_t *ref = json_object_get(statement, "ref"),
               *anchor = json_object_get(statement, "anchor");
        if (json_array_append_new(ab.cites_first, json_pack("{s:O, s:O, s:s}", "ref", ref, "anchor",
                                                            anchor, "separator", "")) < 0 ||
            json_array_append_new(ab.cites_later, json_pack("{s:O, s:O, s:s}", "ref", ref, "anchor",
                                                            anchor, "separator", ", ")) < 0) {
            error = oom(vb);
            goto done;
        }
    }
    json_array_foreach(json_object_get(access, "principals"), i, item)
    {
        json_t *principal = NULL;
        if ((error = access_principal(vb, &ab, &principal, item, i)) < 0)
            goto done;
        if (json_array_append_new(principals, principal) < 0) {
            error = oom(vb);
            goto done;
        }
    }
    json_array_foreach(json_object_get(access, "tables"), i, item)
    {
        if (!json_is_true(json_object_get(item, "resource_policy")))
            continue;
        int enforced = json_is_true(json_object_get(item, "transport_enforced"));
        json_t *table =
            json_pack("{s:O?, s:b, s:s}", "arn", json_object_get(item, "arn"), "transport_enforced",
                      enforced, "transport_label", enforced ? "Yes" : "No");
        if (!table || json_array_append_new(policy_tables, table) < 0) {
            error = oom(vb);
            goto done;
        }
    }
    json_t *malformed = json_object_get(access, "malformed_policies");
    json_t *notes = json_object_get(access, "notes");
    if (json_object_set(out, "statements", ab.statements) < 0 ||
        json_object_set(out, "principals", principals) < 0 ||
        json_object_set(out, "policy_tables", policy_tables) < 0 ||
        json_object_set_new(out, "malformed_policies",
                            json_is_array(malformed) ? json_incref(malformed) : json_array()) < 0 ||
        json_object_set_new(out, "notes",
                            json_is_array(notes) ? json_incref(notes) : json_array()) < 0 ||
        json_object_set_new(
            out, "table_count",
            json_integer((json_int_t)json_array_size(json_object_get(access, "tables")))) < 0 ||
        json_object_set_new(out, "principal_count",
                            json_integer((json_int_t)json_array_size(principals))) < 0 ||
        json_object_set_new(out, "statement_count",
                            json_integer((json_int_t)json_array_size(ab.statements))) < 0 ||
        json_object_set_new(out, "row_count", json_integer((json_int_t)ab.rows)) < 0 ||
        json_object_set_new(out, "policy_table_count",
                            json_integer((json_int_t)json_array_size(policy_tables))) < 0) {
        error = oom(vb);
        goto done;
    }
    static const char *const arrays[] = {"statements",         "principals", "policy_tables",
                                         "malformed_policies", "notes",      NULL};
    if ((error = add_has(vb, out, arrays)) < 0)
        goto done;
    if (json_object_set(view, "access", out) < 0)
        error = oom(vb);
done:
    json_decref(out);
    json_decref(ab.statements);
    json_decref(principals);
    json_decref(policy_tables);
    json_decref(ab.states[0]);
    json_decref(ab.states[1]);
    json_decref(ab.no_access);
    json_decref(ab.cites_first);
    json_decref(ab.cites_later);
    free(ab.statement_groups);
    return error;
}

/* ---- Activity in the period ---- */

static const struct word_label source_statuses[] = {
    {"ok", "Read"},
    {"damaged", "Damaged"},
    {"truncated", "Truncated"},
    {"unreadable", "Unreadable"},
    {NULL, NULL},
};

static const struct word_label policy_change_statuses[] = {
    {"grants_dynamodb", "Grants DynamoDB actions"},
    {"needs_review", "Needs review (document not in the event)"},
    {NULL, NULL},
};

static const struct word_label log_file_statuses[] = {
    {"valid", "Valid"},
    {"missing", "Missing from the copy"},
    {"changed", "Changed since delivery"},
    {"not_covered", "Not covered by a digest"},
    {NULL, NULL},
};

struct activity_builder {
    json_t *files; /* file path -> its view in activity.sources, for events to link to */
};

/* The view of an event's "source" (or a group's "example"): its fields plus `location` in words
 * and, when the file is in activity.sources, that entry's number and anchor to link to. */
static int activity_source(struct view_builder *vb, struct activity_builder *ab, json_t *object,
                           const char *key)
{
    json_t *source = json_object_get(object, key);
    if (!json_is_object(source))
        return 0;
    json_t *view = view_object(source);
    if (!view || json_object_set_new(object, key, view) < 0)
        return oom(vb);
    const char *file = json_string_value(json_object_get(source, "file"));
    json_t *entry = file ? json_object_get(ab->files, file) : NULL;
    json_t *page = json_object_get(source, "page"), *index = json_object_get(source, "index");
    json_t *offset = json_object_get(source, "offset");
    int lookup = strcmp(string_of(entry, "shape"), "lookup-events") == 0;
    buf_reset(&vb->text);
    /* Saved LookupEvents output is found by page and position; a log file by record. */
    if (lookup && json_is_integer(page) &&
        buf_printf(&vb->text, "page %" JSON_INTEGER_FORMAT ", ", json_integer_value(page)) < 0)
        return oom(vb);
    if (json_is_integer(index) &&
        buf_printf(&vb->text, "%s %" JSON_INTEGER_FORMAT, lookup ? "event" : "record",
                   json_integer_value(index)) < 0)
        return oom(vb);
    if (json_is_integer(offset) &&
        buf_printf(&vb->text, "%sbyte offset %" JSON_INTEGER_FORMAT, vb->text.len ? ", " : "",
                   json_integer_value(offset)) < 0)
        return oom(vb);
    if (set_text(vb, view, "location") < 0)
        return oom(vb);
    if (entry && (json_object_set(view, "file_ref", json_object_get(entry, "ref")) < 0 ||
                  json_object_set(view, "file_anchor", json_object_get(entry, "anchor")) < 0))
        return oom(vb);
    return 0;
}

/* A list of events or groups, each with its source linked and its lists in words. */
static int activity_list(struct view_builder *vb, struct activity_builder *ab, json_t *out,
                         const char *key, json_t *list, const char *source_key)
{
    size_t i;
    json_t *item, *views = json_array();
    char has_key[64];
    if (!views || json_object_set_new(out, key, views) < 0)
        return oom(vb);
    json_array_foreach(list, i, item)
    {
        json_t *view = view_object(item);
        int error;
        if (!view || json_array_append_new(views, view) < 0)
            return oom(vb);
        if ((error = activity_source(vb, ab, view, source_key)) < 0)
            return error;
        json_t *concerns = json_object_get(item, "concerns");
        if (json_is_array(concerns) &&
            (join_array(vb, concerns, ", ", 1) < 0 || set_text(vb, view, "concerns_text") < 0))
            return oom(vb);
        json_t *actions = json_object_get(item, "dynamodb_actions");
        if (json_is_array(actions) && (join_array(vb, actions, ", ", 0) < 0 ||
                                       set_text(vb, view, "dynamodb_actions_text") < 0))
            return oom(vb);
        if (json_object_get(item, "status") &&
            (error = set_label(vb, view, "status", "status_label", policy_change_statuses)) < 0)
            return error;
    }
    snprintf(has_key, sizeof(has_key), "has_%s", key);
    return json_object_set_new(out, has_key, json_boolean(json_array_size(views))) < 0 ? oom(vb)
                                                                                       : 0;
}

static int activity_sources(struct view_builder *vb, struct activity_builder *ab, json_t *out,
                            json_t *activity)
{
    size_t i;
    json_t *item, *views = json_array();
    if (!views || json_object_set_new(out, "sources", views) < 0)
        return oom(vb);
    json_array_foreach(json_object_get(activity, "sources"), i, item)
    {
        json_t *view = view_object(item);
        const char *file = json_string_value(json_object_get(item, "file"));
        int error;
        if (!view || json_array_append_new(views, view) < 0)
            return oom(vb);
        buf_reset(&vb->text);
        if (buf_printf(&vb->text, "F%zu", i + 1) < 0 || set_text(vb, view, "ref") < 0 ||
            buf_printf(&vb->text, "activity-f%zu", i + 1) < 0 || set_text(vb, view, "anchor") < 0 ||
            json_object_set_new(view, "is_problem",
                                json_boolean(strcmp(string_of(item, "status"), "ok") != 0)) < 0)
            return oom(vb);
        if ((error = set_label(vb, view, "status", "status_label", source_statuses)) < 0)
            return error;
        /* The first entry for a path wins: report.json lists each file once. */
        if (file && !json_object_get(ab->files, file) && json_object_set(ab->files, file, view) < 0)
            return oom(vb);
    }
    return json_object_set_new(out, "has_sources", json_boolean(json_array_size(views))) < 0
               ? oom(vb)
               : 0;
}

static int activity_period(struct view_builder *vb, json_t *out, json_t *activity)
{
    json_t *period = json_object_get(activity, "period");
    json_t *start = json_object_get(period, "start"), *end = json_object_get(period, "end");
    buf_reset(&vb->text);
    if (!json_is_string(start) && !json_is_string(end)) {
        if (buf_puts(&vb->text, "every event in the files") < 0)
            return oom(vb);
    } else if ((json_is_string(start) ? put_value(&vb->text, start)
                                      : buf_puts(&vb->text, "the first event")) < 0 ||
               buf_puts(&vb->text, " to ") < 0 ||
               (json_is_string(end) ? put_value(&vb->text, end)
                                    : buf_puts(&vb->text, "the last event")) < 0) {
        return oom(vb);
    }
    return set_text(vb, out, "period_text");
}

/* Log integrity, when the scan verified digests: every digest, and the log files that are not
 * valid under a trusted digest (the valid ones are counted in the summary and listed in
 * report.json; an account has tens of thousands). */
static int activity_integrity(struct view_builder *vb, json_t *out, json_t *activity)
{
    json_t *integrity = json_object_get(activity, "integrity");
    json_t *view, *digests, *problems, *item;
    size_t i;
    if (!json_is_object(integrity))
        return 0;
    if (!(view = json_object()) || json_object_set_new(out, "integrity", view) < 0 ||
        !(digests = json_array()) || json_object_set_new(view, "digests", digests) < 0 ||
        !(problems = json_array()) || json_object_set_new(view, "log_file_problems", problems) < 0)
        return oom(vb);
    json_t *summary = json_object_get(integrity, "summary");
    if (json_object_set_new(view, "summary",
                            json_is_object(summary) ? json_incref(summary) : json_object()) < 0)
        return oom(vb);
    json_array_foreach(json_object_get(integrity, "digests"), i, item)
    {
        json_t *digest = view_object(item);
        if (!digest || json_array_append_new(digests, digest) < 0 ||
            join_array(vb, json_object_get(item, "problems"), "; ", 0) < 0 ||
            set_text(vb, digest, "problems_text") < 0 ||
            json_object_set_new(digest, "is_problem",
                                json_boolean(strcmp(string_of(item, "signature"), "valid") != 0 ||
                                             strcmp(string_of(item, "chain"), "broken") == 0)) < 0)
            return oom(vb);
    }
    json_array_foreach(json_object_get(integrity, "log_files"), i, item)
    {
        int error;
        if (strcmp(string_of(item, "status"), "valid") == 0 &&
            json_is_true(json_object_get(item, "digest_trusted")))
            continue;
        json_t *log = view_object(item);
        if (!log || json_array_append_new(problems, log) < 0)
            return oom(vb);
        if ((error = set_label(vb, log, "status", "status_label", log_file_statuses)) < 0)
            return error;
    }
    if (json_object_set_new(view, "has_digests", json_boolean(json_array_size(digests))) < 0 ||
        json_object_set_new(view, "has_log_file_problems",
                            json_boolean(json_array_size(problems))) < 0)
        return oom(vb);
    return 0;
}

/* view.activity: report.json's "activity" with every cited event's source linked to its entry
 * in the list of files read (F<n>), per-source counters as sorted rows, and log integrity. */
static int view_activity(struct view_builder *vb, json_t *view, json_t *report)
{
    json_t *activity = json_object_get(report, "activity");
    struct activity_builder ab = {0};
    json_t *out = NULL, *rows = NULL;
    int error = 0;
    if (!json_is_object(activity))
        return 0; /* null: the templates say CloudTrail activity was not provided */
    json_t *kms = json_object_get(activity, "kms");
    json_t *transport = json_object_get(activity, "transport");
    json_t *counts = json_object_get(activity, "counts");
    if (!(out = json_object()) || !(ab.files = json_object())) {
        error = oom(vb);
        goto done;
    }
    if ((error = activity_period(vb, out, activity)) < 0 ||
        (error = activity_sources(vb, &ab, out, activity)) < 0 ||
        (error = activity_list(vb, &ab, out, "control_plane",
                               json_object_get(activity, "dynamodb_control_plane"), "source")) <
            0 ||
        (error = activity_list(vb, &ab, out, "policy_changes",
                               json_object_get(activity, "iam_policy_changes"), "source")) < 0 ||
        (error = activity_list(vb, &ab, out, "key_usage", json_object_get(kms, "key_usage"),
                               "example")) < 0 ||
        (error = activity_list(vb, &ab, out, "key_administration",
                               json_object_get(kms, "key_administration"), "source")) < 0 ||
        (error = activity_list(vb, &ab, out, "below_tls_1_2",
                               json_object_get(transport, "below_tls_1_2"), "example")) < 0 ||
        (error = activity_list(vb, &ab, out, "not_via_vpc_endpoint",
                               json_object_get(transport, "not_via_vpc_endpoint"), "example")) <
            0 ||
        (error = activity_list(vb, &ab, out, "access_denied",
                               json_object_get(activity, "access_denied"), "example")) < 0 ||
        (error = activity_integrity(vb, out, activity)) < 0)
        goto done;
    static const struct {
        const char *key, *name;
        int in_counts;
    } tables[] = {
        {"network", "event_source", 0},
        {"tls_versions", "version", 0},
        {"by_event_source", "event_source", 1},
    };
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        char has_key[64];
        json_t *object = json_object_get(tables[t].in_counts ? counts : transport, tables[t].key);
        if ((error = object_rows(vb, &rows, object, tables[t].name)) < 0)
            goto done;
        snprintf(has_key, sizeof(has_key), "has_%s", tables[t].key);
        if (json_object_set_new(out, has_key, json_boolean(json_array_size(rows))) < 0 ||
            json_object_set_new(out, tables[t].key, rows) < 0) {
            rows = NULL;
            error = oom(vb);
            goto done;
        }
    }
    if (json_object_set_new(out, "counts",
                            json_is_object(counts) ? json_incref(counts) : json_object()) < 0 ||
        json_object_set(view, "activity", out) < 0)
        error = oom(vb);
done:
    json_decref(out);
    json_decref(ab.files);
    return error;
}

int render_view(json_t **out, json_t *report, struct diagnostics *d)
{
    int error = 0;
    size_t i;
    json_t *control;
    struct view_builder vb;
    int ready = view_builder_init(&vb, d);
    json_t *view = view_object(report), *controls = json_array(), *unmatched = json_array();
    if (ready < 0 || !view || !controls || !unmatched) {
        error = oom(&vb);
        goto done;
    }
    if (!json_is_object(report) || !json_is_array(json_object_get(report, "controls")) ||
        !json_is_object(json_object_get(report, "inputs"))) {
        error = shape_error(&vb, "", "needs an object with \"inputs\" and \"controls\"");
        goto done;
    }
    /* The document's own ids first, so a control can't take them. */
    static const char *const reserved[] = {"cover",    "summary",     "contents",
                                           "controls", "unmatched",   "access",
                                           "activity", "chart-title", NULL};
    for (size_t r = 0; reserved[r]; r++)
        json_object_set_new(vb.anchors, reserved[r], json_true());
    json_array_foreach(json_object_get(report, "controls"), i, control)
    {
        json_t *control_view = NULL;
        if ((error = view_control(&vb, &control_view, control, i)) < 0)
            goto done;
        if (json_array_append_new(controls, control_view) < 0) {
            error = oom(&vb);
            goto done;
        }
    }
    json_array_foreach(json_object_get(report, "exceptions_unmatched"), i, control)
    {
        json_t *item = view_object(control);
        if (!item || json_array_append_new(unmatched, item) < 0 ||
            (error = add_safe_url(&vb, item)) < 0) {
            error = error ? error : oom(&vb);
            goto done;
        }
    }
    json_t *inputs = json_object_get(report, "inputs");
    json_t *tool = json_object_get(report, "tool");
    buf_reset(&vb.text);
    if (json_object_set(view, "controls", controls) < 0 ||
        json_object_set(view, "exceptions_unmatched", unmatched) < 0 ||
        json_object_set_new(view, "control_count",
                            json_integer((json_int_t)json_array_size(controls))) < 0 ||
        buf_printf(&vb.text, "%s %s", string_of(tool, "name"), string_of(tool, "version")) < 0 ||
        render_set_string(view, "generated_by", &vb.text) < 0 ||
        (error = add_has(&vb, view,
                         (const char *const[]){"controls", "exceptions_unmatched", NULL})) < 0 ||
        (error = join_regions(&vb, view, inputs)) < 0 ||
        (error = view_summary(&vb, view, report)) < 0 ||
        (error = view_access(&vb, view, report)) < 0 ||
        (error = view_activity(&vb, view, report)) < 0) {
        error = error ? error : oom(&vb);
        goto done;
    }
    *out = view;
    view = NULL;
done:
    view_builder_free(&vb);
    json_decref(controls);
    json_decref(unmatched);
    json_decref(view);
    return error;
}
