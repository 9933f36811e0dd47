"""Cross-checks the ddbaudit SigV4 signer against botocore on randomized requests.

botocore is the independent oracle: this script builds a few hundred random requests (methods,
paths with unicode, reserved characters and dot segments, queries with repeated keys and empty
values, duplicate and oddly spaced headers, bodies, session tokens, S3 and presigned variants),
asks botocore's own SigV4Auth / S3SigV4Auth / SigV4QueryAuth for the canonical request, string
to sign and signature, writes them to a JSON file, and runs the C unit test test_sigv4 with
DDBAUDIT_SIGV4_CASES pointing at it; that test signs each case with src/sigv4.c and compares.

Exits 77 (skipped) when botocore is missing or test_sigv4 has not been built.
Set DDBAUDIT_SIGV4_SEED to reproduce a run; the seed is printed either way.
"""

import json
import os
import random
import subprocess
import sys
import tempfile
from urllib.parse import quote

try:
    import botocore
    from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
    from botocore.awsrequest import AWSRequest, HTTPHeaders
    from botocore.credentials import Credentials
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"skipped: botocore is not importable ({error})")
    sys.exit(77)

CASES = int(os.environ.get("DDBAUDIT_SIGV4_CASES_COUNT", "400"))
TIME = 1795431600  # 2026-11-23T11:00:00Z
TIMESTAMP = "20261123T110000Z"

SEGMENT_ALPHABET = (
    "abcXYZ019-_.~" + "!$&'()*+,;=:@" + " %?#[]" + "\u00e9\u1234\U0001f600" + "\t"
)
HEADER_NAMES = [
    "Content-Type", "X-Amz-Target", "X-Amz-Meta-Note", "My-Header", "x-custom", "Accept",
    "X-Amz-Checksum-Mode", "Range", "If-Match", "Content-Encoding",
]
# botocore never signs these; the C signer must drop them too.
UNSIGNED_HEADERS = ["User-Agent", "X-Amzn-Trace-Id", "Expect", "Connection", "Transfer-Encoding"]
REGIONS = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2"]
SERVICES = ["dynamodb", "monitoring", "logs", "application-autoscaling", "kms", "sts", "iam"]


def random_text(rng, alphabet, low, high):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def random_path(rng):
    segments = []
    for _ in range(rng.randint(0, 5)):
        kind = rng.random()
        if kind < 0.1:
            segments.append(".")
        elif kind < 0.2:
            segments.append("..")
        elif kind < 0.3:
            segments.append("")
        else:
            segments.append(random_text(rng, SEGMENT_ALPHABET, 1, 8))
    # The wire form: what an HTTP client sends, percent-encoded (sub-delims sometimes kept).
    safe = rng.choice(["-_.~", "-_.~!$&'()*+,;=:@"])
    path = "/" + "/".join(quote(segment, safe=safe) for segment in segments)
    if rng.random() < 0.2 and not path.endswith("/"):
        path += "/"
    return path


def random_query(rng, presigned):
    pairs = []
    keys = [random_text(rng, "abcXYZ-_.~ \u00e9=&+/", 1, 6) for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(keys)
        value = rng.choice(["", random_text(rng, "abcXYZ019-_.~ \u00e9=&+/%", 0, 10)])
        pairs.append((key, value))
    if presigned:
        # botocore's presigner keeps one value per key (parse_qs) and decodes '+' as a space.
        unique = {}
        for key, value in pairs:
            unique.setdefault(key, value)
        pairs = list(unique.items())
    if not pairs:
        return None
    parts = []
    for key, value in pairs:
        encoded = quote(key, safe="-_.~")
        if value == "" and rng.random() < 0.3 and not presigned:
            parts.append(encoded)  # a bare key: "k" signs as "k="
        else:
            parts.append(encoded + "=" + quote(value, safe="-_.~"))
    return "&".join(parts)


def random_header_value(rng):
    core = random_text(rng, "abcXYZ019-_.~/;=,\"()", 1, 12)
    inner = rng.choice([" ", "  ", "\t", " \t "])
    words = [core] + [random_text(rng, "abc019", 1, 5) for _ in range(rng.randint(0, 2))]
    lead = rng.choice(["", " ", "  ", "\t"])
    trail = rng.choice(["", " ", "   ", "\t"])
    return lead + inner.join(words) + trail


def make_case(rng, index):
    mode = rng.choice(["header", "header", "s3", "query"])
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "HEAD"])
    region = rng.choice(REGIONS)
    service = "s3" if mode == "s3" else rng.choice(SERVICES)
    host = f"{service}.{region}.amazonaws.com"
    path = random_path(rng)
    query = random_query(rng, mode == "query")
    token = None
    if rng.random() < 0.4:
        token = "FwoGZXIvYXdzE" + random_text(rng, "abcXYZ019+/=", 20, 60)
    secret = "secret/" + random_text(rng, "abcXYZ019+/", 20, 40)
    access_key = "AKID" + random_text(rng, "ABCXYZ019", 12, 16)
    body = ""
    if mode != "query" and method in ("POST", "PUT") and rng.random() < 0.7:
        body = random_text(rng, "abcXYZ019 {}:\",=&\u00e9\n", 0, 80)

    headers = [("Host", host)]
    for _ in range(rng.randint(0, 5)):
        headers.append((rng.choice(HEADER_NAMES), random_header_value(rng)))
    if rng.random() < 0.3:
        name = rng.choice(HEADER_NAMES)  # a duplicate: values join with ','
        headers.append((name.lower(), random_header_value(rng)))
        headers.append((name.upper(), random_header_value(rng)))
    if rng.random() < 0.3:
        headers.append((rng.choice(UNSIGNED_HEADERS), "ddbaudit/0.1 " + random_text(rng, "abc", 1, 5)))
    rng.shuffle(headers)

    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body.encode("utf-8") if body else None)
    request.headers = HTTPHeaders()
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends: duplicates are kept
    request.context["timestamp"] = TIMESTAMP
    credentials = Credentials(access_key, secret, token)
    expires = rng.choice([60, 900, 3600, 604800])
    if mode == "query":
        auth = SigV4QueryAuth(credentials, service, region, expires=expires)
    elif mode == "s3":
        auth = S3SigV4Auth(credentials, service, region)
    else:
        auth = SigV4Auth(credentials, service, region)
    auth._modify_request_before_signing(request)
    canonical_request = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical_request)
    signature = auth.signature(string_to_sign, request)

    flags = []
    if mode == "query":
        flags.append("query")
    if mode == "s3":
        flags.append("s3")
    return {
        "name": f"botocore-{index:04d}-{mode}-{method}",
        "method": method,
        "path": path,
        "query": query,
        "headers": [[name, value] for name, value in headers],
        "body": body,
        "region": region,
        "service": service,
        "time": TIME,
        "access_key_id": access_key,
        "secret_access_key": secret,
        "session_token": token,
        "flags": flags,
        "expires": expires,
        "canonical_request": canonical_request,
        "string_to_sign": string_to_sign,
        "signature": signature,
    }


