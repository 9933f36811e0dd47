#!/usr/bin/env python3
"""CloudTrail activity reaches `ddbaudit report` and the controls, end to end with the real binary.

A copy of the bundled sample snapshot (which holds LookupEvents evidence) plus hand-made delivered
log files (gzip, plain, and one gzip cut short) given with --cloudtrail-dir:
- report.json's "activity" lists every input with its path (relative to the directory given),
  SHA-256 of the bytes on disk and status; the cut file is "truncated";
- findings of DDB-05, DDB-17 and DDB-22 cite the record: file, SHA-256, JSON pointer and byte
  offset, and the offset really is where that record starts in the decompressed file;
- the damaged file makes DDB-16 Review, naming it;
- a second run gives byte-identical report.json;
- without any CloudTrail input, the six activity controls say so (Review), and none passes on it;
- a --cloudtrail-dir that does not exist or holds no log file is bad input: exit 3, no packet.

Exit 0 on success, 1 on any failure, 77 when the binary is not built."""
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("DDBAUDIT_BIN", "")
SRC = os.environ.get("DDBAUDIT_SOURCE_DIR", os.getcwd())
SHARED = os.environ.get("DDBAUDIT_SHARED_DIR", os.path.join(SRC, "..", "shared"))
ACCOUNT = "111122223333"
PAYMENTS_KEY = "arn:aws:kms:eu-west-1:111122223333:key/6e1d0c3b-2a94-4b57-8f6e-c1a7d2b90f35"
ACTIVITY_CONTROLS = ["DDB-05", "DDB-08", "DDB-11", "DDB-16", "DDB-17", "DDB-22"]

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def run(*args):
    env = dict(os.environ, DDBAUDIT_DATA_DIR=SRC)
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env)


def record(time, source, name, principal, tls, params=None, vpce=None, error=None, extra=None):
    rec = {"eventVersion": "1.09",
           "userIdentity": {"type": "AssumedRole", "arn": principal, "accountId": ACCOUNT},
           "eventTime": time, "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
           "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.17.20",
           "requestParameters": params or {}, "responseElements": None,
           "eventID": hashlib.sha256((time + name).encode()).hexdigest()[:32],
           "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT,
           "tlsDetails": {"tlsVersion": tls, "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256"}}
    if vpce:
        rec["vpcEndpointId"] = vpce
    if error:
        rec["errorCode"] = error
    rec.update(extra or {})
    return rec


def log_file(records):
    return json.dumps({"Records": records}, indent=1).encode()


def citation_to(findings, file_suffix):
    for finding in findings:
        for cite in finding["evidence"]:
            if cite.get("file", "").endswith(file_suffix) and "offset" in cite:
                return finding, cite
    return None, None


def record_at(path, offset):
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode()
    return json.JSONDecoder().raw_decode(text, offset)[0]


