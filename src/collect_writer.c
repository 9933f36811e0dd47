/* The collect stage's file writer: a job queue served by a few threads doing atomic writes
 * (fs_write_atomic) and hashing, with the manifest entries handed back to the event loop's
 * thread. It never decides what is written or where. */
#include "collect_writer.h"

#include <jansson.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "digest.h"
#include "evidence.h"
#include "fsutil.h"

struct write_job {
    struct write_job *next;
    int durable;
    char *path;
    char *relative;
    char *data;
    size_t len;
    struct evidence_call *entry;
    int failed;
};

struct collect_writer {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t idle; /* a job finished */
    struct write_job *queue_head, *queue_tail;
    struct write_job *done; /* finished, entries not yet drained */
    size_t pending;         /* queued or being written */
    size_t lost;            /* entries dropped for want of memory */
    int stopping;
    pthread_t *threads;
    int thread_count;
    /* Directories already created: a collection writes thousands of files into a few dozen
     * directories, and mkdir -p of each would cost seven system calls a file. */
    char **directories;
    size_t directory_count, directory_capacity;
};

static int directory_known(struct collect_writer *w, const char *dir)
{
    int known = 0;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->directory_count && !known; i++)
        known = strcmp(w->directories[i], dir) == 0;
    pthread_mutex_unlock(&w->lock);
    return known;
}

static void directory_add(struct collect_writer *w, const char *dir)
{
    pthread_mutex_lock(&w->lock);
    if (w->directory_count == w->directory_capacity) {
        size_t capacity = w->directory_capacity ? w->directory_capacity * 2 : 64;
        char **grown = realloc(w->directories, capacity * sizeof(*grown));
        if (grown) {
            w->directories = grown;
            w->directory_capacity = capacity;
        }
    }
    if (w->directory_count < w->directory_capacity) {
        char *copy = strdup(dir);
        if (copy)
            w->directories[w->directory_count++] = copy;
    }
    pthread_mutex_unlock(&w->lock);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct evidence_call *collect_writer_entry_copy(const struct evidence_call *call)
{
    struct evidence_call *copy = calloc(1, sizeof(*copy));
    if (!copy)
        return NULL;
    *copy = *call;
    copy->path = dup_or_null(call->path);
    copy->service = dup_or_null(call->service);
    copy->operation = dup_or_null(call->operation);
    copy->region = dup_or_null(call->region);
    copy->key = dup_or_null(call->key);
    copy->parameters = call->parameters ? json_deep_copy(call->parameters) : NULL;
    copy->error_code = dup_or_null(call->error_code);
    copy->error_message = dup_or_null(call->error_message);
    copy->request_id = dup_or_null(call->request_id);
    copy->started_at = dup_or_null(call->started_at);
    copy->ended_at = dup_or_null(call->ended_at);
    copy->raw_path = dup_or_null(call->raw_path);
    copy->document = NULL;
    return copy;
}

void collect_writer_entry_free(struct evidence_call *call)
{
    if (!call)
        return;
    free(call->path);
    free(call->service);
    free(call->operation);
    free(call->region);
    free(call->key);
    json_decref(call->parameters);
    free(call->error_code);
    free(call->error_message);
    free(call->request_id);
    free(call->started_at);
    free(call->ended_at);
    free(call->raw_path);
    free(call);
}

/* Temp file + rename without fsync: readers never see half a file, but a power cut may lose
 * it. Used for raw answers, whose hash the manifest records anyway. */
static int write_atomic_unsynced(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return -1;
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int rc = 0;
    while (len > 0) {
        ssize_t written = write(fd, data, len);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0) {
            rc = -1;
            break;
        }
        data += written;
        len -= (size_t)written;
    }
    if (fchmod(fd, 0644) < 0 || close(fd) < 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static void run_job(struct collect_writer *w, struct write_job *job)
{
    struct diagnostics d;
    diag_init(&d);
    char *dir = job->path ? strdup(job->path) : NULL;
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (!job->path || !job->data || !slash) {
        job->failed = 1;
    } else {
        *slash = '\0';
        int made = directory_known(w, dir);
        if (!made && fs_mkdirs(dir, &d) == 0) {
            directory_add(w, dir);
            made = 1;
        }
        job->failed =
            !made || (job->durable ? fs_write_atomic(job->path, job->data, job->len, &d)
                                   : write_atomic_unsynced(job->path, job->data, job->len)) < 0;
    }
    if (job->entry) {
        if (!job->failed) {
            free(job->entry->path);
            job->entry->path = job->relative;
            job->relative = NULL;
            digest_sha256_hex(job->data, job->len, job->entry->sha256);
            job->entry->size = job->len;
            job->entry->outcome = EVIDENCE_OK;
        } else {
            free(job->entry->path);
            job->entry->path = NULL;
            job->entry->outcome = EVIDENCE_ERROR;
            free(job->entry->error_code);
            free(job->entry->error_message);
            job->entry->error_code = strdup("WriteFailed");
            job->entry->error_message = strdup(d.errors ? diag_first_message(&d) : "out of memory");
        }
    }
    free(dir);
    diag_free(&d);
}

static void *writer_thread(void *arg)
{
    struct collect_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->queue_head && !w->stopping)
            pthread_cond_wait(&w->work, &w->lock);
        if (!w->queue_head && w->stopping)
            break;
        struct write_job *job = w->queue_head;
        w->queue_head = job->next;
        if (!w->queue_head)
            w->queue_tail = NULL;
        pthread_mutex_unlock(&w->lock);
        run_job(w, job);
        free(job->data);
        job->data = NULL;
        free(job->path);
        job->path = NULL;
        pthread_mutex_lock(&w->lock);
        job->next = w->done;
        w->done = job;
        w->pending--;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int collect_writer_new(struct collect_writer **out, int threads)
{
    *out = NULL;
    struct collect_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return DDB_ERUNTIME;
    w->threads = calloc((size_t)threads, sizeof(pthread_t));
    if (!w->threads) {
        free(w);
        return DDB_ERUNTIME;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->idle, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&w->threads[i], NULL, writer_thread, w) != 0)
            break;
        w->thread_count++;
    }
    if (w->thread_count == 0) {
        collect_writer_free(w);
        return DDB_ERUNTIME;
    }
    *out = w;
    return 0;
}

