/* Turns AWS wire answers into what AWS CLI v2 prints, driven by the generated shape tables
 * (aws_model_data.c). Mirrors botocore's response parsers and the CLI's output formatting.
 * Pure data transformation: no I/O, no network, no knowledge of which calls are made. */
#include "aws_model.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "urldecode.h"

const struct aws_service *aws_model_service(const char *service)
{
    for (size_t i = 0; i < aws_service_count; i++)
        if (strcmp(aws_services[i].name, service) == 0)
            return &aws_services[i];
    return NULL;
}

const struct aws_operation *aws_model_operation(const char *service, const char *operation)
{
    for (size_t i = 0; i < aws_operation_count; i++)
        if (strcmp(aws_operations[i].service, service) == 0 &&
            strcmp(aws_operations[i].name, operation) == 0)
            return &aws_operations[i];
    return NULL;
}

/* ---- Timestamps ---- */

static int format_broken_down(char *out, size_t size, time_t seconds, long micro,
                              const char *offset)
{
    struct tm tm;
    if (!gmtime_r(&seconds, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
        return -1;
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    int n = micro ? snprintf(out, size, "%s.%06ld%s", date, micro, offset)
                  : snprintf(out, size, "%s%s", date, offset);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int aws_model_format_epoch(char *out, size_t size, double epoch)
{
    if (!isfinite(epoch) || epoch < -62135596800.0 || epoch > 253402300799.0)
        return -1;
    double whole = floor(epoch);
    /* Python's datetime.fromtimestamp rounds to the microsecond, half to even. */
    double micro = nearbyint((epoch - whole) * 1e6);
    if (micro >= 1e6) {
        whole += 1;
        micro = 0;
    }
    return format_broken_down(out, size, (time_t)whole, (long)micro, "+00:00");
}

static int digits(const char *s, int count, int *value)
{
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return 0;
}

/* Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int aws_model_format_iso(char *out, size_t size, const char *text)
{
    /* botocore tries a number first: "1700000000" is an epoch. */
    char *end = NULL;
    double number = strtod(text, &end);
    if (end != text && *end == '\0' && !isspace((unsigned char)*text))
        return aws_model_format_epoch(out, size, number);

    int year, month, day, hour, minute, second;
    const char *p = text;
    if (digits(p, 4, &year) || p[4] != '-' || digits(p + 5, 2, &month) || p[7] != '-' ||
        digits(p + 8, 2, &day) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
        digits(p + 11, 2, &hour) || p[13] != ':' || digits(p + 14, 2, &minute) || p[16] != ':' ||
        digits(p + 17, 2, &second))
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
        return -1;
    p += 19;
    long micro = 0;
    if (*p == '.' || *p == ',') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 6) /* dateutil keeps six digits and drops the rest */
                micro = micro * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (; n < 6; n++)
            micro *= 10;
    }
    char offset[16] = "";
    if (*p == 'Z' || *p == 'z') {
        snprintf(offset, sizeof(offset), "+00:00");
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        char sign = *p++;
        if (digits(p, 2, &oh))
            return -1;
        p += 2;
        if (*p == ':')
            p++;
        if (digits(p, 2, &om))
            return -1;
        p += 2;
        snprintf(offset, sizeof(offset), "%c%02d:%02d", oh == 0 && om == 0 ? '+' : sign, oh, om);
    }
    if (*p != '\0')
        return -1;
    time_t seconds = (time_t)(days_from_civil(year, month, day) * 86400LL + hour * 3600LL +
                              minute * 60LL + second);
    return format_broken_down(out, size, seconds, micro, offset);
}

/* ---- Policy documents (botocore handlers.json_decode_policies) ---- */

/* urllib.parse.unquote then json.loads; on failure the CLI keeps the string as it was. */
static json_t *decode_policy(const char *text)
{
    size_t n = 0;
    char *plain = url_decode(text, strlen(text), 0, &n);
    json_t *doc = plain ? json_loadb(plain, n, JSON_DECODE_ANY, NULL) : NULL;
    free(plain);
    return doc ? doc : json_string(text);
}

