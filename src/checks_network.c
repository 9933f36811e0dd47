/* DDB-08 endpoint localization: each VPC in a region that holds tables reaches DynamoDB through
 * a gateway or interface endpoint, so its traffic stays on the AWS network. */
#include "check.h"
#include "checks_activity.h"

#include <stdio.h>
#include <string.h>

int check_vpc_endpoints(struct check_context *ctx)
{
    int rc = activity_check_network(ctx);
    if (rc < 0)
        return rc;
    const struct evidence_snapshot *s = ctx->evidence;
    for (size_t r = 0; r < s->region_count; r++) {
        const char *region = s->regions[r];
        char scope[256];
        check_region_scope(ctx, region, scope, sizeof(scope));
        const struct evidence_call *tables =
            check_require(ctx, scope, region, "dynamodb", "ListTables", NULL);
        if (!tables || json_array_size(json_object_get(tables->document, "TableNames")) == 0)
            continue;
        const struct evidence_call *vpcs =
            check_require(ctx, scope, region, "ec2", "DescribeVpcs", NULL);
        const struct evidence_call *endpoints =
            check_require(ctx, scope, region, "ec2", "DescribeVpcEndpoints", NULL);
        if (!vpcs || !endpoints)
            continue;
        char service[128];
        snprintf(service, sizeof(service), "com.amazonaws.%s.dynamodb", region);
        size_t i;
        json_t *vpc;
        json_array_foreach(json_object_get(vpcs->document, "Vpcs"), i, vpc)
        {
            const char *vpc_id = json_string_value(json_object_get(vpc, "VpcId"));
            if (!vpc_id)
                continue;
            char arn[256], pointer[64];
            snprintf(arn, sizeof(arn), "arn:%s:ec2:%s:%s:vpc/%s", s->partition, region, s->account,
                     vpc_id);
            long found = -1;
            size_t k;
            json_t *endpoint;
            json_array_foreach(json_object_get(endpoints->document, "VpcEndpoints"), k, endpoint)
            {
                const char *name = json_string_value(json_object_get(endpoint, "ServiceName"));
                const char *in_vpc = json_string_value(json_object_get(endpoint, "VpcId"));
                const char *state = json_string_value(json_object_get(endpoint, "State"));
                if (name && in_vpc && !strcmp(name, service) && !strcmp(in_vpc, vpc_id) && state &&
                    !strcasecmp(state, "available"))
                    found = (long)k;
            }
            snprintf(pointer, sizeof(pointer), "/Vpcs/%zu/VpcId", i);
            struct finding *f;
            if (found >= 0) {
                json_t *endpoint_json = json_array_get(
                    json_object_get(endpoints->document, "VpcEndpoints"), (size_t)found);
                const char *type =
                    json_string_value(json_object_get(endpoint_json, "VpcEndpointType"));
                const char *endpoint_id =
                    json_string_value(json_object_get(endpoint_json, "VpcEndpointId"));
                f = result_add_finding(
                    ctx->result, arn, STATUS_PASS, "VPC %s reaches DynamoDB through %s endpoint %s",
                    vpc_id, type && !strcmp(type, "Interface") ? "an interface" : "a gateway",
                    endpoint_id ? endpoint_id : "(unnamed)");
                char endpoint_pointer[64];
                snprintf(endpoint_pointer, sizeof(endpoint_pointer),
                         "/VpcEndpoints/%ld/ServiceName", found);
                check_cite(ctx, f, endpoints, endpoint_pointer);
            } else {
                f = result_add_finding(ctx->result, arn, STATUS_REMEDIATE,
                                       "VPC %s has no available DynamoDB endpoint: its traffic to "
                                       "DynamoDB leaves through the internet path",
                                       vpc_id);
                check_cite(ctx, f, endpoints, "/VpcEndpoints");
            }
            check_cite(ctx, f, vpcs, pointer);
        }
    }
    return 0;
}
