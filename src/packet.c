/* The audit packet: renders every format into a temporary directory, lists each file's SHA-256
 * in packet.json and renames the directory into place; and verifies a packet later. Also the
 * ticket excerpt. It renders through render.h and never decides a status. */
#include "packet.h"
#include "activity_sources.h"
#include "buf.h"
#include "diag.h"
#include "digest.h"
#include "fsutil.h"
#include "render.h"
#include "report_schema.h"
#include "resources.h"
#include "sarif.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RENAME_EXCHANGE_FLAG                                                                       \
    2 /* linux/fs.h RENAME_EXCHANGE; glibc hides it without _GNU_SOURCE                            \
       */

static const char *string_or(const json_t *object, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(object, key));
    return s ? s : fallback;
}

static int oom(struct diagnostics *d)
{
    return diag_error(d, DDB_ERUNTIME, "out of memory");
}

int packet_report_bytes(char **out, size_t *len, const json_t *report, struct diagnostics *d)
{
    char *text = json_dumps(report, JSON_INDENT(2));
    if (!text)
        return oom(d);
    size_t n = strlen(text);
    char *bytes = realloc(text, n + 2);
    if (!bytes) {
        free(text);
        return oom(d);
    }
    bytes[n] = '\n';
    bytes[n + 1] = '\0';
    *out = bytes;
    *len = n + 1;
    return 0;
}

