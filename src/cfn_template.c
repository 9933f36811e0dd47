/* CloudFormation/SAM template reader: libyaml documents (JSON templates too: JSON is YAML flow
 * syntax) resolved into plain JSON per resource, with file:line:col for every property. It
 * checks what CloudFormation itself would reject (unknown intrinsics, Refs to nothing, cycles)
 * and never guesses a value a deployment decides: those stay "unresolved", with the reason. */
#include "cfn_template.h"
#include "buf.h"
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UNRESOLVED_KEY "Fn::Unresolved"
#define MAX_DEPTH 64 /* nesting of intrinsics inside intrinsics; deeper is hostile */

/* ---------------------------------------------------------------- small helpers */

int cfn_is_unresolved(const json_t *value)
{
    return json_is_object(value) && json_object_size(value) == 1 &&
           json_is_string(json_object_get(value, UNRESOLVED_KEY));
}

const char *cfn_unresolved_reason(const json_t *value)
{
    return cfn_is_unresolved(value) ? json_string_value(json_object_get(value, UNRESOLVED_KEY))
                                    : NULL;
}

const json_t *cfn_find_unresolved(const json_t *value)
{
    if (cfn_is_unresolved(value))
        return value;
    size_t i;
    const char *key;
    json_t *item;
    if (json_is_array(value)) {
        json_array_foreach(value, i, item)
        {
            const json_t *found = cfn_find_unresolved(item);
            if (found)
                return found;
        }
    } else if (json_is_object(value)) {
        json_object_foreach((json_t *)value, key, item)
        {
            const json_t *found = cfn_find_unresolved(item);
            if (found)
                return found;
        }
    }
    return NULL;
}

int cfn_bool(const json_t *value)
{
    if (json_is_boolean(value))
        return json_is_true(value);
    const char *s = json_string_value(value);
    if (s && !strcasecmp(s, "true"))
        return 1;
    if (s && !strcasecmp(s, "false"))
        return 0;
    return -1;
}

static json_t *unresolved(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *unresolved(const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, 4096);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    json_t *value = json_pack("{s:s}", UNRESOLVED_KEY, buf_cstr(&b));
    buf_free(&b);
    return value;
}

/* libyaml marks are 0-based; people read 1-based positions. */
static int line_of(const yaml_node_t *node)
{
    return node ? (int)node->start_mark.line + 1 : 0;
}

static int column_of(const yaml_node_t *node)
{
    return node ? (int)node->start_mark.column + 1 : 0;
}

static json_t *location_json(const struct cfn_template *t, const yaml_node_t *node)
{
    return json_pack("{s:s, s:i, s:i}", "file", t->path, "line", line_of(node), "column",
                     column_of(node));
}

json_t *cfn_location(const struct cfn_resource *resource, const char *pointer)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s", pointer ? pointer : "");
    for (;;) {
        json_t *location = json_object_get(resource->locations, path);
        if (location || !*path)
            return location;
        char *slash = strrchr(path, '/');
        if (!slash)
            return json_object_get(resource->locations, "");
        *slash = '\0';
    }
}

static yaml_node_t *node_at(const struct cfn_template *t, int index)
{
    return yaml_document_get_node(t->doc, index);
}

static const char *scalar(const yaml_node_t *node)
{
    return yamlfile_scalar(node);
}

static int error_at(const struct cfn_template *t, const yaml_node_t *node, struct diagnostics *d,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int error_at(const struct cfn_template *t, const yaml_node_t *node, struct diagnostics *d,
                    const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, 4096);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    yamlfile_error(&t->file, node, d, "%s", buf_cstr(&b));
    buf_free(&b);
    return DDB_EINPUT;
}

/* Appends one RFC 6901 segment to a pointer. */
static void pointer_push(struct buf *pointer, const char *segment)
{
    buf_putc(pointer, '/');
    for (const char *p = segment; *p; p++) {
        if (*p == '~')
            buf_puts(pointer, "~0");
        else if (*p == '/')
            buf_puts(pointer, "~1");
        else
            buf_putc(pointer, *p);
    }
}

/* ---------------------------------------------------------------- intrinsic functions */

static const char *const intrinsics[] = {
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::If",
    "Fn::Select",
    "Fn::Join",
    "Fn::Split",
    "Fn::ImportValue",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::Equals",
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::Length",
    "Fn::ToJsonString",
    "Fn::Transform",
    "Fn::GetStackOutput",
    NULL,
};

static int known_intrinsic(const char *name)
{
    for (const char *const *p = intrinsics; *p; p++)
        if (!strcmp(*p, name))
            return 1;
    return 0;
}

/* Recognises an intrinsic in short form (a "!Ref" tag: the node is its own argument) or long
 * form (a one-key mapping {"Ref": arg}). Returns the long name ("Fn::Sub"), or NULL for a plain
 * node. *unknown is set (and the name still returned) for "!Foo" or {"Fn::Foo": …}. */
struct intrinsic {
    char name[64];
    yaml_node_t *arg;
    int self; /* short form: arg is the tagged node itself, read without its tag */
    int unknown;
};

static int find_intrinsic(const struct cfn_template *t, yaml_node_t *node, struct intrinsic *out,
                          int ignore_tag)
{
    memset(out, 0, sizeof(*out));
    const char *tag = (const char *)node->tag;
    if (!ignore_tag && tag && tag[0] == '!' && tag[1] != '!') {
        const char *bare = tag + 1;
        if (!strcmp(bare, "Ref") || !strcmp(bare, "Condition"))
            snprintf(out->name, sizeof(out->name), "%s", bare);
        else
            snprintf(out->name, sizeof(out->name), "Fn::%s", bare);
        out->arg = node;
        out->self = 1;
        out->unknown = !known_intrinsic(out->name);
        return 1;
    }
    if (node->type != YAML_MAPPING_NODE ||
        node->data.mapping.pairs.top - node->data.mapping.pairs.start != 1)
        return 0;
    yaml_node_pair_t *pair = node->data.mapping.pairs.start;
    const char *key = scalar(node_at(t, pair->key));
    /* {"Condition": "Name"} is the long form inside Conditions and Fn::If operands. */
    int condition = key && !strcmp(key, "Condition") && scalar(node_at(t, pair->value));
    if (!key || (strcmp(key, "Ref") && strncmp(key, "Fn::", 4) && !condition))
        return 0;
    snprintf(out->name, sizeof(out->name), "%s", key);
    out->arg = node_at(t, pair->value);
    out->unknown = !known_intrinsic(key);
    return 1;
}

static size_t items(const yaml_node_t *node)
{
    return node && node->type == YAML_SEQUENCE_NODE
               ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start)
               : 0;
}

static yaml_node_t *item(const struct cfn_template *t, const yaml_node_t *node, size_t i)
{
    return i < items(node) ? node_at(t, node->data.sequence.items.start[i]) : NULL;
}

