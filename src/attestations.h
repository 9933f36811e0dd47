/* Attestations (attestations.yaml): manual evidence for what no API shows, such as an AWS
 * Artifact report or a client-side-encryption design review. An inherited control passes only on
 * a current attestation. Artifact files are hashed at load so a changed artifact is caught. */
#ifndef DDBAUDIT_ATTESTATIONS_H
#define DDBAUDIT_ATTESTATIONS_H

#include <jansson.h>
#include <stddef.h>

#include "digest.h"

struct diagnostics;
struct catalog;

struct attestation {
    char *control;
    char *resource; /* ARN glob, or NULL for the whole account */
    char *statement;
    char *attested_by;
    char *date; /* YYYY-MM-DD */
    long day;
    long max_age_days;
    json_t *artifacts; /* [{file, sha256} | {url}] */
    json_t *regions;   /* list of region names, or NULL */
    char *problem;     /* why it can't be relied on (artifact hash mismatch), or NULL */
    int line;
};

struct attestation_set {
    char *file;
    char sha256[DIGEST_SHA256_HEX_LEN + 1];
    struct attestation *items;
    size_t count;
};

int attestations_load(struct attestation_set **out, const char *path, const struct catalog *catalog,
                      struct diagnostics *d);
void attestations_free(struct attestation_set *set);

/* The attestation for the control whose resource glob matches `resource` (a NULL glob matches
 * everything): the newest current one, else the newest of any state (for the message), else
 * NULL. max_age_limit is the catalog's max_age_days (0 = none): the stricter of it and the
 * attestation's own limit applies, so whoever writes an attestation cannot set the policy.
 * set may be NULL. */
const struct attestation *attestation_find(const struct attestation_set *set,
                                           const char *control_id, const char *resource,
                                           long as_of_day, long max_age_limit);

/* "current", "stale" (older than its effective max age at as_of), "future" (dated after as_of)
 * or "unusable" (problem set). */
const char *attestation_state(const struct attestation *a, long as_of_day, long max_age_limit);

/* The attestation as report.json shows it (a new reference), with its effective max age. */
json_t *attestation_json(const struct attestation *a, long as_of_day, long max_age_limit);

#endif
