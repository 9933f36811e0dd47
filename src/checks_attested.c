/* Inherited controls (DDB-01, 06, 07, 09): what AWS operates is shown by a current attestation
 * (e.g. a SOC 2 report from AWS Artifact). No attestation, or a stale one, is Review; a region
 * holding tables that the certification does not cover is Remediate. */
#include "attestations.h"
#include "catalog.h"
#include "check.h"
#include "date.h"

#include <stdio.h>
#include <string.h>

/* Adds the account-wide finding an attestation supports; returns 1 when it is current. */
static int attested_finding(struct check_context *ctx, const struct attestation **out)
{
    char scope[256];
    check_account_scope(ctx, scope, sizeof(scope));
    long as_of_day = 0;
    date_parse(ctx->as_of, &as_of_day);
    long limit = check_param_int(ctx, "max_age_days", 0);
    const struct attestation *a =
        attestation_find(ctx->attestations, ctx->control->id, NULL, as_of_day, limit);
    *out = a;
    if (!a) {
        result_add_finding(ctx->result, scope, STATUS_REVIEW,
                           "no attestation on file for %s: attach the provider's report (e.g. "
                           "from AWS Artifact) in attestations.yaml",
                           ctx->control->id);
        return 0;
    }
    const char *state = attestation_state(a, as_of_day, check_param_int(ctx, "max_age_days", 0));
    if (strcmp(state, "current")) {
        struct finding *f = result_add_finding(
            ctx->result, scope, STATUS_REVIEW, "attestation by %s dated %s is %s%s%s%s",
            a->attested_by, a->date, state,
            !strcmp(state, "stale") ? " (older than its max_age_days)" : "", a->problem ? ": " : "",
            a->problem ? a->problem : "");
        f->attestation = attestation_json(a, as_of_day, check_param_int(ctx, "max_age_days", 0));
        return 0;
    }
    return 1;
}

int check_attested_inherited(struct check_context *ctx)
{
    const struct attestation *a;
    if (!attested_finding(ctx, &a))
        return 0;
    char scope[256];
    check_account_scope(ctx, scope, sizeof(scope));
    long as_of_day = 0;
    date_parse(ctx->as_of, &as_of_day);
    struct finding *f = result_add_finding(ctx->result, scope, STATUS_PASS,
                                           "inherited from AWS; attested by %s on %s: %s",
                                           a->attested_by, a->date, a->statement);
    f->attestation = attestation_json(a, as_of_day, check_param_int(ctx, "max_age_days", 0));
    return 0;
}

static int region_in(json_t *regions, const char *region)
{
    size_t i;
    json_t *r;
    json_array_foreach(regions, i, r)
    {
        if (json_is_string(r) && !strcmp(json_string_value(r), region))
            return 1;
    }
    return 0;
}

int check_attested_certification(struct check_context *ctx)
{
    const struct attestation *a;
    if (!attested_finding(ctx, &a))
        return 0;
    long as_of_day = 0;
    date_parse(ctx->as_of, &as_of_day);
    const struct evidence_snapshot *s = ctx->evidence;
    for (size_t i = 0; i < s->region_count; i++) {
        char scope[256];
        check_region_scope(ctx, s->regions[i], scope, sizeof(scope));
        const struct evidence_call *list =
            check_require(ctx, scope, s->regions[i], "dynamodb", "ListTables", NULL);
        if (!list)
            continue;
        size_t tables = json_array_size(json_object_get(list->document, "TableNames"));
        if (tables == 0)
            continue;
        struct finding *f;
        if (a->regions && region_in(a->regions, s->regions[i]))
            f = result_add_finding(ctx->result, scope, STATUS_PASS,
                                   "%zu table%s in %s; the certification attested on %s covers "
                                   "the region",
                                   tables, tables == 1 ? "" : "s", s->regions[i], a->date);
        else
            f = result_add_finding(ctx->result, scope, STATUS_REMEDIATE,
                                   "%zu table%s in %s, a region the attested certification does "
                                   "not list",
                                   tables, tables == 1 ? "" : "s", s->regions[i]);
        check_cite(ctx, f, list, "/TableNames");
        f->attestation = attestation_json(a, as_of_day, check_param_int(ctx, "max_age_days", 0));
    }
    return 0;
}

/* DDB-07: AWS's own access is attested; a customer key's policy must not open the key to other
 * accounts or to everyone. */

/* The account a principal string names: a bare 12-digit id or an ARN's account field;
 * "*" (everyone) gives "*", anything else NULL. */
