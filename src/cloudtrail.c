/* Streaming CloudTrail reader: zlib inflate into a record boundary finder; records whose raw
 * eventSource is wanted go to jansson, whole or as a summary. It only finds and decodes events;
 * deciding what an event means is activity.c's job. Damage is a warning with file and offset,
 * never fatal. */
#define _GNU_SOURCE /* memmem: glibc's two-way search is the pre-filter's whole cost */
#include "cloudtrail.h"
#include "buf.h"
#include "diag.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CHUNK_SIZE ((size_t)256 << 10)
#define KEY_MAX 16
#define NO_CAPTURE ((size_t)-1)
/* A file of a million broken records must not fill memory with diagnostics. */
#define WARNINGS_PER_FILE 20

const char *const cloudtrail_default_sources[] = {
    "dynamodb.amazonaws.com",
    "kms.amazonaws.com",
    "iam.amazonaws.com",
};
const size_t cloudtrail_default_source_count =
    sizeof(cloudtrail_default_sources) / sizeof(cloudtrail_default_sources[0]);

/* Per-file state of the boundary finder. It tracks only what it needs to find where each
 * record starts and ends (string/escape state, container depth, the key of the top-level
 * array); validating JSON is left to jansson, one record at a time. */
struct reader {
    struct cloudtrail_scan *scan;
    size_t file_index;
    const char *name;
    cloudtrail_event_fn fn;
    void *ctx;
    struct diagnostics *d;

    uint64_t offset; /* decompressed bytes before the current chunk */
    int depth;
    int in_string;
    int escape;
    int unicode_escape; /* the current record has a \u escape: the pre-filter cannot trust it */
    int top_is_object;
    int key_capture;
    char key[KEY_MAX];
    size_t key_len;
    int records_depth; /* depth of the Records/Events array interior; 0 = none */
    int skipping_value;
    int stopped; /* unreadable junk: the rest of the file is skipped */

    int capturing;
    int capture_depth;
    int oversize;
    uint64_t record_start;
    uint64_t page;
    uint64_t index;
    uint64_t record_index;
    uint64_t warnings;
    struct buf record;
    struct buf scratch;
};

/* The bytes that end the fast scan through a string. */
static const unsigned char string_special[256] = {['"'] = 1, ['\\'] = 1};

static struct cloudtrail_file *current_file(struct reader *r)
{
    return &r->scan->files[r->file_index];
}

static void mark_damaged(struct reader *r, enum cloudtrail_file_status status)
{
    struct cloudtrail_file *file = current_file(r);
    if (file->status < status)
        file->status = status;
}

static void warn(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct reader *r, const char *fmt, ...)
{
    if (r->warnings++ >= WARNINGS_PER_FILE)
        return;
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(r->d, DIAG_WARNING, r->name, 0, 0, 0, fmt, ap);
    va_end(ap);
}

void cloudtrail_scan_init(struct cloudtrail_scan *scan, const struct cloudtrail_options *options)
{
    memset(scan, 0, sizeof(*scan));
    if (options)
        scan->options = *options;
    if (!scan->options.sources) {
        scan->options.sources = cloudtrail_default_sources;
        scan->options.source_count = cloudtrail_default_source_count;
    }
    if (!scan->options.max_record)
        scan->options.max_record = CLOUDTRAIL_DEFAULT_MAX_RECORD;
    if (!scan->options.chunk_size)
        scan->options.chunk_size = CHUNK_SIZE;
}

void cloudtrail_scan_free(struct cloudtrail_scan *scan)
{
    free(scan->read_buffer);
    free(scan->inflate_buffer);
    for (size_t i = 0; i < scan->file_count; i++)
        free(scan->files[i].path);
    free(scan->files);
    memset(scan, 0, sizeof(*scan));
}

static int add_file(struct cloudtrail_scan *scan, const char *path, size_t *index)
{
    if (scan->file_count == scan->file_capacity) {
        size_t capacity = scan->file_capacity ? scan->file_capacity * 2 : 16;
        struct cloudtrail_file *files = realloc(scan->files, capacity * sizeof(*files));
        if (!files)
            return -1;
        scan->files = files;
        scan->file_capacity = capacity;
    }
    struct cloudtrail_file *file = &scan->files[scan->file_count];
    memset(file, 0, sizeof(*file));
    file->path = strdup(path);
    if (!file->path)
        return -1;
    *index = scan->file_count++;
    return 0;
}

const char *cloudtrail_shape_name(enum cloudtrail_shape shape)
{
    switch (shape) {
    case CLOUDTRAIL_SHAPE_RECORDS:
        return "records";
    case CLOUDTRAIL_SHAPE_EVENTS:
        return "lookup-events";
    case CLOUDTRAIL_SHAPE_LINES:
        return "lines";
    case CLOUDTRAIL_SHAPE_ARRAY:
        return "array";
    default:
        return "unknown";
    }
}

