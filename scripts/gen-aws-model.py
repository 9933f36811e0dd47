#!/usr/bin/env python3
"""Generates src/aws_model_data.c: the output shapes, paginators and protocol details of exactly
the AWS operations ddbaudit collect calls, read from the installed botocore service models.

We cannot load botocore at run time, yet the files we write must be what AWS CLI v2 prints,
which botocore derives from these shapes (member order, XML names, timestamps, policy documents,
page merging). Regenerate after a botocore upgrade:
    python3 scripts/gen-aws-model.py > src/aws_model_data.c
tests/integration/test_collect_model.py fails when the committed file no longer matches."""
import sys

import botocore
import botocore.session

# (CLI service name, operation) in the order the collector uses them.
OPERATIONS = [
    ("sts", "GetCallerIdentity"),
    ("dynamodb", "ListTables"),
    ("dynamodb", "DescribeTable"),
    ("dynamodb", "DescribeContinuousBackups"),
    ("dynamodb", "DescribeTimeToLive"),
    ("dynamodb", "ListTagsOfResource"),
    ("dynamodb", "GetResourcePolicy"),
    ("dynamodb", "DescribeGlobalTable"),
    ("kms", "DescribeKey"),
    ("kms", "GetKeyRotationStatus"),
    ("kms", "GetKeyPolicy"),
    ("ec2", "DescribeRegions"),
    ("ec2", "DescribeVpcs"),
    ("ec2", "DescribeVpcEndpoints"),
    ("iam", "GetAccountAuthorizationDetails"),
    ("iam", "GetAccountSummary"),
    ("iam", "ListSAMLProviders"),
    ("iam", "ListOpenIDConnectProviders"),
    ("iam", "GenerateCredentialReport"),
    ("iam", "GetCredentialReport"),
    ("cloudtrail", "DescribeTrails"),
    ("cloudtrail", "GetTrailStatus"),
    ("cloudtrail", "GetEventSelectors"),
    ("cloudtrail", "LookupEvents"),
    ("cloudtrail", "ListPublicKeys"),
    ("logs", "DescribeMetricFilters"),
    ("cloudwatch", "DescribeAlarms"),
    ("events", "ListRules"),
    ("events", "ListTargetsByRule"),
    ("application-autoscaling", "DescribeScalableTargets"),
    ("backup", "ListProtectedResources"),
    ("dax", "DescribeClusters"),
]

# CloudWatch now prefers smithy-rpc-v2-cbor; its model still offers query, which every SDK and
# CLI release speaks and which keeps microseconds in timestamps (its JSON answers carry
# milliseconds only).
PROTOCOL_OVERRIDE = {"cloudwatch": "query"}

TYPES = {
    "structure": "AWS_SHAPE_STRUCTURE",
    "list": "AWS_SHAPE_LIST",
    "map": "AWS_SHAPE_MAP",
    "string": "AWS_SHAPE_STRING",
    "integer": "AWS_SHAPE_INTEGER",
    "long": "AWS_SHAPE_INTEGER",
    "boolean": "AWS_SHAPE_BOOLEAN",
    "double": "AWS_SHAPE_DOUBLE",
    "float": "AWS_SHAPE_DOUBLE",
    "timestamp": "AWS_SHAPE_TIMESTAMP",
    "blob": "AWS_SHAPE_BLOB",
}
PROTOCOLS = {"json": "AWS_PROTOCOL_JSON", "query": "AWS_PROTOCOL_QUERY", "ec2": "AWS_PROTOCOL_EC2",
             "rest-json": "AWS_PROTOCOL_REST_JSON"}


