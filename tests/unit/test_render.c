/* Every output format against a report whose strings are hostile: each document must stay
 * valid in its format and inert. The checks ask real parsers wherever one is at hand: libxml2
 * for HTML (element and attribute allowlists), XML (well-formed, XSD-valid) and Confluence
 * storage format; cmark for Markdown headings and links; and a pipe count for table rows, which
 * cmark's core does not parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cmark.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "fsutil.h"
#include "render.h"

#define MEGABYTE ((size_t)1 << 20)

/* The corpus: each string is aimed at one format's syntax, and every format gets all of them. */
static const char *const hostile[] = {
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "]]><x>&amp;</x><![CDATA[",
    "{{#controls}}{{/controls}}{{{inputs}}}{{>partials/html-style}}",
    "| pipe | cell |\n\n# heading\n`code` ``x`` \\| \\\\|",
    "{code}x{code} {html}<b>x</b>{html} |a|b| [link|javascript:alert(1)] !http://evil/x.png!",
    "ctl\x01\x02\x1b[31m\x7f\xc2\x85 end",
    "[click](javascript:alert(1)) <a href=\"javascript:alert(1)\">x</a> ![i](http://evil/x.png)",
    "line1\r\nline2\n\n---\n***\n<!-- c -->",
    "&lt;script&gt; &#60;script&#62; %3Cscript%3E &nbsp;",
    "-- -> --> <? ?> <!DOCTYPE x>",
    "h1. heading\n{noformat}x{noformat} {{x}} [~user] ----",
};
#define HOSTILE_COUNT (sizeof(hostile) / sizeof(hostile[0]))

static const char *const hostile_urls[] = {
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "https://ok.example/a(b)|c]d[e]{f}<g>\"h'i`j",
    "",
};
#define HOSTILE_URL_COUNT (sizeof(hostile_urls) / sizeof(hostile_urls[0]))

/* Keys whose values the evaluator produces in a fixed form: a report with anything else there
 * is rejected before rendering (statuses) or is not what results.c writes (digests, dates). */
static int protected_key(const char *key)
{
    static const char *const keys[] = {
        "status",         "original_status",
        "sha256",         "evidence_manifest_sha256",
        "catalog_sha256", "as_of",
        "expires",        "date",
        "start",          "end",
        "snapshot",       "$schema",
        "state",          "collected_at",
        "vendor_status",  NULL,
    };
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

struct corpus_state {
    size_t next;
    size_t next_url;
};

/* Replaces every unprotected string in `json` by the next hostile string (URLs by hostile URLs)
 * and every evidence value by one too. */
static void poison(json_t *json, struct corpus_state *state)
{
    const char *key;
    json_t *value;
    size_t i;
    if (json_is_object(json)) {
        json_object_foreach(json, key, value)
        {
            if (json_is_string(value) && strcmp(key, "url") == 0) {
                json_object_set_new(
                    json, key, json_string(hostile_urls[state->next_url++ % HOSTILE_URL_COUNT]));
            } else if ((json_is_string(value) && !protected_key(key)) ||
                       strcmp(key, "value") == 0) {
                json_object_set_new(json, key, json_string(hostile[state->next++ % HOSTILE_COUNT]));
            } else {
                poison(value, state);
            }
        }
    } else if (json_is_array(json)) {
        json_array_foreach(json, i, value)
        {
            if (json_is_string(value))
                json_array_set_new(json, i, json_string(hostile[state->next++ % HOSTILE_COUNT]));
            else
                poison(value, state);
        }
    }
}

static char *source_path(const char *relative)
{
    const char *root = getenv("DDBAUDIT_SOURCE_DIR");
    return fs_join(root && *root ? root : ".", relative);
}

static json_t *load_sample(void)
{
    char *path = source_path("tests/data/reports/sample.json");
    json_error_t error;
    json_t *report = json_load_file(path, 0, &error);
    if (!report)
        fail_msg("%s: %s", path, error.text);
    free(path);
    return report;
}

/* A bytes-from-elsewhere string: invalid UTF-8 that json_string() would refuse. */
static void set_raw(json_t *object, const char *key, const char *bytes, size_t len)
{
    assert_int_equal(json_object_set_new(object, key, json_stringn_nocheck(bytes, len)), 0);
}

/* NUL bytes, invalid UTF-8 and 1 MB strings where the access matrix and the activity print
 * them: a principal's name, a table, a statement's policy and condition, an event's principal,
 * table and source file. */
static void hostile_sections(json_t *report, const char *invalid, size_t invalid_len)
{
    static const char nul[] = "before\0after <script>|{code}";
    json_t *access = json_object_get(report, "access");
    json_t *activity = json_object_get(report, "activity");
    assert_true(json_is_object(access) && json_is_object(activity));
    json_t *principal = json_array_get(json_object_get(access, "principals"), 0);
    /* Statement 0 is cited by one row: a 1 MB policy name is printed in each row that cites it. */
    json_t *cited_once = json_array_get(json_object_get(access, "statements"), 0);
    json_t *statement = json_array_get(json_object_get(access, "statements"), 2);
    json_t *condition = json_array_get(json_object_get(statement, "conditions"), 0);
    json_t *event = json_array_get(json_object_get(activity, "dynamodb_control_plane"), 0);
    json_t *group = json_array_get(json_object_get(activity, "access_denied"), 0);
    assert_non_null(principal);
    assert_non_null(condition);
    assert_non_null(event);
    assert_non_null(group);
    set_raw(principal, "name", nul, sizeof(nul) - 1);
    set_raw(statement, "sid", nul, sizeof(nul) - 1);
    set_raw(event, "principal_arn", nul, sizeof(nul) - 1);
    set_raw(event, "table", invalid, invalid_len);
    set_raw(group, "operation", invalid, invalid_len);
    struct buf big;
    buf_init(&big, 0);
    while (big.len < MEGABYTE)
        assert_int_equal(buf_puts(&big, "]]>|`x`{code}<b>"), 0);
    json_object_set_new(cited_once, "policy", json_string(big.data));
    json_array_set_new(json_object_get(condition, "values"), 0, json_string(big.data));
    json_t *tables =
        json_object_get(json_array_get(json_object_get(principal, "tables"), 0), "tables");
    json_array_append_new(tables, json_string(big.data));
    json_object_set_new(json_object_get(event, "source"), "file", json_string(big.data));
    buf_free(&big);
}

/* The hostile report: every string poisoned, plus a 1 MB vendor note and resource, and invalid
 * UTF-8 in a title and a reason. */
static json_t *hostile_report(void)
{
    json_t *report = load_sample();
    struct corpus_state state = {0};
    poison(report, &state);
    json_t *controls = json_object_get(report, "controls");
    json_t *first = json_array_get(controls, 0);
    struct buf big;
    buf_init(&big, 0);
    while (big.len < MEGABYTE)
        assert_int_equal(buf_puts(&big, "<script>|{code}]]>`x`"), 0);
    json_object_set_new(first, "vendor_notes", json_string(big.data));
    json_t *finding = json_array_get(json_object_get(first, "findings"), 0);
    json_object_set_new(finding, "resource", json_string(big.data));
    buf_free(&big);
    static const char invalid[] = "bad\xff\xfe utf8 \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 <b>";
    set_raw(json_array_get(controls, 1), "title", invalid, sizeof(invalid) - 1);
    set_raw(finding, "reason", invalid, sizeof(invalid) - 1);
    hostile_sections(report, invalid, sizeof(invalid) - 1);
    return report;
}

static char *render(json_t *report, const char *format_name, const char *user_dir)
{
    struct diagnostics d;
    struct renderer *renderer = NULL;
    json_t *view = NULL;
    struct buf out;
    diag_init(&d);
    buf_init(&out, 0);
    const struct render_format *format = render_format_find(format_name);
    assert_non_null(format);
    if (render_new(&renderer, user_dir, &d) < 0 || render_view(&view, report, &d) < 0 ||
        render_document(&out, renderer, format, view, &d) < 0)
        fail_msg("render %s: %s", format_name, diag_first_message(&d));
    render_free(renderer);
    json_decref(view);
    diag_free(&d);
    return buf_detach(&out);
}

/* ---- Checks shared by the formats ---- */

static int is_valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (!n || i + n > len || (n == 2 && c < 0xC2))
            return 0;
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

/* No C0 control other than tab, newline and carriage return, and no DEL or C1 control: they
 * are invalid in XML and escape sequences on a terminal. */
static void assert_clean_text(const char *text)
{
    size_t len = strlen(text);
    assert_true(is_valid_utf8((const unsigned char *)text, len));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
            fail_msg("control character 0x%02x at byte %zu", c, i);
        if (c == 0xC2 && i + 1 < len && (unsigned char)text[i + 1] >= 0x80 &&
            (unsigned char)text[i + 1] <= 0x9F)
            fail_msg("C1 control at byte %zu", i);
    }
}

