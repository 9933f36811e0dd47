"""ddbaudit collect through the project's test endpoint (in front of moto) with faults:
transient faults (throttling, 500/503, resets, truncated and invalid bodies, expired tokens,
slow answers, a server clock 20 minutes ahead) are retried and lose nothing; permanent faults
(AccessDenied, a persistent 500) are manifest entries; a wrong secret is refused."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("DDBAUDIT_SOURCE_DIR", "."), "tests", "endpoint"))
import harness as h  # noqa: E402

REGION = "eu-west-1"
PROTECTED = [{"ResourceArn": f"arn:aws:dynamodb:{REGION}:{h.ACCOUNT}:table/orders-{i}",
              "ResourceType": "DynamoDB", "LastBackupTime": 1700000000.5 + i,
              "ResourceName": f"orders-{i}"} for i in range(3)]

TRANSIENT = [
    {"operation": "DescribeTable", "kind": "throttle", "count": 2},
    {"operation": "ListTables", "kind": "http500", "count": 1},
    {"operation": "DescribeVpcs", "kind": "http503", "count": 1},
    {"operation": "GetAccountSummary", "kind": "throttle", "count": 1},
    {"operation": "DescribeKey", "kind": "reset", "count": 1},
    {"operation": "DescribeTimeToLive", "kind": "truncated", "count": 1},
    {"operation": "ListTagsOfResource", "kind": "invalid", "count": 1},
    {"operation": "GetAccountAuthorizationDetails", "kind": "invalid", "count": 1},
    {"operation": "DescribeTrails", "kind": "expired", "count": 1},
    {"operation": "ListProtectedResources", "kind": "throttle", "count": 1},
    {"operation": "DescribeAlarms", "kind": "slow", "count": 1, "slow_ms": 300},
]
PERMANENT = [
    {"operation": "GetKeyPolicy", "kind": "denied", "count": -1},
    {"operation": "DescribeContinuousBackups", "kind": "http500", "count": -1},
]


def main():
    h.require_tools(need_cli=False)
    failures = []
    with h.Servers() as s:
        creds = h.enable_auth(s.url)
        h.populate(s.url, creds, [REGION], 2)
        url = s.start_endpoint(credentials=creds)
        s.control(protected_resources=PROTECTED)

        baseline = os.path.join(s.tmp, "baseline")
        done = h.run_collect(baseline, url, creds, "--regions", REGION)
        if done.returncode != 0:
            return f"baseline collect failed:\n{done.stdout}{done.stderr}"
        # Answered by our endpoint in backup's rest-json protocol, two per page.
        with open(os.path.join(baseline, h.ACCOUNT, REGION, "backup",
                               "ListProtectedResources.json")) as f:
            import json
            protected = json.load(f)
        if [r["ResourceName"] for r in protected["Results"]] != ["orders-0", "orders-1",
                                                                  "orders-2"]:
            failures.append(f"ListProtectedResources pages not merged: {protected}")
        if protected["Results"][0]["LastBackupTime"] != "2023-11-14T22:13:20.500000+00:00":
            failures.append(f"rest-json timestamp: {protected['Results'][0]['LastBackupTime']}")

        # CloudTrail LookupEvents, which moto lacks, in its json-1.1 protocol with paging.
        events = [{"EventId": f"e{i}", "EventName": "DeleteTable", "EventTime": 1700000000 + i,
                   "EventSource": "dynamodb.amazonaws.com"} for i in range(120)]
        s.control(events=events)
        trail = h.client("cloudtrail", url, REGION, creds)
        got = [e["EventId"] for page in trail.get_paginator("lookup_events").paginate()
               for e in page["Events"]]
        if got != [e["EventId"] for e in events]:
            failures.append(f"LookupEvents through the endpoint: {len(got)} events")

        # Transient faults: retried, nothing lost.
        s.control(faults=TRANSIENT, reset_stats=True)
        retried = os.path.join(s.tmp, "retried")
        done = h.run_collect(retried, url, creds, "--regions", REGION)
        stats = s.stats()
        if done.returncode != 0:
            failures.append(f"collect with transient faults exited {done.returncode}: "
                            f"{done.stderr[-2000:]}")
        else:
            failures += [f"transient: {p}" for p in h.compare_snapshots(baseline, retried)]
            expected = sum(f["count"] for f in TRANSIENT if f["kind"] != "slow")
            if stats["faults_injected"] < expected + 1:
                failures.append(f"only {stats['faults_injected']} faults were injected")
            # libcurl itself re-sends a request once when a reused connection turns out dead
            # before any answer (the reset fault can hit that case), so allow one fewer.
            if h.retries_of(done.stdout) < expected - 1:
                failures.append(f"expected >= {expected} retries: {done.stdout}")
            if not h.load_manifest(retried)["complete"]:
                failures.append("transient: manifest not complete")

        # Permanent faults: manifest entries, the run still completes.
        s.control(faults=PERMANENT, reset_stats=True)
        permanent = os.path.join(s.tmp, "permanent")
        done = h.run_collect(permanent, url, creds, "--regions", REGION)
        if done.returncode != 0:
            failures.append(f"collect with permanent faults exited {done.returncode}")
        else:
            calls = h.load_manifest(permanent)["calls"]
            key_policy = [c for c in calls if c["operation"] == "GetKeyPolicy"]
            backups = [c for c in calls if c["operation"] == "DescribeContinuousBackups"]
            if not key_policy or any(c["outcome"] != "denied" or
                                     c.get("error_code") != "AccessDeniedException" or
                                     "path" in c for c in key_policy):
                failures.append(f"GetKeyPolicy should be denied: {key_policy}")
            if len(backups) != 2 or any(c["outcome"] != "error" or
                                        c.get("error_code") != "InternalFailure"
                                        for c in backups):
                failures.append(f"DescribeContinuousBackups should be errors: {backups}")
            others = [c for c in calls if c["operation"] not in ("GetKeyPolicy",
                                                                 "DescribeContinuousBackups")]
            if any(c["outcome"] in ("denied", "error") and
                   c["operation"] != "GetResourcePolicy" for c in others):
                failures.append("unrelated calls failed: " + str(
                    [(c["operation"], c.get("error_code")) for c in others
                     if c["outcome"] in ("denied", "error")]))
        s.control(faults=[], reset_stats=True)

        # A server clock 20 minutes ahead: corrected from the Date header, re-signed.
        skewed_url = s.start_endpoint("--clock-offset", "1200", credentials=creds)
        skewed = os.path.join(s.tmp, "skewed")
        done = h.run_collect(skewed, skewed_url, creds, "--regions", REGION)
        if done.returncode != 0:
            failures.append(f"collect against a skewed clock exited {done.returncode}: "
                            f"{done.stderr[-1500:]}")
        else:
            failures += [f"skewed: {p}" for p in h.compare_snapshots(baseline, skewed)
                         if "ListProtectedResources" not in p]

        # A wrong secret is refused, and nothing pretends to be a snapshot.
        for target in (s.url, url):
            wrong = os.path.join(s.tmp, "wrong-" + target.rsplit(":", 1)[1])
            done = h.run_collect(wrong, target, (creds[0], "not-the-secret"), "--regions", REGION)
            if done.returncode == 0 or os.path.exists(os.path.join(wrong, "manifest.json")):
                failures.append(f"wrong secret accepted by {target}: {done.stdout}")
            if "SignatureDoesNotMatch" not in done.stderr:
                failures.append(f"wrong secret: no SignatureDoesNotMatch in: {done.stderr}")
            if "not-the-secret" in done.stdout + done.stderr:
                failures.append("the secret was printed")
    if failures:
        return "\n".join(failures)
    print("ok: transient faults retried without loss, permanent faults recorded, skew "
          "corrected, wrong secret refused")
    return None


if __name__ == "__main__":
    problem = main()
    if problem:
        print("FAIL:\n" + problem)
        sys.exit(1)
