#!/usr/bin/env python3
"""`ddbaudit verify` checks the delivered CloudTrail log files a report was made with, end to end
with the real binary.

A copy of evidence/sample and of tests/data/cloudtrail (as logs/cloudtrail) in a temporary
directory; `report --cloudtrail-dir logs/cloudtrail` makes a packet, then:
- verify with --cloudtrail-dir passes and counts every log file the report names (cited by a
  finding or listed in activity.sources), also as a comma list and from a copy elsewhere under a
  directory of the same name (names are relative to the parent of the directory given);
- verify without it passes, and the summary names how many log files were not checked;
- a directory whose name is not the one given to `report` resolves nothing: exit 3, "missing";
- one changed byte in a cited log: exit 3 naming the file, the control and resource, once;
- a removed cited log: exit 3, "missing";
- one changed byte in a log read but not cited: exit 3 naming it (activity.sources);
- a cited log name that leaves the directory is refused.
The repository is never modified.

Exit 0 on success, 1 on any failure, 77 when the binary is not built."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.environ.get("DDBAUDIT_BIN", "")
SRC = os.environ.get("DDBAUDIT_SOURCE_DIR", os.getcwd())

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def run(cwd, *args):
    env = dict(os.environ, DDBAUDIT_DATA_DIR=SRC)
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, cwd=cwd)


def flip(path, offset=0):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 1]))


def named_logs(report):
    """Log files the report names with origin cloudtrail_dir: {file: (control, resource)} for
    the cited ones, and the set read (activity.sources with a SHA-256)."""
    cited = {}
    for control in report["controls"]:
        for finding in control["findings"]:
            for item in finding["evidence"]:
                if item.get("origin") == "cloudtrail_dir":
                    cited.setdefault(item["file"], (control["id"], finding["resource"]))
    read = {s["file"] for s in report["activity"]["sources"]
            if s.get("origin") == "cloudtrail_dir" and "sha256" in s}
    return cited, read


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print("skip: DDBAUDIT_BIN is not set to a built binary")
        return 77
    work = tempfile.mkdtemp(prefix="ddbaudit-verify-ct-")
    try:
        shutil.copytree(os.path.join(SRC, "evidence", "sample"),
                        os.path.join(work, "evidence", "sample"))
        logs = os.path.join(work, "logs", "cloudtrail")
        shutil.copytree(os.path.join(SRC, "tests", "data", "cloudtrail"), logs)
        made = run(work, "report", "--evidence", "evidence/sample", "--cloudtrail-dir",
                   "logs/cloudtrail", "--out", "out/p", "--format", "json")
        check("report with --cloudtrail-dir makes a packet", made.returncode == 0,
              made.stderr[-2000:])
        if made.returncode != 0:
            return 1
        report = json.load(open(os.path.join(work, "out", "p", "report.json")))
        cited, read = named_logs(report)
        every = set(cited) | read
        check("the report cites delivered log files", len(cited) > 0, str(len(cited)))
        uncited = sorted(read - set(cited))
        check("some log file was read but not cited", len(uncited) > 0, str(sorted(read)))

        def verify(*extra):
            return run(work, "verify", "out/p", "--evidence", "evidence/sample", *extra)

        passed = verify("--cloudtrail-dir", "logs/cloudtrail")
        check("verify with --cloudtrail-dir passes", passed.returncode == 0,
              passed.stdout + passed.stderr[-3000:])
        check("the summary counts the log files checked",
              f"{len(every)} CloudTrail log files" in passed.stdout, passed.stdout)

        listed = verify("--cloudtrail-dir", "logs/cloudtrail/lookup,logs/cloudtrail/")
        check("a comma list of directories is taken", listed.returncode == 0,
              listed.stdout + listed.stderr[-2000:])

        moved = os.path.join(work, "elsewhere", "cloudtrail")
        shutil.copytree(logs, moved)
        elsewhere = verify("--cloudtrail-dir", moved)
        check("a copy under a directory of the same name verifies", elsewhere.returncode == 0,
              elsewhere.stdout + elsewhere.stderr[-2000:])
        renamed = os.path.join(work, "elsewhere", "trail")
        os.rename(moved, renamed)
        wrong = verify("--cloudtrail-dir", renamed)
        check("a directory that resolves none of them fails", wrong.returncode == 3,
              f"exit {wrong.returncode}: {wrong.stdout}")
        check("... saying the log files are missing",
              "missing" in wrong.stderr and "--cloudtrail-dir" in wrong.stderr,
              wrong.stderr[:2000])

        without = verify()
        check("verify without --cloudtrail-dir passes", without.returncode == 0,
              without.stdout + without.stderr[-3000:])
        check("... and names how many log files were not checked",
              f"{len(every)} CloudTrail log files" in without.stdout
              and "not checked" in without.stdout and "--cloudtrail-dir" in without.stdout,
              without.stdout)

        # One changed byte in a cited log file.
        name = sorted(cited)[0]
        path = os.path.join(work, "logs", name)
        original = open(path, "rb").read()
        flip(path, len(original) // 2)
        changed = verify("--cloudtrail-dir", "logs/cloudtrail")
        control, resource = cited[name]
        lines = [line for line in changed.stderr.splitlines() if name in line]
        check("a changed cited log fails", changed.returncode == 3,
              f"exit {changed.returncode}: {changed.stdout}")
        check("... naming the file, the control and the resource",
              len(lines) == 1 and "changed" in lines[0] and control in lines[0]
              and resource in lines[0], changed.stderr[:2000])
        check("... and nothing else", len(changed.stderr.strip().splitlines()) == 1,
              changed.stderr[:2000])
        unchecked = verify()
        check("without --cloudtrail-dir the change is not checked", unchecked.returncode == 0,
              unchecked.stderr[:2000])

        # The same file removed.
        os.remove(path)
        removed = verify("--cloudtrail-dir", "logs/cloudtrail")
        lines = [line for line in removed.stderr.splitlines() if name in line]
        check("a removed cited log fails", removed.returncode == 3,
              f"exit {removed.returncode}: {removed.stdout}")
        check("... as missing, once", len(lines) == 1 and "missing" in lines[0],
              removed.stderr[:2000])
        with open(path, "wb") as f:
            f.write(original)
        restored = verify("--cloudtrail-dir", "logs/cloudtrail")
        check("restored, it verifies again", restored.returncode == 0, restored.stderr[:2000])

        # A log file read for the counts but cited by no finding.
        name = uncited[0]
        path = os.path.join(work, "logs", name)
        flip(path, os.path.getsize(path) // 2)
        changed = verify("--cloudtrail-dir", "logs/cloudtrail")
        lines = [line for line in changed.stderr.splitlines() if name in line]
        check("a changed log read but not cited fails", changed.returncode == 3,
              f"exit {changed.returncode}: {changed.stdout}")
        check("... naming it and activity.sources",
              len(lines) == 1 and "changed" in lines[0] and "activity.sources" in lines[0],
              changed.stderr[:2000])
        flip(path, os.path.getsize(path) // 2)

        # A cited name that leaves the directory (report.json edited: packet.json says so too).
        report_path = os.path.join(work, "out", "p", "report.json")
        text = open(report_path).read()
        first = sorted(cited)[0]
        open(report_path, "w").write(text.replace(f'"{first}"', '"../../etc/passwd"'))
        escaped = verify("--cloudtrail-dir", "logs/cloudtrail")
        check("a log file name that leaves the directory is refused",
              escaped.returncode == 3 and "leaves the --cloudtrail-dir" in escaped.stderr
              and "/etc/passwd:" not in escaped.stderr, escaped.stderr[:2000])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
