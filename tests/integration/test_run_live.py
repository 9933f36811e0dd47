"""`ddbaudit run` without --evidence: collects from the AWS-compatible test endpoint (moto behind
the project's signature-checking proxy), evaluates and writes the packet. With calls that fail
permanently (denied, or a persistent 500), the report never says Pass on the evidence that is
missing: every finding that needed it is Review and names the call."""
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("DDBAUDIT_SOURCE_DIR", "."), "tests", "endpoint"))
import harness as h  # noqa: E402

REGION = "eu-west-1"
PERMANENT = [
    {"operation": "DescribeContinuousBackups", "kind": "denied", "count": -1},
    {"operation": "ListTagsOfResource", "kind": "http500", "count": -1},
]


# The last 30 days: LookupEvents reaches 90 days back from the collection, which is now.
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
PERIOD = f"{TODAY - datetime.timedelta(days=30)}..{TODAY}"
SOURCES = ("dynamodb.amazonaws.com", "kms.amazonaws.com", "iam.amazonaws.com")


def run(out, snapshot, url, creds):
    return subprocess.run([os.environ["DDBAUDIT_BIN"], "run", "--regions", REGION, "--snapshot",
                           snapshot, "--out", out, "--format", "json", "--period", PERIOD],
                          env=h.collect_env(url, creds), capture_output=True, text=True,
                          timeout=600)


def main():
    h.require_tools(need_cli=False)
    failures = []
    checks = 0
    with h.Servers() as s:
        creds = h.enable_auth(s.url)
        h.populate(s.url, creds, [REGION], 2)
        url = s.start_endpoint(credentials=creds)
        s.control(faults=PERMANENT, reset_stats=True)
        snapshot, out = os.path.join(s.tmp, "snap"), os.path.join(s.tmp, "packet")
        done = run(out, snapshot, url, creds)
        checks += 1
        if done.returncode not in (0, 1):
            return [f"run exited {done.returncode}:\n{done.stdout}{done.stderr}"], checks
        if not os.path.exists(os.path.join(out, "report.json")):
            return [f"run exited {done.returncode} without a report:\n{done.stderr}"], checks
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        manifest = h.load_manifest(snapshot)
        checks += 1
        if report["inputs"]["evidence_manifest_sha256"] is None or not manifest["calls"]:
            failures.append("the packet does not come from the collected snapshot")
        controls = {c["id"]: c for c in report["controls"]}
        # DDB-19 reads DescribeContinuousBackups (denied); DDB-21 reads ListTagsOfResource (500).
        for control, operation in (("DDB-19", "DescribeContinuousBackups"),
                                   ("DDB-21", "ListTagsOfResource")):
            tables = [f for f in controls[control]["findings"] if ":table/" in f["resource"]]
            checks += 1
            if not tables:
                failures.append(f"{control}: no table findings")
            for f in tables:
                checks += 1
                if f["status"] != "review" or operation not in f["reason"]:
                    failures.append(f"{control} {f['resource']}: {f['status']} '{f['reason']}' "
                                    f"(want review naming {operation})")
        checks += 1
        if any(f["status"] == "pass" and not (f["evidence"] or f.get("attestation"))
               for c in report["controls"] for f in c["findings"]):
            failures.append("a Pass without evidence")
        # --period makes run collect the period's event history and judge it.
        history = {c.get("key") for c in manifest["calls"]
                   if c["operation"] == "LookupEvents" and c["region"] == REGION
                   and c["outcome"] == "ok"}
        checks += 1
        if history != set(SOURCES):
            failures.append(f"LookupEvents collected for {sorted(filter(None, history))}, "
                            f"want {sorted(SOURCES)}")
        checks += 1
        if not isinstance(report.get("activity"), dict):
            failures.append(f"report.json has no activity section: {report.get('activity')!r}")
        denied = [c for c in manifest["calls"] if c["outcome"] == "denied"]
        checks += 1
        if not any(c["operation"] == "DescribeContinuousBackups" for c in denied):
            failures.append("the denied calls are not in the manifest")
        verify = subprocess.run([os.environ["DDBAUDIT_BIN"], "verify", out, "--evidence",
                                 snapshot], capture_output=True, text=True, timeout=300)
        checks += 1
        if verify.returncode != 0:
            failures.append(f"verify failed on the live packet:\n{verify.stderr}")
    return failures, checks


if __name__ == "__main__":
    failures, checks = main()
    for f in failures:
        print("FAIL -", f)
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)
