/* Capacity and recovery evidence per region: Application Auto Scaling targets of DynamoDB,
 * AWS Backup's protected resources, and DAX clusters. Decides what to call; never judges. */
#include <jansson.h>

#include "collect_call.h"

void collect_resilience_region(struct collector *c, const char *region)
{
    collect_call(c, "application-autoscaling", "DescribeScalableTargets", region, NULL,
                 json_pack("{ss}", "ServiceNamespace", "dynamodb"), NULL, NULL);
    collect_call(c, "backup", "ListProtectedResources", region, NULL, NULL, NULL, NULL);
    collect_call(c, "dax", "DescribeClusters", region, NULL, NULL, NULL, NULL);
}
