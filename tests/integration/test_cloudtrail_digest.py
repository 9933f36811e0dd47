#!/usr/bin/env python3
"""Log file integrity: builds a CloudTrail bucket copy with a digest chain signed by its own RSA
key (as CloudTrail signs: SHA256withRSA over end time, bucket/key, hash of the uncompressed
digest and the previous signature), then checks that `ddbaudit cloudtrail scan --public-keys`
finds it valid, and finds a changed byte, a removed log file, a removed digest (broken chain), a
tampered digest, an uncovered log file and an unknown key."""
import base64
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("DDBAUDIT_BIN", "")
ACCOUNT = "111122223333"
BUCKET = "trail-bucket"
REGION = "us-east-1"


def skip(why):
    print("skipped:", why)
    sys.exit(77)


if not BIN or not os.access(BIN, os.X_OK):
    skip("DDBAUDIT_BIN is not built")


class Key:
    """An RSA key: python3-cryptography when present, else the openssl CLI."""

    def __init__(self, workdir):
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa

            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.der = private.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
            self._sign = lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        except ImportError:
            if not shutil.which("openssl"):
                skip("neither python3-cryptography nor openssl is available")
            pem = os.path.join(workdir, "key.pem")
            subprocess.run(["openssl", "genrsa", "-out", pem, "2048"], check=True,
                           capture_output=True)
            self.der = subprocess.run(["openssl", "rsa", "-in", pem, "-RSAPublicKey_out",
                                       "-outform", "DER"], check=True,
                                      capture_output=True).stdout

            def sign(data):
                return subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem], input=data,
                                      check=True, capture_output=True).stdout
            self._sign = sign
        self.fingerprint = hashlib.md5(self.der).hexdigest()

    def sign(self, data):
        return self._sign(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def build(root, key):
    """Three hourly digests, each covering two log files, chained."""
    logs_dir = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/07/01"
    digest_dir = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/07/01"
    os.makedirs(os.path.join(root, logs_dir))
    os.makedirs(os.path.join(root, digest_dir))
    previous = None
    for hour in range(3):
        files = []
        for n in range(2):
            stamp = "20260701T%02d%02dZ" % (hour, 10 + n * 20)
            name = f"{ACCOUNT}_CloudTrail_{REGION}_{stamp}_log{hour}{n}.json.gz"
            record = {"eventVersion": "1.09", "eventSource": "dynamodb.amazonaws.com",
                      "eventName": "DeleteTable", "eventID": f"id-{hour}-{n}",
                      "eventTime": "2026-07-01T%02d:%02d:00Z" % (hour, 10 + n * 20),
                      "userIdentity": {"arn": "arn:aws:iam::%s:user/u" % ACCOUNT},
                      "requestParameters": {"tableName": "T%d%d" % (hour, n)}}
            content = json.dumps({"Records": [record]}).encode()
            with open(os.path.join(root, logs_dir, name), "wb") as f:
                f.write(gz(content))
            files.append({"s3Bucket": BUCKET, "s3Object": f"{logs_dir}/{name}",
                          "hashValue": hashlib.sha256(content).hexdigest(),
                          "hashAlgorithm": "SHA-256",
                          "newestEventTime": record["eventTime"],
                          "oldestEventTime": record["eventTime"]})
        end = "2026-07-01T%02d:59:59Z" % hour
        name = f"{ACCOUNT}_CloudTrail-Digest_{REGION}_trail_{REGION}_20260701T%02d5959Z.json.gz" % hour
        digest = {
            "awsAccountId": ACCOUNT,
            "digestStartTime": "2026-07-01T%02d:00:00Z" % hour,
            "digestEndTime": end,
            "digestS3Bucket": BUCKET,
            "digestS3Object": f"{digest_dir}/{name}",
            "digestPublicKeyFingerprint": key.fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": end, "oldestEventTime": "2026-07-01T%02d:00:00Z" % hour,
            "previousDigestS3Bucket": BUCKET if previous else None,
            "previousDigestS3Object": previous["object"] if previous else None,
            "previousDigestHashValue": previous["hash"] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous["signature"] if previous else None,
            "logFiles": files,
        }
        content = json.dumps(digest).encode()
        content_hash = hashlib.sha256(content).hexdigest()
        to_sign = "%s\n%s/%s\n%s\n%s" % (end, BUCKET, digest["digestS3Object"], content_hash,
                                         previous["signature"] if previous else "null")
        signature = key.sign(to_sign.encode()).hex()
        path = os.path.join(root, digest_dir, name)
        with open(path, "wb") as f:
            f.write(gz(content))
        with open(path + ".sig", "w") as f:  # S3's x-amz-meta-signature
            f.write(signature + "\n")
        previous = {"object": digest["digestS3Object"], "hash": content_hash,
                    "signature": signature}
    return os.path.join(root, logs_dir), os.path.join(root, digest_dir)


def scan(root, keys):
    result = subprocess.run([BIN, "cloudtrail", "scan", root, "--public-keys", keys],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stderr)
        raise AssertionError("exit %d" % result.returncode)
    return json.loads(result.stdout)["integrity"]


def statuses(integrity):
    return sorted((os.path.basename(f["s3_object"] or f["file"]), f["status"])
                  for f in integrity["log_files"])


failures = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else ": " + str(detail)))
    if not condition:
        failures.append(name)


