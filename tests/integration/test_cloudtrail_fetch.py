"""ddbaudit cloudtrail fetch against moto's S3 (through the project's endpoint, which checks
every signature with botocore's S3SigV4Auth and answers ListPublicKeys): a trail bucket with
hand-made log files and a digest chain signed by a test RSA key (x-amz-meta-signature). Only
the period's days are copied (digests up to the day after), files are byte-identical, the
public keys are what `aws cloudtrail list-public-keys` prints, `cloudtrail scan --public-keys`
verifies the chain in the copy, a re-run copies nothing, and hostile input is handled: keys
with "../" or control bytes are skipped, odd but legal names are copied, a truncated gzip
object is saved and reported truncated by scan, and AccessDenied on a day prefix makes the
fetch exit 4 with the gap recorded."""
import base64
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("DDBAUDIT_SOURCE_DIR", "."), "tests", "endpoint"))
import harness as h  # noqa: E402

ACCOUNT = h.ACCOUNT
REGION = "us-east-1"
BUCKET = "trail-archive"
PREFIX = "org/trail"
PERIOD = "2026-07-01..2026-07-03"
LOGS = f"{PREFIX}/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}"
DIGESTS = f"{PREFIX}/AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}"
ODD_NAME = f"{ACCOUNT}_CloudTrail_{REGION}_20260702T0130Z_odd name+%41~ü&=;'.json.gz"


def gz(data):
    return gzip.compress(data, mtime=0)


def record(day, hour, number):
    return {"eventVersion": "1.09", "eventSource": "dynamodb.amazonaws.com",
            "eventName": "DeleteTable", "eventID": f"id-{day}-{hour}-{number}",
            "eventTime": "2026-07-%02dT%02d:%02d:00Z" % (day, hour, 10 + number),
            "awsRegion": REGION, "userIdentity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/u"},
            "requestParameters": {"tableName": f"T{day}{hour}{number}"}}


def log_object(day, hour, number, month=7):
    stamp = "2026%02d%02dT%02d%02dZ" % (month, day, hour, 15 + number)
    return (f"{LOGS}/2026/%02d/%02d/{ACCOUNT}_CloudTrail_{REGION}_{stamp}_n{number}.json.gz"
            % (month, day))


class Key:
    """A test RSA key signing like CloudTrail (SHA256withRSA); python3-cryptography, else the
    openssl CLI."""

    def __init__(self, workdir):
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.der = private.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.PKCS1)
            self.sign = lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        except ImportError:
            if not shutil.which("openssl"):
                h.skip("neither python3-cryptography nor openssl is available")
            pem = os.path.join(workdir, "key.pem")
            subprocess.run(["openssl", "genrsa", "-out", pem, "2048"], check=True,
                           capture_output=True)
            self.der = subprocess.run(["openssl", "rsa", "-in", pem, "-RSAPublicKey_out",
                                       "-outform", "DER"], check=True,
                                      capture_output=True).stdout
            self.sign = lambda data: subprocess.run(
                ["openssl", "dgst", "-sha256", "-sign", pem], input=data, check=True,
                capture_output=True).stdout
        self.fingerprint = hashlib.md5(self.der).hexdigest()


