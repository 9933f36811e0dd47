/* What CloudTrail activity in the period says about a control (checks_activity.c). Each function
 * adds its findings to ctx->result and is called by the control's own check with one line:
 *
 *   DDB-05 transport_encryption          activity_check_transport
 *   DDB-08 vpc_endpoints                 activity_check_network
 *   DDB-11 resource_policy_isolation     activity_check_network
 *   DDB-16 cloudtrail_auditing           activity_check_log_coverage
 *   DDB-17 alerting                      activity_check_changes
 *   DDB-22 data_plane_monitoring         activity_check_access
 *
 * Fail closed: without activity (ctx->activity NULL and ctx->activity_absent set) each adds one
 * Review finding giving the reason, never a Pass. With neither set (template evidence) they add
 * nothing. Every finding about an event cites it: the log or evidence file, its SHA-256, the
 * record's JSON pointer and byte offset. */
#ifndef DDBAUDIT_CHECKS_ACTIVITY_H
#define DDBAUDIT_CHECKS_ACTIVITY_H

struct check_context;

int activity_check_transport(struct check_context *ctx);
int activity_check_network(struct check_context *ctx);
int activity_check_log_coverage(struct check_context *ctx);
int activity_check_changes(struct check_context *ctx);
int activity_check_access(struct check_context *ctx);

#endif