const char *cloudtrail_file_status_name(enum cloudtrail_file_status status)
{
    switch (status) {
    case CLOUDTRAIL_FILE_OK:
        return "ok";
    case CLOUDTRAIL_FILE_DAMAGED:
        return "damaged";
    case CLOUDTRAIL_FILE_TRUNCATED:
        return "truncated";
    default:
        return "unreadable";
    }
}

/* Copies `in` to `out` with every ill-formed UTF-8 sequence replaced by U+FFFD, as jq does, so
 * a byte of garbage in a userAgent cannot hide a DeleteTable from the audit. */
static int utf8_repair(struct buf *out, const unsigned char *in, size_t len)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    buf_reset(out);
    size_t i = 0;
    while (i < len) {
        unsigned char c = in[i];
        size_t need = 0;
        unsigned char low = 0x80, high = 0xBF;
        if (c < 0x80)
            need = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                low = 0xA0; /* no overlongs */
            if (c == 0xED)
                high = 0x9F; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                low = 0x90;
            if (c == 0xF4)
                high = 0x8F;
        } else {
            if (buf_append(out, replacement, 3) < 0)
                return -1;
            i++;
            continue;
        }
        size_t ok = 1;
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= len) {
                ok = 0;
                break;
            }
            unsigned char next = in[i + k];
            unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
            if (next < lo || next > hi) {
                ok = 0;
                break;
            }
        }
        if (!ok) {
            if (buf_append(out, replacement, 3) < 0)
                return -1;
            i++;
            continue;
        }
        if (buf_append(out, in + i, need + 1) < 0)
            return -1;
        i += need + 1;
    }
    return 0;
}

/* Parses one record the way jq would accept it: NUL escapes allowed, integers too large for
 * json_int_t read as reals, ill-formed UTF-8 replaced. Returns NULL with `error` set. */
static json_t *parse_record(struct reader *r, const char *data, size_t len, json_error_t *error)
{
    size_t flags = JSON_ALLOW_NUL;
    json_t *value = json_loadb(data, len, flags, error);
    if (!value && json_error_code(error) == json_error_numeric_overflow) {
        flags |= JSON_DECODE_INT_AS_REAL;
        value = json_loadb(data, len, flags, error);
    }
    if (!value && json_error_code(error) == json_error_invalid_utf8) {
        if (utf8_repair(&r->scratch, (const unsigned char *)data, len) < 0)
            return NULL;
        warn(r, "record at byte %llu has invalid UTF-8; read with U+FFFD replacements",
             (unsigned long long)r->record_start);
        value = json_loadb(r->scratch.data, r->scratch.len, flags, error);
        if (!value && json_error_code(error) == json_error_numeric_overflow)
            value =
                json_loadb(r->scratch.data, r->scratch.len, flags | JSON_DECODE_INT_AS_REAL, error);
    }
    return value;
}

static int wanted_source(const struct cloudtrail_options *options, const char *source)
{
    for (size_t i = 0; i < options->source_count; i++)
        if (strcmp(options->sources[i], source) == 0)
            return 1;
    return 0;
}

/* The pre-filter: a record can only be wanted if one of the wanted eventSource names occurs in
 * its bytes. A \u escape could spell the name differently, so such records are always parsed. */
static int may_be_wanted(const struct reader *r)
{
    if (r->unicode_escape)
        return 1;
    const struct cloudtrail_options *options = &r->scan->options;
    for (size_t i = 0; i < options->source_count; i++)
        if (memmem(r->record.data, r->record.len, options->sources[i], strlen(options->sources[i])))
            return 1;
    return 0;
}

/* One member of a JSON object, as byte spans into the object's text. */
struct member {
    const char *key; /* without quotes, raw (escapes not decoded) */
    size_t key_len;
    const char *value; /* the raw value text */
    size_t value_len;
};

#define MEMBERS_MAX 64

static size_t skip_space(const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    return i;
}

/* Index just past the string that opens at p[i] == '"', or len when it does not close. */
static size_t skip_string(const char *p, size_t i, size_t len, int *escaped)
{
    for (i++; i < len; i++) {
        while (i < len && !string_special[(unsigned char)p[i]])
            i++;
        if (i >= len)
            break;
        if (p[i] == '"')
            return i + 1;
        *escaped = 1;
        i++; /* the escaped character */
    }
    return len;
}

/* Splits the object text p[0..len) into its top-level members, with the same string and
 * depth tracking as the boundary finder: it finds where members start and end, and leaves
 * the values to jansson. Returns the member count, or -1 when the text is not shaped like an
 * object (the caller then lets jansson read the whole record and report what is wrong). A key
 * with an escape sets *escaped_key: it cannot be compared as raw bytes. */