def coverage(cases):
    """How many cases exercise each corner the signer must get right."""

    def repeated_query_key(case):
        keys = [pair.partition("=")[0] for pair in (case["query"] or "").split("&") if pair]
        return len(keys) != len(set(keys))

    def duplicate_header(case):
        names = [name.lower() for name, _ in case["headers"]]
        return len(names) != len(set(names))

    checks = {
        "dot or empty path segments": lambda c: any(
            segment in c["path"] + "/" for segment in ("/./", "/../", "//")),
        "non-ASCII path": lambda c: "%F0" in c["path"] or "%E1" in c["path"],
        "reserved characters kept in path": lambda c: any(ch in c["path"] for ch in "!$&'()*+,;=:@"),
        "repeated query keys": repeated_query_key,
        "empty query values": lambda c: c["query"] is not None and (
            "=&" in c["query"] + "&" or any("=" not in p for p in c["query"].split("&"))),
        "duplicate headers": duplicate_header,
        "whitespace to trim": lambda c: any(v != " ".join(v.split()) for _, v in c["headers"]),
        "unsigned headers": lambda c: any(n.lower() in ("user-agent", "x-amzn-trace-id", "expect",
                                                        "connection", "transfer-encoding")
                                          for n, _ in c["headers"]),
        "session token": lambda c: c["session_token"] is not None,
        "body": lambda c: bool(c["body"]),
        "s3": lambda c: "s3" in c["flags"],
        "presigned": lambda c: "query" in c["flags"],
    }
    return {name: sum(1 for case in cases if check(case)) for name, check in checks.items()}


def main():
    seed = int(os.environ.get("DDBAUDIT_SIGV4_SEED", str(random.SystemRandom().randrange(2**32))))
    print(f"botocore {botocore.__version__}, {CASES} cases, DDBAUDIT_SIGV4_SEED={seed}")
    rng = random.Random(seed)
    cases = [make_case(rng, i) for i in range(CASES)]
    counts = coverage(cases)
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))
    if CASES >= 100:
        missing = [name for name, count in counts.items() if count == 0]
        if missing:
            print(f"generator no longer covers: {', '.join(missing)}")
            return 1

    build_dir = os.environ.get("DDBAUDIT_BUILD_DIR", "build")
    binary = os.path.join(build_dir, "tests", "test_sigv4")
    if not os.access(binary, os.X_OK):
        print(f"skipped: {binary} is not built (cmake --build ... --target test_sigv4)")
        return 77

    with tempfile.TemporaryDirectory(prefix="ddbaudit-sigv4-") as scratch:
        cases_path = os.path.join(scratch, "botocore-cases.json")
        with open(cases_path, "w", encoding="utf-8") as out:
            json.dump({"seed": seed, "botocore": botocore.__version__, "cases": cases}, out)
        env = dict(os.environ, DDBAUDIT_SIGV4_CASES=cases_path)
        result = subprocess.run([binary], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines = result.stdout.splitlines()
        print("\n".join(line for line in lines if "PASSED" in line or "run." in line))
        if result.returncode != 0:
            print("\n".join(line for line in lines if "FAILED" in line or "ERROR" in line
                            or "!=" in line)[:8000])
            print(f"signer disagrees with botocore (reproduce with DDBAUDIT_SIGV4_SEED={seed})")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
