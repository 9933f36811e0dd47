#!/usr/bin/env python3
"""Generates an evidence snapshot for the policy-engine benchmark: an account with many roles,
managed policies and tables, shaped like AWS CLI v2 output (GetAccountAuthorizationDetails,
ListTables, GetResourcePolicy with PolicyNotFoundException for tables without a policy).

The mix is meant to look like a large real account, not a best case: most grants name one to
four tables (and their indexes), some use prefix wildcards ("table/app-012-*"), a few use "*",
a tenth are conditional (dynamodb:LeadingKeys), some deny plain HTTP, every managed policy has
two versions of which one is the default, users inherit through groups, and a share of tables
carry resource policies (public, cross-account, TLS deny).

usage: gen_iam.py DIR [--roles 5000] [--policies 20000] [--tables 10000] [--seed 7]
Then seal it: ddbaudit evidence seal DIR --account 111122223333
"""
import argparse
import json
import os
import random

ACCOUNT = "111122223333"
REGIONS = ["eu-west-1", "us-east-1"]
READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
        "dynamodb:ConditionCheckItem", "dynamodb:PartiQLSelect"]
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
         "dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate"]
ADMIN = ["dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:CreateBackup",
         "dynamodb:DeleteBackup", "dynamodb:RestoreTableToPointInTime",
         "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource"]
WILD = ["dynamodb:Get*", "dynamodb:Describe*", "dynamodb:*Item", "dynamodb:Batch*"]


def table_arn(region, name):
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"


def write(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, separators=(",", ":"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--roles", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=20000)
    parser.add_argument("--tables", type=int, default=10000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    root = os.path.join(args.dir, ACCOUNT)

    tables = []  # (region, name)
    for i in range(args.tables):
        region = REGIONS[i % len(REGIONS)]
        tables.append((region, f"app-{i // 50:03d}-t{i:05d}"))
    apps = (args.tables + 49) // 50

    def resources():
        roll = rnd.random()
        if roll < 0.01:
            return "*"
        if roll < 0.06:
            region = rnd.choice(REGIONS)
            return [f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/app-{rnd.randrange(apps):03d}-*"]
        out = []
        for _ in range(rnd.randint(1, 4)):
            region, name = rnd.choice(tables)
            out.append(table_arn(region, name))
            if rnd.random() < 0.5:
                out.append(table_arn(region, name) + "/index/*")
        return out

    def actions():
        roll = rnd.random()
        if roll < 0.02:
            return "dynamodb:*"
        pool = READ + WRITE * (roll < 0.6) + ADMIN * (roll < 0.1)
        picked = rnd.sample(pool, min(len(pool), rnd.randint(1, 5)))
        if rnd.random() < 0.1:
            picked.append(rnd.choice(WILD))
        return picked

    def statement(sid):
        st = {"Sid": sid, "Effect": "Allow", "Action": actions(), "Resource": resources()}
        roll = rnd.random()
        if roll < 0.1:
            st["Condition"] = {"ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant}"]}}
        elif roll < 0.15:
            st = {"Sid": sid, "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
                  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        elif roll < 0.18:
            st = {"Sid": sid, "Effect": "Deny", "Action": ["dynamodb:DeleteTable"],
                  "Resource": resources()}
        return st

    def document():
        return {"Version": "2012-10-17",
                "Statement": [statement(f"S{k}") for k in range(rnd.randint(1, 3))]}

    policies = []
    for p in range(args.policies):
        arn = f"arn:aws:iam::{ACCOUNT}:policy/app/policy-{p:05d}"
        default = rnd.choice(["v1", "v2"])
        policies.append({
            "PolicyName": f"policy-{p:05d}", "PolicyId": f"ANPA{p:016d}", "Arn": arn,
            "Path": "/app/", "DefaultVersionId": default, "AttachmentCount": 0,
            "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "CreateDate": "2024-01-01T00:00:00+00:00", "UpdateDate": "2024-06-01T00:00:00+00:00",
            "PolicyVersionList": [
                {"Document": document(), "VersionId": v, "IsDefaultVersion": v == default,
                 "CreateDate": "2024-01-01T00:00:00+00:00"} for v in ("v1", "v2")]})

    def attach(count):
        chosen = rnd.sample(range(len(policies)), count)
        for c in chosen:
            policies[c]["AttachmentCount"] += 1
        return [{"PolicyName": policies[c]["PolicyName"], "PolicyArn": policies[c]["Arn"]}
                for c in chosen]

    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    roles = []
    for r in range(args.roles):
        name = f"role-{r:05d}"
        roles.append({
            "Path": "/app/", "RoleName": name, "RoleId": f"AROA{r:016d}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/app/{name}",
            "CreateDate": "2024-01-01T00:00:00+00:00", "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": document()}],
            "AttachedManagedPolicies": attach(4), "Tags": [],
            "RoleLastUsed": {}})
    groups = []
    for g in range(20):
        groups.append({
            "Path": "/", "GroupName": f"group-{g:02d}", "GroupId": f"AGPA{g:016d}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:group/group-{g:02d}",
            "CreateDate": "2024-01-01T00:00:00+00:00",
            "GroupPolicyList": [{"PolicyName": "inline", "PolicyDocument": document()}],
            "AttachedManagedPolicies": attach(2)})
    users = []
    for u in range(args.users):
        name = f"user-{u:04d}"
        users.append({
            "Path": "/", "UserName": name, "UserId": f"AIDA{u:016d}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "CreateDate": "2024-01-01T00:00:00+00:00",
            "UserPolicyList": [], "GroupList": [f"group-{rnd.randrange(20):02d}"],
            "AttachedManagedPolicies": attach(1), "Tags": []})
    write(os.path.join(root, "global/iam/GetAccountAuthorizationDetails.json"),
          {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles,
           "Policies": policies, "IsTruncated": False})

    for region in REGIONS:
        names = [n for (r, n) in tables if r == region]
        write(os.path.join(root, region, "dynamodb/ListTables.json"), {"TableNames": names})
    for i, (region, name) in enumerate(tables):
        base = os.path.join(root, region, "dynamodb/GetResourcePolicy", name)
        if i % 20 == 0:  # 5% of tables have a resource policy
            arn = table_arn(region, name)
            statements = [{"Sid": "TLS", "Effect": "Deny", "Principal": "*",
                           "Action": "dynamodb:*", "Resource": [arn, arn + "/index/*"],
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
            if i % 100 == 0:
                statements.append({"Sid": "Partner", "Effect": "Allow",
                                   "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                                   "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                                   "Resource": arn})
            write(base + ".json", {"Policy": json.dumps({"Version": "2012-10-17",
                                                         "Statement": statements}),
                                   "RevisionId": str(1700000000000 + i)})
        else:
            os.makedirs(os.path.dirname(base), exist_ok=True)
            open(base + ".json", "w").close()
            with open(base + ".err", "w") as f:
                f.write("\nAn error occurred (PolicyNotFoundException) when calling the "
                        f"GetResourcePolicy operation: Resource-based policy not found for the "
                        f"provided ResourceArn: {table_arn(region, name)}\n")


if __name__ == "__main__":
    main()