static const char *const pseudo_parameters[] = {
    "AWS::AccountId",        "AWS::Region",  "AWS::Partition",
    "AWS::StackName",        "AWS::StackId", "AWS::URLSuffix",
    "AWS::NotificationARNs", "AWS::NoValue", NULL,
};

static int is_pseudo(const char *name)
{
    for (const char *const *p = pseudo_parameters; *p; p++)
        if (!strcmp(*p, name))
            return 1;
    return 0;
}

static long resource_index(const struct cfn_template *t, const char *logical_id)
{
    for (size_t i = 0; i < t->resource_count; i++)
        if (!strcmp(t->resources[i].logical_id, logical_id))
            return (long)i;
    return -1;
}

const struct cfn_resource *cfn_template_find(const struct cfn_template *t, const char *logical_id)
{
    long i = resource_index(t, logical_id);
    return i < 0 ? NULL : &t->resources[i];
}

static int is_parameter(const struct cfn_template *t, const char *name)
{
    return yamlfile_get(t->doc, t->parameters, name) != NULL;
}

/* ---------------------------------------------------------------- pass 1: references */

/* One resource's references to other resources, for the cycle check. */
struct edge {
    size_t from, to;
    yaml_node_t *node; /* where the reference is written */
};

struct graph {
    struct edge *edges;
    size_t count, capacity;
};

static void add_edge(struct graph *g, size_t from, size_t to, yaml_node_t *node)
{
    if (g->count == g->capacity) {
        size_t capacity = g->capacity ? g->capacity * 2 : 64;
        struct edge *grown = realloc(g->edges, capacity * sizeof(*grown));
        if (!grown)
            return;
        g->edges = grown;
        g->capacity = capacity;
    }
    g->edges[g->count++] = (struct edge){from, to, node};
}

struct scan {
    struct cfn_template *t;
    struct diagnostics *d;
    struct graph *graph;
    long from; /* the resource being scanned, or -1 (Outputs, Conditions) */
    int error;
};

/* A name used by Ref or ${Name} must be a parameter, a pseudo-parameter or a resource. */
static void scan_name(struct scan *s, const char *name, yaml_node_t *node, int attribute)
{
    long target = resource_index(s->t, name);
    if (target >= 0) {
        if (s->from >= 0)
            add_edge(s->graph, (size_t)s->from, (size_t)target, node);
        return;
    }
    if (!attribute && (is_pseudo(name) || is_parameter(s->t, name)))
        return;
    s->error = error_at(s->t, node, s->d, "%s to '%s', which is not a %sresource of this template",
                        attribute ? "Fn::GetAtt" : "Ref", name,
                        attribute ? "" : "parameter, pseudo-parameter or ");
}

/* The names ${Name} and ${Name.Attribute} in a Fn::Sub string (not ${!Literal}). */
static void scan_sub_string(struct scan *s, const char *text, yaml_node_t *node,
                            yaml_node_t *variables)
{
    for (const char *p = strstr(text, "${"); p; p = strstr(p, "${")) {
        const char *end = strchr(p, '}');
        if (!end)
            return;
        if (p[2] != '!') {
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
            char *dot = strchr(name, '.');
            if (!yamlfile_get(s->t->doc, variables, name)) {
                if (dot && !is_pseudo(name)) {
                    *dot = '\0';
                    scan_name(s, name, node, 1);
                } else {
                    scan_name(s, name, node, 0);
                }
            }
        }
        p = end + 1;
    }
}

static void scan_node(struct scan *s, yaml_node_t *node, int depth)
{
    if (!node)
        return;
    if (depth > MAX_DEPTH) {
        s->error = error_at(s->t, node, s->d, "nested more than %d levels deep", MAX_DEPTH);
        return;
    }
    struct intrinsic in;
    if (find_intrinsic(s->t, node, &in, 0)) {
        if (in.unknown) {
            s->error = error_at(s->t, node, s->d,
                                "unknown intrinsic function '%s' (expected Ref, Fn::GetAtt, "
                                "Fn::Sub, Fn::If, Fn::Join, Fn::Select, Fn::ImportValue, …)",
                                in.self ? (const char *)node->tag : in.name);
            return;
        }
        const char *arg = scalar(in.arg);
        if (!strcmp(in.name, "Ref")) {
            if (!arg)
                s->error = error_at(s->t, node, s->d, "Ref takes a name");
            else
                scan_name(s, arg, node, 0);
            return;
        }
        if (!strcmp(in.name, "Fn::GetAtt")) {
            char name[256] = "";
            if (arg) {
                snprintf(name, sizeof(name), "%s", arg);
                char *dot = strchr(name, '.');
                if (dot)
                    *dot = '\0';
                else
                    name[0] = '\0';
            } else if (items(in.arg) == 2 && scalar(item(s->t, in.arg, 0))) {
                snprintf(name, sizeof(name), "%s", scalar(item(s->t, in.arg, 0)));
            }
            if (!*name)
                s->error = error_at(s->t, node, s->d,
                                    "Fn::GetAtt takes [Resource, Attribute] or Resource.Attribute");
            else
                scan_name(s, name, node, 1);
            if (!arg)
                scan_node(s, item(s->t, in.arg, 1), depth + 1);
            return;
        }
        if (!strcmp(in.name, "Fn::Sub")) {
            if (arg) {
                scan_sub_string(s, arg, node, NULL);
            } else if (items(in.arg) == 2 && scalar(item(s->t, in.arg, 0))) {
                yaml_node_t *variables = item(s->t, in.arg, 1);
                scan_sub_string(s, scalar(item(s->t, in.arg, 0)), node, variables);
                scan_node(s, variables, depth + 1);
            } else {
                s->error = error_at(s->t, node, s->d, "Fn::Sub takes a string or [string, {…}]");
            }
            return;
        }
        if (!strcmp(in.name, "Condition") || !strcmp(in.name, "Fn::If")) {
            yaml_node_t *name_node = !strcmp(in.name, "Condition") ? in.arg : item(s->t, in.arg, 0);
            const char *name = scalar(name_node);
            if (!name || !yamlfile_get(s->t->doc, s->t->conditions, name))
                s->error = error_at(s->t, name_node ? name_node : node, s->d,
                                    "%s names '%s', which is not in Conditions", in.name,
                                    name ? name : "(not a name)");
            if (!strcmp(in.name, "Fn::If")) {
                if (items(in.arg) != 3)
                    s->error = error_at(s->t, node, s->d,
                                        "Fn::If takes [Condition, value if true, value if false]");
                scan_node(s, item(s->t, in.arg, 1), depth + 1);
                scan_node(s, item(s->t, in.arg, 2), depth + 1);
            }
            return;
        }
        if (in.self) {
            /* The tagged node is the argument: scan its children, not the tag again. */
            if (in.arg->type == YAML_SEQUENCE_NODE)
                for (size_t i = 0; i < items(in.arg); i++)
                    scan_node(s, item(s->t, in.arg, i), depth + 1);
            else if (in.arg->type == YAML_MAPPING_NODE)
                for (yaml_node_pair_t *p = in.arg->data.mapping.pairs.start;
                     p < in.arg->data.mapping.pairs.top; p++)
                    scan_node(s, node_at(s->t, p->value), depth + 1);
            return;
        }
        scan_node(s, in.arg, depth + 1);
        return;
    }
    if (node->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; i < items(node); i++)
            scan_node(s, item(s->t, node, i), depth + 1);
    } else if (node->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++)
            scan_node(s, node_at(s->t, p->value), depth + 1);
    }
}