static const char *principal_account(const char *principal, char out[16])
{
    if (!strcmp(principal, "*"))
        return "*";
    if (strlen(principal) == 12 && strspn(principal, "0123456789") == 12)
        return principal;
    if (strncmp(principal, "arn:", 4))
        return NULL;
    const char *p = principal;
    for (int field = 0; field < 4 && p; field++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    if (!p || strcspn(p, ":") != 12)
        return NULL;
    snprintf(out, 16, "%.12s", p);
    return out;
}

static int names_outside(json_t *value, const char *account)
{
    if (json_is_string(value)) {
        char buffer[16];
        const char *owner = principal_account(json_string_value(value), buffer);
        return !owner || strcmp(owner, account);
    }
    size_t i;
    json_t *p;
    json_array_foreach(value, i, p)
    {
        if (names_outside(p, account))
            return 1;
    }
    return 0;
}

/* Whether a statement's principal reaches outside the account. AWS service principals are
 * AWS acting for the account (their use is confined by kms:ViaService and grants). */
static int principal_outside(json_t *principal, const char *account)
{
    if (json_is_string(principal))
        return names_outside(principal, account);
    json_t *aws = json_object_get(principal, "AWS");
    return aws && names_outside(aws, account);
}

/* Conditions that confine a broad principal to this account or organisation. */
static int confines_caller(json_t *condition)
{
    static const char *const keys[] = {"kms:CallerAccount", "aws:PrincipalAccount",
                                       "aws:PrincipalOrgID", "kms:ViaService", NULL};
    const char *op;
    json_t *block;
    json_object_foreach(condition, op, block)
    {
        const char *key;
        json_t *value;
        json_object_foreach(block, key, value)
        {
            for (const char *const *k = keys; *k; k++)
                if (!strcasecmp(key, *k))
                    return 1;
        }
    }
    return 0;
}

/* 0 closed, 1 open without a confining condition, 2 open behind conditions this check cannot
 * judge. */
static int key_policy_openness(json_t *doc, const char *account)
{
    json_t *statements = json_object_get(doc, "Statement");
    int worst = 0;
    size_t n = json_is_array(statements) ? json_array_size(statements) : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *st = json_is_array(statements) ? json_array_get(statements, i) : statements;
        const char *effect = json_string_value(json_object_get(st, "Effect"));
        if (!effect || strcmp(effect, "Allow"))
            continue;
        /* Allow with NotPrincipal allows everyone but the listed principals. */
        int outside = json_object_get(st, "NotPrincipal")
                          ? 1
                          : principal_outside(json_object_get(st, "Principal"), account);
        if (!outside)
            continue;
        json_t *condition = json_object_get(st, "Condition");
        int level = !condition ? 1 : confines_caller(condition) ? 0 : 2;
        if (level == 1 || (level == 2 && worst == 0))
            worst = level;
    }
    return worst;
}

/* A key shared by several tables is judged once. */
static int key_judged(struct check_context *ctx, const char *key_arn)
{
    for (size_t i = 0; i < ctx->result->finding_count; i++)
        if (!strcmp(ctx->result->findings[i].resource, key_arn))
            return 1;
    return 0;
}

static int visit_key_policy(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *describe =
        check_require(ctx, table->arn, table->region, "dynamodb", "DescribeTable", table->name);
    if (!describe)
        return 0;
    const char *key_arn = json_string_value(
        json_pointer_get(describe->document, "/Table/SSEDescription/KMSMasterKeyArn"));
    char region[64], key_id[256];
    if (!key_arn || check_kms_key_ref(key_arn, region, sizeof(region), key_id, sizeof(key_id)) < 0)
        return 0; /* an AWS owned key: the attestation alone covers it */
    if (key_judged(ctx, key_arn))
        return 0;
    const struct evidence_call *key =
        check_require(ctx, key_arn, region, "kms", "DescribeKey", key_id);
    if (!key)
        return 0;
    /* Only customer managed keys have policies the customer writes. */
    const char *manager =
        json_string_value(json_pointer_get(key->document, "/KeyMetadata/KeyManager"));
    if (!manager || strcmp(manager, "CUSTOMER"))
        return 0;
    const struct evidence_call *policy =
        check_require(ctx, key_arn, region, "kms", "GetKeyPolicy", key_id);
    if (!policy)
        return 0;
    const char *text = json_string_value(json_object_get(policy->document, "Policy"));
    json_t *doc = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(doc)) {
        struct finding *f = result_add_finding(ctx->result, key_arn, STATUS_REVIEW,
                                               "the key policy is not a readable JSON policy");
        check_cite(ctx, f, policy, "/Policy");
        json_decref(doc);
        return 0;
    }
    int open = key_policy_openness(doc, ctx->evidence->account);
    json_decref(doc);
    const char *account = ctx->evidence->account;
    struct finding *f;
    if (open == 0)
        f = result_add_finding(ctx->result, key_arn, STATUS_PASS,
                               "the key policy grants access only within account %s", account);
    else if (open == 1)
        f = result_add_finding(ctx->result, key_arn, STATUS_REMEDIATE,
                               "the key policy allows principals outside account %s without a "
                               "condition that confines them",
                               account);
    else
        f = result_add_finding(ctx->result, key_arn, STATUS_REVIEW,
                               "the key policy allows principals outside account %s behind "
                               "conditions a person must judge",
                               account);
    check_cite(ctx, f, policy, "/Policy");
    check_cite(ctx, f, key, "/KeyMetadata/KeyManager");
    return 0;
}

int check_csp_access(struct check_context *ctx)
{
    const struct attestation *a;
    if (attested_finding(ctx, &a)) {
        char scope[256];
        check_account_scope(ctx, scope, sizeof(scope));
        long as_of_day = 0;
        date_parse(ctx->as_of, &as_of_day);
        struct finding *f = result_add_finding(ctx->result, scope, STATUS_PASS,
                                               "AWS staff access controls attested by %s on %s",
                                               a->attested_by, a->date);
        f->attestation = attestation_json(a, as_of_day, check_param_int(ctx, "max_age_days", 0));
    }
    return check_each_table(ctx, visit_key_policy);
}
