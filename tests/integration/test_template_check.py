#!/usr/bin/env python3
"""`ddbaudit report --template` end to end, on the templates in tests/data/cfn/.

- statuses per control and resource for every property path (SSE off, AWS managed key, a CMK
  from the same template with and without rotation, an imported key, PITR on/off, deletion
  protection, missing tags, provisioned with and without scalable targets, global table
  replicas with per-replica SSE, a SAM simple table, a default VPC endpoint policy);
- live-only controls are not_applicable and say so;
- every finding cites template:line:col;
- --fail-on exit codes; --parameters (both the CLI's list and the region/account placeholders);
- malformed templates (bad YAML, unknown intrinsic in YAML and JSON, circular Ref) exit 3 with
  file:line:col and write nothing;
- report.json validates against docs/schema/report.schema.json, and the SARIF log against the
  SARIF 2.1.0 schema in $DDBAUDIT_SHARED_DIR/testdata/sarif
  (needs python3's jsonschema) and is deterministic;
- cfn-lint confirms the good templates are valid CloudFormation.

Exits 77 (skipped) when an optional tool (jsonschema, cfn-lint, the SARIF schema) is missing,
after the checks that do not need it have passed, naming what was skipped.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
SOURCE = os.environ.get("DDBAUDIT_SOURCE_DIR", os.getcwd())
BIN = os.environ.get("DDBAUDIT_BIN", os.path.join(SOURCE, "build", "ddbaudit"))
SHARED = os.environ.get("DDBAUDIT_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
DATA = "tests/data/cfn"  # relative: SARIF URIs and citations are relative to the cwd

LIVE_ONLY = ["DDB-01", "DDB-02", "DDB-03", "DDB-05", "DDB-06", "DDB-07", "DDB-09", "DDB-10",
             "DDB-14", "DDB-15", "DDB-16", "DDB-17", "DDB-22"]

failures = []
skipped = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def run(*args, expect=None):
    result = subprocess.run([BIN, "report", *args], cwd=SOURCE, capture_output=True, text=True)
    if expect is not None and result.returncode != expect:
        fail(f"{' '.join(args)}: exit {result.returncode}, want {expect}\n{result.stderr}")
    return result


def report(templates, out, *extra, formats="json,sarif", expect=0):
    args = []
    for t in templates:
        args += ["--template", f"{DATA}/{t}"]
    run(*args, "--out", out, "--format", formats, "--as-of", "2026-11-23", *extra, expect=expect)
    with open(os.path.join(SOURCE, out, "report.json")) as f:
        return json.load(f)


def findings(rep):
    """{(control, resource suffix): finding}"""
    out = {}
    for control in rep["controls"]:
        for f in control["findings"]:
            out[(control["id"], f["resource"].rsplit("/", 1)[-1], f["resource"])] = f
    return out


def expect_status(rep, control, resource_end, status, line=None, label=""):
    matches = [f for c in rep["controls"] if c["id"] == control for f in c["findings"]
               if f["resource"].endswith(resource_end)]
    if not matches:
        fail(f"{label}{control} {resource_end}: no finding")
        return
    f = matches[0]
    if f["status"] != status:
        fail(f"{label}{control} {resource_end}: {f['status']} ({f['reason']}), want {status}")
    lines = [e.get("location", {}).get("line") for e in f["evidence"]]
    if not all(lines):
        fail(f"{label}{control} {resource_end}: a citation without a template location {lines}")
    if line is not None and line not in lines:
        fail(f"{label}{control} {resource_end}: cites lines {lines}, want {line}")


def control_status(rep, control):
    return next(c for c in rep["controls"] if c["id"] == control)


def check_tables(tmp):
    rep = report(["tables.yaml"], f"{tmp}/tables")
    label = "tables.yaml "
    cases = [
        # control, resource, status, template line of the cause
        ("DDB-04", "table/prod-orders", "pass", 61),      # CMK from the template
        ("DDB-04", "table/legacy", "pass", 101),          # CMK via !Ref
        ("DDB-04", "table/plain", "remediate", 125),      # SSE off on Confidential data
        ("DDB-04", "table/managed", "pass", 164),         # AWS managed key
        ("DDB-04", "table/imported-key", "review", 183),  # Fn::ImportValue: never Pass
        ("DDB-13", "key/OrdersKey", "pass", 21),          # rotation on
        ("DDB-13", "key/LegacyKey", "remediate", 32),     # rotation off (absent)
        ("DDB-13", "key/unresolved-imported-key", "review", 183),
        ("DDB-19", "table/prod-orders", "pass", 63),
        ("DDB-19", "table/legacy", "remediate", 103),
        ("DDB-20", "table/prod-orders", "pass", 64),
        ("DDB-20", "table/legacy", "remediate", None),
        ("DDB-21", "table/prod-orders", "pass", 75),
        ("DDB-21", "table/legacy", "remediate", 104),
        ("DDB-23", "table/plain", "pass", 120),           # scalable targets for both
        ("DDB-23", "table/legacy", "remediate", None),    # provisioned, no targets
        ("DDB-23", "table/prod-orders", "pass", 51),
        ("DDB-11", "table/prod-orders", "pass", 66),      # resource policy, this account only
        ("DDB-08", "vpc/AppVpc", "pass", None),
        ("DDB-12", "vpc-endpoint/DynamoDBEndpoint", "remediate", 230),
    ]
    for control, resource, status, line in cases:
        expect_status(rep, control, resource, status, line, label)
    for control in LIVE_ONLY:
        c = control_status(rep, control)
        if c["status"] != "not_applicable" or "only live evidence" not in c["reason"]:
            fail(f"{label}{control}: {c['status']} ({c['reason']}), want not_applicable, saying why")
    imported = [f for c in rep["controls"] if c["id"] == "DDB-04" for f in c["findings"]
                if f["resource"].endswith("imported-key")][0]
    if "Fn::ImportValue 'shared-kms-key-arn'" not in imported["reason"]:
        fail(f"{label}DDB-04 imported-key: the reason does not name the import: {imported['reason']}")
    if rep["inputs"]["account"] != "123456789012" or rep["inputs"]["regions"] != ["us-east-1"]:
        fail(f"{label}placeholders: {rep['inputs']['account']} {rep['inputs']['regions']}")
    # Gates for CI.
    run("--template", f"{DATA}/tables.yaml", "--out", f"{tmp}/gate", "--format", "json",
        "--fail-on", "remediate", expect=1)
    run("--template", f"{DATA}/clean.yaml", "--out", f"{tmp}/gate", "--format", "json",
        "--fail-on", "review", expect=0)
    run("--template", f"{DATA}/tables.yaml", "--evidence", "evidence/sample", expect=2)
    return rep


def check_global_and_sam(tmp):
    rep = report(["global.json"], f"{tmp}/global")
    label = "global.json "
    if rep["inputs"]["regions"] != ["eu-west-1", "us-east-1"]:
        fail(f"{label}regions {rep['inputs']['regions']}")
    cases = [
        ("DDB-04", "us-east-1:123456789012:table/events", "pass", 41),    # replica CMK
        ("DDB-04", "eu-west-1:123456789012:table/events", "review", 59),  # key from outside
        ("DDB-18", "us-east-1:123456789012:table/events", "pass", None),
        ("DDB-18", "eu-west-1:123456789012:table/events", "review", 59),
        ("DDB-19", "us-east-1:123456789012:table/events", "pass", 42),
        ("DDB-19", "eu-west-1:123456789012:table/events", "remediate", 60),
        ("DDB-21", "eu-west-1:123456789012:table/events", "remediate", 62),
        ("DDB-23", "us-east-1:123456789012:table/events", "pass", None),
        ("DDB-23", "eu-west-1:123456789012:table/events", "remediate", None),  # fixed reads
    ]
    for control, resource, status, line in cases:
        expect_status(rep, control, resource, status, line, label)

    rep = report(["simple-table.yaml"], f"{tmp}/sam")
    label = "simple-table.yaml "
    for control, resource, status, line in [("DDB-04", "table/sessions", "pass", 14),
                                            ("DDB-21", "table/sessions", "pass", 15),
                                            ("DDB-23", "table/sessions", "pass", None),
                                            ("DDB-19", "table/sessions", "remediate", 6)]:
        expect_status(rep, control, resource, status, line, label)

    # Several templates in one run, with parameters that move the placeholders.
    rep = report(["tables.yaml", "simple-table.yaml"], f"{tmp}/params", "--parameters",
                 f"{DATA}/parameters.json")
    label = "--parameters "
    if rep["inputs"]["account"] != "111122223333" or rep["inputs"]["regions"] != ["eu-central-1"]:
        fail(f"{label}placeholders: {rep['inputs']['account']} {rep['inputs']['regions']}")
    expect_status(rep, "DDB-19", "eu-central-1:111122223333:table/dev-orders", "remediate", 63,
                  label)  # IsProd is false for Environment=dev
    expect_status(rep, "DDB-21", "table/sessions", "pass", None, label)


def check_malformed(tmp):
    cases = [
        ("bad-yaml.yaml", f"{DATA}/bad-yaml.yaml:7:6: error: invalid YAML: did not find expected key"),
        ("unknown-intrinsic.yaml",
         f"{DATA}/unknown-intrinsic.yaml:6:18: error: unknown intrinsic function '!Concat'"),
        ("unknown-intrinsic.json",
         f"{DATA}/unknown-intrinsic.json:6:22: error: unknown intrinsic function 'Fn::Concat'"),
        ("circular-ref.yaml",
         f"{DATA}/circular-ref.yaml:17:31: error: circular dependency: First → Second → First"),
    ]
    for name, message in cases:
        out = f"{tmp}/bad-{name}"
        result = run("--template", f"{DATA}/{name}", "--out", out, expect=3)
        if message not in result.stderr:
            fail(f"{name}: stderr lacks '{message}':\n{result.stderr}")
        if "^" not in result.stderr:
            fail(f"{name}: no caret under the offending text:\n{result.stderr}")
        if os.path.exists(os.path.join(SOURCE, out)):
            fail(f"{name}: wrote {out} although the template is invalid")
    # Every bad template in one run: each error is reported.
    result = run(*sum((["--template", f"{DATA}/{n}"] for n, _ in cases), []), "--out",
                 f"{tmp}/bad-all", expect=3)
    for _, message in cases:
        if message not in result.stderr:
            fail(f"all bad templates: stderr lacks '{message}'")


def check_sarif(tmp):
    path = os.path.join(SOURCE, tmp, "tables", "report.sarif")
    with open(path, "rb") as f:
        first = f.read()
    report(["tables.yaml"], f"{tmp}/again")
    with open(os.path.join(SOURCE, tmp, "again", "report.sarif"), "rb") as f:
        if f.read() != first:
            fail("SARIF differs between two runs on the same inputs")
    log = json.loads(first)
    run_ = log["runs"][0]
    rules = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    if rules[:2] != ["DDB-01", "DDB-02"] or len(rules) != 25:
        fail(f"SARIF rules: {rules}")
    levels = {(r["ruleId"], r["properties"]["resource"].rsplit("/", 1)[-1]): r for r in run_["results"]}
    plain = levels.get(("DDB-04", "plain"))
    if not plain or plain["level"] != "error":
        fail(f"SARIF: DDB-04 plain should be an error: {plain}")
    else:
        loc = plain["locations"][0]["physicalLocation"]
        if loc["artifactLocation"]["uri"] != f"{DATA}/tables.yaml" or \
                loc["region"] != {"startLine": 125, "startColumn": 9}:
            fail(f"SARIF: DDB-04 plain at {loc}")
    imported = levels.get(("DDB-04", "imported-key"))
    if not imported or imported["level"] != "warning":
        fail(f"SARIF: DDB-04 imported-key should be a warning: {imported}")
    if any(r["properties"]["status"] not in ("remediate", "review") for r in run_["results"]):
        fail("SARIF: a result that is neither remediate nor review")

    schema_path = os.path.join(SHARED, "testdata", "sarif", "sarif-schema-2.1.0.json")
    try:
        import jsonschema
    except ImportError:
        skipped.append("SARIF schema validation: python3 has no jsonschema module")
        return
    if not os.path.exists(schema_path):
        skipped.append(f"SARIF schema validation: no schema at {schema_path}")
        return
    with open(schema_path) as f:
        schema = json.load(f)
    # report.json with template locations is still a report (docs/schema/report.schema.json).
    with open(os.path.join(SOURCE, "docs", "schema", "report.schema.json")) as f:
        report_schema = json.load(f)
    for name in ("tables", "global", "sam"):
        with open(os.path.join(SOURCE, tmp, name, "report.json")) as f:
            try:
                jsonschema.validate(json.load(f), report_schema)
            except jsonschema.ValidationError as e:
                fail(f"report.json for {name} breaks report.schema.json: {e.message} at "
                     f"{list(e.path)}")
    for name in ("tables", "global", "sam"):
        with open(os.path.join(SOURCE, tmp, name, "report.sarif")) as f:
            try:
                jsonschema.validate(json.load(f), schema)
            except jsonschema.ValidationError as e:
                fail(f"SARIF for {name} is not valid SARIF 2.1.0: {e.message} at {list(e.path)}")


def check_cfn_lint():
    lint = shutil.which("cfn-lint")
    if not lint:
        skipped.append("cfn-lint validation: cfn-lint is not on PATH")
        return
    for name in ("tables.yaml", "global.json", "simple-table.yaml", "clean.yaml"):
        result = subprocess.run([lint, f"{DATA}/{name}"], cwd=SOURCE, capture_output=True,
                                text=True)
        if result.returncode & 2:  # bit 2: errors (4 warnings, 8 informational)
            fail(f"cfn-lint rejects {name}:\n{result.stdout}{result.stderr}")


def main():
    if not os.access(BIN, os.X_OK):
        print(f"skip: no ddbaudit binary at {BIN}")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="template-check-", dir=os.path.join(SOURCE, "output")
                           if os.path.isdir(os.path.join(SOURCE, "output")) else None)
    tmp_rel = os.path.relpath(tmp, SOURCE)
    try:
        check_tables(tmp_rel)
        check_global_and_sam(tmp_rel)
        check_malformed(tmp_rel)
        check_sarif(tmp_rel)
        check_cfn_lint()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    if skipped:
        for reason in skipped:
            print("skip:", reason)
        return SKIP
    print("ok: templates judged, gated, located, and emitted as valid SARIF")
    return 0


if __name__ == "__main__":
    sys.exit(main())