static int safe_href(const char *href)
{
    return href[0] == '#' || strncmp(href, "https://", 8) == 0 ||
           strncmp(href, "http://", 7) == 0 || strncmp(href, "mailto:", 7) == 0;
}

static int name_in(const char *name, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* Walks an element tree: every element is one the template writes, no attribute is an event
 * handler or a src, and every href is a fragment or an http(s)/mailto URL. */
static void assert_inert_tree(xmlNode *node, const char *const *elements, size_t *links)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        char name[128];
        if (node->ns && node->ns->prefix)
            snprintf(name, sizeof(name), "%s:%s", node->ns->prefix, node->name);
        else
            snprintf(name, sizeof(name), "%s", node->name);
        if (!name_in(name, elements))
            fail_msg("unexpected element <%s>", name);
        for (xmlAttr *attr = node->properties; attr; attr = attr->next) {
            const char *attr_name = (const char *)attr->name;
            xmlChar *value = xmlNodeGetContent((xmlNode *)attr);
            if (strncasecmp(attr_name, "on", 2) == 0 || strcasecmp(attr_name, "src") == 0)
                fail_msg("<%s %s=\"%s\">", name, attr_name, value);
            if (strcasecmp(attr_name, "href") == 0) {
                if (!safe_href((const char *)value))
                    fail_msg("<%s href=\"%s\">", name, value);
                (*links)++;
            }
            if (strcmp(name, "ac:structured-macro") == 0 && strcmp(attr_name, "name") == 0 &&
                strcmp((const char *)value, "status") != 0 && strcmp((const char *)value, "toc"))
                fail_msg("Confluence macro %s", value);
            xmlFree(value);
        }
        assert_inert_tree(node->children, elements, links);
    }
}

static const char *const html_elements[] = {
    "html", "head",    "meta",  "title",      "style", "body",  "header", "h1",
    "h2",   "h3",      "h4",    "h5",         "h6",    "p",     "dl",     "dt",
    "dd",   "code",    "nav",   "ol",         "ul",    "li",    "a",      "span",
    "main", "section", "table", "caption",    "thead", "tbody", "tfoot",  "tr",
    "th",   "td",      "svg",   "text",       "rect",  "br",    "div",    "strong",
    "em",   "footer",  "pre",   "blockquote", "hr",    NULL,
};

static size_t count_substring(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static const char *contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = haystack; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return p;
    return NULL;
}

