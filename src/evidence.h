/* The evidence snapshot: manifest.json plus one AWS CLI v2 JSON output per API call
 * (docs/evidence.md). This module reads and verifies snapshots (every hash, no path outside the
 * snapshot) and writes manifests for collectors and `evidence seal`. It never evaluates. */
#ifndef DDBAUDIT_EVIDENCE_H
#define DDBAUDIT_EVIDENCE_H

#include <jansson.h>
#include <stddef.h>

#include "digest.h"

struct diagnostics;

#define EVIDENCE_FORMAT "ddbaudit-evidence"
#define EVIDENCE_FORMAT_VERSION 1
#define EVIDENCE_MAX_FILE ((size_t)256 << 20) /* one API output; larger is refused */

enum evidence_outcome {
    EVIDENCE_OK,        /* the call answered; the file holds what the CLI printed */
    EVIDENCE_NOT_FOUND, /* the call answered "there is none" (e.g. PolicyNotFoundException) */
    EVIDENCE_DENIED,    /* AccessDenied and friends: the collector lacked a permission */
    EVIDENCE_ERROR,     /* any other failure, with the AWS error code */
    EVIDENCE_MISSING,   /* no manifest entry: the call was never made (not stored in manifests) */
};

/* One manifest entry. Strings are owned by the snapshot. */
struct evidence_call {
    char *path; /* relative to the snapshot root; NULL when no file was written */
    char *service;
    char *operation;
    char *region; /* "global" for IAM/STS */
    char *key;    /* NULL for account/region-wide calls */
    json_t *parameters;
    enum evidence_outcome outcome;
    char *error_code;
    char *error_message;
    char sha256[DIGEST_SHA256_HEX_LEN + 1];
    size_t size;
    /* Collection details (live collection only; NULL/0 when sealed by hand). */
    char *request_id;
    char *started_at;
    char *ended_at;
    int http_status;
    char *raw_path;
    char raw_sha256[DIGEST_SHA256_HEX_LEN + 1];
    /* Read side only. */
    size_t manifest_index; /* position in "calls", for citations of the manifest itself */
    json_t *document;      /* the parsed file when outcome is OK */
    /* Evidence that did not come from an API file (a CloudFormation template, say) maps JSON
     * pointers of `document` to where they came from: {"/Table/SSEDescription":
     * {"file": "stack.yaml", "line": 12, "column": 7}}. Citations carry the nearest one. */
    json_t *locations;
};

struct evidence_snapshot {
    char *root; /* directory */
    char *name; /* its last path component, e.g. "sample" */
    char *account;
    char *partition;
    char **regions;
    size_t region_count;
    char *period_start; /* YYYY-MM-DD or NULL */
    char *period_end;
    char *collected_at; /* RFC 3339 UTC */
    char *tool;
    int complete;
    char manifest_sha256[DIGEST_SHA256_HEX_LEN + 1];
    struct evidence_call *calls; /* sorted by service, region, operation, key */
    size_t call_count;
    size_t call_capacity;
};

/* Opens a snapshot: parses manifest.json (errors point at file:line:col), refuses unknown fields,
 * paths that leave the snapshot and symbolic links, checks every file's SHA-256 and size against
 * the manifest (a mismatch is DDB_EINPUT: the file changed after sealing), and parses every
 * file. The caller owns *out (evidence_free). */
int evidence_open(struct evidence_snapshot **out, const char *dir, struct diagnostics *d);
void evidence_free(struct evidence_snapshot *snapshot);

/* The entry for one call, or NULL if the snapshot has none (key NULL for region-wide calls). */
const struct evidence_call *evidence_find(const struct evidence_snapshot *snapshot,
                                          const char *region, const char *service,
                                          const char *operation, const char *key);

/* The outcome for a call, EVIDENCE_MISSING when absent. */
enum evidence_outcome evidence_outcome_of(const struct evidence_call *call);
const char *evidence_outcome_name(enum evidence_outcome outcome);

/* Canonical relative path: <account>/<region>/<service>/<Operation>[/<key>].json (fresh string).
 * Returns NULL if a component is not a safe path segment. */
char *evidence_path(const char *account, const char *region, const char *service,
                    const char *operation, const char *key);

/* ---- Writing (collectors, `evidence seal`) ---- */

/* A new, empty snapshot rooted at dir (not created on disk). */
struct evidence_snapshot *evidence_new(const char *dir, const char *account, const char *partition);

/* Adds a copy of `call` (strings and parameters copied; document ignored). A call with the same
 * service/region/operation/key replaces the earlier one (collect --resume). */
int evidence_add_call(struct evidence_snapshot *snapshot, const struct evidence_call *call,
                      struct diagnostics *d);

/* Writes `json` (what the CLI prints) atomically at the call's canonical path, fills path,
 * sha256 and size, and adds the call. Creates directories as needed. */
int evidence_write_document(struct evidence_snapshot *snapshot, struct evidence_call *call,
                            const char *json, size_t len, struct diagnostics *d);

/* Adds an in-memory document (no file): a copy of `call` with `document` and `locations`
 * (both referenced, not copied) and outcome OK. For evidence synthesised from other sources. */
int evidence_add_document(struct evidence_snapshot *snapshot, const struct evidence_call *call,
                          json_t *document, json_t *locations, struct diagnostics *d);

/* Sorts the calls so evidence_find works on a snapshot built with evidence_add_*. */
void evidence_index(struct evidence_snapshot *snapshot);

/* Writes manifest.json atomically, calls sorted, keys in a fixed order, so the same snapshot
 * always gives the same bytes. */
int evidence_write_manifest(struct evidence_snapshot *snapshot, struct diagnostics *d);

/* Seals a directory of hand-gathered AWS CLI outputs (see docs/evidence.md): walks the layout,
 * derives parameters from paths, turns `X.json` (empty) + `X.err` (the CLI's stderr) into
 * denied/not_found/error entries, and writes the manifest. */
struct evidence_seal_options {
    const char *account;
    const char *partition;    /* default "aws" */
    const char *regions;      /* comma list; default: the region directories found */
    const char *period;       /* "YYYY-MM-DD..YYYY-MM-DD" or NULL */
    const char *collected_at; /* RFC 3339; default: newest file mtime, so sealing is repeatable */
};
int evidence_seal(const char *dir, const struct evidence_seal_options *options,
                  struct diagnostics *d);

/* Classifies an AWS error code: AccessDenied* / UnauthorizedOperation → DENIED;
 * PolicyNotFoundException (and other "there is none" answers for the operation) → NOT_FOUND. */
enum evidence_outcome evidence_classify_error(const char *operation, const char *error_code);

#endif
