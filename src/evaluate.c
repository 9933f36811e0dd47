/* Runs each control's check, applies risk acceptances, and rolls findings up into a status.
 * Never reads files and never renders: it sees only loaded inputs and produces results. */
#include "evaluate.h"
#include "attestations.h"
#include "catalog.h"
#include "check.h"
#include "date.h"
#include "diag.h"
#include "exceptions.h"
#include "results.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* A Pass that cites nothing is a bug in a check; the report must never show one. */
static void enforce_cited_passes(struct control_result *result)
{
    for (size_t i = 0; i < result->finding_count; i++) {
        struct finding *f = &result->findings[i];
        if (f->status == STATUS_PASS && json_array_size(f->evidence) == 0 && !f->attestation) {
            f->status = f->original_status = STATUS_REVIEW;
            char *reason = f->reason;
            size_t n = strlen(reason) + 96;
            char *longer = malloc(n);
            if (longer) {
                snprintf(longer, n, "%s (no evidence was cited, so this cannot pass)", reason);
                f->reason = longer;
                free(reason);
            }
        }
    }
}

static json_t *exception_json(const struct exception *e, const char *state)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(e->ticket_id));
    json_object_set_new(o, "url", json_string(e->ticket_url));
    json_object_set_new(o, "approved_by", json_string(e->approved_by));
    json_object_set_new(o, "reason", json_string(e->reason));
    json_object_set_new(o, "expires", json_string(e->expires));
    json_object_set_new(o, "state", json_string(state));
    return o;
}

/* An unexpired acceptance turns a failing finding into `accepted`, keeping what it would have
 * been; an expired one leaves the status and says so in the reason. When several match, a
 * current one wins (the latest expiry), so an old expired ticket never hides its renewal.
 * Missing evidence is never accepted: an acceptance covers a known risk, not an unknown one. */
static void apply_exceptions(struct control_result *result, struct exception_set *set,
                             long as_of_day)
{
    if (!set)
        return;
    for (size_t i = 0; i < result->finding_count; i++) {
        struct finding *f = &result->findings[i];
        if (f->status == STATUS_PASS || f->status == STATUS_NOT_APPLICABLE || f->evidence_gap)
            continue;
        struct exception *best = NULL;
        for (size_t k = 0; k < set->count; k++) {
            struct exception *e = &set->items[k];
            if (strcmp(e->control, result->control->id) ||
                fnmatch(e->resource, f->resource, 0) != 0)
                continue;
            e->matched++;
            int current = as_of_day <= e->expires_day;
            int best_current = best && as_of_day <= best->expires_day;
            if (!best || current > best_current ||
                (current == best_current && e->expires_day > best->expires_day))
                best = e;
        }
        if (!best)
            continue;
        int current = as_of_day <= best->expires_day;
        json_decref(f->exception);
        f->exception = exception_json(best, current ? "current" : "expired");
        if (current) {
            f->status = STATUS_ACCEPTED;
        } else {
            char *reason = f->reason;
            size_t n = strlen(reason) + strlen(best->ticket_id) + 96;
            char *longer = malloc(n);
            if (longer) {
                snprintf(longer, n, "%s; risk acceptance %s expired on %s", reason, best->ticket_id,
                         best->expires);
                f->reason = longer;
                free(reason);
            }
        }
    }
}

static void summarise(struct control_result *result)
{
    size_t counts[STATUS_COUNT] = {0};
    enum status worst = STATUS_NOT_APPLICABLE;
    for (size_t i = 0; i < result->finding_count; i++) {
        counts[result->findings[i].status]++;
        worst = status_worst(worst, result->findings[i].status);
    }
    result->status = worst;
    free(result->reason);
    char text[512];
    size_t total = result->finding_count;
    if (total == 0) {
        snprintf(text, sizeof(text), "nothing in scope");
    } else if (total == 1) {
        snprintf(text, sizeof(text), "%s", result->findings[0].reason);
    } else {
        int n = snprintf(text, sizeof(text), "%zu resources:", total);
        static const enum status order[] = {STATUS_REMEDIATE, STATUS_REVIEW, STATUS_ACCEPTED,
                                            STATUS_PASS, STATUS_NOT_APPLICABLE};
        const char *sep = " ";
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
            if (!counts[order[i]] || n < 0 || (size_t)n >= sizeof(text))
                continue;
            n += snprintf(text + n, sizeof(text) - (size_t)n, "%s%zu %s", sep, counts[order[i]],
                          status_name(order[i]));
            sep = ", ";
        }
    }
    /* A long single reason is kept whole: it is the finding's own words. */
    result->reason = strdup(total == 1 ? result->findings[0].reason : text);
}

