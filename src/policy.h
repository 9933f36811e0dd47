/* The IAM policy engine: parses identity, resource, trust and endpoint policy documents and
 * computes, for every principal and every table, which DynamoDB actions are allowed, by which
 * statement of which policy, under which conditions. It reads parsed evidence in memory and never
 * does I/O or decides a control's status (checks_identity.c does).
 *
 * Semantics follow the IAM policy evaluation logic
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 * an explicit unconditional Deny removes an Allow; a conditional Deny or Allow is kept with its
 * condition; a permissions boundary limits identity policies; a table's resource policy grants
 * to the principals it names. What the analysis cannot see (SCPs, session policies, boundaries
 * it was not given) is recorded in notes. */
#ifndef DDBAUDIT_POLICY_H
#define DDBAUDIT_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence.h"

struct diagnostics;

#define POLICY_MAX_DOCUMENT ((size_t)1 << 20) /* IAM's own limits are far below this */

/* ---- DynamoDB actions ---- */

enum policy_action_group {
    POLICY_GROUP_READ,     /* item and stream reads */
    POLICY_GROUP_WRITE,    /* item writes */
    POLICY_GROUP_ADMIN,    /* table, backup, policy and setting changes */
    POLICY_GROUP_DESCRIBE, /* metadata: Describe*, ListTagsOfResource, GetResourcePolicy */
    POLICY_GROUP_ACCOUNT,  /* actions DynamoDB only authorizes on "*" (ListTables, ...) */
};
#define POLICY_GROUP_COUNT 5
#define POLICY_MATRIX_GROUPS 4 /* read, write, admin, describe: the per-table ones */

/* Resource kinds an action is authorized on (bits). */
enum policy_resource_kind {
    POLICY_KIND_TABLE = 1u << 0,
    POLICY_KIND_INDEX = 1u << 1,
    POLICY_KIND_STREAM = 1u << 2,
    POLICY_KIND_BACKUP = 1u << 3,
    POLICY_KIND_EXPORT = 1u << 4,
    POLICY_KIND_IMPORT = 1u << 5,
    POLICY_KIND_ACCOUNT = 1u << 6, /* Resource "*" only */
};
#define POLICY_KIND_COUNT 7

struct policy_action_info {
    const char *name; /* without the "dynamodb:" prefix */
    enum policy_action_group group;
    unsigned kinds;
    int privileged; /* DDB-14's administrative actions */
};

/* Every DynamoDB action the engine knows, in one table (policy.c). */
extern const struct policy_action_info policy_actions[];
extern const size_t policy_action_count;

struct policy_action_set {
    uint64_t bits[2];
};

const char *policy_group_name(enum policy_action_group group); /* "read", ... */
int policy_action_index(const char *name);                     /* -1 if unknown */
int policy_action_set_has(const struct policy_action_set *set, size_t action);
int policy_action_set_empty(const struct policy_action_set *set);
struct policy_action_set policy_group_set(enum policy_action_group group);
struct policy_action_set policy_privileged_set(void);
struct policy_action_set policy_all_actions_set(void);
/* The actions of `set` as a JSON array of "dynamodb:Name" strings (new reference). */
json_t *policy_action_set_json(const struct policy_action_set *set);

/* ---- Matching ---- */

/* IAM action matching: `*` and `?` wildcards, case-insensitive ("DynamoDB:get*" matches
 * "dynamodb:GetItem"). */
int policy_action_matches(const char *pattern, const char *action);
/* IAM resource/ARN matching: `*` and `?` wildcards (a `*` spans `/` and `:` too), case-sensitive;
 * policy variables such as ${aws:username} match anything. */
int policy_arn_matches(const char *pattern, const char *arn);

/* ---- Conditions ---- */

enum policy_condition_kind {
    POLICY_COND_SECURE_TRANSPORT = 1u << 0,  /* aws:SecureTransport */
    POLICY_COND_SOURCE_VPCE = 1u << 1,       /* aws:SourceVpce */
    POLICY_COND_SOURCE_VPC = 1u << 2,        /* aws:SourceVpc */
    POLICY_COND_FINE_GRAINED = 1u << 3,      /* dynamodb:LeadingKeys/Attributes/Select/... */
    POLICY_COND_MFA = 1u << 4,               /* aws:MultiFactorAuthPresent/Age */
    POLICY_COND_SOURCE_IP = 1u << 5,         /* aws:SourceIp */
    POLICY_COND_PRINCIPAL_ORG = 1u << 6,     /* aws:PrincipalOrgID/OrgPaths */
    POLICY_COND_PRINCIPAL_ACCOUNT = 1u << 7, /* aws:PrincipalAccount/PrincipalArn/SourceAccount,
                                                kms:CallerAccount */
    POLICY_COND_OTHER = 1u << 8,             /* anything else (tags, time, ...) */
    POLICY_COND_VIA_SERVICE = 1u << 9,       /* kms:ViaService: only through an AWS service */
};
#define POLICY_COND_KIND_COUNT 10

