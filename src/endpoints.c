/* Endpoint resolution: a small table of the services ddbaudit reads, the three partitions'
 * naming rules, FIPS variants and endpoint-URL overrides. No network and no DNS here; URLs are
 * parsed with libcurl's URL API so an override means the same thing to us as to the HTTP client. */
#include "endpoints.h"
#include "buf.h"
#include "diag.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where a service's hostname does not follow "<prefix>.<region>.<suffix>". */
enum service_scope {
    SCOPE_REGIONAL,
    SCOPE_GLOBAL_IAM,  /* iam.amazonaws.com, signed for the partition's home region */
    SCOPE_GLOBAL_ORGS, /* organizations in the partition's home region */
};

struct service_entry {
    const char *name;         /* what callers pass */
    const char *service_id;   /* the SDK service id, for AWS_ENDPOINT_URL_<SERVICE> */
    const char *prefix;       /* hostname prefix */
    const char *fips_prefix;  /* hostname prefix of the FIPS endpoint */
    const char *signing_name; /* SigV4 service name */
    enum service_scope scope;
    /* In GovCloud the ordinary regional endpoint is the FIPS one for many services; botocore's
     * rule sets return it for use_fips_endpoint there. */
    int gov_regional_is_fips;
};

/* Hostnames and signing names as botocore 1.43's endpoint rule sets produce them. */
static const struct service_entry services[] = {
    {"dynamodb", "DynamoDB", "dynamodb", "dynamodb-fips", "dynamodb", SCOPE_REGIONAL, 0},
    {"dynamodbstreams", "DynamoDB Streams", "streams.dynamodb", "streams.dynamodb-fips", "dynamodb",
     SCOPE_REGIONAL, 1},
    {"dax", "DAX", "dax", "dax-fips", "dax", SCOPE_REGIONAL, 0},
    {"application-autoscaling", "Application Auto Scaling", "application-autoscaling",
     "application-autoscaling-fips", "application-autoscaling", SCOPE_REGIONAL, 1},
    {"backup", "Backup", "backup", "backup-fips", "backup", SCOPE_REGIONAL, 0},
    {"cloudtrail", "CloudTrail", "cloudtrail", "cloudtrail-fips", "cloudtrail", SCOPE_REGIONAL, 1},
    {"cloudwatch", "CloudWatch", "monitoring", "monitoring-fips", "monitoring", SCOPE_REGIONAL, 1},
    {"logs", "CloudWatch Logs", "logs", "logs-fips", "logs", SCOPE_REGIONAL, 1},
    {"events", "EventBridge", "events", "events-fips", "events", SCOPE_REGIONAL, 1},
    {"kms", "KMS", "kms", "kms-fips", "kms", SCOPE_REGIONAL, 0},
    {"ec2", "EC2", "ec2", "ec2-fips", "ec2", SCOPE_REGIONAL, 1},
    {"iam", "IAM", "iam", "iam-fips", "iam", SCOPE_GLOBAL_IAM, 1},
    {"sts", "STS", "sts", "sts-fips", "sts", SCOPE_REGIONAL, 1},
    {"s3", "S3", "s3", "s3-fips", "s3", SCOPE_REGIONAL, 0},
    {"sso", "SSO", "portal.sso", "portal.sso-fips", "awsssoportal", SCOPE_REGIONAL, 0},
    {"organizations", "Organizations", "organizations", "organizations-fips", "organizations",
     SCOPE_GLOBAL_ORGS, 1},
    {"config", "Config Service", "config", "config-fips", "config", SCOPE_REGIONAL, 1},
};

static const struct service_entry *find_service(const char *name)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (!strcmp(services[i].name, name))
            return &services[i];
    return NULL;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *endpoints_partition(const char *region)
{
    if (region && starts_with(region, "cn-"))
        return "aws-cn";
    if (region && starts_with(region, "us-gov-"))
        return "aws-us-gov";
    return "aws";
}

const char *endpoints_dns_suffix(const char *region)
{
    return strcmp(endpoints_partition(region), "aws-cn") ? "amazonaws.com" : "amazonaws.com.cn";
}

