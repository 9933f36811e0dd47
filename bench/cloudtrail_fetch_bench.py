#!/usr/bin/env python3
"""Times `ddbaudit cloudtrail fetch` of a synthetic trail archive served by moto_server on
127.0.0.1 (path style, no network): DAYS day prefixes of PER_DAY log files, a cold fetch and a
re-run that finds everything copied. Prints wall time, exit status, the fetch's summary line
and peak RSS (moto has no ListPublicKeys: its gap, and exit 4, are expected).

    bench/cloudtrail_fetch_bench.py BIN [DAYS [PER_DAY]]"""
import gzip
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "endpoint"))
import harness as h  # noqa: E402

BIN = sys.argv[1]
DAYS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
PER_DAY = int(sys.argv[3]) if len(sys.argv) > 3 else 100
ACCOUNT, REGION, BUCKET = h.ACCOUNT, "us-east-1", "bench-trail"

with h.Servers() as s:
    s3 = h.client("s3", s.url, REGION, h.BOOT_KEY)
    s3.create_bucket(Bucket=BUCKET)
    record = {"eventVersion": "1.09", "eventSource": "dynamodb.amazonaws.com",
              "eventName": "GetItem", "eventTime": "2026-07-01T00:00:00Z",
              "userIdentity": {"arn": "arn:aws:iam::1:user/u"},
              "requestParameters": {"tableName": "t", "key": {"id": "x" * 100}}}
    body = gzip.compress(json.dumps({"Records": [dict(record, eventID=str(i))
                                                 for i in range(300)]}).encode(), mtime=0)
    for day in range(1, DAYS + 1):
        for n in range(PER_DAY):
            key = (f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/07/{day:02d}/{ACCOUNT}_CloudTrail_"
                   f"{REGION}_202607{day:02d}T{n % 24:02d}{n % 60:02d}Z_{n}.json.gz")
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    env = h.collect_env(s.url, h.BOOT_KEY)
    env.pop("AWS_ENDPOINT_URL", None)
    for run in ("cold", "re-run"):
        started = time.monotonic()
        done = subprocess.run(["/usr/bin/time", "-f", "peak RSS %M KB", BIN, "cloudtrail", "fetch",
                               "--bucket", BUCKET, "--account", ACCOUNT, "--regions", REGION,
                               "--period", f"2026-07-01..2026-07-{DAYS:02d}", "--out",
                               os.path.join(s.tmp, "copy"), "--endpoint-url", s.url,
                               "--bucket-region", REGION], env=env, capture_output=True,
                              text=True)
        print(f"{run}: {time.monotonic() - started:.2f} s, exit {done.returncode}, "
              f"{done.stdout.strip()}; {done.stderr.strip().splitlines()[-1]}")
    print(f"{DAYS * PER_DAY} objects of {len(body)} bytes")
