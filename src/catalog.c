/* Control catalog loading and linting (libyaml). Reports every problem with its position;
 * knows the shape of a control, not what its check does. */
#include "catalog.h"
#include "buf.h"
#include "check.h"
#include "diag.h"
#include "fsutil.h"
#include "yamlfile.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

const char *const catalog_operations[] = {
    "sts:GetCallerIdentity",
    "dynamodb:ListTables",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:ListTagsOfResource",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:GetResourcePolicy",
    "dynamodb:DescribeGlobalTable",
    "kms:DescribeKey",
    "kms:GetKeyRotationStatus",
    "kms:GetKeyPolicy",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcEndpoints",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetAccountSummary",
    "iam:ListSAMLProviders",
    "iam:ListOpenIDConnectProviders",
    "iam:GetCredentialReport",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:LookupEvents",
    "logs:DescribeMetricFilters",
    "cloudwatch:DescribeAlarms",
    "events:ListRules",
    "events:ListTargetsByRule",
    "application-autoscaling:DescribeScalableTargets",
    "backup:ListProtectedResources",
    "dax:DescribeClusters",
    NULL,
};

static const char *const resource_kinds[] = {"account", "region",      "table", "key",
                                             "vpc",     "dax-cluster", "trail", NULL};

static void control_clear(struct control *c)
{
    free(c->id);
    free(c->title);
    free(c->objective);
    free(c->vendor_notes);
    for (size_t i = 0; i < c->source_count; i++) {
        free(c->sources[i].seed);
        free(c->sources[i].table);
        free(c->sources[i].text);
    }
    free(c->sources);
    for (size_t i = 0; i < c->reference_count; i++) {
        free(c->references[i].title);
        free(c->references[i].url);
    }
    free(c->references);
    for (size_t i = 0; i < c->evidence_count; i++)
        free(c->evidence[i]);
    free(c->evidence);
    free(c->applies_to);
    json_decref(c->applies_to_tags);
    json_decref(c->params);
    free(c->check);
    free(c->rule_description);
    free(c->file);
}

void catalog_free(struct catalog *catalog)
{
    if (!catalog)
        return;
    for (size_t i = 0; i < catalog->count; i++)
        control_clear(&catalog->controls[i]);
    free(catalog->controls);
    free(catalog);
}

static int compare_controls(const void *a, const void *b)
{
    const char *x = ((const struct control *)a)->id, *y = ((const struct control *)b)->id;
    return strcmp(x ? x : "", y ? y : "");
}

const struct control *catalog_find(const struct catalog *catalog, const char *id)
{
    struct control key = {.id = (char *)id};
    return bsearch(&key, catalog->controls, catalog->count, sizeof(key), compare_controls);
}

static int in_list(const char *value, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(*list, value))
            return 1;
    return 0;
}

/* https://host/... with a plausible host: what an auditor can click. */
static int valid_url(const char *url)
{
    if (strncmp(url, "https://", 8))
        return 0;
    const char *host = url + 8;
    size_t n = strcspn(host, "/?#");
    if (n == 0 || !memchr(host, '.', n))
        return 0;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return 0;
    return 1;
}

