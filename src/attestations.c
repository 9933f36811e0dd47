/* Loading attestations and judging whether one is current. Artifact files are hashed here,
 * relative to the attestations file, so the evaluator needs no I/O. */
#include "attestations.h"
#include "catalog.h"
#include "date.h"
#include "diag.h"
#include "fsutil.h"
#include "yamlfile.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

void attestations_free(struct attestation_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++) {
        struct attestation *a = &set->items[i];
        free(a->control);
        free(a->resource);
        free(a->statement);
        free(a->attested_by);
        free(a->date);
        json_decref(a->artifacts);
        json_decref(a->regions);
        free(a->problem);
    }
    free(set->items);
    free(set->file);
    free(set);
}

static char *copy_string(const struct yaml_file *file, yaml_document_t *doc, yaml_node_t *map,
                         const char *key, int required, int *error, struct diagnostics *d)
{
    const char *value = NULL;
    int rc = yamlfile_string(file, doc, map, key, required, required, &value, d);
    if (rc < 0)
        *error = rc;
    return value ? strdup(value) : NULL;
}

/* Artifacts: each {file, sha256} (checked now) or {url}. */
static int load_artifacts(const struct yaml_file *file, yaml_document_t *doc, yaml_node_t *list,
                          struct attestation *a, struct diagnostics *d)
{
    static const char *const keys[] = {"file", "sha256", "url", NULL};
    int error = 0;
    a->artifacts = json_array();
    if (!list)
        return 0;
    if (list->type != YAML_SEQUENCE_NODE)
        return yamlfile_error(file, list, d, "'artifacts' must be a list");
    char *base = strdup(file->path);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        base[0] = '\0';
    for (yaml_node_item_t *item = list->data.sequence.items.start;
         item < list->data.sequence.items.top; item++) {
        yaml_node_t *map = yaml_document_get_node(doc, *item);
        if (map->type != YAML_MAPPING_NODE) {
            error = yamlfile_error(file, map, d, "each artifact is {file, sha256} or {url}");
            continue;
        }
        int rc = yamlfile_check_keys(file, doc, map, keys, "an artifact", d);
        if (rc < 0)
            error = rc;
        const char *name = yamlfile_scalar(yamlfile_get(doc, map, "file"));
        const char *sha = yamlfile_scalar(yamlfile_get(doc, map, "sha256"));
        const char *url = yamlfile_scalar(yamlfile_get(doc, map, "url"));
        json_t *entry = json_object();
        if (name) {
            if (!sha) {
                error = yamlfile_error(file, map, d, "artifact '%s' needs its sha256", name);
                json_decref(entry);
                continue;
            }
            json_object_set_new(entry, "file", json_string(name));
            json_object_set_new(entry, "sha256", json_string(sha));
            if (name[0] == '/' || strstr(name, "..")) {
                error = yamlfile_error(file, yamlfile_get(doc, map, "file"), d,
                                       "artifact paths are relative to the attestations file");
            } else if (!a->problem) {
                char *path = fs_join(*base ? base : ".", name);
                char actual[DIGEST_SHA256_HEX_LEN + 1];
                struct diagnostics quiet;
                diag_init(&quiet);
                if (digest_file_sha256_hex(actual, NULL, path, &quiet) < 0) {
                    size_t n = strlen(name) + 64;
                    a->problem = malloc(n);
                    snprintf(a->problem, n, "artifact %s cannot be read", name);
                } else if (strcmp(actual, sha)) {
                    size_t n = strlen(name) + 128;
                    a->problem = malloc(n);
                    snprintf(a->problem, n, "artifact %s does not match its sha256 (%.12s…)", name,
                             actual);
                }
                diag_free(&quiet);
                free(path);
            }
        } else if (url) {
            json_object_set_new(entry, "url", json_string(url));
        } else {
            error = yamlfile_error(file, map, d, "an artifact needs a file or a url");
        }
        json_array_append_new(a->artifacts, entry);
    }
    free(base);
    return error;
}