def c_string(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Table:
    def __init__(self):
        self.shapes = []   # rows (dict)
        self.members = []  # rows (name, xml_name, shape index)
        self.index = {}

    def add(self, service, shape):
        key = (service, shape.name)
        if key in self.index:
            return self.index[key]
        idx = len(self.shapes)
        self.index[key] = idx
        row = {"type": TYPES.get(shape.type_name, "AWS_SHAPE_STRING"), "name": shape.name,
               "flattened": bool(shape.serialization.get("flattened")),
               "policy": shape.type_name == "string" and shape.name == "policyDocumentType",
               "document": bool(shape.metadata.get("document")),
               "first": 0, "count": 0, "element": 0, "key": 0,
               "element_name": None, "key_name": None, "service": service}
        self.shapes.append(row)
        if shape.type_name == "structure":
            members = []
            for name, member in shape.members.items():
                if "location" in member.serialization:
                    continue
                members.append((name, member))
            children = [(name, member, self.add(service, member)) for name, member in members]
            row["first"] = len(self.members)
            row["count"] = len(children)
            for name, member, child in children:
                xml_name = member.serialization.get("name", name)
                if member.type_name == "list" and member.serialization.get("flattened"):
                    xml_name = member.member.serialization.get("name") or xml_name
                self.members.append((name, xml_name, child))
        elif shape.type_name == "list":
            row["element"] = self.add(service, shape.member)
            row["element_name"] = shape.member.serialization.get("name", "member")
        elif shape.type_name == "map":
            row["key"] = self.add(service, shape.key)
            row["element"] = self.add(service, shape.value)
            row["key_name"] = shape.key.serialization.get("name") or "key"
            row["element_name"] = shape.value.serialization.get("name") or "value"
        return idx


def main():
    session = botocore.session.get_session()
    table = Table()
    services = {}
    operations = []
    for service, op_name in OPERATIONS:
        model = session.get_service_model(service)
        if service not in services:
            md = model.metadata
            services[service] = {
                "protocol": PROTOCOL_OVERRIDE.get(service, md["protocol"]),
                "target": md.get("targetPrefix"),
                "json_version": md.get("jsonVersion"),
                "api_version": md["apiVersion"],
            }
        op = model.operation_model(op_name)
        out = op.output_shape
        out_idx = table.add(service, out) if out is not None else 0xFFFF
        try:
            paginator = session.get_paginator_model(service).get_paginator(op_name)
        except Exception:
            paginator = None
        result_keys = []
        non_aggregate = []
        p = {}
        if paginator:
            rk = paginator["result_key"]
            result_keys = rk if isinstance(rk, list) else [rk]
            na = paginator.get("non_aggregate_keys", [])
            non_aggregate = na if isinstance(na, list) else [na]
            p = paginator
        for key in result_keys + non_aggregate:
            if "." in key or "[" in key:
                sys.exit(f"{service} {op_name}: paginator key {key} is an expression")
        input_token = p.get("input_token")
        output_token = p.get("output_token")
        # The query input name of the token (query/EC2) or its querystring name (rest-json).
        token_wire = input_token
        if input_token and op.input_shape is not None and input_token in op.input_shape.members:
            token_wire = op.input_shape.members[input_token].serialization.get("name", input_token)
        operations.append({
            "service": service, "name": op_name, "output": out_idx,
            "method": op.http.get("method", "POST"), "uri": op.http.get("requestUri", "/"),
            "result_wrapper": out.serialization.get("resultWrapper") if out is not None else None,
            "input_token": input_token, "input_token_wire": token_wire,
            "output_token": output_token, "more_results": p.get("more_results"),
            "result_keys": result_keys, "non_aggregate_keys": non_aggregate,
        })

    w = sys.stdout.write
    w("/* Generated by scripts/gen-aws-model.py from botocore %s: do not edit.\n" % botocore.__version__)
    w(" * Output shapes, paginators and protocol details of the operations ddbaudit collect calls. */\n")
    w("/* clang-format off */\n")
    w('#include "aws_model.h"\n\n')
    w('const char aws_model_botocore_version[] = "%s";\n\n' % botocore.__version__)
    w("const struct aws_service aws_services[] = {\n")
    for name, s in services.items():
        w("    {%s, %s, %s, %s, %s},\n" % (c_string(name), PROTOCOLS[s["protocol"]],
                                         c_string(s["target"]), c_string(s["json_version"]),
                                         c_string(s["api_version"])))
    w("};\nconst size_t aws_service_count = sizeof(aws_services) / sizeof(aws_services[0]);\n\n")
    w("const struct aws_member aws_members[] = {\n")
    for name, xml_name, shape in table.members:
        w("    {%s, %s, %d},\n" % (c_string(name), c_string(xml_name), shape))
    w("};\n\n")
    w("const struct aws_shape aws_shapes[] = {\n")
    for i, s in enumerate(table.shapes):
        flags = []
        if s["flattened"]:
            flags.append("AWS_SHAPE_FLATTENED")
        if s["policy"]:
            flags.append("AWS_SHAPE_POLICY_DOCUMENT")
        if s["document"]:
            flags.append("AWS_SHAPE_DOCUMENT")
        w("    /* %d %s.%s */ {%s, %s, %d, %d, %d, %d, %s, %s},\n" % (
            i, s["service"], s["name"], s["type"], " | ".join(flags) or "0", s["first"],
            s["count"], s["element"], s["key"], c_string(s["element_name"]),
            c_string(s["key_name"])))
    w("};\nconst size_t aws_shape_count = sizeof(aws_shapes) / sizeof(aws_shapes[0]);\n\n")
    w("const struct aws_operation aws_operations[] = {\n")
    for o in operations:
        keys = ", ".join(c_string(k) for k in o["result_keys"])
        na = ", ".join(c_string(k) for k in o["non_aggregate_keys"])
        w("    {%s, %s, %s, %s, %d, %s,\n     %s, %s, %s, %s,\n     {%s}, {%s}},\n" % (
            c_string(o["service"]), c_string(o["name"]), c_string(o["method"]),
            c_string(o["uri"]), o["output"], c_string(o["result_wrapper"]),
            c_string(o["input_token"]), c_string(o["input_token_wire"]),
            c_string(o["output_token"]), c_string(o["more_results"]), keys or "NULL",
            na or "NULL"))
    w("};\nconst size_t aws_operation_count = sizeof(aws_operations) / sizeof(aws_operations[0]);\n")


if __name__ == "__main__":
    main()
