/* Pre-deployment evidence: CloudFormation/SAM templates mapped into the evidence model, so the
 * same checks judge a stack before it exists (docs/templates.md). Each synthetic document is
 * what the AWS CLI would print once the stack is deployed, and carries the file:line:col of the
 * template property behind every value, or of the resource that lacks it. */
#ifndef DDBAUDIT_CFN_EVIDENCE_H
#define DDBAUDIT_CFN_EVIDENCE_H

#include <stddef.h>

#include "digest.h"

struct evidence_snapshot;
struct diagnostics;

struct cfn_evidence_options {
    const char *const *templates; /* paths, as given on the command line */
    size_t template_count;
    const char *parameters; /* --parameters file, or NULL */
    const char *as_of;      /* YYYY-MM-DD: recorded as the snapshot's collection time */
};

/* Loads every template (all errors reported, each at file:line:col) and builds a snapshot in
 * memory: account and region from the AWS::AccountId / AWS::Region entries of --parameters
 * (defaults 123456789012 and us-east-1), plus every replica region of a global table. The
 * snapshot's name is "template-<first template's base name>"; its root is NULL (no directory,
 * no manifest file) and its manifest digest covers the templates and the parameters. The caller
 * owns *out (evidence_free). */
int cfn_evidence_build(struct evidence_snapshot **out, const struct cfn_evidence_options *options,
                       struct diagnostics *d);

/* The digest cfn_evidence_build records as the evidence manifest's SHA-256, from the templates
 * (paths exactly as given to `report`, in the same order) and the --parameters file (NULL for
 * none), for `ddbaudit verify --template`. Reads the files as they are now; a missing or
 * unreadable one is an error naming it. */
int cfn_evidence_manifest_sha256(char hex[DIGEST_SHA256_HEX_LEN + 1], const char *const *templates,
                                 size_t template_count, const char *parameters_path,
                                 struct diagnostics *d);

#endif
