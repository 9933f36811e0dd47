/* Network evidence per region: the VPCs and the VPC endpoints (gateway endpoints for DynamoDB
 * and their policies). Decides what to call; never judges answers. */
#include "collect_call.h"

void collect_network_region(struct collector *c, const char *region)
{
    collect_call(c, "ec2", "DescribeVpcs", region, NULL, NULL, NULL, NULL);
    collect_call(c, "ec2", "DescribeVpcEndpoints", region, NULL, NULL, NULL, NULL);
}