/* ---- HTML ---- */

static void check_html(const char *html, size_t *links, size_t style_elements)
{
    assert_clean_text(html);
    htmlDocPtr doc = htmlReadMemory(html, (int)strlen(html), "report.html", "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                        XML_PARSE_HUGE);
    assert_non_null(doc);
    assert_inert_tree(xmlDocGetRootElement(doc), html_elements, links);
    xmlFreeDoc(doc);
    /* The raw-text elements can't be checked by the tree: <style> must hold only the CSS. */
    assert_int_equal(count_substring(html, "<style>"), style_elements);
    assert_null(contains_nocase(html, "<script"));
    assert_null(contains_nocase(html, "javascript:alert(1)\""));
}

/* With DDBAUDIT_RENDER_OUT set, the hostile documents are also written there, for the
 * integration test that runs the Nu HTML checker and axe-core on them. */
static void keep_output(const char *name, const char *text)
{
    const char *dir = getenv("DDBAUDIT_RENDER_OUT");
    if (!dir || !*dir)
        return;
    struct diagnostics d;
    diag_init(&d);
    char *path = fs_join(dir, name);
    assert_int_equal(fs_write_atomic(path, text, strlen(text), &d), 0);
    free(path);
    diag_free(&d);
}

static void test_html_hostile(void **state)
{
    (void)state;
    json_t *report = hostile_report();
    char *html = render(report, "html", NULL);
    keep_output("hostile.html", html);
    size_t links = 0;
    check_html(html, &links, 1);
    /* Escaped, not dropped: the hostile text is visible to the reader. */
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "\xEF\xBF\xBD")); /* invalid UTF-8 became U+FFFD */
    /* The contents links every control, each anchor once. */
    size_t controls = json_array_size(json_object_get(report, "controls"));
    assert_true(links >= controls);
    free(html);
    json_decref(report);
}

static void test_html_sample(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *html = render(report, "html", NULL);
    size_t links = 0;
    check_html(html, &links, 1);
    /* Status is text as well as colour, and the vendor notes' Markdown became HTML. */
    assert_non_null(strstr(html, "<span class=\"status status-remediate\">Remediate</span>"));
    assert_non_null(strstr(html, "<strong>AWS owned key</strong>"));
    assert_non_null(strstr(html, "@media print"));
    assert_non_null(strstr(html, "<svg class=\"chart\" role=\"img\""));
    assert_non_null(strstr(html, "href=\"#control-ddb-04\""));
    assert_non_null(strstr(html, "id=\"control-ddb-04\""));
    free(html);
    json_decref(report);
}

/* ---- XML and Confluence ---- */

static xmlSchemaPtr load_xsd(void)
{
    char *path = source_path("docs/schema/report.xsd");
    xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(path);
    xmlSchemaPtr schema = xmlSchemaParse(parser);
    xmlSchemaFreeParserCtxt(parser);
    free(path);
    assert_non_null(schema);
    return schema;
}

static void check_xml(const char *xml)
{
    assert_clean_text(xml);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "report.xml", "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_HUGE);
    assert_non_null(doc); /* well-formed */
    xmlSchemaPtr schema = load_xsd();
    xmlSchemaValidCtxtPtr valid = xmlSchemaNewValidCtxt(schema);
    assert_int_equal(xmlSchemaValidateDoc(valid, doc), 0);
    xmlSchemaFreeValidCtxt(valid);
    xmlSchemaFree(schema);
    xmlFreeDoc(doc);
    assert_null(strstr(xml, "<x>"));
    assert_null(strstr(xml, "<script"));
    assert_null(strstr(xml + strlen("<?xml"), "<!")); /* no CDATA, DOCTYPE or comment */
}

static void test_xml_hostile(void **state)
{
    (void)state;
    json_t *report = hostile_report();
    char *xml = render(report, "xml", NULL);
    check_xml(xml);
    free(xml);
    json_decref(report);
}

static void test_xml_sample(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *xml = render(report, "xml", NULL);
    check_xml(xml);
    assert_non_null(strstr(xml, "<control id=\"DDB-04\" status=\"remediate\""));
    free(xml);
    json_decref(report);
}

static const char *const confluence_elements[] = {
    "ac:page",      "h1",  "h2",         "h3",     "h4",
    "h5",           "h6",  "p",          "table",  "tbody",
    "tr",           "th",  "td",         "code",   "ul",
    "ol",           "li",  "a",          "strong", "em",
    "br",           "pre", "blockquote", "hr",     "ac:structured-macro",
    "ac:parameter", NULL,
};

static void check_confluence(const char *body, size_t *links)
{
    assert_clean_text(body);
    struct buf wrapped;
    buf_init(&wrapped, 0);
    buf_puts(&wrapped, "<ac:page xmlns:ac=\"http://atlassian.com/content\" "
                       "xmlns:ri=\"http://atlassian.com/resource/identifier\">");
    buf_puts(&wrapped, body);
    buf_puts(&wrapped, "</ac:page>");
    xmlDocPtr doc = xmlReadMemory(wrapped.data, (int)wrapped.len, "report.confluence.xml", "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_HUGE);
    assert_non_null(doc);
    assert_inert_tree(xmlDocGetRootElement(doc), confluence_elements, links);
    xmlFreeDoc(doc);
    buf_free(&wrapped);
    /* Entities XHTML knows but XML does not would make the page body invalid. */
    assert_null(strstr(body, "&nbsp;"));
}

static void test_confluence_hostile(void **state)
{
    (void)state;
    json_t *report = hostile_report();
    char *body = render(report, "confluence", NULL);
    size_t links = 0;
    check_confluence(body, &links);
    free(body);
    json_decref(report);
}

static void test_confluence_sample(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *body = render(report, "confluence", NULL);
    size_t links = 0;
    check_confluence(body, &links);
    assert_non_null(strstr(body, "<ac:parameter ac:name=\"colour\">Red</ac:parameter>"
                                 "<ac:parameter ac:name=\"title\">Remediate</ac:parameter>"));
    free(body);
    json_decref(report);
}

/* ---- Markdown ---- */

/* Cells in a pipe-table row: the pipes not escaped by an odd run of backslashes. */
static size_t unescaped_pipes(const char *line, size_t len)
{
    size_t pipes = 0, backslashes = 0;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '\\') {
            backslashes++;
            continue;
        }
        if (line[i] == '|' && backslashes % 2 == 0)
            pipes++;
        backslashes = 0;
    }
    return pipes;
}