/* ---- XML (query and EC2 protocols) ---- */

struct xml_context {
    struct diagnostics *d;
    const char *operation;
};

static json_t *xml_value(struct xml_context *ctx, uint16_t shape_index, xmlNode *node, int depth,
                         int decode_policy_here);

static json_t *xml_list(struct xml_context *ctx, const struct aws_shape *shape, xmlNode *node,
                        int depth, const char *flattened_name);
static json_t *xml_map(struct xml_context *ctx, const struct aws_shape *shape, xmlNode *node,
                       int depth, const char *flattened_name);

static int element_named(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

static json_t *xml_fail(struct xml_context *ctx, const char *what, const xmlNode *node)
{
    diag_error(ctx->d, DDB_EINPUT, "%s answer: %s at <%s> (line %d)", ctx->operation, what,
               node ? (const char *)node->name : "?", node ? node->line : 0);
    return NULL;
}

static json_t *xml_structure(struct xml_context *ctx, const struct aws_shape *shape, xmlNode *node,
                             int depth)
{
    json_t *object = json_object();
    if (!object)
        return NULL;
    for (uint16_t i = 0; i < shape->member_count; i++) {
        const struct aws_member *member = &aws_members[shape->first_member + i];
        const struct aws_shape *member_shape = &aws_shapes[member->shape];
        json_t *value = NULL;
        if ((member_shape->type == AWS_SHAPE_LIST || member_shape->type == AWS_SHAPE_MAP) &&
            (member_shape->flags & AWS_SHAPE_FLATTENED)) {
            /* Flattened: every element with the name is one entry, no wrapper. */
            int found = 0;
            for (xmlNode *child = node->children; child; child = child->next)
                found |= element_named(child, member->xml_name);
            if (!found)
                continue;
            value = member_shape->type == AWS_SHAPE_LIST
                        ? xml_list(ctx, member_shape, node, depth + 1, member->xml_name)
                        : xml_map(ctx, member_shape, node, depth + 1, member->xml_name);
        } else {
            xmlNode *found = NULL;
            for (xmlNode *child = node->children; child && !found; child = child->next)
                if (element_named(child, member->xml_name))
                    found = child;
            if (!found)
                continue;
            value = xml_value(ctx, member->shape, found, depth + 1, 1);
        }
        if (!value || json_object_set_new(object, member->name, value) < 0) {
            json_decref(object);
            return NULL;
        }
    }
    return object;
}

static json_t *xml_list(struct xml_context *ctx, const struct aws_shape *shape, xmlNode *node,
                        int depth, const char *flattened_name)
{
    json_t *array = json_array();
    if (!array)
        return NULL;
    for (xmlNode *child = node->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE)
            continue;
        /* A wrapped list takes every child element whatever its name (botocore does). */
        if (flattened_name && strcmp((const char *)child->name, flattened_name) != 0)
            continue;
        json_t *item = xml_value(ctx, shape->element, child, depth + 1, 0);
        if (!item || json_array_append_new(array, item) < 0) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

static json_t *xml_map_entry(struct xml_context *ctx, const struct aws_shape *shape, xmlNode *entry,
                             json_t *object, int depth)
{
    xmlNode *key = NULL, *value = NULL;
    for (xmlNode *pair = entry->children; pair; pair = pair->next) {
        if (pair->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)pair->name, shape->key_name) == 0)
            key = pair;
        else if (strcmp((const char *)pair->name, shape->element_name) == 0)
            value = pair;
        else
            return xml_fail(ctx, "unknown tag in a map entry", pair);
    }
    if (!key || !value)
        return xml_fail(ctx, "map entry without key or value", entry);
    xmlChar *key_text = xmlNodeGetContent(key);
    json_t *converted = xml_value(ctx, shape->element, value, depth + 1, 0);
    int rc = converted && key_text ? json_object_set_new(object, (const char *)key_text, converted)
                                   : (json_decref(converted), -1);
    xmlFree(key_text);
    return rc < 0 ? NULL : object;
}