work = tempfile.mkdtemp(prefix="ddbaudit-digest-")
try:
    key = Key(work)
    keys = os.path.join(work, "public-keys.json")
    with open(keys, "w") as f:
        json.dump({"PublicKeyList": [{"Value": base64.b64encode(key.der).decode(),
                                      "ValidityStartTime": "2026-01-01T00:00:00Z",
                                      "ValidityEndTime": "2027-01-01T00:00:00Z",
                                      "Fingerprint": key.fingerprint}]}, f)
    pristine = os.path.join(work, "pristine")
    build(pristine, key)

    def fresh(name):
        root = os.path.join(work, name)
        shutil.copytree(pristine, root)
        logs = os.path.join(root, f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/07/01")
        digests = os.path.join(root, f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/07/01")
        return root, logs, digests

    # 1. The untouched chain verifies.
    root, logs, digests = fresh("valid")
    result = scan(root, keys)
    summary = result["summary"]
    check("valid: 3 digests valid", summary["digests"] == 3 and summary["digests_valid"] == 3,
          result["digests"])
    check("valid: 6 log files valid", summary["log_files_valid"] == 6, summary)
    check("valid: nothing missing/changed/uncovered",
          summary["missing"] == summary["changed"] == summary["not_covered"] == 0, summary)
    check("valid: chain", [d["chain"] for d in result["digests"]] == ["start", "ok", "ok"],
          result["digests"])

    # 2. One changed byte in a log file.
    root, logs, digests = fresh("changed")
    victim = sorted(os.listdir(logs))[2]
    content = gzip.decompress(open(os.path.join(logs, victim), "rb").read())
    content = content.replace(b"DeleteTable", b"DeleteTablf")
    open(os.path.join(logs, victim), "wb").write(gz(content))
    result = scan(root, keys)
    check("changed: the file is changed", (victim, "changed") in statuses(result),
          statuses(result))
    check("changed: the others are valid", result["summary"]["log_files_valid"] == 5)

    # 3. A removed log file.
    root, logs, digests = fresh("missing")
    victim = sorted(os.listdir(logs))[4]
    os.remove(os.path.join(logs, victim))
    result = scan(root, keys)
    check("missing: reported", (victim, "missing") in statuses(result), statuses(result))
    check("missing: counted", result["summary"]["missing"] == 1)

    # 4. A removed digest breaks the chain.
    root, logs, digests = fresh("broken-chain")
    middle = sorted(n for n in os.listdir(digests) if n.endswith(".json.gz"))[1]
    os.remove(os.path.join(digests, middle))
    os.remove(os.path.join(digests, middle + ".sig"))
    result = scan(root, keys)
    chains = [d["chain"] for d in result["digests"]]
    check("broken chain: detected", chains == ["start", "broken"], result["digests"])
    check("broken chain: its logs are not covered", result["summary"]["not_covered"] == 2,
          result["summary"])

    # 5. A tampered digest: its signature fails and its successor's hash link breaks.
    root, logs, digests = fresh("tampered-digest")
    middle = sorted(n for n in os.listdir(digests) if n.endswith(".json.gz"))[1]
    path = os.path.join(digests, middle)
    digest = json.loads(gzip.decompress(open(path, "rb").read()))
    digest["logFiles"][0]["hashValue"] = "0" * 64
    open(path, "wb").write(gz(json.dumps(digest).encode()))
    result = scan(root, keys)
    check("tampered digest: signature invalid",
          [d["signature"] for d in result["digests"]] == ["valid", "invalid", "valid"],
          result["digests"])
    check("tampered digest: chain broken after it", result["digests"][2]["chain"] == "broken",
          result["digests"][2])
    check("tampered digest: digests_valid", result["summary"]["digests_valid"] == 1,
          result["summary"])

    # 6. A log file no digest lists.
    root, logs, digests = fresh("not-covered")
    extra = f"{ACCOUNT}_CloudTrail_{REGION}_20260701T0230Z_extra.json.gz"
    open(os.path.join(logs, extra), "wb").write(gz(b'{"Records":[]}'))
    result = scan(root, keys)
    check("not covered: reported", (extra, "not_covered") in statuses(result), statuses(result))

    # 7. Signatures taken from the chain when only the newest digest has its .sig.
    root, logs, digests = fresh("chain-signatures")
    sigs = sorted(n for n in os.listdir(digests) if n.endswith(".sig"))
    for name in sigs[:-1]:
        os.remove(os.path.join(digests, name))
    result = scan(root, keys)
    check("chain signatures: all valid", result["summary"]["digests_valid"] == 3,
          result["digests"])

    # 8. A key the digests were not signed with.
    other = Key(work)
    other_keys = os.path.join(work, "other-keys.json")
    with open(other_keys, "w") as f:
        json.dump({"PublicKeyList": [{"Value": base64.b64encode(other.der).decode(),
                                      "Fingerprint": key.fingerprint}]}, f)
    root, logs, digests = fresh("wrong-key")
    result = scan(root, other_keys)
    check("wrong key: signatures invalid", result["summary"]["digests_valid"] == 0,
          result["digests"])
finally:
    shutil.rmtree(work, ignore_errors=True)

sys.exit(1 if failures else 0)
