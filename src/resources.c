/* Locating bundled data files. No other module guesses paths. */
#include "resources.h"
#include "fsutil.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DDBAUDIT_DATA_DIR
#define DDBAUDIT_DATA_DIR "."
#endif

static char *try_dir(const char *base, const char *relative)
{
    if (!base || !*base)
        return NULL;
    char *path = fs_join(base, relative);
    if (path && fs_exists(path))
        return path;
    free(path);
    return NULL;
}

char *resources_path(const char *relative)
{
    char *found = try_dir(getenv("DDBAUDIT_DATA_DIR"), relative);
    if (found)
        return found;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char *share = fs_join(exe, "../share/ddbaudit");
            found = share ? try_dir(share, relative) : NULL;
            free(share);
            if (found)
                return found;
        }
    }
    return try_dir(DDBAUDIT_DATA_DIR, relative);
}