static int valid_id(const char *id)
{
    if (strncmp(id, "DDB-", 4) || strlen(id) < 6 || strlen(id) > 8)
        return 0;
    for (const char *p = id + 4; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

struct loader {
    const struct yaml_file *file;
    yaml_document_t *doc;
    struct diagnostics *d;
    int error;
};

static void fail(struct loader *l, int code)
{
    if (code < 0)
        l->error = code;
}

static char *take_string(struct loader *l, yaml_node_t *map, const char *key, int required)
{
    const char *value = NULL;
    int rc = yamlfile_string(l->file, l->doc, map, key, required, required, &value, l->d);
    fail(l, rc);
    return value ? strdup(value) : NULL;
}

static yaml_node_t *take_node(struct loader *l, yaml_node_t *map, const char *key,
                              yaml_node_type_t type, int required)
{
    yaml_node_t *node = yamlfile_get(l->doc, map, key);
    if (!node) {
        if (required)
            fail(l, yamlfile_error(l->file, map, l->d, "missing required key '%s'", key));
        return NULL;
    }
    if (node->type != type) {
        static const char *const names[] = {"", "string", "list", "mapping"};
        fail(l, yamlfile_error(l->file, node, l->d, "'%s' must be a %s", key, names[type]));
        return NULL;
    }
    return node;
}

static void load_sources(struct loader *l, yaml_node_t *map, struct control *c)
{
    static const char *const known[] = {"seed", "table", "row", "text", NULL};
    static const char *const tables[] = {"matrix", "security-need", "best-practices", NULL};
    yaml_node_t *list = take_node(l, map, "sources", YAML_SEQUENCE_NODE, 1);
    if (!list)
        return;
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0) {
        fail(l, yamlfile_error(l->file, list, l->d, "'sources' must name at least one seed row"));
        return;
    }
    c->sources = calloc(n, sizeof(*c->sources));
    for (yaml_node_item_t *item = list->data.sequence.items.start;
         item < list->data.sequence.items.top; item++) {
        yaml_node_t *entry = yaml_document_get_node(l->doc, *item);
        if (entry->type != YAML_MAPPING_NODE) {
            fail(l, yamlfile_error(l->file, entry, l->d, "each source must be a mapping"));
            continue;
        }
        fail(l, yamlfile_check_keys(l->file, l->doc, entry, known, "a source", l->d));
        struct control_source *s = &c->sources[c->source_count++];
        s->seed = take_string(l, entry, "seed", 1);
        s->table = take_string(l, entry, "table", 1);
        s->text = take_string(l, entry, "text", 1);
        yaml_node_t *row = yamlfile_get(l->doc, entry, "row");
        const char *row_text = yamlfile_scalar(row);
        char *end = NULL;
        long value = row_text ? strtol(row_text, &end, 10) : 0;
        if (!row_text || !end || *end || value < 1)
            fail(l, yamlfile_error(l->file, row ? row : entry, l->d,
                                   "'row' must be a positive row number"));
        s->row = (int)value;
        if (s->seed && strcmp(s->seed, "004") && strcmp(s->seed, "000"))
            fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, entry, "seed"), l->d,
                                   "unknown seed '%s' (expected \"004\" or \"000\")", s->seed));
        if (s->table && !in_list(s->table, tables))
            fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, entry, "table"), l->d,
                                   "unknown seed table '%s' (expected matrix, security-need, "
                                   "best-practices)",
                                   s->table));
    }
}

static void load_references(struct loader *l, yaml_node_t *map, struct control *c)
{
    static const char *const known[] = {"title", "url", NULL};
    yaml_node_t *list = take_node(l, map, "references", YAML_SEQUENCE_NODE, 1);
    if (!list)
        return;
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0) {
        fail(l, yamlfile_error(l->file, list, l->d,
                               "'references' is empty: every control cites its documentation"));
        return;
    }
    c->references = calloc(n, sizeof(*c->references));
    for (yaml_node_item_t *item = list->data.sequence.items.start;
         item < list->data.sequence.items.top; item++) {
        yaml_node_t *entry = yaml_document_get_node(l->doc, *item);
        if (entry->type != YAML_MAPPING_NODE) {
            fail(l, yamlfile_error(l->file, entry, l->d, "each reference must be a mapping"));
            continue;
        }
        fail(l, yamlfile_check_keys(l->file, l->doc, entry, known, "a reference", l->d));
        struct reference *r = &c->references[c->reference_count++];
        r->title = take_string(l, entry, "title", 1);
        r->url = take_string(l, entry, "url", 1);
        if (r->url && !valid_url(r->url))
            fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, entry, "url"), l->d,
                                   "malformed URL '%s' (expected https://host/...)", r->url));
    }
}

