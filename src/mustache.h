/* Mustache templates (https://mustache.github.io/mustache.5.html) over jansson values.
 *
 * Compile once, render many. Implements the spec's core modules (comments, delimiters,
 * interpolation, inverted sections, partials, sections) and the optional ~inheritance
 * ({{<parent}} with {{$block}} overrides) and ~dynamic-names ({{>*name}}, {{<*name}}).
 * Lambdas are not supported: the data is JSON, which has no functions.
 *
 * Choices the spec leaves open:
 *   - Falsey values are false, null, [] and "" (the spec only names the first three; an empty
 *     string is falsey so that {{#field}}...{{/field}} skips an absent optional field whether
 *     the collector wrote null or ""). 0 and {} are truthy.
 *   - Integers print as integers, reals as the shortest text that reads back as the same double
 *     (1.21 -> "1.21"), true/false as "true"/"false", null as "", and objects and arrays as
 *     compact JSON.
 *   - Strict mode makes a missing variable ({{x}} or {{{x}}} whose name resolves to nothing;
 *     null is not missing) and a partial or parent the loader can't find errors. Sections stay
 *     lenient: {{#x}} on a missing key is an ordinary false test.
 *   - A line holding only whitespace and tags that produce no output is standalone if at most
 *     one of its tags is not a parent tag ({{<p}} or its {{/p}}); the spec's inheritance tests
 *     need "{{<parent}}{{$block}}" to count as one standalone tag.
 *   - A standalone partial's indentation goes before every line of the partial's template text,
 *     not inside interpolated values (as in the spec's "Standalone Indentation").
 *
 * A compiled template is never modified by rendering, so threads may render the same template
 * at once, each with its own cache (or none).
 */
#ifndef DDBAUDIT_MUSTACHE_H
#define DDBAUDIT_MUSTACHE_H

#include <jansson.h>
#include <stddef.h>

struct buf;
struct diagnostics;
struct mustache_template;
struct mustache_cache;

#define MUSTACHE_DEFAULT_MAX_DEPTH 256

/* Escapes `len` bytes of `s` into `out` for {{x}}; returns 0 or -1 (out's cap reached). */
typedef int (*mustache_escape_fn)(struct buf *out, const char *s, size_t len);

/* Finds the template for partial (or parent) `name`. On success returns 0 and sets *text to a
 * malloc'd copy of the template (NUL-terminated, *len bytes) and *source_name to a malloc'd
 * name for diagnostics (a path, say; may be left NULL to use `name`); the engine frees both.
 * Not found is not an error: return 0 with *text left NULL. Return a negative DDB_E* code with
 * a diagnostic recorded for real failures (unreadable file, invalid name). */
typedef int (*mustache_partial_fn)(char **text, size_t *len, char **source_name, const char *name,
                                   void *ctx, struct diagnostics *d);

struct mustache_options {
    mustache_escape_fn escape;        /* for {{x}}; NULL = escape_html, Mustache's default */
    mustache_partial_fn load_partial; /* NULL = there are no partials */
    void *partial_ctx;                /* passed to load_partial */
    /* Compiled partials, shared between renders. NULL = a cache that lives for one render. */
    struct mustache_cache *cache;
    int strict; /* missing variables and unknown partials are errors */
    /* Sections, partials and blocks nested at render time; 0 = MUSTACHE_DEFAULT_MAX_DEPTH.
     * Each level is a few C stack frames: 10,000 levels fit in the usual 8 MiB stack. */
    unsigned max_depth;
    size_t max_output; /* bytes this render may add to `out`; 0 = only out's own cap */
};

/* Parses `len` bytes of `text` (which may contain NUL bytes and need not be NUL-terminated).
 * `name` is used in diagnostics ("name:line:col: error: ..."). On success *out is a template
 * the caller frees with mustache_free; it keeps its own copy of text and name. On a syntax
 * error returns DDB_EINPUT with a diagnostic pointing at the tag. */
int mustache_compile(struct mustache_template **out, const char *name, const char *text, size_t len,
                     struct diagnostics *d);

/* Renders `t` with `data` as the root of the context stack, appending to `out`. `opt` may be
 * NULL (defaults, no partials). Returns 0, DDB_EINPUT for template errors found at render time
 * (strict misses, unknown partials in strict mode, a partial's syntax error, nesting deeper
 * than max_depth, output over the cap) or DDB_ERUNTIME (out of memory, loader I/O). On error
 * `out` holds a partial rendering. */
int mustache_render(struct buf *out, const struct mustache_template *t, json_t *data,
                    const struct mustache_options *opt, struct diagnostics *d);

void mustache_free(struct mustache_template *t);

const char *mustache_name(const struct mustache_template *t);

/* A cache of compiled partials, keyed by partial name, for a caller that renders many
 * templates with the same loader (it must not be shared between different loaders). */
int mustache_cache_new(struct mustache_cache **out);
void mustache_cache_free(struct mustache_cache *cache);

/* A ready-made loader for partials stored as files: partial `name` is the first existing file
 * dirs[i]/name + suffix, in order (so a user's override directory can come before the bundled
 * one). Names may contain '/' for subdirectories but no empty, "." or ".." segment, and only
 * letters, digits and "._-". Pass a struct mustache_dir_loader as partial_ctx. */
struct mustache_dir_loader {
    const char *const *dirs;
    size_t dir_count;
    const char *suffix; /* e.g. ".mustache" */
    size_t max_size;    /* largest partial file; 0 = 16 MiB */
};

int mustache_load_from_dirs(char **text, size_t *len, char **source_name, const char *name,
                            void *ctx, struct diagnostics *d);

#endif