/* Every table keeps its shape: each row has as many cells as its header. Returns the number of
 * data rows seen. */
static size_t check_pipe_tables(const char *text)
{
    size_t header_pipes = 0, rows = 0;
    int in_table = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len && line[0] == '|') {
            size_t pipes = unescaped_pipes(line, len);
            if (!in_table) {
                header_pipes = pipes;
                in_table = 1;
            } else if (pipes != header_pipes) {
                fail_msg("table row has %zu cells, header %zu: %.*s", pipes - 1, header_pipes - 1,
                         (int)(len > 200 ? 200 : len), line);
            } else if (strncmp(line, "| ---", 5) != 0) {
                rows++;
            }
        } else {
            in_table = 0;
        }
        line = end ? end + 1 : line + len;
    }
    return rows;
}

struct markdown_shape {
    size_t headings[7];
    size_t links;
    size_t html;
    size_t images;
};

static void markdown_shape(const char *text, struct markdown_shape *shape)
{
    memset(shape, 0, sizeof(*shape));
    cmark_node *doc = cmark_parse_document(text, strlen(text), CMARK_OPT_DEFAULT);
    cmark_iter *iter = cmark_iter_new(doc);
    cmark_event_type event;
    while ((event = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(iter);
        if (event != CMARK_EVENT_ENTER)
            continue;
        switch (cmark_node_get_type(node)) {
        case CMARK_NODE_HEADING:
            shape->headings[cmark_node_get_heading_level(node)]++;
            break;
        case CMARK_NODE_LINK:
            if (!safe_href(cmark_node_get_url(node)))
                fail_msg("link to %s", cmark_node_get_url(node));
            shape->links++;
            break;
        case CMARK_NODE_IMAGE:
            shape->images++;
            break;
        case CMARK_NODE_HTML_BLOCK:
        case CMARK_NODE_HTML_INLINE:
            shape->html++;
            break;
        default:
            break;
        }
    }
    cmark_iter_free(iter);
    cmark_node_free(doc);
}

static size_t total_findings(json_t *report)
{
    size_t i, n = 0;
    json_t *control;
    json_array_foreach(json_object_get(report, "controls"), i, control)
    {
        n += json_array_size(json_object_get(control, "findings"));
    }
    return n;
}

/* Rows of the access matrix: one per principal for "all tables", one per group of tables. */
static size_t access_rows(json_t *report)
{
    size_t i, n = 0;
    json_t *principal;
    json_array_foreach(json_object_get(json_object_get(report, "access"), "principals"), i,
                       principal)
    {
        n += json_is_object(json_object_get(principal, "all_tables")) +
             json_array_size(json_object_get(principal, "tables"));
    }
    return n;
}

/* Level-3 headings the access and activity sections add, from what the report holds. */
static size_t section_subheadings(json_t *report)
{
    size_t i, n = 0;
    json_t *access = json_object_get(report, "access"), *table;
    json_t *activity = json_object_get(report, "activity");
    if (json_is_object(access)) {
        int policy_tables = 0;
        json_array_foreach(json_object_get(access, "tables"), i, table)
        {
            policy_tables |= json_is_true(json_object_get(table, "resource_policy"));
        }
        n += (json_array_size(json_object_get(access, "statements")) > 0) + policy_tables +
             (json_array_size(json_object_get(access, "malformed_policies")) > 0) +
             (json_array_size(json_object_get(access, "notes")) > 0);
    }
    /* control plane, policy changes, key administration, key usage, transport, access denied,
     * files read, and log integrity when there is one */
    if (json_is_object(activity))
        n += 7 + json_is_object(json_object_get(activity, "integrity"));
    return n;
}

static void check_markdown(json_t *report, const char *md)
{
    assert_clean_text(md);
    size_t controls = json_array_size(json_object_get(report, "controls"));
    size_t unmatched = json_array_size(json_object_get(report, "exceptions_unmatched"));
    struct markdown_shape shape;
    markdown_shape(md, &shape);
    /* The document's outline survives whatever the strings hold. */
    assert_int_equal(shape.headings[1], 1);
    /* contents, summary, controls, [unmatched], access matrix, activity in the period */
    assert_int_equal(shape.headings[2], 5 + (unmatched ? 1 : 0));
    assert_int_equal(shape.headings[3], controls + section_subheadings(report));
    assert_int_equal(shape.html, 0);
    assert_int_equal(shape.images, 0);
    assert_true(shape.links >= controls); /* the contents */
    /* Cover (11 rows), summary (6), per control its field rows, one row per finding, one per
     * unmatched acceptance: every one of them still a row of its table. */
    size_t rows = check_pipe_tables(md);
    size_t statements =
        json_array_size(json_object_get(json_object_get(report, "access"), "statements"));
    assert_true(rows >=
                11 + 6 + total_findings(report) + unmatched + access_rows(report) + statements);
}

static void test_markdown_hostile(void **state)
{
    (void)state;
    json_t *report = hostile_report();
    char *md = render(report, "md", NULL);
    check_markdown(report, md);
    free(md);
    json_decref(report);
}

static void test_markdown_sample(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *md = render(report, "md", NULL);
    check_markdown(report, md);
    assert_non_null(strstr(md, "[DDB\\-04 Encryption at rest](#ddb-04-encryption-at-rest)"));
    assert_non_null(strstr(md, "### DDB\\-04 Encryption at rest\n"));
    /* Vendor notes keep their Markdown. */
    assert_non_null(strstr(md, "**AWS owned key**"));
    free(md);
    json_decref(report);
}

/* ---- Tickets ---- */

static void test_ticket_formats_hostile(void **state)
{
    (void)state;
    json_t *report = hostile_report();
    char *md = render(report, "ticket-md", NULL);
    assert_clean_text(md);
    check_pipe_tables(md);
    struct markdown_shape shape;
    markdown_shape(md, &shape);
    assert_int_equal(shape.html, 0);
    free(md);

    char *jira = render(report, "ticket-jira", NULL);
    assert_clean_text(jira);
    /* No macro can open: every '{' is escaped; table rows keep their cells. */
    for (const char *p = jira; (p = strchr(p, '{')); p++)
        if (p == jira || p[-1] != '\\')
            fail_msg("unescaped '{' in Jira output: %.40s", p);
    for (const char *line = jira; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len && line[0] == '|' && line[1] != '|') {
            size_t pipes = unescaped_pipes(line, len);
            if (pipes != 4 && pipes != 6)
                fail_msg("Jira row with %zu pipes: %.*s", pipes, (int)(len > 120 ? 120 : len),
                         line);
        }
        line = end ? end + 1 : line + len;
    }
    free(jira);

    char *html = render(report, "ticket-html", NULL);
    keep_output("hostile-ticket.html", html);
    size_t links = 0;
    check_html(html, &links, 0);
    free(html);
    json_decref(report);
}