static int run_control(struct control_result *result, const struct check *check,
                       const struct evaluation_inputs *in, const struct results *so_far,
                       long as_of_day, struct check_memo *memo)
{
    struct check_context ctx = {
        .control = result->control,
        .evidence = in->evidence,
        .attestations = in->attestations,
        .as_of = in->as_of,
        .result = result,
        .results = so_far,
        .memo = memo,
        .activity = in->source == EVIDENCE_FROM_TEMPLATE ? NULL : in->activity,
        .activity_absent = in->source == EVIDENCE_FROM_TEMPLATE ? NULL : in->activity_absent,
    };
    if (in->source == EVIDENCE_FROM_TEMPLATE && check->needs_live) {
        result->status = STATUS_NOT_APPLICABLE;
        free(result->reason);
        result->reason = strdup("not decided from templates: only live evidence (CloudTrail "
                                "activity, IAM analysis, attestations) can decide this control");
        result_add_note(result, "evaluated from CloudFormation templates before deployment; run "
                                "ddbaudit on the deployed account's evidence to decide it");
        return result->reason ? 0 : DDB_ERUNTIME;
    }
    int error = check->run(&ctx);
    if (error < 0)
        return error;
    enforce_cited_passes(result);
    apply_exceptions(result, in->exceptions, as_of_day);
    summarise(result);
    return 0;
}

int evaluate(struct results **out, const struct evaluation_inputs *in, struct diagnostics *d)
{
    *out = NULL;
    long as_of_day;
    if (date_parse(in->as_of, &as_of_day) < 0)
        return diag_error(d, DDB_EUSAGE, "--as-of '%s' is not a date (YYYY-MM-DD)", in->as_of);
    const struct catalog *catalog = in->catalog;
    struct results *results = results_new(catalog->count);
    struct check_memo *memo = check_memo_new();
    if (!results || !memo) {
        results_free(results);
        check_memo_free(memo);
        return diag_error(d, DDB_ERUNTIME, "out of memory");
    }
    /* Until a control is evaluated it is Review, so a derived control that reads one too early
     * can never see a Pass that was only the zero value. */
    for (size_t i = 0; i < catalog->count; i++) {
        results->controls[i].control = &catalog->controls[i];
        results->controls[i].status = STATUS_REVIEW;
    }

    /* Derived controls read the final statuses of the ones they summarise, so they run last. */
    int error = 0;
    for (int pass = 0; pass < 2 && !error; pass++) {
        for (size_t i = 0; i < catalog->count && !error; i++) {
            struct control_result *result = &results->controls[i];
            const struct check *check = check_find(result->control->check);
            if (!check)
                error = diag_error_at(d, DDB_EINPUT, result->control->file, result->control->line,
                                      1, 1, "unknown check '%s'", result->control->check);
            else if (check->derived == pass)
                error = run_control(result, check, in, results, as_of_day, memo);
        }
    }
    /* The access matrix reuses the identity checks' analysis, so it is built before the memo
     * goes; evidence from templates has no identities to analyse. */
    if (!error && in->source != EVIDENCE_FROM_TEMPLATE) {
        struct check_context ctx = {.evidence = in->evidence, .as_of = in->as_of, .memo = memo};
        results->access = identity_access_matrix(&ctx);
        results->activity = in->activity ? json_incref(in->activity) : NULL;
    }
    /* Memoised values may be referenced from findings only by copy; they end with the run. */
    check_memo_free(memo);
    if (error < 0) {
        results_free(results);
        return error;
    }
    if (in->only_control) {
        /* Keep only the asked-for control (derived ones needed the others to be computed). */
        size_t kept = 0;
        for (size_t i = 0; i < results->count; i++) {
            if (!strcmp(results->controls[i].control->id, in->only_control)) {
                struct control_result keep = results->controls[i];
                results->controls[i] = results->controls[0];
                results->controls[0] = keep;
                kept = 1;
                break;
            }
        }
        if (!kept) {
            results_free(results);
            return diag_error(d, DDB_EUSAGE, "no control '%s' in the catalog", in->only_control);
        }
        for (size_t i = 1; i < results->count; i++) {
            struct control_result *r = &results->controls[i];
            for (size_t k = 0; k < r->finding_count; k++) {
                free(r->findings[k].resource);
                free(r->findings[k].reason);
                json_decref(r->findings[k].evidence);
                json_decref(r->findings[k].exception);
                json_decref(r->findings[k].attestation);
            }
            free(r->findings);
            free(r->reason);
            json_decref(r->notes);
        }
        results->count = 1;
    }
    for (size_t k = 0; in->exceptions && k < in->exceptions->count; k++) {
        const struct exception *e = &in->exceptions->items[k];
        if (e->matched || (in->only_control && strcmp(e->control, in->only_control)))
            continue;
        json_t *o = exception_json(e, as_of_day <= e->expires_day ? "current" : "expired");
        json_object_set_new(o, "control", json_string(e->control));
        json_object_set_new(o, "resource", json_string(e->resource));
        json_array_append_new(results->exceptions_unmatched, o);
    }
    *out = results;
    return 0;
}
