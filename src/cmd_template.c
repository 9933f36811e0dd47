/* `ddbaudit template render`: renders any template against any JSON file and prints the result,
 * so template authors can try a template without a whole report run. It is the engine with
 * files around it; it must not know what a report looks like. */
#include "buf.h"
#include "command.h"
#include "diag.h"
#include "escape.h"
#include "fsutil.h"
#include "mustache.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEMPLATE_SIZE ((size_t)16 << 20)
#define MAX_DATA_SIZE ((size_t)1 << 30)

static const char usage[] =
    "usage: ddbaudit template render TEMPLATE DATA.json [--partials DIR]\n"
    "                                [--format html|xml|confluence|md|jira|text] [--strict]\n"
    "\n"
    "Renders the Mustache template TEMPLATE with DATA.json as its data and prints the result.\n"
    "\n"
    "  --partials DIR  load partial {{>name}} from DIR/name.mustache (default: the directory\n"
    "                  of TEMPLATE)\n"
    "  --format FMT    how {{value}} is escaped; default from TEMPLATE's name: x.html.mustache\n"
    "                  is html, x.md.mustache md, x.xml.mustache xml, x.jira.mustache jira,\n"
    "                  x.confluence.mustache confluence, anything else text\n"
    "  --strict        a missing value ({{x}} with no x in the data) or an unknown partial is\n"
    "                  an error instead of empty text\n"
    "\n"
    "Exit status: 0 rendered, 2 bad command line, 3 invalid template or data, 4 I/O error.\n";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "reports/summary.html.mustache" is an HTML template. */
static const char *format_for_template(const char *path)
{
    static const char *const formats[] = {"html", "xml", "md", "jira", "confluence", "text"};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char suffix[32];
        snprintf(suffix, sizeof(suffix), ".%s.mustache", formats[i]);
        if (ends_with(path, suffix))
            return formats[i];
    }
    return "text";
}

/* The directory part of path: "a/b/t.mustache" -> "a/b", "t.mustache" -> ".". Caller frees. */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int load_data(json_t **out, const char *path, struct diagnostics *d)
{
    char *text = NULL;
    size_t len = 0;
    int error = fs_read_file(&text, &len, path, MAX_DATA_SIZE, d);
    if (error < 0)
        return error;
    json_error_t json_error;
    *out = json_loadb(text, len, JSON_DECODE_ANY, &json_error);
    if (!*out) {
        /* json_error.position counts the bytes read, up to and including the offending one;
         * jansson's own column is 0 at the end of the input, so recompute it from there. */
        int line, col;
        size_t offset = json_error.position > 0 ? (size_t)json_error.position - 1 : 0;
        diag_position(text, len, offset, &line, &col);
        error = diag_error_at(d, DDB_EINPUT, path, line, col, 1, "%s", json_error.text);
        diag_attach_source(d, text, len);
    }
    free(text);
    return error;
}

static int write_stdout(const struct buf *out, struct diagnostics *d)
{
    if ((out->len && fwrite(out->data, 1, out->len, stdout) != out->len) || fflush(stdout) != 0)
        return diag_error(d, DDB_ERUNTIME, "cannot write to standard output");
    return 0;
}

static int template_render(int argc, char **argv, struct diagnostics *d)
{
    static const struct option options[] = {
        {"partials", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"strict", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *partials = NULL, *format = NULL;
    int strict = 0, option, error = 0;
    char *text = NULL, *template_dir = NULL;
    size_t len = 0;
    json_t *data = NULL;
    struct mustache_template *template = NULL;
    struct buf out;
    buf_init(&out, 0);

    optind = 0;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":p:f:sh", options, NULL)) != -1) {
        switch (option) {
        case 'p':
            partials = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 's':
            strict = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case ':':
            return diag_error(d, DDB_EUSAGE, "option '%s' needs a value", argv[optind - 1]);
        default:
            return diag_error(d, DDB_EUSAGE, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return diag_error(d, DDB_EUSAGE,
                          "expected a template and a data file (see 'ddbaudit template render "
                          "--help')");
    const char *template_path = argv[optind], *data_path = argv[optind + 1];
    if (!format)
        format = format_for_template(template_path);
    mustache_escape_fn escape = escape_for_format(format);
    if (!escape)
        return diag_error(d, DDB_EUSAGE,
                          "unknown format '%s' (expected html, xml, confluence, md, jira or text)",
                          format);
    if (!partials && !(partials = template_dir = directory_of(template_path)))
        return diag_error(d, DDB_ERUNTIME, "out of memory");

    if ((error = fs_read_file(&text, &len, template_path, MAX_TEMPLATE_SIZE, d)) < 0 ||
        (error = mustache_compile(&template, template_path, text, len, d)) < 0 ||
        (error = load_data(&data, data_path, d)) < 0)
        goto done;
    const char *dirs[] = {partials};
    struct mustache_dir_loader loader = {.dirs = dirs, .dir_count = 1, .suffix = ".mustache"};
    struct mustache_options opt = {
        .escape = escape,
        .load_partial = mustache_load_from_dirs,
        .partial_ctx = &loader,
        .strict = strict,
    };
    if ((error = mustache_render(&out, template, data, &opt, d)) < 0)
        goto done;
    error = write_stdout(&out, d);
done:
    buf_free(&out);
    json_decref(data);
    mustache_free(template);
    free(text);
    free(template_dir);
    return error;
}

const struct command command_template_render = {
    .name = "template render",
    .summary = "render a Mustache template against a JSON file (for template authors)",
    .usage = usage,
    .exec = template_render,
};
