/* Inherited controls (DDB-01, 06, 07, 09): what AWS operates is shown by a current attestation
 * (e.g. a SOC 2 report from AWS Artifact). No attestation, or a stale one, is Review; a region
 * holding tables that the certification does not cover is Remediate. */
#include "attestations.h"
#include "buf.h"
#include "catalog.h"
#include "check.h"
#include "date.h"
#include "diag.h"
#include "policy.h"

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
 * accounts or to everyone. The key policy goes through the policy engine (policy.c) like every
 * other policy, and the finding says who may use the key and who may administer it. */

/* Using the key on the table's data, and taking the data away from its owner: the actions a key
 * policy reader asks about (https://docs.aws.amazon.com/kms/latest/developerguide/
 * key-policy-default.html). */
static const char *const key_use_actions[] = {
    "kms:Decrypt",         "kms:Encrypt",
    "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",   "kms:ReEncryptTo",
    "kms:CreateGrant",     NULL};
static const char *const key_admin_actions[] = {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
                                                "kms:DisableKey", NULL};

static int statement_allows_any(const struct policy_statement *st, const char *const *actions)
{
    for (const char *const *a = actions; *a; a++) {
        int named = 0;
        for (size_t i = 0; i < st->action_count && !named; i++)
            named = policy_action_matches(st->actions[i], *a);
        if (st->not_action ? !named : named)
            return 1;
    }
    return 0;
}

/* The account of a principal string: a bare 12-digit id or an ARN's account field. */
static int principal_account(const char *principal, char out[16])
{
    if (strlen(principal) == 12 && strspn(principal, "0123456789") == 12) {
        snprintf(out, 16, "%s", principal);
        return 1;
    }
    if (strncmp(principal, "arn:", 4))
        return 0;
    const char *p = principal;
    for (int field = 0; field < 4 && p; field++)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    if (!p || strcspn(p, ":") != 12 || strspn(p, "0123456789") != 12)
        return 0;
    snprintf(out, 16, "%.12s", p);
    return 1;
}

enum key_confinement {
    KEY_CONFINED_NONE,    /* no condition narrows the callers */
    KEY_CONFINED_ACCOUNT, /* kms:CallerAccount, aws:PrincipalAccount or aws:PrincipalArn: this
                             account only */
    KEY_CONFINED_OTHER,   /* such a key names another account (or a wildcard) */
    KEY_CONFINED_UNKNOWN, /* only conditions a person must judge: organization, kms:ViaService
                             alone, tags, ... */
};

/* What a statement's conditions confine its callers to. Conditions are ANDed, so one key that
 * names only this account is enough; negated and IfExists operators confine nothing. */
static enum key_confinement key_confinement(json_t *condition, const char *account)
{
    int own = 0, other = 0, unknown = 0;
    const char *operator;
    json_t *block;
    json_object_foreach(condition, operator, block)
    {
        int positive = !strstr(operator, "Not") && strncmp(operator, "Null", 4) &&
                       !strstr(operator, "IfExists");
        const char *key;
        json_t *values;
        json_object_foreach(block, key, values)
        {
            int account_key = !strcasecmp(key, "kms:CallerAccount") ||
                              !strcasecmp(key, "aws:PrincipalAccount") ||
                              !strcasecmp(key, "aws:PrincipalArn");
            if (!positive || !account_key) {
                unknown = 1;
                continue;
            }
            int all_own = 1;
            size_t n = json_is_array(values) ? json_array_size(values) : 1;
            for (size_t i = 0; i < n; i++) {
                json_t *value = json_is_array(values) ? json_array_get(values, i) : values;
                char owner[16];
                const char *text = json_string_value(value);
                if (!text || strpbrk(text, "*?") || !principal_account(text, owner) ||
                    strcmp(owner, account))
                    all_own = 0;
            }
            if (all_own && n)
                own = 1;
            else
                other = 1;
        }
    }
    if (own)
        return KEY_CONFINED_ACCOUNT;
    if (other)
        return KEY_CONFINED_OTHER;
    return unknown ? KEY_CONFINED_UNKNOWN : KEY_CONFINED_NONE;
}

/* Values of a condition key anywhere in a block ("dynamodb.eu-west-1.amazonaws.com"), appended
 * to a JSON array. */