static int split_members(const char *p, size_t len, struct member *out, int max, int *escaped_key)
{
    size_t i = skip_space(p, 0, len);
    int n = 0;
    if (i >= len || p[i] != '{')
        return -1;
    i = skip_space(p, i + 1, len);
    if (i < len && p[i] == '}')
        return 0;
    while (i < len) {
        if (p[i] != '"' || n == max)
            return -1;
        size_t key = i + 1;
        i = skip_string(p, i, len, escaped_key);
        if (i >= len)
            return -1;
        size_t key_end = i - 1;
        i = skip_space(p, i, len);
        if (i >= len || p[i] != ':')
            return -1;
        i = skip_space(p, i + 1, len);
        size_t value = i;
        int depth = 0, escaped = 0;
        while (i < len) {
            char c = p[i];
            if (c == '"') {
                i = skip_string(p, i, len, &escaped);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (depth == 0)
                    break;
                depth--;
            } else if (c == ',' && depth == 0)
                break;
            i++;
        }
        if (i >= len)
            return -1;
        size_t value_end = i;
        while (value_end > value && (p[value_end - 1] == ' ' || p[value_end - 1] == '\n' ||
                                     p[value_end - 1] == '\r' || p[value_end - 1] == '\t'))
            value_end--;
        if (value_end == value)
            return -1;
        out[n++] = (struct member){p + key, key_end - key, p + value, value_end - value};
        if (p[i] == '}')
            return skip_space(p, i + 1, len) == len ? n : -1;
        i = skip_space(p, i + 1, len);
    }
    return -1;
}

static int member_is(const struct member *m, const char *key)
{
    if (m->key_len == 0 || m->key[0] != key[0]) /* most keys differ at once */
        return 0;
    size_t len = strlen(key);
    return m->key_len == len && memcmp(m->key, key, len) == 0;
}

/* The value of a plain string member (no escapes) into out, or 0. */
static int plain_string(const struct member *m, char *out, size_t size)
{
    if (m->value_len < 2 || m->value[0] != '"' || m->value_len - 2 >= size ||
        memchr(m->value, '\\', m->value_len))
        return 0;
    memcpy(out, m->value + 1, m->value_len - 2);
    out[m->value_len - 2] = '\0';
    return 1;
}

/* What an event summary keeps: what the counts and groups of activity.c read, nothing more;
 * requestParameters, responseElements, userAgent and friends go. */
static const char *const summary_members[] = {
    "eventTime", "@timestamp", "eventSource",  "eventName",     "awsRegion",  "sourceIPAddress",
    "eventID",   "errorCode",  "userIdentity", "vpcEndpointId", "tlsDetails", NULL,
};
static const char *const summary_identity[] = {
    "type", "principalId", "arn", "invokedBy", NULL,
};
static const char *const summary_tls[] = {"tlsVersion", NULL};
static const char *const summary_with_parameters[] = {
    "eventTime",       "@timestamp",        "eventSource", "eventName",    "awsRegion",
    "sourceIPAddress", "eventID",           "errorCode",   "userIdentity", "vpcEndpointId",
    "tlsDetails",      "requestParameters", "resources",   NULL,
};

static int listed(const struct member *m, const char *const *names)
{
    for (; *names; names++)
        if (member_is(m, *names))
            return 1;
    return 0;
}

/* A value taken straight from its bytes when it is null, true, false or a string without
 * escapes or control characters (json_stringn still checks its UTF-8); NULL for anything else,
 * which is jansson's to read. This is what keeps the common record away from the lexer. */
static json_t *simple_value(const char *value, size_t len)
{
    if (len == 4 && memcmp(value, "null", 4) == 0)
        return json_null();
    if (len == 4 && memcmp(value, "true", 4) == 0)
        return json_true();
    if (len == 5 && memcmp(value, "false", 5) == 0)
        return json_false();
    if (len < 2 || value[0] != '"' || value[len - 1] != '"')
        return NULL;
    for (size_t i = 1; i < len - 1; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == '\\')
            return NULL;
    return json_stringn(value + 1, len - 2);
}

