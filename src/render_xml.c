/* XML: the report for machines that prefer XML, valid against docs/schema/report.xsd. Free text
 * goes in elements (attribute values lose their newlines), identifiers in attributes. The access
 * matrix and the activity are elements too, from the same view as every other format. */
#include "render.h"

const struct render_format render_format_xml = {
    .name = "xml",
    .template = "report.xml",
    .file_name = "report.xml",
    .escape = escape_xml,
    .decorate = NULL,
};
