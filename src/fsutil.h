/* File-system helpers with the project's two promises built in: reads are bounded, and writes
 * are atomic (a temp file in the same directory, fsync, rename), so no reader ever sees half a
 * file. Paths are plain UTF-8 strings. */
#ifndef DDBAUDIT_FSUTIL_H
#define DDBAUDIT_FSUTIL_H

#include <stddef.h>

struct diagnostics;

/* Reads a whole regular file (at most `max` bytes) into a fresh NUL-terminated string the
 * caller frees. DDB_EINPUT if larger than max or not a regular file; DDB_ERUNTIME on I/O. */
int fs_read_file(char **out, size_t *len, const char *path, size_t max, struct diagnostics *d);

/* Writes data to path atomically (temp file + rename). Creates no directories. */
int fs_write_atomic(const char *path, const void *data, size_t len, struct diagnostics *d);

/* mkdir -p. */
int fs_mkdirs(const char *path, struct diagnostics *d);

/* rm -rf, refusing to follow symlinks. Missing path is not an error. */
int fs_remove_tree(const char *path, struct diagnostics *d);

/* Joins two path parts with one '/'; returns a fresh string (NULL on OOM). */
char *fs_join(const char *a, const char *b);

int fs_is_dir(const char *path);
int fs_exists(const char *path);

#endif
