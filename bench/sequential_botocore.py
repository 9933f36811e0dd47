#!/usr/bin/env python3
"""The second baseline: the same calls as ddbaudit collect, in dependency order, one after the
other with botocore (Debian's python3-botocore when installed, else the machine's), each
result written to a file. usage: sequential_botocore.py ENDPOINT_URL OUT_DIR REGION...
Prints the number of calls made."""
import json
import os
import sys

import botocore
import botocore.session
from botocore.config import Config


def main():
    url, out, regions = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    session = botocore.session.get_session()
    config = Config(retries={"mode": "standard"})
    clients = {}
    calls = 0

    def client(service, region):
        if (service, region) not in clients:
            clients[(service, region)] = session.create_client(
                service, region_name=region, endpoint_url=url, config=config)
        return clients[(service, region)]

    def call(name, service, region, operation, **params):
        nonlocal calls
        c = client(service, region)
        method = botocore.xform_name(operation)
        try:
            if c.can_paginate(method):
                pages = c.get_paginator(method).paginate(**params)
                result = pages.build_full_result()
            else:
                result = getattr(c, method)(**params)
        except botocore.exceptions.ClientError as e:
            result = {"Error": e.response.get("Error", {})}
        calls += 1
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(result, f, default=str)
        return result

    home = regions[0]
    call("sts", "sts", home, "GetCallerIdentity")
    for op in ("GetAccountAuthorizationDetails", "GetAccountSummary", "ListSAMLProviders",
               "ListOpenIDConnectProviders", "GenerateCredentialReport", "GetCredentialReport"):
        call("iam-" + op, "iam", home, op)
    for region in regions:
        tables = call(f"{region}-tables", "dynamodb", region, "ListTables").get("TableNames", [])
        keys = set()
        for table in tables:
            description = call(f"{region}-{table}-describe", "dynamodb", region, "DescribeTable",
                               TableName=table)["Table"]
            key = description.get("SSEDescription", {}).get("KMSMasterKeyArn")
            if key:
                keys.add(key)
            for op in ("DescribeContinuousBackups", "DescribeTimeToLive"):
                call(f"{region}-{table}-{op}", "dynamodb", region, op, TableName=table)
            for op in ("ListTagsOfResource", "GetResourcePolicy"):
                call(f"{region}-{table}-{op}", "dynamodb", region, op,
                     ResourceArn=description["TableArn"])
        for key in sorted(keys):
            kid = key.rsplit("/", 1)[-1]
            call(f"{region}-{kid}-key", "kms", region, "DescribeKey", KeyId=key)
            call(f"{region}-{kid}-rotation", "kms", region, "GetKeyRotationStatus", KeyId=key)
            call(f"{region}-{kid}-policy", "kms", region, "GetKeyPolicy", KeyId=key,
                 PolicyName="default")
        for service, op, params in (("ec2", "DescribeVpcs", {}),
                                    ("ec2", "DescribeVpcEndpoints", {}),
                                    ("cloudtrail", "DescribeTrails", {}),
                                    ("logs", "DescribeMetricFilters", {}),
                                    ("cloudwatch", "DescribeAlarms", {}),
                                    ("events", "ListRules", {}),
                                    ("application-autoscaling", "DescribeScalableTargets",
                                     {"ServiceNamespace": "dynamodb"}),
                                    ("backup", "ListProtectedResources", {}),
                                    ("dax", "DescribeClusters", {})):
            call(f"{region}-{op}", service, region, op, **params)
    print(calls)


if __name__ == "__main__":
    main()