static int valid_region(const char *region)
{
    size_t len = region ? strlen(region) : 0;
    if (len == 0 || len > 63 || region[0] == '-' || region[len - 1] == '-')
        return 0;
    for (const char *p = region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

bool endpoints_host_is_loopback(const char *host)
{
    if (!host || !*host)
        return false;
    char bare[64];
    size_t len = strlen(host);
    if (host[0] == '[' && len >= 2 && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len >= sizeof(bare))
        return false;
    memcpy(bare, host, len);
    bare[len] = '\0';
    if (len && bare[len - 1] == '.')
        bare[len - 1] = '\0';
    if (!strcasecmp(bare, "localhost"))
        return true;
    unsigned char address[16];
    if (inet_pton(AF_INET, bare, address) == 1)
        return address[0] == 127;
    if (inet_pton(AF_INET6, bare, address) == 1) {
        static const unsigned char loopback6[16] = {[15] = 1};
        return memcmp(address, loopback6, sizeof(loopback6)) == 0;
    }
    return false;
}

static bool env_is_true(const char *name)
{
    const char *value = getenv(name);
    return value && !strcasecmp(value, "true");
}

/* "Application Auto Scaling" -> "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING" */
static void service_env_name(char *out, size_t size, const char *service_id)
{
    size_t n = (size_t)snprintf(out, size, "AWS_ENDPOINT_URL_");
    for (const char *p = service_id; *p && n + 1 < size; p++) {
        char c = *p;
        if (c == ' ' || c == '-')
            c = '_';
        else if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        out[n++] = c;
    }
    out[n] = '\0';
}

void endpoint_free(struct endpoint *e)
{
    if (!e)
        return;
    free(e->scheme);
    free(e->host);
    free(e->base_path);
    free(e->url);
    free(e->signing_region);
    free(e->signing_name);
    free(e->partition);
    memset(e, 0, sizeof(*e));
}

static char *copy_string(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (out)
        memcpy(out, s, len + 1);
    return out;
}

/* Fills scheme, host, port and base_path from an override URL, checking the transport rule:
 * https anywhere, http only to loopback. `origin` names where the URL came from. */
static int parse_override(struct endpoint *out, const char *url, const char *origin,
                          struct diagnostics *d)
{
    CURLU *handle = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL, *query = NULL;
    int error = DDB_EUSAGE;
    if (!handle) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory parsing an endpoint URL");
        goto done;
    }
    if (curl_url_set(handle, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(handle, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(handle, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(handle, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        error =
            diag_error(d, DDB_EUSAGE, "%s: '%s' is not a valid URL (expected https://host[:port])",
                       origin, url);
        goto done;
    }
    if (curl_url_get(handle, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        error = diag_error(d, DDB_EUSAGE, "%s: endpoint URL must not contain a user name", origin);
        goto done;
    }
    if (curl_url_get(handle, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
        error = diag_error(d, DDB_EUSAGE, "%s: endpoint URL must not contain a query", origin);
        goto done;
    }
    if (strcasecmp(scheme, "https") != 0) {
        if (strcasecmp(scheme, "http") != 0) {
            error = diag_error(d, DDB_EUSAGE, "%s: unsupported scheme '%s' (use https)", origin,
                               scheme);
            goto done;
        }
        if (!endpoints_host_is_loopback(host)) {
            error = diag_error(d, DDB_EUSAGE,
                               "%s: plain http is only allowed to a loopback address "
                               "(localhost, 127.0.0.0/8, ::1), not to '%s'; use https",
                               origin, host);
            goto done;
        }
    }
    size_t host_len = strlen(host);
    int bracketed = host[0] == '[' && host_len >= 2;
    char *bare_host = bracketed ? strndup(host + 1, host_len - 2) : copy_string(host);
    size_t path_len = strlen(path);
    while (path_len && path[path_len - 1] == '/')
        path_len--;
    out->scheme = copy_string(strcasecmp(scheme, "https") ? "http" : "https");
    out->host = bare_host;
    out->port = atoi(port);
    out->base_path = strndup(path, path_len);
    if (!out->scheme || !out->host || !out->base_path) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory parsing an endpoint URL");
        goto done;
    }
    error = 0;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(user);
    curl_free(query);
    curl_url_cleanup(handle);
    return error;
}

/* The region a global service is signed for (and, for Organizations, hosted in). */
static const char *home_region(const char *partition, enum service_scope scope)
{
    if (!strcmp(partition, "aws-cn"))
        return scope == SCOPE_GLOBAL_ORGS ? "cn-northwest-1" : "cn-north-1";
    if (!strcmp(partition, "aws-us-gov"))
        return "us-gov-west-1";
    return "us-east-1";
}

static int resolve_host(struct buf *host, const struct service_entry *service, const char *region,
                        const char *partition, bool fips, struct diagnostics *d)
{
    const char *suffix = endpoints_dns_suffix(region);
    int gov = !strcmp(partition, "aws-us-gov");
    if (fips && !strcmp(partition, "aws-cn"))
        return diag_error(d, DDB_EUSAGE,
                          "no FIPS endpoint for %s in %s: the aws-cn partition has none",
                          service->name, region);
    const char *prefix =
        fips && !(gov && service->gov_regional_is_fips) ? service->fips_prefix : service->prefix;
    int rc;
    switch (service->scope) {
    case SCOPE_GLOBAL_IAM:
        /* https://docs.aws.amazon.com/general/latest/gr/iam-service.html */
        if (gov)
            rc = buf_printf(host, "iam.us-gov.%s", suffix);
        else if (!strcmp(partition, "aws-cn"))
            rc = buf_printf(host, "iam.cn-north-1.%s", suffix);
        else
            rc = buf_printf(host, "%s.%s", prefix, suffix);
        break;
    case SCOPE_GLOBAL_ORGS:
        rc = buf_printf(host, "%s.%s.%s", prefix, home_region(partition, service->scope), suffix);
        break;
    default:
        rc = buf_printf(host, "%s.%s.%s", prefix, region, suffix);
        break;
    }
    return rc < 0 ? diag_error(d, DDB_ERUNTIME, "out of memory resolving an endpoint") : 0;
}

int endpoints_resolve(struct endpoint *out, const char *service_name, const char *region,
                      const struct endpoint_options *options, struct diagnostics *d)
{
    static const struct endpoint_options no_options = {0};
    struct buf text;
    buf_init(&text, 4096);
    int error = DDB_ERUNTIME;
    memset(out, 0, sizeof(*out));
    if (!options)
        options = &no_options;

    const struct service_entry *service = service_name ? find_service(service_name) : NULL;
    if (!service) {
        error = diag_error(d, DDB_EUSAGE, "unknown service '%s' for endpoint resolution",
                           service_name ? service_name : "");
        goto done;
    }
    if (!valid_region(region)) {
        error = diag_error(d, DDB_EUSAGE,
                           "invalid region '%s' (expected lower-case letters, digits and '-', "
                           "e.g. us-east-1)",
                           region ? region : "");
        goto done;
    }
    const char *partition = endpoints_partition(region);
    bool fips =
        options->use_fips || (!options->ignore_environment && env_is_true("AWS_USE_FIPS_ENDPOINT"));
    const char *signing_region =
        service->scope == SCOPE_REGIONAL ? region : home_region(partition, service->scope);

    /* Overrides: the flag, then the service's variable, then the general one.
     * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html */
    const char *override = options->endpoint_url;
    char origin[160] = "--endpoint-url";
    if (!override && !options->ignore_environment &&
        !env_is_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        service_env_name(origin, sizeof(origin), service->service_id);
        override = getenv(origin);
        if (!override || !*override) {
            snprintf(origin, sizeof(origin), "AWS_ENDPOINT_URL");
            override = getenv(origin);
        }
        if (override && !*override)
            override = NULL;
    }

    if (override) {
        if ((error = parse_override(out, override, origin, d)) < 0)
            goto done;
        out->overridden = true;
    } else {
        if ((error = resolve_host(&text, service, region, partition, fips, d)) < 0)
            goto done;
        out->scheme = copy_string("https");
        out->host = buf_detach(&text);
        out->port = 443;
        out->base_path = copy_string("");
    }
    out->signing_region = copy_string(signing_region);
    out->signing_name = copy_string(service->signing_name);
    out->partition = copy_string(partition);

    buf_reset(&text);
    int default_port = !strcmp(out->scheme ? out->scheme : "", "https") ? 443 : 80;
    int ipv6 = out->host && strchr(out->host, ':') != NULL;
    if (!out->scheme || !out->host || !out->base_path || !out->signing_region ||
        !out->signing_name || !out->partition ||
        buf_printf(&text, "%s://%s%s%s", out->scheme, ipv6 ? "[" : "", out->host, ipv6 ? "]" : "") <
            0 ||
        (out->port != default_port && buf_printf(&text, ":%d", out->port) < 0) ||
        buf_puts(&text, out->base_path) < 0) {
        error = diag_error(d, DDB_ERUNTIME, "out of memory resolving an endpoint");
        goto done;
    }
    out->url = buf_detach(&text);
    error = 0;
done:
    buf_free(&text);
    if (error < 0)
        endpoint_free(out);
    return error;
}
