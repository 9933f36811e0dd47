/* The evaluator: a pure function of (catalog, evidence, exceptions, attestations, as-of date)
 * to results. No I/O, no clock: the same inputs give the same results. */
#ifndef DDBAUDIT_EVALUATE_H
#define DDBAUDIT_EVALUATE_H

#include <jansson.h>

struct catalog;
struct evidence_snapshot;
struct exception_set;
struct attestation_set;
struct results;
struct diagnostics;

/* Where the evidence came from: a snapshot of a live account, or CloudFormation templates
 * before deployment (cfn_evidence.h), where checks that need live evidence do not run. */
enum evidence_source { EVIDENCE_FROM_SNAPSHOT, EVIDENCE_FROM_TEMPLATE };

struct evaluation_inputs {
    const struct catalog *catalog;
    const struct evidence_snapshot *evidence;
    struct exception_set *exceptions;           /* may be NULL; match counts are updated */
    const struct attestation_set *attestations; /* may be NULL */
    const char *as_of;                          /* YYYY-MM-DD */
    const char *only_control;    /* evaluate just this one (and its inputs), or NULL */
    enum evidence_source source; /* EVIDENCE_FROM_SNAPSHOT unless set */
    /* CloudTrail activity of the period (activity_sources.h; borrowed, and referenced by the
     * results as report.json's "activity"), or NULL with activity_absent saying why: the
     * activity-based findings of DDB-05, 08, 11, 16, 17 and 22 are then Review with that reason.
     * Both NULL (template evidence, or a caller that does not look at activity): those
     * findings are not made at all. `report` and `run` always set one. */
    json_t *activity;
    const char *activity_absent;
};

int evaluate(struct results **out, const struct evaluation_inputs *in, struct diagnostics *d);

#endif