static void load_evidence(struct loader *l, yaml_node_t *map, struct control *c)
{
    yaml_node_t *list = take_node(l, map, "evidence", YAML_SEQUENCE_NODE, 1);
    if (!list)
        return;
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    c->evidence = calloc(n + 1, sizeof(char *));
    for (yaml_node_item_t *item = list->data.sequence.items.start;
         item < list->data.sequence.items.top; item++) {
        yaml_node_t *entry = yaml_document_get_node(l->doc, *item);
        const char *op = yamlfile_scalar(entry);
        if (!op) {
            fail(l,
                 yamlfile_error(l->file, entry, l->d, "each evidence entry is service:Operation"));
            continue;
        }
        if (!in_list(op, catalog_operations)) {
            fail(l, yamlfile_error(l->file, entry, l->d,
                                   "unknown operation '%s' (not one the collector calls)", op));
            continue;
        }
        c->evidence[c->evidence_count++] = strdup(op);
    }
}

static void load_applies_to(struct loader *l, yaml_node_t *map, struct control *c)
{
    static const char *const known[] = {"resource", "tags", NULL};
    yaml_node_t *node = take_node(l, map, "applies_to", YAML_MAPPING_NODE, 1);
    if (!node)
        return;
    fail(l, yamlfile_check_keys(l->file, l->doc, node, known, "applies_to", l->d));
    c->applies_to = take_string(l, node, "resource", 1);
    if (c->applies_to && !in_list(c->applies_to, resource_kinds))
        fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, node, "resource"), l->d,
                               "unknown resource kind '%s' (expected account, region, table, key, "
                               "vpc, dax-cluster, trail)",
                               c->applies_to));
    yaml_node_t *tags = yamlfile_get(l->doc, node, "tags");
    if (tags) {
        if (tags->type != YAML_MAPPING_NODE) {
            fail(l, yamlfile_error(l->file, tags, l->d,
                                   "'tags' must map tag keys to lists of values"));
            return;
        }
        c->applies_to_tags = yamlfile_to_json(l->doc, tags);
        const char *key;
        json_t *values;
        json_object_foreach(c->applies_to_tags, key, values)
        {
            if (!json_is_array(values))
                fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, tags, key), l->d,
                                       "tag '%s' must list the values in scope", key));
        }
    }
}

static int one_of(const char *value, const char *const *names)
{
    for (; *names; names++)
        if (!strcmp(value, *names))
            return 1;
    return 0;
}

/* The scalar of a plain (unquoted) YAML node, else NULL: `'3'` is a string, not a number. */
static const char *plain_scalar(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
               ? yamlfile_scalar(node)
               : NULL;
}

/* Refuses a parameter value of the wrong shape: the check would otherwise ignore it and use
 * its default, which for a level or a status is the most lenient reading. */
static void check_param_value(struct loader *l, const char *name, yaml_node_t *value,
                              enum check_param_type type)
{
    static const char *const statuses[] = {"pass", "review", "remediate", NULL};
    static const char *const levels[] = {"aws_owned", "aws_managed", "customer_managed", NULL};
    const char *text = yamlfile_scalar(value);
    const char *plain = plain_scalar(value);
    switch (type) {
    case CHECK_PARAM_COUNT:
        if (!plain || !*plain || strspn(plain, "0123456789") != strlen(plain) || strlen(plain) > 9)
            fail(l, yamlfile_error(l->file, value, l->d,
                                   "parameter '%s' must be a whole number (0 or more)", name));
        break;
    case CHECK_PARAM_STRING:
        if (!text || !*text)
            fail(l, yamlfile_error(l->file, value, l->d,
                                   "parameter '%s' must be a non-empty string", name));
        break;
    case CHECK_PARAM_STATUS:
        if (!text || !one_of(text, statuses))
            fail(l, yamlfile_error(l->file, value, l->d,
                                   "parameter '%s' must be pass, review or remediate", name));
        break;
    case CHECK_PARAM_KEY_LEVEL:
        if (!text || !one_of(text, levels))
            fail(l, yamlfile_error(l->file, value, l->d,
                                   "parameter '%s' must be aws_owned, aws_managed or "
                                   "customer_managed",
                                   name));
        break;
    case CHECK_PARAM_STRINGS:
        if (value->type != YAML_SEQUENCE_NODE) {
            fail(l, yamlfile_error(l->file, value, l->d, "parameter '%s' must be a list of strings",
                                   name));
            break;
        }
        for (yaml_node_item_t *item = value->data.sequence.items.start;
             item < value->data.sequence.items.top; item++) {
            yaml_node_t *node = yaml_document_get_node(l->doc, *item);
            const char *item_text = node ? yamlfile_scalar(node) : NULL;
            if (!item_text || !*item_text)
                fail(l, yamlfile_error(l->file, node ? node : value, l->d,
                                       "parameter '%s' must be a list of non-empty strings", name));
        }
        break;
    case CHECK_PARAM_NAMES:
        if (value->type != YAML_MAPPING_NODE) {
            fail(l, yamlfile_error(l->file, value, l->d,
                                   "parameter '%s' must be a mapping of names to strings", name));
            break;
        }
        for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
             pair < value->data.mapping.pairs.top; pair++) {
            yaml_node_t *node = yaml_document_get_node(l->doc, pair->value);
            const char *item_text = node ? yamlfile_scalar(node) : NULL;
            if (!item_text || !*item_text)
                fail(l, yamlfile_error(l->file, node ? node : value, l->d,
                                       "parameter '%s' must map each name to a string", name));
        }
        break;
    }
}

