/* Bounded reads and atomic writes. Knows nothing of evidence or reports. */
#include "fsutil.h"
#include "diag.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_read_file(char **out, size_t *len, const char *path, size_t max, struct diagnostics *d)
{
    int error = 0;
    char *data = NULL;
    /* O_NONBLOCK: a FIFO named like an input file must not hang the run (fstat refuses it). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return diag_error_at(d, errno == ENOENT ? DDB_EINPUT : DDB_ERUNTIME, path, 0, 0, 0,
                             "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        error = diag_error_at(d, DDB_EINPUT, path, 0, 0, 0, "not a regular file");
        goto done;
    }
    if ((size_t)st.st_size > max) {
        error = diag_error_at(d, DDB_EINPUT, path, 0, 0, 0,
                              "file is %lld bytes, larger than the %zu-byte limit",
                              (long long)st.st_size, max);
        goto done;
    }
    size_t size = (size_t)st.st_size, got = 0;
    data = malloc(size + 1);
    if (!data) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory reading %s", path);
        goto done;
    }
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "read error: %s",
                                  n < 0 ? strerror(errno) : "file shrank while reading");
            goto done;
        }
        got += (size_t)n;
    }
    data[size] = '\0';
    *out = data;
    data = NULL;
    if (len)
        *len = size;
done:
    free(data);
    close(fd);
    return error;
}

int fs_write_atomic(const char *path, const void *data, size_t len, struct diagnostics *d)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int error =
            diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "cannot create: %s", strerror(errno));
        free(tmp);
        return error;
    }
    const char *p = data;
    size_t left = len;
    int error = 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            error =
                diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "write error: %s", strerror(errno));
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!error && fchmod(fd, 0644) < 0)
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "chmod: %s", strerror(errno));
    if (!error && fsync(fd) < 0)
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "fsync: %s", strerror(errno));
    if (close(fd) < 0 && !error)
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "close: %s", strerror(errno));
    if (!error && rename(tmp, path) < 0)
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "rename: %s", strerror(errno));
    if (error)
        unlink(tmp);
    free(tmp);
    return error;
}

int fs_mkdirs(const char *path, struct diagnostics *d)
{
    char *copy = strdup(path);
    if (!copy)
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    int error = 0;
    for (char *p = copy + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                error = diag_error_at(d, DDB_ERUNTIME, copy, 0, 0, 0, "cannot create directory: %s",
                                      strerror(errno));
                break;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    free(copy);
    return error;
}

int fs_remove_tree(const char *path, struct diagnostics *d)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT
                   ? 0
                   : diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "%s", strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0)
            return diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "cannot remove: %s",
                                 strerror(errno));
        return 0;
    }
    DIR *dir = opendir(path);
    if (!dir)
        return diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "%s", strerror(errno));
    int error = 0;
    struct dirent *entry;
    while (!error && (entry = readdir(dir))) {
        if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
            continue;
        char *child = fs_join(path, entry->d_name);
        error = child ? fs_remove_tree(child, d) : diag_error(d, DDB_ERUNTIME, "out of memory");
        free(child);
    }
    closedir(dir);
    if (!error && rmdir(path) < 0)
        error = diag_error_at(d, DDB_ERUNTIME, path, 0, 0, 0, "cannot remove: %s", strerror(errno));
    return error;
}

char *fs_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *out = malloc(la + lb + 2);
    if (!out)
        return NULL;
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return out;
}

int fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