int attestations_load(struct attestation_set **out, const char *path, const struct catalog *catalog,
                      struct diagnostics *d)
{
    static const char *const keys[] = {"control",     "resource", "statement",
                                       "attested_by", "date",     "max_age_days",
                                       "artifacts",   "regions",  NULL};
    *out = NULL;
    struct yaml_file file;
    int error = yamlfile_load(&file, path, d);
    if (error < 0)
        return error;
    struct attestation_set *set = calloc(1, sizeof(*set));
    set->file = strdup(path);
    digest_sha256_hex(file.text, file.len, set->sha256);
    yaml_node_t *list = NULL;
    if ((error = yamlfile_top_list(&file, "attestations", "the attestations file", &list, d)) < 0)
        goto done;
    yaml_document_t *doc = &file.documents[0];
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    set->items = calloc(n ? n : 1, sizeof(*set->items));
    for (yaml_node_item_t *item = list->data.sequence.items.start;
         item < list->data.sequence.items.top; item++) {
        yaml_node_t *map = yaml_document_get_node(doc, *item);
        if (map->type != YAML_MAPPING_NODE) {
            error = yamlfile_error(&file, map, d, "each attestation must be a mapping");
            continue;
        }
        int rc = yamlfile_check_keys(&file, doc, map, keys, "an attestation", d);
        if (rc < 0)
            error = rc;
        struct attestation *a = &set->items[set->count++];
        a->line = (int)map->start_mark.line + 1;
        a->control = copy_string(&file, doc, map, "control", 1, &error, d);
        a->resource = copy_string(&file, doc, map, "resource", 0, &error, d);
        a->statement = copy_string(&file, doc, map, "statement", 1, &error, d);
        a->attested_by = copy_string(&file, doc, map, "attested_by", 1, &error, d);
        a->date = copy_string(&file, doc, map, "date", 1, &error, d);
        if (a->control && catalog && !catalog_find(catalog, a->control))
            error = yamlfile_error(&file, yamlfile_get(doc, map, "control"), d,
                                   "unknown control '%s'", a->control);
        if (a->date && date_parse(a->date, &a->day) < 0)
            error = yamlfile_error(&file, yamlfile_get(doc, map, "date"), d,
                                   "'%s' is not a date (YYYY-MM-DD)", a->date);
        yaml_node_t *age = yamlfile_get(doc, map, "max_age_days");
        const char *age_text = yamlfile_scalar(age);
        char *end = NULL;
        a->max_age_days = age_text ? strtol(age_text, &end, 10) : 0;
        if (!age_text || !end || *end || a->max_age_days < 1 || a->max_age_days > 3660)
            error = yamlfile_error(&file, age ? age : map, d,
                                   "'max_age_days' must be a whole number of days (1-3660)");
        yaml_node_t *regions = yamlfile_get(doc, map, "regions");
        if (regions) {
            if (regions->type != YAML_SEQUENCE_NODE)
                error = yamlfile_error(&file, regions, d, "'regions' must be a list");
            else
                a->regions = yamlfile_to_json(doc, regions);
        }
        if ((rc = load_artifacts(&file, doc, yamlfile_get(doc, map, "artifacts"), a, d)) < 0)
            error = rc;
    }
done:
    yamlfile_free(&file);
    if (error < 0) {
        attestations_free(set);
        return error;
    }
    *out = set;
    return 0;
}

static long effective_max_age(const struct attestation *a, long max_age_limit)
{
    return max_age_limit > 0 && max_age_limit < a->max_age_days ? max_age_limit : a->max_age_days;
}

const char *attestation_state(const struct attestation *a, long as_of_day, long max_age_limit)
{
    if (a->problem)
        return "unusable";
    if (a->day > as_of_day)
        return "future";
    if (as_of_day - a->day > effective_max_age(a, max_age_limit))
        return "stale";
    return "current";
}

const struct attestation *attestation_find(const struct attestation_set *set,
                                           const char *control_id, const char *resource,
                                           long as_of_day, long max_age_limit)
{
    const struct attestation *best = NULL;
    int best_current = 0;
    for (size_t i = 0; set && i < set->count; i++) {
        const struct attestation *a = &set->items[i];
        if (strcmp(a->control, control_id))
            continue;
        if (a->resource && (!resource || fnmatch(a->resource, resource, 0) != 0))
            continue;
        int current = !strcmp(attestation_state(a, as_of_day, max_age_limit), "current");
        if (!best || current > best_current || (current == best_current && a->day > best->day)) {
            best = a;
            best_current = current;
        }
    }
    return best;
}

json_t *attestation_json(const struct attestation *a, long as_of_day, long max_age_limit)
{
    json_t *o = json_object();
    json_object_set_new(o, "statement", json_string(a->statement));
    json_object_set_new(o, "attested_by", json_string(a->attested_by));
    json_object_set_new(o, "date", json_string(a->date));
    json_object_set_new(o, "max_age_days", json_integer(effective_max_age(a, max_age_limit)));
    json_object_set_new(o, "state", json_string(attestation_state(a, as_of_day, max_age_limit)));
    if (a->problem)
        json_object_set_new(o, "problem", json_string(a->problem));
    json_object_set_new(o, "artifacts", json_deep_copy(a->artifacts));
    return o;
}
