/* Credential and region resolution in the AWS CLI's order: environment, shared config and
 * credentials files (static keys, assume-role, web identity, IAM Identity Center,
 * credential_process), container and EC2 instance metadata. It never opens a socket (HTTP goes
 * through the caller's transport) and never puts a key, token or signature in a message. */
#include "credentials.h"
#include "buf.h"
#include "diag.h"
#include "endpoints.h"
#include "fsutil.h"
#include "sigv4.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CONFIG_FILE_MAX ((size_t)1 << 20) /* shared config/credentials files */
#define TOKEN_FILE_MAX ((size_t)64 << 10) /* web identity and container token files */
#define RESPONSE_MAX ((size_t)256 << 10)  /* STS / SSO / IMDS / container answers */
#define PROCESS_OUTPUT_MAX ((size_t)64 << 10)
#define PROCESS_TIMEOUT_MS 60000
#define METADATA_TIMEOUT_MS 1000
#define SERVICE_TIMEOUT_MS 30000
#define REFRESH_WINDOW_SECONDS 300
#define MAX_ROLE_CHAIN 8

/* ---- Small string helpers ---- */

static char *copy_string(const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (out)
        memcpy(out, s, len + 1);
    return out;
}

static void wipe_free(char *s)
{
    if (s)
        OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static void wipe_buf(struct buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    buf_free(b);
}

static int is_blank(const char *s)
{
    return !s || !*s;
}

static const char *env(const char *name)
{
    const char *value = getenv(name);
    return is_blank(value) ? NULL : value;
}

static int env_true(const char *name)
{
    const char *value = env(name);
    return value && !strcasecmp(value, "true");
}

/* ---- ISO 8601 times ---- */

static int read_digits(const char **p, int count, int *out)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        value = value * 10 + ((*p)[i] - '0');
    }
    *p += count;
    *out = value;
    return 0;
}

