/* CloudTrail event history for the audit period: one LookupEvents call per region and event
 * source (DynamoDB, KMS, IAM), within what the API keeps (90 days) and at its rate (2 requests
 * a second per region, paced by collect.c's token bucket). Decides what to ask; never reads
 * the events. Limits:
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collect_call.h"
#include "date.h"

/* How far back LookupEvents answers. */
#define LOOKUP_WINDOW_SECONDS (90L * 86400L)

static const char *const event_sources[] = {
    "dynamodb.amazonaws.com",
    "kms.amazonaws.com",
    "iam.amazonaws.com",
};

static void format_time(char out[32], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void collect_cloudtrail_region(struct collector *c, const char *region, const char *period_start,
                               const char *period_end, time_t collected_at)
{
    long first_day, last_day;
    if (date_parse(period_start, &first_day) < 0 || date_parse(period_end, &last_day) < 0)
        return;
    /* The CLI's --start-time A --end-time B+1: the period's days, both included, in UTC. */
    time_t requested_start = (time_t)first_day * 86400;
    time_t requested_end = (time_t)(last_day + 1) * 86400;
    time_t oldest = collected_at - LOOKUP_WINDOW_SECONDS;
    time_t start = requested_start < oldest ? oldest : requested_start;
    char requested_start_text[32], requested_end_text[32], start_text[32];
    format_time(requested_start_text, requested_start);
    format_time(requested_end_text, requested_end);
    format_time(start_text, start);
    for (size_t i = 0; i < sizeof(event_sources) / sizeof(event_sources[0]); i++) {
        const char *source = event_sources[i];
        /* The manifest records the CLI's parameters (the start as clamped) plus what the
         * period asked for, so a later stage can name the days that were not covered. */
        json_t *recorded = json_pack("{s:[{s:s,s:s}], s:s, s:s, s:i, s:s, s:s}", "LookupAttributes",
                                     "AttributeKey", "EventSource", "AttributeValue", source,
                                     "StartTime", start_text, "EndTime", requested_end_text,
                                     "MaxResults", 50, "RequestedStartTime", requested_start_text,
                                     "RequestedEndTime", requested_end_text);
        if (start >= requested_end) {
            collect_call_refused(c, "cloudtrail", "LookupEvents", region, source, recorded,
                                 "OutsideLookupWindow",
                                 "LookupEvents keeps 90 days of events and the whole period is "
                                 "older: fetch the trail's S3 archive (ddbaudit cloudtrail fetch)");
            continue;
        }
        /* JSON protocol: timestamps go on the wire as epoch seconds. */
        json_t *wire =
            json_pack("{s:[{s:s,s:s}], s:I, s:I, s:i}", "LookupAttributes", "AttributeKey",
                      "EventSource", "AttributeValue", source, "StartTime", (json_int_t)start,
                      "EndTime", (json_int_t)requested_end, "MaxResults", 50);
        collect_call_wire(c, "cloudtrail", "LookupEvents", region, source, recorded, wire, NULL,
                          NULL);
    }
}
