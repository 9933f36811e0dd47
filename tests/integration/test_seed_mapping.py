#!/usr/bin/env python3
"""Check that the control catalog (controls/*.yaml) covers every row of the seed documents.

The catalog is what auditors read, and it was derived from two seeds in ../shared/seeds:

  004_*.txt  an HTML security-controls matrix (10 numbered rows), followed by a "Security Need"
             table that the export split into two HTML tables; the second table's header row
             ("Encryption of data in-transit") is a data row, not column headings.
  000_*.txt  best practices as plain text: practice headings under the detective and preventive
             sections, then CloudFormation "Design Guidance:" blocks.

Row numbering, as used by each control's `sources` entries:
  matrix         the number in the first cell (1..10); the label is the second cell.
  security-need  1-based, in document order across both HTML tables, counting the second
                 table's header row; the label is the first cell.
  best-practices 1-based: the practice headings in document order, then one row per
                 "Design Guidance:" block, labelled by the block's first property line with the
                 table residue ("| ||") removed.

Skips (exit 77) when PyYAML is missing or the seeds are not available.
"""

import glob
import html.parser
import os
import re
import sys

SKIP = 77

CHECKS = {
    "attested_certification", "identity_authentication", "identity_least_privilege",
    "table_encryption_at_rest", "transport_encryption", "attested_inherited", "csp_access",
    "vpc_endpoints", "derived_worst", "resource_policy_isolation", "vpc_endpoint_policy",
    "kms_key_management", "admin_access", "federated_identities", "cloudtrail_auditing",
    "alerting", "global_table_replication", "point_in_time_recovery",
    "backups_deletion_protection", "required_tags", "data_plane_monitoring",
    "capacity_management", "client_side_encryption", "dax_encryption",
}

OPERATIONS = {
    "sts:GetCallerIdentity",
    "dynamodb:ListTables", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups",
    "dynamodb:ListTagsOfResource", "dynamodb:DescribeTimeToLive", "dynamodb:GetResourcePolicy",
    "kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy",
    "ec2:DescribeVpcs", "ec2:DescribeVpcEndpoints",
    "iam:GetAccountAuthorizationDetails", "iam:GetAccountSummary", "iam:ListSAMLProviders",
    "iam:ListOpenIDConnectProviders", "iam:GetCredentialReport",
    "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
    "cloudtrail:LookupEvents",
    "logs:DescribeMetricFilters", "cloudwatch:DescribeAlarms",
    "events:ListRules", "events:ListTargetsByRule",
    "application-autoscaling:DescribeScalableTargets", "backup:ListProtectedResources",
    "dax:DescribeClusters",
}

RESOURCES = {"account", "region", "table", "key", "vpc", "trail", "dax-cluster"}
STATUSES = {"pass", "review", "remediate"}
TABLES_BY_SEED = {"004": {"matrix", "security-need"}, "000": {"best-practices"}}
REQUIRED_KEYS = ("id", "title", "sources", "objective", "vendor_status", "vendor_notes",
                 "references", "evidence", "applies_to", "rule")
CONTROL_COUNT = 25

# The practice headings of 000, in order. They are also detected by shape below; if the two
# disagree the seed has changed and the catalog needs a look.
PRACTICE_HEADINGS = [
    "Use AWS CloudTrail to monitor AWS managed KMS key usage",
    "Monitor DynamoDB operations using CloudTrail",
    "Use DynamoDB Streams to monitor data plane operations",
    "Tag your DynamoDB resources for identification and automation",
    "Encryption at rest",
    "Use IAM roles to authenticate access to DynamoDB",
    "Use IAM policies for DynamoDB base authorization",
    "Use IAM policy conditions for fine-grained access control",
    "Use a VPC endpoint and policies to access DynamoDB",
    "Consider client-side encryption",
]


def normalize(text):
    return re.sub(r"\s+", " ", text).strip()