/* A snapshot name becomes a directory name: one safe path segment. */
static int safe_segment(const char *name)
{
    if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* ---- Writing ---- */

/* "output/sample/" names the same directory as "output/sample", and the temporary directory
 * must be its sibling, not its child. Returns its argument. */
static char *strip_trailing_slashes(char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    return path;
}

struct packet_files {
    json_t *list; /* [{path, sha256, size}] */
};

static int add_file(json_t *list, const char *dir, const char *name, const void *data, size_t len,
                    struct diagnostics *d)
{
    char hex[DIGEST_SHA256_HEX_LEN + 1];
    char *path = fs_join(dir, name);
    int error;
    if (!path)
        return oom(d);
    error = fs_write_atomic(path, data, len, d);
    free(path);
    if (error < 0)
        return error;
    digest_sha256_hex(data, len, hex);
    json_t *entry =
        json_pack("{s:s, s:s, s:I}", "path", name, "sha256", hex, "size", (json_int_t)len);
    if (!entry || json_array_append_new(list, entry) < 0)
        return oom(d);
    return 0;
}

/* Parses a --format list into the formats to render; "json" is accepted (report.json is always
 * written) and "sarif" sets *sarif (sarif.h writes it, not a template). Unknown or ticket
 * formats are usage errors. */
static int parse_formats(const struct render_format **chosen, size_t *count, int *sarif,
                         const char *formats, struct diagnostics *d)
{
    const char *p = formats ? formats : PACKET_DEFAULT_FORMATS;
    *count = 0;
    *sarif = 0;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[32];
        if (n == 0 || n >= sizeof(name))
            return diag_error(d, DDB_EUSAGE, "--format: empty or overlong name in '%s'", formats);
        memcpy(name, p, n);
        name[n] = '\0';
        if (!strcmp(name, "sarif")) {
            *sarif = 1;
        } else if (strcmp(name, "json") != 0) {
            const struct render_format *format = render_format_find(name);
            if (!format || !format->file_name)
                return diag_error(d, DDB_EUSAGE,
                                  "--format: unknown packet format '%s' (expected html, md, xml, "
                                  "json, confluence, sarif)",
                                  name);
            int seen = 0;
            for (size_t i = 0; i < *count; i++)
                seen |= chosen[i] == format;
            if (!seen)
                chosen[(*count)++] = format;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int by_path(const void *a, const void *b)
{
    const json_t *const *x = a, *const *y = b;
    return strcmp(json_string_value(json_object_get(*x, "path")),
                  json_string_value(json_object_get(*y, "path")));
}

static int write_index(const char *dir, json_t *files, json_t *report, const char *manifest_sha,
                       struct diagnostics *d)
{
    size_t n = json_array_size(files);
    json_t **sorted = calloc(n ? n : 1, sizeof(*sorted));
    json_t *listing = json_array(), *index = NULL;
    char *text = NULL;
    int error = 0;
    if (!sorted || !listing) {
        error = oom(d);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(files, i);
    qsort(sorted, n, sizeof(*sorted), by_path);
    for (size_t i = 0; i < n; i++)
        json_array_append(listing, sorted[i]);
    json_t *inputs = json_object_get(report, "inputs");
    index =
        json_pack("{s:s, s:i, s:O, s:s, s:s, s:O}", "format", PACKET_FORMAT, "format_version",
                  PACKET_FORMAT_VERSION, "tool",
                  json_object_get(report, "tool") ? json_object_get(report, "tool") : json_null(),
                  "snapshot", json_string_value(json_object_get(inputs, "snapshot")),
                  "evidence_manifest_sha256", manifest_sha, "files", listing);
    if (!index || !(text = json_dumps(index, JSON_INDENT(2)))) {
        error = oom(d);
        goto done;
    }
    struct buf bytes;
    buf_init(&bytes, BUF_DEFAULT_MAX);
    if (buf_puts(&bytes, text) < 0 || buf_putc(&bytes, '\n') < 0) {
        buf_free(&bytes);
        error = oom(d);
        goto done;
    }
    char *path = fs_join(dir, PACKET_INDEX);
    error = path ? fs_write_atomic(path, bytes.data, bytes.len, d) : oom(d);
    free(path);
    buf_free(&bytes);
done:
    free(text);
    free(sorted);
    json_decref(listing);
    json_decref(index);
    return error;
}

/* ---- Rendering the files, one format per thread ---- */

#define PACKET_MAX_THREADS 4

/* One file of the packet: a rendered format, or report.json when format is NULL. */
struct packet_job {
    const struct render_format *format;
    const char *name;
    int error;
    struct diagnostics d;
    char sha256[DIGEST_SHA256_HEX_LEN + 1];
    size_t size;
};

struct packet_work {
    const char *dir;
    const struct renderer *renderer;
    json_t *view, *report;
    struct packet_job *jobs;
    size_t count, next;
    pthread_mutex_t lock;
};

static int run_job(struct packet_work *work, struct packet_job *job)
{
    struct buf document;
    char *bytes = NULL, *path = NULL;
    size_t len = 0;
    int error;
    buf_init(&document, BUF_DEFAULT_MAX);
    if (job->format) {
        error = render_prepared(&document, work->renderer, job->format, work->view, &job->d);
        bytes = document.data;
        len = document.len;
    } else {
        error = packet_report_bytes(&bytes, &len, work->report, &job->d);
    }
    if (error == 0 && !(path = fs_join(work->dir, job->name)))
        error = oom(&job->d);
    if (error == 0 && (error = fs_write_atomic(path, bytes ? bytes : "", len, &job->d)) == 0) {
        digest_sha256_hex(bytes ? bytes : "", len, job->sha256);
        job->size = len;
    }
    if (!job->format)
        free(bytes);
    buf_free(&document);
    free(path);
    return error;
}

static void *worker(void *arg)
{
    struct packet_work *work = arg;
    for (;;) {
        pthread_mutex_lock(&work->lock);
        size_t i = work->next++;
        pthread_mutex_unlock(&work->lock);
        if (i >= work->count)
            return NULL;
        work->jobs[i].error = run_job(work, &work->jobs[i]);
    }
}

/* Renders every chosen format and report.json into dir and adds each to `files`. The formats
 * are independent reads of one prepared view, so they run on up to PACKET_MAX_THREADS threads
 * (one per core): on two cores the packet takes about half as long. */
static int render_files(json_t *files, const char *dir, const struct renderer *renderer,
                        json_t *view, json_t *report, const struct render_format *const *chosen,
                        size_t chosen_count, struct diagnostics *d)
{
    struct packet_job jobs[8 + 1];
    struct packet_work work = {.dir = dir,
                               .renderer = renderer,
                               .view = view,
                               .report = report,
                               .jobs = jobs,
                               .count = chosen_count + 1};
    pthread_t threads[PACKET_MAX_THREADS];
    size_t started = 0;
    int error = 0;
    /* report.json first: it is the largest file. */
    memset(jobs, 0, sizeof(jobs));
    jobs[0].name = PACKET_REPORT;
    for (size_t i = 0; i < chosen_count; i++) {
        jobs[i + 1].format = chosen[i];
        jobs[i + 1].name = chosen[i]->file_name;
    }
    for (size_t i = 0; i < work.count; i++)
        diag_init(&jobs[i].d);
    pthread_mutex_init(&work.lock, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t wanted = cores > 1 ? (size_t)cores - 1 : 0; /* this thread works too */
    if (wanted > PACKET_MAX_THREADS)
        wanted = PACKET_MAX_THREADS;
    if (wanted > work.count - 1)
        wanted = work.count - 1;
    while (started < wanted && pthread_create(&threads[started], NULL, worker, &work) == 0)
        started++;
    worker(&work);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&work.lock);
    for (size_t i = 0; i < work.count; i++) {
        struct packet_job *job = &jobs[i];
        for (size_t e = 0; e < job->d.count; e++) {
            const struct diag_entry *entry = &job->d.entries[e];
            diag_error_at(d, job->error ? job->error : DDB_ERUNTIME, entry->file, entry->line,
                          entry->col, entry->span, "%s", entry->message);
        }
        if (job->error && !error)
            error = job->error;
        if (!job->error) {
            json_t *entry = json_pack("{s:s, s:s, s:I}", "path", job->name, "sha256", job->sha256,
                                      "size", (json_int_t)job->size);
            if (!entry || json_array_append_new(files, entry) < 0)
                error = error ? error : oom(d);
        }
        diag_free(&job->d);
    }
    return error;
}

/* Moves the finished temporary directory to `final`. Linux swaps the two in one step
 * (renameat2 RENAME_EXCHANGE), so a reader sees the old packet or the new one, never neither;
 * elsewhere the old packet is moved aside first. The old packet is removed afterwards. */
static int move_into_place(const char *temporary, const char *final, const char *aside,
                           struct diagnostics *d)
{
    if (!fs_exists(final)) {
        if (rename(temporary, final) < 0)
            return diag_error_at(d, DDB_ERUNTIME, final, 0, 0, 0, "cannot rename %s: %s", temporary,
                                 strerror(errno));
        return 0;
    }
#ifdef SYS_renameat2
    if (syscall(SYS_renameat2, AT_FDCWD, temporary, AT_FDCWD, final, RENAME_EXCHANGE_FLAG) == 0)
        return fs_remove_tree(temporary, d);
#endif
    if (rename(final, aside) < 0)
        return diag_error_at(d, DDB_ERUNTIME, final, 0, 0, 0, "cannot move the old packet: %s",
                             strerror(errno));
    if (rename(temporary, final) < 0) {
        int saved = errno;
        rename(aside, final);
        return diag_error_at(d, DDB_ERUNTIME, final, 0, 0, 0, "cannot rename %s: %s", temporary,
                             strerror(saved));
    }
    return fs_remove_tree(aside, d);
}

/* The packet directory replaces what is at `dir` wholesale, so that must be nothing, an empty
 * directory, or an earlier packet (it has packet.json): never a user's own directory. */
static int check_replaceable(const char *dir, struct diagnostics *d)
{
    if (!fs_exists(dir))
        return 0;
    if (!fs_is_dir(dir))
        return diag_error(d, DDB_EUSAGE, "%s exists and is not a directory", dir);
    char *index = fs_join(dir, PACKET_INDEX);
    int packet = index && fs_exists(index);
    free(index);
    if (packet)
        return 0;
    DIR *handle = opendir(dir);
    struct dirent *entry;
    int empty = 1;
    while (handle && empty && (entry = readdir(handle)))
        empty = !strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..");
    if (handle)
        closedir(handle);
    return empty ? 0
                 : diag_error(d, DDB_EUSAGE,
                              "%s is a directory that is not a ddbaudit packet (no %s); "
                              "refusing to replace it",
                              dir, PACKET_INDEX);
}

int packet_write(char **out_path, const char *packet_dir, json_t *report, const char *manifest_path,
                 const char *formats, const char *templates_dir, struct diagnostics *d)
{
    int error = 0;
    const struct render_format *chosen[8];
    size_t chosen_count = 0;
    int sarif = 0;
    struct renderer *renderer = NULL;
    json_t *view = NULL, *files = json_array();
    char *final = NULL, *parent = NULL, *manifest = NULL;
    size_t manifest_len = 0;
    struct buf temporary, aside;
    buf_init(&temporary, BUF_DEFAULT_MAX);
    buf_init(&aside, BUF_DEFAULT_MAX);
    int created = 0;

    json_t *inputs = json_object_get(report, "inputs");
    const char *snapshot = json_string_value(json_object_get(inputs, "snapshot"));
    const char *manifest_sha =
        json_string_value(json_object_get(inputs, "evidence_manifest_sha256"));
    if (!files) {
        error = oom(d);
        goto done;
    }
    if (!safe_segment(snapshot)) {
        error = diag_error(d, DDB_EINPUT,
                           "report.json/inputs/snapshot: '%s' is not a usable directory name",
                           snapshot ? snapshot : "(missing)");
        goto done;
    }
    if (!manifest_sha) {
        error = diag_error(d, DDB_EINPUT, "report.json/inputs/evidence_manifest_sha256: missing");
        goto done;
    }
    if ((error = parse_formats(chosen, &chosen_count, &sarif, formats, d)) < 0)
        goto done;
    /* Everything that can fail for a reason other than I/O happens before anything is written. */
    if (manifest_path) {
        char hex[DIGEST_SHA256_HEX_LEN + 1];
        if ((error = fs_read_file(&manifest, &manifest_len, manifest_path, PACKET_MAX_FILE, d)) < 0)
            goto done;
        digest_sha256_hex(manifest, manifest_len, hex);
        if (strcmp(hex, manifest_sha) != 0) {
            error = diag_error_at(d, DDB_EINPUT, manifest_path, 0, 0, 0,
                                  "SHA-256 %s is not the report's evidence manifest (%s)", hex,
                                  manifest_sha);
            goto done;
        }
    }
    if ((error = render_new(&renderer, templates_dir, d)) < 0 ||
        (error = render_view(&view, report, d)) < 0)
        goto done;
    for (size_t i = 0; i < chosen_count; i++)
        if ((error = render_prepare(renderer, chosen[i], view, d)) < 0)
            goto done;

    /* The temporary and the set-aside directories are siblings of the packet, so the final
     * rename stays within one file system. */
    if (!(final = packet_dir ? strdup(packet_dir) : fs_join("output", snapshot)) ||
        !strip_trailing_slashes(final) ||
        buf_printf(&temporary, "%s.tmp.%ld", final, (long)getpid()) < 0 ||
        buf_printf(&aside, "%s.old.%ld", final, (long)getpid()) < 0 || !(parent = strdup(final))) {
        error = oom(d);
        goto done;
    }
    if ((error = check_replaceable(final, d)) < 0)
        goto done;
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if ((error = fs_mkdirs(parent, d)) < 0)
            goto done;
    }
    if ((error = fs_remove_tree(temporary.data, d)) < 0 ||
        (error = fs_mkdirs(temporary.data, d)) < 0)
        goto done;
    created = 1;

    if ((error = render_files(files, temporary.data, renderer, view, report, chosen, chosen_count,
                              d)) < 0)
        goto done;
    if (manifest &&
        (error = add_file(files, temporary.data, PACKET_MANIFEST, manifest, manifest_len, d)) < 0)
        goto done;
    if (sarif) {
        /* URIs relative to where ddbaudit runs: the repository root in a CI job. */
        char cwd[4096];
        struct buf log;
        buf_init(&log, BUF_DEFAULT_MAX);
        error = sarif_write(&log, report, getcwd(cwd, sizeof(cwd)), d);
        if (!error)
            error = add_file(files, temporary.data, SARIF_FILE_NAME, log.data, log.len, d);
        buf_free(&log);
        if (error < 0)
            goto done;
    }
    if ((error = write_index(temporary.data, files, report, manifest_sha, d)) < 0 ||
        (error = move_into_place(temporary.data, final, aside.data, d)) < 0)
        goto done;
    created = 0;
    if (out_path) {
        *out_path = final;
        final = NULL;
    }
done:
    if (created) {
        struct diagnostics ignored;
        diag_init(&ignored);
        fs_remove_tree(temporary.data, &ignored);
        diag_free(&ignored);
    }
    buf_free(&temporary);
    buf_free(&aside);
    render_free(renderer);
    json_decref(view);
    json_decref(files);
    free(final);
    free(parent);
    free(manifest);
    return error;
}

/* ---- The ticket excerpt ---- */

/* The packet a ticket cites. The ticket names report.json's digest always, and the packet
 * (its directory and packet.json's digest) when one holds this very report.json: `packet_dir`,
 * else output/<snapshot>. A packet holding another report is not cited. */
static int ticket_packet(json_t **out, json_t *report, const char *packet_dir,
                         struct diagnostics *d)
{
    char report_hex[DIGEST_SHA256_HEX_LEN + 1], index_hex[DIGEST_SHA256_HEX_LEN + 1];
    char *bytes = NULL, *text = NULL, *index_path = NULL, *default_dir = NULL;
    size_t len = 0;
    json_t *index = NULL, *packet = json_object();
    int error = 0;
    if (!packet)
        return oom(d);
    if ((error = packet_report_bytes(&bytes, &len, report, d)) < 0)
        goto done;
    digest_sha256_hex(bytes, len, report_hex);
    json_object_set_new(packet, "report_sha256", json_string(report_hex));
    json_object_set_new(packet, "path", json_string("(no packet written)"));
    const char *snapshot = string_or(json_object_get(report, "inputs"), "snapshot", "");
    if (!packet_dir && safe_segment(snapshot))
        packet_dir = default_dir = fs_join("output", snapshot);
    if (!packet_dir || !(index_path = fs_join(packet_dir, PACKET_INDEX)) || !fs_exists(index_path))
        goto keep;
    struct diagnostics ignored;
    diag_init(&ignored);
    int unreadable = fs_read_file(&text, &len, index_path, PACKET_MAX_FILE, &ignored) < 0;
    diag_free(&ignored);
    if (unreadable)
        goto keep;
    digest_sha256_hex(text, len, index_hex);
    index = json_loadb(text, len, 0, NULL);
    size_t i;
    json_t *file;
    json_array_foreach(json_object_get(index, "files"), i, file)
    {
        if (strcmp(string_or(file, "path", ""), PACKET_REPORT) == 0 &&
            strcmp(string_or(file, "sha256", ""), report_hex) == 0) {
            json_object_set_new(packet, "path", json_string(packet_dir));
            json_object_set_new(packet, "packet_sha256", json_string(index_hex));
        }
    }
keep:
    *out = packet;
    packet = NULL;
done:
    json_decref(packet);
    json_decref(index);
    free(bytes);
    free(text);
    free(index_path);
    free(default_dir);
    return error;
}

int packet_ticket(struct buf *out, json_t *report, const char *control_id, const char *resource,
                  const char *format_name, const char *packet_dir, const char *templates_dir,
                  struct diagnostics *d)
{
    int error = 0;
    size_t i;
    json_t *control, *found = NULL, *finding;
    json_t *excerpt = NULL, *controls = NULL, *findings = NULL, *view = NULL, *packet = NULL;
    struct renderer *renderer = NULL;
    const struct render_format *format = render_format_find(format_name);
    if (!format || format->file_name)
        return diag_error(d, DDB_EUSAGE,
                          "--format %s: a ticket excerpt is ticket-md, ticket-jira or ticket-html",
                          format_name ? format_name : "(none)");
    json_array_foreach(json_object_get(report, "controls"), i, control)
    {
        if (strcmp(string_or(control, "id", ""), control_id) == 0)
            found = control;
    }
    if (!found)
        return diag_error(d, DDB_EUSAGE, "--control %s: no such control in the report", control_id);
    /* One control, and one resource's findings when asked: the report's shape, smaller. */
    if (!(excerpt = json_copy(report)) || !(controls = json_array()) ||
        !(found = json_copy(found)) || !(findings = json_array())) {
        json_decref(found);
        error = oom(d);
        goto done;
    }
    json_array_append_new(controls, found);
    json_object_set(excerpt, "controls", controls);
    json_array_foreach(json_object_get(found, "findings"), i, finding)
    {
        const char *name = json_string_value(json_object_get(finding, "resource"));
        if (!resource || (name && strcmp(name, resource) == 0))
            json_array_append(findings, finding);
    }
    if (resource && json_array_size(findings) == 0) {
        error = diag_error(d, DDB_EUSAGE, "--resource %s: control %s has no finding for it",
                           resource, control_id);
        goto done;
    }
    json_object_set(found, "findings", findings);
    if ((error = render_view(&view, excerpt, d)) < 0 ||
        (error = ticket_packet(&packet, report, packet_dir, d)) < 0)
        goto done;
    json_object_set_new(view, "packet", packet);
    if ((error = render_new(&renderer, templates_dir, d)) < 0 ||
        (error = render_document(out, renderer, format, view, d)) < 0)
        goto done;
done:
    render_free(renderer);
    json_decref(excerpt);
    json_decref(controls);
    json_decref(findings);
    json_decref(view);
    return error;
}

/* ---- Verifying ---- */

struct verifier {
    const char *dir;
    struct diagnostics *d;
    size_t problems;
    struct buf message;
};

static void changed(struct verifier *v, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One problem, naming the file it is about. */
static void changed(struct verifier *v, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(&v->message);
    buf_vprintf(&v->message, fmt, ap);
    va_end(ap);
    diag_error_at(v->d, DDB_EINPUT, file, 0, 0, 0, "%s", buf_cstr(&v->message));
    v->problems++;
}

/* A relative path that stays below its root: no leading '/', no empty, "." or ".." segment. */
static int safe_relative_path(const char *path)
{
    if (!path || !*path || path[0] == '/')
        return 0;
    const char *segment = path;
    for (const char *p = path;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - segment);
            if (n == 0 || (n == 1 && segment[0] == '.') ||
                (n == 2 && segment[0] == '.' && segment[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            segment = p + 1;
        }
    }
}

/* Recomputes every hash packet.json lists and looks for files it does not list. */
static int verify_listing(struct verifier *v, json_t *index, size_t *files)
{
    size_t i;
    json_t *entry;
    json_t *listed = json_object();
    if (!listed)
        return oom(v->d);
    json_array_foreach(json_object_get(index, "files"), i, entry)
    {
        const char *name = string_or(entry, "path", NULL);
        const char *expected = string_or(entry, "sha256", "");
        json_int_t size = json_integer_value(json_object_get(entry, "size"));
        char hex[DIGEST_SHA256_HEX_LEN + 1];
        size_t actual_size = 0;
        if (!safe_relative_path(name) || strchr(name, '/')) {
            changed(v, PACKET_INDEX, "files[%zu]: '%s' is not a file name in the packet", i,
                    name ? name : "(missing)");
            continue;
        }
        json_object_set_new(listed, name, json_true());
        char *path = fs_join(v->dir, name);
        struct diagnostics ignored;
        diag_init(&ignored);
        int error = path ? digest_file_sha256_hex(hex, &actual_size, path, &ignored) : -1;
        diag_free(&ignored);
        if (error < 0)
            changed(v, path ? path : name, "missing: packet.json lists it");
        else if (strcmp(hex, expected) != 0 || (json_int_t)actual_size != size)
            changed(v, path, "changed: SHA-256 is %s (%zu bytes), packet.json says %s (%lld bytes)",
                    hex, actual_size, expected, (long long)size);
        (*files)++;
        free(path);
    }
    DIR *handle = opendir(v->dir);
    struct dirent *item;
    while (handle && (item = readdir(handle))) {
        if (strcmp(item->d_name, ".") == 0 || strcmp(item->d_name, "..") == 0 ||
            strcmp(item->d_name, PACKET_INDEX) == 0 || json_object_get(listed, item->d_name))
            continue;
        char *path = fs_join(v->dir, item->d_name);
        changed(v, path ? path : item->d_name, "not listed in packet.json");
        free(path);
    }
    if (handle)
        closedir(handle);
    json_decref(listed);
    return 0;
}

/* libxml2 reports each problem through this; we keep the first few. */
struct xml_errors {
    struct verifier *v;
    const char *file;
    size_t count;
};

static void xml_error(void *data, xmlErrorPtr error)
{
    struct xml_errors *errors = data;
    if (!error || error->level < XML_ERR_ERROR)
        return;
    errors->count++;
    if (errors->count > 20)
        return;
    size_t len = error->message ? strlen(error->message) : 0;
    while (len && error->message[len - 1] == '\n')
        len--;
    diag_error_at(errors->v->d, DDB_EINPUT, errors->file, error->line, 0, 0, "%.*s", (int)len,
                  error->message ? error->message : "XML error");
    errors->v->problems++;
}

static int verify_xml_schema(struct verifier *v, const char *xml_path)
{
    char *xsd = NULL;
    xmlSchemaParserCtxtPtr parser = NULL;
    xmlSchemaPtr schema = NULL;
    xmlSchemaValidCtxtPtr valid = NULL;
    struct xml_errors errors = {.v = v, .file = xml_path};
    int error = 0;
    if (!(xsd = resources_path("docs/schema/report.xsd")))
        return diag_error(v->d, DDB_EINPUT,
                          "cannot find the bundled docs/schema/report.xsd (set DDBAUDIT_DATA_DIR)");
    struct xml_errors schema_errors = {.v = v, .file = xsd};
    if (!(parser = xmlSchemaNewParserCtxt(xsd))) {
        error = oom(v->d);
        goto done;
    }
    xmlSchemaSetParserStructuredErrors(parser, xml_error, &schema_errors);
    if (!(schema = xmlSchemaParse(parser)) || !(valid = xmlSchemaNewValidCtxt(schema))) {
        error = diag_error_at(v->d, DDB_ERUNTIME, xsd, 0, 0, 0, "cannot load the XML schema");
        goto done;
    }
    xmlSchemaSetValidStructuredErrors(valid, xml_error, &errors);
    /* Streams the file: a 100k-finding report is validated without building its tree. */
    int result = xmlSchemaValidateFile(valid, xml_path, 0);
    if (result != 0 && errors.count == 0)
        changed(v, xml_path, "not valid against %s", xsd);
    if (errors.count > 20)
        changed(v, xml_path, "%zu more XML schema errors", errors.count - 20);
done:
    xmlSchemaFreeValidCtxt(valid);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(parser);
    free(xsd);
    return error;
}

/* Confluence storage format is a page body whose ac:/ri: prefixes Confluence declares; it is
 * well-formed once wrapped in an element that declares them. */
#define CONFLUENCE_OPEN                                                                            \
    "<ac:page xmlns:ac=\"http://atlassian.com/content\" "                                          \
    "xmlns:ri=\"http://atlassian.com/resource/identifier\">"
#define CONFLUENCE_CLOSE "</ac:page>"

static int verify_confluence(struct verifier *v, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    struct buf wrapped;
    int error = fs_read_file(&text, &len, path, PACKET_MAX_FILE, v->d);
    if (error < 0)
        return error;
    buf_init(&wrapped, BUF_DEFAULT_MAX);
    if (buf_puts(&wrapped, CONFLUENCE_OPEN) < 0 || buf_append(&wrapped, text, len) < 0 ||
        buf_puts(&wrapped, CONFLUENCE_CLOSE) < 0) {
        error = oom(v->d);
        goto done;
    }
    struct xml_errors errors = {.v = v, .file = path};
    xmlSetStructuredErrorFunc(&errors, xml_error);
    xmlDocPtr doc = xmlReadMemory(wrapped.data, (int)wrapped.len, path, "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_HUGE);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (!doc && errors.count == 0)
        changed(v, path, "not well-formed XML");
    xmlFreeDoc(doc);
done:
    buf_free(&wrapped);
    free(text);
    return error;
}

/* Finds the evidence snapshot the report cites. */
static char *find_snapshot(const char *packet_dir, const char *name)
{
    struct buf candidate;
    buf_init(&candidate, BUF_DEFAULT_MAX);
    if (!safe_segment(name))
        goto none;
    if (buf_printf(&candidate, "evidence/%s", name) == 0 && fs_is_dir(candidate.data))
        return buf_detach(&candidate);
    buf_reset(&candidate);
    if (buf_printf(&candidate, "%s/../../evidence/%s", packet_dir, name) == 0 &&
        fs_is_dir(candidate.data))
        return buf_detach(&candidate);
none:
    buf_free(&candidate);
    return NULL;
}

/* The files evidence references resolve to, each hashed once and reported once: snapshot files
 * by their path in the snapshot, and delivered CloudTrail log files (origin "cloudtrail_dir") by
 * their name in the report, found under the parent of a --cloudtrail-dir (activity_sources.h). */
struct evidence_files {
    const char *snapshot_dir;
    const char *const *cloudtrail_dirs;
    size_t cloudtrail_dir_count;
    json_t *hashes;       /* snapshot file → SHA-256 on disk, "" when missing */
    json_t *reported;     /* snapshot file → true once a problem with it was reported */
    json_t *log_hashes;   /* delivered log file → {"sha256": on disk or "", "path": where} */
    json_t *log_reported; /* delivered log file → true once a problem with it was reported */
    json_t *unchecked;    /* delivered log files named while no --cloudtrail-dir was given */
};

/* The SHA-256 of `path` ("" when it cannot be read). */
static void hash_or_empty(char hex[DIGEST_SHA256_HEX_LEN + 1], const char *path)
{
    struct diagnostics ignored;
    diag_init(&ignored);
    if (!path || digest_file_sha256_hex(hex, NULL, path, &ignored) < 0)
        hex[0] = '\0';
    diag_free(&ignored);
}

/* Checks a snapshot file against the SHA-256 `expected` the report records for it. `control`
 * and `resource` name the finding citing it; control NULL: activity.sources[source] read it. */
static void check_snapshot_file(struct verifier *v, struct evidence_files *files, const char *file,
                                const char *expected, const char *control, const char *resource,
                                size_t source, struct packet_verify_result *result)
{
    json_t *known = json_object_get(files->hashes, file);
    if (!known) {
        char hex[DIGEST_SHA256_HEX_LEN + 1];
        char *path = fs_join(files->snapshot_dir, file);
        hash_or_empty(hex, path);
        free(path);
        known = json_string(hex);
        json_object_set_new(files->hashes, file, known);
        result->evidence_files++;
    }
    const char *actual = json_string_value(known);
    if (!actual || strcmp(actual, expected) == 0 || json_object_get(files->reported, file))
        return;
    char *path = fs_join(files->snapshot_dir, file);
    const char *name = path ? path : file;
    if (*actual && control)
        changed(v, name, "changed: SHA-256 is %s, the report cites %s (%s, %s)", actual, expected,
                control, resource);
    else if (*actual)
        changed(v, name,
                "changed: SHA-256 is %s, the report read it as %s (activity.sources[%zu]: the "
                "activity counts rest on it)",
                actual, expected, source);
    else if (control)
        changed(v, name, "missing: the report cites it (%s, %s)", control, resource);
    else
        changed(v, name, "missing: the report read it (activity.sources[%zu])", source);
    free(path);
    json_object_set_new(files->reported, file, json_true());
}

/* Checks a delivered CloudTrail log file, named as the report names it, against `expected`:
 * it is looked for under the parent of each --cloudtrail-dir in turn, and the first that holds
 * it is used. Without --cloudtrail-dir it is only counted. control NULL: as above. */
static void check_log_file(struct verifier *v, struct evidence_files *files, const char *file,
                           const char *expected, const char *control, const char *resource,
                           size_t source, struct packet_verify_result *result)
{
    if (!files->cloudtrail_dir_count) {
        json_object_set_new(files->unchecked, file, json_true());
        return;
    }
    json_t *known = json_object_get(files->log_hashes, file);
    if (!known) {
        char hex[DIGEST_SHA256_HEX_LEN + 1] = "";
        char *found = NULL;
        for (size_t i = 0; !found && i < files->cloudtrail_dir_count; i++) {
            char *path = activity_sources_log_path(file, files->cloudtrail_dirs[i]);
            if (path && fs_exists(path))
                found = path;
            else
                free(path);
        }
        hash_or_empty(hex, found);
        known = json_pack("{s:s, s:s?}", "sha256", hex, "path", found);
        free(found);
        if (!known)
            return;
        json_object_set_new(files->log_hashes, file, known);
        result->cloudtrail_files++;
    }
    const char *actual = string_or(known, "sha256", "");
    const char *path = string_or(known, "path", file);
    if (strcmp(actual, expected) == 0 || json_object_get(files->log_reported, file))
        return;
    if (*actual && control)
        changed(v, path,
                "changed: SHA-256 is %s, the report cites %s (%s, %s): the CloudTrail log file "
                "changed after the report was made",
                actual, expected, control, resource);
    else if (*actual)
        changed(v, path,
                "changed: SHA-256 is %s, the report read it as %s (activity.sources[%zu]: the "
                "activity counts rest on it)",
                actual, expected, source);
    else if (control)
        changed(v, path,
                "missing: the report cites it (%s, %s), and it is under none of the "
                "--cloudtrail-dir given (the report names log files relative to the parent of "
                "the directory given to 'report')",
                control, resource);
    else
        changed(v, path,
                "missing: the report read it (activity.sources[%zu]), and it is under none of the "
                "--cloudtrail-dir given (the report names log files relative to the parent of "
                "the directory given to 'report')",
                source);
    json_object_set_new(files->log_reported, file, json_true());
}

/* Every evidence reference must resolve to a file with the cited SHA-256: a snapshot file, or a
 * delivered CloudTrail log file under a --cloudtrail-dir. So must every file activity.sources
 * lists as read: a file read but not cited still shaped the activity counts. Each file is
 * hashed once however often it is named, and reported once. */
static int verify_evidence(struct verifier *v, json_t *report, const char *report_path,
                           const char *packet_manifest_sha,
                           const struct packet_verify_options *options,
                           struct packet_verify_result *result)
{
    size_t i, j, k;
    json_t *control, *finding, *item;
    struct evidence_files files = {
        .snapshot_dir = result->evidence_dir,
        .cloudtrail_dirs = options->cloudtrail_dirs,
        .cloudtrail_dir_count = options->cloudtrail_dir_count,
        .hashes = json_object(),
        .reported = json_object(),
        .log_hashes = json_object(),
        .log_reported = json_object(),
        .unchecked = json_object(),
    };
    int error = 0;
    char hex[DIGEST_SHA256_HEX_LEN + 1];
    char *manifest = fs_join(result->evidence_dir, "manifest.json");
    if (!files.hashes || !files.reported || !files.log_hashes || !files.log_reported ||
        !files.unchecked || !manifest) {
        error = oom(v->d);
        goto done;
    }
    hash_or_empty(hex, manifest);
    if (!*hex)
        changed(v, manifest, "missing: the evidence snapshot has no manifest");
    else if (packet_manifest_sha && strcmp(hex, packet_manifest_sha) != 0)
        changed(v, manifest, "changed: SHA-256 is %s, the packet was made from %s", hex,
                packet_manifest_sha);
    json_array_foreach(json_object_get(report, "controls"), i, control)
    {
        json_array_foreach(json_object_get(control, "findings"), j, finding)
        {
            const char *id = string_or(control, "id", "?");
            const char *resource = string_or(finding, "resource", "?");
            json_array_foreach(json_object_get(finding, "evidence"), k, item)
            {
                const char *file = string_or(item, "file", NULL);
                const char *expected = string_or(item, "sha256", "");
                int delivered = strcmp(string_or(item, "origin", ""), "cloudtrail_dir") == 0;
                if (delivered && !options->cloudtrail_dir_count) {
                    if (file)
                        json_object_set_new(files.unchecked, file, json_true());
                    continue;
                }
                result->evidence_refs++;
                if (!safe_relative_path(file)) {
                    changed(v, report_path,
                            "/controls/%zu/findings/%zu/evidence/%zu/file: '%s' leaves the %s", i,
                            j, k, file ? file : "(missing)",
                            delivered ? "--cloudtrail-dir" : "snapshot");
                    continue;
                }
                if (delivered)
                    check_log_file(v, &files, file, expected, id, resource, 0, result);
                else
                    check_snapshot_file(v, &files, file, expected, id, resource, 0, result);
            }
        }
    }
    json_array_foreach(json_object_get(json_object_get(report, "activity"), "sources"), i, item)
    {
        const char *file = string_or(item, "file", NULL);
        const char *expected = string_or(item, "sha256", NULL);
        /* Reports made before sources had an origin only listed delivered logs there; the
         * checks read a missing origin the same way (checks_activity.c). */
        int delivered = strcmp(string_or(item, "origin", "cloudtrail_dir"), "evidence") != 0;
        if (!expected)
            continue; /* unreadable when the report was made: nothing was read from it */
        if (!safe_relative_path(file)) {
            changed(v, report_path, "/activity/sources/%zu/file: '%s' leaves the %s", i,
                    file ? file : "(missing)", delivered ? "--cloudtrail-dir" : "snapshot");
            continue;
        }
        if (delivered)
            check_log_file(v, &files, file, expected, NULL, NULL, i, result);
        else
            check_snapshot_file(v, &files, file, expected, NULL, NULL, i, result);
    }
    result->cloudtrail_unchecked = json_object_size(files.unchecked);
done:
    free(manifest);
    json_decref(files.hashes);
    json_decref(files.reported);
    json_decref(files.log_hashes);
    json_decref(files.log_reported);
    json_decref(files.unchecked);
    return error;
}

/* Hashes `file` once (as the report names it: relative to the current directory) and checks
 * it against the SHA-256 `expected` the report records (NULL: only that it exists). Each
 * problem is reported once per file. `hashes` maps file → SHA-256 on disk ("" = missing). */
static void check_template_file(struct verifier *v, json_t *hashes, json_t *reported, json_t *given,
                                const char *file, const char *expected, const char *control,
                                const char *resource, struct packet_verify_result *result)
{
    if (json_object_get(reported, file))
        return;
    if (json_object_size(given) && !json_object_get(given, file)) {
        changed(v, file, "the report cites it (%s, %s), but it is not among the --template files",
                control, resource);
        json_object_set_new(reported, file, json_true());
        return;
    }
    json_t *known = json_object_get(hashes, file);
    if (!known) {
        char hex[DIGEST_SHA256_HEX_LEN + 1];
        struct diagnostics ignored;
        diag_init(&ignored);
        int missing = digest_file_sha256_hex(hex, NULL, file, &ignored) < 0;
        diag_free(&ignored);
        known = json_string(missing ? "" : hex);
        json_object_set_new(hashes, file, known);
        result->evidence_files++;
    }
    const char *actual = json_string_value(known);
    if (!actual || !*actual) {
        changed(v, file,
                "missing: the report cites it (%s, %s); run verify where the report was made, or "
                "name the templates with --template",
                control, resource);
    } else if (expected && strcmp(actual, expected) != 0) {
        changed(v, file,
                "changed: SHA-256 is %s, the report cites %s (%s, %s): the template changed "
                "after the report was made",
                actual, expected, control, resource);
    } else {
        return;
    }
    json_object_set_new(reported, file, json_true());
}

/* A template packet's evidence is the template files. Every file an evidence reference names
 * must exist with the SHA-256 it records; a file named only by a location (an item of a
 * region-wide list that another template's reference holds) must have its SHA-256 recorded by
 * some other reference, or be one of the given templates; with templates given, the evidence
 * manifest digest over them and the parameters must be the report's. */
static int verify_templates(struct verifier *v, json_t *report, const char *report_path,
                            const struct packet_verify_options *options,
                            struct packet_verify_result *result)
{
    size_t i, j, k;
    json_t *control, *finding, *item;
    json_t *hashes = json_object(), *reported = json_object(), *given = json_object();
    json_t *recorded = json_object(), *located = json_object();
    int error = 0;
    if (!hashes || !reported || !given || !recorded || !located) {
        error = oom(v->d);
        goto done;
    }
    result->from_templates = 1;
    for (size_t t = 0; t < options->template_count; t++)
        json_object_set_new(given, options->templates[t], json_true());
    if (options->manifest_sha256) {
        const char *report_manifest =
            string_or(json_object_get(report, "inputs"), "evidence_manifest_sha256", "");
        if (strcmp(report_manifest, options->manifest_sha256) != 0)
            changed(v, report_path,
                    "the evidence manifest is %s, but the given templates and parameters make "
                    "%s: a template or the parameters changed, or they are not the files (in the "
                    "order) given to 'ddbaudit report'",
                    report_manifest, options->manifest_sha256);
        result->manifest_checked = 1;
    }
    json_array_foreach(json_object_get(report, "controls"), i, control)
    {
        json_array_foreach(json_object_get(control, "findings"), j, finding)
        {
            const char *id = string_or(control, "id", "?");
            const char *resource = string_or(finding, "resource", "?");
            json_array_foreach(json_object_get(finding, "evidence"), k, item)
            {
                const char *file = string_or(item, "file", NULL);
                const char *expected = string_or(item, "sha256", "");
                const char *location = string_or(json_object_get(item, "location"), "file", NULL);
                result->evidence_refs++;
                if (!file || !*file) {
                    changed(v, report_path, "/controls/%zu/findings/%zu/evidence/%zu/file: missing",
                            i, j, k);
                    continue;
                }
                const char *earlier = string_or(recorded, file, NULL);
                if (earlier && strcmp(earlier, expected) != 0 && !json_object_get(reported, file)) {
                    changed(v, report_path,
                            "/controls/%zu/findings/%zu/evidence/%zu/sha256: cites %s as %s, "
                            "another reference as %s",
                            i, j, k, file, expected, earlier);
                    json_object_set_new(reported, file, json_true());
                }
                if (!earlier)
                    json_object_set_new(recorded, file, json_string(expected));
                check_template_file(v, hashes, reported, given, file, expected, id, resource,
                                    result);
                if (location && strcmp(location, file) != 0 && !json_object_get(located, location))
                    json_object_set_new(
                        located, location,
                        json_pack("{s:s, s:s}", "control", id, "resource", resource));
            }
        }
    }
    const char *file;
    json_t *where;
    json_object_foreach(located, file, where)
    {
        const char *id = string_or(where, "control", "?");
        const char *resource = string_or(where, "resource", "?");
        if (json_object_get(recorded, file) || json_object_get(given, file)) {
            check_template_file(v, hashes, reported, given, file, NULL, id, resource, result);
        } else if (!json_object_get(reported, file)) {
            changed(v, file,
                    "the report points into it (%s, %s) but records no SHA-256 for it: name "
                    "the templates with --template (and --parameters) to check it",
                    id, resource);
            json_object_set_new(reported, file, json_true());
        }
    }
done:
    json_decref(hashes);
    json_decref(reported);
    json_decref(given);
    json_decref(recorded);
    json_decref(located);
    return error;
}

int packet_verify(struct packet_verify_result *result, const char *dir, const char *evidence_dir,
                  struct diagnostics *d)
{
    struct packet_verify_options options = {.evidence_dir = evidence_dir};
    return packet_verify_from(result, dir, &options, d);
}

int packet_verify_from(struct packet_verify_result *result, const char *dir,
                       const struct packet_verify_options *options, struct diagnostics *d)
{
    const char *evidence_dir = options->evidence_dir;
    struct verifier v = {.dir = dir, .d = d};
    char *text = NULL, *index_path = NULL, *report_path = NULL, *path = NULL;
    size_t len = 0;
    json_t *index = NULL, *report = NULL;
    json_error_t json_error;
    int error = 0;
    memset(result, 0, sizeof(*result));
    buf_init(&v.message, BUF_DEFAULT_MAX);
    if (!fs_is_dir(dir)) {
        error = diag_error_at(d, DDB_EINPUT, dir, 0, 0, 0, "not a directory");
        goto done;
    }
    if (!(index_path = fs_join(dir, PACKET_INDEX)) ||
        !(report_path = fs_join(dir, PACKET_REPORT))) {
        error = oom(d);
        goto done;
    }
    if ((error = fs_read_file(&text, &len, index_path, PACKET_MAX_FILE, d)) < 0)
        goto done;
    index = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
    if (!index || strcmp(string_or(index, "format", ""), PACKET_FORMAT) != 0 ||
        !json_is_array(json_object_get(index, "files"))) {
        error = diag_error_at(d, DDB_EINPUT, index_path, index ? 0 : json_error.line,
                              index ? 0 : json_error.column, index ? 0 : 1, "%s",
                              index ? "not a ddbaudit packet index (format " PACKET_FORMAT ")"
                                    : json_error.text);
        goto done;
    }
    const char *manifest_sha = string_or(index, "evidence_manifest_sha256", NULL);
    if ((error = verify_listing(&v, index, &result->files)) < 0)
        goto done;

    /* manifest.json must be the manifest packet.json names. */
    json_t *manifest_entry = NULL;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(index, "files"), i, entry)
    {
        if (strcmp(string_or(entry, "path", ""), PACKET_MANIFEST) == 0)
            manifest_entry = entry;
    }
    if (manifest_entry && manifest_sha &&
        strcmp(string_or(manifest_entry, "sha256", ""), manifest_sha) != 0)
        changed(&v, PACKET_INDEX, "manifest.json is not the evidence manifest %s", manifest_sha);

    free(text);
    text = NULL;
    if ((error = fs_read_file(&text, &len, report_path, PACKET_MAX_FILE, d)) < 0)
        goto done;
    report = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
    if (!report) {
        changed(&v, report_path, "%d:%d: %s", json_error.line, json_error.column, json_error.text);
        goto done;
    }
    struct diagnostics shape;
    diag_init(&shape);
    if (report_schema_check(report, report_path, &shape) < 0) {
        for (size_t e = 0; e < shape.count; e++)
            changed(&v, report_path, "%s", shape.entries[e].message);
    }
    diag_free(&shape);
    const char *report_manifest =
        string_or(json_object_get(report, "inputs"), "evidence_manifest_sha256", "");
    if (manifest_sha && strcmp(report_manifest, manifest_sha) != 0)
        changed(&v, report_path, "cites evidence manifest %s, packet.json %s", report_manifest,
                manifest_sha);

    if (!(path = fs_join(dir, "report.xml"))) {
        error = oom(d);
        goto done;
    }
    if (fs_exists(path) && (error = verify_xml_schema(&v, path)) < 0)
        goto done;
    free(path);
    if (!(path = fs_join(dir, "report.confluence.xml"))) {
        error = oom(d);
        goto done;
    }
    if (fs_exists(path) && (error = verify_confluence(&v, path)) < 0)
        goto done;

    const char *snapshot = string_or(json_object_get(report, "inputs"), "snapshot", "");
    /* cfn_evidence_build names its snapshot "template-…"; a snapshot packet always holds the
     * manifest it was made from. */
    int from_templates =
        options->template_count > 0 || (!manifest_entry && strncmp(snapshot, "template-", 9) == 0);
    if (from_templates && manifest_entry) {
        error = diag_error(d, DDB_EUSAGE,
                           "%s was made from an evidence snapshot, not from templates: verify it "
                           "without --template",
                           dir);
        goto done;
    }
    if (from_templates && evidence_dir) {
        error = diag_error(d, DDB_EUSAGE,
                           "%s was made from templates ('%s'), which have no evidence snapshot: "
                           "name the templates with --template instead of --evidence",
                           dir, snapshot);
        goto done;
    }
    if (from_templates && options->cloudtrail_dir_count) {
        error = diag_error(d, DDB_EUSAGE,
                           "%s was made from templates ('%s'), which have no CloudTrail activity: "
                           "verify it without --cloudtrail-dir",
                           dir, snapshot);
        goto done;
    }
    if (from_templates) {
        error = verify_templates(&v, report, report_path, options, result);
        goto done;
    }
    result->evidence_dir = evidence_dir ? strdup(evidence_dir) : find_snapshot(dir, snapshot);
    if (!result->evidence_dir || !fs_is_dir(result->evidence_dir)) {
        changed(&v, evidence_dir ? evidence_dir : dir,
                "cannot find evidence snapshot '%s' (looked in evidence/%s and beside the "
                "packet); name it with --evidence DIR",
                snapshot, snapshot);
        goto done;
    }
    if ((error = verify_evidence(&v, report, report_path, manifest_sha, options, result)) < 0)
        goto done;
done:
    if (error == 0 && v.problems)
        error = DDB_EINPUT;
    buf_free(&v.message);
    json_decref(index);
    json_decref(report);
    free(text);
    free(index_path);
    free(report_path);
    free(path);
    return error;
}

void packet_verify_result_free(struct packet_verify_result *result)
{
    if (result) {
        free(result->evidence_dir);
        result->evidence_dir = NULL;
    }
}