def build_bucket(s3, key):
    """Objects: {key: bytes}. Digest chain of three hours on 2026-07-01, covering six logs."""
    objects = {}
    metadata = {}
    previous = None
    for hour in range(3):
        files = []
        for n in range(2):
            k = log_object(1, hour, n)
            content = json.dumps({"Records": [record(1, hour, n)]}).encode()
            objects[k] = gz(content)
            files.append({"s3Bucket": BUCKET, "s3Object": k,
                          "hashValue": hashlib.sha256(content).hexdigest(),
                          "hashAlgorithm": "SHA-256"})
        end = "2026-07-01T%02d:59:59Z" % hour
        name = (f"{ACCOUNT}_CloudTrail-Digest_{REGION}_trail_{REGION}_20260701T%02d5959Z.json.gz"
                % hour)
        dk = f"{DIGESTS}/2026/07/01/{name}"
        digest = {"awsAccountId": ACCOUNT, "digestStartTime": "2026-07-01T%02d:00:00Z" % hour,
                  "digestEndTime": end, "digestS3Bucket": BUCKET, "digestS3Object": dk,
                  "digestPublicKeyFingerprint": key.fingerprint,
                  "digestSignatureAlgorithm": "SHA256withRSA",
                  "newestEventTime": end, "oldestEventTime": "2026-07-01T%02d:00:00Z" % hour,
                  "previousDigestS3Bucket": BUCKET if previous else None,
                  "previousDigestS3Object": previous["object"] if previous else None,
                  "previousDigestHashValue": previous["hash"] if previous else None,
                  "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                  "previousDigestSignature": previous["signature"] if previous else None,
                  "logFiles": files}
        content = json.dumps(digest).encode()
        content_hash = hashlib.sha256(content).hexdigest()
        signature = key.sign(("%s\n%s/%s\n%s\n%s" % (
            end, BUCKET, dk, content_hash,
            previous["signature"] if previous else "null")).encode()).hex()
        objects[dk] = gz(content)
        metadata[dk] = {"signature": signature}
        previous = {"object": dk, "hash": content_hash, "signature": signature}
    # Other days in the period, including an odd but legal name and a truncated gzip.
    for day in (2, 3):
        k = log_object(day, 4, 0)
        objects[k] = gz(json.dumps({"Records": [record(day, 4, 0)]}).encode())
    objects[f"{LOGS}/2026/07/02/{ODD_NAME}"] = gz(json.dumps(
        {"Records": [record(2, 1, 5)]}).encode())
    whole = gz(json.dumps({"Records": [record(3, 9, n) for n in range(50)]}).encode())
    objects[f"{LOGS}/2026/07/03/{ACCOUNT}_CloudTrail_{REGION}_20260703T0930Z_cut.json.gz"] = \
        whole[:len(whole) // 2]
    # Outside the period: never copied.
    objects[log_object(30, 1, 0, month=6)] = gz(b'{"Records": []}')
    objects[f"{LOGS}/2026/07/04/{ACCOUNT}_CloudTrail_{REGION}_20260704T0100Z_after.json.gz"] = \
        gz(b'{"Records": []}')
    objects[f"{DIGESTS}/2026/07/05/{ACCOUNT}_CloudTrail-Digest_{REGION}_trail_{REGION}"
            f"_20260705T005959Z.json.gz"] = gz(b"{}")
    # The day after the period: its digests are copied (they cover the period's last hour).
    next_digest = (f"{DIGESTS}/2026/07/04/{ACCOUNT}_CloudTrail-Digest_{REGION}_trail_{REGION}"
                   f"_20260704T005959Z.json.gz")
    objects[next_digest] = gz(b'{"awsAccountId": "%s"}' % ACCOUNT.encode())
    # Hostile keys inside a day prefix: not CloudTrail's, never paths.
    hostile = [f"{LOGS}/2026/07/02/../../../../../../../../../../escape.json.gz",
               f"{LOGS}/2026/07/02/sub/dir.json.gz",
               f"{LOGS}/2026/07/02/.hidden.json.gz",
               f"{LOGS}/2026/07/02/bell\x07tab\t.json.gz",
               f"{LOGS}/2026/07/02/notes.txt"]
    for k in hostile:
        objects[k] = gz(b'{"Records": []}')
    for k, data in objects.items():
        s3.put_object(Bucket=BUCKET, Key=k, Body=data, Metadata=metadata.get(k, {}))
    return objects, metadata, hostile, next_digest


def fetch(out, url, creds, *extra):
    env = h.collect_env(url, creds)
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run([os.environ["DDBAUDIT_BIN"], "cloudtrail", "fetch", "--bucket", BUCKET,
                           "--prefix", PREFIX, "--account", ACCOUNT, "--regions", REGION,
                           "--period", PERIOD, "--out", out, "--endpoint-url", url,
                           "--bucket-region", REGION, *extra],
                          env=env, capture_output=True, text=True, timeout=300)


def copied_files(out):
    found = {}
    for root, dirs, files in os.walk(out):
        dirs[:] = [d for d in dirs if d != ".ddbaudit-fetch"]
        for name in files:
            path = os.path.join(root, name)
            found[os.path.relpath(path, out)] = path
    return found


def main():
    h.require_tools()
    failures = []
    with h.Servers() as s:
        # moto's own S3 signature check is wrong for "/" in a query value (boto3's
        # list_objects_v2 with a Prefix fails too) and for "../" in paths, so moto runs without
        # it and the endpoint in front judges every signature with botocore's S3SigV4Auth.
        creds = h.BOOT_KEY
        key = Key(s.tmp)
        s3 = h.client("s3", s.url, REGION, creds)
        s3.create_bucket(Bucket=BUCKET)
        objects, metadata, hostile, next_digest = build_bucket(s3, key)
        url = s.start_endpoint(credentials=creds)
        os.makedirs(os.path.join(s.tmp, "decoy"))
        decoy_key = Key(os.path.join(s.tmp, "decoy"))  # an older key: paging, one a page
        decoy = base64.b64encode(decoy_key.der).decode()
        s.control(reset_stats=True, public_keys=[
            {"Value": base64.b64encode(key.der).decode(), "ValidityStartTime": 1782864000,
             "ValidityEndTime": 1783468800, "Fingerprint": key.fingerprint},
            {"Value": decoy, "ValidityStartTime": 1782000000, "ValidityEndTime": 1782864000,
             "Fingerprint": decoy_key.fingerprint}])

        out = os.path.join(s.tmp, "copy")
        done = fetch(out, url, creds)
        if done.returncode != 0:
            return f"fetch exited {done.returncode}:\n{done.stdout}{done.stderr[-3000:]}"
        if s.stats()["signature_failures"]:
            failures.append(f"{s.stats()['signature_failures']} S3 signatures refused")
        want = {k: v for k, v in objects.items() if k not in hostile and
                ("/2026/07/0" in k and k.split("/2026/07/")[1][:2] in ("01", "02", "03")
                 or k == next_digest)}
        found = copied_files(out)
        got = {k for k in found if not k.endswith(".sig")}
        if got != set(want):
            failures.append(f"copied {sorted(got - set(want))} extra, "
                            f"{sorted(set(want) - got)} missing")
        for k in sorted(got & set(want)):
            with open(found[k], "rb") as f:
                if f.read() != want[k]:
                    failures.append(f"{k}: bytes differ from the object")
        sigs = {k[:-4] for k in found if k.endswith(".sig")}
        if sigs != set(metadata):
            failures.append(f"signatures saved for {sorted(sigs)}, want {sorted(metadata)}")
        for k in sorted(sigs & set(metadata)):
            with open(found[k + ".sig"]) as f:
                if f.read().strip() != metadata[k]["signature"]:
                    failures.append(f"{k}.sig differs from x-amz-meta-signature")
        if any("escape" in p for p in copied_files(s.tmp)):
            failures.append("a '../' key was written outside the copy")
        record_file = os.path.join(out, ".ddbaudit-fetch", "fetch.json")
        with open(record_file) as f:
            fetched = json.load(f)
        skipped = sorted(e["key"] for e in fetched["skipped"])
        if fetched["complete"] is not True or fetched["gaps"] or skipped != sorted(hostile):
            failures.append(f"record: complete={fetched['complete']} gaps={fetched['gaps']} "
                            f"skipped={skipped}")
        if "\x07" in done.stderr:
            failures.append("a control byte of a hostile key reached the terminal")

        # The public keys: what the CLI prints for the same call.
        keys_file = os.path.join(out, ".ddbaudit-fetch", "public-keys.json")
        cli = h.run_cli("cloudtrail", "ListPublicKeys", {}, REGION, url, creds)
        with open(keys_file) as f:
            ours = json.load(f)
        if ours != cli:
            failures.append("public-keys.json differs from the CLI: " +
                            "; ".join(h.differences(ours, cli)[:5]))

        # The copy verifies.
        scan = subprocess.run([os.environ["DDBAUDIT_BIN"], "cloudtrail", "scan", out, "--period",
                               PERIOD, "--public-keys", keys_file], capture_output=True,
                              text=True, timeout=120)
        if scan.returncode != 0:
            failures.append(f"scan exited {scan.returncode}: {scan.stderr[-1500:]}")
        else:
            activity = json.loads(scan.stdout)
            integrity = activity["integrity"]
            chain = [(d["signature"], d["chain"]) for d in integrity["digests"]
                     if "20260701T" in (d.get("file") or d.get("s3_object") or "")]
            if chain != [("valid", "start"), ("valid", "ok"), ("valid", "ok")]:
                failures.append(f"digest chain in the copy: {chain}")
            valid = [f for f in integrity["log_files"] if f["status"] == "valid"]
            if len(valid) != 6 or not all(f["digest_trusted"] for f in valid):
                failures.append(f"valid log files: {len(valid)}")
            statuses = {os.path.basename(src["file"]): src["status"]
                        for src in activity["sources"]}
            if statuses.get(f"{ACCOUNT}_CloudTrail_{REGION}_20260703T0930Z_cut.json.gz") != \
                    "truncated":
                failures.append(f"truncated object: {statuses}")
            if statuses.get(ODD_NAME) != "ok":
                failures.append(f"odd name not scanned: {sorted(statuses)}")

        # A second run copies nothing: every object is there with its size and ETag.
        s.control(reset_stats=True)
        again = fetch(out, url, creds)
        gets = s.stats()["requests"].get("s3.GetObject", 0)
        if again.returncode != 0 or gets != 0:
            failures.append(f"re-run: exit {again.returncode}, {gets} GetObject requests")
        # A changed object (new ETag) and a removed copy are fetched again, nothing else.
        changed = log_object(2, 4, 0)
        s3.put_object(Bucket=BUCKET, Key=changed, Body=gz(b'{"Records": [], "v": 2}'))
        os.remove(found[log_object(3, 4, 0)])
        s.control(reset_stats=True)
        again = fetch(out, url, creds)
        gets = s.stats()["requests"].get("s3.GetObject", 0)
        if again.returncode != 0 or gets != 2:
            failures.append(f"re-run after a change: exit {again.returncode}, {gets} GetObject "
                            f"requests (want 2)")

        # Interrupted (SIGINT) part way: the record keeps what was saved, the same command
        # finishes the copy without fetching it again.
        s.control(reset_stats=True, latency_ms=150)
        part = os.path.join(s.tmp, "part")
        env = h.collect_env(url, creds)
        env.pop("AWS_ENDPOINT_URL", None)
        proc = subprocess.Popen([os.environ["DDBAUDIT_BIN"], "cloudtrail", "fetch", "--bucket",
                                 BUCKET, "--prefix", PREFIX, "--account", ACCOUNT, "--regions",
                                 REGION, "--period", PERIOD, "--out", part, "--endpoint-url", url,
                                 "--bucket-region", REGION, "--concurrency", "1"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while s.stats()["requests"].get("s3.GetObject", 0) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)  # polls progress; the fetch itself is what takes the time
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        s.control(latency_ms=0)
        with open(os.path.join(part, ".ddbaudit-fetch", "fetch.json")) as f:
            partial = json.load(f)
        saved = len(partial["objects"])
        if proc.returncode != 4 or partial["complete"] is not False or not 3 <= saved < len(want):
            failures.append(f"interrupted: exit {proc.returncode}, complete "
                            f"{partial['complete']}, {saved} objects saved: {err[-400:]}")
        s.control(reset_stats=True)
        done = fetch(part, url, creds)
        gets = s.stats()["requests"].get("s3.GetObject", 0)
        if done.returncode != 0 or gets != len(want) - saved:
            failures.append(f"resumed: exit {done.returncode}, {gets} GetObject requests, want "
                            f"{len(want) - saved}")

        # AccessDenied on one day: the rest is copied, the gap is recorded, exit 4.
        s.control(reset_stats=True, faults=[{"operation": "ListObjectsV2", "kind": "denied",
                                             "count": -1,
                                             "key": "CloudTrail%2Fus-east-1%2F2026%2F07%2F02"}])
        denied = os.path.join(s.tmp, "denied")
        done = fetch(denied, url, creds)
        if done.returncode != 4:
            failures.append(f"denied day: exit {done.returncode}, want 4")
        with open(os.path.join(denied, ".ddbaudit-fetch", "fetch.json")) as f:
            fetched = json.load(f)
        gaps = [(g["target"], g["error_code"], g["http_status"]) for g in fetched["gaps"]]
        if fetched["complete"] is not False or gaps != [
                (f"{LOGS}/2026/07/02/", "AccessDenied", 403)]:
            failures.append(f"denied day: complete={fetched['complete']} gaps={gaps}")
        if "AccessDenied" not in done.stderr or "incomplete" not in done.stderr:
            failures.append(f"denied day not reported: {done.stderr[-800:]}")
        present = {k for k in copied_files(denied) if not k.endswith(".sig")}
        if any("/2026/07/02/" in k for k in present) or \
                not any("/2026/07/03/" in k for k in present):
            failures.append(f"denied day: copied {sorted(present)}")
        if creds[1] in done.stdout + done.stderr + open(record_file).read():
            failures.append("the secret was printed")

        # A wrong secret: every signature is refused, nothing passes for a copy.
        s.control(reset_stats=True, faults=[])
        wrong = os.path.join(s.tmp, "wrong")
        done = fetch(wrong, url, (creds[0], "not-the-secret"))
        if done.returncode != 4 or "SignatureDoesNotMatch" not in done.stderr or \
                s.stats()["signature_failures"] == 0 or "not-the-secret" in done.stderr:
            failures.append(f"wrong secret: exit {done.returncode}: {done.stderr[-500:]}")
    if failures:
        return "\n".join(failures)
    print("ok: period's days copied byte for byte, hostile keys skipped, chain verified in the "
          "copy, re-run copies only changes, AccessDenied recorded as a gap (exit 4)")
    return None


if __name__ == "__main__":
    problem = main()
    if problem:
        print("FAIL:\n" + problem)
        sys.exit(1)