/* ---- The access matrix and the activity in every format ---- */

static size_t statement_references(json_t *report)
{
    size_t i, j, n = 0;
    json_t *principal, *group;
    json_array_foreach(json_object_get(json_object_get(report, "access"), "principals"), i,
                       principal)
    {
        n += json_array_size(
            json_object_get(json_object_get(principal, "all_tables"), "statements"));
        json_array_foreach(json_object_get(principal, "tables"), j, group)
        {
            n += json_array_size(json_object_get(group, "statements"));
        }
    }
    return n;
}

/* The part of a document from `start` to `end` (end NULL: to the end), which must exist. */
static char *section_of(const char *text, const char *start, const char *end)
{
    const char *from = strstr(text, start);
    if (!from)
        fail_msg("no \"%s\" in the document", start);
    const char *to = end ? strstr(from, end) : NULL;
    size_t len = to ? (size_t)(to - from) : strlen(from);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, from, len);
    copy[len] = '\0';
    return copy;
}

static void test_access_html(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *html = render(report, "html", NULL);
    char *access = section_of(html, "<section class=\"control\" id=\"access\"",
                              "<section class=\"control\" id=\"activity\"");
    json_t *matrix = json_object_get(report, "access");
    size_t principals = json_array_size(json_object_get(matrix, "principals"));
    size_t statements = json_array_size(json_object_get(matrix, "statements"));
    /* An accessible table: caption, column headers, one row group per principal with the
     * principal as its header. */
    assert_non_null(strstr(access, "<caption>Access by principal"));
    assert_int_equal(count_substring(access, "<th scope=\"col\""), 8 + 5 + 2);
    assert_int_equal(count_substring(access, "<th scope=\"rowgroup\" rowspan=\""), principals);
    char *matrix_table = section_of(access, "<table class=\"access\">", "</table>");
    assert_int_equal(count_substring(matrix_table, "<tr>"), 1 + access_rows(report));
    free(matrix_table);
    /* Every row cites its statements, each a link to the statement's row. */
    assert_int_equal(count_substring(access, "<div class=\"grant-ref\"><a href=\"#access-s"),
                     statement_references(report));
    for (size_t i = 1; i <= statements; i++) {
        char id[64];
        snprintf(id, sizeof(id), "<tr id=\"access-s%zu\"><th scope=\"row\">S%zu</th>", i, i);
        assert_non_null(strstr(access, id));
    }
    /* The sample's cells: alice's read on the orders tables depends on the table policy's
     * conditional Deny; the analysts' group statement is named with its Sid; states are words. */
    assert_non_null(strstr(access, "<strong>All tables</strong>"));
    assert_non_null(strstr(access, "<td class=\"grant grant-conditional\"><strong>Conditional"
                                   "</strong> (<a href=\"#access-s2\">S2</a>, <a "
                                   "href=\"#access-s3\">S3</a>)</td>"));
    assert_non_null(strstr(access, "<td class=\"grant grant-allowed\"><strong>Allowed</strong>"));
    /* Each cell cites exactly its own statements, linked to their rows: the Allows of its group
     * and the Denys that narrow them (S3, the orders table's VPC endpoint Deny, covers reads and
     * writes); S11 (ListTables) and a Deny where nothing of the group is allowed are not cited. */
    const char *none = "<td class=\"grant grant-none\"><span class=\"muted\">None</span></td>";
    char expected[1024];
    snprintf(expected, sizeof(expected),
             "<td class=\"grant grant-allowed\"><strong>Allowed</strong> (<a "
             "href=\"#access-s9\">S9</a>, <a href=\"#access-s3\">S3</a>)</td><td class=\"grant "
             "grant-conditional\"><strong>Conditional</strong> (<a href=\"#access-s9\">S9</a>, <a "
             "href=\"#access-s3\">S3</a>)</td><td class=\"grant grant-allowed\"><strong>Allowed"
             "</strong> (<a href=\"#access-s9\">S9</a>)</td>");
    assert_non_null(strstr(access, expected));
    snprintf(expected, sizeof(expected),
             "%s%s<td class=\"grant grant-allowed\"><strong>Allowed</strong> (<a "
             "href=\"#access-s10\">S10</a>)</td>",
             none, none);
    assert_int_equal(count_substring(access, expected), 3); /* ci-deployer's three rows */
    snprintf(expected, sizeof(expected),
             "<td class=\"grant grant-conditional\"><strong>Conditional</strong> (<a "
             "href=\"#access-s5\">S5</a>, <a href=\"#access-s6\">S6</a>, <a "
             "href=\"#access-s7\">S7</a>, <a href=\"#access-s3\">S3</a>)</td><td class=\"grant "
             "grant-conditional\"><strong>Conditional</strong> (<a href=\"#access-s5\">S5</a>, <a "
             "href=\"#access-s6\">S6</a>, <a href=\"#access-s7\">S7</a>, <a "
             "href=\"#access-s3\">S3</a>)</td>%s",
             none);
    assert_non_null(strstr(access, expected));
    /* The auditor role's statements grant only describe and account actions: no cell cites. */
    assert_null(strstr(access, ">S12</a>)"));
    assert_null(strstr(access, ">S13</a>)"));
    assert_null(strstr(access, ">S11</a>)"));
    assert_non_null(strstr(access, "<span class=\"effect effect-deny\">Deny</span> <span "
                                   "class=\"conditional\">with conditions</span>"));
    assert_non_null(strstr(access, "statement 0 (Sid ReadAnyTable)"));
    assert_non_null(strstr(access, "<code>StringNotEquals</code> <code>aws:SourceVpce</code>: "
                                   "<code>vpce-0f1e2d3c4b5a69788</code>"));
    assert_non_null(strstr(access, "<code>arn:aws:dynamodb:eu-west-1:111122223333:table/"
                                   "legacy-import</code>"));
    assert_null(strstr(access, "was not available"));
    keep_output("sections.html", html);
    free(access);
    free(html);
    json_decref(report);
}