/* The kinds of every key in a Condition block (0 for none or an empty block). */
unsigned policy_condition_classify(json_t *condition);
const char *policy_condition_kind_name(unsigned kind); /* one bit: "secure_transport", ... */
/* The conditions as [{kind, operator, key, values}] (new reference). */
json_t *policy_condition_json(json_t *condition);
/* 1 when the block is exactly a transport requirement for a Deny: Bool/BoolIfExists
 * aws:SecureTransport = "false". */
int policy_condition_denies_plaintext(json_t *condition);

/* ---- Documents ---- */

enum policy_effect { POLICY_ALLOW, POLICY_DENY };

enum policy_principal_kind {
    POLICY_PRINCIPAL_AWS, /* "*", an account id, or an IAM/STS ARN */
    POLICY_PRINCIPAL_SERVICE,
    POLICY_PRINCIPAL_FEDERATED,
    POLICY_PRINCIPAL_CANONICAL,
};

struct policy_principal_name {
    enum policy_principal_kind kind;
    char *value;
};

struct policy_statement {
    size_t index; /* position in Statement, 0-based */
    char *sid;    /* NULL if absent */
    enum policy_effect effect;
    char **actions; /* Action, or NotAction when not_action */
    size_t action_count;
    int not_action;
    char **resources; /* Resource or NotResource, normalized (policy variables → "*") */
    size_t resource_count;
    int not_resource;
    int has_resource; /* trust policies have none */
    struct policy_principal_name *principals;
    size_t principal_count;
    int not_principal;
    int has_principal;
    json_t *condition; /* borrowed from the document's root; NULL if none */
    unsigned condition_kinds;
    struct policy_action_set dynamodb_actions; /* the known DynamoDB actions it names */
    int all_dynamodb;  /* names every DynamoDB action ("*", "dynamodb:*", ...) */
    int other_actions; /* names actions of other services too (sts:AssumeRole, ...) */
    char *pointer;     /* RFC 6901 pointer of the statement in its evidence file, or NULL */
    void *memo;        /* engine-private: which tables it reaches */
};

enum policy_source {
    POLICY_SOURCE_MANAGED,  /* customer or AWS managed policy (default version) */
    POLICY_SOURCE_INLINE,   /* user, group or role inline policy */
    POLICY_SOURCE_RESOURCE, /* table or stream resource policy */
    POLICY_SOURCE_TRUST,    /* a role's AssumeRolePolicyDocument */
    POLICY_SOURCE_ENDPOINT, /* a VPC endpoint policy */
    POLICY_SOURCE_KEY,      /* a KMS key policy */
    POLICY_SOURCE_OTHER,
};

struct policy_document {
    char *name; /* managed: its ARN; inline: "<principal ARN>#<policy name>"; resource: table ARN */
    enum policy_source source;
    const struct evidence_call *call; /* where it came from, or NULL */
    char *pointer;                    /* the document's pointer in that file, or NULL */
    int encoded;                      /* arrived as a (possibly URL-encoded) JSON string */
    json_t *root;                     /* the parsed document (owned reference) */
    struct policy_statement *statements;
    size_t statement_count;
    char *error;          /* non-NULL when malformed: the document then has no statements */
    size_t attachments;   /* principals it reaches (identity policies) */
    size_t boundary_uses; /* principals it bounds as a permissions boundary */
};

/* Parses a policy document given as a JSON object, a JSON string, or a URL-encoded JSON string.
 * Always returns a document (NULL only when out of memory): a malformed one has `error` set and
 * no statements, so one bad policy becomes a finding rather than a failure. `pointer` (may be
 * NULL) is where `value` sits in `call`'s file. Free with policy_document_free. */
struct policy_document *policy_document_parse(json_t *value, const char *name,
                                              enum policy_source source,
                                              const struct evidence_call *call,
                                              const char *pointer);
void policy_document_free(struct policy_document *document);

/* Decodes %XX and '+' (IAM returns documents URL-encoded, RFC 3986). Returns a fresh string or
 * NULL when an escape is malformed or decodes to NUL. */
char *policy_url_decode(const char *text, size_t len);

/* ---- Analysis ---- */

struct policy_table_input {
    const char *region;
    const char *name;
    json_t *resource_policy; /* GetResourcePolicy document for the table, or NULL for none */
    json_t *stream_policy;   /* ... for its stream, or NULL */
    const struct evidence_call *resource_policy_call;
    const struct evidence_call *stream_policy_call;
};

