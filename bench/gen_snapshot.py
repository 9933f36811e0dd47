#!/usr/bin/env python3
"""Write a synthetic evidence snapshot for benchmarks.

    bench/gen_snapshot.py --tables N --out DIR [--regions r1,r2] [--seed S] [--jobs J]

The layout and every file's shape are those of evidence/sample/ (what AWS CLI v2 prints), so the
shape test accepts the output:  python3 tests/integration/test_evidence_shapes.py DIR
No manifest.json is written; `ddbaudit evidence seal DIR --account 111122223333` adds it.

Tables are spread round-robin over the Regions with a mix of AWS owned, AWS managed and customer
managed keys (a handful per Region, one pending deletion, one without rotation), PITR on and off,
complete and partial tags, on-demand and provisioned capacity with and without autoscaling,
streams, TTL, resource policies (some public or cross-account, most absent, a few denied) and, with
more than one Region, global tables whose replicas are among the N tables. The output depends only
on the arguments: every table is generated from its own index and the seed, so --jobs changes the
speed, never the bytes.
"""

import argparse
import base64
import json
import multiprocessing
import os
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

ACCOUNT = "111122223333"
COLLECTED = datetime(2026, 10, 1, 9, 30, 0, tzinfo=timezone.utc)
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/ddbaudit-reader/bench"
WORDS = ["orders", "customers", "payments", "sessions", "events", "catalog", "inventory", "ledger",
         "profiles", "carts", "invoices", "shipments", "reviews", "devices", "metrics", "tokens",
         "audit", "quotes", "claims", "accounts", "bookings", "messages", "leads", "assets"]
TEAMS = ["checkout", "identity", "payments", "logistics", "analytics", "platform", "crm", "finance"]
CONFIDENTIALITY = ["Public", "Internal", "Confidential", "Restricted"]
GLOBAL_EVERY = 40  # one table group in 40 is a global table when there are several Regions
KEYS_PER_REGION = 6


def dump(path, document):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, indent=4, ensure_ascii=False))
        handle.write("\n")


def dump_error(path_without_ext, code, operation, message):
    open(path_without_ext + ".json", "w").close()
    with open(path_without_ext + ".err", "w", encoding="utf-8") as handle:
        handle.write(f"\nAn error occurred ({code}) when calling the {operation} operation: {message}\n")


def iso(moment):
    return moment.isoformat()


def rng_for(seed, *parts):
    return random.Random(f"{seed}:" + ":".join(str(p) for p in parts))


