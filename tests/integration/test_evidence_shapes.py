#!/usr/bin/env python3
"""Every evidence file has the exact shape AWS CLI v2 prints for its operation.

Walks evidence/sample/ and every tests/data/snapshots/*/ (or the directories named on the command
line or in DDBAUDIT_SHAPES_DIRS, separated by ':'), derives service and operation from each path
of the snapshot layout

    <account>/<region|global>/<service>/<Operation>.json
    <account>/<region>/<service>/<Operation>/<key>.json

and validates the JSON against botocore's current model of the operation's output: unknown keys,
wrong types, values outside an enum, timestamps that are not ISO 8601 with an offset, blobs that are
not base64, pagination tokens left in a merged output, and duplicate JSON keys all fail, naming the
file and the JSON Pointer. A failed call is an empty X.json beside X.err holding the CLI's stderr.

Why the CLI and not the wire: CLI v2 prints timestamps as ISO 8601, blobs as base64, merges all
pages, and (through botocore's after-call handler) decodes IAM's URL-encoded policy documents into
JSON objects. Anything else a collector writes must look the same.

With no directories named, it also runs bench/gen_snapshot.py for 50 tables and checks that output.
When a snapshot has a manifest.json, every evidence file must still match its sealed SHA-256.
Snapshots under tests/data/snapshots/ whose directory name starts with bad-, broken- or invalid-
are deliberately malformed inputs for other tests and are skipped here.

Exit 0 on success, 1 on any failure, 77 when botocore is missing or older than 1.34.
"""

import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
MIN_BOTOCORE = (1, 34)

SERVICES = {
    "dynamodb", "kms", "ec2", "iam", "sts", "cloudtrail", "logs", "cloudwatch", "events",
    "application-autoscaling", "backup", "dax",
}
PATH_RE = re.compile(
    r"^(?P<account>\d{12})/(?P<region>global|[a-z]{2}(?:-[a-z]+)+-\d+)/(?P<service>[a-z0-9-]+)/"
    r"(?P<operation>[A-Z][A-Za-z0-9]*)(?:/(?P<key>[^/]+))?\.json$")
ERR_RE = re.compile(
    r"^\nAn error occurred \((?P<code>[A-Za-z0-9_.:-]+)\) when calling the (?P<operation>[A-Za-z0-9]+)"
    r" operation(?: \(reached max retries: \d+\))?: (?P<message>[^\n]*)\n$")