static json_t *xml_map(struct xml_context *ctx, const struct aws_shape *shape, xmlNode *node,
                       int depth, const char *flattened_name)
{
    json_t *object = json_object();
    if (!object)
        return NULL;
    for (xmlNode *entry = node->children; entry; entry = entry->next) {
        if (entry->type != XML_ELEMENT_NODE)
            continue;
        if (flattened_name && strcmp((const char *)entry->name, flattened_name) != 0)
            continue;
        if (!xml_map_entry(ctx, shape, entry, object, depth)) {
            json_decref(object);
            return NULL;
        }
    }
    return object;
}

static void trim(const char **start, size_t *len)
{
    while (*len && isspace((unsigned char)**start))
        (*start)++, (*len)--;
    while (*len && isspace((unsigned char)(*start)[*len - 1]))
        (*len)--;
}

static json_t *xml_scalar(struct xml_context *ctx, const struct aws_shape *shape, xmlNode *node,
                          int decode_policy_here)
{
    xmlChar *content = xmlNodeGetContent(node);
    const char *text = content ? (const char *)content : "";
    json_t *value = NULL;
    switch (shape->type) {
    case AWS_SHAPE_STRING:
        if (decode_policy_here && (shape->flags & AWS_SHAPE_POLICY_DOCUMENT))
            value = decode_policy(text);
        else
            value = json_string(text);
        if (!value)
            xml_fail(ctx, "text is not valid UTF-8", node);
        break;
    case AWS_SHAPE_INTEGER: {
        const char *start = text;
        size_t len = strlen(text);
        trim(&start, &len);
        char *end = NULL;
        long long number = len ? strtoll(start, &end, 10) : 0;
        if (!len || end != start + len)
            return xmlFree(content), xml_fail(ctx, "not an integer", node);
        value = json_integer(number);
        break;
    }
    case AWS_SHAPE_DOUBLE: {
        char *end = NULL;
        double number = strtod(text, &end);
        if (end == text || *end)
            return xmlFree(content), xml_fail(ctx, "not a number", node);
        value = json_real(number);
        break;
    }
    case AWS_SHAPE_BOOLEAN:
        value = json_boolean(strcmp(text, "true") == 0);
        break;
    case AWS_SHAPE_TIMESTAMP: {
        char formatted[64];
        if (aws_model_format_iso(formatted, sizeof(formatted), text) < 0)
            return xmlFree(content), xml_fail(ctx, "not a timestamp", node);
        value = json_string(formatted);
        break;
    }
    case AWS_SHAPE_BLOB: {
        /* Base64 on the wire; the CLI decodes and re-encodes it, which drops whitespace. */
        struct buf clean;
        buf_init(&clean, strlen(text) + 1);
        for (const char *c = text; *c; c++)
            if (!isspace((unsigned char)*c))
                buf_putc(&clean, *c);
        value = json_string(buf_cstr(&clean));
        buf_free(&clean);
        break;
    }
    default:
        value = xml_fail(ctx, "unexpected shape", node);
    }
    xmlFree(content);
    return value;
}

static json_t *xml_value(struct xml_context *ctx, uint16_t shape_index, xmlNode *node, int depth,
                         int decode_policy_here)
{
    if (depth > AWS_MODEL_MAX_DEPTH)
        return xml_fail(ctx, "nesting too deep", node);
    const struct aws_shape *shape = &aws_shapes[shape_index];
    switch (shape->type) {
    case AWS_SHAPE_STRUCTURE:
        return xml_structure(ctx, shape, node, depth);
    case AWS_SHAPE_LIST:
        return xml_list(ctx, shape, node, depth, NULL);
    case AWS_SHAPE_MAP:
        return xml_map(ctx, shape, node, depth, NULL);
    default:
        return xml_scalar(ctx, shape, node, decode_policy_here);
    }
}