def uuid_from(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------------------------------------
class Plan:
    """Everything that is a pure function of (seed, regions, N)."""

    def __init__(self, tables, regions, seed):
        self.tables = tables
        self.regions = regions
        self.seed = seed
        self.keys = {region: self._keys(region) for region in regions}

    def _keys(self, region):
        rng = rng_for(self.seed, "keys", region)
        keys = [dict(id=uuid_from(rng), manager="AWS", state="Enabled", rotation=True,
                     alias="alias/aws/dynamodb", created=COLLECTED - timedelta(days=rng.randint(900, 2500)))]
        for index in range(KEYS_PER_REGION):
            keys.append(dict(id=uuid_from(rng), manager="CUSTOMER",
                             state="PendingDeletion" if index == 4 else "Enabled",
                             rotation=index != 5, alias=f"alias/{WORDS[index]}-data",
                             created=COLLECTED - timedelta(days=rng.randint(60, 1500),
                                                           seconds=rng.randint(0, 86399))))
        return keys

    def key_arn(self, region, key):
        return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key['id']}"

    def group(self, index):
        """Global tables: a group of len(regions) consecutive indices, one per Region."""
        count = len(self.regions)
        group = index // count
        is_global = (count > 1 and group % GLOBAL_EVERY == 0 and (group + 1) * count <= self.tables)
        return group, is_global

    def table(self, index):
        regions = self.regions
        region = regions[index % len(regions)]
        group, is_global = self.group(index)
        rng = rng_for(self.seed, "table", index)
        if is_global:
            shared = rng_for(self.seed, "global", group)
            name = f"global-{shared.choice(WORDS)}-{group:06d}"
        else:
            shared = rng
            name = f"{rng.choice(WORDS)}-{rng.choice(TEAMS)}-{index:07d}"
        created = COLLECTED - timedelta(days=shared.randint(20, 2400), seconds=shared.randint(0, 86399),
                                        milliseconds=shared.randint(0, 999))
        if is_global:
            created += timedelta(seconds=90 * regions.index(region), milliseconds=rng.randint(0, 999))
        confidentiality = shared.choices(CONFIDENTIALITY, weights=[15, 50, 25, 10])[0]
        spec = dict(index=index, region=region, name=name, created=created, id=uuid_from(rng),
                    confidentiality=confidentiality, is_global=is_global, group=group)
        roll = rng.random()
        keys = self.keys[region]
        if roll < 0.40:
            spec["key"] = None
        elif roll < 0.65:
            spec["key"] = keys[0]
        else:
            spec["key"] = keys[1 + rng.randrange(KEYS_PER_REGION)]
        spec["pitr"] = rng.random() < 0.7
        spec["pitr_days"] = rng.choice([35, 35, 35, 14, 7])
        spec["deletion_protection"] = rng.random() < 0.5
        spec["ttl"] = rng.choice(["expiresAt", "ttl"]) if rng.random() < 0.3 else None
        spec["stream"] = "NEW_AND_OLD_IMAGES" if is_global else (
            rng.choice(["NEW_IMAGE", "KEYS_ONLY", "NEW_AND_OLD_IMAGES"]) if rng.random() < 0.2 else None)
        provisioned = (not is_global) and rng.random() < 0.4
        spec["billing"] = "PROVISIONED" if provisioned else "PAY_PER_REQUEST"
        spec["rcu"] = rng.choice([5, 10, 25, 50, 100, 200, 400]) if provisioned else 0
        spec["wcu"] = max(1, spec["rcu"] // rng.choice([1, 2, 4])) if provisioned else 0
        scaling = rng.random() if provisioned else 1.0
        spec["autoscaling"] = ("both" if scaling < 0.5 else "read" if scaling < 0.7 else "none") if provisioned else "none"
        spec["items"] = int(10 ** rng.uniform(2, 8))
        spec["size"] = spec["items"] * rng.randint(120, 4000)
        spec["gsi"] = rng.random() < 0.35
        tags = [{"Key": "Environment", "Value": rng.choice(["prod", "prod", "staging", "dev", "test"])}]
        if rng.random() < 0.85:
            tags.append({"Key": "Security", "Value": "baseline-v3"})
        if rng.random() < 0.8:
            tags.append({"Key": "Confidentiality", "Value": confidentiality})
        if rng.random() < 0.7:
            tags.append({"Key": "Owner", "Value": rng.choice(TEAMS)})
        if rng.random() < 0.05:
            tags = []
        spec["tags"] = sorted(tags, key=lambda tag: tag["Key"])
        policy = rng.random()
        spec["policy"] = ("denied" if policy < 0.01 else "public" if policy < 0.02 else
                          "cross-account" if policy < 0.04 else "vpce" if policy < 0.12 else None)
        spec["backup"] = rng.random() < 0.3
        return spec


# ---------------------------------------------------------------------------------------------
def table_arn(spec):
    return f"arn:aws:dynamodb:{spec['region']}:{ACCOUNT}:table/{spec['name']}"


def describe_table(plan, spec):
    arn = table_arn(spec)
    created = iso(spec["created"])
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    if spec["gsi"]:
        attributes.append({"AttributeName": "gsi1pk", "AttributeType": "S"})
    table = {
        "AttributeDefinitions": sorted(attributes, key=lambda a: a["AttributeName"]),
        "TableName": spec["name"],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "TableStatus": ("INACCESSIBLE_ENCRYPTION_CREDENTIALS"
                        if spec["key"] is not None and spec["key"]["state"] == "PendingDeletion" else "ACTIVE"),
        "CreationDateTime": created,
        "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": spec["rcu"],
                                  "WriteCapacityUnits": spec["wcu"]},
        "TableSizeBytes": spec["size"],
        "ItemCount": spec["items"],
        "TableArn": arn,
        "TableId": spec["id"],
    }
    if spec["billing"] == "PAY_PER_REQUEST":
        table["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST",
                                       "LastUpdateToPayPerRequestDateTime": created}
    if spec["gsi"]:
        table["GlobalSecondaryIndexes"] = [{
            "IndexName": "gsi1", "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}, "IndexStatus": "ACTIVE",
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": spec["rcu"],
                                      "WriteCapacityUnits": spec["wcu"]},
            "IndexSizeBytes": spec["size"] // 10, "ItemCount": spec["items"], "IndexArn": f"{arn}/index/gsi1"}]
    if spec["stream"]:
        label = spec["created"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{spec['created'].microsecond // 1000:03d}"
        table["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec["stream"]}
        table["LatestStreamLabel"] = label
        table["LatestStreamArn"] = f"{arn}/stream/{label}"
    if spec["is_global"]:
        table["GlobalTableVersion"] = "2019.11.21"
        replicas = []
        for position, region in enumerate(plan.regions):
            if region == spec["region"]:
                continue
            other = plan.table(spec["group"] * len(plan.regions) + position)
            replica = {"RegionName": region, "ReplicaStatus": "ACTIVE"}
            if other["key"] is not None and other["key"]["manager"] == "CUSTOMER":
                replica["KMSMasterKeyId"] = plan.key_arn(region, other["key"])
            replicas.append(replica)
        table["Replicas"] = replicas
    if spec["key"] is not None:
        table["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS",
                                   "KMSMasterKeyArn": plan.key_arn(spec["region"], spec["key"])}
    table["DeletionProtectionEnabled"] = spec["deletion_protection"]
    return {"Table": table}


def continuous_backups(spec):
    if not spec["pitr"]:
        return {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}}
    earliest = max(spec["created"], COLLECTED - timedelta(days=spec["pitr_days"]))
    return {"ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {
            "PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": spec["pitr_days"],
            "EarliestRestorableDateTime": iso(earliest.replace(microsecond=0)),
            "LatestRestorableDateTime": iso(COLLECTED - timedelta(minutes=5))}}}


def resource_policy(spec):
    arn = table_arn(spec)
    kind = spec["policy"]
    if kind == "public":
        statement = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                     "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": arn}
    elif kind == "cross-account":
        statement = {"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                     "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"], "Resource": arn}
    else:
        statement = {"Sid": "AppAccessThroughEndpoint", "Effect": "Allow",
                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app/{spec['name'].split('-')[0]}-app"},
                     "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                     "Resource": [arn, f"{arn}/index/*"],
                     "Condition": {"StringEquals": {"aws:SourceVpce": f"vpce-0{spec['region'][-1]}a1b2c3d4e5f60718"}}}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":"))
    return {"Policy": policy, "RevisionId": str(int(spec["created"].timestamp() * 1000) + 3600000)}


def write_table(plan, spec, out):
    base = os.path.join(out, ACCOUNT, spec["region"], "dynamodb")
    name = spec["name"]
    dump(os.path.join(base, "DescribeTable", f"{name}.json"), describe_table(plan, spec))
    dump(os.path.join(base, "DescribeContinuousBackups", f"{name}.json"), continuous_backups(spec))
    ttl = ({"TimeToLiveStatus": "ENABLED", "AttributeName": spec["ttl"]} if spec["ttl"]
           else {"TimeToLiveStatus": "DISABLED"})
    dump(os.path.join(base, "DescribeTimeToLive", f"{name}.json"), {"TimeToLiveDescription": ttl})
    dump(os.path.join(base, "ListTagsOfResource", f"{name}.json"), {"Tags": spec["tags"]})
    stem = os.path.join(base, "GetResourcePolicy", name)
    arn = table_arn(spec)
    if spec["policy"] == "denied":
        dump_error(stem, "AccessDeniedException", "GetResourcePolicy",
                   f"User: {CALLER} is not authorized to perform: dynamodb:GetResourcePolicy on resource: {arn} "
                   "because no identity-based policy allows the dynamodb:GetResourcePolicy action")
    elif spec["policy"] is None:
        dump_error(stem, "PolicyNotFoundException", "GetResourcePolicy",
                   f"Resource-based policy not found for the provided ResourceArn: Requested policy for "
                   f"resource {arn} not found.")
    else:
        dump(stem + ".json", resource_policy(spec))
    if spec["stream"]:
        label = spec["created"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{spec['created'].microsecond // 1000:03d}"
        dump_error(stem + "@stream", "PolicyNotFoundException", "GetResourcePolicy",
                   f"Resource-based policy not found for the provided ResourceArn: Requested policy for "
                   f"resource {arn}/stream/{label} not found.")


def worker(arguments):
    tables, regions, seed, out, start, stop = arguments
    plan = Plan(tables, regions, seed)
    for index in range(start, stop):
        write_table(plan, plan.table(index), out)
    return stop - start


# ---------------------------------------------------------------------------------------------
def write_keys(plan, out):
    for region, keys in plan.keys.items():
        base = os.path.join(out, ACCOUNT, region, "kms")
        for key in keys:
            arn = plan.key_arn(region, key)
            metadata = {"AWSAccountId": ACCOUNT, "KeyId": key["id"], "Arn": arn, "CreationDate": iso(key["created"]),
                        "Enabled": key["state"] == "Enabled",
                        "Description": ("Default master key that protects my DynamoDB data when no other key is defined"
                                        if key["manager"] == "AWS" else f"{key['alias'][6:]} table encryption"),
                        "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": key["state"]}
            if key["state"] == "PendingDeletion":
                metadata["DeletionDate"] = iso(COLLECTED + timedelta(days=27))
            metadata.update({"Origin": "AWS_KMS", "KeyManager": key["manager"],
                             "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
                             "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False})
            if key["state"] == "PendingDeletion":
                metadata["PendingDeletionWindowInDays"] = 30
            dump(os.path.join(base, "DescribeKey", f"{key['id']}.json"), {"KeyMetadata": metadata})
            rotating = key["rotation"] and key["state"] == "Enabled"
            rotation = {"KeyRotationEnabled": rotating, "KeyId": arn}
            if rotating:
                rotation["RotationPeriodInDays"] = 365
                rotation["NextRotationDate"] = iso(key["created"] + timedelta(days=365 * (
                    (COLLECTED - key["created"]).days // 365 + 1)))
            dump(os.path.join(base, "GetKeyRotationStatus", f"{key['id']}.json"), rotation)
            policy = {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
                {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
                {"Sid": "Allow use through DynamoDB", "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                            "kms:CreateGrant", "kms:DescribeKey"], "Resource": "*",
                 "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                "kms:ViaService": f"dynamodb.{region}.amazonaws.com"}}}]}
            dump(os.path.join(base, "GetKeyPolicy", f"{key['id']}.json"),
                 {"Policy": json.dumps(policy, indent=4), "PolicyName": "default"})


def write_region_wide(plan, out, names_by_region, specs_summary):
    home = plan.regions[0]
    trail_arn = f"arn:aws:cloudtrail:{home}:{ACCOUNT}:trail/management"
    for position, region in enumerate(plan.regions):
        base = os.path.join(out, ACCOUNT, region)
        dump(os.path.join(base, "dynamodb", "ListTables.json"), {"TableNames": sorted(names_by_region[region])})
        vpcs, endpoints = [], []
        for number in range(2):
            vpc_id = f"vpc-{position:02x}{number:02x}c3d4e5f607182"
            cidr = f"10.{position * 16 + number}.0.0/16"
            vpcs.append({"OwnerId": ACCOUNT, "InstanceTenancy": "default",
                         "CidrBlockAssociationSet": [{"AssociationId": f"vpc-cidr-assoc-{position:02x}{number:02x}e2f3a4b5c6d7e",
                                                      "CidrBlock": cidr, "CidrBlockState": {"State": "associated"}}],
                         "IsDefault": False, "Tags": [{"Key": "Name", "Value": f"bench-{number}"}],
                         "VpcId": vpc_id, "State": "available", "CidrBlock": cidr,
                         "DhcpOptionsId": f"dopt-{position:02x}7c6d5e4f3a2b1c0"})
            if number == 0:
                endpoints.append({
                    "VpcEndpointId": f"vpce-0{region[-1]}a1b2c3d4e5f60718", "VpcEndpointType": "Gateway",
                    "VpcId": vpc_id, "ServiceName": f"com.amazonaws.{region}.dynamodb", "State": "available",
                    "PolicyDocument": '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
                    "RouteTableIds": [f"rtb-{position:02x}2b4c6d8e0f1a3b5"], "SubnetIds": [], "Groups": [],
                    "IpAddressType": "ipv4", "PrivateDnsEnabled": False, "RequesterManaged": False,
                    "NetworkInterfaceIds": [], "DnsEntries": [],
                    "CreationTimestamp": iso(COLLECTED - timedelta(days=400)), "Tags": [], "OwnerId": ACCOUNT})
        dump(os.path.join(base, "ec2", "DescribeVpcs.json"), {"Vpcs": vpcs})
        dump(os.path.join(base, "ec2", "DescribeVpcEndpoints.json"), {"VpcEndpoints": endpoints})
        dump(os.path.join(base, "cloudtrail", "DescribeTrails.json"), {"trailList": [{
            "Name": "management", "S3BucketName": f"bench-trail-{ACCOUNT}", "IncludeGlobalServiceEvents": True,
            "IsMultiRegionTrail": True, "HomeRegion": home, "TrailARN": trail_arn, "LogFileValidationEnabled": True,
            "KmsKeyId": plan.key_arn(home, plan.keys[home][1]), "HasCustomEventSelectors": True,
            "HasInsightSelectors": False, "IsOrganizationTrail": False}]})
        dump(os.path.join(base, "logs", "DescribeMetricFilters.json"), {"metricFilters": []})
        dump(os.path.join(base, "cloudwatch", "DescribeAlarms.json"), {"MetricAlarms": [], "CompositeAlarms": []})
        dump(os.path.join(base, "events", "ListRules.json"), {"Rules": []})
        dump(os.path.join(base, "dax", "DescribeClusters.json"), {"Clusters": []})
        targets = []
        role = (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable")
        for name, created, scaling in specs_summary[region]["autoscaling"]:
            dimensions = ["ReadCapacityUnits", "WriteCapacityUnits"] if scaling == "both" else ["ReadCapacityUnits"]
            for dimension in dimensions:
                target_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{region}/{name}/{dimension}").hex + "abcd"
                targets.append({"ServiceNamespace": "dynamodb", "ResourceId": f"table/{name}",
                                "ScalableDimension": f"dynamodb:table:{dimension}", "MinCapacity": 5,
                                "MaxCapacity": 1000, "RoleARN": role, "CreationTime": created,
                                "SuspendedState": {"DynamicScalingInSuspended": False,
                                                   "DynamicScalingOutSuspended": False,
                                                   "ScheduledScalingSuspended": False},
                                "ScalableTargetARN": f"arn:aws:application-autoscaling:{region}:{ACCOUNT}:scalable-target/{target_id}"})
        dump(os.path.join(base, "application-autoscaling", "DescribeScalableTargets.json"), {"ScalableTargets": targets})
        vault = f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:bench-vault"
        results = [{"ResourceArn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}", "ResourceType": "DynamoDB",
                    "LastBackupTime": iso(COLLECTED - timedelta(hours=6)), "ResourceName": name,
                    "LastBackupVaultArn": vault}
                   for name in specs_summary[region]["backup"]]
        dump(os.path.join(base, "backup", "ListProtectedResources.json"), {"Results": results})
    base = os.path.join(out, ACCOUNT, home, "cloudtrail")
    dump(os.path.join(base, "GetTrailStatus", "management.json"), {
        "IsLogging": True, "LatestDeliveryTime": iso(COLLECTED - timedelta(minutes=4)),
        "StartLoggingTime": iso(COLLECTED - timedelta(days=900)),
        "LatestDeliveryAttemptTime": (COLLECTED - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "LatestNotificationAttemptTime": "", "LatestNotificationAttemptSucceeded": "",
        "LatestDeliveryAttemptSucceeded": (COLLECTED - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "TimeLoggingStarted": (COLLECTED - timedelta(days=900)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "TimeLoggingStopped": ""})
    dump(os.path.join(base, "GetEventSelectors", "management.json"), {"TrailARN": trail_arn, "AdvancedEventSelectors": [
        {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "DynamoDB data events", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:dynamodb:{home}:{ACCOUNT}:table/orders-"]}]}]})


def write_global(out):
    base = os.path.join(out, ACCOUNT, "global")
    dump(os.path.join(base, "sts", "GetCallerIdentity.json"),
         {"UserId": "AROAEXAMPLEBENCH00001:bench", "Account": ACCOUNT, "Arn": CALLER})
    created = iso(COLLECTED - timedelta(days=700))
    admin_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/CorpIdP"}, "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]}
    app_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
         "Resource": f"arn:aws:dynamodb:*:{ACCOUNT}:table/orders-*"},
        {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    dump(os.path.join(base, "iam", "GetAccountAuthorizationDetails.json"), {
        "UserDetailList": [], "GroupDetailList": [],
        "RoleDetailList": [
            {"Path": "/", "RoleName": "DynamoDBAdmin", "RoleId": "AROAEXAMPLEBENCH00002",
             "Arn": f"arn:aws:iam::{ACCOUNT}:role/DynamoDBAdmin", "CreateDate": created,
             "AssumeRolePolicyDocument": admin_trust, "InstanceProfileList": [], "RolePolicyList": [],
             "AttachedManagedPolicies": [{"PolicyName": "AmazonDynamoDBFullAccess",
                                          "PolicyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"}],
             "Tags": [], "RoleLastUsed": {}},
            {"Path": "/app/", "RoleName": "orders-app", "RoleId": "AROAEXAMPLEBENCH00003",
             "Arn": f"arn:aws:iam::{ACCOUNT}:role/app/orders-app", "CreateDate": created,
             "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                 {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
             "InstanceProfileList": [], "RolePolicyList": [{"PolicyName": "orders", "PolicyDocument": app_policy}],
             "AttachedManagedPolicies": [], "Tags": [], "RoleLastUsed": {}}],
        "Policies": [{"PolicyName": "AmazonDynamoDBFullAccess", "PolicyId": "ANPAEXAMPLEBENCH00004",
                      "Arn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", "Path": "/",
                      "DefaultVersionId": "v1", "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0,
                      "IsAttachable": True, "CreateDate": created, "UpdateDate": created,
                      "PolicyVersionList": [{"Document": {"Version": "2012-10-17", "Statement": [
                          {"Effect": "Allow", "Action": ["dynamodb:*", "dax:*"], "Resource": "*"}]},
                          "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": created}]}]})
    dump(os.path.join(base, "iam", "GetAccountSummary.json"), {"SummaryMap": {
        "Users": 0, "Groups": 0, "Roles": 2, "Policies": 0, "Providers": 1, "MFADevices": 1, "MFADevicesInUse": 1,
        "AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0, "AccountPasswordPresent": 1,
        "AccountSigningCertificatesPresent": 0}})
    dump(os.path.join(base, "iam", "ListSAMLProviders.json"), {"SAMLProviderList": [
        {"Arn": f"arn:aws:iam::{ACCOUNT}:saml-provider/CorpIdP", "ValidUntil": iso(COLLECTED + timedelta(days=200)),
         "CreateDate": created}]})
    dump(os.path.join(base, "iam", "ListOpenIDConnectProviders.json"), {"OpenIDConnectProviderList": []})
    report = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
              "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
              "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
              "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
              "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
              "cert_2_active,cert_2_last_rotated\n"
              f"<root_account>,arn:aws:iam::{ACCOUNT}:root,{created},not_supported,N/A,not_supported,"
              "not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")
    dump(os.path.join(base, "iam", "GetCredentialReport.json"), {
        "Content": base64.b64encode(report.encode()).decode(), "ReportFormat": "text/csv",
        "GeneratedTime": iso(COLLECTED - timedelta(minutes=3))})


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, required=True, help="number of tables (all Regions together)")
    parser.add_argument("--out", required=True, help="snapshot directory to create (must not exist or be empty)")
    parser.add_argument("--regions", default="eu-west-1,us-east-1", help="comma-separated Regions")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv[1:])
    regions = [r for r in args.regions.split(",") if r]
    if args.tables < 0 or not regions:
        parser.error("--tables must be >= 0 and --regions non-empty")
    if os.path.isdir(args.out) and os.listdir(args.out):
        parser.error(f"{args.out} exists and is not empty")

    plan = Plan(args.tables, regions, args.seed)
    names_by_region = {region: [] for region in regions}
    summary = {region: {"autoscaling": [], "backup": []} for region in regions}
    for index in range(args.tables):
        spec = plan.table(index)
        names_by_region[spec["region"]].append(spec["name"])
        if spec["autoscaling"] != "none":
            summary[spec["region"]]["autoscaling"].append(
                (spec["name"], iso(spec["created"] + timedelta(minutes=7)), spec["autoscaling"]))
        if spec["backup"]:
            summary[spec["region"]]["backup"].append(spec["name"])
    for region in regions:
        for operation in ("DescribeTable", "DescribeContinuousBackups", "DescribeTimeToLive",
                          "ListTagsOfResource", "GetResourcePolicy"):
            os.makedirs(os.path.join(args.out, ACCOUNT, region, "dynamodb", operation), exist_ok=True)
        for operation in ("DescribeKey", "GetKeyRotationStatus", "GetKeyPolicy"):
            os.makedirs(os.path.join(args.out, ACCOUNT, region, "kms", operation), exist_ok=True)
        for service in ("ec2", "cloudtrail", "logs", "cloudwatch", "events", "dax", "application-autoscaling", "backup"):
            os.makedirs(os.path.join(args.out, ACCOUNT, region, service), exist_ok=True)
    os.makedirs(os.path.join(args.out, ACCOUNT, regions[0], "cloudtrail", "GetTrailStatus"), exist_ok=True)
    os.makedirs(os.path.join(args.out, ACCOUNT, regions[0], "cloudtrail", "GetEventSelectors"), exist_ok=True)
    for service in ("iam", "sts"):
        os.makedirs(os.path.join(args.out, ACCOUNT, "global", service), exist_ok=True)

    chunk = 2000
    work = [(args.tables, regions, args.seed, args.out, start, min(start + chunk, args.tables))
            for start in range(0, args.tables, chunk)]
    if args.jobs > 1 and len(work) > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            written = sum(pool.imap_unordered(worker, work))
    else:
        written = sum(worker(item) for item in work)
    write_keys(plan, args.out)
    write_region_wide(plan, args.out, names_by_region, summary)
    write_global(args.out)
    print(f"wrote {written} tables in {len(regions)} region(s) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