static json_t *member_value(const struct member *m)
{
    json_t *value = simple_value(m->value, m->value_len);
    if (!value)
        value = json_loadb(m->value, m->value_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    return value;
}

/* The members of `names` found among `members`, as a new object; NULL = read the whole record. */
static json_t *pick_members(const struct member *members, int count, const char *const *names)
{
    json_t *object = json_object();
    for (int i = 0; object && i < count; i++) {
        if (!listed(&members[i], names))
            continue;
        json_t *value = NULL;
        if (member_is(&members[i], "userIdentity") || member_is(&members[i], "tlsDetails")) {
            struct member inner[MEMBERS_MAX];
            int escaped = 0;
            int n =
                split_members(members[i].value, members[i].value_len, inner, MEMBERS_MAX, &escaped);
            if (n >= 0 && !escaped)
                value = pick_members(inner, n,
                                     member_is(&members[i], "userIdentity") ? summary_identity
                                                                            : summary_tls);
        } else
            value = member_value(&members[i]);
        /* The key is one of ours, so plain ASCII: no need to check it again. */
        if (!value ||
            json_object_setn_new_nocheck(object, members[i].key, members[i].key_len, value) < 0) {
            json_decref(object);
            return NULL;
        }
    }
    return object;
}

/* The cheap eventSource test before any parsing: reads eventSource and eventName as raw bytes.
 * Returns 1 when the record is decided without jansson reading all of it: not wanted (*skip),
 * or wanted only as a summary (*summary, a new reference). 0 = parse the whole record. */
static int decide_early(struct reader *r, int *skip, json_t **summary)
{
    struct member members[MEMBERS_MAX];
    int escaped_key = 0;
    int n = split_members(r->record.data, r->record.len, members, MEMBERS_MAX, &escaped_key);
    if (n < 0 || escaped_key)
        return 0;
    char source[128] = "", name[128] = "";
    int have_source = 0, have_name = 0;
    for (int i = 0; i < n; i++) {
        if (member_is(&members[i], "CloudTrailEvent"))
            return 0; /* LookupEvents: the event is inside a string */
        if (member_is(&members[i], "eventSource"))
            have_source = plain_string(&members[i], source, sizeof(source)) ? 1 : -1;
        else if (member_is(&members[i], "eventName"))
            have_name = plain_string(&members[i], name, sizeof(name)) ? 1 : -1;
    }
    if (have_source < 0 || have_name < 0)
        return 0; /* escaped or not a string: jansson decides */
    if (!have_source || !wanted_source(&r->scan->options, source)) {
        *skip = 1;
        return 1;
    }
    if (!r->scan->options.detail || !have_name)
        return 0;
    enum cloudtrail_detail detail = r->scan->options.detail(source, name);
    if (detail == CLOUDTRAIL_WHOLE)
        return 0;
    *summary = pick_members(
        members, n, detail == CLOUDTRAIL_SUMMARY ? summary_members : summary_with_parameters);
    return *summary != NULL;
}

static int finish_record(struct reader *r, enum cloudtrail_shape shape)
{
    struct cloudtrail_file *file = current_file(r);
    int error = 0;
    json_t *record = NULL, *inner = NULL;
    if (file->shape == CLOUDTRAIL_SHAPE_UNKNOWN)
        file->shape = shape;
    file->records++;
    r->scan->records++;
    if (r->oversize) {
        warn(r, "record at byte %llu is larger than the %zu-byte record limit; skipped",
             (unsigned long long)r->record_start, r->scan->options.max_record);
        file->skipped++;
        mark_damaged(r, CLOUDTRAIL_FILE_DAMAGED);
        goto done;
    }
    if (!may_be_wanted(r)) {
        r->scan->prefiltered++;
        goto done;
    }
    int skip = 0;
    if (decide_early(r, &skip, &record) && skip) {
        r->scan->prefiltered++;
        goto done;
    }
    json_error_t json_error;
    if (!record)
        record = parse_record(r, r->record.data, r->record.len, &json_error);
    if (!record) {
        warn(r, "record at byte %llu is not valid JSON: %s (at byte %llu)",
             (unsigned long long)r->record_start, json_error.text,
             (unsigned long long)(r->record_start + (uint64_t)json_error.position));
        file->skipped++;
        mark_damaged(r, CLOUDTRAIL_FILE_DAMAGED);
        goto done;
    }
    json_t *event = record;
    /* LookupEvents wraps the record as a JSON string in CloudTrailEvent. */
    json_t *wrapped = json_object_get(record, "CloudTrailEvent");
    if (json_is_string(wrapped)) {
        inner =
            parse_record(r, json_string_value(wrapped), json_string_length(wrapped), &json_error);
        if (!json_is_object(inner)) {
            warn(r, "event at byte %llu has a CloudTrailEvent that is not a JSON object: %s",
                 (unsigned long long)r->record_start, inner ? "wrong type" : json_error.text);
            file->skipped++;
            mark_damaged(r, CLOUDTRAIL_FILE_DAMAGED);
            goto done;
        }
        event = inner;
    }
    const char *source = json_string_value(json_object_get(event, "eventSource"));
    if (!source || !wanted_source(&r->scan->options, source))
        goto done;
    file->kept++;
    r->scan->kept++;
    struct cloudtrail_source where = {
        .file_index = r->file_index,
        .offset = r->record_start,
        .page = r->page,
        .index = r->record_index,
    };
    error = r->fn ? r->fn(r->ctx, event, &where) : 0;
done:
    json_decref(inner);
    json_decref(record);
    buf_reset(&r->record);
    r->capturing = 0;
    r->oversize = 0;
    r->unicode_escape = 0;
    return error;
}

static void capture(struct reader *r, const unsigned char *data, size_t len)
{
    if (r->oversize || len == 0)
        return;
    if (buf_append(&r->record, data, len) < 0) {
        r->oversize = 1;
        buf_free(&r->record); /* give the memory back while the rest of the record streams by */
        buf_init(&r->record, r->scan->options.max_record);
    }
}

static void start_capture(struct reader *r, uint64_t at, int depth)
{
    r->capturing = 1;
    r->capture_depth = depth;
    r->record_start = at;
    r->oversize = 0;
    r->unicode_escape = 0;
    buf_reset(&r->record);
}

static int key_is(const struct reader *r, const char *key)
{
    size_t len = strlen(key);
    return r->key_len == len && memcmp(r->key, key, len) == 0;
}

static void junk(struct reader *r, uint64_t at, unsigned char c)
{
    if (c >= 0x20 && c < 0x7f)
        warn(r, "byte %llu: unexpected '%c' outside any record; rest of file skipped",
             (unsigned long long)at, c);
    else
        warn(r,
             "byte %llu: unexpected byte 0x%02x outside any record (not JSON?); rest "
             "of file skipped",
             (unsigned long long)at, c);
    mark_damaged(r, CLOUDTRAIL_FILE_DAMAGED);
    r->stopped = 1;
}

static void not_an_object(struct reader *r, uint64_t at)
{
    warn(r, "byte %llu: record %llu is not an object; skipped", (unsigned long long)at,
         (unsigned long long)r->index);
    struct cloudtrail_file *file = current_file(r);
    file->records++;
    file->skipped++;
    r->scan->records++;
    mark_damaged(r, CLOUDTRAIL_FILE_DAMAGED);
    r->skipping_value = 1;
    r->index++;
}

/* Feeds decompressed bytes through the boundary finder. Returns the callback's error, if any. */
static int feed(struct reader *r, const unsigned char *p, size_t n)
{
    size_t i = 0;
    size_t from = r->capturing ? 0 : NO_CAPTURE;
    int error = 0;
    while (i < n && !r->stopped) {
        unsigned char c = p[i];
        if (r->in_string) {
            if (r->escape) {
                r->escape = 0;
                if (c == 'u')
                    r->unicode_escape = 1;
                i++;
                continue;
            }
            if (!r->key_capture) {
                while (i < n && !string_special[p[i]])
                    i++;
                if (i == n)
                    break;
                c = p[i];
            }
            if (c == '\\')
                r->escape = 1;
            else if (c == '"') {
                r->in_string = 0;
                r->key_capture = 0;
            } else if (r->key_len < KEY_MAX)
                r->key[r->key_len++] = (char)c;
            else
                r->key_len = KEY_MAX; /* too long to be Records/Events; key_is fails */
            i++;
            continue;
        }
        uint64_t at = r->offset + i;
        switch (c) {
        case ' ':
        case '\n':
        case '\r':
        case '\t':
            break;
        case '"':
            r->in_string = 1;
            if (r->depth == 0)
                junk(r, at, c);
            else if (r->depth == 1 && r->top_is_object && !r->records_depth) {
                r->key_capture = 1;
                r->key_len = 0;
            } else if (r->depth == r->records_depth && !r->capturing && !r->skipping_value)
                not_an_object(r, at);
            break;
        case '{':
        case '[':
            if (r->depth == 0) {
                r->index = 0;
                r->records_depth = 0;
                r->skipping_value = 0;
                r->top_is_object = c == '{';
                if (c == '{') {
                    start_capture(r, at, 0); /* an event per line, unless it is a wrapper */
                    r->record_index = 0;
                    from = i;
                } else
                    r->records_depth = 1;
            } else if (r->depth == r->records_depth && !r->capturing && !r->skipping_value) {
                if (c == '{') {
                    start_capture(r, at, r->depth);
                    r->record_index = r->index++;
                    from = i;
                } else
                    not_an_object(r, at);
            } else if (c == '[' && r->depth == 1 && r->top_is_object && !r->records_depth &&
                       (key_is(r, "Records") || key_is(r, "Events"))) {
                current_file(r)->shape =
                    key_is(r, "Records") ? CLOUDTRAIL_SHAPE_RECORDS : CLOUDTRAIL_SHAPE_EVENTS;
                r->records_depth = 2;
                r->capturing = 0; /* it is a wrapper, not an event */
                buf_reset(&r->record);
                if (r->oversize) {
                    buf_free(&r->record);
                    buf_init(&r->record, r->scan->options.max_record);
                    r->oversize = 0;
                }
                from = NO_CAPTURE;
            }
            r->depth++;
            break;
        case '}':
        case ']':
            if (r->depth == 0) {
                junk(r, at, c);
                break;
            }
            r->depth--;
            if (r->capturing && r->depth == r->capture_depth) {
                capture(r, p + from, i + 1 - from);
                from = NO_CAPTURE;
                error = finish_record(r, r->depth == 0
                                             ? CLOUDTRAIL_SHAPE_LINES
                                             : (r->records_depth == 1 ? CLOUDTRAIL_SHAPE_ARRAY
                                                                      : CLOUDTRAIL_SHAPE_RECORDS));
                if (error < 0)
                    return error;
            } else if (r->records_depth && r->depth == r->records_depth - 1) {
                r->records_depth = 0;
                r->skipping_value = 0;
            }
            if (r->depth == 0)
                r->page++;
            break;
        case ',':
            if (r->depth == r->records_depth)
                r->skipping_value = 0;
            break;
        default:
            if (r->depth == 0)
                junk(r, at, c);
            else if (r->depth == r->records_depth && !r->capturing && !r->skipping_value)
                not_an_object(r, at);
            break;
        }
        i++;
    }
    if (r->capturing && from != NO_CAPTURE && !r->stopped)
        capture(r, p + from, n - from);
    r->offset += n;
    return error;
}

static void finish_stream(struct reader *r)
{
    if (!r->stopped && (r->depth > 0 || r->in_string)) {
        if (r->capturing)
            warn(r, "byte %llu: file ends inside the record that starts at byte %llu",
                 (unsigned long long)r->offset, (unsigned long long)r->record_start);
        else
            warn(r, "byte %llu: file ends before its JSON closes", (unsigned long long)r->offset);
        if (r->capturing) {
            current_file(r)->skipped++;
            current_file(r)->records++;
            r->scan->records++;
        }
        mark_damaged(r, CLOUDTRAIL_FILE_TRUNCATED);
    }
    if (r->warnings > WARNINGS_PER_FILE)
        diag_warning_at(r->d, r->name, 0, 0, 0, "%llu more problems in this file not shown",
                        (unsigned long long)(r->warnings - WARNINGS_PER_FILE));
}

static void reader_init(struct reader *r, struct cloudtrail_scan *scan, size_t file_index,
                        cloudtrail_event_fn fn, void *ctx, struct diagnostics *d)
{
    memset(r, 0, sizeof(*r));
    r->scan = scan;
    r->file_index = file_index;
    r->name = scan->files[file_index].path;
    r->fn = fn;
    r->ctx = ctx;
    r->d = d;
    buf_init(&r->record, scan->options.max_record);
    buf_init(&r->scratch, scan->options.max_record + scan->options.max_record / 2);
}

static void reader_free(struct reader *r)
{
    buf_free(&r->record);
    buf_free(&r->scratch);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t len = strlen(s), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

/* Pulls bytes from a FILE or from memory. */
struct input {
    FILE *file;
    const unsigned char *data;
    size_t len;
    size_t pos;
};

static size_t input_read(struct input *in, unsigned char *out, size_t want)
{
    if (in->file)
        return fread(out, 1, want, in->file);
    size_t n = in->len - in->pos < want ? in->len - in->pos : want;
    memcpy(out, in->data + in->pos, n);
    in->pos += n;
    return n;
}

/* Streams one input through inflate (when it starts with the gzip magic) and the finder,
 * hashing the raw bytes on the way. Concatenated gzip members are read as one stream, as
 * gzip(1) does. */
static int scan_input(struct reader *r, struct input *in)
{
    struct cloudtrail_file *file = current_file(r);
    int error = 0, inflating = 0, stream_ended = 0, trailing_junk = 0;
    uint64_t member_start = 0, member_output = 0;
    z_stream z;
    memset(&z, 0, sizeof(z));
    const size_t chunk = r->scan->options.chunk_size;
    /* The first read takes at least the two bytes of the gzip magic. */
    if (!r->scan->read_buffer)
        r->scan->read_buffer = malloc(chunk < 2 ? 2 : chunk);
    if (!r->scan->inflate_buffer)
        r->scan->inflate_buffer = malloc(chunk);
    unsigned char *raw = r->scan->read_buffer, *plain = r->scan->inflate_buffer;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    if (!raw || !plain || !sha) {
        error = diag_error(r->d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
    uint64_t raw_total = 0;
    int first = 1;
    for (;;) {
        size_t n = input_read(in, raw, first && chunk < 2 ? 2 : chunk);
        if (n == 0)
            break;
        EVP_DigestUpdate(sha, raw, n);
        if (first) {
            first = 0;
            if (n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
                if (inflateInit2(&z, 15 + 16) != Z_OK) {
                    error = diag_error(r->d, DDB_ERUNTIME, "out of memory");
                    goto done;
                }
                inflating = 1;
                file->compressed = 1;
            } else if (has_suffix(r->name, ".gz")) {
                warn(r, "named .gz but not gzip data; read as plain JSON");
            }
        }
        if (!inflating) {
            raw_total += n;
            if ((error = feed(r, raw, n)) < 0)
                goto done;
            if (r->stopped)
                break;
            continue;
        }
        z.next_in = raw;
        z.avail_in = (uInt)n;
        while (!r->stopped && !trailing_junk) {
            if (stream_ended) {
                if (z.avail_in == 0)
                    break;
                /* More bytes after a member: another member (gzip(1) reads them as one
                 * stream) or junk, which inflate's header check tells apart. */
                inflateReset(&z);
                stream_ended = 0;
                member_start = raw_total + (n - z.avail_in);
                member_output = 0;
            }
            z.next_out = plain;
            z.avail_out = (uInt)chunk;
            int status = inflate(&z, Z_NO_FLUSH);
            size_t produced = chunk - z.avail_out;
            member_output += produced;
            if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
                if (member_start && member_output == 0) {
                    warn(r, "compressed byte %llu: data after the end of the gzip stream; ignored",
                         (unsigned long long)member_start);
                    mark_damaged(r, CLOUDTRAIL_FILE_DAMAGED);
                    trailing_junk = 1;
                    break;
                }
                warn(r,
                     "compressed byte %llu (decompressed byte %llu): gzip data is damaged (%s); "
                     "rest of file skipped",
                     (unsigned long long)(raw_total + (n - z.avail_in)),
                     (unsigned long long)(r->offset + produced), z.msg ? z.msg : "inflate failed");
                mark_damaged(r, CLOUDTRAIL_FILE_DAMAGED);
                if ((error = feed(r, plain, produced)) < 0)
                    goto done;
                r->stopped = 1;
                break;
            }
            if ((error = feed(r, plain, produced)) < 0)
                goto done;
            if (status == Z_STREAM_END) {
                stream_ended = 1;
                continue;
            }
            if (z.avail_out != 0) /* all input consumed; inflate wants more */
                break;
        }
        raw_total += n;
        if (r->stopped || trailing_junk)
            break;
    }
    /* The hash covers the whole file even when its tail could not be read as JSON. */
    for (size_t n; (n = input_read(in, raw, chunk)) > 0; raw_total += n)
        EVP_DigestUpdate(sha, raw, n);
    if (in->file && ferror(in->file)) {
        warn(r, "read error after byte %llu: %s", (unsigned long long)raw_total, strerror(errno));
        mark_damaged(r, CLOUDTRAIL_FILE_TRUNCATED);
    } else if (inflating && !stream_ended && !r->stopped && !trailing_junk) {
        warn(r, "compressed byte %llu (decompressed byte %llu): gzip stream is truncated",
             (unsigned long long)raw_total, (unsigned long long)r->offset);
        mark_damaged(r, CLOUDTRAIL_FILE_TRUNCATED);
    }
    if (r->offset == 0 && !r->stopped && file->status == CLOUDTRAIL_FILE_OK) {
        warn(r, "no data: CloudTrail never delivers an empty log file");
        mark_damaged(r, CLOUDTRAIL_FILE_TRUNCATED);
    }
    finish_stream(r);
    unsigned char digest[DIGEST_SHA256_LEN];
    unsigned int digest_len = 0;
    EVP_DigestFinal_ex(sha, digest, &digest_len);
    digest_to_hex(digest, sizeof(digest), file->sha256);
    file->size = raw_total;
    file->content_size = r->offset;
done:
    if (inflating)
        inflateEnd(&z);
    EVP_MD_CTX_free(sha);
    return error;
}

static int scan_one_file(struct cloudtrail_scan *scan, const char *path, cloudtrail_event_fn fn,
                         void *ctx, struct diagnostics *d)
{
    size_t index;
    if (add_file(scan, path, &index) < 0)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    struct input in = {.file = fopen(path, "rb")};
    if (!in.file) {
        scan->files[index].status = CLOUDTRAIL_FILE_UNREADABLE;
        diag_warning_at(d, path, 0, 0, 0, "cannot read: %s", strerror(errno));
        return DDB_EINPUT;
    }
    struct reader r;
    reader_init(&r, scan, index, fn, ctx, d);
    int error = scan_input(&r, &in);
    reader_free(&r);
    fclose(in.file);
    return error;
}

int cloudtrail_scan_memory(struct cloudtrail_scan *scan, const char *name, const void *data,
                           size_t len, cloudtrail_event_fn fn, void *ctx, struct diagnostics *d)
{
    size_t index;
    if (add_file(scan, name, &index) < 0)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    struct input in = {.data = data, .len = len};
    struct reader r;
    reader_init(&r, scan, index, fn, ctx, d);
    int error = scan_input(&r, &in);
    reader_free(&r);
    return error;
}

struct path_list {
    char **paths;
    size_t count;
    size_t capacity;
};

static int path_list_add(struct path_list *list, char *path)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 64;
        char **paths = realloc(list->paths, capacity * sizeof(*paths));
        if (!paths)
            return -1;
        list->paths = paths;
        list->capacity = capacity;
    }
    list->paths[list->count++] = path;
    return 0;
}

static int is_log_name(const char *name)
{
    return has_suffix(name, ".json") || has_suffix(name, ".json.gz") || has_suffix(name, ".gz");
}

/* Collects log files under `dir`. Symlinked directories are not followed (no loops); digest
 * files live under CloudTrail-Digest/ and are cloudtrail_digest.c's business. */
static int collect(struct path_list *list, const char *dir, struct diagnostics *d)
{
    DIR *handle = opendir(dir);
    if (!handle) {
        diag_warning_at(d, dir, 0, 0, 0, "cannot list directory: %s", strerror(errno));
        return 0;
    }
    int error = 0;
    struct dirent *entry;
    while ((entry = readdir(handle))) {
        const char *name = entry->d_name;
        if (name[0] == '.' || strcmp(name, "CloudTrail-Digest") == 0)
            continue;
        char *path = fs_join(dir, name);
        if (!path) {
            error = diag_error(d, DDB_ERUNTIME, "out of memory");
            break;
        }
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            error = collect(list, path, d);
            free(path);
            if (error < 0)
                break;
        } else if (is_log_name(name) && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) {
            if (path_list_add(list, path) < 0) {
                free(path);
                error = diag_error(d, DDB_ERUNTIME, "out of memory");
                break;
            }
        } else
            free(path);
    }
    closedir(handle);
    return error;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cloudtrail_scan_path(struct cloudtrail_scan *scan, const char *path, cloudtrail_event_fn fn,
                         void *ctx, struct diagnostics *d)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return scan_one_file(scan, path, fn, ctx, d);
    struct path_list list = {0};
    int error = collect(&list, path, d);
    if (error == 0) {
        if (list.count) /* qsort wants a non-NULL base even for nothing */
            qsort(list.paths, list.count, sizeof(*list.paths), compare_paths);
        for (size_t i = 0; i < list.count && error >= 0; i++) {
            int file_error = scan_one_file(scan, list.paths[i], fn, ctx, d);
            if (file_error < 0 && file_error != DDB_EINPUT)
                error = file_error;
        }
    }
    for (size_t i = 0; i < list.count; i++)
        free(list.paths[i]);
    free(list.paths);
    return error;
}