struct policy_input {
    const char *partition; /* "aws" if NULL */
    const char *account;
    json_t *authorization_details; /* GetAccountAuthorizationDetails document, or NULL */
    const struct evidence_call *authorization_call;
    const struct policy_table_input *tables;
    size_t table_count;
};

enum policy_principal_type {
    POLICY_PRINCIPAL_USER,
    POLICY_PRINCIPAL_ROLE,
    POLICY_PRINCIPAL_EXTERNAL, /* another account, its user/role, or an unknown ARN */
    POLICY_PRINCIPAL_PUBLIC,   /* "*" in a resource policy */
    POLICY_PRINCIPAL_SERVICE_NAME,
};

/* One statement behind a cell. */
struct policy_grant {
    const struct policy_document *document;
    const struct policy_statement *statement;
    const char *via; /* the group it was inherited through, or NULL */
};

#define POLICY_ALL_TABLES ((size_t)-1)

/* A principal's access to one table, or to every table (table == POLICY_ALL_TABLES). */
struct policy_cell {
    size_t table;
    struct policy_action_set allowed;     /* unconditionally */
    struct policy_action_set conditional; /* only when some condition holds */
    struct policy_action_set plaintext;   /* allowed without a SecureTransport deny covering it */
    struct policy_grant *grants; /* statements that shaped it; a table cell lists only its own,
                                    the principal's all-tables grants apply as well */
    size_t grant_count;
};

struct policy_principal {
    enum policy_principal_type type;
    char *arn;
    char *name;
    char *pointer;                     /* its entry in the authorization details, or NULL */
    json_t *detail;                    /* that entry (borrowed), or NULL */
    struct policy_document **policies; /* identity policies that reach it */
    const char **via;                  /* parallel: group name or NULL */
    size_t policy_count;
    struct policy_document *boundary; /* NULL if none */
    int boundary_unresolved;          /* a boundary was set but its document is not in evidence */
    struct policy_document *trust;    /* roles: the trust policy */
    struct policy_cell all;           /* access on every table (and Resource "*") */
    struct policy_cell *cells;        /* per table, where it differs from `all`; by table */
    size_t cell_count;
    struct policy_action_set any; /* every action allowed anywhere, firmly or conditionally */
    size_t unresolved_policies;   /* attached managed policies missing from the evidence */
};

struct policy_table {
    char *region;
    char *name;
    char *arn;
    struct policy_document *resource_policy; /* NULL if none */
    struct policy_document *stream_policy;
    const struct evidence_call *resource_policy_call;
    const struct evidence_call *stream_policy_call;
    /* The resource policy's Deny of every DynamoDB action on the table and its indexes to every
     * caller when aws:SecureTransport is false, or NULL. Cells do not repeat it. */
    const struct policy_statement *transport_deny;
};

struct policy_analysis {
    char *partition;
    char *account;
    struct policy_table *tables;
    size_t table_count;
    struct policy_principal *principals; /* users, roles, then external principals */
    size_t principal_count;
    struct policy_document **documents; /* every identity document parsed, attached or not */
    size_t document_count;
    json_t *notes; /* strings: what the analysis could not see */
    const struct evidence_call *authorization_call;
    void *state; /* engine-private indexes */
};

/* Runs the analysis. The input's JSON documents must outlive the result (it borrows them).
 * Returns 0, or DDB_ERUNTIME when memory runs out. *out is the caller's (policy_analysis_free). */
int policy_analyze(struct policy_analysis **out, const struct policy_input *input,
                   struct diagnostics *d);
void policy_analysis_free(struct policy_analysis *analysis);

/* The cell for (principal, table): its own cell if it has one, else its all-tables cell. */
const struct policy_cell *policy_cell_for(const struct policy_principal *principal, size_t table);

/* Builds the input from a snapshot: IAM authorization details, every region's ListTables and each
 * table's GetResourcePolicy (table and @stream). Missing pieces become notes. The caller frees
 * input->tables with policy_input_release. */
int policy_input_from_snapshot(struct policy_input *input, const struct evidence_snapshot *snapshot,
                               json_t *notes, struct diagnostics *d);
void policy_input_release(struct policy_input *input);

/* The access matrix (docs: see policy.c, "Access matrix shape"): principal × table × action group
 * with the statements behind each cell. New reference. */
json_t *policy_analysis_matrix(const struct policy_analysis *analysis);

/* The access matrix for report.json's "access" member, straight from a snapshot (new reference,
 * NULL only when out of memory). */
json_t *policy_access_matrix(const struct evidence_snapshot *snapshot, struct diagnostics *d);

#endif
