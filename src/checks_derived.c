/* DDB-10 supporting services: the worst status among the controls for the services DynamoDB's
 * security leans on (params.controls: service name → control id). Each service's finding
 * carries the evidence its control cited, so the roll-up is as traceable as its parts. */
#include "catalog.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

int check_derived_worst(struct check_context *ctx)
{
    json_t *controls = check_param(ctx, "controls");
    if (!json_is_object(controls) || json_object_size(controls) == 0) {
        char scope[256];
        check_account_scope(ctx, scope, sizeof(scope));
        result_add_finding(ctx->result, scope, STATUS_REVIEW,
                           "params.controls names no supporting controls");
        return 0;
    }
    const char *service;
    json_t *id;
    json_object_foreach(controls, service, id)
    {
        char resource[256];
        snprintf(resource, sizeof(resource), "service:%s", service);
        const char *control_id = json_string_value(id);
        const struct control_result *r = control_id ? results_find(ctx->results, control_id) : NULL;
        if (!r) {
            result_add_finding(ctx->result, resource, STATUS_REVIEW,
                               "%s: control %s is not in the catalog", service,
                               control_id ? control_id : "?");
            continue;
        }
        struct finding *f =
            result_add_finding(ctx->result, resource, r->status, "%s (%s %s): %s", service,
                               control_id, r->control->title, r->reason ? r->reason : "");
        /* Carry up to three citations from each finding of the supporting control. */
        for (size_t i = 0; i < r->finding_count; i++) {
            size_t k;
            json_t *citation;
            json_array_foreach(r->findings[i].evidence, k, citation)
            {
                if (k >= 3 || json_array_size(f->evidence) >= 24)
                    break;
                json_array_append(f->evidence, citation);
            }
        }
        if (r->status == STATUS_NOT_APPLICABLE)
            f->status = f->original_status = STATUS_NOT_APPLICABLE;
    }
    return 0;
}