/* CloudFormation refuses a template whose resources depend on each other in a circle (through
 * Ref, Fn::GetAtt, Fn::Sub or DependsOn); so do we, at the reference that closes it. */
static int find_cycle(struct cfn_template *t, struct graph *g, struct diagnostics *d)
{
    size_t n = t->resource_count;
    char *color = calloc(n ? n : 1, 1); /* 0 new, 1 on the path, 2 done */
    size_t *path = calloc(n ? n : 1, sizeof(*path));
    size_t *next_edge = calloc(n ? n : 1, sizeof(*next_edge));
    int error = 0;
    if (!color || !path || !next_edge) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    for (size_t start = 0; start < n && !error; start++) {
        if (color[start])
            continue;
        size_t depth = 0;
        path[depth++] = start;
        color[start] = 1;
        next_edge[start] = 0;
        while (depth && !error) {
            size_t at = path[depth - 1];
            size_t e = next_edge[at];
            while (e < g->count && g->edges[e].from != at)
                e++;
            if (e >= g->count) {
                color[at] = 2;
                depth--;
                continue;
            }
            next_edge[at] = e + 1;
            size_t to = g->edges[e].to;
            if (color[to] == 1) {
                struct buf cycle;
                buf_init(&cycle, 8192);
                size_t first = 0;
                while (path[first] != to)
                    first++;
                for (size_t k = first; k < depth; k++)
                    buf_printf(&cycle, "%s → ", t->resources[path[k]].logical_id);
                buf_puts(&cycle, t->resources[to].logical_id);
                error =
                    error_at(t, g->edges[e].node, d, "circular dependency: %s", buf_cstr(&cycle));
                buf_free(&cycle);
            } else if (!color[to]) {
                color[to] = 1;
                next_edge[to] = 0;
                path[depth++] = to;
            }
        }
    }
done:
    free(color);
    free(path);
    free(next_edge);
    return error;
}

static int scan_template(struct cfn_template *t, struct diagnostics *d)
{
    struct graph graph = {0};
    struct scan s = {t, d, &graph, -1, 0};
    for (size_t i = 0; i < t->resource_count; i++) {
        struct cfn_resource *r = &t->resources[i];
        s.from = (long)i;
        scan_node(&s, yamlfile_get(t->doc, r->node, "Properties"), 0);
        scan_node(&s, yamlfile_get(t->doc, r->node, "Condition"), 0);
        yaml_node_t *depends = yamlfile_get(t->doc, r->node, "DependsOn");
        size_t count = depends && depends->type == YAML_SEQUENCE_NODE ? items(depends) : 1;
        for (size_t k = 0; depends && k < count; k++) {
            yaml_node_t *name_node =
                depends->type == YAML_SEQUENCE_NODE ? item(t, depends, k) : depends;
            const char *name = scalar(name_node);
            long target = name ? resource_index(t, name) : -1;
            if (target < 0)
                s.error = error_at(t, name_node, d, "DependsOn '%s', which is not a resource",
                                   name ? name : "(not a name)");
            else
                add_edge(&graph, i, (size_t)target, name_node);
        }
    }
    s.from = -1;
    for (yaml_node_pair_t *p = t->conditions ? t->conditions->data.mapping.pairs.start : NULL;
         p && p < t->conditions->data.mapping.pairs.top; p++)
        scan_node(&s, node_at(t, p->value), 0);
    scan_node(&s, yamlfile_get(t->doc, yaml_document_get_root_node(t->doc), "Outputs"), 0);
    int error = s.error;
    if (!error)
        error = find_cycle(t, &graph, d);
    free(graph.edges);
    return error;
}

/* ---------------------------------------------------------------- pass 2: values */

struct resolver {
    struct cfn_template *t;
    struct diagnostics *d;
    struct cfn_resource *resource; /* locations are recorded for it; NULL = none */
    int error;
};

static json_t *resolve(struct resolver *r, yaml_node_t *node, struct buf *pointer, int plain,
                       int depth);

static void record(struct resolver *r, struct buf *pointer, const yaml_node_t *node)
{
    if (r->resource && !json_object_get(r->resource->locations, buf_cstr(pointer)))
        json_object_set_new(r->resource->locations, buf_cstr(pointer), location_json(r->t, node));
}

static int fail(struct resolver *r, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct resolver *r, const yaml_node_t *node, const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, 4096);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    r->error = error_at(r->t, node, r->d, "%s", buf_cstr(&b));
    buf_free(&b);
    return r->error;
}

/* A value resolved with no locations recorded (arguments of intrinsics). */
static json_t *value_of(struct resolver *r, yaml_node_t *node, int plain, int depth)
{
    struct cfn_resource *saved = r->resource;
    struct buf scratch;
    buf_init(&scratch, 4096);
    r->resource = NULL;
    json_t *value = resolve(r, node, &scratch, plain, depth);
    r->resource = saved;
    buf_free(&scratch);
    return value;
}

/* Scalars as CloudFormation passes them around: strings (numbers and booleans in their text). */
static char *as_string(const json_t *value)
{
    if (json_is_string(value))
        return strdup(json_string_value(value));
    if (json_is_integer(value)) {
        char text[32];
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(value));
        return strdup(text);
    }
    if (json_is_real(value)) {
        char text[64];
        snprintf(text, sizeof(text), "%g", json_real_value(value));
        return strdup(text);
    }
    if (json_is_boolean(value))
        return strdup(json_is_true(value) ? "true" : "false");
    return NULL;
}

static char *where(const struct cfn_template *t, const yaml_node_t *node)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_printf(&b, "%s:%d:%d", t->path, line_of(node), column_of(node));
    return buf_detach(&b);
}

static json_t *table_arn(const struct cfn_template *t, const char *name)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_printf(&b, "arn:%s:dynamodb:%s:%s:table/%s", t->partition, t->region, t->account, name);
    json_t *value = json_string(buf_cstr(&b));
    buf_free(&b);
    return value;
}