int aws_model_xml_to_json(json_t **out, const struct aws_operation *op, const char *xml, size_t len,
                          struct diagnostics *d)
{
    *out = NULL;
    if (len > (size_t)INT32_MAX)
        return diag_error(d, DDB_EINPUT, "%s answer: too large", op->name);
    /* No network, no entity substitution, no DTD loading; libxml2's own depth limit stays on
     * (no XML_PARSE_HUGE). */
    xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return diag_error(d, DDB_EINPUT, "%s answer: malformed XML", op->name);
    int rc = DDB_EINPUT;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset) {
        diag_error(d, DDB_EINPUT, "%s answer: XML with a document type declaration refused",
                   op->name);
        goto done;
    }
    if (!root) {
        diag_error(d, DDB_EINPUT, "%s answer: empty XML document", op->name);
        goto done;
    }
    if (op->output_shape == AWS_NO_SHAPE) {
        *out = json_object();
        rc = *out ? 0 : DDB_ERUNTIME;
        goto done;
    }
    xmlNode *result = root;
    if (op->result_wrapper) {
        result = NULL;
        for (xmlNode *child = root->children; child && !result; child = child->next)
            if (element_named(child, op->result_wrapper))
                result = child;
        if (!result) {
            /* botocore parses an empty result when the wrapper is missing. */
            *out = json_object();
            rc = *out ? 0 : DDB_ERUNTIME;
            goto done;
        }
    }
    struct xml_context ctx = {d, op->name};
    *out = xml_value(&ctx, op->output_shape, result, 0, 1);
    if (!*out) {
        if (d->errors == 0)
            diag_error(d, DDB_ERUNTIME, "%s answer: out of memory", op->name);
        goto done;
    }
    rc = 0;
done:
    xmlFreeDoc(doc);
    return rc;
}

/* ---- JSON protocols ---- */

static json_t *json_value(struct diagnostics *d, const char *operation, uint16_t shape_index,
                          json_t *value, int depth)
{
    if (depth > AWS_MODEL_MAX_DEPTH) {
        diag_error(d, DDB_EINPUT, "%s answer: nesting too deep", operation);
        return NULL;
    }
    const struct aws_shape *shape = &aws_shapes[shape_index];
    if (shape->flags & AWS_SHAPE_DOCUMENT)
        return json_deep_copy(value);
    switch (shape->type) {
    case AWS_SHAPE_STRUCTURE: {
        json_t *object = json_object();
        if (!json_is_object(value)) {
            json_decref(object);
            diag_error(d, DDB_EINPUT, "%s answer: expected an object", operation);
            return NULL;
        }
        for (uint16_t i = 0; object && i < shape->member_count; i++) {
            const struct aws_member *member = &aws_members[shape->first_member + i];
            json_t *raw = json_object_get(value, member->xml_name);
            if (!raw || json_is_null(raw)) /* botocore drops nulls and unknown keys */
                continue;
            json_t *converted = json_value(d, operation, member->shape, raw, depth + 1);
            if (!converted || json_object_set_new(object, member->name, converted) < 0) {
                json_decref(object);
                return NULL;
            }
        }
        return object;
    }
    case AWS_SHAPE_LIST: {
        if (!json_is_array(value)) {
            diag_error(d, DDB_EINPUT, "%s answer: expected an array", operation);
            return NULL;
        }
        json_t *array = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item)
        {
            json_t *converted = json_value(d, operation, shape->element, item, depth + 1);
            if (!converted || json_array_append_new(array, converted) < 0) {
                json_decref(array);
                return NULL;
            }
        }
        return array;
    }
    case AWS_SHAPE_MAP: {
        if (!json_is_object(value)) {
            diag_error(d, DDB_EINPUT, "%s answer: expected an object", operation);
            return NULL;
        }
        json_t *object = json_object();
        const char *key;
        json_t *item;
        json_object_foreach(value, key, item)
        {
            json_t *converted = json_value(d, operation, shape->element, item, depth + 1);
            if (!converted || json_object_set_new(object, key, converted) < 0) {
                json_decref(object);
                return NULL;
            }
        }
        return object;
    }
    case AWS_SHAPE_TIMESTAMP: {
        char formatted[64];
        int rc = -1;
        if (json_is_number(value))
            rc = aws_model_format_epoch(formatted, sizeof(formatted), json_number_value(value));
        else if (json_is_string(value))
            rc = aws_model_format_iso(formatted, sizeof(formatted), json_string_value(value));
        if (rc < 0) {
            diag_error(d, DDB_EINPUT, "%s answer: invalid timestamp", operation);
            return NULL;
        }
        return json_string(formatted);
    }
    default:
        return json_incref(value);
    }
}

