#!/usr/bin/env python3
"""Generates a CloudTrail benchmark corpus: --size-mb of uncompressed JSON (default 100) across
many .json.gz files laid out as a trail delivers them to S3, with a realistic mix where about a
third of the records are DynamoDB (mostly data plane, some control plane), the rest EC2, S3,
STS, KMS, IAM, Lambda and friends. Compact JSON, as CloudTrail writes it. Deterministic for a
given --seed. Most files are small (CloudTrail delivers every 5 minutes per region); a few are
large, to show memory does not follow file size.

usage: cloudtrail_gen.py OUTDIR [--size-mb 100] [--files 240] [--seed 1]
"""
import argparse
import gzip
import json
import os
import random

ACCOUNT = "123456789012"
REGIONS = ["us-east-1", "eu-west-1"]
PRINCIPALS = [
    f"arn:aws:sts::{ACCOUNT}:assumed-role/OrdersService/i-0{n:016x}" for n in range(8)
] + [f"arn:aws:iam::{ACCOUNT}:user/{u}" for u in ("alice", "bob", "ci-deployer", "mallory")]
AGENTS = [
    "aws-sdk-java/2.25.10 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9 vendor/Amazon.com_Inc.",
    "Boto3/1.34.2 md/Botocore#1.34.2 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.6",
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/dynamodb.scan",
    "console.amazonaws.com",
]
DYNAMODB_DATA = ["GetItem", "PutItem", "Query", "UpdateItem", "DeleteItem", "BatchGetItem",
                 "BatchWriteItem", "Scan", "TransactWriteItems", "DescribeTable"]
DYNAMODB_CONTROL = ["UpdateTable", "CreateBackup", "UpdateTimeToLive", "UpdateContinuousBackups",
                    "DeleteTable", "CreateTable", "PutResourcePolicy", "DeleteBackup"]
OTHER = [
    ("ec2.amazonaws.com", ["DescribeInstances", "DescribeSecurityGroups", "RunInstances",
                           "DescribeVolumes", "CreateTags"]),
    ("s3.amazonaws.com", ["GetObject", "PutObject", "ListObjectsV2", "GetBucketAcl",
                          "HeadObject"]),
    ("sts.amazonaws.com", ["AssumeRole", "GetCallerIdentity", "GetSessionToken"]),
    ("kms.amazonaws.com", ["Decrypt", "GenerateDataKey", "Encrypt", "DescribeKey"]),
    ("iam.amazonaws.com", ["GetRole", "ListRoles", "PutRolePolicy", "AttachRolePolicy",
                           "GetPolicyVersion"]),
    ("lambda.amazonaws.com", ["Invoke", "GetFunction", "ListFunctions"]),
    ("logs.amazonaws.com", ["PutLogEvents", "CreateLogStream", "DescribeLogGroups"]),
    ("monitoring.amazonaws.com", ["PutMetricData", "GetMetricData"]),
    ("ssm.amazonaws.com", ["GetParameter", "UpdateInstanceInformation"]),
]


