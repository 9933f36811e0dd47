/* DDB-13 key management: every customer managed key a table uses is enabled, not pending
 * deletion, and rotates. AWS owned and AWS managed keys are AWS's to rotate and out of scope. */
#include "check.h"

#include <stdio.h>
#include <string.h>

static int visit_table_key(struct check_context *ctx, const struct table_ref *table)
{
    const struct evidence_call *describe =
        check_require(ctx, table->arn, table->region, "dynamodb", "DescribeTable", table->name);
    if (!describe)
        return 0;
    const char *key_arn = json_string_value(
        json_pointer_get(describe->document, "/Table/SSEDescription/KMSMasterKeyArn"));
    if (!key_arn)
        return 0;
    for (size_t i = 0; i < ctx->result->finding_count; i++)
        if (!strcmp(ctx->result->findings[i].resource, key_arn))
            return 0;
    char region[64], key_id[256];
    if (check_kms_key_ref(key_arn, region, sizeof(region), key_id, sizeof(key_id)) < 0) {
        struct finding *f = result_add_finding(ctx->result, table->arn, STATUS_REVIEW,
                                               "cannot read the KMS key ARN '%s'", key_arn);
        check_cite(ctx, f, describe, "/Table/SSEDescription/KMSMasterKeyArn");
        return 0;
    }
    const struct evidence_call *key =
        check_require(ctx, key_arn, region, "kms", "DescribeKey", key_id);
    if (!key)
        return 0;
    json_t *meta = json_object_get(key->document, "KeyMetadata");
    const char *manager = json_string_value(json_object_get(meta, "KeyManager"));
    if (manager && !strcmp(manager, "AWS"))
        return 0;
    const char *state = json_string_value(json_object_get(meta, "KeyState"));
    int enabled = json_is_true(json_object_get(meta, "Enabled"));
    if (!state || strcmp(state, "Enabled") || !enabled) {
        struct finding *f = result_add_finding(
            ctx->result, key_arn, STATUS_REMEDIATE, "customer managed key used by %s is %s%s",
            table->name, state ? state : "in an unknown state",
            state && !strcmp(state, "PendingDeletion")
                ? ": the table becomes unreadable when the key is deleted"
                : "");
        check_cite(ctx, f, key, "/KeyMetadata/KeyState");
        check_cite(ctx, f, describe, "/Table/SSEDescription/KMSMasterKeyArn");
        return 0;
    }
    /* Imported key material cannot rotate automatically: whether it is rotated by hand is
     * something a person has to confirm. */
    const char *origin = json_string_value(json_object_get(meta, "Origin"));
    if (origin && strcmp(origin, "AWS_KMS")) {
        struct finding *f = result_add_finding(
            ctx->result, key_arn, STATUS_REVIEW,
            "customer managed key used by %s %s: AWS cannot rotate it automatically; confirm it "
            "is rotated by hand on schedule",
            table->name,
            !strcmp(origin, "EXTERNAL") ? "holds imported key material"
                                        : "lives in a custom key store");
        check_cite(ctx, f, key, "/KeyMetadata/Origin");
        return 0;
    }
    const struct evidence_call *rotation =
        check_require(ctx, key_arn, region, "kms", "GetKeyRotationStatus", key_id);
    if (!rotation)
        return 0;
    int rotates = json_is_true(json_object_get(rotation->document, "KeyRotationEnabled"));
    struct finding *f = result_add_finding(
        ctx->result, key_arn, rotates ? STATUS_PASS : STATUS_REMEDIATE,
        rotates ? "customer managed key used by %s is enabled and rotates automatically"
                : "customer managed key used by %s is enabled but automatic rotation is off",
        table->name);
    check_cite(ctx, f, key, "/KeyMetadata/KeyState");
    check_cite(ctx, f, rotation, "/KeyRotationEnabled");
    return 0;
}

int check_kms_key_management(struct check_context *ctx)
{
    return check_each_table(ctx, visit_table_key);
}
