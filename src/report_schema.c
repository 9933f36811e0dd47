/* report.json's schema as C tables: one shape per object, one line per field, walked by one
 * function. Keep it in step with docs/schema/report.schema.json. It checks shape only; what
 * the values mean is the evaluator's business. */
#include "report_schema.h"
#include "buf.h"
#include "diag.h"
#include "results.h"

#include <string.h>

enum kind {
    KIND_STRING,
    KIND_INTEGER, /* >= 0 */
    KIND_BOOLEAN,
    KIND_SHA256, /* 64 lowercase hex digits */
    KIND_DATE,   /* YYYY-MM-DD */
    KIND_STATUS,
    KIND_OBJECT, /* with the fields of `shape`, and no others */
    KIND_ARRAY,  /* of `items` */
    KIND_OPEN,   /* any object (access, activity: sections the lead extends) */
    KIND_ANY,
};

enum { REQUIRED = 0, OPTIONAL = 1, NULLABLE = 2 };

struct shape;

struct field {
    const char *name;
    enum kind kind;
    unsigned flags;
    const struct shape *shape; /* KIND_OBJECT: its fields; KIND_ARRAY: its items */
};

struct shape {
    enum kind kind;
    const struct field *fields; /* KIND_OBJECT, NULL-name terminated */
    const struct shape *items;  /* KIND_ARRAY */
};

#define OBJECT(fields_)                                                                            \
    {                                                                                              \
        KIND_OBJECT, fields_, NULL                                                                 \
    }
#define ARRAY_OF(items_)                                                                           \
    {                                                                                              \
        KIND_ARRAY, NULL, items_                                                                   \
    }
#define SCALAR(kind_)                                                                              \
    {                                                                                              \
        kind_, NULL, NULL                                                                          \
    }

static const struct shape string_shape = SCALAR(KIND_STRING);
static const struct shape strings = ARRAY_OF(&string_shape);

static const struct field counts_fields[] = {
    {"pass", KIND_INTEGER, REQUIRED, NULL},           {"review", KIND_INTEGER, REQUIRED, NULL},
    {"remediate", KIND_INTEGER, REQUIRED, NULL},      {"accepted", KIND_INTEGER, REQUIRED, NULL},
    {"not_applicable", KIND_INTEGER, REQUIRED, NULL}, {NULL, 0, 0, NULL},
};
static const struct shape counts = OBJECT(counts_fields);

static const struct field summary_fields[] = {
    {"controls", KIND_OBJECT, REQUIRED, &counts},
    {"findings", KIND_OBJECT, REQUIRED, &counts},
    {NULL, 0, 0, NULL},
};
static const struct shape summary = OBJECT(summary_fields);