static void condition_values(json_t *condition, const char *wanted, json_t *out)
{
    const char *operator;
    json_t *block;
    json_object_foreach(condition, operator, block)
    {
        const char *key;
        json_t *values;
        json_object_foreach(block, key, values)
        {
            if (strcasecmp(key, wanted))
                continue;
            size_t n = json_is_array(values) ? json_array_size(values) : 1;
            for (size_t i = 0; i < n; i++) {
                json_t *value = json_is_array(values) ? json_array_get(values, i) : values;
                if (json_is_string(value))
                    json_array_append(out, value);
            }
        }
    }
}

/* Who the key policy lets use and administer the key, and its worst opening:
 * 0 closed, 1 open (Remediate), 2 open behind conditions a person must judge (Review). */
struct key_policy_view {
    json_t *use, *administer; /* principal strings, in statement order, with duplicates removed */
    json_t *via_service;      /* kms:ViaService values of the statements that grant use */
    int worst;
    const struct policy_statement *worst_statement;
    const char *worst_principal;
    const char *why;
};

static void list_once(json_t *list, const char *name)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (!strcmp(json_string_value(item), name))
            return;
    }
    json_array_append_new(list, json_string(name));
}

static void key_policy_view(struct key_policy_view *view, const struct policy_document *doc,
                            const char *account)
{
    view->use = json_array();
    view->administer = json_array();
    view->via_service = json_array();
    view->worst = 0;
    for (size_t s = 0; s < doc->statement_count; s++) {
        const struct policy_statement *st = &doc->statements[s];
        if (st->effect != POLICY_ALLOW)
            continue;
        int use = statement_allows_any(st, key_use_actions);
        int admin = statement_allows_any(st, key_admin_actions);
        if (!use && !admin)
            continue;
        if (use && st->condition)
            condition_values(st->condition, "kms:ViaService", view->via_service);
        enum key_confinement confined =
            st->condition ? key_confinement(st->condition, account) : KEY_CONFINED_NONE;
        size_t n = st->not_principal ? 1 : st->principal_count;
        for (size_t k = 0; k < n; k++) {
            const char *name = st->not_principal ? "*" : st->principals[k].value;
            enum policy_principal_kind kind =
                st->not_principal ? POLICY_PRINCIPAL_AWS : st->principals[k].kind;
            char label[600], owner[16];
            int level = 0;
            const char *why = NULL;
            if (kind == POLICY_PRINCIPAL_SERVICE) {
                snprintf(label, sizeof(label), "service %s", name);
            } else if (kind != POLICY_PRINCIPAL_AWS) {
                snprintf(label, sizeof(label), "%s", name);
                level = 2;
                why = "a federated or canonical principal";
            } else if (!strcmp(name, "*")) {
                snprintf(label, sizeof(label), "%s",
                         st->not_principal ? "every principal but those NotPrincipal names"
                         : confined == KEY_CONFINED_ACCOUNT ? "any principal of this account"
                                                            : "\"*\"");
                if (confined == KEY_CONFINED_NONE) {
                    level = 1;
                    why = "every principal (public), without a condition that confines them";
                } else if (confined == KEY_CONFINED_OTHER) {
                    level = 1;
                    why = "every principal of an account outside this one";
                } else if (confined == KEY_CONFINED_UNKNOWN) {
                    level = 2;
                    why = "every principal, narrowed only by conditions a person must judge "
                          "(kms:ViaService alone does not confine callers to this account)";
                }
            } else if (!principal_account(name, owner)) {
                snprintf(label, sizeof(label), "%s", name);
                level = 2;
                why = "a principal whose account cannot be read";
            } else {
                size_t len = strlen(name);
                /* The account itself: its IAM policies decide who of it may use the key. */
                if (!strcmp(owner, account) &&
                    (len == 12 || (len > 5 && !strcmp(name + len - 5, ":root"))))
                    snprintf(label, sizeof(label), "account %s (its IAM policies decide)", owner);
                else
                    snprintf(label, sizeof(label), "%s", name);
                if (strcmp(owner, account) && confined != KEY_CONFINED_ACCOUNT) {
                    level = confined == KEY_CONFINED_UNKNOWN ? 2 : 1;
                    why = confined == KEY_CONFINED_UNKNOWN
                              ? "a principal of another account, behind conditions a person "
                                "must judge"
                              : "a principal of another account";
                }
            }
            if (use)
                list_once(view->use, label);
            if (admin)
                list_once(view->administer, label);
            /* 1 (open) is worse than 2 (behind conditions); the first worst one is named. */
            if (level && (!view->worst || (level == 1 && view->worst == 2))) {
                view->worst = level;
                view->worst_statement = st;
                view->worst_principal = name;
                view->why = why;
            }
        }
    }
}

