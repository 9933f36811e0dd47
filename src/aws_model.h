/* What AWS CLI v2 would print for an answer: the output shapes of the operations we call
 * (generated from botocore into aws_model_data.c), and the conversions botocore + the CLI apply:
 * XML (query, EC2) or JSON wire answers -> the CLI's JSON, timestamps as ISO 8601, IAM policy
 * documents decoded, pages merged the way the CLI's paginator does. Pure data transformation. */
#ifndef DDBAUDIT_AWS_MODEL_H
#define DDBAUDIT_AWS_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct diagnostics;

enum aws_protocol {
    AWS_PROTOCOL_JSON,      /* POST /, X-Amz-Target, application/x-amz-json-1.x */
    AWS_PROTOCOL_QUERY,     /* POST / form Action=..&Version=..; XML answer in <OpResult> */
    AWS_PROTOCOL_EC2,       /* like query; XML answer without a result wrapper, lists of <item> */
    AWS_PROTOCOL_REST_JSON, /* HTTP method + path + querystring; JSON answer */
};

enum aws_shape_type {
    AWS_SHAPE_STRUCTURE,
    AWS_SHAPE_LIST,
    AWS_SHAPE_MAP,
    AWS_SHAPE_STRING,
    AWS_SHAPE_INTEGER,
    AWS_SHAPE_BOOLEAN,
    AWS_SHAPE_DOUBLE,
    AWS_SHAPE_TIMESTAMP,
    AWS_SHAPE_BLOB,
};

enum aws_shape_flags {
    AWS_SHAPE_FLATTENED = 1u << 0,       /* XML list/map without a wrapper element */
    AWS_SHAPE_POLICY_DOCUMENT = 1u << 1, /* IAM policyDocumentType: URL-encoded JSON */
    AWS_SHAPE_DOCUMENT = 1u << 2,        /* free-form JSON document, passed through */
};

struct aws_member {
    const char *name;     /* the key the CLI prints */
    const char *xml_name; /* the element name on the wire (JSON protocols: the same) */
    uint16_t shape;
};

struct aws_shape {
    enum aws_shape_type type;
    unsigned flags;
    uint16_t first_member; /* structure: aws_members[first_member .. +member_count) */
    uint16_t member_count;
    uint16_t element;         /* list: member shape; map: value shape */
    uint16_t key;             /* map: key shape */
    const char *element_name; /* list: member element name; map: value element name */
    const char *key_name;     /* map: key element name */
};

struct aws_service {
    const char *name; /* CLI service name: "dynamodb", "application-autoscaling", ... */
    enum aws_protocol protocol;
    const char *target_prefix; /* JSON protocols: X-Amz-Target prefix */
    const char *json_version;  /* "1.0" / "1.1" */
    const char *api_version;   /* query protocols: Version= */
};

#define AWS_MAX_RESULT_KEYS 4
#define AWS_NO_SHAPE 0xFFFFu

struct aws_operation {
    const char *service;
    const char *name;
    const char *http_method;
    const char *request_uri;
    uint16_t output_shape; /* AWS_NO_SHAPE when the operation has no output */
    const char *result_wrapper;
    /* Paginator (NULL input_token: not paginated). */
    const char *input_token;      /* parameter name (JSON body key) */
    const char *input_token_wire; /* query/EC2 parameter or rest-json querystring name */
    const char *output_token;
    const char *more_results; /* e.g. IAM "IsTruncated" */
    const char *result_keys[AWS_MAX_RESULT_KEYS];
    const char *non_aggregate_keys[AWS_MAX_RESULT_KEYS];
};

extern const char aws_model_botocore_version[];
extern const struct aws_service aws_services[];
extern const size_t aws_service_count;
extern const struct aws_member aws_members[];
extern const struct aws_shape aws_shapes[];
extern const size_t aws_shape_count;
extern const struct aws_operation aws_operations[];
extern const size_t aws_operation_count;

/* Lookups by CLI service name (+ operation name); NULL when we do not call it. */
const struct aws_service *aws_model_service(const char *service);
const struct aws_operation *aws_model_operation(const char *service, const char *operation);

/* Limits for hostile answers: nesting deeper than this is refused. */
#define AWS_MODEL_MAX_DEPTH 64

/* Converts one query/EC2 XML answer body to the JSON object botocore would parse (before page
 * merging): members in shape order, XML names mapped, scalars typed, timestamps ISO 8601, IAM
 * policy documents decoded. Returns 0 and a new reference in *out, or DDB_EINPUT with a
 * diagnostic (malformed XML, wrong root, too deep, bad number). Never fetches entities. */
int aws_model_xml_to_json(json_t **out, const struct aws_operation *op, const char *xml, size_t len,
                          struct diagnostics *d);

/* The same for a JSON-protocol answer body: drops members the shape does not know (botocore
 * does), orders members as the shape does, turns epoch timestamps into ISO 8601. */
int aws_model_json_to_json(json_t **out, const struct aws_operation *op, const char *body,
                           size_t len, struct diagnostics *d);

/* Pagination. aws_model_next_token returns the token to send for the next page (borrowed from
 * page) or NULL when this was the last page. */
const char *aws_model_next_token(const struct aws_operation *op, const json_t *page);

/* Merges the converted pages (a JSON array, in order) into what the CLI prints, the way its
 * build_full_result does: result keys concatenated, non-aggregate keys from the first page,
 * everything else (tokens, IsTruncated) dropped. A non-paginated operation's single page is
 * returned as it is. Returns 0 and a new reference in *out, or DDB_ERUNTIME (out of memory). */
int aws_model_merge_pages(json_t **out, const struct aws_operation *op, json_t *pages);

/* Formats epoch seconds (with fraction) the way the CLI prints a datetime in UTC:
 * "2026-03-14T09:12:44.512000+00:00", without the fraction when it is zero. out >= 40 bytes.
 * Returns 0 or -1 when out of range. */
int aws_model_format_epoch(char *out, size_t size, double epoch);

/* Re-formats an ISO 8601 wire timestamp ("2026-03-14T09:12:44.512Z") the same way. Returns 0
 * or -1 when the text is not a timestamp. */
int aws_model_format_iso(char *out, size_t size, const char *text);

/* What the CLI prints: JSON indented by 4, keys in insertion order, UTF-8 unescaped, one
 * trailing newline. Returns a fresh string or NULL on out of memory. */
char *aws_model_dump(const json_t *value);

#endif
