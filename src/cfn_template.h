/* CloudFormation and SAM templates (YAML or JSON, both read with libyaml so every value keeps
 * its file:line:col): parameters, conditions, mappings and intrinsic functions in long and short
 * form, resolved into plain JSON per resource. What only a deployment can know (an imported
 * value, an SSM parameter, most Fn::GetAtt) stays an explicit "unresolved" value with a reason.
 * This module knows nothing about DynamoDB or the controls (cfn_evidence.c maps resources). */
#ifndef DDBAUDIT_CFN_TEMPLATE_H
#define DDBAUDIT_CFN_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "digest.h"
#include "yamlfile.h"

struct diagnostics;

/* Where the template is deployed: the values of the pseudo-parameters. */
struct cfn_context {
    const char *account;    /* AWS::AccountId; default 123456789012 */
    const char *region;     /* AWS::Region; default us-east-1 */
    const char *partition;  /* AWS::Partition; default aws */
    const char *stack_name; /* AWS::StackName; default: the template's file name without suffix */
    json_t *parameters;     /* object: parameter name → value given with --parameters, or NULL */
};

struct cfn_resource {
    char *logical_id;
    char *type;
    yaml_node_t *node;  /* the resource's mapping */
    int line, column;   /* of its logical id */
    int excluded;       /* its Condition is false: CloudFormation would not create it */
    json_t *properties; /* resolved Properties (an object, never NULL) */
    /* JSON pointer into `properties` ("" = the resource itself) → {"file","line","column"}. */
    json_t *locations;
};

struct cfn_template {
    char *path; /* as given */
    char sha256[DIGEST_SHA256_HEX_LEN + 1];
    struct yaml_file file;
    char *account, *region, *partition, *stack_name;
    struct cfn_resource *resources; /* in template order */
    size_t resource_count;
    /* Private to cfn_template.c. */
    yaml_document_t *doc;
    yaml_node_t *parameters, *conditions, *mappings, *resources_node;
    json_t *parameter_values; /* name → value or unresolved marker */
    json_t *condition_values; /* name → true/false/null (unknown) */
    json_t *given;            /* --parameters */
    char *resolving;          /* flags per condition while it is evaluated (cycle check) */
};

/* Reads a --parameters file: the CLI's [{"ParameterKey": "K", "ParameterValue": "V"}, ...] or a
 * plain {"K": "V"} object. Values become strings (lists joined by commas). *out is a new
 * object the caller owns. Errors point at file:line:col. */
int cfn_parameters_load(json_t **out, const char *path, struct diagnostics *d);

/* Loads, checks and resolves a template. Every problem (invalid YAML/JSON, a missing Resources
 * section, an unknown intrinsic function or tag, a Ref to nothing, a circular dependency,
 * a circular condition) is recorded at its file:line:col, all of them, and the result is
 * DDB_EINPUT. The caller owns *out (cfn_template_free). */
int cfn_template_load(struct cfn_template **out, const char *path,
                      const struct cfn_context *context, struct diagnostics *d);
void cfn_template_free(struct cfn_template *template_);

/* The first resource with that logical id, or NULL. */
const struct cfn_resource *cfn_template_find(const struct cfn_template *template_,
                                             const char *logical_id);

/* An unresolved value is {"Fn::Unresolved": "<why, with file:line:col>"}. */
int cfn_is_unresolved(const json_t *value);
const char *cfn_unresolved_reason(const json_t *value);
/* The first unresolved value anywhere inside `value` (itself included), or NULL. */
const json_t *cfn_find_unresolved(const json_t *value);

/* The location recorded for `pointer` of a resource's properties or for its nearest ancestor
 * (a borrowed reference; never NULL: the resource's own position is the last resort). */
json_t *cfn_location(const struct cfn_resource *resource, const char *pointer);

/* "true"/"false" as CloudFormation reads booleans (JSON booleans or those strings, any case):
 * 1 or 0, or -1 when the value is absent, unresolved or something else. */
int cfn_bool(const json_t *value);

#endif
