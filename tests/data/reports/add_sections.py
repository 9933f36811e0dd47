#!/usr/bin/env python3
"""Refreshes the "access" and "activity" sections of tests/data/reports/sample.json from the real
code, so the renderer's fixtures follow the shapes policy.c and activity.c write:

  access   -- `ddbaudit report --evidence evidence/sample --format json`, its "access" member
  activity -- `ddbaudit cloudtrail scan cloudtrail/records cloudtrail/lookup --period
              2026-07-01..2026-09-30` run in tests/data (relative paths, so the fixture does not
              name this machine), plus an "integrity" member written here by hand in the shape
              of cloudtrail_digest.c (a valid chain, one invalid signature, a missing, a changed
              and an uncovered log file), since the digest test builds its keys at run time.

usage: tests/data/reports/add_sections.py BUILD_DIR/ddbaudit
Everything else in sample.json is left as it is."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, "tests", "data", "reports", "sample.json")
LOGS = "cloudtrail/records/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/07/01/"
DIGESTS = "cloudtrail/records/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/07/01/"

INTEGRITY = {
    "digests": [
        {"file": DIGESTS + "111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260701T0900Z.json.gz",
         "s3_object": "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/07/01/111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260701T0900Z.json.gz",
         "start_time": "2026-07-01T08:00:00Z", "end_time": "2026-07-01T09:00:00Z",
         "signature": "valid", "chain": "start", "signature_from_sidecar": True, "problems": []},
        {"file": DIGESTS + "111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260701T1000Z.json.gz",
         "s3_object": "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/07/01/111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260701T1000Z.json.gz",
         "start_time": "2026-07-01T09:00:00Z", "end_time": "2026-07-01T10:00:00Z",
         "signature": "invalid", "chain": "broken", "signature_from_sidecar": False,
         "problems": ["signature does not verify with key 6c2f5e7bd21a0c1e0c9f44e3b8a27d11",
                      "previousDigestHashValue is not the SHA-256 of the previous digest"]},
    ],
    "log_files": [
        {"s3_object": "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/07/01/111122223333_CloudTrail_eu-west-1_20260701T0800Z_dynamodb01.json.gz",
         "file": LOGS + "111122223333_CloudTrail_eu-west-1_20260701T0800Z_dynamodb01.json",
         "status": "changed", "digest": "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/07/01/111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260701T0900Z.json.gz",
         "digest_trusted": True},
        {"s3_object": "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/07/01/111122223333_CloudTrail_eu-west-1_20260701T0800Z_dynamodb02.json.gz",
         "file": LOGS + "111122223333_CloudTrail_eu-west-1_20260701T0800Z_dynamodb02.json.gz",
         "status": "valid", "digest": "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/07/01/111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260701T0900Z.json.gz",
         "digest_trusted": True},
        {"s3_object": "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/07/01/111122223333_CloudTrail_eu-west-1_20260701T0905Z_deleted1.json.gz",
         "file": None, "status": "missing",
         "digest": "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/07/01/111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260701T1000Z.json.gz",
         "digest_trusted": False},
        {"s3_object": None, "file": LOGS + "111122223333_CloudTrail_eu-west-1_20260701T0800Z_kms00001.json",
         "status": "not_covered", "digest": None, "digest_trusted": False},
    ],
    "summary": {"digests": 2, "digests_valid": 1, "log_files_valid": 1, "missing": 1, "changed": 1,
                "not_covered": 1, "in_untrusted_digests": 1},
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    env = dict(os.environ, DDBAUDIT_DATA_DIR=ROOT)
    work = tempfile.mkdtemp(prefix="ddbaudit-sections-")
    try:
        subprocess.run([binary, "report", "--evidence", os.path.join(ROOT, "evidence", "sample"),
                        "--format", "json", "--out", os.path.join(work, "out")], env=env,
                       check=False, capture_output=True)
        with open(os.path.join(work, "out", "report.json")) as f:
            access = json.load(f)["access"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scan = subprocess.run([binary, "cloudtrail", "scan", "cloudtrail/records", "cloudtrail/lookup",
                           "--period", "2026-07-01..2026-09-30", "--format", "json"],
                          cwd=os.path.join(ROOT, "tests", "data"), env=env, check=True,
                          capture_output=True, text=True)
    activity = json.loads(scan.stdout)
    activity["integrity"] = INTEGRITY
    with open(SAMPLE) as f:
        report = json.load(f)
    report["access"] = access
    report["activity"] = activity
    with open(SAMPLE, "w") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