static void test_activity_html(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *html = render(report, "html", NULL);
    char *activity = section_of(html, "<section class=\"control\" id=\"activity\"", "</main>");
    json_t *trail = json_object_get(report, "activity");
    size_t i;
    json_t *source, *event;
    /* Each file read has a row with its SHA-256, and each event cited links to it. */
    json_array_foreach(json_object_get(trail, "sources"), i, source)
    {
        char row[160];
        snprintf(row, sizeof(row), "<tr id=\"activity-f%zu\"><th scope=\"row\">F%zu</th>", i + 1,
                 i + 1);
        assert_non_null(strstr(activity, row));
        assert_non_null(strstr(activity, json_string_value(json_object_get(source, "sha256"))));
    }
    size_t cited =
        json_array_size(json_object_get(trail, "dynamodb_control_plane")) +
        json_array_size(json_object_get(trail, "iam_policy_changes")) +
        json_array_size(json_object_get(json_object_get(trail, "kms"), "key_administration")) +
        json_array_size(json_object_get(json_object_get(trail, "kms"), "key_usage")) +
        json_array_size(json_object_get(json_object_get(trail, "transport"), "below_tls_1_2")) +
        json_array_size(
            json_object_get(json_object_get(trail, "transport"), "not_via_vpc_endpoint")) +
        json_array_size(json_object_get(trail, "access_denied"));
    assert_true(cited > 0);
    assert_int_equal(count_substring(activity, "<a href=\"#activity-f"), cited);
    /* A LookupEvents page is cited by page and event, a log file by record and byte offset. */
    event = json_array_get(json_object_get(trail, "dynamodb_control_plane"), 0);
    char where[160];
    json_t *at = json_object_get(event, "source");
    snprintf(where, sizeof(where), "byte offset %" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(at, "offset")));
    assert_non_null(strstr(activity, where));
    assert_non_null(strstr(activity, "page 0, event 0, byte offset"));
    assert_non_null(strstr(activity, "record 0, byte offset"));
    assert_non_null(strstr(activity, "table deleted"));
    assert_non_null(strstr(activity, "Grants DynamoDB actions"));
    assert_non_null(strstr(activity, "<h3>Log integrity</h3>"));
    assert_non_null(strstr(activity, "<strong>Missing from the copy</strong>"));
    assert_non_null(strstr(activity, "<strong>invalid</strong>"));
    assert_non_null(strstr(activity, "2026-07-01 to 2026-09-30"));
    assert_null(strstr(activity, "was not provided"));
    free(activity);
    free(html);
    json_decref(report);
}

/* XML: the matrix as elements (statement references are IDREFs the XSD checks resolve), not
 * JSON text; the activity's events cite their file by IDREF too. */