static int type_is(const struct cfn_resource *resource, const char *type)
{
    return !strcmp(resource->type, type);
}

static int is_table(const struct cfn_resource *resource)
{
    return type_is(resource, "AWS::DynamoDB::Table") ||
           type_is(resource, "AWS::DynamoDB::GlobalTable") ||
           type_is(resource, "AWS::Serverless::SimpleTable");
}

/* What Ref returns for a resource: its physical name where the template decides it. */
static json_t *ref_resource(struct resolver *r, struct cfn_resource *resource, int depth)
{
    yaml_node_t *properties = yamlfile_get(r->t->doc, resource->node, "Properties");
    const char *name_property = NULL;
    if (is_table(resource))
        name_property = "TableName";
    else if (type_is(resource, "AWS::KMS::Alias"))
        name_property = "AliasName";
    yaml_node_t *name = name_property ? yamlfile_get(r->t->doc, properties, name_property) : NULL;
    if (name)
        return value_of(r, name, 0, depth + 1);
    /* CloudFormation generates the physical id; the logical id stands in for it, so that a
     * table's ARN and a key's id stay recognisable in findings. */
    return json_string(resource->logical_id);
}

static json_t *get_att(struct resolver *r, yaml_node_t *node, const char *logical_id,
                       const char *attribute, int depth)
{
    long index = resource_index(r->t, logical_id);
    if (index < 0) {
        fail(r, node, "Fn::GetAtt to '%s', which is not a resource of this template", logical_id);
        return json_null();
    }
    struct cfn_resource *resource = &r->t->resources[index];
    const struct cfn_template *t = r->t;
    if (is_table(resource) && !strcmp(attribute, "Arn")) {
        json_t *name = ref_resource(r, resource, depth);
        json_t *value = json_is_string(name) ? table_arn(t, json_string_value(name)) : name;
        if (value != name)
            json_decref(name);
        return value;
    }
    if (type_is(resource, "AWS::KMS::Key") && (!strcmp(attribute, "Arn"))) {
        struct buf b;
        buf_init(&b, 4096);
        buf_printf(&b, "arn:%s:kms:%s:%s:key/%s", t->partition, t->region, t->account, logical_id);
        json_t *value = json_string(buf_cstr(&b));
        buf_free(&b);
        return value;
    }
    if (type_is(resource, "AWS::KMS::Key") && !strcmp(attribute, "KeyId"))
        return json_string(logical_id);
    if (type_is(resource, "AWS::IAM::Role") && !strcmp(attribute, "Arn")) {
        yaml_node_t *properties = yamlfile_get(t->doc, resource->node, "Properties");
        yaml_node_t *role_name = yamlfile_get(t->doc, properties, "RoleName");
        json_t *name = role_name ? value_of(r, role_name, 0, depth + 1) : json_string(logical_id);
        if (!json_is_string(name))
            return name;
        struct buf b;
        buf_init(&b, 4096);
        buf_printf(&b, "arn:%s:iam::%s:role/%s", t->partition, t->account, json_string_value(name));
        json_decref(name);
        json_t *value = json_string(buf_cstr(&b));
        buf_free(&b);
        return value;
    }
    char *at = where(t, node);
    json_t *value = unresolved("Fn::GetAtt %s.%s (%s) is known only after deployment", logical_id,
                               attribute, at);
    free(at);
    return value;
}

static json_t *ref(struct resolver *r, yaml_node_t *node, const char *name, int depth)
{
    const struct cfn_template *t = r->t;
    if (!strcmp(name, "AWS::NoValue"))
        return NULL;
    if (!strcmp(name, "AWS::AccountId"))
        return json_string(t->account);
    if (!strcmp(name, "AWS::Region"))
        return json_string(t->region);
    if (!strcmp(name, "AWS::Partition"))
        return json_string(t->partition);
    if (!strcmp(name, "AWS::StackName"))
        return json_string(t->stack_name);
    if (!strcmp(name, "AWS::URLSuffix"))
        return json_string("amazonaws.com");
    if (!strcmp(name, "AWS::NotificationARNs"))
        return json_array();
    if (!strcmp(name, "AWS::StackId")) {
        struct buf b;
        buf_init(&b, 4096);
        buf_printf(&b, "arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
                   t->partition, t->region, t->account, t->stack_name);
        json_t *value = json_string(buf_cstr(&b));
        buf_free(&b);
        return value;
    }
    json_t *parameter = json_object_get(t->parameter_values, name);
    if (parameter)
        return json_deep_copy(parameter);
    long index = resource_index(t, name);
    if (index >= 0)
        return ref_resource(r, &r->t->resources[index], depth);
    fail(r, node, "Ref to '%s', which is not a parameter, pseudo-parameter or resource", name);
    return json_null();
}

static json_t *condition_value(struct resolver *r, yaml_node_t *node, const char *name, int depth);

static json_t *sub(struct resolver *r, yaml_node_t *node, const char *text, yaml_node_t *variables,
                   int depth)
{
    struct buf out;
    buf_init(&out, BUF_DEFAULT_MAX);
    json_t *result = NULL;
    const char *p = text;
    while (*p && !result) {
        const char *open = strstr(p, "${");
        if (!open) {
            buf_puts(&out, p);
            break;
        }
        buf_append(&out, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        if (!close) {
            buf_puts(&out, open);
            break;
        }
        if (open[2] == '!') {
            buf_puts(&out, "${");
            buf_append(&out, open + 3, (size_t)(close - open - 3));
            buf_putc(&out, '}');
            p = close + 1;
            continue;
        }
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(close - open - 2), open + 2);
        yaml_node_t *variable = yamlfile_get(r->t->doc, variables, name);
        json_t *value;
        char *dot = strchr(name, '.');
        if (variable)
            value = value_of(r, variable, 0, depth + 1);
        else if (dot && !is_pseudo(name)) {
            *dot = '\0';
            value = get_att(r, node, name, dot + 1, depth + 1);
        } else
            value = ref(r, node, name, depth + 1);
        char *s = value ? as_string(value) : NULL;
        if (cfn_is_unresolved(value)) {
            result = json_incref(value);
        } else if (!s) {
            result = unresolved("Fn::Sub ${%s} is not a string", name);
        } else {
            buf_puts(&out, s);
        }
        free(s);
        json_decref(value);
        p = close + 1;
    }
    if (!result)
        result = json_string(buf_cstr(&out));
    buf_free(&out);
    return result;
}

