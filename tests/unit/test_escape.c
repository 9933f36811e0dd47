/* Escapers against hostile values. Where a real parser is at hand the test asks it: libxml2 must
 * read escaped text back as the same characters, and cmark must render escaped Markdown as
 * plain text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cmark.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "escape.h"

#define FFFD "\xEF\xBF\xBD"

/* Escapes a NUL-terminated string; the caller frees the result. */
static char *escaped(escape_fn escape, const char *s)
{
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(escape(&out, s, strlen(s)), 0);
    return buf_detach(&out);
}

static void assert_escapes(escape_fn escape, const char *in, const char *expected)
{
    char *out = escaped(escape, in);
    assert_string_equal(out, expected);
    free(out);
}

static int is_valid_utf8(const unsigned char *s, size_t len)
{
    /* A strict decoder, written independently of escape.c's. */
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* ---- UTF-8 and control characters (shared by every escaper) ----------------------------- */

static void test_utf8_cleanup(void **state)
{
    (void)state;
    assert_escapes(escape_text, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
                   "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    assert_escapes(escape_text, "a\xFFz", "a" FFFD "z");
    assert_escapes(escape_text, "\xC3\x28", FFFD "(");
    assert_escapes(escape_text, "end\xE2\x82", "end" FFFD);      /* truncated: one U+FFFD */
    assert_escapes(escape_text, "\xC0\xAF", FFFD FFFD);          /* overlong '/' */
    assert_escapes(escape_text, "\xED\xA0\x80", FFFD FFFD FFFD); /* a surrogate */
    assert_escapes(escape_text, "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* above U+10FFFF */
    assert_escapes(escape_text, "\xF0\x9F\x98", FFFD);
    assert_escapes(escape_text, "\xEF\xBF\xBE|\xEF\xB7\x90", FFFD "|" FFFD); /* nonchars */
}

static void test_control_characters(void **state)
{
    (void)state;
    assert_escapes(escape_text, "tab\tnl\ncr\r", "tab\tnl\ncr\r");
    assert_escapes(escape_text, "\x1B[31mred", FFFD "[31mred"); /* terminal escape */
    assert_escapes(escape_text, "\x7F\x01\x1F", FFFD FFFD FFFD);
    assert_escapes(escape_text, "\xC2\x85\xC2\x9B", FFFD FFFD); /* C1: NEL, CSI */
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(escape_html(&out, "a\0b", 3), 0);
    assert_string_equal(buf_cstr(&out), "a" FFFD "b");
    buf_reset(&out);
    assert_int_equal(escape_xml(&out, "\0\0", 2), 0);
    assert_string_equal(buf_cstr(&out), FFFD FFFD);
    buf_free(&out);
}

/* ---- HTML and XML ----------------------------------------------------------------------- */

static void test_html(void **state)
{
    (void)state;
    assert_escapes(escape_html, "<script>alert(\"x\")</script>",
                   "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    assert_escapes(escape_html, "\"><img src=x onerror=alert(1)>",
                   "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    assert_escapes(escape_html, "' onmouseover='x", "&#39; onmouseover=&#39;x");
    assert_escapes(escape_html, "AT&T &amp; {{x}} ]]>", "AT&amp;T &amp;amp; {{x}} ]]&gt;");
    assert_escapes(escape_html, "| `code` {code}", "| `code` {code}");
}

static void test_xml(void **state)
{
    (void)state;
    assert_escapes(escape_xml, "<a b='c' d=\"e\">&</a>",
                   "&lt;a b=&apos;c&apos; d=&quot;e&quot;&gt;&amp;&lt;/a&gt;");
    assert_escapes(escape_xml, "]]>", "]]&gt;");
    assert_escapes(escape_xml, "a\r\nb\tc", "a&#13;\nb\tc");
    assert_escapes(escape_xml, "\x01\x08\x0B\x0C", FFFD FFFD FFFD FFFD);
}

/* Parses `prefix escaped suffix` with libxml2; returns the root's text content or NULL. */
static char *xml_roundtrip(const char *prefix, const char *value, size_t len, const char *suffix)
{
    struct buf doc;
    buf_init(&doc, 0);
    buf_puts(&doc, prefix);
    assert_int_equal(escape_xml(&doc, value, len), 0);
    buf_puts(&doc, suffix);
    xmlDocPtr parsed =
        xmlReadMemory(doc.data, (int)doc.len, NULL, "UTF-8",
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    buf_free(&doc);
    if (!parsed)
        return NULL;
    xmlChar *content = xmlNodeGetContent(xmlDocGetRootElement(parsed));
    char *copy = strdup((const char *)content);
    xmlFree(content);
    xmlFreeDoc(parsed);
    return copy;
}

static void test_xml_parses_back(void **state)
{
    (void)state;
    const char *values[] = {
        "plain",
        "<script>alert(1)</script>",
        "]]>",
        "a]]>b]]]]>",
        "\"'&<>",
        "\x01\x02\x7F",
        "\xFF\xFE invalid",
        "&#0; &#x1; &lt;",
        "\xEF\xBF\xBF",
        "{code}|`x`",
        "crlf\r\nline\rcr",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char *expected = escaped(escape_text, values[i]);
        char *content = xml_roundtrip("<r a=\"", values[i], strlen(values[i]), "\"/>");
        assert_non_null(content); /* well-formed inside an attribute */
        free(content);
        content = xml_roundtrip("<r>", values[i], strlen(values[i]), "</r>");
        assert_non_null(content);
        assert_string_equal(content, expected);
        free(content);
        /* Even pasted into CDATA, the value can't end the section. */
        content = xml_roundtrip("<r><![CDATA[", values[i], strlen(values[i]), "]]></r>");
        assert_non_null(content);
        free(content);
        free(expected);
    }
}

/* ---- Markdown ------------------------------------------------------------------------------- */

/* cmark's own HTML escaping of text, to compare its output with the original value. */
static char *cmark_text(const char *s)
{
    struct buf out;
    buf_init(&out, 0);
    buf_puts(&out, "<p>");
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(&out, "&amp;");
            break;
        case '<':
            buf_puts(&out, "&lt;");
            break;
        case '>':
            buf_puts(&out, "&gt;");
            break;
        case '"':
            buf_puts(&out, "&quot;");
            break;
        default:
            buf_putc(&out, *s);
        }
    }
    buf_puts(&out, "</p>\n");
    return buf_detach(&out);
}

static void test_markdown(void **state)
{
    (void)state;
    assert_escapes(escape_markdown, "<script>alert(1)</script>",
                   "\\<script\\>alert\\(1\\)\\</script\\>");
    assert_escapes(escape_markdown, "*a* _b_ `c` [d](e) ![f](g) # h | ~i~",
                   "\\*a\\* \\_b\\_ \\`c\\` \\[d\\]\\(e\\) \\!\\[f\\]\\(g\\) \\# h \\| \\~i\\~");
    assert_escapes(escape_markdown, "1. - + {x} a\\b &amp; =$@",
                   "1\\. \\- \\+ \\{x\\} a\\\\b \\&amp; \\=\\$\\@");
    assert_escapes(escape_markdown, "two\nlines", "two\nlines");
    assert_escapes(escape_markdown, "  x\n\ty  z", "&#32; x\n&#9;y  z");
    assert_escapes(escape_markdown_cell, "a|b\r\nc\nd", "a\\|b c d");

    /* Whatever the value, CommonMark renders it as exactly that text, even with raw HTML
     * allowed. */
    const char *values[] = {
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "<javascript:alert(1)> <https://x.example>",
        "**bold** __b__ *i* _i_ `code` ``x``",
        "a\\*b \\\\ \\",
        "&lt;b&gt; &amp; &#60;script&#62; &copy",
        "![img](x) [ref][1] [1]: http://x",
        "{{template}} | pipes | ~~strike~~",
        "# not a heading",
        "- not a list",
        "1. not a list",
        "> not a quote",
        "    not code",
        "\tnot code either",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char *markdown = escaped(escape_markdown, values[i]);
        char *html = cmark_markdown_to_html(markdown, strlen(markdown), CMARK_OPT_UNSAFE);
        char *expected = cmark_text(values[i]);
        if (strcmp(html, expected) != 0)
            fprintf(stderr, "value: %s\nmarkdown: %s\nhtml: %s", values[i], markdown, html);
        assert_string_equal(html, expected);
        assert_null(strstr(html, "<script"));
        free(expected);
        free(html);
        free(markdown);
    }
    /* Several lines: paragraphs are all the markup there may be. */
    const char *multiline[] = {"para\n\n    not code\n===", "a\n---\n* b\n> c\n```\nd\n```",
                               "x\n\n<div onclick=alert(1)>\n\n[r]: javascript:alert(1)\n\n[r]"};
    static const char *const markup[] = {"<pre", "<h1",         "<h2",  "<hr",    "<ul",
                                         "<ol",  "<blockquote", "<a ",  "<img",   "<code",
                                         "<em",  "<strong",     "<div", "<script"};
    for (size_t i = 0; i < sizeof(multiline) / sizeof(multiline[0]); i++) {
        char *markdown = escaped(escape_markdown, multiline[i]);
        char *html = cmark_markdown_to_html(markdown, strlen(markdown), CMARK_OPT_UNSAFE);
        for (size_t k = 0; k < sizeof(markup) / sizeof(markup[0]); k++)
            if (strstr(html, markup[k]))
                fail_msg("%s in %s", markup[k], html);
        free(html);
        free(markdown);
    }
}

/* ---- Jira -------------------------------------------------------------------------------- */

static void assert_jira_inert(const char *out)
{
    static const char special[] = "{}[]|*_-+^~?#!";
    for (size_t i = 0; out[i]; i++) {
        if (strncmp(out + i, "&#92;", 5) == 0) /* a backslash */
            i += 4;
        else if (strchr(special, out[i]) && (i == 0 || out[i - 1] != '\\'))
            fail_msg("unescaped '%c' at %zu in %s", out[i], i, out);
    }
}

static void test_jira(void **state)
{
    (void)state;
    assert_escapes(escape_jira, "{code}x{code}", "\\{code\\}x\\{code\\}");
    assert_escapes(escape_jira, "[link|http://evil] [~admin]",
                   "\\[link\\|http://evil\\] \\[\\~admin\\]");
    assert_escapes(escape_jira, "|| a || b |", "\\|\\| a \\|\\| b \\|");
    assert_escapes(escape_jira, "!http://x/y.png!", "\\!http://x/y.png\\!");
    assert_escapes(escape_jira, "a\\\\b", "a&#92;&#92;b");
    assert_escapes(escape_jira, "*b* _i_ -s- +u+ ^sup^ ~sub~ ??cite?? #1",
                   "\\*b\\* \\_i\\_ \\-s\\- \\+u\\+ \\^sup\\^ \\~sub\\~ \\?\\?cite\\?\\? \\#1");
    const char *values[] = {"{noformat}",    "{html}<script>{html}",
                            "{{monospace}}", "[^attachment.txt]",
                            "\\{code}",      "----"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char *out = escaped(escape_jira, values[i]);
        assert_jira_inert(out);
        free(out);
    }
}

/* ---- URLs -------------------------------------------------------------------------------- */

static void test_url_attr(void **state)
{
    (void)state;
    assert_escapes(escape_url_attr, "https://console.aws.amazon.com/dynamodb?a=1&b=2",
                   "https://console.aws.amazon.com/dynamodb?a=1&amp;b=2");
    assert_escapes(escape_url_attr, "HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM");
    assert_escapes(escape_url_attr, "mailto:security@example.com", "mailto:security@example.com");
    assert_escapes(escape_url_attr, "  https://x.example/  ", "https://x.example/");
    assert_escapes(escape_url_attr, "https://x.example/?q=\"><script>",
                   "https://x.example/?q=&quot;&gt;&lt;script&gt;");
    const char *refused[] = {
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:x",
        "\x01javascript:x",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "",
        "   ",
        "https://x.example/a b",
        "ftp://x.example",
        "javascript&colon;x:y",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_escapes(escape_url_attr, refused[i], "#");
}

static void test_for_format(void **state)
{
    (void)state;
    assert_ptr_equal(escape_for_format("html"), escape_html);
    assert_ptr_equal(escape_for_format("xml"), escape_xml);
    assert_ptr_equal(escape_for_format("confluence"), escape_xml);
    assert_ptr_equal(escape_for_format("md"), escape_markdown);
    assert_ptr_equal(escape_for_format("jira"), escape_jira);
    assert_ptr_equal(escape_for_format("text"), escape_text);
    assert_null(escape_for_format("pdf"));
    assert_null(escape_for_format("HTML"));
    assert_null(escape_for_format(""));
    assert_null(escape_for_format(NULL));
}

/* ---- size ---------------------------------------------------------------------------------- */

static void test_one_megabyte(void **state)
{
    (void)state;
    size_t n = (size_t)1 << 20;
    unsigned char *value = malloc(n);
    srand(7);
    for (size_t i = 0; i < n; i++)
        value[i] = (unsigned char)(rand() & 0xFF);
    const escape_fn escapes[] = {escape_html, escape_xml,  escape_markdown, escape_markdown_cell,
                                 escape_jira, escape_text, escape_url_attr};
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        struct buf out;
        buf_init(&out, 0);
        assert_int_equal(escapes[i](&out, (const char *)value, n), 0);
        assert_true(is_valid_utf8((const unsigned char *)buf_cstr(&out), out.len));
        assert_null(memchr(buf_cstr(&out), '\0', out.len));
        buf_free(&out);
    }
    /* libxml2 reads the random megabyte back, escaped, as exactly the cleaned-up text. */
    char *content = xml_roundtrip("<r>", (const char *)value, n, "</r>");
    assert_non_null(content);
    struct buf text;
    buf_init(&text, 0);
    escape_text(&text, (const char *)value, n);
    assert_string_equal(content, buf_cstr(&text));
    buf_free(&text);
    free(content);

    /* 1 MB of '<' grows fourfold; a capped buffer refuses rather than overflows. */
    memset(value, '<', n);
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(escape_html(&out, (const char *)value, n), 0);
    assert_int_equal(out.len, 4 * n);
    buf_free(&out);
    buf_init(&out, 1000);
    assert_int_equal(escape_html(&out, (const char *)value, n), -1);
    assert_true(out.len <= 1000);
    buf_free(&out);
    free(value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_cleanup),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_xml),
        cmocka_unit_test(test_xml_parses_back),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_jira),
        cmocka_unit_test(test_url_attr),
        cmocka_unit_test(test_for_format),
        cmocka_unit_test(test_one_megabyte),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return failed;
}
