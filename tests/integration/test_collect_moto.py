"""ddbaudit collect against moto (request authentication on): every file of the snapshot is
what the AWS CLI prints for the same call against the same endpoint, the manifest accounts for
every call, raw answers are kept with their hashes, and the secret appears nowhere."""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("DDBAUDIT_SOURCE_DIR", "."), "tests", "endpoint"))
import harness as h  # noqa: E402

REGIONS = ["eu-west-1", "us-east-1"]
TABLES = 3


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    h.require_tools()
    failures = []
    with h.Servers() as s:
        creds = h.enable_auth(s.url)
        h.populate(s.url, creds, REGIONS, TABLES)
        out = os.path.join(s.tmp, "snapshot")
        done = h.run_collect(out, s.url, creds, "--regions", ",".join(REGIONS), "--verbose")
        log = done.stdout + done.stderr
        if done.returncode != 0:
            print(log)
            return f"collect exited {done.returncode}"
        manifest = h.load_manifest(out)
        if manifest["format"] != "ddbaudit-evidence" or manifest["complete"] is not True:
            failures.append(f"manifest header: {manifest['format']} complete={manifest['complete']}")
        if manifest["account"] != h.ACCOUNT or manifest["regions"] != REGIONS:
            failures.append(f"manifest account/regions: {manifest['account']} {manifest['regions']}")
        calls = {(c["service"], c["operation"], c["region"], c.get("key")): c
                 for c in manifest["calls"]}

        # Every call the dependency order implies is present.
        expected = [("sts", "GetCallerIdentity", "global", None),
                    ("iam", "GetAccountAuthorizationDetails", "global", None),
                    ("iam", "GetCredentialReport", "global", None)]
        for region in REGIONS:
            expected += [("dynamodb", "ListTables", region, None),
                         ("ec2", "DescribeVpcEndpoints", region, None),
                         ("cloudtrail", "GetTrailStatus", region, f"audit-{region}"),
                         ("cloudtrail", "GetEventSelectors", region, f"audit-{region}"),
                         ("events", "ListTargetsByRule", region, "ddb-api"),
                         ("dax", "DescribeClusters", region, None),
                         ("application-autoscaling", "DescribeScalableTargets", region, None),
                         ("cloudwatch", "DescribeAlarms", region, None),
                         ("logs", "DescribeMetricFilters", region, None)]
            for i in range(TABLES):
                for op in ("DescribeTable", "DescribeContinuousBackups", "DescribeTimeToLive",
                           "ListTagsOfResource", "GetResourcePolicy"):
                    expected.append(("dynamodb", op, region, f"orders-{i}"))
            keys = [c for c in calls if c[0] == "kms" and c[2] == region]
            if len(keys) != 3:
                failures.append(f"{region}: expected DescribeKey, GetKeyRotationStatus and "
                                f"GetKeyPolicy for the tables' key, got {keys}")
        for key in expected:
            if key not in calls:
                failures.append(f"missing manifest entry {key}")
            elif calls[key]["outcome"] not in ("ok", "not_found"):
                failures.append(f"{key}: {calls[key]['outcome']} {calls[key].get('error_code')}")
        # "No policy" is an answer.
        for region in REGIONS:
            c = calls.get(("dynamodb", "GetResourcePolicy", region, "orders-1"))
            if not c or c["outcome"] != "not_found" or "path" in c:
                failures.append(f"{region} orders-1 GetResourcePolicy should be not_found: {c}")

        # Integrity: hashes and sizes of written and raw files; request ids and timings.
        for c in manifest["calls"]:
            if "path" in c:
                p = os.path.join(out, c["path"])
                if sha256(p) != c["sha256"] or os.path.getsize(p) != c["size"]:
                    failures.append(f"{c['path']}: sha256/size do not match the manifest")
            if c["outcome"] == "ok":
                for field in ("request_id", "started_at", "ended_at", "http_status", "raw_path",
                              "raw_sha256"):
                    if field not in c:
                        failures.append(f"{c.get('path')}: no {field}")
                if "raw_path" in c and sha256(os.path.join(out, c["raw_path"])) != c["raw_sha256"]:
                    failures.append(f"{c['raw_path']}: raw_sha256 does not match")
                if not c["raw_path"].startswith("raw/"):
                    failures.append(f"{c['raw_path']}: not under raw/")

        # Secrets never leave memory.
        for root, _, files in os.walk(out):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    if creds[1].encode() in f.read():
                        failures.append(f"{name}: contains the secret key")
        if creds[1] in log or "Signature=" in log or "AWS4-HMAC-SHA256" in log:
            failures.append("the verbose log contains a secret or a signature")

        # File by file against the AWS CLI.
        failures += h.compare_with_cli(out, s.url, creds)
    if failures:
        return "\n".join(failures)
    print(f"ok: {len(manifest['calls'])} calls, every file matches the AWS CLI")
    return None


if __name__ == "__main__":
    problem = main()
    if problem:
        print("FAIL:\n" + problem)
        sys.exit(1)
