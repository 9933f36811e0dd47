#!/usr/bin/env python3
"""The project's own AWS-compatible test endpoint (tests and benchmarks only; Python standard
library + botocore).

- Verifies every request's SigV4 signature with botocore (403 SignatureDoesNotMatch otherwise).
- Answers what moto lacks in its real wire protocol: backup ListProtectedResources (rest-json),
  cloudtrail LookupEvents (json-1.1; filtered by EventSource attribute and StartTime/EndTime
  like CloudTrail, 50 a page at most, every request logged with its arrival time) and
  cloudtrail ListPublicKeys.
- Proxies everything else to an upstream (moto), or, with --synthetic N, answers a generated
  account of N tables per region itself (benchmarks).
- Injects faults on demand: throttling, 500/503, slow answers, connection resets, truncated
  bodies, invalid JSON/XML, expired credentials, clock skew, AccessDenied on chosen operations;
  a clock ahead of the client's (--clock-offset SECONDS: requests signed with the client's time
  are refused as skewed, and the Date header shows the server's time); and a fixed latency per
  call (--latency-ms) for the benchmark.

Control (plain HTTP on the same port, never signed):
  GET  /__endpoint/health
  GET  /__endpoint/stats              {"requests": {"svc.Op": n}, "faults_injected": n, ...}
  POST /__endpoint/config  JSON:      {"faults": [{"operation": "DescribeTable", "kind":
        "throttle", "count": 2}], "latency_ms": 50, "protected_resources": [...],
        "events": [...], "public_keys": [...], "reset_stats": true}
  GET  /__endpoint/lookups            [{"at": monotonic seconds, "request": {...}}, ...]
  kind: throttle | http500 | http503 | slow | reset | truncated | invalid | expired | denied;
        count: how many requests to hit (-1 = all); optional "key": a substring the
        request body must contain (e.g. a table name); "slow_ms" for kind slow.
"""
import argparse
import base64
import datetime
import http.client
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCOUNT = "123456789012"

JSON_PROTOCOL_SERVICES = {"dynamodb": "1.0", "kms": "1.1", "cloudtrail": "1.1", "logs": "1.1",
                          "events": "1.1", "application-autoscaling": "1.1", "dax": "1.1"}
QUERY_SERVICES = {"iam", "sts", "monitoring"}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.faults = []
        self.latency_ms = args.latency_ms
        self.protected_resources = []
        self.events = []
        self.public_keys = []
        self.lookups = []
        self.requests = {}
        self.faults_injected = 0
        self.signature_failures = 0

    def configure(self, config):
        with self.lock:
            if "faults" in config:
                self.faults = [dict(f) for f in config["faults"]]
            if "latency_ms" in config:
                self.latency_ms = config["latency_ms"]
            if "protected_resources" in config:
                self.protected_resources = config["protected_resources"]
            if "events" in config:
                self.events = config["events"]
            if "public_keys" in config:
                self.public_keys = config["public_keys"]
            if config.get("reset_stats"):
                self.requests = {}
                self.faults_injected = 0
                self.signature_failures = 0
                self.lookups = []

    def count(self, name):
        with self.lock:
            self.requests[name] = self.requests.get(name, 0) + 1

    def take_fault(self, operation, body, path=""):
        with self.lock:
            for fault in self.faults:
                if fault.get("operation") not in (operation, "*"):
                    continue
                if fault.get("key") and fault["key"].encode() not in body + path.encode():
                    continue
                if fault.get("count", -1) == 0:
                    continue
                if fault.get("count", -1) > 0:
                    fault["count"] -= 1
                self.faults_injected += 1
                return fault
        return None