/* Resolves the arguments of a list-taking intrinsic; NULL (after an error) if it is no list. */
static json_t *argument_list(struct resolver *r, const struct intrinsic *in, yaml_node_t *node,
                             size_t min, size_t max, int depth)
{
    json_t *list = value_of(r, in->arg, in->self, depth + 1);
    if (cfn_is_unresolved(list))
        return list;
    if (!json_is_array(list) || json_array_size(list) < min || json_array_size(list) > max) {
        json_decref(list);
        fail(r, node, "%s takes a list of %zu%s%.0zu arguments", in->name, min,
             max > min ? " to " : "", max > min ? max : 0);
        return NULL;
    }
    return list;
}

static json_t *intrinsic(struct resolver *r, yaml_node_t *node, const struct intrinsic *in,
                         int depth)
{
    const char *name = in->name;
    const char *arg = scalar(in->arg);
    if (!strcmp(name, "Ref"))
        return arg ? ref(r, node, arg, depth) : (fail(r, node, "Ref takes a name"), json_null());
    if (!strcmp(name, "Condition"))
        return arg ? condition_value(r, node, arg, depth) : json_null();
    if (!strcmp(name, "Fn::GetAtt")) {
        char logical[256] = "", attribute[256] = "";
        if (arg) {
            const char *dot = strchr(arg, '.');
            if (dot) {
                snprintf(logical, sizeof(logical), "%.*s", (int)(dot - arg), arg);
                snprintf(attribute, sizeof(attribute), "%s", dot + 1);
            }
        } else if (items(in->arg) == 2 && scalar(item(r->t, in->arg, 0))) {
            snprintf(logical, sizeof(logical), "%s", scalar(item(r->t, in->arg, 0)));
            json_t *a = value_of(r, item(r->t, in->arg, 1), 0, depth + 1);
            if (json_is_string(a))
                snprintf(attribute, sizeof(attribute), "%s", json_string_value(a));
            json_decref(a);
        }
        if (!*logical || !*attribute) {
            fail(r, node, "Fn::GetAtt takes [Resource, Attribute] or Resource.Attribute");
            return json_null();
        }
        return get_att(r, node, logical, attribute, depth);
    }
    if (!strcmp(name, "Fn::Sub")) {
        if (arg)
            return sub(r, node, arg, NULL, depth);
        if (items(in->arg) == 2 && scalar(item(r->t, in->arg, 0)))
            return sub(r, node, scalar(item(r->t, in->arg, 0)), item(r->t, in->arg, 1), depth);
        fail(r, node, "Fn::Sub takes a string or [string, {…}]");
        return json_null();
    }
    if (!strcmp(name, "Fn::ImportValue")) {
        json_t *export_name = value_of(r, in->arg, in->self, depth + 1);
        char *at = where(r->t, node);
        char *text = json_is_string(export_name) ? strdup(json_string_value(export_name)) : NULL;
        json_t *value = unresolved("Fn::ImportValue '%s' (%s) is another stack's export, known "
                                   "only at deployment",
                                   text ? text : "…", at);
        free(text);
        free(at);
        json_decref(export_name);
        return value;
    }
    if (!strcmp(name, "Fn::If")) {
        yaml_node_t *condition = item(r->t, in->arg, 0);
        if (items(in->arg) != 3 || !scalar(condition)) {
            fail(r, node, "Fn::If takes [Condition, value if true, value if false]");
            return json_null();
        }
        json_t *truth = condition_value(r, condition, scalar(condition), depth);
        json_t *value;
        if (json_is_boolean(truth)) {
            value = value_of(r, item(r->t, in->arg, json_is_true(truth) ? 1 : 2), 0, depth + 1);
        } else {
            char *at = where(r->t, node);
            value = unresolved("Fn::If on condition %s (%s), which depends on values known only "
                               "at deployment",
                               scalar(condition), at);
            free(at);
        }
        json_decref(truth);
        return value;
    }
    if (!strcmp(name, "Fn::Join")) {
        json_t *list = argument_list(r, in, node, 2, 2, depth);
        if (!list || cfn_is_unresolved(list))
            return list ? list : json_null();
        json_t *parts = json_array_get(list, 1);
        const json_t *hole = cfn_find_unresolved(parts);
        char *delimiter = as_string(json_array_get(list, 0));
        json_t *value = NULL;
        if (hole) {
            value = json_deep_copy(hole);
        } else if (!delimiter || !json_is_array(parts)) {
            fail(r, node, "Fn::Join takes [delimiter, [values…]]");
            value = json_null();
        } else {
            struct buf out;
            buf_init(&out, BUF_DEFAULT_MAX);
            size_t i;
            json_t *part;
            json_array_foreach(parts, i, part)
            {
                char *s = as_string(part);
                buf_printf(&out, "%s%s", i ? delimiter : "", s ? s : "");
                free(s);
            }
            value = json_string(buf_cstr(&out));
            buf_free(&out);
        }
        free(delimiter);
        json_decref(list);
        return value;
    }
    if (!strcmp(name, "Fn::Select")) {
        json_t *list = argument_list(r, in, node, 2, 2, depth);
        if (!list || cfn_is_unresolved(list))
            return list ? list : json_null();
        char *index_text = as_string(json_array_get(list, 0));
        json_t *from = json_array_get(list, 1);
        json_t *value;
        if (cfn_is_unresolved(json_array_get(list, 0)) || cfn_is_unresolved(from)) {
            value = json_deep_copy(cfn_find_unresolved(list));
        } else {
            char *end = NULL;
            long index = index_text ? strtol(index_text, &end, 10) : -1;
            if (!index_text || *end || index < 0 || !json_is_array(from) ||
                (size_t)index >= json_array_size(from)) {
                fail(r, node, "Fn::Select index %s is outside the list",
                     index_text ? index_text : "?");
                value = json_null();
            } else {
                value = json_deep_copy(json_array_get(from, (size_t)index));
            }
        }
        free(index_text);
        json_decref(list);
        return value;
    }
    if (!strcmp(name, "Fn::Split")) {
        json_t *list = argument_list(r, in, node, 2, 2, depth);
        if (!list || cfn_is_unresolved(list))
            return list ? list : json_null();
        json_t *value;
        if (cfn_find_unresolved(list)) {
            value = json_deep_copy(cfn_find_unresolved(list));
        } else {
            char *delimiter = as_string(json_array_get(list, 0));
            char *text = as_string(json_array_get(list, 1));
            value = json_array();
            if (delimiter && text && *delimiter) {
                const char *p = text;
                for (const char *hit; (hit = strstr(p, delimiter)); p = hit + strlen(delimiter))
                    json_array_append_new(value, json_stringn(p, (size_t)(hit - p)));
                json_array_append_new(value, json_string(p));
            }
            free(delimiter);
            free(text);
        }
        json_decref(list);
        return value;
    }
    if (!strcmp(name, "Fn::FindInMap")) {
        json_t *list = argument_list(r, in, node, 3, 4, depth);
        if (!list || cfn_is_unresolved(list))
            return list ? list : json_null();
        json_t *value = NULL;
        const json_t *hole = cfn_find_unresolved(list);
        if (hole) {
            value = json_deep_copy(hole);
        } else {
            const char *keys[3];
            for (size_t i = 0; i < 3; i++)
                keys[i] = json_string_value(json_array_get(list, i));
            yaml_node_t *map = keys[0] ? yamlfile_get(r->t->doc, r->t->mappings, keys[0]) : NULL;
            yaml_node_t *top = keys[1] ? yamlfile_get(r->t->doc, map, keys[1]) : NULL;
            yaml_node_t *leaf = keys[2] ? yamlfile_get(r->t->doc, top, keys[2]) : NULL;
            if (leaf)
                value = value_of(r, leaf, 0, depth + 1);
            else if (json_array_size(list) == 4)
                value = json_deep_copy(json_array_get(list, 3));
            else {
                fail(r, node, "Fn::FindInMap: no %s/%s/%s in Mappings", keys[0] ? keys[0] : "?",
                     keys[1] ? keys[1] : "?", keys[2] ? keys[2] : "?");
                value = json_null();
            }
        }
        json_decref(list);
        return value;
    }
    if (!strcmp(name, "Fn::GetAZs")) {
        json_t *list = json_array();
        for (char zone = 'a'; zone <= 'c'; zone++) {
            char text[96];
            snprintf(text, sizeof(text), "%s%c", r->t->region, zone);
            json_array_append_new(list, json_string(text));
        }
        return list;
    }
    if (!strcmp(name, "Fn::Equals") || !strcmp(name, "Fn::And") || !strcmp(name, "Fn::Or")) {
        int equals = !strcmp(name, "Fn::Equals");
        json_t *list = argument_list(r, in, node, 2, equals ? 2 : 10, depth);
        if (!list || cfn_is_unresolved(list))
            return list ? list : json_null();
        json_t *value;
        const json_t *hole = cfn_find_unresolved(list);
        if (equals) {
            char *a = as_string(json_array_get(list, 0)), *b = as_string(json_array_get(list, 1));
            value = hole ? json_deep_copy(hole)
                         : json_boolean(a && b ? !strcmp(a, b)
                                               : json_equal(json_array_get(list, 0),
                                                            json_array_get(list, 1)));
            free(a);
            free(b);
        } else {
            /* A known false decides an And (and a known true an Or) whatever the rest is. */
            int is_and = !strcmp(name, "Fn::And"), unknown = 0, decided = 0;
            size_t i;
            json_t *operand;
            json_array_foreach(list, i, operand)
            {
                if (json_is_boolean(operand) && json_is_true(operand) != is_and)
                    decided = 1;
                else if (!json_is_boolean(operand))
                    unknown = 1;
            }
            value = decided   ? json_boolean(!is_and)
                    : unknown ? (hole ? json_deep_copy(hole)
                                      : unresolved("%s operand is not a condition", name))
                              : json_boolean(is_and);
        }
        json_decref(list);
        return value;
    }
    if (!strcmp(name, "Fn::Not")) {
        json_t *list = argument_list(r, in, node, 1, 1, depth);
        if (!list || cfn_is_unresolved(list))
            return list ? list : json_null();
        json_t *operand = json_array_get(list, 0);
        json_t *value = json_is_boolean(operand) ? json_boolean(!json_is_true(operand))
                                                 : json_deep_copy(operand);
        json_decref(list);
        return value;
    }
    if (!strcmp(name, "Fn::Length")) {
        json_t *list = value_of(r, in->arg, in->self, depth + 1);
        json_t *value = json_is_array(list) ? json_integer((json_int_t)json_array_size(list))
                                            : json_incref(list);
        json_decref(list);
        return value;
    }
    if (!strcmp(name, "Fn::ToJsonString")) {
        json_t *object = value_of(r, in->arg, in->self, depth + 1);
        const json_t *hole = cfn_find_unresolved(object);
        json_t *value;
        if (hole) {
            value = json_deep_copy(hole);
        } else {
            char *text = json_dumps(object, JSON_COMPACT | JSON_ENCODE_ANY);
            value = json_string(text ? text : "");
            free(text);
        }
        json_decref(object);
        return value;
    }
    if (!strcmp(name, "Fn::Base64")) {
        /* Only ever user data: the text itself serves any check as well as its encoding. */
        return value_of(r, in->arg, in->self, depth + 1);
    }
    /* Fn::Cidr, Fn::Transform, Fn::GetStackOutput: decided by AWS at deployment. */
    char *at = where(r->t, node);
    json_t *value = unresolved("%s (%s) is evaluated only at deployment", name, at);
    free(at);
    return value;
}