int aws_model_json_to_json(json_t **out, const struct aws_operation *op, const char *body,
                           size_t len, struct diagnostics *d)
{
    *out = NULL;
    json_error_t error;
    /* An empty body is an empty answer (some operations return nothing). */
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    json_t *parsed = i == len ? json_object() : json_loadb(body, len, 0, &error);
    if (!parsed)
        return diag_error(d, DDB_EINPUT, "%s answer: invalid JSON: %s (line %d, column %d)",
                          op->name, error.text, error.line, error.column);
    if (op->output_shape == AWS_NO_SHAPE) {
        json_decref(parsed);
        *out = json_object();
        return *out ? 0 : DDB_ERUNTIME;
    }
    *out = json_value(d, op->name, op->output_shape, parsed, 0);
    json_decref(parsed);
    if (!*out)
        return d->errors ? DDB_EINPUT
                         : diag_error(d, DDB_ERUNTIME, "%s answer: out of memory", op->name);
    return 0;
}

/* ---- Pagination ---- */

const char *aws_model_next_token(const struct aws_operation *op, const json_t *page)
{
    if (!op->input_token || !op->output_token)
        return NULL;
    if (op->more_results && !json_is_true(json_object_get(page, op->more_results)))
        return NULL;
    const char *token = json_string_value(json_object_get(page, op->output_token));
    return token && *token ? token : NULL;
}

int aws_model_merge_pages(json_t **out, const struct aws_operation *op, json_t *pages)
{
    *out = NULL;
    if (!op->input_token) {
        *out = json_incref(json_array_get(pages, 0));
        if (!*out)
            *out = json_object();
        return *out ? 0 : DDB_ERUNTIME;
    }
    json_t *merged = json_object();
    if (!merged)
        return DDB_ERUNTIME;
    size_t i;
    json_t *page;
    json_array_foreach(pages, i, page)
    {
        for (int k = 0; k < AWS_MAX_RESULT_KEYS && op->result_keys[k]; k++) {
            json_t *value = json_object_get(page, op->result_keys[k]);
            if (!value)
                continue;
            json_t *existing = json_object_get(merged, op->result_keys[k]);
            int rc = 0;
            if (!existing)
                rc = json_object_set_new(merged, op->result_keys[k], json_deep_copy(value));
            else if (json_is_array(existing) && json_is_array(value))
                rc = json_array_extend(existing, value);
            if (rc < 0) {
                json_decref(merged);
                return DDB_ERUNTIME;
            }
        }
    }
    json_t *first = json_array_get(pages, 0);
    for (int k = 0; k < AWS_MAX_RESULT_KEYS && op->non_aggregate_keys[k]; k++) {
        json_t *value = json_object_get(first, op->non_aggregate_keys[k]);
        if (json_object_set_new(merged, op->non_aggregate_keys[k],
                                value ? json_incref(value) : json_null()) < 0) {
            json_decref(merged);
            return DDB_ERUNTIME;
        }
    }
    *out = merged;
    return 0;
}

char *aws_model_dump(const json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(4) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    char *with_newline = realloc(text, len + 2);
    if (!with_newline) {
        free(text);
        return NULL;
    }
    with_newline[len] = '\n';
    with_newline[len + 1] = '\0';
    return with_newline;
}
