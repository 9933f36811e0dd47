/* Identity and policy checks (DDB-02, 03, 05, 11, 12, 14, 15). Placeholder until the policy
 * analysis lands: every one fails closed with Review, never Pass. */
#include "check.h"

static int not_yet(struct check_context *ctx)
{
    char scope[256];
    check_account_scope(ctx, scope, sizeof(scope));
    result_add_finding(ctx->result, scope, STATUS_REVIEW,
                       "policy analysis for this control is not available in this build");
    return 0;
}

int check_identity_authentication(struct check_context *ctx)
{
    return not_yet(ctx);
}
int check_identity_least_privilege(struct check_context *ctx)
{
    return not_yet(ctx);
}
int check_transport_encryption(struct check_context *ctx)
{
    return not_yet(ctx);
}
int check_resource_policy_isolation(struct check_context *ctx)
{
    return not_yet(ctx);
}
int check_vpc_endpoint_policy(struct check_context *ctx)
{
    return not_yet(ctx);
}
int check_admin_access(struct check_context *ctx)
{
    return not_yet(ctx);
}
int check_federated_identities(struct check_context *ctx)
{
    return not_yet(ctx);
}