static json_t *condition_value(struct resolver *r, yaml_node_t *node, const char *name, int depth)
{
    struct cfn_template *t = r->t;
    json_t *known = json_object_get(t->condition_values, name);
    if (known)
        return json_incref(known);
    size_t index = 0;
    yaml_node_t *body = NULL;
    for (yaml_node_pair_t *p = t->conditions ? t->conditions->data.mapping.pairs.start : NULL;
         p && p < t->conditions->data.mapping.pairs.top; p++, index++) {
        const char *key = scalar(node_at(t, p->key));
        if (key && !strcmp(key, name)) {
            body = node_at(t, p->value);
            break;
        }
    }
    if (!body) {
        fail(r, node, "condition '%s' is not in Conditions", name);
        return json_null();
    }
    if (t->resolving[index]) {
        fail(r, node, "circular condition: '%s' depends on itself", name);
        return json_null();
    }
    t->resolving[index] = 1;
    json_t *value = value_of(r, body, 0, depth + 1);
    t->resolving[index] = 0;
    if (!json_is_boolean(value) && !cfn_is_unresolved(value) && !r->error) {
        json_decref(value);
        value = unresolved("condition %s is not a boolean", name);
    }
    json_object_set(t->condition_values, name, value);
    return value;
}

static json_t *resolve(struct resolver *r, yaml_node_t *node, struct buf *pointer, int plain,
                       int depth)
{
    if (depth > MAX_DEPTH) {
        fail(r, node, "nested more than %d levels deep", MAX_DEPTH);
        return json_null();
    }
    struct intrinsic in;
    /* A short form's argument ("plain": its tag already read) may be a long form itself:
     * !ImportValue {Ref: Export}. */
    if (find_intrinsic(r->t, node, &in, plain)) {
        if (in.unknown) {
            fail(r, node, "unknown intrinsic function '%s'",
                 in.self ? (const char *)node->tag : in.name);
            return json_null();
        }
        record(r, pointer, node);
        return intrinsic(r, node, &in, depth);
    }
    if (node->type == YAML_SCALAR_NODE)
        return yamlfile_to_json(r->t->doc, node);
    size_t mark = pointer->len;
    if (node->type == YAML_SEQUENCE_NODE) {
        json_t *array = json_array();
        for (size_t i = 0; i < items(node); i++) {
            char segment[32];
            snprintf(segment, sizeof(segment), "%zu", json_array_size(array));
            pointer_push(pointer, segment);
            yaml_node_t *element = item(r->t, node, i);
            record(r, pointer, element);
            json_t *value = resolve(r, element, pointer, 0, depth + 1);
            if (value)
                json_array_append_new(array, value);
            pointer->len = mark;
            pointer->data[mark] = '\0';
        }
        return array;
    }
    json_t *object = json_object();
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = node_at(r->t, p->key);
        const char *name = scalar(key);
        if (!name) {
            fail(r, key, "a mapping key must be a string");
            continue;
        }
        pointer_push(pointer, name);
        record(r, pointer, key);
        json_t *value = resolve(r, node_at(r->t, p->value), pointer, 0, depth + 1);
        if (value)
            json_object_set_new(object, name, value);
        pointer->len = mark;
        pointer->data[mark] = '\0';
    }
    return object;
}

