#!/usr/bin/env python3
"""Writes the hand-made CloudTrail fixtures in this directory (run it after changing them;
the output is committed and deterministic: fixed gzip mtime, sorted nothing left to chance).

records/   {"Records":[...]} log files, split across plain .json and .json.gz
lookup/    the same events as `aws cloudtrail lookup-events` prints them (CloudTrailEvent strings)
hostile/   broken and hostile files; expectations are in tests/unit/test_cloudtrail.c
"""
import gzip
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "111122223333"
K1 = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-1111-1111-1111-111111111111"
K2 = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/22222222-2222-2222-2222-222222222222"
ADMIN = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice"
APP = f"arn:aws:sts::{ACCOUNT}:assumed-role/App/i-0abc"
MALLORY = f"arn:aws:iam::{ACCOUNT}:user/mallory"

counter = 0


def event(source, name, time, principal=ADMIN, request=None, response=None, tls="TLSv1.3",
          vpce=None, error=None, ip="198.51.100.7", resources=None, invoked_by=None,
          read_only=False):
    global counter
    counter += 1
    identity = {"type": "AssumedRole" if ":assumed-role/" in principal else "IAMUser",
                "principalId": "AROAEXAMPLE:" + str(counter), "arn": principal,
                "accountId": ACCOUNT}
    if invoked_by:
        identity["invokedBy"] = invoked_by
    record = {
        "eventVersion": "1.09", "userIdentity": identity, "eventTime": time,
        "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
        "sourceIPAddress": invoked_by or ip,
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": request, "responseElements": response,
        "requestID": "req-%04d" % counter, "eventID": "00000000-0000-4000-8000-%012d" % counter,
        "readOnly": read_only, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": ACCOUNT, "eventCategory": "Management",
    }
    if tls:
        record["tlsDetails"] = {"tlsVersion": tls, "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                "clientProvidedHostHeader": source.replace(".amazonaws.com", ".eu-west-1.amazonaws.com")}
    if vpce:
        record["vpcEndpointId"] = vpce
    if error:
        record["errorCode"] = error
        record["errorMessage"] = "User: %s is not authorized to perform: %s" % (principal, name)
    if resources:
        record["resources"] = resources
    return record


DDB = "dynamodb.amazonaws.com"
IAM = "iam.amazonaws.com"
KMS = "kms.amazonaws.com"
T = "arn:aws:dynamodb:eu-west-1:%s:table/Orders" % ACCOUNT


def policy(actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def kms_resources(key):
    return [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}]


dynamodb = [
    event(DDB, "CreateTable", "2026-07-01T08:00:00Z", request={"tableName": "Orders", "sSESpecification": {"enabled": True, "sSEType": "KMS", "kMSMasterKeyId": K1}}),
    event(DDB, "UpdateTable", "2026-07-02T09:00:00Z", request={"tableName": "Orders", "replicaUpdates": [{"create": {"regionName": "us-east-1"}}]}),
    event(DDB, "UpdateTable", "2026-07-02T09:30:00Z", request={"tableName": "Orders", "deletionProtectionEnabled": False}),
    event(DDB, "UpdateContinuousBackups", "2026-07-03T10:00:00Z", request={"tableName": "Orders", "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": False}}),
    event(DDB, "UpdateContinuousBackups", "2026-07-03T11:00:00Z", request={"tableName": "Orders", "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": True}}),
    event(DDB, "DeleteBackup", "2026-07-04T12:00:00Z", request={"backupArn": T + "/backup/01700000000000-abcdefgh"}),
    event(DDB, "RestoreTableFromBackup", "2026-07-05T12:00:00Z", request={"targetTableName": "OrdersRestored", "backupArn": T + "/backup/01700000000000-abcdefgh"}),
    event(DDB, "RestoreTableToPointInTime", "2026-07-05T13:00:00Z", request={"sourceTableName": "Orders", "targetTableName": "OrdersPitr"}),
    event(DDB, "PutResourcePolicy", "2026-07-06T08:00:00Z", request={"resourceArn": T, "policy": policy("dynamodb:GetItem")}),
    event(DDB, "DeleteResourcePolicy", "2026-07-06T09:00:00Z", request={"resourceArn": T}),
    event(DDB, "UpdateTimeToLive", "2026-07-07T08:00:00Z", request={"tableName": "Orders", "timeToLiveSpecification": {"enabled": True, "attributeName": "ttl"}}),
    event(DDB, "CreateGlobalTable", "2026-07-08T08:00:00Z", request={"globalTableName": "Orders", "replicationGroup": [{"regionName": "eu-west-1"}, {"regionName": "us-east-1"}]}),
    event(DDB, "UpdateGlobalTable", "2026-07-08T09:00:00Z", request={"globalTableName": "Orders", "replicaUpdates": [{"delete": {"regionName": "us-east-1"}}]}),
    event(DDB, "DeleteTable", "2026-09-30T23:59:59Z", principal=MALLORY, request={"tableName": "Orders"}, ip="203.0.113.66", tls="TLSv1.1"),
    # data plane: through a VPC endpoint, once below TLS 1.2, once denied
    event(DDB, "GetItem", "2026-07-10T08:00:00Z", principal=APP, request={"tableName": "Orders", "key": {"id": {"S": "1"}}}, vpce="vpce-0123456789abcdef0", read_only=True),
    event(DDB, "PutItem", "2026-07-10T08:01:00Z", principal=APP, request={"tableName": "Orders"}, tls="TLSv1"),
    event(DDB, "DescribeTable", "2026-07-11T08:00:00Z", principal=MALLORY, request={"tableName": "Orders"}, error="AccessDeniedException", read_only=True),
    event(DDB, "DescribeTable", "2026-07-11T08:05:00Z", principal=MALLORY, request={"tableName": "Orders"}, error="AccessDeniedException", read_only=True),
    # outside the period 2026-07-01..2026-09-30
    event(DDB, "DeleteTable", "2026-06-30T23:59:59Z", request={"tableName": "Old"}),
    event(DDB, "CreateTable", "2026-10-01T00:00:00Z", request={"tableName": "Later"}),
]

