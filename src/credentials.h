/* AWS credentials and region, resolved in the order the AWS CLI uses. This module reads files,
 * environment variables and runs credential_process, but does no network I/O itself: sources
 * that need HTTP (STS, IAM Identity Center, container, IMDS) go through a caller-supplied
 * transport. Secrets never appear in a diagnostic or a description, and are wiped on free.
 * Order: https://docs.aws.amazon.com/cli/latest/userguide/cli-chap-authentication.html */
#ifndef DDBAUDIT_CREDENTIALS_H
#define DDBAUDIT_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

#include "sigv4.h"

struct buf;
struct diagnostics;

/* ---- Transport: implemented by the HTTP layer, faked by tests ---- */

struct credentials_http_request {
    const char *method; /* "GET", "PUT", "POST" */
    const char *url;    /* complete URL, e.g. "https://sts.us-east-1.amazonaws.com/" or
                           "http://169.254.169.254/latest/api/token" */
    const struct sigv4_header *headers; /* send exactly these (already signed where needed) */
    size_t header_count;
    const char *body; /* may be NULL */
    size_t body_len;
    int timeout_ms; /* whole-request limit; IMDS and container use short ones (1000 ms) */
};

struct credentials_transport {
    /* Sends one request and appends the response body to `body` (a buffer the caller owns and
     * caps; it may hold secrets: the caller wipes it). Returns 0 when any HTTP response arrived
     * (check *status), or a negative DDB_E* with a diagnostic when none did (refused, timeout,
     * TLS). Must not log headers or bodies: they carry tokens and keys. */
    int (*send)(void *ctx, const struct credentials_http_request *request, long *status,
                struct buf *body, struct diagnostics *d);
    void *ctx;
};

/* ---- Resolution ---- */

struct credentials_options {
    const char *profile; /* --profile; NULL = AWS_PROFILE, else "default" */
    const char *region;  /* --region; used for STS / SSO calls made while resolving */
    /* Needed for assume-role, web identity, IAM Identity Center, container and IMDS sources;
     * NULL makes those sources an error (or skipped, for container/IMDS in the default chain).
     * Must outlive the credentials (refresh uses it). */
    const struct credentials_transport *transport;
    /* The clock; NULL = time(). Tests pin it. */
    time_t (*now)(void);
    /* Set true to never try IMDS (AWS_EC2_METADATA_DISABLED=true does the same). */
    int disable_imds;
};

struct credentials_source; /* private: remembers how to fetch again */

struct credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    time_t expiration;   /* 0 = does not expire */
    /* Where they came from, safe to print, e.g. "credentials from profile 'audit' (shared
     * credentials file)", "environment variables", "assumed role
     * arn:aws:iam::123456789012:role/Audit via profile 'base'". Never contains a secret. */
    char *description;
    struct credentials_source *source;
};

/* Resolves credentials in the AWS CLI (botocore) order:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (skipped when
 *      --profile is given; AWS_PROFILE does not outrank them, as in the CLI)
 *   2. web identity from the environment: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      (+ AWS_ROLE_SESSION_NAME), also skipped with --profile
 *   3. the profile (options->profile, else AWS_PROFILE, else "default") in the shared files
 *      (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/config and
 *      ~/.aws/credentials), in this order: role_arn + web_identity_token_file; role_arn +
 *      source_profile | credential_source (external_id, role_session_name, duration_seconds);
 *      sso_session or sso_start_url (IAM Identity Center, token from `aws sso login`); static
 *      keys in the credentials file; credential_process; static keys in the config file.
 *      A profile named by --profile or AWS_PROFILE must exist and must yield credentials.
 *   4. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE])
 *   5. EC2 instance metadata, IMDSv2 (only with a transport; not when disable_imds or
 *      AWS_EC2_METADATA_DISABLED=true)
 * STS calls go to the regional endpoint of options->region > AWS_REGION > AWS_DEFAULT_REGION >
 * the profile's region > us-east-1 (AWS_ENDPOINT_URL_STS is honoured, see endpoints.h).
 * Returns 0 with *out owned by the caller (credentials_free), or DDB_EUSAGE (no credentials,
 * bad profile), DDB_EINPUT (malformed file or answer) or DDB_ERUNTIME (I/O, transport, process
 * failure) with a diagnostic naming the source and never a secret. Not thread-safe: callers that
 * share one struct credentials across threads serialise load/refresh. */
int credentials_load(struct credentials **out, const struct credentials_options *options,
                     struct diagnostics *d);

/* Refreshes from the same source when the credentials expire within 5 minutes of now (or have
 * expired). No-op (0) for credentials without expiration. On failure the old values stay. */
int credentials_refresh_if_needed(struct credentials *c, struct diagnostics *d);

/* Wipes and frees. NULL is fine. */
void credentials_free(struct credentials *c);

/* The region: options->region (--region) > AWS_REGION > AWS_DEFAULT_REGION > `region` of the
 * selected profile in the config file. Returns 0 with a fresh string the caller frees, or
 * DDB_EUSAGE when none is configured, with a diagnostic saying how to set one. */
int credentials_resolve_region(char **out, const struct credentials_options *options,
                               struct diagnostics *d);

/* Parses an ISO 8601 UTC time as AWS returns it ("2026-11-23T12:00:00Z", optional fraction,
 * "+00:00" accepted). Returns 0 or -1. Exposed for the HTTP layer and tests. */
int credentials_parse_time(time_t *out, const char *text);

#endif
