/* libyaml documents with positions. Knows nothing about controls or exceptions. */
#include "yamlfile.h"
#include "diag.h"
#include "fsutil.h"

#include <stdlib.h>
#include <string.h>

void yamlfile_free(struct yaml_file *file)
{
    for (size_t i = 0; i < file->count; i++)
        yaml_document_delete(&file->documents[i]);
    free(file->documents);
    free(file->text);
    free(file->path);
    memset(file, 0, sizeof(*file));
}

/* Aliases let a small file expand into an exponential or cyclic tree (a "billion laughs", or
 * `&a [*a]`, which would recurse forever). Our inputs never need them, so a first pass over the
 * event stream refuses any alias at its position. */
static int refuse_aliases(const char *path, const char *text, size_t len, struct diagnostics *d)
{
    yaml_parser_t parser;
    yaml_event_t event;
    int error = 0;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&parser, &event))
            break; /* the document load that follows reports syntax errors with positions */
        yaml_event_type_t type = event.type;
        if (type == YAML_ALIAS_EVENT)
            error = diag_error_at(d, DDB_EINPUT, path, (int)event.start_mark.line + 1,
                                  (int)event.start_mark.column + 1, 1,
                                  "YAML aliases (*name) are not supported here; write the value "
                                  "out");
        yaml_event_delete(&event);
        if (error || type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    return error;
}

int yamlfile_load(struct yaml_file *out, const char *path, struct diagnostics *d)
{
    memset(out, 0, sizeof(*out));
    int error = fs_read_file(&out->text, &out->len, path, YAMLFILE_MAX_SIZE, d);
    if (error < 0)
        return error;
    out->path = strdup(path);
    if ((error = refuse_aliases(path, out->text, out->len, d)) < 0) {
        diag_attach_source(d, out->text, out->len);
        yamlfile_free(out);
        return error;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)out->text, out->len);
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            yaml_mark_t mark = parser.problem_mark;
            error = diag_error_at(d, DDB_EINPUT, path, (int)mark.line + 1, (int)mark.column + 1, 1,
                                  "invalid YAML: %s%s%s", parser.problem ? parser.problem : "error",
                                  parser.context ? " " : "", parser.context ? parser.context : "");
            break;
        }
        if (!yaml_document_get_root_node(&doc)) {
            yaml_document_delete(&doc);
            break;
        }
        yaml_document_t *grown = realloc(out->documents, (out->count + 1) * sizeof(*grown));
        if (!grown) {
            yaml_document_delete(&doc);
            error = diag_error(d, DDB_ERUNTIME, "out of memory");
            break;
        }
        out->documents = grown;
        out->documents[out->count++] = doc;
    }
    yaml_parser_delete(&parser);
    if (error < 0)
        yamlfile_free(out);
    return error;
}

int yamlfile_error(const struct yaml_file *file, const yaml_node_t *node, struct diagnostics *d,
                   const char *fmt, ...)
{
    int line = node ? (int)node->start_mark.line + 1 : 0;
    int col = node ? (int)node->start_mark.column + 1 : 0;
    int span = 1;
    if (node && node->type == YAML_SCALAR_NODE && node->start_mark.line == node->end_mark.line)
        span = (int)(node->end_mark.column - node->start_mark.column);
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, DIAG_ERROR, file->path, line, col, span, fmt, ap);
    va_end(ap);
    diag_attach_source(d, file->text, file->len);
    return DDB_EINPUT;
}

const char *yamlfile_scalar(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)node->data.scalar.value;
}

yaml_node_t *yamlfile_get(yaml_document_t *doc, yaml_node_t *mapping, const char *key)
{
    if (!mapping || mapping->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
         pair < mapping->data.mapping.pairs.top; pair++) {
        const char *k = yamlfile_scalar(yaml_document_get_node(doc, pair->key));
        if (k && !strcmp(k, key))
            return yaml_document_get_node(doc, pair->value);
    }
    return NULL;
}