iam = [
    event(IAM, "PutRolePolicy", "2026-07-12T08:00:00Z", request={"roleName": "App", "policyName": "ddb", "policyDocument": policy(["dynamodb:*"])}),
    event(IAM, "PutUserPolicy", "2026-07-12T09:00:00Z", request={"userName": "bob", "policyName": "s3", "policyDocument": policy(["s3:GetObject"])}),
    event(IAM, "PutGroupPolicy", "2026-07-12T10:00:00Z", request={"groupName": "devs", "policyName": "dyn", "policyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22Dynamo%2A%3AQuery%22%2C%22Resource%22%3A%22%2A%22%7D%7D"}),
    event(IAM, "CreatePolicyVersion", "2026-07-12T11:00:00Z", request={"policyArn": "arn:aws:iam::%s:policy/wide" % ACCOUNT, "policyDocument": policy("*"), "setAsDefault": True}),
    event(IAM, "AttachRolePolicy", "2026-07-13T08:00:00Z", request={"roleName": "App", "policyArn": "arn:aws:iam::%s:policy/custom" % ACCOUNT}),
    event(IAM, "AttachUserPolicy", "2026-07-13T09:00:00Z", request={"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"}),
    event(IAM, "AttachGroupPolicy", "2026-07-13T10:00:00Z", request={"groupName": "devs", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    event(IAM, "SetDefaultPolicyVersion", "2026-07-13T11:00:00Z", request={"policyArn": "arn:aws:iam::%s:policy/wide" % ACCOUNT, "versionId": "v3"}),
    event(IAM, "PutRolePolicy", "2026-07-14T08:00:00Z", principal=MALLORY, request={"roleName": "Admin", "policyName": "x", "policyDocument": policy("dynamodb:*")}, error="AccessDenied"),
    event(IAM, "ListRoles", "2026-07-14T09:00:00Z", read_only=True),
]

kms = [
    event(KMS, "Decrypt", "2026-07-15T08:00:00Z", principal=APP, request={"encryptionContext": {"aws:dynamodb:tableName": "Orders", "aws:dynamodb:subscriberId": ACCOUNT}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, resources=kms_resources(K1), invoked_by="dynamodb.amazonaws.com", read_only=True),
    event(KMS, "Decrypt", "2026-07-15T09:00:00Z", principal=APP, request={"encryptionContext": {"aws:dynamodb:tableName": "Orders"}}, resources=kms_resources(K1), invoked_by="dynamodb.amazonaws.com", read_only=True),
    event(KMS, "Decrypt", "2026-07-15T10:00:00Z", principal=MALLORY, request={"keyId": K1}, resources=kms_resources(K1), read_only=True),
    event(KMS, "GenerateDataKey", "2026-07-15T11:00:00Z", principal=APP, request={"keyId": K2, "keySpec": "AES_256"}, resources=kms_resources(K2), read_only=True),
    event(KMS, "DisableKey", "2026-07-16T08:00:00Z", principal=MALLORY, request={"keyId": "11111111-1111-1111-1111-111111111111"}, resources=kms_resources(K1)),
    event(KMS, "ScheduleKeyDeletion", "2026-07-16T09:00:00Z", principal=MALLORY, request={"keyId": K1, "pendingWindowInDays": 7}, resources=kms_resources(K1)),
    event(KMS, "PutKeyPolicy", "2026-07-16T10:00:00Z", request={"keyId": K2, "policyName": "default", "policy": "{}"}, resources=kms_resources(K2)),
    event(KMS, "Decrypt", "2026-07-17T08:00:00Z", principal=MALLORY, request={"keyId": K1}, resources=kms_resources(K1), error="AccessDeniedException", read_only=True),
]

other = [
    event("ec2.amazonaws.com", "DescribeInstances", "2026-07-01T08:00:00Z", read_only=True),
    # mentions dynamodb.amazonaws.com, but is not a DynamoDB event: passes the pre-filter only
    event("s3.amazonaws.com", "PutBucketPolicy", "2026-07-01T09:00:00Z", request={"bucketName": "logs", "note": "dynamodb.amazonaws.com"}),
    event("sts.amazonaws.com", "AssumeRole", "2026-07-01T10:00:00Z", error="AccessDenied"),
]


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as f:
        f.write(data)
    return out.getvalue()


def write(path, data):
    path = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def records(events):
    return json.dumps({"Records": events}, separators=(",", ":")).encode()


def lookup(events):
    out = []
    for e in events:
        out.append({"EventId": e["eventID"], "EventName": e["eventName"],
                    "ReadOnly": str(e["readOnly"]).lower(), "EventTime": e["eventTime"].replace("Z", "+00:00"),
                    "EventSource": e["eventSource"], "Username": e["userIdentity"]["arn"].split("/")[-1],
                    "Resources": [], "CloudTrailEvent": json.dumps(e, separators=(",", ":"))})
    return json.dumps({"Events": out}, indent=4).encode()


prefix = "AWSLogs/%s/CloudTrail/eu-west-1/2026/07/01/%s_CloudTrail_eu-west-1_20260701T0800Z_" % (ACCOUNT, ACCOUNT)
write("records/" + prefix + "dynamodb01.json", records(dynamodb[:10] + other[:1]))
write("records/" + prefix + "dynamodb02.json.gz", gz(records(dynamodb[10:] + other[1:])))
write("records/" + prefix + "iam00001.json.gz", gz(records(iam)))
write("records/" + prefix + "kms00001.json", json.dumps({"Records": kms}, indent=2).encode())
write("lookup/lookup-events-dynamodb.json", lookup(dynamodb + other))
write("lookup/lookup-events-iam-kms.json.gz", gz(lookup(iam + kms)))

# --- hostile and broken ------------------------------------------------------------------
delete = event(DDB, "DeleteTable", "2026-08-01T00:00:00Z", principal=MALLORY, request={"tableName": "Orders"})
good = records([delete])
write("hostile/truncated.json.gz", gz(records(dynamodb[:5]))[:300])
write("hostile/not-gzip.json.gz", good)
write("hostile/garbage.json.gz", bytes((i * 97 + 13) % 256 for i in range(4096)))
write("hostile/binary.json", b"\x00\x01\x02PK\x03\x04" + bytes(range(256)))
write("hostile/not-object.json", b'{"Records":[1,"dynamodb.amazonaws.com",[{"eventSource":"dynamodb.amazonaws.com"}],null,true,' + records([delete])[12:-2] + b"]}")
bad_utf8 = json.dumps({"Records": [delete]}, separators=(",", ":")).encode().replace(b"aws-cli/2.15.0", b"aws-cli/\xff\xc0\xed\xa0\x80")
write("hostile/invalid-utf8.json", bad_utf8)
broken = records([delete])[:-2] + b',{"eventSource":"dynamodb.amazonaws.com","eventName":"DeleteTable",,}' + b"," + json.dumps(dynamodb[0]).encode() + b"]}"
write("hostile/broken-record.json", broken)
write("hostile/empty.json", b"")
write("hostile/trailing-junk.json.gz", gz(good) + b"this is not gzip")
write("hostile/two-members.json.gz", gz(records([dynamodb[0]])) + gz(records([dynamodb[1]])))
escaped = json.dumps({"Records": [delete]}, separators=(",", ":")).replace("dynamodb.amazonaws.com", "dynamodb\\u002eamazonaws\\u002ecom")
write("hostile/escaped-source.json", escaped.encode())
write("hostile/deep-nesting.json", b'{"Records":[{"eventSource":"dynamodb.amazonaws.com","x":' + b"[" * 5000 + b"]" * 5000 + b"}," + json.dumps(delete).encode() + b"]}")
write("hostile/ends-in-string.json", b'{"Records":[{"eventSource":"dynamodb.amazonaws.com","eventName":"Dele')
write("hostile/huge-integer.json", records([delete]).replace(b'"readOnly":false', b'"readOnly":false,"n":123456789012345678901234567890'))
write("hostile/ndjson.json", b"\n".join(json.dumps(e).encode() for e in [dynamodb[0], other[0], iam[0]]) + b"\n")
write("hostile/lookup-bad-inner.json", json.dumps({"Events": [{"EventId": "x", "EventSource": DDB, "CloudTrailEvent": "{not json dynamodb.amazonaws.com"}, {"EventId": "y", "CloudTrailEvent": json.dumps(delete)}]}).encode())