UUID_RE = re.compile(r"^(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
DELIBERATELY_BROKEN = ("bad-", "broken-", "invalid-")
# Enums where the service's real answer differs from its model only in case: EC2 models a VPC
# endpoint's State as "Available", "PendingAcceptance", ... but returns "available",
# "pendingAcceptance", ... and the CLI prints what the service returned. Keyed by (service, shape).
CASE_INSENSITIVE_ENUMS = {("ec2", "State")}


def escape_pointer(token):
    return str(token).replace("~", "~0").replace("/", "~1")


class DuplicateKey(ValueError):
    pass


def reject_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def parse_timestamp(text):
    """CLI v2 prints datetime.isoformat(): always with a UTC offset."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$", text):
        return None
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


class ShapeValidator:
    """Recursive check of a JSON value against a botocore shape, as the CLI would print it."""

    def __init__(self, service):
        self.service = service

    def validate(self, shape, value, pointer=""):
        errors = []
        self._check(shape, value, pointer, errors)
        return errors

    def _fail(self, errors, pointer, message):
        errors.append(f"{pointer or '/'}: {message}")

    def _check(self, shape, value, pointer, errors):
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                return self._fail(errors, pointer, f"expected object ({shape.name}), got {type(value).__name__}")
            for key, item in value.items():
                member = shape.members.get(key)
                if member is None:
                    self._fail(errors, f"{pointer}/{escape_pointer(key)}",
                               f"unknown key {key!r}: not a member of {shape.name}")
                    continue
                self._check(member, item, f"{pointer}/{escape_pointer(key)}", errors)
        elif kind == "list":
            if not isinstance(value, list):
                return self._fail(errors, pointer, f"expected array ({shape.name}), got {type(value).__name__}")
            for index, item in enumerate(value):
                self._check(shape.member, item, f"{pointer}/{index}", errors)
        elif kind == "map":
            if not isinstance(value, dict):
                return self._fail(errors, pointer, f"expected object ({shape.name}), got {type(value).__name__}")
            for key, item in value.items():
                self._check(shape.key, key, f"{pointer}/{escape_pointer(key)}", errors)
                self._check(shape.value, item, f"{pointer}/{escape_pointer(key)}", errors)
        elif kind == "string":
            if (self.service == "iam" and shape.name == "policyDocumentType"
                    and isinstance(value, dict)):
                return  # botocore's json_decode_policies turns these into objects for the CLI
            if not isinstance(value, str):
                return self._fail(errors, pointer, f"expected string ({shape.name}), got {type(value).__name__}")
            enum = getattr(shape, "enum", None)
            if enum and (self.service, shape.name) in CASE_INSENSITIVE_ENUMS:
                if value.lower() not in {e.lower() for e in enum}:
                    self._fail(errors, pointer, f"{value!r} is not one of {shape.name}'s values {list(enum)}")
            elif enum and value not in enum:
                self._fail(errors, pointer, f"{value!r} is not one of {shape.name}'s values {list(enum)}")
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self._fail(errors, pointer, f"expected {kind} ({shape.name}), got {json.dumps(value)[:40]}")
        elif kind in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._fail(errors, pointer, f"expected {kind} ({shape.name}), got {json.dumps(value)[:40]}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                self._fail(errors, pointer, f"expected boolean ({shape.name}), got {json.dumps(value)[:40]}")
        elif kind == "timestamp":
            if not isinstance(value, str) or parse_timestamp(value) is None:
                self._fail(errors, pointer,
                           f"expected an ISO 8601 timestamp with offset ({shape.name}), got {json.dumps(value)[:60]}")
        elif kind == "blob":
            if not isinstance(value, str):
                return self._fail(errors, pointer, f"expected base64 string ({shape.name}), got {type(value).__name__}")
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                self._fail(errors, pointer, f"not valid base64 ({shape.name})")
        elif kind == "document":
            pass
        else:
            self._fail(errors, pointer, f"shape type {kind} is not handled by this test")


class Checker:
    def __init__(self, session):
        self.session = session
        self.models = {}
        self.paginators = {}
        self.failures = []
        self.files = 0
        self.err_files = 0
        self.operations = set()
        self.skipped = []
        self.failing_paths = set()

    def model(self, service):
        if service not in self.models:
            self.models[service] = self.session.get_service_model(service)
            try:
                self.paginators[service] = self.session.get_paginator_model(service)
            except Exception:  # a service with no paginators
                self.paginators[service] = None
        return self.models[service]

    def fail(self, path, message):
        self.failures.append(f"{path}: {message}")
        self.failing_paths.add(path)

    def pagination_tokens(self, service, operation):
        paginator_model = self.paginators.get(service)
        if paginator_model is None:
            return []
        try:
            config = paginator_model.get_paginator(operation)
        except ValueError:
            return []
        tokens = config.get("output_token", [])
        tokens = tokens if isinstance(tokens, list) else [tokens]
        more = config.get("more_results")
        if more:
            tokens.append(more)
        # "Marker" in a jmespath like "Marker || NextToken" names both
        return [t.strip() for token in tokens for t in token.split("||")]

    # --- one snapshot ------------------------------------------------------------------------
    def check_snapshot(self, root, complete):
        layout_files = {}
        for directory, subdirs, names in os.walk(root):
            subdirs.sort()
            rel_dir = os.path.relpath(directory, root)
            parts = [] if rel_dir == "." else rel_dir.split(os.sep)
            if "raw" in parts:
                continue
            for name in sorted(names):
                rel = "/".join(parts + [name])
                if name.endswith(".json"):
                    match = PATH_RE.match(rel)
                    if match and match["service"] in SERVICES:
                        layout_files[rel] = match
                    elif rel != "manifest.json":
                        self.skipped.append(os.path.join(root, rel))
                elif name.endswith(".err"):
                    self.check_err(root, rel)
        for rel, match in layout_files.items():
            self.check_file(root, rel, match)
        if os.path.exists(os.path.join(root, "manifest.json")):
            self.check_manifest(root, layout_files)
        if complete:
            self.check_complete(root, layout_files)

    def check_err(self, root, rel):
        path = os.path.join(root, rel)
        json_rel = rel[:-4] + ".json"
        match = PATH_RE.match(json_rel)
        if not match:
            return self.fail(path, "error capture outside the snapshot layout")
        self.err_files += 1
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        parsed = ERR_RE.match(text)
        if not parsed:
            return self.fail(path, "not a CLI error line: expected '\\nAn error occurred (Code) when calling "
                                   "the Operation operation: message\\n'")
        if parsed["operation"] != match["operation"]:
            self.fail(path, f"error names operation {parsed['operation']}, path says {match['operation']}")
        if match["key"] and match["service"] == "dynamodb":
            table, _, suffix = match["key"].partition("@")
            table_arn = f"arn:aws:dynamodb:{match['region']}:{match['account']}:table/{table}"
            for arn in re.findall(r"arn:aws:dynamodb:[^\s,;]*", parsed["message"]):
                arn = arn.rstrip(".")
                expected = table_arn + "/stream/" if suffix else table_arn
                if not (arn == expected or (suffix and arn.startswith(expected))):
                    self.fail(path, f"error names {arn}, path says {expected}{'…' if suffix else ''}")
        json_path = os.path.join(root, json_rel)
        if not os.path.exists(json_path):
            self.fail(path, f"no {os.path.basename(json_rel)} beside it (the CLI's redirect creates it empty)")
        elif os.path.getsize(json_path) != 0:
            self.fail(path, f"{os.path.basename(json_rel)} beside it is not empty")

    def check_file(self, root, rel, match):
        path = os.path.join(root, rel)
        service, operation, key = match["service"], match["operation"], match["key"]
        size = os.path.getsize(path)
        if size == 0:
            if not os.path.exists(path[:-5] + ".err"):
                self.fail(path, "empty output without a .err beside it")
            return
        model = self.model(service)
        if operation not in model.operation_names:
            return self.fail(path, f"{service} has no operation {operation}")
        if service in ("iam", "sts") and match["region"] != "global":
            self.fail(path, f"{service} evidence belongs under 'global', not {match['region']}")
        if service not in ("iam", "sts") and match["region"] == "global":
            self.fail(path, f"{service} is regional: 'global' is for iam and sts")
        with open(path, "rb") as handle:
            raw = handle.read()
        try:
            document = json.loads(raw.decode("utf-8"), object_pairs_hook=reject_duplicates)
        except (UnicodeDecodeError, ValueError) as error:
            return self.fail(path, f"not JSON: {error}")
        self.files += 1
        self.operations.add(f"{service}:{operation}")
        output_shape = model.operation_model(operation).output_shape
        if output_shape is None:
            if document != {}:
                self.fail(path, f"{operation} has no output, expected {{}}")
            return
        for error in ShapeValidator(service).validate(output_shape, document):
            self.fail(path, error)
        if isinstance(document, dict):
            for token in self.pagination_tokens(service, operation):
                if token in document:
                    self.fail(path, f"/{token}: pagination token left in output (merge all pages)")
            self.check_key(path, match, document)

    # --- a sealed snapshot's manifest still describes its files ----------------------------------
    def check_manifest(self, root, layout_files):
        """Editing an evidence file after `ddbaudit evidence seal` makes the report refuse it."""
        path = os.path.join(root, "manifest.json")
        try:
            with open(path, encoding="utf-8") as handle:
                calls = json.load(handle).get("calls", [])
        except (OSError, ValueError, AttributeError) as error:
            return self.fail(path, f"unreadable manifest: {error}")
        sealed = {c["path"]: c for c in calls if isinstance(c, dict) and c.get("path")}
        failed = {(c.get("region"), c.get("service"), c.get("operation"), c.get("key"))
                  for c in calls if isinstance(c, dict) and not c.get("path")}
        hint = "; reseal with `ddbaudit evidence seal`"
        for rel, match in sorted(layout_files.items()):
            full = os.path.join(root, rel)
            if os.path.getsize(full) == 0:
                if (match["region"], match["service"], match["operation"], match["key"]) not in failed:
                    self.fail(full, f"failed call is not in manifest.json{hint}")
                continue
            entry = sealed.get(rel)
            if entry is None:
                self.fail(full, f"not in manifest.json{hint}")
                continue
            with open(full, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            if entry.get("sha256") != digest:
                self.fail(full, f"changed after sealing (manifest sha256 {str(entry.get('sha256'))[:12]}…, "
                                f"file {digest[:12]}…){hint}")
        for rel in sorted(set(sealed) - set(layout_files)):
            self.fail(os.path.join(root, rel), f"listed in manifest.json but missing{hint}")

    # --- the per-resource key in the path matches the content -----------------------------------
    def check_key(self, path, match, document):
        service, operation, key = match["service"], match["operation"], match["key"]
        account, region = match["account"], match["region"]
        if key is None:
            return
        if service == "dynamodb":
            table, _, suffix = key.partition("@")
            if suffix not in ("", "stream"):
                return self.fail(path, f"key {key!r}: the only suffix is @stream")
            if suffix and operation != "GetResourcePolicy":
                return self.fail(path, f"key {key!r}: @stream is only for GetResourcePolicy")
            if not re.match(r"^[A-Za-z0-9_.-]{3,255}$", table):
                return self.fail(path, f"key {key!r} is not a table name")
            if operation == "DescribeTable":
                described = document.get("Table", {})
                if described.get("TableName") != table:
                    self.fail(path, f"/Table/TableName is {described.get('TableName')!r}, path says {table!r}")
                arn = described.get("TableArn")
                expected = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
                if arn is not None and arn != expected:
                    self.fail(path, f"/Table/TableArn is {arn!r}, expected {expected!r}")
            elif operation == "GetResourcePolicy" and "Policy" in document:
                self.check_policy_resources(path, document["Policy"], account, region, table, bool(suffix))
        elif service == "kms":
            if not UUID_RE.match(key):
                return self.fail(path, f"key {key!r} is not a KMS key id")
            if operation == "DescribeKey":
                metadata = document.get("KeyMetadata", {})
                if metadata.get("KeyId") != key:
                    self.fail(path, f"/KeyMetadata/KeyId is {metadata.get('KeyId')!r}, path says {key!r}")
                expected = f"arn:aws:kms:{region}:{account}:key/{key}"
                if metadata.get("Arn") not in (None, expected):
                    self.fail(path, f"/KeyMetadata/Arn is {metadata.get('Arn')!r}, expected {expected!r}")
            elif operation == "GetKeyRotationStatus" and "KeyId" in document:
                if not document["KeyId"].endswith(key):
                    self.fail(path, f"/KeyId is {document['KeyId']!r}, path says {key!r}")
            elif operation == "GetKeyPolicy" and "Policy" in document:
                try:
                    json.loads(document["Policy"])
                except (TypeError, ValueError):
                    self.fail(path, "/Policy is not a JSON policy document")
        elif service == "cloudtrail" and operation == "GetEventSelectors":
            arn = document.get("TrailARN", "")
            if not arn.endswith(f":trail/{key}"):
                self.fail(path, f"/TrailARN is {arn!r}, path says trail {key!r}")

    def check_policy_resources(self, path, text, account, region, table, stream):
        try:
            policy = json.loads(text)
        except (TypeError, ValueError):
            return self.fail(path, "/Policy is not a JSON policy document")
        table_arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
        statements = policy.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        for index, statement in enumerate(statements):
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            for resource in resources:
                if stream:
                    good = resource.startswith(table_arn + "/stream/")
                else:
                    good = resource == table_arn or resource.startswith(table_arn + "/index/")
                if not good:
                    self.fail(path, f"/Policy Statement[{index}] Resource {resource!r} is not "
                                    f"{'a stream of ' if stream else ''}{table_arn}")

    # --- cross-file completeness, for snapshots meant to be complete ----------------------------
    def check_complete(self, root, layout_files):
        def exists(rel):
            return rel in layout_files or os.path.exists(os.path.join(root, rel))

        for rel, match in layout_files.items():
            if match["service"] != "dynamodb" or match["operation"] != "ListTables":
                continue
            base = f"{match['account']}/{match['region']}"
            with open(os.path.join(root, rel), encoding="utf-8") as handle:
                tables = json.load(handle).get("TableNames", [])
            if tables != sorted(tables):
                self.fail(os.path.join(root, rel), "/TableNames is not in the order DynamoDB returns (sorted)")
            for table in tables:
                for operation in ("DescribeTable", "DescribeContinuousBackups", "DescribeTimeToLive",
                                  "ListTagsOfResource", "GetResourcePolicy"):
                    wanted = f"{base}/dynamodb/{operation}/{table}.json"
                    if not exists(wanted):
                        self.fail(os.path.join(root, wanted), f"missing: table {table} is in ListTables")
                described_path = os.path.join(root, f"{base}/dynamodb/DescribeTable/{table}.json")
                if not os.path.exists(described_path) or os.path.getsize(described_path) == 0:
                    continue
                with open(described_path, encoding="utf-8") as handle:
                    described = json.load(handle)["Table"]
                stream_arn = described.get("LatestStreamArn")
                stream_stem = os.path.join(root, f"{base}/dynamodb/GetResourcePolicy/{table}@stream")
                if stream_arn and not (os.path.exists(stream_stem + ".json") or os.path.exists(stream_stem + ".err")):
                    self.fail(stream_stem + ".json", f"missing: table {table} has stream {stream_arn}")
                for ext in (".json", ".err"):
                    if not os.path.exists(stream_stem + ext) or os.path.getsize(stream_stem + ext) == 0:
                        continue
                    with open(stream_stem + ext, encoding="utf-8") as handle:
                        text = handle.read()
                    if not stream_arn:
                        self.fail(stream_stem + ext, f"table {table} has no stream (no LatestStreamArn)")
                    elif ext == ".err" and stream_arn not in text:
                        self.fail(stream_stem + ext, f"error does not name the table's stream {stream_arn}")
                    elif ext == ".json" and stream_arn not in json.loads(text).get("Policy", ""):
                        self.fail(stream_stem + ext, f"policy does not name the table's stream {stream_arn}")
                arn = described.get("SSEDescription", {}).get("KMSMasterKeyArn")
                if arn:
                    key_id = arn.rsplit("/", 1)[-1]
                    for operation in ("DescribeKey", "GetKeyRotationStatus", "GetKeyPolicy"):
                        wanted = f"{base}/kms/{operation}/{key_id}.json"
                        if not exists(wanted):
                            self.fail(os.path.join(root, wanted), f"missing: table {table} uses key {key_id}")
            described_dir = os.path.join(root, base, "dynamodb", "DescribeTable")
            if os.path.isdir(described_dir):
                for name in sorted(os.listdir(described_dir)):
                    if name.endswith(".json") and name[:-5] not in tables:
                        self.fail(os.path.join(described_dir, name), "table is not in ListTables")


def negative_self_test(session):
    """The validator must reject a broken document; otherwise a pass means nothing."""
    model = session.get_service_model("dynamodb")
    shape = model.operation_model("DescribeTable").output_shape
    broken = {
        "Table": {
            "TableName": "orders",
            "TableStatus": "ACTIVE",
            "SSEDescription": {"Status": "ENABLED", "SSEType": "CMK"},  # wrong enum
            "CreationDateTime": 1700000000.5,  # wire format, not what the CLI prints
            "Encrypted": True,  # unknown key
        }
    }
    errors = ShapeValidator("dynamodb").validate(shape, broken)
    wanted = {
        "/Table/Encrypted": "unknown key",
        "/Table/SSEDescription/SSEType": "is not one of",
        "/Table/CreationDateTime": "ISO 8601",
    }
    missing = [pointer for pointer, text in wanted.items()
               if not any(e.startswith(pointer + ":") and text in e for e in errors)]
    if missing or len(errors) != len(wanted):
        return [f"negative self-test: expected exactly {sorted(wanted)} rejected, got {errors}"]
    good = {"Table": {"TableName": "orders", "TableStatus": "ACTIVE",
                      "CreationDateTime": "2026-03-14T09:12:44.512000+00:00",
                      "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS"}}}
    errors = ShapeValidator("dynamodb").validate(shape, good)
    if errors:
        return [f"negative self-test: a valid document was rejected: {errors}"]
    iam = session.get_service_model("iam").operation_model("GetCredentialReport").output_shape
    errors = ShapeValidator("iam").validate(iam, {"Content": "not base64!", "ReportFormat": "text/xml"})
    if len(errors) != 2:
        return [f"negative self-test: bad blob and enum in GetCredentialReport not both rejected: {errors}"]
    probe = Checker(session)
    match = PATH_RE.match("111122223333/eu-west-1/dynamodb/DescribeTable/orders.json")
    probe.check_key("probe", match, {"Table": {"TableName": "order",
                                               "TableArn": "arn:aws:dynamodb:eu-west-1:111122223333:table/order"}})
    if len(probe.failures) != 2:
        return [f"negative self-test: a DescribeTable for another table was not rejected: {probe.failures}"]
    if ERR_RE.match("An error occurred: something\n") or not ERR_RE.match(
            "\nAn error occurred (AccessDeniedException) when calling the GetResourcePolicy operation: no\n"):
        return ["negative self-test: the .err pattern accepts or rejects the wrong text"]
    return []


def main(argv):
    try:
        import botocore
        import botocore.session
    except ImportError:
        print("SKIP: python3 has no botocore (pip install botocore>=1.34)")
        return SKIP
    version = tuple(int(p) for p in re.findall(r"\d+", botocore.__version__)[:2])
    if version < MIN_BOTOCORE:
        print(f"SKIP: botocore {botocore.__version__} is older than 1.34 and lacks current DynamoDB "
              "fields (DeletionProtectionEnabled, GetResourcePolicy, ...)")
        return SKIP

    source = os.environ.get("DDBAUDIT_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))
    explicit = [a for a in argv[1:] if a] or [
        d for d in os.environ.get("DDBAUDIT_SHAPES_DIRS", "").split(":") if d]
    snapshots = []  # (path, complete)
    if explicit:
        snapshots = [(os.path.abspath(d), True) for d in explicit]
    else:
        snapshots.append((os.path.join(source, "evidence", "sample"), True))
        data = os.path.join(source, "tests", "data", "snapshots")
        if os.path.isdir(data):
            for name in sorted(os.listdir(data)):
                path = os.path.join(data, name)
                if not os.path.isdir(path):
                    continue
                if name.startswith(DELIBERATELY_BROKEN):
                    print(f"skip {os.path.relpath(path, source)}: deliberately broken input")
                    continue
                snapshots.append((path, False))

    generated = None
    generator = os.path.join(source, "bench", "gen_snapshot.py")
    if not explicit and os.path.exists(generator):
        # the benchmark's synthetic snapshots must be as CLI-shaped as the sample
        generated = tempfile.TemporaryDirectory(prefix="ddbaudit-shapes-")
        out = os.path.join(generated.name, "snapshot")
        subprocess.run([sys.executable, generator, "--tables", "50", "--out", out, "--jobs", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        snapshots.append((out, True))

    session = botocore.session.get_session()
    checker = Checker(session)
    self_test_failures = negative_self_test(session)
    checker.failures.extend(self_test_failures)
    for path, complete in snapshots:
        if not os.path.isdir(path):
            checker.fail(path, "no such snapshot directory")
            continue
        before = checker.files + checker.err_files
        checker.check_snapshot(path, complete)
        print(f"checked {path}: {checker.files + checker.err_files - before} evidence files")

    for failure in checker.failures:
        print(f"FAIL {failure}")
    services = sorted({op.split(':')[0] for op in checker.operations})
    print(f"botocore {botocore.__version__}: {checker.files} JSON files and {checker.err_files} error "
          f"captures in {len(snapshots)} snapshot(s); {len(checker.operations)} operations across "
          f"{len(services)} services ({', '.join(services)}); {len(checker.skipped)} non-evidence files skipped")
    if checker.files == 0 and not checker.failures:
        print("FAIL: no evidence files found")
        return 1
    failed = len(checker.failing_paths) + (1 if self_test_failures else 0)
    passed = max(checker.files + checker.err_files - len(checker.failing_paths), 0) + (0 if self_test_failures else 1)
    print(f"{passed} passed, {failed} failed")
    if generated is not None:
        generated.cleanup()
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