void collect_writer_submit(struct collect_writer *w, char *path, char *data, size_t len,
                           int durable, struct evidence_call *entry, char *relative)
{
    struct write_job *job = calloc(1, sizeof(*job));
    if (!job) {
        /* No memory for the job: write now, and count the entry as lost (drain reports it). */
        struct write_job inline_job = {.durable = durable, .path = path, .data = data, .len = len};
        run_job(w, &inline_job);
        free(path);
        free(data);
        free(relative);
        collect_writer_entry_free(entry);
        pthread_mutex_lock(&w->lock);
        w->lost++;
        pthread_mutex_unlock(&w->lock);
        return;
    }
    job->durable = durable;
    job->path = path;
    job->data = data;
    job->len = len;
    job->entry = entry;
    job->relative = relative;
    pthread_mutex_lock(&w->lock);
    if (w->queue_tail)
        w->queue_tail->next = job;
    else
        w->queue_head = job;
    w->queue_tail = job;
    w->pending++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
}

size_t collect_writer_drain(struct collect_writer *w, struct evidence_snapshot *snapshot)
{
    pthread_mutex_lock(&w->lock);
    struct write_job *done = w->done;
    w->done = NULL;
    size_t failed = w->lost;
    w->lost = 0;
    pthread_mutex_unlock(&w->lock);
    while (done) {
        struct write_job *next = done->next;
        if (done->failed)
            failed++;
        if (done->entry) {
            struct diagnostics d;
            diag_init(&d);
            evidence_add_call(snapshot, done->entry, &d);
            diag_free(&d);
            collect_writer_entry_free(done->entry);
        }
        free(done->relative);
        free(done);
        done = next;
    }
    return failed;
}

void collect_writer_wait(struct collect_writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->pending)
        pthread_cond_wait(&w->idle, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

void collect_writer_free(struct collect_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->thread_count; i++)
        pthread_join(w->threads[i], NULL);
    struct write_job *job = w->done;
    while (job) {
        struct write_job *next = job->next;
        collect_writer_entry_free(job->entry);
        free(job->relative);
        free(job);
        job = next;
    }
    for (size_t i = 0; i < w->directory_count; i++)
        free(w->directories[i]);
    free(w->directories);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->idle);
    free(w->threads);
    free(w);
}