/* Each parameter must be one the rule's check reads, with a value of its type. */
static void check_params(struct loader *l, yaml_node_t *params, const struct check *check)
{
    for (yaml_node_pair_t *pair = params->data.mapping.pairs.start;
         pair < params->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(l->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(l->doc, pair->value);
        const char *name = key ? yamlfile_scalar(key) : NULL;
        const struct check_param_spec *spec = check->params;
        while (spec && spec->name && (!name || strcmp(spec->name, name)))
            spec++;
        if (!name || !spec || !spec->name) {
            struct buf known;
            buf_init(&known, 0);
            for (spec = check->params; spec && spec->name; spec++)
                buf_printf(&known, "%s%s", known.len ? ", " : "", spec->name);
            fail(l,
                 yamlfile_error(l->file, key ? key : params, l->d,
                                "unknown parameter '%s' for check '%s' (%s%s)", name ? name : "?",
                                check->name, known.len ? "it reads: " : "it reads none",
                                known.len ? known.data : ""));
            buf_free(&known);
            continue;
        }
        if (value)
            check_param_value(l, name, value, spec->type);
    }
}

static void load_control(struct loader *l, yaml_node_t *map, struct control *c)
{
    static const char *const known[] = {
        "id",         "title",    "sources",    "objective", "vendor_status", "vendor_notes",
        "references", "evidence", "applies_to", "params",    "rule",          NULL};
    static const char *const rule_keys[] = {"check", "description", NULL};
    fail(l, yamlfile_check_keys(l->file, l->doc, map, known, "a control", l->d));
    c->file = strdup(l->file->path);
    c->line = (int)map->start_mark.line + 1;
    c->id = take_string(l, map, "id", 1);
    if (c->id && !valid_id(c->id))
        fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, map, "id"), l->d,
                               "control id '%s' must look like DDB-01", c->id));
    c->title = take_string(l, map, "title", 1);
    c->objective = take_string(l, map, "objective", 1);
    c->vendor_notes = take_string(l, map, "vendor_notes", 1);
    char *vendor_status = take_string(l, map, "vendor_status", 1);
    if (vendor_status && status_parse(vendor_status, &c->vendor_status) < 0)
        fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, map, "vendor_status"), l->d,
                               "unknown status '%s' (expected pass, review, remediate)",
                               vendor_status));
    else if (vendor_status && c->vendor_status != STATUS_PASS &&
             c->vendor_status != STATUS_REVIEW && c->vendor_status != STATUS_REMEDIATE)
        fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, map, "vendor_status"), l->d,
                               "vendor_status is the matrix's column: pass, review or remediate"));
    free(vendor_status);
    load_sources(l, map, c);
    load_references(l, map, c);
    load_evidence(l, map, c);
    load_applies_to(l, map, c);
    const struct check *check = NULL;
    yaml_node_t *rule = take_node(l, map, "rule", YAML_MAPPING_NODE, 1);
    if (rule) {
        fail(l, yamlfile_check_keys(l->file, l->doc, rule, rule_keys, "rule", l->d));
        c->check = take_string(l, rule, "check", 1);
        c->rule_description = take_string(l, rule, "description", 1);
        if (c->check && !(check = check_find(c->check)))
            fail(l, yamlfile_error(l->file, yamlfile_get(l->doc, rule, "check"), l->d,
                                   "unknown check '%s'", c->check));
    }
    yaml_node_t *params = yamlfile_get(l->doc, map, "params");
    if (params && params->type != YAML_MAPPING_NODE)
        fail(l, yamlfile_error(l->file, params, l->d, "'params' must be a mapping"));
    else if (params && check)
        check_params(l, params, check);
    c->params = params && params->type == YAML_MAPPING_NODE ? yamlfile_to_json(l->doc, params)
                                                            : json_object();
}