static void key_policy_view_free(struct key_policy_view *view)
{
    json_decref(view->use);
    json_decref(view->administer);
    json_decref(view->via_service);
}

/* "a, b and c" for a JSON array of strings (at most 10 named). */
static void names_text(struct buf *b, json_t *list)
{
    size_t n = json_array_size(list);
    if (!n) {
        buf_puts(b, "no principal");
        return;
    }
    for (size_t i = 0; i < n && i < 10; i++)
        buf_printf(b, "%s%s",
                   i == 0       ? ""
                   : i + 1 == n ? " and "
                                : ", ",
                   json_string_value(json_array_get(list, i)));
    if (n > 10)
        buf_printf(b, " and %zu more", n - 10);
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
    struct policy_document *doc = policy_document_parse(
        json_object_get(policy->document, "Policy"), key_arn, POLICY_SOURCE_KEY, policy, "/Policy");
    if (!doc)
        return DDB_ERUNTIME;
    if (doc->error) {
        struct finding *f = result_add_finding(ctx->result, key_arn, STATUS_REVIEW,
                                               "the key policy cannot be read: %s", doc->error);
        check_cite(ctx, f, policy, "/Policy");
        policy_document_free(doc);
        return 0;
    }
    const char *account = ctx->evidence->account;
    struct key_policy_view view;
    key_policy_view(&view, doc, account);
    struct buf users, admins, text;
    buf_init(&users, 1 << 14);
    buf_init(&admins, 1 << 14);
    buf_init(&text, 1 << 15);
    names_text(&users, view.use);
    names_text(&admins, view.administer);
    buf_printf(&text,
               "use (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*, CreateGrant): %s; "
               "administration (PutKeyPolicy, ScheduleKeyDeletion, DisableKey): %s",
               buf_cstr(&users), buf_cstr(&admins));
    if (json_array_size(view.via_service)) {
        buf_puts(&text, "; kms:ViaService limits a grant of use to calls through ");
        names_text(&text, view.via_service);
    }
    struct finding *f;
    if (view.worst == 0) {
        f = result_add_finding(ctx->result, key_arn, STATUS_PASS,
                               "the key policy grants access only within account %s: %s", account,
                               buf_cstr(&text));
    } else {
        char label[512];
        snprintf(label, sizeof(label), "statement %zu%s%s%s", view.worst_statement->index,
                 view.worst_statement->sid ? " (Sid \"" : "",
                 view.worst_statement->sid ? view.worst_statement->sid : "",
                 view.worst_statement->sid ? "\")" : "");
        f = result_add_finding(
            ctx->result, key_arn, view.worst == 1 ? STATUS_REMEDIATE : STATUS_REVIEW,
            view.worst == 1 ? "the key policy allows principals outside account %s without a "
                              "condition that confines them: %s grants %s (%s); %s"
                            : "the key policy allows principals outside account %s behind "
                              "conditions a person must judge: %s grants %s (%s); %s",
            account, label, view.why, view.worst_principal, buf_cstr(&text));
    }
    check_cite(ctx, f, policy, "/Policy");
    check_cite_value(ctx, f, policy, "/Policy",
                     json_pack("{s:O, s:O, s:O}", "use", view.use, "administer", view.administer,
                               "via_service", view.via_service));
    check_cite(ctx, f, key, "/KeyMetadata/KeyManager");
    buf_free(&users);
    buf_free(&admins);
    buf_free(&text);
    key_policy_view_free(&view);
    policy_document_free(doc);
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
    size_t before = ctx->result->finding_count;
    int rc = check_each_table(ctx, visit_key_policy);
    int judged = 0;
    for (size_t i = before; i < ctx->result->finding_count; i++)
        judged |= !strncmp(ctx->result->findings[i].reason, "the key policy", 14);
    /* What the key policy alone cannot tell, stated once. */
    if (judged)
        result_add_note(ctx->result,
                        "a key policy that names the account lets its IAM policies decide who of "
                        "it may use the key; identity policies are analysed for DynamoDB actions "
                        "only, and KMS grants (ListGrants) are not in the evidence, so those "
                        "users are not listed");
    return rc;
}
