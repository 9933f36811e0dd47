/* XML: the report for machines that prefer XML, valid against docs/schema/report.xsd. Free text
 * goes in elements (attribute values lose their newlines), identifiers in attributes. */
#include "render.h"
#include "diag.h"

#include <stdlib.h>

/* "access" and "activity" are open-ended objects: the XML carries them as JSON text. */
static int xml_decorate(json_t *view, struct diagnostics *d)
{
    static const char *const sections[] = {"access", "activity"};
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        json_t *section = json_object_get(view, sections[i]);
        char key[32];
        if (!json_is_object(section))
            continue;
        char *text = json_dumps(section, JSON_COMPACT);
        snprintf(key, sizeof(key), "xml_%s_json", sections[i]);
        if (!text || json_object_set_new(view, key, json_string(text)) < 0) {
            free(text);
            return diag_error(d, DDB_ERUNTIME, "out of memory");
        }
        free(text);
    }
    return 0;
}

const struct render_format render_format_xml = {
    .name = "xml",
    .template = "report.xml",
    .file_name = "report.xml",
    .escape = escape_xml,
    .decorate = xml_decorate,
};