static void test_sections_xml(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *xml = render(report, "xml", NULL);
    check_xml(xml);
    assert_null(strstr(xml, "format=\"json\""));
    assert_int_equal(count_substring(xml, "<grant all_tables="), access_rows(report));
    assert_int_equal(count_substring(xml, "<statement_ref ref=\"access-s"),
                     statement_references(report));
    assert_non_null(strstr(xml, "<grant all_tables=\"true\" read=\"allowed\" write=\"none\" "
                                "admin=\"none\" transport_enforced=\"false\">"));
    /* Every grant has its three cells, each citing (by IDREF) exactly its own statements. */
    assert_int_equal(count_substring(xml, "<cell group=\""), 3 * access_rows(report));
    assert_non_null(strstr(xml, "<cell group=\"read\" state=\"conditional\"><cite "
                                "ref=\"access-s2\"/><cite ref=\"access-s3\"/></cell>\n"
                                "          <cell group=\"write\" state=\"none\"></cell>\n"
                                "          <cell group=\"admin\" state=\"none\"></cell>"));
    assert_non_null(strstr(xml, "<cell group=\"read\" state=\"allowed\"><cite "
                                "ref=\"access-s9\"/><cite ref=\"access-s3\"/></cell>\n"
                                "          <cell group=\"write\" state=\"conditional\"><cite "
                                "ref=\"access-s9\"/><cite ref=\"access-s3\"/></cell>\n"
                                "          <cell group=\"admin\" state=\"allowed\"><cite "
                                "ref=\"access-s9\"/></cell>"));
    assert_non_null(strstr(xml, "<source id=\"activity-f1\" status=\"ok\" sha256=\""));
    assert_non_null(strstr(xml, "<source file_ref=\"activity-f"));
    assert_non_null(strstr(xml, "<concern>table_deleted</concern>"));
    assert_non_null(strstr(xml, "<log_file status=\"missing\" digest_trusted=\"false\">"));
    /* A reference to a statement that is not there is refused, naming it. */
    json_t *group = json_array_get(
        json_object_get(
            json_array_get(json_object_get(json_object_get(report, "access"), "principals"), 1),
            "tables"),
        0);
    json_array_append_new(json_object_get(group, "statements"), json_integer(100000));
    struct diagnostics d;
    diag_init(&d);
    json_t *view = NULL;
    assert_int_equal(render_view(&view, report, &d), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "/access/principals/1/tables/0"));
    diag_free(&d);
    free(xml);
    json_decref(report);
}

static void test_sections_markdown_confluence(void **state)
{
    (void)state;
    json_t *report = load_sample();
    char *md = render(report, "md", NULL);
    char *access = section_of(md, "## Access matrix\n", "## Activity in the period\n");
    char *activity = section_of(md, "## Activity in the period\n", NULL);
    /* header and delimiter rows of three tables; a row per matrix row, per statement and per
     * table with a resource policy (five in the sample) */
    assert_int_equal(
        count_substring(access, "\n| "),
        6 + access_rows(report) +
            json_array_size(json_object_get(json_object_get(report, "access"), "statements")) + 5);
    /* Each cell cites exactly its own statements. */
    assert_non_null(strstr(access, "| **Conditional** (S2, S3) | None | None |"));
    assert_non_null(strstr(access, "| **Allowed** (S9, S3) | **Conditional** (S9, S3) | "
                                   "**Allowed** (S9) |"));
    assert_non_null(strstr(access, "| None | None | **Allowed** (S10) |"));
    assert_non_null(strstr(access, "**Deny** *with conditions*"));
    assert_non_null(strstr(activity, "| F1 | cloudtrail/records/AWSLogs/"));
    assert_non_null(strstr(activity, "F5: cloudtrail/lookup/lookup\\-events\\-dynamodb\\.json"));
    free(access);
    free(activity);
    free(md);
    char *body = render(report, "confluence", NULL);
    size_t links = 0;
    check_confluence(body, &links);
    access = section_of(body, "<h2>Access matrix</h2>", "<h2>Activity in the period</h2>");
    assert_int_equal(
        count_substring(access, "<th rowspan=\""),
        json_array_size(json_object_get(json_object_get(report, "access"), "principals")));
    assert_non_null(strstr(access, "<td><strong>Conditional</strong> (S2, S3)</td><td>None</td>"
                                   "<td>None</td>"));
    assert_non_null(strstr(access, "<td>None</td><td>None</td><td><strong>Allowed</strong> "
                                   "(S10)</td>"));
    free(access);
    assert_non_null(strstr(body, "<h3>Log files read</h3>"));
    free(body);
    json_decref(report);
}

/* Without the analyses, every format says so instead of leaving the section out. */
static void test_sections_absent(void **state)
{
    (void)state;
    static const struct {
        const char *format, *access, *activity;
    } formats[] = {
        {"html", "The access analysis was not available", "CloudTrail activity was not provided"},
        {"md", "The access analysis was not available", "CloudTrail activity was not provided"},
        {"confluence", "The access analysis was not available",
         "CloudTrail activity was not provided"},
    };
    json_t *report = load_sample();
    json_object_set_new(report, "access", json_null());
    json_object_set_new(report, "activity", json_null());
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char *text = render(report, formats[i].format, NULL);
        assert_non_null(strstr(text, formats[i].access));
        assert_non_null(strstr(text, formats[i].activity));
        free(text);
    }
    char *xml = render(report, "xml", NULL);
    check_xml(xml);
    assert_null(strstr(xml, "<access"));
    assert_null(strstr(xml, "<activity"));
    free(xml);
    json_decref(report);
}

/* The hostile strings in the sections are escaped, not dropped, and NUL bytes don't cut them. */
static void test_sections_hostile(void **state)
{
    (void)state;
    json_t *report = hostile_report();
    char *html = render(report, "html", NULL);
    /* Each 1 MB string is printed once or twice, not once per row. */
    assert_true(strlen(html) < 16 * MEGABYTE);
    char *access = section_of(html, "<section class=\"control\" id=\"access\"", "</main>");
    assert_non_null(strstr(access, "before\xEF\xBF\xBD"
                                   "after &lt;script&gt;|{code}"));
    assert_non_null(strstr(access, "]]&gt;|`x`{code}&lt;b&gt;"));
    assert_non_null(strstr(access, "<span class=\"principal\">before\xEF\xBF\xBD"
                                   "after"));
    free(access);
    /* Rendering is deterministic. */
    char *again = render(report, "html", NULL);
    assert_string_equal(html, again);
    free(again);
    free(html);
    char *md = render(report, "md", NULL);
    assert_non_null(strstr(md, "before\xEF\xBF\xBD"
                               "after \\<script\\>\\|\\{code\\}"));
    free(md);
    char *xml = render(report, "xml", NULL);
    assert_non_null(strstr(xml, "before\xEF\xBF\xBD"
                                "after &lt;script&gt;|{code}"));
    free(xml);
    json_decref(report);
}

