/* Loading and validating risk acceptances. Applying them belongs to the evaluator. */
#include "exceptions.h"
#include "catalog.h"
#include "date.h"
#include "diag.h"
#include "yamlfile.h"

#include <stdlib.h>
#include <string.h>

void exceptions_free(struct exception_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++) {
        struct exception *e = &set->items[i];
        free(e->control);
        free(e->resource);
        free(e->ticket_id);
        free(e->ticket_url);
        free(e->approved_by);
        free(e->reason);
        free(e->expires);
    }
    free(set->items);
    free(set->file);
    free(set);
}

static char *copy_string(const struct yaml_file *file, yaml_document_t *doc, yaml_node_t *map,
                         const char *key, int *error, struct diagnostics *d)
{
    const char *value = NULL;
    int rc = yamlfile_string(file, doc, map, key, 1, 1, &value, d);
    if (rc < 0)
        *error = rc;
    return value ? strdup(value) : NULL;
}

int exceptions_load(struct exception_set **out, const char *path, const struct catalog *catalog,
                    struct diagnostics *d)
{
    static const char *const keys[] = {"control", "resource", "ticket", "approved_by",
                                       "reason",  "expires",  NULL};
    static const char *const ticket_keys[] = {"id", "url", NULL};
    *out = NULL;
    struct yaml_file file;
    int error = yamlfile_load(&file, path, d);
    if (error < 0)
        return error;
    struct exception_set *set = calloc(1, sizeof(*set));
    set->file = strdup(path);
    digest_sha256_hex(file.text, file.len, set->sha256);
    yaml_node_t *list = NULL;
    if ((error = yamlfile_top_list(&file, "exceptions", "the exceptions file", &list, d)) < 0)
        goto done;
    yaml_document_t *doc = &file.documents[0];
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    set->items = calloc(n ? n : 1, sizeof(*set->items));
    for (yaml_node_item_t *item = list->data.sequence.items.start;
         item < list->data.sequence.items.top; item++) {
        yaml_node_t *map = yaml_document_get_node(doc, *item);
        if (map->type != YAML_MAPPING_NODE) {
            error = yamlfile_error(&file, map, d, "each risk acceptance must be a mapping");
            continue;
        }
        int rc = yamlfile_check_keys(&file, doc, map, keys, "a risk acceptance", d);
        if (rc < 0)
            error = rc;
        struct exception *e = &set->items[set->count++];
        e->line = (int)map->start_mark.line + 1;
        e->col = (int)map->start_mark.column + 1;
        e->control = copy_string(&file, doc, map, "control", &error, d);
        e->resource = copy_string(&file, doc, map, "resource", &error, d);
        e->approved_by = copy_string(&file, doc, map, "approved_by", &error, d);
        e->reason = copy_string(&file, doc, map, "reason", &error, d);
        e->expires = copy_string(&file, doc, map, "expires", &error, d);
        yaml_node_t *control_node = yamlfile_get(doc, map, "control");
        if (e->control && catalog && !catalog_find(catalog, e->control))
            error = yamlfile_error(&file, control_node, d, "unknown control '%s'", e->control);
        if (e->expires && date_parse(e->expires, &e->expires_day) < 0)
            error = yamlfile_error(&file, yamlfile_get(doc, map, "expires"), d,
                                   "'%s' is not a date (YYYY-MM-DD)", e->expires);
        yaml_node_t *ticket = yamlfile_get(doc, map, "ticket");
        if (!ticket || ticket->type != YAML_MAPPING_NODE) {
            error = yamlfile_error(&file, ticket ? ticket : map, d,
                                   "'ticket' must be a mapping with id and url");
            continue;
        }
        if ((rc = yamlfile_check_keys(&file, doc, ticket, ticket_keys, "ticket", d)) < 0)
            error = rc;
        e->ticket_id = copy_string(&file, doc, ticket, "id", &error, d);
        e->ticket_url = copy_string(&file, doc, ticket, "url", &error, d);
        if (e->ticket_url && strncmp(e->ticket_url, "https://", 8))
            error = yamlfile_error(&file, yamlfile_get(doc, ticket, "url"), d,
                                   "ticket url must be an https:// link");
    }
done:
    yamlfile_free(&file);
    if (error < 0) {
        exceptions_free(set);
        return error;
    }
    *out = set;
    return 0;
}