def record(rng, n, day, second):
    principal = rng.choice(PRINCIPALS)
    region = rng.choice(REGIONS)
    roll = rng.random()
    if roll < 1 / 3:
        source = "dynamodb.amazonaws.com"
        name = rng.choice(DYNAMODB_CONTROL) if rng.random() < 0.02 else rng.choice(DYNAMODB_DATA)
        request = {"tableName": rng.choice(["Orders", "Customers", "Sessions", "Inventory"]),
                   "key": {"pk": {"S": "customer#%08d" % rng.randrange(10 ** 8)}},
                   "consistentRead": rng.random() < 0.5}
        if name == "UpdateContinuousBackups":
            request["pointInTimeRecoverySpecification"] = {
                "pointInTimeRecoveryEnabled": rng.random() < 0.7}
        response = None
    else:
        source, names = rng.choice(OTHER)
        name = rng.choice(names)
        request = {"maxResults": 100, "filterSet": {"items": [
            {"name": "tag:team", "valueSet": {"items": [{"value": "payments"}]}}]},
            "resourceId": "r-%012x" % rng.randrange(16 ** 12)}
        response = {"requestId": "%08x-%04x" % (rng.randrange(16 ** 8), rng.randrange(16 ** 4))} \
            if rng.random() < 0.3 else None
        if source == "kms.amazonaws.com":
            request = {"encryptionContext": {"aws:dynamodb:tableName": "Orders"},
                       "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    event = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole" if ":assumed-role/" in principal else "IAMUser",
            "principalId": "AROA%016X:%s" % (rng.randrange(16 ** 16), principal.rsplit("/", 1)[-1]),
            "arn": principal, "accountId": ACCOUNT, "accessKeyId": "ASIA%016X" % rng.randrange(16 ** 16),
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/OrdersService",
                                                 "accountId": ACCOUNT, "userName": "OrdersService"},
                               "attributes": {"creationDate": "2026-07-%02dT00:00:00Z" % day,
                                              "mfaAuthenticated": "false"}},
        },
        "eventTime": "2026-07-%02dT%02d:%02d:%02dZ" % (day, second // 3600 % 24, second // 60 % 60,
                                                      second % 60),
        "eventSource": source, "eventName": name, "awsRegion": region,
        "sourceIPAddress": "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        "userAgent": rng.choice(AGENTS),
        "requestParameters": request, "responseElements": response,
        "requestID": "%032X" % rng.randrange(16 ** 32),
        "eventID": "%08x-%04x-4%03x-8%03x-%012x" % (rng.randrange(16 ** 8), rng.randrange(16 ** 4),
                                                   rng.randrange(16 ** 3), rng.randrange(16 ** 3),
                                                   n),
        "readOnly": name.startswith(("Get", "Describe", "List", "Query", "Scan", "Head")),
        "resources": [{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table",
                       "ARN": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/Orders"}]
        if source == "dynamodb.amazonaws.com" else [],
        "eventType": "AwsApiCall", "managementEvent": source != "dynamodb.amazonaws.com" or
        name in DYNAMODB_CONTROL, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3" if rng.random() < 0.9 else "TLSv1.2",
                       "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": source.replace(".amazonaws.com",
                                                                  f".{region}.amazonaws.com")},
    }
    if rng.random() < 0.4:
        event["vpcEndpointId"] = "vpce-%017x" % rng.randrange(16 ** 17)
    if rng.random() < 0.02:
        event["errorCode"] = "AccessDenied"
        event["errorMessage"] = f"User: {principal} is not authorized to perform: {name}"
    return event


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = int(args.size_mb * 1e6)
    # Most files get an equal share; every 40th is 20 times larger.
    weights = [20 if i % 40 == 39 else 1 for i in range(args.files)]
    shares = [target * w // sum(weights) for w in weights]
    n = total = dynamodb = 0
    for index, share in enumerate(shares):
        day = 1 + index * 28 // args.files
        region = REGIONS[index % len(REGIONS)]
        directory = os.path.join(args.outdir, "AWSLogs", ACCOUNT, "CloudTrail", region,
                                 "2026", "07", "%02d" % day)
        os.makedirs(directory, exist_ok=True)
        parts, size = [], 0
        while size < share:
            event = record(rng, n, day, (index * 997 + n) % 86400)
            text = json.dumps(event, separators=(",", ":"))
            parts.append(text)
            size += len(text) + 1
            n += 1
            dynamodb += event["eventSource"] == "dynamodb.amazonaws.com"
        body = ('{"Records":[' + ",".join(parts) + "]}").encode()
        total += len(body)
        name = "%s_CloudTrail_%s_2026070%dT%04dZ_%016x.json.gz" % (
            ACCOUNT, region, day % 10, index % 2400, rng.randrange(16 ** 16))
        with open(os.path.join(directory, name), "wb") as f:
            f.write(gzip.compress(body, compresslevel=6, mtime=0))
    print("files=%d records=%d dynamodb=%d uncompressed_bytes=%d" % (args.files, n, dynamodb, total))


if __name__ == "__main__":
    main()