/* ---------------------------------------------------------------- parameters */

static json_t *split_list(const char *text)
{
    json_t *list = json_array();
    const char *p = text;
    for (const char *comma; (comma = strchr(p, ',')); p = comma + 1)
        json_array_append_new(list, json_stringn(p, (size_t)(comma - p)));
    json_array_append_new(list, json_string(p));
    return list;
}

static int resolve_parameters(struct cfn_template *t, struct diagnostics *d)
{
    int error = 0;
    t->parameter_values = json_object();
    for (yaml_node_pair_t *p = t->parameters ? t->parameters->data.mapping.pairs.start : NULL;
         p && p < t->parameters->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(t, p->key), *body = node_at(t, p->value);
        const char *name = scalar(key);
        if (!name || body->type != YAML_MAPPING_NODE) {
            error = error_at(t, key, d, "a parameter is a name with a mapping (Type, Default, …)");
            continue;
        }
        const char *type = scalar(yamlfile_get(t->doc, body, "Type"));
        if (!type) {
            error = error_at(t, key, d, "parameter '%s' has no Type", name);
            continue;
        }
        json_t *given = json_object_get(t->given, name);
        yaml_node_t *fallback = yamlfile_get(t->doc, body, "Default");
        json_t *value = NULL;
        char *text = NULL;
        if (given)
            text = as_string(given);
        else if (fallback) {
            json_t *v = yamlfile_to_json(t->doc, fallback);
            text = as_string(v);
            json_decref(v);
        }
        char *at = where(t, key);
        if (!strncmp(type, "AWS::SSM::Parameter::Value<", 27))
            value = unresolved("parameter %s (%s) is read from SSM parameter '%s' at deployment",
                               name, at, text ? text : "?");
        else if (!text)
            value = unresolved("parameter %s (%s) has no Default and --parameters does not give "
                               "it",
                               name, at);
        else if (!strcmp(type, "CommaDelimitedList") || !strncmp(type, "List<", 5))
            value = split_list(text);
        else
            value = json_string(text);
        free(at);
        free(text);
        json_object_set_new(t->parameter_values, name, value);
    }
    return error;
}

int cfn_parameters_load(json_t **out, const char *path, struct diagnostics *d)
{
    struct yaml_file file;
    *out = NULL;
    int error = yamlfile_load(&file, path, d);
    if (error < 0)
        return error;
    yaml_document_t *doc = file.count ? &file.documents[0] : NULL;
    yaml_node_t *root = doc ? yaml_document_get_root_node(doc) : NULL;
    json_t *values = json_object();
    if (!root || (root->type != YAML_SEQUENCE_NODE && root->type != YAML_MAPPING_NODE)) {
        error = yamlfile_error(&file, root, d,
                               "expected [{\"ParameterKey\": …, \"ParameterValue\": …}] or "
                               "{\"Key\": \"Value\"}");
        goto done;
    }
    if (root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            const char *key = yamlfile_scalar(yaml_document_get_node(doc, p->key));
            json_t *value = yamlfile_to_json(doc, yaml_document_get_node(doc, p->value));
            char *text = json_is_array(value) ? NULL : as_string(value);
            if (json_is_array(value)) {
                /* A list parameter given as a list: CloudFormation takes "a,b". */
                struct buf b;
                buf_init(&b, BUF_DEFAULT_MAX);
                size_t i;
                json_t *v;
                json_array_foreach(value, i, v)
                {
                    char *s = as_string(v);
                    buf_printf(&b, "%s%s", i ? "," : "", s ? s : "");
                    free(s);
                }
                text = buf_detach(&b);
            }
            if (!key || !text)
                error = yamlfile_error(&file, yaml_document_get_node(doc, p->value), d,
                                       "a parameter value must be a string, number or list");
            else
                json_object_set_new(values, key, json_string(text));
            free(text);
            json_decref(value);
        }
    } else {
        for (size_t i = 0;
             i < (size_t)(root->data.sequence.items.top - root->data.sequence.items.start); i++) {
            yaml_node_t *entry = yaml_document_get_node(doc, root->data.sequence.items.start[i]);
            static const char *const known[] = {"ParameterKey", "ParameterValue",
                                                "UsePreviousValue", "ResolvedValue", NULL};
            const char *key = NULL;
            if (!entry || entry->type != YAML_MAPPING_NODE) {
                error = yamlfile_error(&file, entry, d, "expected {\"ParameterKey\": …}");
                continue;
            }
            if (yamlfile_check_keys(&file, doc, entry, known, "a parameter", d) < 0 ||
                yamlfile_string(&file, doc, entry, "ParameterKey", 1, 1, &key, d) < 0) {
                error = DDB_EINPUT;
                continue;
            }
            yaml_node_t *value_node = yamlfile_get(doc, entry, "ParameterValue");
            json_t *value = value_node ? yamlfile_to_json(doc, value_node) : NULL;
            char *text = value ? as_string(value) : NULL;
            if (!text)
                error = yamlfile_error(&file, value_node ? value_node : entry, d,
                                       "parameter '%s' needs a ParameterValue string", key);
            else
                json_object_set_new(values, key, json_string(text));
            free(text);
            json_decref(value);
        }
    }
done:
    if (error < 0)
        json_decref(values);
    else
        *out = values;
    yamlfile_free(&file);
    return error;
}

/* ---------------------------------------------------------------- loading */

static char *default_stack_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    struct buf b;
    buf_init(&b, 4096);
    for (const char *p = base; *p && *p != '.'; p++)
        buf_putc(&b,
                 (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
                     ? *p
                     : '-');
    if (!b.len)
        buf_puts(&b, "stack");
    return buf_detach(&b);
}