int yamlfile_check_keys(const struct yaml_file *file, yaml_document_t *doc, yaml_node_t *mapping,
                        const char *const *known, const char *what, struct diagnostics *d)
{
    int error = 0;
    for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
         pair < mapping->data.mapping.pairs.top; pair++) {
        yaml_node_t *key_node = yaml_document_get_node(doc, pair->key);
        const char *k = yamlfile_scalar(key_node);
        int found = 0;
        for (const char *const *p = known; k && *p && !found; p++)
            found = !strcmp(*p, k);
        if (!found) {
            struct {
                char text[512];
            } expected = {{0}};
            size_t used = 0;
            for (const char *const *p = known; *p; p++) {
                int n = snprintf(expected.text + used, sizeof(expected.text) - used, "%s%s",
                                 p == known ? "" : ", ", *p);
                if (n < 0 || (size_t)n >= sizeof(expected.text) - used)
                    break;
                used += (size_t)n;
            }
            error = yamlfile_error(file, key_node, d, "unknown key '%s' in %s (expected %s)",
                                   k ? k : "?", what, expected.text);
        }
        /* Duplicate keys: libyaml accepts them, we don't (the later one would silently win). */
        for (yaml_node_pair_t *other = mapping->data.mapping.pairs.start; other < pair; other++) {
            const char *o = yamlfile_scalar(yaml_document_get_node(doc, other->key));
            if (k && o && !strcmp(k, o))
                error = yamlfile_error(file, key_node, d, "duplicate key '%s' in %s", k, what);
        }
    }
    return error;
}

static int is_plain(const yaml_node_t *node)
{
    return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static json_t *scalar_to_json(const yaml_node_t *node)
{
    const char *s = (const char *)node->data.scalar.value;
    size_t len = node->data.scalar.length;
    if (!is_plain(node))
        return json_stringn(s, len);
    if (!strcmp(s, "null") || !strcmp(s, "~") || len == 0)
        return json_null();
    if (!strcmp(s, "true") || !strcmp(s, "True"))
        return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False"))
        return json_false();
    char *end = NULL;
    long long integer = strtoll(s, &end, 10);
    if (end && *end == '\0' && end != s && strspn(s, "-0123456789") == len)
        return json_integer(integer);
    double real = strtod(s, &end);
    if (end && *end == '\0' && end != s && strspn(s, "-+.0123456789eE") == len)
        return json_real(real);
    return json_stringn(s, len);
}

json_t *yamlfile_to_json(yaml_document_t *doc, yaml_node_t *node)
{
    if (!node)
        return json_null();
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return scalar_to_json(node);
    case YAML_SEQUENCE_NODE: {
        json_t *array = json_array();
        for (yaml_node_item_t *item = node->data.sequence.items.start;
             item < node->data.sequence.items.top; item++)
            json_array_append_new(array, yamlfile_to_json(doc, yaml_document_get_node(doc, *item)));
        return array;
    }
    case YAML_MAPPING_NODE: {
        json_t *object = json_object();
        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top; pair++) {
            const char *k = yamlfile_scalar(yaml_document_get_node(doc, pair->key));
            if (k)
                json_object_set_new(
                    object, k, yamlfile_to_json(doc, yaml_document_get_node(doc, pair->value)));
        }
        return object;
    }
    default:
        return json_null();
    }
}

int yamlfile_string(const struct yaml_file *file, yaml_document_t *doc, yaml_node_t *mapping,
                    const char *key, int required, int nonempty, const char **out,
                    struct diagnostics *d)
{
    yaml_node_t *node = yamlfile_get(doc, mapping, key);
    *out = NULL;
    if (!node) {
        if (required)
            return yamlfile_error(file, mapping, d, "missing required key '%s'", key);
        return 0;
    }
    const char *value = yamlfile_scalar(node);
    if (!value)
        return yamlfile_error(file, node, d, "'%s' must be a string, not a %s", key,
                              node->type == YAML_MAPPING_NODE ? "mapping" : "list");
    if (nonempty && !*value)
        return yamlfile_error(file, node, d, "'%s' must not be empty", key);
    *out = value;
    return 0;
}

int yamlfile_top_list(const struct yaml_file *file, const char *key, const char *what,
                      yaml_node_t **list, struct diagnostics *d)
{
    *list = NULL;
    if (file->count != 1)
        return diag_error_at(d, DDB_EINPUT, file->path, 1, 1, 1,
                             "expected one YAML document with an '%s' list", key);
    yaml_document_t *doc = &file->documents[0];
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (root->type != YAML_MAPPING_NODE)
        return yamlfile_error(file, root, d, "expected a mapping with an '%s' list", key);
    const char *const top_keys[] = {key, NULL};
    int error = yamlfile_check_keys(file, doc, root, top_keys, what, d);
    if (error < 0)
        return error;
    yaml_node_t *node = yamlfile_get(doc, root, key);
    if (!node || node->type != YAML_SEQUENCE_NODE)
        return yamlfile_error(file, node ? node : root, d, "'%s' must be a list", key);
    *list = node;
    return 0;
}
