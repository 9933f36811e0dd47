/* Where to send a request and how to sign it: service + region (+ FIPS, + endpoint-URL overrides)
 * -> scheme, host, port, base path, signing region and signing name. Pure lookup plus getenv;
 * no network and no DNS. Partitions: aws, aws-cn, aws-us-gov.
 * Overrides: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html */
#ifndef DDBAUDIT_ENDPOINTS_H
#define DDBAUDIT_ENDPOINTS_H

#include <stdbool.h>

struct diagnostics;

struct endpoint_options {
    /* --endpoint-url: beats AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL. NULL = none. */
    const char *endpoint_url;
    /* Use the FIPS endpoint. The environment can also turn it on: AWS_USE_FIPS_ENDPOINT=true. */
    bool use_fips;
    /* Ignore AWS_ENDPOINT_URL*, AWS_USE_FIPS_ENDPOINT (also set by
     * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true for the URL variables). */
    bool ignore_environment;
};

/* Every string is owned by the struct; free with endpoint_free. */
struct endpoint {
    char *scheme;         /* "https", or "http" for a loopback override */
    char *host;           /* "dynamodb.us-east-1.amazonaws.com"; IPv6 literals without brackets */
    int port;             /* explicit or the scheme's default (443 / 80) */
    char *base_path;      /* "" or an override's path without trailing '/', e.g. "/proxy" */
    char *url;            /* scheme://host[:port]base_path, ready to append a path to */
    char *signing_region; /* e.g. "us-east-1" for IAM whatever the caller's region */
    char *signing_name;   /* SigV4 service name: "monitoring" for CloudWatch, ... */
    char *partition;      /* "aws", "aws-cn", "aws-us-gov" */
    bool overridden;      /* came from an endpoint URL override */
};

/* Resolves `service`, one of the names below, in `region`:
 *   dynamodb, dynamodbstreams, dax, application-autoscaling, backup, cloudtrail, cloudwatch,
 *   logs, events, kms, ec2, iam, sts, s3, sso (the Identity Center portal), organizations,
 *   config.
 * Returns 0, or DDB_EUSAGE with a diagnostic for an unknown service, a malformed region, a FIPS
 * request where no FIPS endpoint exists, or an override URL that is malformed or plain http to a
 * host that is not loopback (127.0.0.0/8, ::1, localhost). On error *out is left zeroed. */
int endpoints_resolve(struct endpoint *out, const char *service, const char *region,
                      const struct endpoint_options *options, struct diagnostics *d);

void endpoint_free(struct endpoint *e);

/* The partition of a region ("aws-cn" for cn-*, "aws-us-gov" for us-gov-*, else "aws"), and the
 * DNS suffix ("amazonaws.com" / "amazonaws.com.cn"). Never NULL. */
const char *endpoints_partition(const char *region);
const char *endpoints_dns_suffix(const char *region);

/* True when host is loopback: localhost, 127.0.0.0/8, ::1 (brackets allowed). */
bool endpoints_host_is_loopback(const char *host);

#endif