int credentials_parse_time(time_t *out, const char *text)
{
    struct tm tm = {0};
    int year, month, day, hour, minute, second;
    const char *p = text;
    if (!p || read_digits(&p, 4, &year) < 0 || *p++ != '-' || read_digits(&p, 2, &month) < 0 ||
        *p++ != '-' || read_digits(&p, 2, &day) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (read_digits(&p, 2, &hour) < 0 || *p++ != ':' || read_digits(&p, 2, &minute) < 0 ||
        *p++ != ':' || read_digits(&p, 2, &second) < 0)
        return -1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (!strcmp(p, "+00:00") || !strcmp(p, "+0000"))
        p += strlen(p);
    else
        return -1;
    if (*p || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 60)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t;
    return 0;
}

/* ---- Shared config files (INI) ----
 * The format is Python configparser's as botocore reads it: "[section]", "key = value" or
 * "key: value", full-line comments with '#' or ';', indented lines continuing the previous key
 * (nested settings such as "s3 =" blocks, which we ignore). Keys are case-insensitive.
 * Diagnostics carry file and line but no column, so the printer never echoes a line that may
 * hold a secret. */

struct ini_entry {
    char *section;
    char *key;
    char *value;
};

struct ini_file {
    char *path; /* NULL when the file does not exist */
    struct ini_entry *entries;
    size_t count;
    size_t capacity;
};

static void ini_free(struct ini_file *ini)
{
    for (size_t i = 0; i < ini->count; i++) {
        free(ini->entries[i].section);
        free(ini->entries[i].key);
        wipe_free(ini->entries[i].value);
    }
    free(ini->entries);
    free(ini->path);
    memset(ini, 0, sizeof(*ini));
}

static char *trimmed_copy(const char *start, const char *end)
{
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    char *out = malloc((size_t)(end - start) + 1);
    if (out) {
        memcpy(out, start, (size_t)(end - start));
        out[end - start] = '\0';
    }
    return out;
}

static int ini_add(struct ini_file *ini, const char *section, char *key, char *value)
{
    if (!key || !value)
        goto fail;
    for (char *p = key; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (ini->count == ini->capacity) {
        size_t capacity = ini->capacity ? ini->capacity * 2 : 32;
        struct ini_entry *grown = realloc(ini->entries, capacity * sizeof(*grown));
        if (!grown)
            goto fail;
        ini->entries = grown;
        ini->capacity = capacity;
    }
    char *section_copy = copy_string(section);
    if (!section_copy)
        goto fail;
    ini->entries[ini->count++] = (struct ini_entry){section_copy, key, value};
    return 0;
fail:
    free(key);
    wipe_free(value);
    return -1;
}

static int ini_parse(struct ini_file *ini, const char *text, const char *path,
                     struct diagnostics *d)
{
    char *section = NULL;
    int error = 0, line_number = 0, have_key = 0;
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        line_number++;
        const char *p = line;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *content_end = end;
        while (content_end > p &&
               (content_end[-1] == '\r' || content_end[-1] == ' ' || content_end[-1] == '\t'))
            content_end--;
        int indented = p > line;
        if (p == content_end || *p == '#' || *p == ';') {
            /* blank or comment */
        } else if (indented && have_key) {
            /* continuation of the previous key (a nested block): not a setting we read */
        } else if (*p == '[') {
            if (content_end[-1] != ']' || content_end - p < 3) {
                error = diag_error_at(d, DDB_EINPUT, path, line_number, 0, 0,
                                      "malformed section header (expected [name])");
                goto done;
            }
            free(section);
            section = trimmed_copy(p + 1, content_end - 1);
            if (!section)
                goto oom;
            have_key = 0;
        } else {
            const char *equals = memchr(p, '=', (size_t)(content_end - p));
            const char *colon = memchr(p, ':', (size_t)(content_end - p));
            const char *delimiter = !equals          ? colon
                                    : !colon         ? equals
                                    : equals < colon ? equals
                                                     : colon;
            if (!delimiter || delimiter == p) {
                error = diag_error_at(d, DDB_EINPUT, path, line_number, 0, 0,
                                      "expected 'name = value' or a [section] header");
                goto done;
            }
            if (!section) {
                error = diag_error_at(d, DDB_EINPUT, path, line_number, 0, 0,
                                      "setting before the first [section] header");
                goto done;
            }
            if (ini_add(ini, section, trimmed_copy(p, delimiter),
                        trimmed_copy(delimiter + 1, content_end)) < 0)
                goto oom;
            have_key = 1;
        }
        line = *end ? end + 1 : end;
    }
    goto done;
oom:
    error = diag_error(d, DDB_ERUNTIME, "out of memory reading %s", path);
done:
    free(section);
    return error;
}

/* Loads path if it exists; a missing file is an empty one. */
static int ini_load(struct ini_file *ini, const char *path, struct diagnostics *d)
{
    memset(ini, 0, sizeof(*ini));
    if (!path || !fs_exists(path))
        return 0;
    char *text = NULL;
    size_t len = 0;
    int error = fs_read_file(&text, &len, path, CONFIG_FILE_MAX, d);
    if (error < 0)
        return error;
    ini->path = copy_string(path);
    if (!ini->path)
        error = diag_error(d, DDB_ERUNTIME, "out of memory reading %s", path);
    else
        error = ini_parse(ini, text, path, d);
    OPENSSL_cleanse(text, len);
    free(text);
    if (error < 0)
        ini_free(ini);
    return error;
}

static int ini_has_section(const struct ini_file *ini, const char *section)
{
    for (size_t i = 0; i < ini->count; i++)
        if (!strcmp(ini->entries[i].section, section))
            return 1;
    return 0;
}

/* The last value of key in section (later lines win), or NULL. Empty values count as unset. */
static const char *ini_get(const struct ini_file *ini, const char *section, const char *key)
{
    const char *value = NULL;
    for (size_t i = 0; i < ini->count; i++)
        if (!strcmp(ini->entries[i].section, section) && !strcmp(ini->entries[i].key, key))
            value = ini->entries[i].value;
    return is_blank(value) ? NULL : value;
}

/* ---- Resolution context ---- */

struct shared_files {
    struct ini_file config;
    struct ini_file credentials;
};

struct loader {
    const struct credentials_options *options;
    struct shared_files files;
    time_t now;
    char *profile;        /* the selected profile name */
    int profile_explicit; /* named by --profile or AWS_PROFILE: it must exist */
    int profile_from_flag;
    char *region; /* for STS / SSO calls: flag > env > profile region; may be NULL */
    const char *role_chain[MAX_ROLE_CHAIN]; /* profiles of the assume-role chain so far */
};

struct credentials_source {
    char *profile; /* options->profile, copied */
    char *region;  /* options->region, copied */
    const struct credentials_transport *transport;
    time_t (*now)(void);
    int disable_imds;
};

static time_t loader_now(const struct credentials_options *options)
{
    return options && options->now ? options->now() : time(NULL);
}

static char *home_path(const char *relative)
{
    const char *home = env("HOME");
    return home ? fs_join(home, relative) : NULL;
}

static int shared_files_load(struct shared_files *files, struct diagnostics *d)
{
    memset(files, 0, sizeof(*files));
    char *config_path =
        env("AWS_CONFIG_FILE") ? copy_string(env("AWS_CONFIG_FILE")) : home_path(".aws/config");
    char *credentials_path = env("AWS_SHARED_CREDENTIALS_FILE")
                                 ? copy_string(env("AWS_SHARED_CREDENTIALS_FILE"))
                                 : home_path(".aws/credentials");
    int error = ini_load(&files->config, config_path, d);
    if (error == 0)
        error = ini_load(&files->credentials, credentials_path, d);
    free(config_path);
    free(credentials_path);
    return error;
}

static void shared_files_free(struct shared_files *files)
{
    ini_free(&files->config);
    ini_free(&files->credentials);
}

/* The config file names profiles "[profile NAME]", except "default" (which may be either). */
static const char *config_get(const struct loader *l, const char *profile, const char *key)
{
    char section[512];
    snprintf(section, sizeof(section), "profile %s", profile);
    const char *value = ini_get(&l->files.config, section, key);
    if (!value && !strcmp(profile, "default"))
        value = ini_get(&l->files.config, "default", key);
    return value;
}

/* A profile setting: the credentials file wins over the config file, as in botocore. */
static const char *profile_get(const struct loader *l, const char *profile, const char *key)
{
    const char *value = ini_get(&l->files.credentials, profile, key);
    return value ? value : config_get(l, profile, key);
}

static int profile_exists(const struct loader *l, const char *profile)
{
    char section[512];
    snprintf(section, sizeof(section), "profile %s", profile);
    return ini_has_section(&l->files.credentials, profile) ||
           ini_has_section(&l->files.config, section) ||
           (!strcmp(profile, "default") && ini_has_section(&l->files.config, "default"));
}

/* ---- Results ---- */

/* Fills the secret fields of out from copies of the arguments and a description. */
static int set_credentials(struct credentials *out, const char *access_key_id,
                           const char *secret_access_key, const char *session_token,
                           time_t expiration, struct diagnostics *d, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int set_credentials(struct credentials *out, const char *access_key_id,
                           const char *secret_access_key, const char *session_token,
                           time_t expiration, struct diagnostics *d, const char *fmt, ...)
{
    struct buf description;
    buf_init(&description, 4096);
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(&description, fmt, ap);
    va_end(ap);
    out->access_key_id = copy_string(access_key_id);
    out->secret_access_key = copy_string(secret_access_key);
    out->session_token = is_blank(session_token) ? NULL : copy_string(session_token);
    out->expiration = expiration;
    out->description = rc < 0 ? NULL : buf_detach(&description);
    buf_free(&description);
    if (!out->access_key_id || !out->secret_access_key || !out->description ||
        (!is_blank(session_token) && !out->session_token))
        return diag_error(d, DDB_ERUNTIME, "out of memory storing credentials");
    return 0;
}

static void clear_credentials(struct credentials *c)
{
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    free(c->description);
    c->access_key_id = c->secret_access_key = c->session_token = c->description = NULL;
    c->expiration = 0;
}

/* ---- Transport helpers ---- */

static int transport_send(const struct loader *l, const struct credentials_http_request *request,
                          long *status, struct buf *body, const char *what, struct diagnostics *d)
{
    const struct credentials_transport *transport = l->options->transport;
    if (!transport || !transport->send)
        return diag_error(d, DDB_EUSAGE, "%s needs network access, which is not available here",
                          what);
    *status = 0;
    int error = transport->send(transport->ctx, request, status, body, d);
    if (error < 0)
        return diag_error(d, error, "%s: no response", what);
    return 0;
}

/* "host" or "host:port" for the Host header of an endpoint. */
static int host_header(struct buf *out, const struct endpoint *e)
{
    int ipv6 = strchr(e->host, ':') != NULL;
    int default_port = !strcmp(e->scheme, "https") ? 443 : 80;
    if (buf_printf(out, "%s%s%s", ipv6 ? "[" : "", e->host, ipv6 ? "]" : "") < 0)
        return -1;
    if (e->port != default_port && buf_printf(out, ":%d", e->port) < 0)
        return -1;
    return 0;
}

static int form_append(struct buf *out, const char *name, const char *value)
{
    if ((out->len && buf_putc(out, '&') < 0) || buf_puts(out, name) < 0 || buf_putc(out, '=') < 0)
        return -1;
    return sigv4_uri_encode(out, value, strlen(value), 0);
}

/* Depth-first search for the first element with this local name. */
static xmlNode *find_element(xmlNode *node, const char *name)
{
    for (; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && !strcmp((const char *)node->name, name))
            return node;
        xmlNode *found = find_element(node->children, name);
        if (found)
            return found;
    }
    return NULL;
}

/* The text of child `name` of parent, as a fresh string (NULL when absent). */
static char *child_text(xmlNode *parent, const char *name)
{
    xmlNode *child = parent ? find_element(parent->children, name) : NULL;
    if (!child)
        return NULL;
    xmlChar *content = xmlNodeGetContent(child);
    char *out = content ? copy_string((const char *)content) : NULL;
    if (content) {
        OPENSSL_cleanse(content, strlen((const char *)content));
        xmlFree(content);
    }
    return out;
}

/* Overwrites every text node, so the secret does not outlive the parse in libxml2's heap. */
static void wipe_xml(xmlNode *node)
{
    for (; node; node = node->next) {
        if (node->content)
            OPENSSL_cleanse(node->content, strlen((const char *)node->content));
        wipe_xml(node->children);
    }
}

/* Calls an STS action and fills out from <Credentials>. `signer` NULL sends it unsigned
 * (AssumeRoleWithWebIdentity). https://docs.aws.amazon.com/STS/latest/APIReference/ */
static int sts_call(struct credentials *out, const struct loader *l, const char *form,
                    const struct credentials *signer, const char *action, const char *role_arn,
                    const char *description, struct diagnostics *d)
{
    struct endpoint endpoint = {0};
    struct buf url, host, body;
    buf_init(&url, 4096);
    buf_init(&host, 1024);
    buf_init(&body, RESPONSE_MAX);
    struct sigv4_signed signature = {0};
    xmlDoc *doc = NULL;
    char *key = NULL, *secret = NULL, *token = NULL, *expiration_text = NULL;
    int error;
    const char *region = l->region ? l->region : "us-east-1";

    if ((error = endpoints_resolve(&endpoint, "sts", region, NULL, d)) < 0)
        goto done;
    if (buf_printf(&url, "%s/", endpoint.url) < 0 || host_header(&host, &endpoint) < 0)
        goto oom;

    struct sigv4_header headers[8] = {
        {"Host", host.data},
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
    };
    size_t header_count = 2;
    if (signer) {
        struct sigv4_request request = {
            .method = "POST",
            .path = endpoint.base_path[0] ? endpoint.base_path : "/",
            .headers = headers,
            .header_count = header_count,
            .body = form,
            .body_len = strlen(form),
        };
        struct sigv4_params params = {
            .region = endpoint.signing_region,
            .service = endpoint.signing_name,
            .time = l->now,
            .access_key_id = signer->access_key_id,
            .secret_access_key = signer->secret_access_key,
            .session_token = signer->session_token,
        };
        if ((error = sigv4_sign(&signature, &request, &params, d)) < 0)
            goto done;
        for (size_t i = 0; i < signature.header_count; i++)
            headers[header_count++] = signature.headers[i];
    }
    struct credentials_http_request request = {
        .method = "POST",
        .url = url.data,
        .headers = headers,
        .header_count = header_count,
        .body = form,
        .body_len = strlen(form),
        .timeout_ms = SERVICE_TIMEOUT_MS,
    };
    long status = 0;
    char what[256];
    snprintf(what, sizeof(what), "sts:%s for %s", action, role_arn);
    if ((error = transport_send(l, &request, &status, &body, what, d)) < 0)
        goto done;

    doc = body.len ? xmlReadMemory(body.data, (int)body.len, "sts.xml", NULL,
                                   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                   : NULL;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (status != 200) {
        xmlNode *error_node = root ? find_element(root, "Error") : NULL;
        char *code = child_text(error_node, "Code");
        char *message = child_text(error_node, "Message");
        error = diag_error(d, DDB_ERUNTIME, "%s failed: HTTP %ld%s%s%s%s", what, status,
                           code ? " " : "", code ? code : "", message ? ": " : "",
                           message ? message : "");
        free(code);
        free(message);
        goto done;
    }
    xmlNode *credentials = root ? find_element(root, "Credentials") : NULL;
    key = child_text(credentials, "AccessKeyId");
    secret = child_text(credentials, "SecretAccessKey");
    token = child_text(credentials, "SessionToken");
    expiration_text = child_text(credentials, "Expiration");
    time_t expiration = 0;
    if (!key || !secret || !token || !expiration_text ||
        credentials_parse_time(&expiration, expiration_text) < 0) {
        error =
            diag_error(d, DDB_EINPUT, "%s: the answer has no complete Credentials element", what);
        goto done;
    }
    error = set_credentials(out, key, secret, token, expiration, d, "%s", description);
    goto done;
oom:
    error = diag_error(d, DDB_ERUNTIME, "out of memory calling STS");
done:
    if (doc) {
        wipe_xml(xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
    }
    wipe_free(key);
    wipe_free(secret);
    wipe_free(token);
    free(expiration_text);
    sigv4_signed_free(&signature);
    endpoint_free(&endpoint);
    buf_free(&url);
    buf_free(&host);
    wipe_buf(&body);
    return error;
}

/* Reads a JSON object of credentials (container, IMDS, credential_process share the shape;
 * only the field names differ). Returns 0 or DDB_EINPUT naming `what`, never the content. */
static int credentials_from_json(struct credentials *out, json_t *root, const char *key_field,
                                 const char *secret_field, const char *token_field,
                                 const char *expiration_field, int token_required, const char *what,
                                 const char *description, struct diagnostics *d)
{
    const char *key = json_string_value(json_object_get(root, key_field));
    const char *secret = json_string_value(json_object_get(root, secret_field));
    const char *token = json_string_value(json_object_get(root, token_field));
    json_t *expiration_value = json_object_get(root, expiration_field);
    time_t expiration = 0;
    if (is_blank(key) || is_blank(secret) || (token_required && is_blank(token)))
        return diag_error(d, DDB_EINPUT, "%s: the answer lacks %s, %s%s%s", what, key_field,
                          secret_field, token_required ? " or " : "",
                          token_required ? token_field : "");
    if (json_is_string(expiration_value)) {
        if (credentials_parse_time(&expiration, json_string_value(expiration_value)) < 0)
            return diag_error(d, DDB_EINPUT, "%s: %s is not an ISO 8601 time", what,
                              expiration_field);
    } else if (json_is_integer(expiration_value)) {
        /* IAM Identity Center answers in milliseconds since the epoch. */
        expiration = (time_t)(json_integer_value(expiration_value) / 1000);
    } else if (expiration_value && !json_is_null(expiration_value)) {
        return diag_error(d, DDB_EINPUT, "%s: %s is neither a time nor a number", what,
                          expiration_field);
    }
    return set_credentials(out, key, secret, token, expiration, d, "%s", description);
}

static int parse_json_body(json_t **out, const struct buf *body, const char *what,
                           struct diagnostics *d)
{
    json_error_t json_error;
    *out = body->len ? json_loadb(body->data, body->len, 0, &json_error) : NULL;
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return diag_error(d, DDB_EINPUT, "%s: the answer is not a JSON object", what);
    }
    return 0;
}

/* ---- Sources ---- */

static int load_profile(struct credentials *out, struct loader *l, const char *profile, int depth,
                        struct diagnostics *d);

static int from_environment(struct credentials *out, int *found, struct diagnostics *d)
{
    const char *key = env("AWS_ACCESS_KEY_ID");
    const char *secret = env("AWS_SECRET_ACCESS_KEY");
    *found = 0;
    if (!key && !secret)
        return 0;
    if (!key || !secret)
        return diag_error(d, DDB_EUSAGE,
                          "partial credentials in the environment: %s is set but %s is not",
                          key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                          key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    *found = 1;
    return set_credentials(out, key, secret, env("AWS_SESSION_TOKEN"), 0, d,
                           "environment variables (AWS_ACCESS_KEY_ID)");
}

static int web_identity(struct credentials *out, const struct loader *l, const char *token_file,
                        const char *role_arn, const char *session_name, const char *origin,
                        struct diagnostics *d)
{
    char *token = NULL;
    size_t token_len = 0;
    struct buf form, description;
    buf_init(&form, RESPONSE_MAX);
    buf_init(&description, 4096);
    int error = fs_read_file(&token, &token_len, token_file, TOKEN_FILE_MAX, d);
    if (error < 0) {
        diag_error(d, error, "cannot read the web identity token file of %s", origin);
        goto done;
    }
    while (token_len && (token[token_len - 1] == '\n' || token[token_len - 1] == '\r'))
        token[--token_len] = '\0';
    char default_session[64];
    snprintf(default_session, sizeof(default_session), "ddbaudit-%lld", (long long)l->now);
    if (form_append(&form, "Action", "AssumeRoleWithWebIdentity") < 0 ||
        form_append(&form, "Version", "2011-06-15") < 0 ||
        form_append(&form, "RoleArn", role_arn) < 0 ||
        form_append(&form, "RoleSessionName", session_name ? session_name : default_session) < 0 ||
        form_append(&form, "WebIdentityToken", token) < 0 ||
        buf_printf(&description, "web identity role %s (%s)", role_arn, origin) < 0) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    error = sts_call(out, l, form.data, NULL, "AssumeRoleWithWebIdentity", role_arn,
                     description.data, d);
done:
    if (token) {
        OPENSSL_cleanse(token, token_len);
        free(token);
    }
    wipe_buf(&form);
    buf_free(&description);
    return error;
}

/* Splits a credential_process command line the way botocore does (shlex, POSIX mode): blanks
 * separate words, '...' is literal, "..." allows \" \\ \$ \` escapes, a backslash outside quotes
 * escapes the next character. No expansion of any kind; the program runs without a shell. */
static int split_command(char ***out, size_t *count, const char *command)
{
    size_t capacity = 8, n = 0;
    char **words = calloc(capacity, sizeof(*words));
    struct buf word;
    buf_init(&word, 64 << 10);
    const char *p = command;
    if (!words)
        return -1;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        buf_reset(&word);
        int started = 0;
        while (*p && !(*p == ' ' || *p == '\t' || *p == '\n')) {
            started = 1;
            if (*p == '\'') {
                const char *close = strchr(p + 1, '\'');
                if (!close)
                    goto fail;
                if (buf_append(&word, p + 1, (size_t)(close - p - 1)) < 0)
                    goto fail;
                p = close + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1]))
                        p++;
                    if (buf_putc(&word, *p++) < 0)
                        goto fail;
                }
                if (*p != '"')
                    goto fail;
                p++;
            } else if (*p == '\\') {
                if (!p[1])
                    goto fail;
                if (buf_putc(&word, p[1]) < 0)
                    goto fail;
                p += 2;
            } else if (buf_putc(&word, *p++) < 0) {
                goto fail;
            }
        }
        if (!started)
            continue;
        if (n + 2 > capacity) {
            capacity *= 2;
            char **grown = realloc(words, capacity * sizeof(*grown));
            if (!grown)
                goto fail;
            words = grown;
        }
        words[n] = copy_string(buf_cstr(&word));
        if (!words[n])
            goto fail;
        words[++n] = NULL;
    }
    buf_free(&word);
    if (n == 0) {
        free(words);
        return -1;
    }
    *out = words;
    *count = n;
    return 0;
