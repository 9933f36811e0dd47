/* The SARIF writer: report.json in, one SARIF 2.1.0 log out. It maps statuses to levels and
 * citations to locations; it never decides a status and reads no file. */
#include "sarif.h"
#include "buf.h"
#include "diag.h"
#include "digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

static const char *string_or(const json_t *object, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(object, key));
    return s ? s : fallback;
}

/* A relative URI reference for a path: repository-relative when it lies under base_dir, with
 * every byte outside RFC 3986's unreserved set and '/' percent-encoded. */
static json_t *artifact_uri(const char *path, const char *base_dir)
{
    size_t n = base_dir ? strlen(base_dir) : 0;
    if (n && path[0] == '/' && !strncmp(path, base_dir, n) && path[n] == '/')
        path += n + 1;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    struct buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            buf_putc(&b, (char)*p);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    json_t *uri = json_string(buf_cstr(&b));
    buf_free(&b);
    return uri;
}

static json_t *location_json(const json_t *location, const char *base_dir)
{
    const char *file = string_or(location, "file", NULL);
    json_int_t line = json_integer_value(json_object_get(location, "line"));
    json_int_t column = json_integer_value(json_object_get(location, "column"));
    if (!file)
        return NULL;
    json_t *physical = json_object();
    json_t *artifact = json_object();
    json_object_set_new(artifact, "uri", artifact_uri(file, base_dir));
    json_object_set_new(physical, "artifactLocation", artifact);
    if (line > 0) {
        json_t *region = json_object();
        json_object_set_new(region, "startLine", json_integer(line));
        if (column > 0)
            json_object_set_new(region, "startColumn", json_integer(column));
        json_object_set_new(physical, "region", region);
    }
    json_t *wrapper = json_object();
    json_object_set_new(wrapper, "physicalLocation", physical);
    return wrapper;
}

static json_t *rule_json(const json_t *control)
{
    json_t *rule = json_object();
    const char *id = string_or(control, "id", "");
    json_object_set_new(rule, "id", json_string(id));
    /* SARIF names are PascalCase-ish identifiers; the title stays readable in the description. */
    struct buf name;
    buf_init(&name, 4096);
    int upper = 1;
    for (const char *p = string_or(control, "title", id); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
            buf_putc(&name, upper && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p);
            upper = 0;
        } else {
            upper = 1;
        }
    }
    json_object_set_new(rule, "name", json_string(name.len ? buf_cstr(&name) : id));
    buf_free(&name);
    json_object_set_new(rule, "shortDescription",
                        json_pack("{s:s}", "text", string_or(control, "title", id)));
    const char *objective = string_or(control, "objective", NULL);
    if (objective && *objective)
        json_object_set_new(rule, "fullDescription", json_pack("{s:s}", "text", objective));
    const char *help =
        string_or(json_array_get(json_object_get(control, "references"), 0), "url", NULL);
    if (help)
        json_object_set_new(rule, "helpUri", json_string(help));
    json_object_set_new(rule, "defaultConfiguration", json_pack("{s:s}", "level", "error"));
    return rule;
}

static json_t *result_json(const json_t *control, size_t rule_index, const json_t *finding,
                           const char *base_dir)
{
    const char *status = string_or(finding, "status", "");
    const char *id = string_or(control, "id", "");
    const char *resource = string_or(finding, "resource", "");
    json_t *result = json_object();
    json_object_set_new(result, "ruleId", json_string(id));
    json_object_set_new(result, "ruleIndex", json_integer((json_int_t)rule_index));
    json_object_set_new(result, "level",
                        json_string(!strcmp(status, "remediate") ? "error" : "warning"));
    struct buf text;
    buf_init(&text, BUF_DEFAULT_MAX);
    buf_printf(&text, "%s %s (%s): %s", id, status, resource, string_or(finding, "reason", ""));
    json_object_set_new(result, "message", json_pack("{s:s}", "text", buf_cstr(&text)));
    buf_free(&text);

    /* The first located citation is where the finding is shown; the others are related. */
    json_t *locations = json_array(), *related = json_array();
    size_t i;
    json_t *citation;
    json_array_foreach(json_object_get(finding, "evidence"), i, citation)
    {
        json_t *location = location_json(json_object_get(citation, "location"), base_dir);
        if (!location)
            continue;
        int seen = 0;
        size_t k;
        json_t *existing;
        json_array_foreach(locations, k, existing) seen |= json_equal(existing, location);
        json_array_foreach(related, k, existing)
        {
            json_t *copy = json_deep_copy(existing);
            json_object_del(copy, "id");
            seen |= json_equal(copy, location);
            json_decref(copy);
        }
        if (seen) {
            json_decref(location);
        } else if (!json_array_size(locations)) {
            json_array_append_new(locations, location);
        } else {
            json_object_set_new(location, "id", json_integer((json_int_t)json_array_size(related)));
            json_array_append_new(related, location);
        }
    }
    json_object_set_new(result, "locations", locations);
    if (json_array_size(related))
        json_object_set_new(result, "relatedLocations", related);
    else
        json_decref(related);

    /* A stable identity per control and resource, so a code host tracks a finding across
     * commits even when its line moves. */
    char hex[DIGEST_SHA256_HEX_LEN + 1];
    struct buf key;
    buf_init(&key, BUF_DEFAULT_MAX);
    buf_printf(&key, "%s\n%s", id, resource);
    digest_sha256_hex(key.data, key.len, hex);
    buf_free(&key);
    json_object_set_new(result, "partialFingerprints", json_pack("{s:s}", "ddbaudit/v1", hex));
    json_object_set_new(result, "properties",
                        json_pack("{s:s, s:s}", "resource", resource, "status", status));
    return result;
}

int sarif_write(struct buf *out, json_t *report, const char *base_dir, struct diagnostics *d)
{
    json_t *controls = json_object_get(report, "controls");
    if (!json_is_array(controls))
        return diag_error(d, DDB_EINPUT, "report.json/controls: not a list");
    json_t *rules = json_array(), *results = json_array();
    size_t i;
    json_t *control;
    json_array_foreach(controls, i, control)
    {
        json_array_append_new(rules, rule_json(control));
        size_t k;
        json_t *finding;
        json_array_foreach(json_object_get(control, "findings"), k, finding)
        {
            const char *status = string_or(finding, "status", "");
            if (!strcmp(status, "remediate") || !strcmp(status, "review"))
                json_array_append_new(results, result_json(control, i, finding, base_dir));
        }
    }
    json_t *tool = json_object_get(report, "tool");
    json_t *driver = json_object();
    json_object_set_new(driver, "name", json_string(string_or(tool, "name", "ddbaudit")));
    json_object_set_new(driver, "version", json_string(string_or(tool, "version", "")));
    json_object_set_new(driver, "rules", rules);
    json_t *run = json_object();
    json_object_set_new(run, "tool", json_pack("{s:o}", "driver", driver));
    json_object_set_new(run, "columnKind", json_string("unicodeCodePoints"));
    json_object_set_new(run, "results", results);
    json_t *log = json_object();
    json_object_set_new(log, "$schema", json_string(SARIF_SCHEMA));
    json_object_set_new(log, "version", json_string("2.1.0"));
    json_object_set_new(log, "runs", json_pack("[o]", run));
    char *text = json_dumps(log, JSON_INDENT(2));
    json_decref(log);
    int error = 0;
    if (!text || buf_puts(out, text) < 0 || buf_putc(out, '\n') < 0)
        error = diag_error(d, DDB_ERUNTIME, "out of memory writing SARIF");
    free(text);
    return error;
}