static int has_yaml_suffix(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int catalog_load(struct catalog **out, const char *dir, struct diagnostics *d)
{
    *out = NULL;
    DIR *handle = opendir(dir);
    if (!handle)
        return diag_error_at(d, DDB_EINPUT, dir, 0, 0, 0, "cannot open the control catalog");
    char **names = NULL;
    size_t name_count = 0;
    struct dirent *entry;
    while ((entry = readdir(handle))) {
        if (entry->d_name[0] == '.' || !has_yaml_suffix(entry->d_name))
            continue;
        char **grown = realloc(names, (name_count + 1) * sizeof(char *));
        if (!grown)
            break;
        names = grown;
        names[name_count++] = strdup(entry->d_name);
    }
    closedir(handle);
    if (name_count > 1)
        qsort(names, name_count, sizeof(char *), compare_names);

    struct catalog *catalog = calloc(1, sizeof(*catalog));
    size_t capacity = 0;
    int error = 0;
    struct buf digest_input;
    buf_init(&digest_input, (size_t)64 << 20);
    for (size_t i = 0; i < name_count; i++) {
        char *path = fs_join(dir, names[i]);
        struct yaml_file file;
        int rc = yamlfile_load(&file, path, d);
        if (rc < 0) {
            error = rc;
            free(path);
            continue;
        }
        buf_printf(&digest_input, "%s%c%zu%c", names[i], 0, file.len, 0);
        buf_append(&digest_input, file.text, file.len);
        for (size_t k = 0; k < file.count; k++) {
            yaml_document_t *doc = &file.documents[k];
            yaml_node_t *root = yaml_document_get_root_node(doc);
            if (root->type != YAML_MAPPING_NODE) {
                error = yamlfile_error(&file, root, d, "a control must be a mapping");
                continue;
            }
            if (catalog->count == capacity) {
                capacity = capacity ? capacity * 2 : 32;
                catalog->controls = realloc(catalog->controls, capacity * sizeof(struct control));
            }
            struct control *c = &catalog->controls[catalog->count++];
            memset(c, 0, sizeof(*c));
            struct loader l = {&file, doc, d, 0};
            load_control(&l, root, c);
            if (l.error < 0)
                error = l.error;
        }
        yamlfile_free(&file);
        free(path);
    }
    digest_sha256_hex(digest_input.data ? digest_input.data : "", digest_input.len,
                      catalog->digest);
    buf_free(&digest_input);

    if (!error && catalog->count == 0)
        error = diag_error_at(d, DDB_EINPUT, dir, 0, 0, 0, "the catalog has no controls");
    if (catalog->count > 1) {
        qsort(catalog->controls, catalog->count, sizeof(struct control), compare_controls);
        for (size_t i = 1; i < catalog->count; i++) {
            struct control *a = &catalog->controls[i - 1], *b = &catalog->controls[i];
            if (a->id && b->id && !strcmp(a->id, b->id))
                error = diag_error_at(d, DDB_EINPUT, b->file, b->line, 1, 1,
                                      "duplicate id '%s' (also defined at %s:%d)", b->id, a->file,
                                      a->line);
        }
    }
    for (size_t i = 0; i < name_count; i++)
        free(names[i]);
    free(names);
    if (error < 0) {
        catalog_free(catalog);
        return error;
    }
    *out = catalog;
    return 0;
}
