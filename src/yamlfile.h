/* YAML input files (catalog, exceptions, attestations) through libyaml's document API, with
 * every error pointing at file:line:col. libyaml's marks are 0-based; this module converts them
 * once, here, to the 1-based positions people read. */
#ifndef DDBAUDIT_YAMLFILE_H
#define DDBAUDIT_YAMLFILE_H

#include <jansson.h>
#include <stddef.h>
#include <yaml.h>

struct diagnostics;

#define YAMLFILE_MAX_SIZE ((size_t)16 << 20)

struct yaml_file {
    char *path;
    char *text;
    size_t len;
    yaml_document_t *documents;
    size_t count;
};

/* Loads every document of a YAML file. Syntax errors are DDB_EINPUT at the libyaml mark. */
int yamlfile_load(struct yaml_file *out, const char *path, struct diagnostics *d);
void yamlfile_free(struct yaml_file *file);

/* Records an error at node's position and returns DDB_EINPUT; the excerpt comes from the file. */
int yamlfile_error(const struct yaml_file *file, const yaml_node_t *node, struct diagnostics *d,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The value node for `key` in a mapping node, or NULL. Sets *key_node if asked. */
yaml_node_t *yamlfile_get(yaml_document_t *doc, yaml_node_t *mapping, const char *key);

/* The scalar's text (NUL-terminated, owned by the document), or NULL if not a scalar. */
const char *yamlfile_scalar(const yaml_node_t *node);

/* Checks that every key of a mapping is in `known` (NULL-terminated); errors at the key. */
int yamlfile_check_keys(const struct yaml_file *file, yaml_document_t *doc, yaml_node_t *mapping,
                        const char *const *known, const char *what, struct diagnostics *d);

/* The shape of exceptions.yaml and attestations.yaml: one document, a mapping whose only key is
 * `key`, holding a list. Sets *list to that sequence node, or records the error (`what` names
 * the file in messages, e.g. "the exceptions file") and returns DDB_EINPUT. */
int yamlfile_top_list(const struct yaml_file *file, const char *key, const char *what,
                      yaml_node_t **list, struct diagnostics *d);

/* Converts a node to JSON: plain scalars become integers, reals, booleans or null when they
 * read as such (YAML 1.2 core schema); quoted scalars stay strings. Returns a new reference. */
json_t *yamlfile_to_json(yaml_document_t *doc, yaml_node_t *node);

/* Requires a string scalar (a non-empty one if nonempty is set); errors name the field. */
int yamlfile_string(const struct yaml_file *file, yaml_document_t *doc, yaml_node_t *mapping,
                    const char *key, int required, int nonempty, const char **out,
                    struct diagnostics *d);

#endif
