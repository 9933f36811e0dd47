/* Logging and monitoring evidence per region: CloudTrail trails (status and event selectors
 * from the trail's home region), CloudWatch Logs metric filters, CloudWatch alarms, and
 * EventBridge rules with their targets. Decides what to call; never judges answers. */
#include <jansson.h>
#include <string.h>

#include "collect_call.h"

static void on_trails(struct collector *c, const char *region, const char *key, json_t *result,
                      const char *error_code, void *user)
{
    (void)key, (void)error_code, (void)user;
    size_t i;
    json_t *trail;
    json_array_foreach(json_object_get(result, "trailList"), i, trail)
    {
        const char *name = json_string_value(json_object_get(trail, "Name"));
        const char *arn = json_string_value(json_object_get(trail, "TrailARN"));
        const char *home = json_string_value(json_object_get(trail, "HomeRegion"));
        /* A multi-region trail shows up in every region; ask only its home region. */
        if (!name || !arn || (home && strcmp(home, region) != 0))
            continue;
        collect_call(c, "cloudtrail", "GetTrailStatus", region, name,
                     json_pack("{ss}", "Name", arn), NULL, NULL);
        collect_call(c, "cloudtrail", "GetEventSelectors", region, name,
                     json_pack("{ss}", "TrailName", arn), NULL, NULL);
    }
}

static void on_rules(struct collector *c, const char *region, const char *key, json_t *result,
                     const char *error_code, void *user)
{
    (void)key, (void)error_code, (void)user;
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(result, "Rules"), i, rule)
    {
        const char *name = json_string_value(json_object_get(rule, "Name"));
        if (name)
            collect_call(c, "events", "ListTargetsByRule", region, name,
                         json_pack("{ss}", "Rule", name), NULL, NULL);
    }
}

void collect_logging_region(struct collector *c, const char *region)
{
    collect_call(c, "cloudtrail", "DescribeTrails", region, NULL, NULL, on_trails, NULL);
    collect_call(c, "logs", "DescribeMetricFilters", region, NULL, NULL, NULL, NULL);
    collect_call(c, "cloudwatch", "DescribeAlarms", region, NULL, NULL, NULL, NULL);
    collect_call(c, "events", "ListRules", region, NULL, NULL, on_rules, NULL);
}