fail:
    buf_free(&word);
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
    return -1;
}

/* Runs argv (PATH search, no shell), stdin from /dev/null, stderr inherited so the tool can
 * prompt, and collects stdout up to PROCESS_OUTPUT_MAX within PROCESS_TIMEOUT_MS. */
static int run_process(struct buf *output, int *exit_status, char **argv, const char *what,
                       struct diagnostics *d)
{
    int pipe_fds[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    int actions_ready = 0, error = 0;
    pid_t pid = -1;
    /* Close-on-exec, so no other process we spawn later inherits a copy of this pipe (the
     * child gets the write end as its stdout through dup2, which clears the flag). */
    if (pipe(pipe_fds) < 0 || fcntl(pipe_fds[0], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(pipe_fds[1], F_SETFD, FD_CLOEXEC) < 0) {
        error = diag_error(d, DDB_ERUNTIME, "%s: cannot create a pipe: %s", what, strerror(errno));
        goto done;
    }
    if (posix_spawn_file_actions_init(&actions) != 0)
        goto spawn_failed;
    actions_ready = 1;
    if (posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO) != 0)
        goto spawn_failed;
    int spawn_error = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    if (spawn_error != 0) {
        pid = -1;
        error = diag_error(d, DDB_ERUNTIME, "%s: cannot run '%s': %s", what, argv[0],
                           strerror(spawn_error));
        goto done;
    }
    close(pipe_fds[1]);
    pipe_fds[1] = -1;

    int waited_ms = 0;
    for (;;) {
        struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
        int ready = poll(&pfd, 1, 100);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0) {
            waited_ms += 100;
            if (waited_ms >= PROCESS_TIMEOUT_MS) {
                kill(pid, SIGKILL);
                error = diag_error(d, DDB_ERUNTIME, "%s: '%s' did not finish within %d s", what,
                                   argv[0], PROCESS_TIMEOUT_MS / 1000);
                break;
            }
            continue;
        }
        char chunk[4096];
        ssize_t got = read(pipe_fds[0], chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        int appended = buf_append(output, chunk, (size_t)got);
        OPENSSL_cleanse(chunk, sizeof(chunk));
        if (appended < 0) {
            kill(pid, SIGKILL);
            error = diag_error(d, DDB_EINPUT, "%s: '%s' wrote more than %zu bytes", what, argv[0],
                               PROCESS_OUTPUT_MAX);
            break;
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    pid = -1;
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    goto done;
spawn_failed:
    error = diag_error(d, DDB_ERUNTIME, "%s: cannot prepare to run '%s'", what, argv[0]);
done:
    if (actions_ready)
        posix_spawn_file_actions_destroy(&actions);
    if (pipe_fds[0] >= 0)
        close(pipe_fds[0]);
    if (pipe_fds[1] >= 0)
        close(pipe_fds[1]);
    return error;
}

/* credential_process:
 * https://docs.aws.amazon.com/cli/v1/userguide/cli-configure-sourcing-external.html */
static int from_process(struct credentials *out, const char *profile, const char *command,
                        struct diagnostics *d)
{
    char **argv = NULL;
    size_t argc = 0;
    struct buf output;
    buf_init(&output, PROCESS_OUTPUT_MAX);
    json_t *root = NULL;
    char what[300], description[300];
    snprintf(what, sizeof(what), "credential_process of profile '%s'", profile);
    snprintf(description, sizeof(description), "credential_process of profile '%s'", profile);
    int error = 0, exit_status = 0;
    if (split_command(&argv, &argc, command) < 0) {
        error = diag_error(d, DDB_EINPUT,
                           "%s: cannot split the command line (unbalanced quote or empty)", what);
        goto done;
    }
    if ((error = run_process(&output, &exit_status, argv, what, d)) < 0)
        goto done;
    if (exit_status != 0) {
        /* The output may hold a partial secret: report only the status. */
        error = diag_error(d, DDB_ERUNTIME, "%s: '%s' exited with status %d", what, argv[0],
                           exit_status);
        goto done;
    }
    if ((error = parse_json_body(&root, &output, what, d)) < 0)
        goto done;
    json_t *version = json_object_get(root, "Version");
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        error = diag_error(d, DDB_EINPUT, "%s: unsupported Version (expected 1)", what);
        goto done;
    }
    error = credentials_from_json(out, root, "AccessKeyId", "SecretAccessKey", "SessionToken",
                                  "Expiration", 0, what, description, d);
done:
    json_decref(root);
    for (size_t i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    wipe_buf(&output);
    return error;
}

/* IAM Identity Center: the token `aws sso login` cached, then GetRoleCredentials.
 * https://docs.aws.amazon.com/singlesignon/latest/PortalAPIReference/API_GetRoleCredentials.html */
static int from_sso(struct credentials *out, const struct loader *l, const char *profile,
                    struct diagnostics *d)
{
    const char *session = profile_get(l, profile, "sso_session");
    const char *start_url = profile_get(l, profile, "sso_start_url");
    const char *sso_region = profile_get(l, profile, "sso_region");
    const char *account = profile_get(l, profile, "sso_account_id");
    const char *role = profile_get(l, profile, "sso_role_name");
    char what[300];
    snprintf(what, sizeof(what), "IAM Identity Center profile '%s'", profile);
    if (session) {
        char section[512];
        snprintf(section, sizeof(section), "sso-session %s", session);
        if (!ini_has_section(&l->files.config, section))
            return diag_error(d, DDB_EUSAGE, "%s: [sso-session %s] is not in the config file", what,
                              session);
        start_url = ini_get(&l->files.config, section, "sso_start_url");
        sso_region = ini_get(&l->files.config, section, "sso_region");
    }
    if (!start_url || !sso_region || !account || !role)
        return diag_error(d, DDB_EUSAGE,
                          "%s: needs sso_start_url, sso_region, sso_account_id and "
                          "sso_role_name",
                          what);

    /* The cache file is named by the SHA-1 of the session name, or of the start URL for
     * legacy profiles (botocore's SSOTokenLoader). */
    const char *cache_key = session ? session : start_url;
    unsigned char sha1[20];
    unsigned int sha1_len = 0;
    char sha1_hex[41], name[64];
    EVP_Digest(cache_key, strlen(cache_key), sha1, &sha1_len, EVP_sha1(), NULL);
    digest_to_hex(sha1, sizeof(sha1), sha1_hex);
    snprintf(name, sizeof(name), ".aws/sso/cache/%s.json", sha1_hex);

    char *cache_path = home_path(name), *cache_text = NULL, *access_token = NULL;
    size_t cache_len = 0;
    json_t *cache = NULL, *answer = NULL;
    struct endpoint endpoint = {0};
    struct buf url, body, description;
    buf_init(&url, 8192);
    buf_init(&body, RESPONSE_MAX);
    buf_init(&description, 4096);
    int error;
    if (!cache_path || !fs_exists(cache_path)) {
        error = diag_error(d, DDB_EUSAGE,
                           "%s: not logged in (no cached token); run "
                           "`aws sso login --profile %s`",
                           what, profile);
        goto done;
    }
    if ((error = fs_read_file(&cache_text, &cache_len, cache_path, TOKEN_FILE_MAX, d)) < 0)
        goto done;
    json_error_t json_error;
    cache = json_loadb(cache_text, cache_len, 0, &json_error);
    const char *token = json_string_value(json_object_get(cache, "accessToken"));
    const char *expires = json_string_value(json_object_get(cache, "expiresAt"));
    time_t expires_at = 0;
    if (!token || !expires || credentials_parse_time(&expires_at, expires) < 0) {
        error = diag_error_at(d, DDB_EINPUT, cache_path, 0, 0, 0,
                              "cached IAM Identity Center token lacks accessToken or expiresAt");
        goto done;
    }
    if (expires_at <= l->now) {
        error = diag_error(d, DDB_EUSAGE,
                           "%s: the cached token has expired; run `aws sso login --profile %s`",
                           what, profile);
        goto done;
    }
    access_token = copy_string(token);

    if ((error = endpoints_resolve(&endpoint, "sso", sso_region, NULL, d)) < 0)
        goto done;
    if (buf_printf(&url, "%s/federation/credentials?account_id=", endpoint.url) < 0 ||
        sigv4_uri_encode(&url, account, strlen(account), 0) < 0 ||
        buf_puts(&url, "&role_name=") < 0 || sigv4_uri_encode(&url, role, strlen(role), 0) < 0 ||
        buf_printf(&description, "IAM Identity Center role %s in account %s via profile '%s'", role,
                   account, profile) < 0 ||
        !access_token) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    struct sigv4_header headers[] = {{"x-amz-sso_bearer_token", access_token}};
    struct credentials_http_request request = {
        .method = "GET",
        .url = url.data,
        .headers = headers,
        .header_count = 1,
        .timeout_ms = SERVICE_TIMEOUT_MS,
    };
    long status = 0;
    if ((error = transport_send(l, &request, &status, &body, what, d)) < 0)
        goto done;
    if (status != 200) {
        error = diag_error(
            d, DDB_ERUNTIME, "%s: GetRoleCredentials failed with HTTP %ld%s", what, status,
            status == 401 || status == 403 ? " (run `aws sso login` again, or check the role name)"
                                           : "");
        goto done;
    }
    if ((error = parse_json_body(&answer, &body, what, d)) < 0)
        goto done;
    error = credentials_from_json(out, json_object_get(answer, "roleCredentials"), "accessKeyId",
                                  "secretAccessKey", "sessionToken", "expiration", 1, what,
                                  description.data, d);
done:
    json_decref(cache);
    json_decref(answer);
    if (cache_text) {
        OPENSSL_cleanse(cache_text, cache_len);
        free(cache_text);
    }
    wipe_free(access_token);
    free(cache_path);
    endpoint_free(&endpoint);
    buf_free(&url);
    wipe_buf(&body);
    buf_free(&description);
    return error;
}

/* ECS/EKS container credentials: a full URI must be https, loopback, or one of the container
 * agents' link-local addresses.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html */
static int container_host_allowed(const char *url)
{
    CURLU *handle = curl_url();
    char *scheme = NULL, *host = NULL;
    int allowed = 0;
    if (handle && curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(handle, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        allowed = !strcasecmp(scheme, "https") ||
                  (!strcasecmp(scheme, "http") &&
                   (endpoints_host_is_loopback(host) || !strcmp(host, "169.254.170.2") ||
                    !strcmp(host, "169.254.170.23") || !strcasecmp(host, "[fd00:ec2::23]")));
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(handle);
    return allowed;
}

static int from_container(struct credentials *out, const struct loader *l, int *found,
                          struct diagnostics *d)
{
    const char *relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token_value = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    struct buf url, body;
    buf_init(&url, 8192);
    buf_init(&body, RESPONSE_MAX);
    char *token = NULL;
    size_t token_len = 0;
    json_t *root = NULL;
    int error = 0;
    *found = relative || full;
    if (!*found)
        goto done;
    if (relative ? buf_printf(&url, "http://169.254.170.2%s%s", relative[0] == '/' ? "" : "/",
                              relative) < 0
                 : buf_puts(&url, full) < 0) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    if (!relative && !container_host_allowed(full)) {
        error = diag_error(d, DDB_EUSAGE,
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to "
                           "loopback or the container agent (169.254.170.2, 169.254.170.23)");
        goto done;
    }
    if (token_file) {
        if ((error = fs_read_file(&token, &token_len, token_file, TOKEN_FILE_MAX, d)) < 0) {
            diag_error(d, error, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
            goto done;
        }
        while (token_len && (token[token_len - 1] == '\n' || token[token_len - 1] == '\r'))
            token[--token_len] = '\0';
    } else if (token_value) {
        token = copy_string(token_value);
        token_len = token ? strlen(token) : 0;
    }
    if (token && (strchr(token, '\n') || strchr(token, '\r'))) {
        error = diag_error(d, DDB_EINPUT,
                           "the container authorization token contains a line "
                           "break");
        goto done;
    }
    struct sigv4_header headers[] = {{"Authorization", token}};
    struct credentials_http_request request = {
        .method = "GET",
        .url = url.data,
        .headers = headers,
        .header_count = token ? 1 : 0,
        .timeout_ms = METADATA_TIMEOUT_MS,
    };
    long status = 0;
    if ((error = transport_send(l, &request, &status, &body, "container credentials", d)) < 0)
        goto done;
    if (status != 200) {
        error = diag_error(d, DDB_ERUNTIME, "container credentials: HTTP %ld from %s", status,
                           relative ? "169.254.170.2" : "AWS_CONTAINER_CREDENTIALS_FULL_URI");
        goto done;
    }
    if ((error = parse_json_body(&root, &body, "container credentials", d)) < 0)
        goto done;
    error = credentials_from_json(out, root, "AccessKeyId", "SecretAccessKey", "Token",
                                  "Expiration", 0, "container credentials",
                                  relative ? "container credentials "
                                             "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)"
                                           : "container credentials "
                                             "(AWS_CONTAINER_CREDENTIALS_FULL_URI)",
                                  d);
done:
    if (token) {
        OPENSSL_cleanse(token, token_len);
        free(token);
    }
    json_decref(root);
    buf_free(&url);
    wipe_buf(&body);
    return error;
}

/* EC2 instance metadata, IMDSv2 only (a session token first).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html
 */
static int from_imds(struct credentials *out, const struct loader *l, int *found,
                     struct diagnostics *d)
{
    const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!base)
        base = "http://169.254.169.254";
    size_t base_len = strlen(base);
    while (base_len && base[base_len - 1] == '/')
        base_len--;
    struct buf url, token, role, body, description;
    buf_init(&url, 8192);
    buf_init(&token, 4096);
    buf_init(&role, 1024);
    buf_init(&body, RESPONSE_MAX);
    buf_init(&description, 1024);
    json_t *root = NULL;
    long status = 0;
    int error = 0;
    *found = 0;

    struct sigv4_header ttl[] = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    struct credentials_http_request request = {
        .method = "PUT",
        .headers = ttl,
        .header_count = 1,
        .timeout_ms = METADATA_TIMEOUT_MS,
    };
    if (buf_printf(&url, "%.*s/latest/api/token", (int)base_len, base) < 0)
        goto oom;
    request.url = url.data;
    struct diagnostics quiet;
    diag_init(&quiet);
    error = transport_send(l, &request, &status, &token, "EC2 instance metadata", &quiet);
    diag_free(&quiet);
    if (error < 0 || status != 200 || token.len == 0) {
        /* Not on EC2 (or IMDS off): this source simply has nothing. */
        error = 0;
        goto done;
    }
    *found = 1;

    struct sigv4_header with_token[] = {{"X-aws-ec2-metadata-token", token.data}};
    request.method = "GET";
    request.headers = with_token;
    buf_reset(&url);
    if (buf_printf(&url, "%.*s/latest/meta-data/iam/security-credentials/", (int)base_len, base) <
        0)
        goto oom;
    request.url = url.data;
    if ((error = transport_send(l, &request, &status, &role, "EC2 instance metadata", d)) < 0)
        goto done;
    if (status != 200 || role.len == 0) {
        error = diag_error(d, DDB_EUSAGE,
                           "EC2 instance metadata: no IAM role is attached to "
                           "this instance (HTTP %ld)",
                           status);
        goto done;
    }
    char *newline = strchr(role.data, '\n');
    if (newline)
        *newline = '\0';
    for (const char *p = role.data; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("+=,.@_-", *p))) {
            error = diag_error(d, DDB_EINPUT, "EC2 instance metadata: malformed role name");
            goto done;
        }
    buf_reset(&url);
    if (buf_printf(&url, "%.*s/latest/meta-data/iam/security-credentials/%s", (int)base_len, base,
                   role.data) < 0 ||
        buf_printf(&description, "EC2 instance role '%s' (IMDSv2)", role.data) < 0)
        goto oom;
    request.url = url.data;
    if ((error = transport_send(l, &request, &status, &body, "EC2 instance metadata", d)) < 0)
        goto done;
    if (status != 200) {
        error = diag_error(d, DDB_ERUNTIME,
                           "EC2 instance metadata: HTTP %ld for the role's "
                           "credentials",
                           status);
        goto done;
    }
    if ((error = parse_json_body(&root, &body, "EC2 instance metadata", d)) < 0)
        goto done;
    const char *code = json_string_value(json_object_get(root, "Code"));
    if (code && strcmp(code, "Success") != 0) {
        error = diag_error(d, DDB_ERUNTIME,
                           "EC2 instance metadata: credentials not available "
                           "(Code %s)",
                           code);
        goto done;
    }
    error = credentials_from_json(out, root, "AccessKeyId", "SecretAccessKey", "Token",
                                  "Expiration", 0, "EC2 instance metadata", description.data, d);
    goto done;
oom:
    error = diag_error(d, DDB_ERUNTIME, "out of memory");
done:
    json_decref(root);
    buf_free(&url);
    wipe_buf(&token);
    buf_free(&role);
    wipe_buf(&body);
    buf_free(&description);
    return error;
}

/* role_arn + source_profile | credential_source.
 * https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-role.html */
static int assume_role(struct credentials *out, struct loader *l, const char *profile, int depth,
                       struct diagnostics *d)
{
    const char *role_arn = profile_get(l, profile, "role_arn");
    const char *source_profile = profile_get(l, profile, "source_profile");
    const char *credential_source = profile_get(l, profile, "credential_source");
    const char *external_id = profile_get(l, profile, "external_id");
    const char *session_name = profile_get(l, profile, "role_session_name");
    const char *duration = profile_get(l, profile, "duration_seconds");
    struct credentials source = {0};
    struct buf form, description;
    buf_init(&form, 16384);
    buf_init(&description, 4096);
    int error = 0, found = 0;

    if (profile_get(l, profile, "mfa_serial")) {
        error = diag_error(d, DDB_EUSAGE,
                           "profile '%s' requires MFA (mfa_serial), which a non-interactive "
                           "audit cannot answer; use a profile without it",
                           profile);
        goto done;
    }
    if (!!source_profile == !!credential_source) {
        error = diag_error(d, DDB_EUSAGE,
                           "profile '%s' has role_arn and must have exactly one of "
                           "source_profile or credential_source",
                           profile);
        goto done;
    }
    char *end = NULL;
    long duration_seconds = duration ? strtol(duration, &end, 10) : 0;
    if (duration && (*end || duration_seconds < 900 || duration_seconds > 43200)) {
        error = diag_error(d, DDB_EUSAGE,
                           "profile '%s': duration_seconds must be 900..43200 seconds", profile);
        goto done;
    }
    if (source_profile) {
        if (depth >= MAX_ROLE_CHAIN) {
            error = diag_error(d, DDB_EUSAGE,
                               "profile '%s': source_profile chain longer than %d profiles",
                               profile, MAX_ROLE_CHAIN);
            goto done;
        }
        l->role_chain[depth] = profile;
        for (int i = 0; i <= depth; i++) {
            if (strcmp(l->role_chain[i], source_profile) != 0 || !strcmp(source_profile, profile))
                continue;
            struct buf path;
            buf_init(&path, 4096);
            for (int j = i; j <= depth; j++)
                buf_printf(&path, "'%s' -> ", l->role_chain[j]);
            buf_printf(&path, "'%s'", source_profile);
            error = diag_error(d, DDB_EUSAGE, "source_profile loop: %s", buf_cstr(&path));
            buf_free(&path);
            goto done;
        }
        if (!profile_exists(l, source_profile)) {
            error = diag_error(d, DDB_EUSAGE, "profile '%s': source_profile '%s' not found",
                               profile, source_profile);
            goto done;
        }
        if (!strcmp(source_profile, profile)) {
            /* A profile that names itself uses its own static keys (botocore). */
            const char *key = profile_get(l, profile, "aws_access_key_id");
            const char *secret = profile_get(l, profile, "aws_secret_access_key");
            if (!key || !secret) {
                error = diag_error(d, DDB_EUSAGE,
                                   "profile '%s' is its own source_profile but has no static "
                                   "keys",
                                   profile);
                goto done;
            }
            error =
                set_credentials(&source, key, secret, profile_get(l, profile, "aws_session_token"),
                                0, d, "profile '%s'", profile);
        } else {
            error = load_profile(&source, l, source_profile, depth + 1, d);
            if (error > 0)
                error = diag_error(d, DDB_EUSAGE,
                                   "profile '%s': source_profile '%s' has no credentials", profile,
                                   source_profile);
        }
    } else if (!strcmp(credential_source, "Environment")) {
        error = from_environment(&source, &found, d);
        if (error == 0 && !found)
            error = diag_error(d, DDB_EUSAGE,
                               "profile '%s': credential_source Environment, but "
                               "AWS_ACCESS_KEY_ID is not set",
                               profile);
    } else if (!strcmp(credential_source, "EcsContainer")) {
        error = from_container(&source, l, &found, d);
        if (error == 0 && !found)
            error = diag_error(d, DDB_EUSAGE,
                               "profile '%s': credential_source EcsContainer, but no container "
                               "credentials are configured",
                               profile);
    } else if (!strcmp(credential_source, "Ec2InstanceMetadata")) {
        error = from_imds(&source, l, &found, d);
        if (error == 0 && !found)
            error = diag_error(d, DDB_EUSAGE,
                               "profile '%s': credential_source Ec2InstanceMetadata, but the "
                               "instance metadata service did not answer",
                               profile);
    } else {
        error = diag_error(d, DDB_EUSAGE,
                           "profile '%s': unknown credential_source '%s' (expected "
                           "Environment, Ec2InstanceMetadata or EcsContainer)",
                           profile, credential_source);
    }
    if (error < 0)
        goto done;

    char default_session[64];
    snprintf(default_session, sizeof(default_session), "ddbaudit-%lld", (long long)l->now);
    if (form_append(&form, "Action", "AssumeRole") < 0 ||
        form_append(&form, "Version", "2011-06-15") < 0 ||
        form_append(&form, "RoleArn", role_arn) < 0 ||
        form_append(&form, "RoleSessionName", session_name ? session_name : default_session) < 0 ||
        (duration && form_append(&form, "DurationSeconds", duration) < 0) ||
        (external_id && form_append(&form, "ExternalId", external_id) < 0) ||
        buf_printf(&description, "assumed role %s via profile '%s'", role_arn, profile) < 0) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory");
        goto done;
    }
    error = sts_call(out, l, form.data, &source, "AssumeRole", role_arn, description.data, d);
done:
    clear_credentials(&source);
    buf_free(&form);
    buf_free(&description);
    return error;
}

/* The sources a profile can name, in botocore's order: assume role, web identity,
 * IAM Identity Center, shared credentials file keys, credential_process, config file keys.
 * Returns 0 with out filled, 1 when the profile names no credentials, or a negative error. */
static int load_profile(struct credentials *out, struct loader *l, const char *profile, int depth,
                        struct diagnostics *d)
{
    const char *role_arn = profile_get(l, profile, "role_arn");
    const char *token_file = profile_get(l, profile, "web_identity_token_file");
    if (role_arn && token_file) {
        char origin[300];
        snprintf(origin, sizeof(origin), "profile '%s'", profile);
        return web_identity(out, l, token_file, role_arn,
                            profile_get(l, profile, "role_session_name"), origin, d);
    }
    if (role_arn)
        return assume_role(out, l, profile, depth, d);
    if (profile_get(l, profile, "sso_session") || profile_get(l, profile, "sso_start_url") ||
        profile_get(l, profile, "sso_account_id"))
        return from_sso(out, l, profile, d);

    const char *key = ini_get(&l->files.credentials, profile, "aws_access_key_id");
    const char *secret = ini_get(&l->files.credentials, profile, "aws_secret_access_key");
    if (key || secret) {
        if (!key || !secret)
            return diag_error_at(d, DDB_EUSAGE, l->files.credentials.path, 0, 0, 0,
                                 "profile '%s' has only one of aws_access_key_id and "
                                 "aws_secret_access_key",
                                 profile);
        return set_credentials(out, key, secret,
                               ini_get(&l->files.credentials, profile, "aws_session_token"), 0, d,
                               "credentials from profile '%s' (shared credentials file)", profile);
    }
    const char *process = profile_get(l, profile, "credential_process");
    if (process)
        return from_process(out, profile, process, d);
    key = config_get(l, profile, "aws_access_key_id");
    secret = config_get(l, profile, "aws_secret_access_key");
    if (key || secret) {
        if (!key || !secret)
            return diag_error_at(d, DDB_EUSAGE, l->files.config.path, 0, 0, 0,
                                 "profile '%s' has only one of aws_access_key_id and "
                                 "aws_secret_access_key",
                                 profile);
        return set_credentials(out, key, secret, config_get(l, profile, "aws_session_token"), 0, d,
                               "credentials from profile '%s' (config file)", profile);
    }
    return 1; /* nothing in this profile */
}

static int loader_init(struct loader *l, const struct credentials_options *options,
                       struct diagnostics *d)
{
    memset(l, 0, sizeof(*l));
    l->options = options;
    l->now = loader_now(options);
    int error = shared_files_load(&l->files, d);
    if (error < 0)
        return error;
    const char *profile = options->profile;
    l->profile_from_flag = !is_blank(profile);
    if (is_blank(profile))
        profile = env("AWS_PROFILE");
    l->profile_explicit = !is_blank(profile);
    l->profile = copy_string(is_blank(profile) ? "default" : profile);
    if (!l->profile)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    if (l->profile_explicit && !profile_exists(l, l->profile))
        return diag_error(d, DDB_EUSAGE,
                          "profile '%s' not found in the shared config or credentials file",
                          l->profile);
    const char *region = !is_blank(options->region)  ? options->region
                         : env("AWS_REGION")         ? env("AWS_REGION")
                         : env("AWS_DEFAULT_REGION") ? env("AWS_DEFAULT_REGION")
                                                     : config_get(l, l->profile, "region");
    if (region && !(l->region = copy_string(region)))
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    return 0;
}

static void loader_free(struct loader *l)
{
    shared_files_free(&l->files);
    free(l->profile);
    free(l->region);
}

/* The chain; fills the secret fields and description of out. */
static int resolve_chain(struct credentials *out, const struct credentials_options *options,
                         struct diagnostics *d)
{
    struct loader l;
    int error = loader_init(&l, options, d), found = 0;
    if (error < 0)
        goto done;

    /* An explicit --profile outranks the environment's keys; AWS_PROFILE does not (botocore). */
    if (!l.profile_from_flag) {
        if ((error = from_environment(out, &found, d)) < 0 || found)
            goto done;
        const char *token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
        const char *role_arn = env("AWS_ROLE_ARN");
        if (token_file && role_arn) {
            error = web_identity(out, &l, token_file, role_arn, env("AWS_ROLE_SESSION_NAME"),
                                 "AWS_WEB_IDENTITY_TOKEN_FILE", d);
            goto done;
        }
    }
    if ((error = load_profile(out, &l, l.profile, 0, d)) <= 0)
        goto done;
    if (l.profile_explicit) {
        error = diag_error(d, DDB_EUSAGE,
                           "profile '%s' has no credentials (no keys, role_arn, sso settings "
                           "or credential_process)",
                           l.profile);
        goto done;
    }
    if ((error = from_container(out, &l, &found, d)) < 0 || found)
        goto done;
    if (!options->disable_imds && !env_true("AWS_EC2_METADATA_DISABLED") && options->transport) {
        if ((error = from_imds(out, &l, &found, d)) < 0 || found)
            goto done;
    }
    error = diag_error(d, DDB_EUSAGE,
                       "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY, pass --profile, or configure the default profile "
                       "(aws configure)");
done:
    loader_free(&l);
    if (error < 0)
        clear_credentials(out);
    return error;
}

/* ---- Public API ---- */

int credentials_load(struct credentials **out, const struct credentials_options *options,
                     struct diagnostics *d)
{
    static const struct credentials_options no_options = {0};
    if (!options)
        options = &no_options;
    *out = NULL;
    struct credentials *c = calloc(1, sizeof(*c));
    struct credentials_source *source = calloc(1, sizeof(*source));
    if (!c || !source) {
        free(c);
        free(source);
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    }
    c->source = source;
    source->transport = options->transport;
    source->now = options->now;
    source->disable_imds = options->disable_imds;
    if ((options->profile && !(source->profile = copy_string(options->profile))) ||
        (options->region && !(source->region = copy_string(options->region)))) {
        credentials_free(c);
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    }
    int error = resolve_chain(c, options, d);
    if (error < 0) {
        credentials_free(c);
        return error;
    }
    *out = c;
    return 0;
}

int credentials_refresh_if_needed(struct credentials *c, struct diagnostics *d)
{
    if (!c || !c->expiration || !c->source)
        return 0;
    struct credentials_options options = {
        .profile = c->source->profile,
        .region = c->source->region,
        .transport = c->source->transport,
        .now = c->source->now,
        .disable_imds = c->source->disable_imds,
    };
    if (c->expiration - loader_now(&options) > REFRESH_WINDOW_SECONDS)
        return 0;
    struct credentials fresh = {0};
    int error = resolve_chain(&fresh, &options, d);
    if (error < 0)
        return error;
    clear_credentials(c);
    c->access_key_id = fresh.access_key_id;
    c->secret_access_key = fresh.secret_access_key;
    c->session_token = fresh.session_token;
    c->expiration = fresh.expiration;
    c->description = fresh.description;
    return 0;
}

void credentials_free(struct credentials *c)
{
    if (!c)
        return;
    clear_credentials(c);
    if (c->source) {
        free(c->source->profile);
        free(c->source->region);
        free(c->source);
    }
    free(c);
}

int credentials_resolve_region(char **out, const struct credentials_options *options,
                               struct diagnostics *d)
{
    static const struct credentials_options no_options = {0};
    struct loader l;
    *out = NULL;
    int error = loader_init(&l, options ? options : &no_options, d);
    if (error == 0 && !l.region)
        error = diag_error(d, DDB_EUSAGE,
                           "no AWS region configured: pass --region, set AWS_REGION, or set "
                           "region in profile '%s'",
                           l.profile ? l.profile : "default");
    if (error == 0) {
        *out = l.region;
        l.region = NULL;
    }
    loader_free(&l);
    return error;
}
