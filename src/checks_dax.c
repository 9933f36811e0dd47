/* DDB-25 DAX encryption: every DAX cluster encrypts at rest and serves its endpoint over TLS. */
#include "check.h"

#include <stdio.h>
#include <string.h>

int check_dax_encryption(struct check_context *ctx)
{
    const struct evidence_snapshot *s = ctx->evidence;
    for (size_t r = 0; r < s->region_count; r++) {
        char scope[256];
        check_region_scope(ctx, s->regions[r], scope, sizeof(scope));
        const struct evidence_call *call =
            check_require(ctx, scope, s->regions[r], "dax", "DescribeClusters", NULL);
        if (!call)
            continue;
        size_t i;
        json_t *cluster;
        json_array_foreach(json_object_get(call->document, "Clusters"), i, cluster)
        {
            const char *arn = json_string_value(json_object_get(cluster, "ClusterArn"));
            const char *name = json_string_value(json_object_get(cluster, "ClusterName"));
            const char *sse =
                json_string_value(json_pointer_get(cluster, "/SSEDescription/Status"));
            const char *tls =
                json_string_value(json_object_get(cluster, "ClusterEndpointEncryptionType"));
            int at_rest = sse && !strcmp(sse, "ENABLED");
            int in_transit = tls && !strcmp(tls, "TLS");
            struct finding *f;
            if (at_rest && in_transit)
                f = result_add_finding(ctx->result, arn ? arn : scope, STATUS_PASS,
                                       "DAX cluster %s encrypts at rest and uses TLS",
                                       name ? name : "?");
            else
                f = result_add_finding(ctx->result, arn ? arn : scope, STATUS_REMEDIATE,
                                       "DAX cluster %s: %s%s%s", name ? name : "?",
                                       at_rest ? "" : "encryption at rest is off",
                                       !at_rest && !in_transit ? "; " : "",
                                       in_transit ? "" : "the endpoint does not use TLS");
            char pointer[64];
            snprintf(pointer, sizeof(pointer), "/Clusters/%zu/SSEDescription/Status", i);
            check_cite(ctx, f, call, pointer);
            snprintf(pointer, sizeof(pointer), "/Clusters/%zu/ClusterEndpointEncryptionType", i);
            check_cite(ctx, f, call, pointer);
        }
    }
    return 0;
}