static int load_resources(struct cfn_template *t, struct diagnostics *d)
{
    yaml_node_t *resources = t->resources_node;
    size_t n = (size_t)(resources->data.mapping.pairs.top - resources->data.mapping.pairs.start);
    t->resources = calloc(n ? n : 1, sizeof(*t->resources));
    if (!t->resources)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    int error = 0;
    for (yaml_node_pair_t *p = resources->data.mapping.pairs.start;
         p < resources->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(t, p->key), *body = node_at(t, p->value);
        const char *id = scalar(key);
        const char *type = scalar(yamlfile_get(t->doc, body, "Type"));
        if (!id || body->type != YAML_MAPPING_NODE) {
            error = error_at(t, key, d, "a resource is a logical id with a mapping (Type, …)");
            continue;
        }
        if (!type) {
            error = error_at(t, key, d, "resource '%s' has no Type", id);
            continue;
        }
        if (resource_index(t, id) >= 0) {
            error = error_at(t, key, d, "duplicate resource '%s'", id);
            continue;
        }
        yaml_node_t *properties = yamlfile_get(t->doc, body, "Properties");
        if (properties && properties->type != YAML_MAPPING_NODE &&
            !find_intrinsic(t, properties, &(struct intrinsic){{0}, 0, 0, 0}, 0)) {
            error = error_at(t, properties, d, "Properties of '%s' must be a mapping", id);
            continue;
        }
        struct cfn_resource *r = &t->resources[t->resource_count++];
        r->logical_id = strdup(id);
        r->type = strdup(type);
        r->node = body;
        r->line = line_of(key);
        r->column = column_of(key);
        r->locations = json_object();
        json_object_set_new(r->locations, "", location_json(t, key));
    }
    return error;
}

int cfn_template_load(struct cfn_template **out, const char *path,
                      const struct cfn_context *context, struct diagnostics *d)
{
    *out = NULL;
    struct cfn_template *t = calloc(1, sizeof(*t));
    if (!t)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    int error = yamlfile_load(&t->file, path, d);
    if (error < 0) {
        free(t);
        return error;
    }
    t->path = strdup(path);
    digest_sha256_hex(t->file.text, t->file.len, t->sha256);
    t->account = strdup(context && context->account ? context->account : "123456789012");
    t->region = strdup(context && context->region ? context->region : "us-east-1");
    t->partition = strdup(context && context->partition ? context->partition : "aws");
    t->stack_name =
        context && context->stack_name ? strdup(context->stack_name) : default_stack_name(path);
    t->given = context && context->parameters ? json_incref(context->parameters) : json_object();
    t->condition_values = json_object();
    if (t->file.count != 1) {
        error = diag_error_at(d, DDB_EINPUT, path, 1, 1, 1,
                              t->file.count ? "a template is one YAML document, not %zu"
                                            : "empty template%.0zu",
                              t->file.count);
        goto done;
    }
    t->doc = &t->file.documents[0];
    yaml_node_t *root = yaml_document_get_root_node(t->doc);
    if (root->type != YAML_MAPPING_NODE) {
        error = error_at(t, root, d,
                         "a template is a mapping (AWSTemplateFormatVersion, "
                         "Resources, …)");
        goto done;
    }
    t->parameters = yamlfile_get(t->doc, root, "Parameters");
    t->conditions = yamlfile_get(t->doc, root, "Conditions");
    t->mappings = yamlfile_get(t->doc, root, "Mappings");
    t->resources_node = yamlfile_get(t->doc, root, "Resources");
    static const char *const sections[] = {"Parameters", "Conditions", "Mappings", NULL};
    yaml_node_t *nodes[] = {t->parameters, t->conditions, t->mappings};
    for (size_t i = 0; sections[i]; i++)
        if (nodes[i] && nodes[i]->type != YAML_MAPPING_NODE)
            error = error_at(t, nodes[i], d, "%s must be a mapping", sections[i]);
    if (!t->resources_node || t->resources_node->type != YAML_MAPPING_NODE ||
        t->resources_node->data.mapping.pairs.top == t->resources_node->data.mapping.pairs.start) {
        error = error_at(t, t->resources_node ? t->resources_node : root, d,
                         "a template needs a Resources mapping with at least one resource");
        goto done;
    }
    if (error < 0)
        goto done;
    size_t condition_count = t->conditions ? (size_t)(t->conditions->data.mapping.pairs.top -
                                                      t->conditions->data.mapping.pairs.start)
                                           : 0;
    t->resolving = calloc(condition_count + 1, 1);
    if (!t->resolving) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    int rc;
    if ((rc = load_resources(t, d)) < 0)
        error = rc;
    if ((rc = resolve_parameters(t, d)) < 0)
        error = rc;
    if (error < 0 || (error = scan_template(t, d)) < 0)
        goto done;

    struct resolver r = {t, d, NULL, 0};
    for (size_t i = 0; i < t->resource_count; i++) {
        struct cfn_resource *resource = &t->resources[i];
        yaml_node_t *condition = yamlfile_get(t->doc, resource->node, "Condition");
        if (condition && scalar(condition)) {
            json_t *truth = condition_value(&r, condition, scalar(condition), 0);
            /* Only a condition known to be false removes a resource: unknown keeps it. */
            resource->excluded = json_is_false(truth);
            json_decref(truth);
        }
        yaml_node_t *properties = yamlfile_get(t->doc, resource->node, "Properties");
        struct buf pointer;
        buf_init(&pointer, 1 << 16);
        buf_puts(&pointer, "");
        r.resource = resource;
        json_t *value = properties && !resource->excluded ? resolve(&r, properties, &pointer, 0, 0)
                                                          : json_object();
        r.resource = NULL;
        buf_free(&pointer);
        if (!json_is_object(value)) {
            json_t *wrapped = json_object();
            if (value)
                json_object_set_new(wrapped, "Fn::Unresolved",
                                    json_string(cfn_unresolved_reason(value)
                                                    ? cfn_unresolved_reason(value)
                                                    : "Properties is not a mapping"));
            json_decref(value);
            value = wrapped;
        }
        resource->properties = value;
    }
    error = r.error;
done:
    if (error < 0)
        cfn_template_free(t);
    else
        *out = t;
    return error;
}

void cfn_template_free(struct cfn_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->resource_count; i++) {
        free(t->resources[i].logical_id);
        free(t->resources[i].type);
        json_decref(t->resources[i].properties);
        json_decref(t->resources[i].locations);
    }
    free(t->resources);
    yamlfile_free(&t->file);
    free(t->path);
    free(t->account);
    free(t->region);
    free(t->partition);
    free(t->stack_name);
    json_decref(t->parameter_values);
    json_decref(t->condition_values);
    json_decref(t->given);
    free(t->resolving);
    free(t);
}
