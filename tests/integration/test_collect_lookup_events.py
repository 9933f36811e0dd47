"""ddbaudit collect --period: CloudTrail LookupEvents per region and event source, through the
project's endpoint (moto has no LookupEvents). Checks the evidence contract (each file is what
`aws cloudtrail lookup-events ... --output json` prints against the same endpoint, every page
merged), paging at 50, retries after ThrottlingException, the 2 requests/s pace (from the
arrival times the endpoint logs), and the 90-day clamp recorded in the manifest."""
import datetime
import json
import os
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("DDBAUDIT_SOURCE_DIR", "."), "tests", "endpoint"))
import harness as h  # noqa: E402

REGION = "eu-west-1"
SOURCES = ["dynamodb.amazonaws.com", "kms.amazonaws.com", "iam.amazonaws.com"]
DAY = 86400


def event(number, source, when):
    name = {"dynamodb.amazonaws.com": "UpdateTable", "kms.amazonaws.com": "Decrypt",
            "iam.amazonaws.com": "PutRolePolicy"}.get(source, "GetObject")
    record = {"eventVersion": "1.08", "eventTime": datetime.datetime.fromtimestamp(
                  when, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "eventSource": source, "eventName": name, "awsRegion": REGION,
              "eventID": f"ev-{number:04d}", "userIdentity": {
                  "type": "IAMUser", "arn": f"arn:aws:iam::{h.ACCOUNT}:user/ops"},
              "requestParameters": {"tableName": "orders-0", "note": "ü \"quoted\" \\ /"}}
    return {"EventId": f"ev-{number:04d}", "EventName": name, "ReadOnly": "false",
            "AccessKeyId": "AKIAEXAMPLEOPS", "EventTime": when, "EventSource": source,
            "Username": "ops", "Resources": [{"ResourceType": "AWS::DynamoDB::Table",
                                              "ResourceName": "orders-0"}],
            "CloudTrailEvent": json.dumps(record, ensure_ascii=False)}


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def lookups(url):
    with urllib.request.urlopen(url + "/__endpoint/lookups", timeout=5) as r:
        return json.loads(r.read())


def cli_lookup(url, creds, source, start, end):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=creds[0], AWS_SECRET_ACCESS_KEY=creds[1], TZ="UTC",
               AWS_PAGER="", AWS_CONFIG_FILE=h.NO_FILE, AWS_SHARED_CREDENTIALS_FILE=h.NO_FILE)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(["/usr/bin/aws", "cloudtrail", "lookup-events", "--region", REGION,
                           "--endpoint-url", url, "--lookup-attributes",
                           f"AttributeKey=EventSource,AttributeValue={source}",
                           "--start-time", start, "--end-time", end, "--output", "json"],
                          env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return done.stdout


def main():
    h.require_tools()
    failures = []
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    today = now - now % DAY
    # A period of 120 days ending 3 days ago: its first 30 days are beyond LookupEvents' reach.
    first_day, last_day = today - 123 * DAY, today - 3 * DAY
    period = (f"{datetime.date.fromtimestamp(first_day).isoformat()}.."
              f"{datetime.date.fromtimestamp(last_day).isoformat()}")
    events = []
    # 120 DynamoDB events in the reachable part (three pages), 3 KMS, 2 IAM; then some in the
    # unreachable part, after the period, and of another source.
    for i in range(120):
        events.append(event(i, SOURCES[0], last_day - i * 3600 + 0.25 * (i % 4)))
    events += [event(200 + i, SOURCES[1], last_day - i * 7200) for i in range(3)]
    events += [event(300 + i, SOURCES[2], last_day - i * 7200) for i in range(2)]
    events += [event(400, SOURCES[0], first_day + DAY),       # older than 90 days
               event(401, SOURCES[0], last_day + 2 * DAY),    # after the period
               event(402, "s3.amazonaws.com", last_day - 60)]
    with h.Servers() as s:
        creds = h.enable_auth(s.url)
        h.populate(s.url, creds, [REGION], 1, rich=False)
        url = s.start_endpoint(credentials=creds)
        s.control(events=events, reset_stats=True,
                  faults=[{"operation": "LookupEvents", "kind": "throttle", "count": 2}])
        out = os.path.join(s.tmp, "snapshot")
        started = datetime.datetime.now(datetime.timezone.utc).timestamp()
        done = h.run_collect(out, url, creds, "--regions", REGION, "--period", period)
        if done.returncode != 0:
            return f"collect exited {done.returncode}:\n{done.stdout}{done.stderr[-3000:]}"
        manifest = h.load_manifest(out)
        calls = {c["key"]: c for c in manifest["calls"] if c["operation"] == "LookupEvents"}
        if sorted(calls) != sorted(SOURCES):
            failures.append(f"LookupEvents entries: {sorted(calls)}")
        log = lookups(url)
        if s.stats()["faults_injected"] != 2:
            failures.append(f"throttling faults injected: {s.stats()['faults_injected']}")
        # dynamodb: 3 pages; kms, iam: 1 each; + 2 throttled attempts.
        if len(log) != 7:
            failures.append(f"{len(log)} LookupEvents requests, expected 5 pages + 2 retries")
        if any(r["request"].get("MaxResults") != 50 for r in log):
            failures.append("a LookupEvents request without MaxResults 50")
        arrivals = sorted(r["at"] for r in log)
        gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
        # 2 a second, burst 1: starts are 0.5 s apart. An arrival the busy server notes late
        # (the first one comes on a new connection) shortens one gap, so judge every window:
        # k requests later must be at least 0.5 k s later, less 0.15 s of such delay. A pace of
        # 2.5/s fails it over the 6 gaps.
        slack = 0.15
        if any(arrivals[j] - arrivals[i] < 0.5 * (j - i) - slack
               for i in range(len(arrivals)) for j in range(i + 1, len(arrivals))):
            failures.append(f"LookupEvents faster than 2/s: gaps {[round(g, 3) for g in gaps]}")
        oldest = started - 90 * DAY
        for r in log:
            sent = r["request"]
            if not (oldest - 5 <= sent["StartTime"] <= oldest + 120):
                failures.append(f"StartTime {sent['StartTime']} not clamped to ~{oldest:.0f}")
            if sent["EndTime"] != last_day + DAY:
                failures.append(f"EndTime {sent['EndTime']} != end of the period's last day")
            attributes = sent.get("LookupAttributes")
            if (len(attributes) != 1 or attributes[0]["AttributeKey"] != "EventSource" or
                    attributes[0]["AttributeValue"] not in SOURCES):
                failures.append(f"lookup attributes: {attributes}")

        for source, call in sorted(calls.items()):
            if call["outcome"] != "ok":
                failures.append(f"{source}: {call['outcome']} {call.get('error_code')}")
                continue
            expected_path = f"{h.ACCOUNT}/{REGION}/cloudtrail/LookupEvents/{source}.json"
            if call["path"] != expected_path:
                failures.append(f"{source}: path {call['path']}")
            p = call["parameters"]
            if (p.get("RequestedStartTime") != iso(first_day) or
                    p.get("RequestedEndTime") != iso(last_day + DAY) or
                    p.get("EndTime") != iso(last_day + DAY) or p.get("MaxResults") != 50 or
                    p.get("LookupAttributes") != [{"AttributeKey": "EventSource",
                                                   "AttributeValue": source}]):
                failures.append(f"{source}: parameters {p}")
            clamped = datetime.datetime.strptime(p.get("StartTime", ""), "%Y-%m-%dT%H:%M:%SZ")
            if abs(clamped.replace(tzinfo=datetime.timezone.utc).timestamp() - oldest) > 120:
                failures.append(f"{source}: recorded StartTime {p.get('StartTime')} is not the "
                                f"90-day clamp")
            with open(os.path.join(out, call["path"])) as f:
                ours_text = f.read()
            ours = json.loads(ours_text)
            want = sorted(e["EventId"] for e in events if e["EventSource"] == source and
                          oldest <= e["EventTime"] < last_day + DAY)
            got = sorted(e["EventId"] for e in ours.get("Events", []))
            if got != want or "NextToken" in ours:
                failures.append(f"{source}: events {len(got)} (want {len(want)}), keys "
                                f"{sorted(ours)}")
            # The evidence contract: what the CLI prints for the same request.
            try:
                theirs_text = cli_lookup(url, creds, source, p["StartTime"], p["EndTime"])
            except RuntimeError as e:
                failures.append(f"{source}: the CLI failed: {e}")
                continue
            theirs = json.loads(theirs_text)
            if ours != theirs:
                failures.append(f"{source}: differs from the CLI:\n    " +
                                "\n    ".join(h.differences(ours, theirs)[:10]))
            elif ours_text != theirs_text:
                failures.append(f"{source}: same values as the CLI, different bytes")

        # The same files gathered by hand and sealed: the manifest says what was asked and,
        # lacking the CLI's --start-time, claims no coverage (no StartTime).
        hand = os.path.join(s.tmp, "hand")
        os.makedirs(os.path.join(hand, h.ACCOUNT, REGION, "cloudtrail", "LookupEvents"))
        for source, call in calls.items():
            with open(os.path.join(out, call["path"]), "rb") as f, \
                    open(os.path.join(hand, call["path"]), "wb") as g:
                g.write(f.read())
        sealed = subprocess.run([os.environ["DDBAUDIT_BIN"], "evidence", "seal", hand,
                                 "--account", h.ACCOUNT, "--regions", REGION, "--period",
                                 period, "--collected-at", "2026-11-01T00:00:00Z"],
                                capture_output=True, text=True, timeout=60)
        if sealed.returncode != 0:
            failures.append(f"seal of hand-made LookupEvents files: {sealed.stderr[-800:]}")
        else:
            for call in h.load_manifest(hand)["calls"]:
                p = call["parameters"]
                if (p.get("LookupAttributes") != [{"AttributeKey": "EventSource",
                                                   "AttributeValue": call["key"]}] or
                        p.get("RequestedStartTime") != iso(first_day) or
                        p.get("RequestedEndTime") != iso(last_day + DAY) or "StartTime" in p):
                    failures.append(f"sealed {call['key']}: parameters {p}")

        # A period wholly older than 90 days: recorded as not collectable, nothing asked.
        s.control(reset_stats=True, faults=[])
        old = os.path.join(s.tmp, "old")
        old_period = (f"{datetime.date.fromtimestamp(today - 200 * DAY).isoformat()}.."
                      f"{datetime.date.fromtimestamp(today - 100 * DAY).isoformat()}")
        done = h.run_collect(old, url, creds, "--regions", REGION, "--period", old_period)
        if done.returncode != 0:
            failures.append(f"collect of an old period exited {done.returncode}: "
                            f"{done.stderr[-1000:]}")
        else:
            entries = [c for c in h.load_manifest(old)["calls"]
                       if c["operation"] == "LookupEvents"]
            if len(entries) != 3 or any(c["outcome"] != "error" or
                                        c.get("error_code") != "OutsideLookupWindow" or
                                        "path" in c for c in entries):
                failures.append(f"old period: {entries}")
            if lookups(url):
                failures.append("old period: LookupEvents was called anyway")

        # Without a period there is no event history to ask for.
        s.control(reset_stats=True)
        plain = os.path.join(s.tmp, "plain")
        done = h.run_collect(plain, url, creds, "--regions", REGION)
        if done.returncode != 0 or any(c["operation"] == "LookupEvents"
                                       for c in h.load_manifest(plain)["calls"]):
            failures.append("collect without --period called LookupEvents")
    if failures:
        return "\n".join(failures)
    print(f"ok: 3 sources, 125 events in 5 pages + 2 throttled retries, min gap "
          f"{min(gaps):.3f} s, equal to the CLI's output, 90-day clamp recorded")
    return None


if __name__ == "__main__":
    problem = main()
    if problem:
        print("FAIL:\n" + problem)
        sys.exit(1)
