/* Confluence storage format (XHTML with ac: macros) for publishing the control matrix to a wiki.
 * The file is the page body Confluence's REST API takes: a fragment whose ac:/ri: prefixes are
 * declared by Confluence, not by us. Statuses become status lozenge macros. */
#include "render.h"
#include "diag.h"

#include <string.h>

/* The lozenge colours Confluence's status macro knows. */
static const char *lozenge_colour(const char *status)
{
    static const struct {
        const char *status, *colour;
    } colours[] = {
        {"pass", "Green"},    {"review", "Yellow"},       {"remediate", "Red"},
        {"accepted", "Blue"}, {"not_applicable", "Grey"},
    };
    for (size_t i = 0; status && i < sizeof(colours) / sizeof(colours[0]); i++)
        if (strcmp(colours[i].status, status) == 0)
            return colours[i].colour;
    return "Grey";
}

static int set_colour(json_t *object, const char *status_key, const char *colour_key)
{
    json_t *status = json_object_get(object, status_key);
    if (!json_is_string(status))
        return 0;
    return json_object_set_new(object, colour_key,
                               json_string(lozenge_colour(json_string_value(status))));
}

static int colour_walk(json_t *object, const char *kind, void *ctx)
{
    (void)ctx;
    if (strcmp(kind, "control") != 0 && strcmp(kind, "finding") != 0)
        return 0;
    if (set_colour(object, "status", "confluence_colour") < 0 ||
        set_colour(object, "vendor_status", "confluence_vendor_colour") < 0)
        return -1;
    return 0;
}

static int confluence_decorate(json_t *view, struct diagnostics *d)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(view, "summary_rows"), i, row)
    {
        if (set_colour(row, "status", "confluence_colour") < 0)
            return diag_error(d, DDB_ERUNTIME, "out of memory");
    }
    if (render_walk(view, colour_walk, NULL) < 0)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    return 0;
}

const struct render_format render_format_confluence = {
    .name = "confluence",
    .template = "report.confluence",
    .file_name = "report.confluence.xml",
    .escape = escape_xml,
    .decorate = confluence_decorate,
};
