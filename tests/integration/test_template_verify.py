#!/usr/bin/env python3
"""`ddbaudit verify` on packets made by `ddbaudit report --template` (docs/templates.md,
"Verifying a template packet"), in a scratch directory holding copies of tests/data/cfn:

- a fresh template packet verifies, with and without --template/--parameters, and says which;
- a template changed after the report fails, naming the template and the changed SHA-256, both
  as cited (no --template) and through the evidence manifest (--template);
- a template that is gone fails, naming it;
- --template with the wrong list or without the --parameters the report used fails;
- one changed byte in any packet file fails, naming the file; a file added to the packet fails;
- a location in a template whose SHA-256 the report records nowhere fails;
- --evidence on a template packet, --template on a snapshot packet, and --parameters without
  --template are usage errors.

Exit 0 on success, 1 on any failure, 77 when the binary is not built."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
SOURCE = os.environ.get("DDBAUDIT_SOURCE_DIR", os.getcwd())
BIN = os.environ.get("DDBAUDIT_BIN", os.path.join(SOURCE, "build", "ddbaudit"))

failures = 0


def check(ok, name, detail=""):
    global failures
    if ok:
        print(f"ok - {name}")
    else:
        failures += 1
        print(f"FAIL - {name}")
        if detail:
            print("    " + detail.strip().replace("\n", "\n    ")[:3000])


def run(args, cwd):
    env = dict(os.environ, DDBAUDIT_DATA_DIR=SOURCE)
    return subprocess.run([BIN, *args], cwd=cwd, env=env, capture_output=True, text=True)


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 1]))


def rewrite(packet, name, data):
    """Replaces a packet file and updates packet.json to match, so only the content is judged."""
    with open(os.path.join(packet, name), "wb") as f:
        f.write(data)
    index_path = os.path.join(packet, "packet.json")
    with open(index_path) as f:
        index = json.load(f)
    for entry in index["files"]:
        if entry["path"] == name:
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            entry["size"] = len(data)
    with open(index_path, "w") as f:
        f.write(json.dumps(index, indent=2) + "\n")


TEMPLATES = ["cfn/tables.yaml", "cfn/global.json"]
PARAMETERS = "cfn/parameters.json"
NAMED = ["--template", TEMPLATES[0], "--template", TEMPLATES[1], "--parameters", PARAMETERS]


def main():
    if not os.access(BIN, os.X_OK):
        print(f"skipped: {BIN} is not built")
        return SKIP
    work = tempfile.mkdtemp(prefix="ddbaudit-template-verify-")
    try:
        shutil.copytree(os.path.join(SOURCE, "tests", "data", "cfn"), os.path.join(work, "cfn"))
        made = run(["report", *NAMED, "--out", "packet", "--as-of", "2026-11-23",
                    "--format", "json,html,md,xml,confluence,sarif"], work)
        check(made.returncode == 0, "report --template writes a packet", made.stderr)
        if made.returncode != 0:
            return 1
        packet = os.path.join(work, "packet")

        result = run(["verify", "packet"], work)
        check(result.returncode == 0, "a fresh template packet verifies",
              result.stdout + result.stderr)
        check("2 template files" in result.stdout and "parameters are not checked" in result.stdout,
              "verify says it checked the cited templates, not the parameters", result.stdout)
        result = run(["verify", "packet", *NAMED], work)
        check(result.returncode == 0 and "evidence manifest" in result.stdout,
              "with --template and --parameters it checks the evidence manifest too",
              result.stdout + result.stderr)

        # The templates as given to report, but not all of them, or without the parameters.
        result = run(["verify", "packet", "--template", TEMPLATES[0], "--template", TEMPLATES[1]],
                     work)
        check(result.returncode == 3 and "evidence manifest" in result.stderr
              and "parameters" in result.stderr,
              "--template without the report's --parameters fails on the evidence manifest",
              result.stderr)
        result = run(["verify", "packet", "--template", TEMPLATES[0], "--parameters", PARAMETERS],
                     work)
        check(result.returncode == 3 and "cfn/global.json" in result.stderr
              and "not among the --template files" in result.stderr,
              "a cited template left out of --template fails, naming it", result.stderr)

        # A template changed after the report (a comment added: the verdicts may not move, the
        # hash does); verify names the file and both hashes.
        template = os.path.join(work, TEMPLATES[0])
        with open(template, "ab") as f:
            f.write(b"\n# edited after the report\n")
        result = run(["verify", "packet"], work)
        check(result.returncode == 3 and "cfn/tables.yaml" in result.stderr
              and "changed: SHA-256" in result.stderr
              and "changed after the report" in result.stderr,
              "a template changed after the report fails verify, naming it", result.stderr)
        result = run(["verify", "packet", *NAMED], work)
        check(result.returncode == 3 and "cfn/tables.yaml" in result.stderr
              and "evidence manifest" in result.stderr,
              "with --template the changed template also breaks the evidence manifest",
              result.stderr)
        shutil.copy(os.path.join(SOURCE, "tests", "data", TEMPLATES[0]), template)
        result = run(["verify", "packet", *NAMED], work)
        check(result.returncode == 0, "the restored template verifies again", result.stderr)

        # The parameters changed: only --parameters can tell.
        parameters = os.path.join(work, PARAMETERS)
        with open(parameters) as f:
            original_parameters = f.read()
        edited = original_parameters.replace('"dev"', '"qa"')
        check(edited != original_parameters, "the parameters fixture sets Environment to dev")
        with open(parameters, "w") as f:
            f.write(edited)
        result = run(["verify", "packet", *NAMED], work)
        check(result.returncode == 3 and "evidence manifest" in result.stderr,
              "changed parameters fail verify --parameters", result.stderr)
        with open(parameters, "w") as f:
            f.write(original_parameters)

        # A template that is gone.
        moved = template + ".moved"
        os.rename(template, moved)
        result = run(["verify", "packet"], work)
        check(result.returncode == 3 and "cfn/tables.yaml" in result.stderr
              and "missing" in result.stderr,
              "a cited template that is gone fails verify, naming it", result.stderr)
        os.rename(moved, template)

        # One changed byte in each packet file, then an unlisted file.
        for name in sorted(os.listdir(packet)):
            if name == "packet.json":
                continue
            path = os.path.join(packet, name)
            flip(path, min(100, os.path.getsize(path) - 1))
            result = run(["verify", "packet"], work)
            check(result.returncode == 3 and name in result.stderr,
                  f"a changed byte in {name} fails verify naming it",
                  result.stdout + result.stderr)
            flip(path, min(100, os.path.getsize(path) - 1))
        with open(os.path.join(packet, "notes.txt"), "w") as f:
            f.write("added later\n")
        result = run(["verify", "packet"], work)
        check(result.returncode == 3 and "notes.txt" in result.stderr,
              "a file added to the packet fails verify", result.stderr)
        os.remove(os.path.join(packet, "notes.txt"))
        result = run(["verify", "packet"], work)
        check(result.returncode == 0, "the restored packet verifies again", result.stderr)

        # A location in a template whose SHA-256 the report records nowhere cannot be checked
        # without --template: verify says so instead of passing. (report.json and packet.json
        # are rewritten together, as someone editing the packet would.)
        report_path = os.path.join(packet, "report.json")
        with open(report_path, "rb") as f:
            original_report = f.read()
        report = json.loads(original_report)
        item = next(e for c in report["controls"] for fi in c["findings"] for e in fi["evidence"]
                    if "location" in e)
        item["location"]["file"] = "cfn/unrecorded.yaml"
        shutil.copy(os.path.join(work, TEMPLATES[0]), os.path.join(work, "cfn/unrecorded.yaml"))
        rewrite(packet, "report.json", (json.dumps(report, indent=2) + "\n").encode())
        result = run(["verify", "packet"], work)
        check(result.returncode == 3 and "cfn/unrecorded.yaml" in result.stderr
              and "records no SHA-256" in result.stderr,
              "a location in a template with no recorded SHA-256 fails verify", result.stderr)
        rewrite(packet, "report.json", original_report)
        result = run(["verify", "packet"], work)
        check(result.returncode == 0, "the restored report verifies again", result.stderr)

        # --template on a packet made from a snapshot is a usage error.
        shutil.copytree(os.path.join(SOURCE, "evidence", "sample"),
                        os.path.join(work, "evidence", "sample"))
        made = run(["report", "--evidence", "evidence/sample", "--out", "output/sample",
                    "--format", "json"], work)
        check(made.returncode == 0, "report writes a snapshot packet", made.stderr)
        result = run(["verify", "output/sample", "--template", TEMPLATES[0]], work)
        check(result.returncode == 2 and "evidence snapshot" in result.stderr,
              "--template on a snapshot packet is a usage error", result.stderr)

        # Usage errors.
        result = run(["verify", "packet", "--evidence", "cfn"], work)
        check(result.returncode == 2 and "--template" in result.stderr,
              "--evidence on a template packet is a usage error", result.stderr)
        result = run(["verify", "packet", "--template", "cfn/nowhere.yaml"], work)
        check(result.returncode == 3 and "cfn/nowhere.yaml" in result.stderr,
              "a --template that does not exist fails, naming it", result.stderr)
        result = run(["verify", "packet", "--parameters", PARAMETERS], work)
        check(result.returncode == 2, "--parameters without --template is a usage error",
              result.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'FAILED' if failures else 'passed'}: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