static const struct field tool_fields[] = {
    {"name", KIND_STRING, REQUIRED, NULL},
    {"version", KIND_STRING, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape tool = OBJECT(tool_fields);

static const struct field period_fields[] = {
    {"start", KIND_DATE, REQUIRED, NULL},
    {"end", KIND_DATE, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape period = OBJECT(period_fields);

static const struct field file_digest_fields[] = {
    {"file", KIND_STRING, REQUIRED, NULL},
    {"sha256", KIND_SHA256, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape file_digest = OBJECT(file_digest_fields);

static const struct field inputs_fields[] = {
    {"account", KIND_STRING, REQUIRED, NULL},
    {"partition", KIND_STRING, REQUIRED, NULL},
    {"regions", KIND_ARRAY, REQUIRED, &strings},
    {"period", KIND_OBJECT, NULLABLE, &period},
    {"as_of", KIND_DATE, REQUIRED, NULL},
    {"collected_at", KIND_STRING, REQUIRED, NULL},
    {"snapshot", KIND_STRING, REQUIRED, NULL},
    {"evidence_manifest_sha256", KIND_SHA256, REQUIRED, NULL},
    {"evidence_complete", KIND_BOOLEAN, REQUIRED, NULL},
    {"evidence_calls", KIND_INTEGER, REQUIRED, NULL},
    {"catalog_sha256", KIND_SHA256, REQUIRED, NULL},
    {"catalog_controls", KIND_INTEGER, REQUIRED, NULL},
    {"exceptions", KIND_OBJECT, NULLABLE, &file_digest},
    {"attestations", KIND_OBJECT, NULLABLE, &file_digest},
    {NULL, 0, 0, NULL},
};
static const struct shape inputs = OBJECT(inputs_fields);

static const struct field source_fields[] = {
    {"seed", KIND_STRING, REQUIRED, NULL},
    {"table", KIND_STRING, REQUIRED, NULL},
    {"row", KIND_INTEGER, REQUIRED, NULL},
    {"text", KIND_STRING, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape source = OBJECT(source_fields);
static const struct shape sources = ARRAY_OF(&source);

static const struct field reference_fields[] = {
    {"title", KIND_STRING, REQUIRED, NULL},
    {"url", KIND_STRING, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape reference = OBJECT(reference_fields);
static const struct shape references = ARRAY_OF(&reference);

static const struct field rule_fields[] = {
    {"check", KIND_STRING, REQUIRED, NULL},
    {"description", KIND_STRING, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape rule = OBJECT(rule_fields);

static const struct field location_fields[] = {
    {"file", KIND_STRING, REQUIRED, NULL},
    {"line", KIND_INTEGER, REQUIRED, NULL},
    {"column", KIND_INTEGER, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape location = OBJECT(location_fields);

static const struct field evidence_fields[] = {
    {"file", KIND_STRING, REQUIRED, NULL},
    {"sha256", KIND_SHA256, REQUIRED, NULL},
    {"pointer", KIND_STRING, REQUIRED, NULL},
    {"value", KIND_ANY, OPTIONAL | NULLABLE, NULL}, /* the JSON value found, null included */
    {"location", KIND_OBJECT, OPTIONAL, &location}, /* template evidence: file, line, column */
    /* a CloudTrail record (docs/cloudtrail.md): where it starts in the decompressed file */
    {"offset", KIND_INTEGER, OPTIONAL, NULL},
    {"page", KIND_INTEGER, OPTIONAL, NULL},
    {"index", KIND_INTEGER, OPTIONAL, NULL},
    {"origin", KIND_STRING, OPTIONAL, NULL}, /* evidence | cloudtrail_dir */
    {NULL, 0, 0, NULL},
};
static const struct shape evidence_item = OBJECT(evidence_fields);
static const struct shape evidence = ARRAY_OF(&evidence_item);

static const struct field exception_fields[] = {
    {"id", KIND_STRING, REQUIRED, NULL},
    {"url", KIND_STRING, REQUIRED, NULL},
    {"approved_by", KIND_STRING, REQUIRED, NULL},
    {"reason", KIND_STRING, REQUIRED, NULL},
    {"expires", KIND_DATE, REQUIRED, NULL},
    {"state", KIND_STRING, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape exception = OBJECT(exception_fields);

static const struct field artifact_fields[] = {
    {"file", KIND_STRING, OPTIONAL, NULL},
    {"sha256", KIND_SHA256, OPTIONAL, NULL},
    {"url", KIND_STRING, OPTIONAL, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape artifact = OBJECT(artifact_fields);
static const struct shape artifacts = ARRAY_OF(&artifact);

static const struct field attestation_fields[] = {
    {"statement", KIND_STRING, REQUIRED, NULL},
    {"attested_by", KIND_STRING, REQUIRED, NULL},
    {"date", KIND_DATE, REQUIRED, NULL},
    {"max_age_days", KIND_INTEGER, REQUIRED, NULL},
    {"state", KIND_STRING, REQUIRED, NULL},
    {"artifacts", KIND_ARRAY, REQUIRED, &artifacts},
    {NULL, 0, 0, NULL},
};
static const struct shape attestation = OBJECT(attestation_fields);

static const struct field finding_fields[] = {
    {"resource", KIND_STRING, REQUIRED, NULL},
    {"status", KIND_STATUS, REQUIRED, NULL},
    {"original_status", KIND_STATUS, REQUIRED, NULL},
    {"reason", KIND_STRING, REQUIRED, NULL},
    {"evidence", KIND_ARRAY, REQUIRED, &evidence},
    {"exception", KIND_OBJECT, OPTIONAL, &exception},
    {"attestation", KIND_OBJECT, OPTIONAL, &attestation},
    {NULL, 0, 0, NULL},
};
static const struct shape finding = OBJECT(finding_fields);
static const struct shape findings = ARRAY_OF(&finding);

static const struct field control_fields[] = {
    {"id", KIND_STRING, REQUIRED, NULL},
    {"title", KIND_STRING, REQUIRED, NULL},
    {"objective", KIND_STRING, REQUIRED, NULL},
    {"sources", KIND_ARRAY, REQUIRED, &sources},
    {"status", KIND_STATUS, REQUIRED, NULL},
    {"reason", KIND_STRING, REQUIRED, NULL},
    {"vendor_status", KIND_STRING, NULLABLE, NULL},
    {"vendor_notes", KIND_STRING, NULLABLE, NULL},
    {"references", KIND_ARRAY, REQUIRED, &references},
    {"rule", KIND_OBJECT, REQUIRED, &rule},
    {"evidence_operations", KIND_ARRAY, REQUIRED, &strings},
    {"notes", KIND_ARRAY, REQUIRED, &strings},
    {"findings", KIND_ARRAY, REQUIRED, &findings},
    {"exceptions", KIND_ARRAY, REQUIRED, &strings},
    {"attestations", KIND_INTEGER, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape control = OBJECT(control_fields);
static const struct shape controls = ARRAY_OF(&control);

static const struct field unmatched_fields[] = {
    {"id", KIND_STRING, REQUIRED, NULL},
    {"url", KIND_STRING, REQUIRED, NULL},
    {"approved_by", KIND_STRING, OPTIONAL, NULL},
    {"reason", KIND_STRING, REQUIRED, NULL},
    {"expires", KIND_DATE, REQUIRED, NULL},
    {"state", KIND_STRING, OPTIONAL, NULL},
    {"control", KIND_STRING, REQUIRED, NULL},
    {"resource", KIND_STRING, REQUIRED, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape unmatched_item = OBJECT(unmatched_fields);
static const struct shape unmatched = ARRAY_OF(&unmatched_item);

static const struct field report_fields[] = {
    {"$schema", KIND_STRING, REQUIRED, NULL},
    {"schema_version", KIND_INTEGER, REQUIRED, NULL},
    {"tool", KIND_OBJECT, REQUIRED, &tool},
    {"inputs", KIND_OBJECT, REQUIRED, &inputs},
    {"summary", KIND_OBJECT, REQUIRED, &summary},
    {"controls", KIND_ARRAY, REQUIRED, &controls},
    {"exceptions_unmatched", KIND_ARRAY, REQUIRED, &unmatched},
    {"access", KIND_OPEN, NULLABLE, NULL},
    {"activity", KIND_OPEN, NULLABLE, NULL},
    {NULL, 0, 0, NULL},
};
static const struct shape report_shape = OBJECT(report_fields);

struct checker {
    const char *file;
    struct diagnostics *d;
    struct buf pointer; /* JSON Pointer of the value being checked */
    size_t errors;
};

static void problem(struct checker *c, const char *what)
{
    c->errors++;
    if (c->errors < REPORT_SCHEMA_MAX_ERRORS)
        diag_error_at(c->d, DDB_EINPUT, c->file, 0, 0, 0, "%s: %s",
                      c->pointer.len ? c->pointer.data : "/", what);
    else if (c->errors == REPORT_SCHEMA_MAX_ERRORS)
        diag_error_at(c->d, DDB_EINPUT, c->file, 0, 0, 0, "more problems not shown");
}

static int is_sha256(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == 64;
}

static int is_date(const char *s)
{
    static const char pattern[] = "dddd-dd-dd";
    for (size_t i = 0; i < sizeof(pattern) - 1; i++)
        if (pattern[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != '-')
            return 0;
    return s[sizeof(pattern) - 1] == '\0';
}

static int is_status(const char *s)
{
    static const char *const names[] = {"pass", "review", "remediate", "accepted",
                                        "not_applicable"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return 1;
    return 0;
}

/* Appends "/token" (escaped per RFC 6901) to the pointer; returns the old length. */
static size_t push(struct checker *c, const char *token)
{
    size_t old = c->pointer.len;
    buf_putc(&c->pointer, '/');
    for (const char *p = token; *p; p++)
        buf_puts(&c->pointer, *p == '~' ? "~0" : *p == '/' ? "~1" : (char[]){*p, 0});
    return old;
}

static void pop(struct checker *c, size_t old)
{
    c->pointer.len = old;
    if (c->pointer.data)
        c->pointer.data[old] = '\0';
}

static void check_value(struct checker *c, const json_t *value, enum kind kind,
                        const struct shape *shape);

static void check_object(struct checker *c, const json_t *object, const struct shape *shape)
{
    const char *key;
    const json_t *member;
    for (const struct field *f = shape->fields; f->name; f++) {
        const json_t *field = json_object_get(object, f->name);
        size_t old = push(c, f->name);
        if (!field) {
            if (!(f->flags & OPTIONAL))
                problem(c, "required field is missing");
        } else if (json_is_null(field)) {
            if (!(f->flags & NULLABLE))
                problem(c, "is null");
        } else {
            check_value(c, field, f->kind, f->shape);
        }
        pop(c, old);
    }
    json_object_foreach((json_t *)object, key, member)
    {
        const struct field *f = shape->fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        if (!f->name) {
            size_t old = push(c, key);
            problem(c, "field is not in the schema");
            pop(c, old);
        }
    }
}

static void check_value(struct checker *c, const json_t *value, enum kind kind,
                        const struct shape *shape)
{
    const char *s = json_string_value(value);
    switch (kind) {
    case KIND_STRING:
        if (!s)
            problem(c, "expected a string");
        break;
    case KIND_INTEGER:
        if (!json_is_integer(value) || json_integer_value(value) < 0)
            problem(c, "expected an integer >= 0");
        break;
    case KIND_BOOLEAN:
        if (!json_is_boolean(value))
            problem(c, "expected true or false");
        break;
    case KIND_SHA256:
        if (!s || !is_sha256(s))
            problem(c, "expected a SHA-256 as 64 lowercase hex digits");
        break;
    case KIND_DATE:
        if (!s || !is_date(s))
            problem(c, "expected a date YYYY-MM-DD");
        break;
    case KIND_STATUS:
        if (!s || !is_status(s))
            problem(c, "expected pass, review, remediate, accepted or not_applicable");
        break;
    case KIND_OBJECT:
        if (!json_is_object(value))
            problem(c, "expected an object");
        else
            check_object(c, value, shape);
        break;
    case KIND_ARRAY:
        if (!json_is_array(value)) {
            problem(c, "expected an array");
        } else {
            size_t i;
            const json_t *item;
            json_array_foreach((json_t *)value, i, item)
            {
                char index[24];
                snprintf(index, sizeof(index), "%zu", i);
                size_t old = push(c, index);
                check_value(c, item, shape->items->kind, shape->items);
                pop(c, old);
                if (c->errors > REPORT_SCHEMA_MAX_ERRORS)
                    break;
            }
        }
        break;
    case KIND_OPEN:
        if (!json_is_object(value))
            problem(c, "expected an object or null");
        break;
    case KIND_ANY:
        break;
    }
}

int report_schema_check(const json_t *report, const char *file, struct diagnostics *d)
{
    struct checker c = {.file = file, .d = d};
    buf_init(&c.pointer, (size_t)1 << 20);
    check_value(&c, report, KIND_OBJECT, &report_shape);
    const char *id = json_string_value(json_object_get(report, "$schema"));
    if (id && strcmp(id, REPORT_SCHEMA_ID) != 0) {
        buf_reset(&c.pointer);
        buf_puts(&c.pointer, "/$schema");
        problem(&c, "expected " REPORT_SCHEMA_ID);
    }
    const json_t *version = json_object_get(report, "schema_version");
    if (json_is_integer(version) && json_integer_value(version) != 1) {
        buf_reset(&c.pointer);
        buf_puts(&c.pointer, "/schema_version");
        problem(&c, "this ddbaudit reads schema version 1");
    }
    buf_free(&c.pointer);
    return c.errors ? DDB_EINPUT : 0;
}