def amz_now():
    return datetime.datetime.now(datetime.timezone.utc)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    server_version = "ddbaudit-test-endpoint"

    def log_message(self, fmt, *args):  # quiet: tests read stats instead
        if self.server.state.args.verbose:
            sys.stderr.write("endpoint: " + (fmt % args) + "\n")

    # ---- plumbing ----

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type="application/json", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.wait_latency()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def wait_latency(self):
        """Latency mode: the answer leaves `latency_ms` after the request arrived, whatever our
        own processing took (so the benchmark's bound is the injected latency, not Python)."""
        latency = self.server.state.latency_ms
        arrived = getattr(self, "arrived", None)
        if latency and arrived is not None:
            left = arrived + latency / 1000.0 - time.monotonic()
            if left > 0:
                time.sleep(left)
        self.arrived = None

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    # ---- identification ----

    def identify(self, body):
        """(service, operation, protocol) of an AWS request."""
        auth = self.headers.get("Authorization", "")
        service = ""
        if "Credential=" in auth:
            scope = auth.split("Credential=")[1].split(",")[0].split("/")
            if len(scope) >= 5:
                service = scope[3]
        target = self.headers.get("X-Amz-Target")
        if target:
            return service, target.split(".")[-1], "json"
        if service == "s3":
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            if self.command == "GET":
                return service, "ListObjectsV2" if "list-type" in query else "GetObject", "s3"
            return service, self.command, "s3"
        if self.command == "GET" and self.path.startswith("/resources"):
            return service or "backup", "ListProtectedResources", "rest-json"
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", [""])[0]
        if action:
            return service, action, "ec2" if service == "ec2" else "query"
        return service, "", "rest-json"

    def error(self, protocol, status, code, message, service=""):
        if protocol == "json":
            version = JSON_PROTOCOL_SERVICES.get(service, "1.1")
            self.send(status, json.dumps({"__type": code, "message": message}),
                      f"application/x-amz-json-{version}")
        elif protocol == "rest-json":
            self.send(status, json.dumps({"message": message}), "application/json",
                      [("x-amzn-ErrorType", code)])
        elif protocol == "s3":
            self.send(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
                      f"<Code>{code}</Code><Message>{message}</Message>"
                      f"<RequestId>{uuid.uuid4()}</RequestId></Error>", "application/xml")
        elif protocol == "ec2":
            self.send(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                      f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                      f"<RequestID>{uuid.uuid4()}</RequestID></Response>", "text/xml")
        else:
            self.send(status, "<ErrorResponse><Error><Type>Sender</Type>"
                      f"<Code>{code}</Code><Message>{message}</Message></Error>"
                      f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>", "text/xml")

    def verify_signature(self, body):
        """Recomputes the SigV4 signature with botocore. Returns None or (code, message)."""
        args = self.server.state.args
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return ("MissingAuthenticationToken", "Request is missing Authentication Token")
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):]
                      .split(","))
        scope = fields.get("Credential", "").split("/")
        if len(scope) != 5 or scope[0] != args.access_key:
            return ("InvalidClientTokenId", "The security token included in the request is invalid")
        signed = fields.get("SignedHeaders", "").split(";")
        request = AWSRequest(method=self.command, url=f"http://{self.headers['Host']}{self.path}",
                             data=body)
        for name in signed:
            value = self.headers.get(name)
            if value is None:
                return ("SignatureDoesNotMatch", f"signed header {name} missing")
            request.headers[name] = value
        amz_date = self.headers.get("X-Amz-Date", "")
        request.context["timestamp"] = amz_date
        # S3 signs its path as sent (no second encoding, no normalisation) and its payload
        # hash from x-amz-content-sha256: botocore's S3SigV4Auth.
        signer = (S3SigV4Auth if scope[3] == "s3" else SigV4Auth)(
            Credentials(args.access_key, args.secret_key,
                        self.headers.get("X-Amz-Security-Token")), scope[3], scope[2])
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        expected = signer.signature(string_to_sign, request)
        if expected != fields.get("Signature"):
            return ("SignatureDoesNotMatch", "The request signature we calculated does not match "
                    "the signature you provided.")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return ("IncompleteSignature", "bad X-Amz-Date")
        if abs((amz_now() + datetime.timedelta(seconds=args.clock_offset) - when)
               .total_seconds()) > 300:
            return ("InvalidSignatureException", "Signature expired: request time too skewed")
        return None

    # ---- dispatch ----

    def handle_any(self, method):
        state = self.server.state
        if self.path.startswith("/__endpoint/"):
            return self.control(method)
        self.arrived = time.monotonic()
        body = self.read_body()
        service, operation, protocol = self.identify(body)
        state.count(f"{service}.{operation}")
        if operation == "LookupEvents":  # every attempt, faulted ones too (pace checks)
            with state.lock:
                state.lookups.append({"at": self.arrived, "request": json.loads(body or b"{}")})
        fault = state.take_fault(operation, body, self.path)
        if not state.args.no_verify:
            problem = self.verify_signature(body)
            if problem:
                with state.lock:
                    state.signature_failures += 1
                return self.error(protocol, 403 if protocol != "json" else 400, problem[0],
                                  problem[1], service)
        if fault:
            if self.inject(fault, protocol, service):
                return
        if operation == "ListProtectedResources":
            return self.list_protected_resources()
        if operation == "LookupEvents":
            return self.lookup_events(body)
        if operation == "ListPublicKeys":
            return self.list_public_keys(body)
        if state.args.synthetic:
            return self.synthetic(service, operation, protocol, body)
        return self.proxy(method, body)

    def date_time_string(self, timestamp=None):
        """The Date header, from a clock that --clock-offset may put ahead (skew tests)."""
        return super().date_time_string(time.time() + self.server.state.args.clock_offset)

    def inject(self, fault, protocol, service):
        """Applies a fault; returns True when the request was answered (or dropped)."""
        kind = fault["kind"]
        throttle_code = {"json": "ThrottlingException", "rest-json": "ThrottlingException",
                         "ec2": "RequestLimitExceeded", "s3": "SlowDown"}.get(protocol,
                                                                             "Throttling")
        if kind == "throttle":
            self.error(protocol, 400 if protocol != "rest-json" else 429, throttle_code,
                       "Rate exceeded", service)
        elif kind == "http500":
            self.error(protocol, 500, "InternalFailure", "We encountered an internal error",
                       service)
        elif kind == "http503":
            self.error(protocol, 503, "ServiceUnavailable", "Service is unavailable", service)
        elif kind == "expired":
            self.error(protocol, 400 if protocol == "json" else 403, "ExpiredTokenException"
                       if protocol == "json" else "ExpiredToken",
                       "The security token included in the request is expired", service)
        elif kind == "denied":
            code = {"json": "AccessDeniedException", "rest-json": "AccessDeniedException",
                    "ec2": "UnauthorizedOperation", "s3": "AccessDenied"}.get(protocol,
                                                                              "AccessDenied")
            self.error(protocol, 400 if protocol == "json" else 403, code,
                       "User: arn:aws:iam::123456789012:user/auditor is not authorized to "
                       "perform this operation", service)
        elif kind == "slow":
            time.sleep(fault.get("slow_ms", 2000) / 1000.0)
            return False
        elif kind == "reset":
            # RST instead of FIN: the client sees a connection reset.
            self.wait_latency()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif kind == "truncated":
            body = b'{"TableNames": ["a", "b", "c"], "this answer is cut short' * 4
            self.wait_latency()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body) * 2))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif kind == "invalid":
            if protocol in ("query", "ec2"):
                self.send(200, "<Response><unclosed>", "text/xml")
            else:
                self.send(200, "{\"TableNames\": [\"a\", ", "application/x-amz-json-1.0")
        else:
            return False
        return True

    def control(self, method):
        state = self.server.state
        if self.path == "/__endpoint/health":
            return self.send(200, "{\"ok\": true}")
        if self.path == "/__endpoint/stats":
            with state.lock:
                return self.send(200, json.dumps({"requests": state.requests,
                                                  "faults_injected": state.faults_injected,
                                                  "signature_failures":
                                                      state.signature_failures}))
        if self.path == "/__endpoint/lookups":
            with state.lock:
                return self.send(200, json.dumps(state.lookups))
        if self.path == "/__endpoint/config" and method == "POST":
            state.configure(json.loads(self.read_body() or b"{}"))
            return self.send(200, "{}")
        return self.send(404, "{}")

    # ---- operations moto lacks ----

    def list_protected_resources(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        start = int(query.get("nextToken", ["0"])[0] or 0)
        page_size = int(query.get("maxResults", ["2"])[0])
        resources = self.server.state.protected_resources
        page = resources[start:start + page_size]
        answer = {"Results": page}
        if start + page_size < len(resources):
            answer["NextToken"] = str(start + page_size)
        self.send(200, json.dumps(answer))

    def lookup_events(self, body):
        state = self.server.state
        request = json.loads(body or b"{}")
        start = int(request.get("NextToken") or 0)
        page_size = min(int(request.get("MaxResults", 50)), 50)
        events = state.events
        # Like CloudTrail: one lookup attribute, and a time range (epoch seconds on the wire),
        # start included, end excluded.
        for attribute in request.get("LookupAttributes", []):
            if attribute.get("AttributeKey") == "EventSource":
                events = [e for e in events
                          if e.get("EventSource") == attribute.get("AttributeValue")]
        if "StartTime" in request:
            events = [e for e in events if e["EventTime"] >= request["StartTime"]]
        if "EndTime" in request:
            events = [e for e in events if e["EventTime"] < request["EndTime"]]
        answer = {"Events": events[start:start + page_size]}
        if start + page_size < len(events):
            answer["NextToken"] = str(start + page_size)
        self.send(200, json.dumps(answer), "application/x-amz-json-1.1")

    def list_public_keys(self, body):
        request = json.loads(body or b"{}")
        start = int(request.get("NextToken") or 0)
        keys = self.server.state.public_keys
        answer = {"PublicKeyList": keys[start:start + 1]}  # one a page: exercises paging
        if start + 1 < len(keys):
            answer["NextToken"] = str(start + 1)
        self.send(200, json.dumps(answer), "application/x-amz-json-1.1")

    # ---- proxy to moto ----

    def proxy(self, method, body):
        upstream = urllib.parse.urlparse(self.server.state.args.upstream)
        conn = getattr(self.server.local, "conn", None)
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
                self.server.local.conn = conn
            try:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive", "accept-encoding")}
                conn.request(method, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = None
                self.server.local.conn = None
                if attempt:
                    return self.send(502, "{\"message\": \"upstream unavailable\"}")
        self.wait_latency()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding",
                                    "keep-alive", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # ---- synthetic account (benchmarks) ----

    def synthetic(self, service, operation, protocol, body):
        region = self.headers.get("Authorization", "").split("Credential=")[1].split("/")[2]
        tables = self.server.state.args.synthetic
        key_arn = f"arn:aws:kms:{region}:{ACCOUNT}:key/00000000-0000-0000-0000-{sum(map(ord, region)):012d}"
        request = json.loads(body or b"{}") if protocol == "json" else {}

        def table_arn(name):
            return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"

        if protocol == "json":
            answer = {}
            if operation == "ListTables":
                names = [f"table-{i:05d}" for i in range(tables)]
                start = request.get("ExclusiveStartTableName")
                begin = names.index(start) + 1 if start in names else 0
                page = names[begin:begin + 100]
                answer = {"TableNames": page}
                if begin + 100 < len(names):
                    answer["LastEvaluatedTableName"] = page[-1]
            elif operation == "DescribeTable":
                name = request["TableName"]
                number = int(name.split("-")[1])
                answer = {"Table": {
                    "TableName": name, "TableArn": table_arn(name), "TableStatus": "ACTIVE",
                    "CreationDateTime": 1700000000.123, "ItemCount": number,
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                    "DeletionProtectionEnabled": number % 2 == 0}}
                if number % 2 == 0:
                    answer["Table"]["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS",
                                                         "KMSMasterKeyArn": key_arn}
            elif operation == "DescribeContinuousBackups":
                answer = {"ContinuousBackupsDescription": {
                    "ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": {
                        "PointInTimeRecoveryStatus": "ENABLED",
                        "EarliestRestorableDateTime": 1700000000,
                        "LatestRestorableDateTime": 1700086400}}}
            elif operation == "DescribeTimeToLive":
                answer = {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
            elif operation == "ListTagsOfResource":
                answer = {"Tags": [{"Key": "owner", "Value": "bench"}]}
            elif operation == "GetResourcePolicy":
                return self.error(protocol, 400, "PolicyNotFoundException",
                                  "Resource-based policy not found", service)
            elif operation == "DescribeKey":
                answer = {"KeyMetadata": {"AWSAccountId": ACCOUNT, "KeyId": key_arn.split("/")[-1],
                                          "Arn": key_arn, "Enabled": True,
                                          "KeyManager": "CUSTOMER", "KeyState": "Enabled",
                                          "CreationDate": 1700000000}}
            elif operation == "GetKeyRotationStatus":
                answer = {"KeyRotationEnabled": True}
            elif operation == "GetKeyPolicy":
                answer = {"Policy": "{\"Version\":\"2012-10-17\"}", "PolicyName": "default"}
            elif operation == "DescribeTrails":
                answer = {"trailList": []}
            elif operation == "DescribeMetricFilters":
                answer = {"metricFilters": []}
            elif operation == "ListRules":
                answer = {"Rules": []}
            elif operation == "DescribeScalableTargets":
                answer = {"ScalableTargets": []}
            elif operation == "DescribeClusters":
                answer = {"Clusters": []}
            version = JSON_PROTOCOL_SERVICES.get(service, "1.1")
            return self.send(200, json.dumps(answer), f"application/x-amz-json-{version}")
        ns = "https://iam.amazonaws.com/doc/2010-05-08/"
        if protocol == "ec2":
            inner = {"DescribeVpcs": "<vpcSet/>", "DescribeVpcEndpoints": "<vpcEndpointSet/>",
                     "DescribeRegions": "<regionInfo/>"}.get(operation, "")
            return self.send(200, f"<{operation}Response xmlns=\"http://ec2.amazonaws.com/doc/"
                             f"2016-11-15/\"><requestId>{uuid.uuid4()}</requestId>{inner}"
                             f"</{operation}Response>", "text/xml")
        inner = {
            "GetCallerIdentity": f"<UserId>AIDAEXAMPLE</UserId><Account>{ACCOUNT}</Account>"
                                 f"<Arn>arn:aws:iam::{ACCOUNT}:user/auditor</Arn>",
            "GetAccountAuthorizationDetails": "<UserDetailList/><GroupDetailList/>"
                                              "<RoleDetailList/><Policies/>"
                                              "<IsTruncated>false</IsTruncated>",
            "GetAccountSummary": "<SummaryMap><entry><key>Users</key><value>1</value></entry>"
                                 "</SummaryMap>",
            "ListSAMLProviders": "<SAMLProviderList/>",
            "ListOpenIDConnectProviders": "<OpenIDConnectProviderList/>",
            "GenerateCredentialReport": "<State>COMPLETE</State>",
            "GetCredentialReport": "<Content>" + base64.b64encode(b"user,arn\n").decode() +
                                   "</Content><ReportFormat>text/csv</ReportFormat>"
                                   "<GeneratedTime>2026-01-01T00:00:00Z</GeneratedTime>",
            "DescribeAlarms": "<MetricAlarms/><CompositeAlarms/>",
        }.get(operation, "")
        return self.send(200, f"<{operation}Response xmlns=\"{ns}\"><{operation}Result>{inner}"
                         f"</{operation}Result><ResponseMetadata><RequestId>{uuid.uuid4()}"
                         f"</RequestId></ResponseMetadata></{operation}Response>", "text/xml")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, state):
        super().__init__(address, Handler)
        self.state = state
        self.local = threading.local()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", default="")
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--synthetic", type=int, default=0,
                        help="answer a generated account with this many tables per region")
    parser.add_argument("--no-verify", action="store_true", help="skip signature checks")
    parser.add_argument("--clock-offset", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), State(args))
    server.serve_forever()


if __name__ == "__main__":
    main()