int cloudtrail_read_content(char **out, size_t *len, const char *path, size_t max,
                            struct diagnostics *d)
{
    int error = 0;
    struct buf content;
    buf_init(&content, max);
    gzFile file = gzopen(path, "rb"); /* reads plain files transparently */
    if (!file) {
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    char chunk[65536];
    int n;
    while ((n = gzread(file, chunk, sizeof(chunk))) > 0) {
        if (buf_append(&content, chunk, (size_t)n) < 0) {
            error = diag_error_at(d, DDB_EINPUT, path, 0, 0, 0, "larger than %zu bytes", max);
            goto done;
        }
    }
    if (n < 0) {
        int code;
        const char *message = gzerror(file, &code);
        error = diag_error_at(d, DDB_EINPUT, path, 0, 0, 0, "damaged gzip data: %s", message);
        goto done;
    }
    *len = content.len;
    *out = buf_detach(&content);
done:
    if (file)
        gzclose(file);
    buf_free(&content);
    return error;
}

int cloudtrail_content_sha256(char hex[DIGEST_SHA256_HEX_LEN + 1], const char *path,
                              struct diagnostics *d)
{
    int error = 0;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    gzFile file = gzopen(path, "rb");
    if (!file || !sha) {
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "cannot read: %s", strerror(errno));
        goto done;
    }
    EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
    char chunk[65536];
    int n;
    while ((n = gzread(file, chunk, sizeof(chunk))) > 0)
        EVP_DigestUpdate(sha, chunk, (size_t)n);
    if (n < 0) {
        int code;
        error = diag_error_at(d, DDB_EINPUT, path, 0, 0, 0, "damaged gzip data: %s",
                              gzerror(file, &code));
        goto done;
    }
    unsigned char digest[DIGEST_SHA256_LEN];
    unsigned int digest_len = 0;
    EVP_DigestFinal_ex(sha, digest, &digest_len);
    digest_to_hex(digest, sizeof(digest), hex);
done:
    if (file)
        gzclose(file);
    EVP_MD_CTX_free(sha);
    return error;
}
