#!/usr/bin/env python3
"""`ddbaudit verify` on a packet made by `ddbaudit report` from evidence/sample: the packet
verifies; report.json passes python3's jsonschema against docs/schema/report.schema.json (the
check independent of verify's own C one); one changed byte in any packet file, or in an evidence
file the report cites, makes verify exit 3 naming that file; --evidence picks the snapshot.

Exit 0 on success, 1 on any failure, 77 when the binary cannot make packets yet."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packet_common as common  # noqa: E402

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


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 1]))


def main():
    work = common.scratch()
    try:
        packet = common.make_packet(work)
        verify = common.run([common.BIN, "verify", "output/sample"], work)
        if verify.returncode == 2 and "unknown command" in (verify.stderr + verify.stdout).lower():
            common.skip("the verify command is not in the command table yet")
        check(verify.returncode == 0, "verify passes on a fresh packet",
              verify.stdout + verify.stderr)
        check("verified" in verify.stdout, "verify says what it checked", verify.stdout)

        expected = {"report.html", "report.md", "report.xml", "report.confluence.xml",
                    "report.json", "manifest.json", "packet.json"}
        check(expected <= set(os.listdir(packet)), "the packet holds every format",
              str(sorted(os.listdir(packet))))

        try:
            import jsonschema
        except ImportError:
            jsonschema = None
        if jsonschema is None:
            print("skipped jsonschema check: python3 has no jsonschema module")
        else:
            with open(os.path.join(common.SRC, "docs", "schema", "report.schema.json")) as f:
                schema = json.load(f)
            with open(os.path.join(packet, "report.json")) as f:
                report = json.load(f)
            validator = jsonschema.Draft202012Validator(schema)
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in validator.iter_errors(report)]
            check(not errors, "report.json is valid against report.schema.json",
                  "\n".join(errors[:20]))

        # One changed byte in each packet file: exit 3, naming the file.
        for name in sorted(expected - {"packet.json"}):
            path = os.path.join(packet, name)
            flip(path, min(100, os.path.getsize(path) - 1))
            result = common.run([common.BIN, "verify", "output/sample"], work)
            check(result.returncode == 3 and name in result.stderr,
                  f"a changed byte in {name} fails verify naming it",
                  result.stdout + result.stderr)
            flip(path, min(100, os.path.getsize(path) - 1))
        result = common.run([common.BIN, "verify", "output/sample"], work)
        check(result.returncode == 0, "restored packet verifies again", result.stderr)

        # An evidence file the report cites.
        with open(os.path.join(packet, "report.json")) as f:
            report = json.load(f)
        cited = next(e["file"] for c in report["controls"] for fi in c["findings"]
                     for e in fi["evidence"])
        evidence_file = os.path.join(work, "evidence", "sample", cited)
        flip(evidence_file, 1)
        result = common.run([common.BIN, "verify", "output/sample"], work)
        check(result.returncode == 3 and cited in result.stderr,
              "a changed evidence file fails verify naming it", result.stdout + result.stderr)
        flip(evidence_file, 1)

        # --evidence: a copy elsewhere is used; a snapshot that is not there fails.
        shutil.copytree(os.path.join(work, "evidence", "sample"), os.path.join(work, "copy"))
        result = common.run([common.BIN, "verify", "output/sample", "--evidence", "copy"], work)
        check(result.returncode == 0, "verify --evidence DIR uses that snapshot", result.stderr)
        result = common.run([common.BIN, "verify", "output/sample", "--evidence", "nowhere"],
                            work)
        check(result.returncode == 3 and "nowhere" in result.stderr,
              "verify --evidence with no snapshot there fails", result.stderr)
        result = common.run([common.BIN, "verify"], work)
        check(result.returncode == 2, "verify without a directory is a usage error",
              result.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'FAILED' if failures else 'passed'}: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
