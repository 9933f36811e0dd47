/* Account-wide identity evidence: IAM authorization details, account summary, identity
 * providers and the credential report (generated, then polled until ready). Decides what to
 * call; never judges answers. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "collect_call.h"

#define REPORT_POLLS 15
#define REPORT_POLL_MS 2000

static void on_report(struct collector *c, const char *region, const char *key, json_t *result,
                      const char *error_code, void *user)
{
    (void)region, (void)key;
    intptr_t polls = (intptr_t)user;
    /* The report takes a few seconds to generate; until then IAM answers ReportInProgress
     * (or ReportNotPresent right after GenerateCredentialReport). */
    if (!result && error_code &&
        (strcmp(error_code, "ReportInProgress") == 0 ||
         strcmp(error_code, "ReportNotPresent") == 0) &&
        polls < REPORT_POLLS)
        collect_call_later(c, "iam", "GetCredentialReport", "global", NULL, NULL, on_report,
                           (void *)(polls + 1), REPORT_POLL_MS);
}

static void on_generated(struct collector *c, const char *region, const char *key, json_t *result,
                         const char *error_code, void *user)
{
    (void)region, (void)key, (void)result, (void)error_code, (void)user;
    /* Even when generation was denied an existing report may be readable. */
    collect_call(c, "iam", "GetCredentialReport", "global", NULL, NULL, on_report, (void *)0);
}

void collect_iam_global(struct collector *c)
{
    collect_call(c, "iam", "GetAccountAuthorizationDetails", "global", NULL, NULL, NULL, NULL);
    collect_call(c, "iam", "GetAccountSummary", "global", NULL, NULL, NULL, NULL);
    collect_call(c, "iam", "ListSAMLProviders", "global", NULL, NULL, NULL, NULL);
    collect_call(c, "iam", "ListOpenIDConnectProviders", "global", NULL, NULL, NULL, NULL);
    collect_call(c, "iam", "GenerateCredentialReport", "global", NULL, NULL, on_generated, NULL);
}