def controls_of(report):
    return {c["id"]: c for c in report["controls"]}


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print("skipped: DDBAUDIT_BIN is not built")
        return 77
    work = tempfile.mkdtemp(prefix="ddbaudit-activity-")
    try:
        return scenario(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def scenario(work):
    snap = os.path.join(work, "snap")
    shutil.copytree(os.path.join(SRC, "evidence", "sample"), snap)
    day = os.path.join(work, "trail", "AWSLogs", ACCOUNT, "CloudTrail", "eu-west-1", "2026", "08", "14")
    os.makedirs(day)
    hostile = 'arn:aws:sts::111122223333:assumed-role/x/"<script>alert(1)</script>{{x}}'
    gz_records = [
        record("2026-08-14T10:00:00Z", "dynamodb.amazonaws.com", "DeleteTable",
               "arn:aws:sts::111122223333:assumed-role/DynamoDBAdmin/bob", "TLSv1.3",
               {"tableName": "orders"}, vpce="vpce-0f1e2d3c4b5a69788"),
        record("2026-08-14T10:05:00Z", "dynamodb.amazonaws.com", "UpdateTable", hostile, "TLSv1",
               {"tableName": "catalog"}),
        record("2026-08-14T10:06:00Z", "s3.amazonaws.com", "GetObject", hostile, "TLSv1.2"),
    ]
    gz_path = os.path.join(day, f"{ACCOUNT}_CloudTrail_eu-west-1_20260814T1005Z_a.json.gz")
    with open(gz_path, "wb") as handle:
        handle.write(gzip.compress(log_file(gz_records), mtime=0))
    plain_path = os.path.join(day, f"{ACCOUNT}_CloudTrail_eu-west-1_20260814T1010Z_b.json")
    with open(plain_path, "wb") as handle:
        handle.write(log_file([
            record("2026-08-14T11:00:00Z", "kms.amazonaws.com", "ScheduleKeyDeletion",
                   "arn:aws:iam::111122223333:user/mallory", "TLSv1.3",
                   {"keyId": PAYMENTS_KEY, "pendingWindowInDays": 7},
                   extra={"resources": [{"ARN": PAYMENTS_KEY, "type": "AWS::KMS::Key"}]}),
        ]))
    cut_path = os.path.join(day, f"{ACCOUNT}_CloudTrail_eu-west-1_20260814T1015Z_c.json.gz")
    whole = gzip.compress(log_file([record(f"2026-08-14T12:{m:02d}:00Z", "dynamodb.amazonaws.com",
                                           "UpdateTimeToLive", "arn:aws:iam::111122223333:user/x",
                                           "TLSv1.2", {"tableName": "orders", "pad": "p" * 4000})
                                    for m in range(20)]), mtime=0)
    with open(cut_path, "wb") as handle:
        handle.write(whole[: len(whole) // 2])
    real = os.path.join(SHARED, "testdata", "cloudtrail", "awsdocs-dynamodb-guide",
                        "understanding-ddb-log-entries.delete-table.json")
    extra_dirs = []
    if os.path.exists(real):  # a real DynamoDB record, outside the period: counted, not judged
        os.makedirs(os.path.join(work, "real"))
        shutil.copy(real, os.path.join(work, "real"))
        extra_dirs = [os.path.join(work, "real")]

    trail = os.path.join(work, "trail")
    args = ["report", "--evidence", snap, "--format", "json",
            "--cloudtrail-dir", ",".join([trail] + extra_dirs)]
    first = run(*args, "--out", os.path.join(work, "out1"))
    check("report with --cloudtrail-dir exits 0", first.returncode == 0, first.stderr[-2000:])
    if first.returncode != 0:
        return 1
    second = run(*args, "--out", os.path.join(work, "out2"))
    bytes1 = open(os.path.join(work, "out1", "report.json"), "rb").read()
    bytes2 = open(os.path.join(work, "out2", "report.json"), "rb").read()
    check("second run: byte-identical report.json", second.returncode == 0 and bytes1 == bytes2)
    report = json.loads(bytes1)
    activity = report.get("activity")
    check("report.json has activity", isinstance(activity, dict))
    if not isinstance(activity, dict):
        return 1
    check("no machine path in activity", work not in json.dumps(activity))
    citations = json.dumps([f["evidence"] for c in report["controls"] if c["id"] in ACTIVITY_CONTROLS
                            for f in c["findings"]])
    check("no machine path in the activity controls' citations", work not in citations)
    check("activity period is the snapshot's",
          activity["period"] == {"start": "2026-07-01", "end": "2026-09-30"}, activity["period"])

    sources = {s["file"]: s for s in activity["sources"]}
    rel = os.path.relpath(gz_path, work)
    check("delivered log path is relative to the directory's parent", rel in sources, list(sources))
    for path in (gz_path, plain_path, cut_path):
        entry = sources.get(os.path.relpath(path, work), {})
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        check(f"source {os.path.basename(path)}: sha256 of the file on disk",
              entry.get("sha256") == digest, entry)
        check(f"source {os.path.basename(path)}: origin cloudtrail_dir",
              entry.get("origin") == "cloudtrail_dir", entry)
    check("the cut gzip is truncated", sources.get(os.path.relpath(cut_path, work), {}).get("status") == "truncated")
    check("the gzip and plain files are ok",
          sources[os.path.relpath(gz_path, work)]["status"] == "ok"
          and sources[os.path.relpath(plain_path, work)]["status"] == "ok")
    lookup = [s for s in activity["sources"] if s["origin"] == "evidence"]
    check("the snapshot's LookupEvents files are sources too", len(lookup) == 4, lookup)
    manifest = json.load(open(os.path.join(snap, "manifest.json")))
    sealed = {c["path"]: c["sha256"] for c in manifest["calls"] if c.get("path")}
    check("LookupEvents sources carry the manifest's SHA-256",
          all(sealed.get(s["file"]) == s["sha256"] for s in lookup))
    check("the tables' keys are watched", PAYMENTS_KEY in activity["kms"]["watched_keys"])
    if extra_dirs:
        check("a real record outside the period is counted, not kept",
              activity["counts"]["before_period"] >= 1)

    controls = controls_of(report)
    # DDB-05: the TLS 1.0 call, cited at its record.
    finding, cite = citation_to(controls["DDB-05"]["findings"], os.path.basename(gz_path))
    check("DDB-05 cites the TLS 1.0 call in the gzip file", finding is not None)
    if finding:
        check("DDB-05: TLS 1.0 is remediate", finding["status"] == "remediate", finding)
        check("DDB-05: the hostile principal is kept as text", finding["resource"] == hostile, finding["resource"])
        check("DDB-05: citation sha256", cite["sha256"] == hashlib.sha256(open(gz_path, "rb").read()).hexdigest())
        check("DDB-05: citation pointer", cite["pointer"] == "/Records/1", cite)
        at = record_at(gz_path, cite["offset"])
        check("DDB-05: the offset is where the record starts",
              at.get("eventName") == "UpdateTable" and at["tlsDetails"]["tlsVersion"] == "TLSv1", at)
    # DDB-17: the table deletion and the key deletion, each cited.
    finding, cite = citation_to([f for f in controls["DDB-17"]["findings"] if "table/orders" in f["resource"]],
                                os.path.basename(gz_path))
    check("DDB-17 names the DeleteTable of orders", finding is not None and "DeleteTable" in finding["reason"])
    if cite:
        check("DDB-17: DeleteTable offset", record_at(gz_path, cite["offset"])["eventName"] == "DeleteTable")
    finding, cite = citation_to([f for f in controls["DDB-17"]["findings"] if f["resource"] == PAYMENTS_KEY],
                                os.path.basename(plain_path))
    check("DDB-17 names ScheduleKeyDeletion on the payments key", finding is not None, controls["DDB-17"]["findings"])
    if cite:
        check("DDB-17: key deletion offset in the plain file",
              record_at(plain_path, cite["offset"])["eventName"] == "ScheduleKeyDeletion")
    check("DDB-17 is not pass", controls["DDB-17"]["status"] != "pass")
    # DDB-16: the damaged file.
    damaged = [f for f in controls["DDB-16"]["findings"] if os.path.basename(cut_path) in f["reason"]]
    check("DDB-16: the truncated file is Review", len(damaged) == 1 and damaged[0]["status"] == "review", damaged)
    check("DDB-16 is not pass", controls["DDB-16"]["status"] != "pass")
    # DDB-22: the sample's AccessDenied burst (LookupEvents evidence), cited in the evidence file.
    finding, cite = citation_to(controls["DDB-22"]["findings"], "dynamodb.amazonaws.com.json")
    check("DDB-22 cites the AccessDenied burst in the LookupEvents evidence",
          finding is not None and "AccessDenied" in finding["reason"], controls["DDB-22"]["findings"][:3])
    if cite:
        event = record_at(os.path.join(snap, cite["file"]), 0)["Events"][int(cite["pointer"].rsplit("/", 1)[1])]
        check("DDB-22: the pointer names the denied event",
              json.loads(event["CloudTrailEvent"])["errorCode"] == "AccessDeniedException")

    # A narrower --period changes what is judged.
    narrow = run(*args, "--period", "2026-08-14..2026-08-14", "--out", os.path.join(work, "out3"))
    check("--period A..B: exit 0", narrow.returncode == 0, narrow.stderr[-500:])
    if narrow.returncode == 0:
        narrowed = json.load(open(os.path.join(work, "out3", "report.json")))["activity"]
        check("--period A..B is the activity's period",
              narrowed["period"] == {"start": "2026-08-14", "end": "2026-08-14"})
        check("--period A..B keeps fewer events", narrowed["counts"]["in_period"] < activity["counts"]["in_period"])

    # No CloudTrail at all: every activity control says so, fail closed.
    bare = os.path.join(work, "bare")
    shutil.copytree(os.path.join(SRC, "evidence", "sample"), bare)
    for region in ("eu-west-1", "us-east-1"):
        shutil.rmtree(os.path.join(bare, ACCOUNT, region, "cloudtrail", "LookupEvents"), ignore_errors=True)
    sealed_run = run("evidence", "seal", bare, "--account", ACCOUNT, "--regions", "eu-west-1,us-east-1",
                     "--period", "2026-07-01..2026-09-30", "--collected-at", "2026-10-01T09:30:00Z")
    check("reseal without LookupEvents", sealed_run.returncode == 0, sealed_run.stderr)
    plain = run("report", "--evidence", bare, "--format", "json", "--out", os.path.join(work, "out4"))
    check("report without CloudTrail: exit 0", plain.returncode == 0, plain.stderr[-500:])
    if plain.returncode == 0:
        without = json.load(open(os.path.join(work, "out4", "report.json")))
        check("no activity → activity null", without["activity"] is None)
        by_id = controls_of(without)
        for control in ACTIVITY_CONTROLS:
            said = [f for f in by_id[control]["findings"]
                    if f["resource"].endswith("activity/provided") and f["status"] == "review"
                    and "not provided" in f["reason"]]
            check(f"{control}: says CloudTrail activity was not provided", len(said) == 1)
            check(f"{control}: not pass without activity", by_id[control]["status"] != "pass")

    # Bad input: exit 3, no packet.
    for name, target in (("missing directory", os.path.join(work, "nowhere")),
                         ("directory without logs", os.path.join(work, "empty"))):
        os.makedirs(os.path.join(work, "empty"), exist_ok=True)
        out = os.path.join(work, "out-" + name.replace(" ", "-"))
        bad = run("report", "--evidence", snap, "--cloudtrail-dir", target, "--out", out)
        check(f"--cloudtrail-dir {name}: exit 3", bad.returncode == 3, f"{bad.returncode} {bad.stderr}")
        check(f"--cloudtrail-dir {name}: says which", target in bad.stderr, bad.stderr)
        check(f"--cloudtrail-dir {name}: no packet", not os.path.exists(out))
    keys = os.path.join(work, "keys.json")
    with open(keys, "w") as handle:
        handle.write('{"PublicKeyList": [{"Value": "not base64 DER!", "Fingerprint": "00"}]}')
    out = os.path.join(work, "out-keys")
    bad = run("report", "--evidence", snap, "--cloudtrail-dir", trail, "--cloudtrail-public-keys",
              keys, "--out", out)
    check("--cloudtrail-public-keys with a bad key: exit 3, no packet",
          bad.returncode == 3 and not os.path.exists(out), f"{bad.returncode} {bad.stderr}")
    bad = run("report", "--evidence", snap, "--cloudtrail-public-keys", keys)
    check("--cloudtrail-public-keys without --cloudtrail-dir: exit 2", bad.returncode == 2, bad.stderr)
    bad = run("report", "--evidence", snap, "--period", "2026-09-30..2026-07-01")
    check("--period backwards: exit 2", bad.returncode == 2, bad.stderr)

    integrity(work, snap)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


def signer(work):
    """An RSA key pair as CloudTrail uses: (DER PKCS#1 public key, sign(data)), or None."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:
        if not shutil.which("openssl"):
            return None
        pem = os.path.join(work, "key.pem")
        subprocess.run(["openssl", "genrsa", "-out", pem, "2048"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "rsa", "-in", pem, "-RSAPublicKey_out", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        return der, lambda data: subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem], input=data,
                                                check=True, capture_output=True).stdout
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return der, lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def integrity(work, snap):
    """--cloudtrail-public-keys: a valid digest chain passes; a log file changed after delivery
    is Remediate in DDB-16, cited by its stable path and hash."""
    key = signer(work)
    if key is None:
        print("skip integrity: neither python3-cryptography nor openssl")
        return
    der, sign = key
    fingerprint = hashlib.md5(der).hexdigest()
    keys = os.path.join(work, "public-keys.json")
    with open(keys, "w") as handle:
        json.dump({"PublicKeyList": [{"Value": __import__("base64").b64encode(der).decode(),
                                      "Fingerprint": fingerprint}]}, handle)
    root = os.path.join(work, "signed")
    logs = f"AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/08/14"
    digests = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/eu-west-1/2026/08/14"
    os.makedirs(os.path.join(root, logs))
    os.makedirs(os.path.join(root, digests))
    name = f"{ACCOUNT}_CloudTrail_eu-west-1_20260814T1005Z_signed.json.gz"
    content = log_file([record("2026-08-14T10:01:00Z", "dynamodb.amazonaws.com", "DescribeTable",
                               "arn:aws:iam::111122223333:user/x", "TLSv1.3", {"tableName": "orders"},
                               vpce="vpce-0f1e2d3c4b5a69788")])
    with open(os.path.join(root, logs, name), "wb") as handle:
        handle.write(gzip.compress(content, mtime=0))
    end = "2026-08-14T10:59:59Z"
    digest_name = f"{ACCOUNT}_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20260814T105959Z.json.gz"
    digest = {"awsAccountId": ACCOUNT, "digestStartTime": "2026-08-14T10:00:00Z", "digestEndTime": end,
              "digestS3Bucket": "bucket", "digestS3Object": f"{digests}/{digest_name}",
              "digestPublicKeyFingerprint": fingerprint, "digestSignatureAlgorithm": "SHA256withRSA",
              "previousDigestSignature": None,
              "logFiles": [{"s3Bucket": "bucket", "s3Object": f"{logs}/{name}",
                            "hashValue": hashlib.sha256(content).hexdigest(), "hashAlgorithm": "SHA-256"}]}
    text = json.dumps(digest).encode()
    signature = sign(("%s\nbucket/%s\n%s\nnull" % (end, digest["digestS3Object"],
                                                    hashlib.sha256(text).hexdigest())).encode()).hex()
    with open(os.path.join(root, digests, digest_name), "wb") as handle:
        handle.write(gzip.compress(text, mtime=0))
    with open(os.path.join(root, digests, digest_name + ".sig"), "w") as handle:
        handle.write(signature + "\n")

    def report(out):
        result = run("report", "--evidence", snap, "--format", "json", "--cloudtrail-dir", root,
                     "--cloudtrail-public-keys", keys, "--out", os.path.join(work, out))
        check(f"integrity {out}: exit 0", result.returncode == 0, result.stderr[-500:])
        return json.load(open(os.path.join(work, out, "report.json"))) if result.returncode == 0 else None

    valid = report("out-signed")
    if valid:
        summary = valid["activity"].get("integrity", {}).get("summary", {})
        check("integrity: the digest and its log file are valid",
              summary.get("digests_valid") == 1 and summary.get("log_files_valid") == 1, summary)
        files = [d["file"] for d in valid["activity"]["integrity"]["digests"]]
        check("integrity: digest paths are stable", files == [f"signed/{digests}/{digest_name}"], files)
        ddb16 = controls_of(valid)["DDB-16"]["findings"]
        check("integrity: no tampering finding on a valid chain",
              not [f for f in ddb16 if "/digest/" in f["resource"] or "log-integrity" in f["resource"]], ddb16)
    with open(os.path.join(root, logs, name), "wb") as handle:  # changed after delivery
        handle.write(gzip.compress(content.replace(b"DescribeTable", b"DeleteTable!!"), mtime=0))
    changed = report("out-changed")
    if changed:
        found = [f for f in controls_of(changed)["DDB-16"]["findings"] if "log-integrity" in f["resource"]]
        check("integrity: a changed log file is Remediate in DDB-16",
              len(found) == 1 and found[0]["status"] == "remediate" and "changed" in found[0]["reason"], found)
        if found:
            cite = found[0]["evidence"][0] if found[0]["evidence"] else {}
            check("integrity: the changed file is cited by its stable path and hash",
                  cite.get("file") == f"signed/{logs}/{name}" and
                  cite.get("sha256") == hashlib.sha256(open(os.path.join(root, logs, name), "rb").read()).hexdigest(),
                  cite)


if __name__ == "__main__":
    sys.exit(main())
