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
static int principal_outside(json_t *principal, const char *account)
{
    if (json_is_string(principal))
        return !strcmp(json_string_value(principal), "*") ||
               !strstr(json_string_value(principal), account);
    json_t *aws = json_object_get(principal, "AWS");
    if (json_is_string(aws))
        return principal_outside(aws, account);
    size_t i;
    json_t *p;
    json_array_foreach(aws, i, p)
    {
        if (principal_outside(p, account))
            return 1;
    }
    return 0;
}

static int visit_key_policy(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *describe =
        evidence_find(ctx->evidence, table->region, "dynamodb", "DescribeTable", table->name);
    const char *key_arn =
        describe ? json_string_value(json_pointer_get(describe->document,
                                                      "/Table/SSEDescription/KMSMasterKeyArn"))
                 : NULL;
    if (!key_arn || !strstr(key_arn, ":key/"))
        return 0;
    /* Only customer managed keys have policies the customer writes. */
    char region[64];
    const char *p = key_arn;
    for (int i = 0; i < 3 && p; i++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    if (!p || !strchr(p, ':'))
        return 0;
    snprintf(region, sizeof(region), "%.*s", (int)(strchr(p, ':') - p), p);
    const char *key_id = strstr(key_arn, ":key/") + 5;
    const struct evidence_call *key =
        evidence_find(ctx->evidence, region, "kms", "DescribeKey", key_id);
    const char *manager =
        key ? json_string_value(json_pointer_get(key->document, "/KeyMetadata/KeyManager")) : NULL;
    if (!manager || strcmp(manager, "CUSTOMER"))
        return 0;
    for (size_t i = 0; i < ctx->result->finding_count; i++)
        if (!strcmp(ctx->result->findings[i].resource, key_arn))
            return 0; /* a key shared by several tables is judged once */
    const struct evidence_call *policy =
        check_require(ctx, key_arn, region, "kms", "GetKeyPolicy", key_id);
    if (!policy)
        return 0;
    const char *text = json_string_value(json_object_get(policy->document, "Policy"));
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    if (!doc) {
        struct finding *f = result_add_finding(ctx->result, key_arn, STATUS_REVIEW,
                                               "the key policy is not readable JSON");
        check_cite(ctx, f, policy, "/Policy");
        return 0;
    }
    json_t *statements = json_object_get(doc, "Statement");
    if (json_is_object(statements)) {
        json_t *one = json_array();
        json_array_append(one, statements);
        statements = one;
    } else {
        json_incref(statements);
    }
    int open = 0;
    size_t i;
    json_t *st;
    json_array_foreach(statements, i, st)
    {
        const char *effect = json_string_value(json_object_get(st, "Effect"));
        if (effect && !strcmp(effect, "Allow") && !json_object_get(st, "Condition") &&
            principal_outside(json_object_get(st, "Principal"), ctx->evidence->account))
            open = 1;
    }
    json_decref(statements);
    json_decref(doc);
    struct finding *f =
        result_add_finding(ctx->result, key_arn, open ? STATUS_REMEDIATE : STATUS_PASS,
                           open ? "the key policy allows principals outside account %s without a "
                                  "condition"
                                : "the key policy grants access only within account %s",
                           ctx->evidence->account);
    check_cite(ctx, f, policy, "/Policy");
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