class TableParser(html.parser.HTMLParser):
    """Collects top-level <table> elements as lists of rows of cell texts.

    Tables nested inside a cell (the matrix header holds one) are parsed on their own and
    dropped, so their text does not leak into the enclosing cell.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = []
        self.stack = []  # open tables: {"rows": [...], "row": [...] or None, "cell": [...] or None}

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.stack.append({"rows": [], "row": None, "cell": None})
        elif not self.stack:
            return
        elif tag == "tr":
            self.stack[-1]["row"] = []
        elif tag in ("td", "th"):
            self.stack[-1]["cell"] = []
        elif tag == "br":
            self.handle_data(" ")

    def handle_endtag(self, tag):
        if not self.stack:
            return
        top = self.stack[-1]
        if tag == "table":
            self.stack.pop()
            if not self.stack:
                self.tables.append(top["rows"])
        elif tag in ("td", "th") and top["cell"] is not None and top["row"] is not None:
            top["row"].append(normalize("".join(top["cell"])))
            top["cell"] = None
        elif tag == "tr" and top["row"] is not None:
            top["rows"].append(top["row"])
            top["row"] = None
        elif tag in ("p", "li", "h2"):
            self.handle_data(" ")

    def handle_data(self, data):
        if self.stack and self.stack[-1]["cell"] is not None:
            self.stack[-1]["cell"].append(data)


def seed_path(seeds_dir, prefix):
    found = sorted(glob.glob(os.path.join(seeds_dir, prefix + "_*.txt")))
    if len(found) != 1:
        raise AssertionError(f"expected exactly one {prefix}_*.txt in {seeds_dir}, found {found}")
    return found[0]


def parse_004(path):
    """Returns {"matrix": {row: label}, "security-need": {row: label}}."""
    with open(path, encoding="utf-8") as handle:
        parser = TableParser()
        parser.feed(handle.read())
        parser.close()
    if len(parser.tables) < 2:
        raise AssertionError(f"{path}: expected the matrix and the Security Need tables")

    matrix = {}
    for cells in parser.tables[0]:
        if len(cells) >= 2 and cells[0].isdigit():
            matrix[int(cells[0])] = cells[1]
    if sorted(matrix) != list(range(1, len(matrix) + 1)) or len(matrix) != 10:
        raise AssertionError(f"{path}: matrix rows are {sorted(matrix)}, expected 1..10")

    needs = {}
    for table in parser.tables[1:]:
        for cells in table:
            if cells and cells[0] and cells[0] != "Security Need":
                needs[len(needs) + 1] = cells[0]
    if "Encryption of data in-transit" not in needs.values():
        raise AssertionError(f"{path}: the second table's header row was not read as a row")
    return {"matrix": matrix, "security-need": needs}


def looks_like_heading(line, following):
    return (0 < len(line) <= 80 and " " in line and not line.startswith("-")
            and not line.endswith((".", ":")) and len(following) > 100)


def parse_000(path):
    """Returns {"best-practices": {row: label}}."""
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle]
    lines = [line for line in lines if line]

    first_section = next(i for i, line in enumerate(lines) if line.endswith("Best Practices"))
    first_design = next(i for i, line in enumerate(lines) if line.startswith("Design Guidance"))

    detected = [line for i, line in enumerate(lines[first_section:first_design - 1], first_section)
                if not line.endswith("Best Practices") and looks_like_heading(line, lines[i + 1])]
    if detected != PRACTICE_HEADINGS:
        raise AssertionError(f"{path}: practice headings changed.\n  detected: {detected}\n"
                             f"  expected: {PRACTICE_HEADINGS}")

    blocks = []
    for line in lines[first_design:]:
        if line.startswith("Design Guidance"):
            blocks.append([])
        elif "|" in line and blocks:
            blocks[-1].append(line.split("|", 1)[0].strip())
    if not blocks or not all(blocks):
        raise AssertionError(f"{path}: a Design Guidance block has no property line")

    labels = PRACTICE_HEADINGS + [block[0] for block in blocks]
    return {"best-practices": {i: label for i, label in enumerate(labels, 1)}}


def load_controls(controls_dir, yaml, failures):
    controls = []
    for path in sorted(glob.glob(os.path.join(controls_dir, "*.yaml"))):
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        if len(documents) != 1 or not isinstance(documents[0], dict):
            failures.append(f"{name}: expected one YAML mapping, found {len(documents)} documents")
            continue
        control = documents[0]
        missing = [key for key in REQUIRED_KEYS if key not in control]
        if missing:
            failures.append(f"{name}: missing {', '.join(missing)}")
            continue
        match = re.fullmatch(r"ddb-(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml", name)
        if not match or control["id"] != f"DDB-{match.group(1)}":
            failures.append(f"{name}: file name does not match id {control['id']!r}")
        controls.append((name, control))
    return controls


def check_control(name, control, seed_rows, failures):
    if control["vendor_status"] not in STATUSES:
        failures.append(f"{name}: vendor_status {control['vendor_status']!r}")
    rule = control["rule"]
    if not isinstance(rule, dict) or rule.get("check") not in CHECKS:
        failures.append(f"{name}: unknown rule.check {rule.get('check') if isinstance(rule, dict) else rule!r}")
    elif not str(rule.get("description", "")).strip():
        failures.append(f"{name}: rule.description is empty")
    resource = (control["applies_to"] or {}).get("resource")
    if resource not in RESOURCES:
        failures.append(f"{name}: applies_to.resource {resource!r}")
    for operation in control["evidence"] or []:
        if operation not in OPERATIONS:
            failures.append(f"{name}: evidence {operation!r} is not an allowed operation")
    references = control["references"] or []
    if not references:
        failures.append(f"{name}: no references")
    for reference in references:
        url = str(reference.get("url", ""))
        if not url.startswith("https://") or not str(reference.get("title", "")).strip():
            failures.append(f"{name}: reference needs a title and an https URL: {reference!r}")
    sources = control["sources"] or []
    if not sources:
        failures.append(f"{name}: no sources")
    for source in sources:
        seed, table, row = source.get("seed"), source.get("table"), source.get("row")
        if table not in TABLES_BY_SEED.get(seed, ()):
            failures.append(f"{name}: source seed {seed!r} has no table {table!r}")
            continue
        label = seed_rows[table].get(row)
        if label is None:
            failures.append(f"{name}: source {table} row {row!r} does not exist in seed {seed}")
        elif source.get("text") != label:
            failures.append(f"{name}: source {table} row {row} text {source.get('text')!r}, "
                            f"seed says {label!r}")


def main():
    try:
        import yaml
    except ImportError:
        print("SKIP: PyYAML is not importable by this python3 (pip install pyyaml)")
        return SKIP

    source_dir = os.environ.get("DDBAUDIT_SOURCE_DIR", os.getcwd())
    shared_dir = os.environ.get("DDBAUDIT_SHARED_DIR", os.path.join(source_dir, "..", "shared"))
    seeds_dir = os.path.join(shared_dir, "seeds")
    if not os.path.isdir(seeds_dir):
        print(f"SKIP: seed directory {seeds_dir} is missing")
        return SKIP

    seed_rows = {}
    seed_rows.update(parse_004(seed_path(seeds_dir, "004")))
    seed_rows.update(parse_000(seed_path(seeds_dir, "000")))

    failures = []
    controls = load_controls(os.path.join(source_dir, "controls"), yaml, failures)
    for name, control in controls:
        check_control(name, control, seed_rows, failures)

    ids = [control["id"] for _, control in controls]
    expected_ids = [f"DDB-{n:02d}" for n in range(1, CONTROL_COUNT + 1)]
    if sorted(ids) != expected_ids:
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        failures.append(f"ids must be DDB-01..DDB-{CONTROL_COUNT:02d} once each; "
                        f"got {sorted(ids)} (duplicates: {duplicates})")

    by_id = {control["id"]: control for _, control in controls}
    for number in range(1, 11):
        control = by_id.get(f"DDB-{number:02d}")
        if control is None:
            continue
        matrix_rows = [s.get("row") for s in control["sources"] or []
                       if s.get("seed") == "004" and s.get("table") == "matrix"]
        if matrix_rows != [number]:
            failures.append(f"DDB-{number:02d} must trace to matrix row {number} only; "
                            f"its matrix rows are {matrix_rows}")

    covered = {(s.get("table"), s.get("row"), s.get("text"))
               for _, control in controls for s in control["sources"] or []}
    for table, rows in seed_rows.items():
        for row, label in rows.items():
            if (table, row, label) not in covered:
                failures.append(f"seed {table} row {row} ({label!r}) is not a source of any control")

    rows_total = sum(len(rows) for rows in seed_rows.values())
    if failures:
        print(f"FAIL: {len(failures)} problem(s) in {len(controls)} controls:")
        for failure in failures:
            print("  " + failure)
        return 1
    print(f"ok: {len(controls)} controls cover all {rows_total} seed rows "
          + ", ".join(f"{table}={len(rows)}" for table, rows in seed_rows.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