/* ---- The view and the template search path ---- */

static void test_unknown_status_is_rejected(void **state)
{
    (void)state;
    json_t *report = load_sample();
    json_t *finding = json_array_get(
        json_object_get(json_array_get(json_object_get(report, "controls"), 3), "findings"), 2);
    json_object_set_new(finding, "status", json_string("passs"));
    struct diagnostics d;
    diag_init(&d);
    json_t *view = NULL;
    assert_int_equal(render_view(&view, report, &d), DDB_EINPUT);
    assert_non_null(strstr(diag_first_message(&d), "/controls/3/findings/2"));
    diag_free(&d);
    json_decref(report);
}

static void test_view_does_not_modify_report(void **state)
{
    (void)state;
    json_t *report = load_sample(), *copy = json_deep_copy(report), *view = NULL;
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(render_view(&view, report, &d), 0);
    char *md = render(report, "md", NULL);
    free(md);
    assert_true(json_equal(report, copy));
    json_decref(view);
    json_decref(copy);
    json_decref(report);
    diag_free(&d);
}

static void test_user_templates_override(void **state)
{
    (void)state;
    char dir[] = "/tmp/ddbaudit-templates-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *partials = fs_join(dir, "partials");
    char *style = fs_join(dir, "partials/html-style.mustache");
    char *md = fs_join(dir, "report.md.mustache");
    struct diagnostics d;
    diag_init(&d);
    assert_int_equal(fs_mkdirs(partials, &d), 0);
    /* One template and one partial overridden; the rest still come from the bundle. */
    const char md_text[] = "Branded {{inputs.account}}: {{control_count}} controls\n";
    const char style_text[] = "body { color: #123456; }";
    assert_int_equal(fs_write_atomic(md, md_text, sizeof(md_text) - 1, &d), 0);
    assert_int_equal(fs_write_atomic(style, style_text, sizeof(style_text) - 1, &d), 0);
    json_t *report = load_sample();
    char *out = render(report, "md", dir);
    assert_string_equal(out, "Branded 111122223333: 25 controls\n");
    free(out);
    out = render(report, "html", dir);
    assert_non_null(strstr(out, "body { color: #123456; }"));
    assert_non_null(strstr(out, "DDB-04 Encryption at rest"));
    free(out);
    assert_int_equal(fs_remove_tree(dir, &d), 0);
    json_decref(report);
    free(partials);
    free(style);
    free(md);
    diag_free(&d);
}

static void test_missing_user_dir_is_usage_error(void **state)
{
    (void)state;
    struct diagnostics d;
    struct renderer *renderer = NULL;
    diag_init(&d);
    assert_int_equal(render_new(&renderer, "/nonexistent/templates", &d), DDB_EUSAGE);
    assert_null(renderer);
    diag_free(&d);
}

static void test_url_safety(void **state)
{
    (void)state;
    assert_true(render_url_is_safe("https://tickets.example.com/browse/RISK-101"));
    assert_true(render_url_is_safe("HTTP://example.com"));
    assert_true(render_url_is_safe("mailto:grc@example.com"));
    assert_false(render_url_is_safe("javascript:alert(1)"));
    assert_false(render_url_is_safe(" https://example.com"));
    assert_false(render_url_is_safe("https://exa mple.com"));
    assert_false(render_url_is_safe("https://example.com/\x01"));
    assert_false(render_url_is_safe("https://"));
    assert_false(render_url_is_safe("data:text/html,x"));
    assert_false(render_url_is_safe("//evil.example"));
    assert_false(render_url_is_safe(NULL));
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(render_percent_encode(&out, "https://x/a(b)|c]", ":/"), 0);
    assert_string_equal(buf_cstr(&out), "https://x/a%28b%29%7Cc%5D");
    buf_reset(&out);
    assert_int_equal(render_url_encode(&out, "https://x/a b|c\"d\xc3\xa9?q=%zz&r=%41#f#g"), 0);
    assert_string_equal(buf_cstr(&out), "https://x/a%20b%7Cc%22d%C3%A9?q=%25zz&r=%41#f%23g");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_sample),
        cmocka_unit_test(test_html_hostile),
        cmocka_unit_test(test_xml_sample),
        cmocka_unit_test(test_xml_hostile),
        cmocka_unit_test(test_confluence_sample),
        cmocka_unit_test(test_confluence_hostile),
        cmocka_unit_test(test_markdown_sample),
        cmocka_unit_test(test_markdown_hostile),
        cmocka_unit_test(test_ticket_formats_hostile),
        cmocka_unit_test(test_access_html),
        cmocka_unit_test(test_activity_html),
        cmocka_unit_test(test_sections_xml),
        cmocka_unit_test(test_sections_markdown_confluence),
        cmocka_unit_test(test_sections_absent),
        cmocka_unit_test(test_sections_hostile),
        cmocka_unit_test(test_unknown_status_is_rejected),
        cmocka_unit_test(test_view_does_not_modify_report),
        cmocka_unit_test(test_user_templates_override),
        cmocka_unit_test(test_missing_user_dir_is_usage_error),
        cmocka_unit_test(test_url_safety),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
