"""Shared by the test_packet_*.py integration tests (imported, not run): makes a packet from
evidence/sample with the real binary in a scratch directory.

make_packet() copies evidence/sample into WORK/evidence/sample, runs
`ddbaudit report --evidence evidence/sample --out output/sample` there, and returns the
packet directory. It exits 77 (skip) when the binary does not write packets yet, so these
tests say why instead of failing on someone else's unfinished command."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

BIN = os.environ.get("DDBAUDIT_BIN", "")
SRC = os.environ.get("DDBAUDIT_SOURCE_DIR", os.getcwd())
BUILD = os.environ.get("DDBAUDIT_BUILD_DIR", "")


def skip(reason):
    print(f"skipped: {reason}")
    sys.exit(SKIP)


def run(args, cwd, check=False):
    env = dict(os.environ, DDBAUDIT_DATA_DIR=SRC)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        print(f"FAIL: {' '.join(args)} exited {result.returncode}\n{result.stderr}")
        sys.exit(1)
    return result


def make_packet(work):
    if not BIN or not os.access(BIN, os.X_OK):
        skip("DDBAUDIT_BIN is not built")
    sample = os.path.join(SRC, "evidence", "sample")
    if not os.path.exists(os.path.join(sample, "manifest.json")):
        skip("evidence/sample has no manifest.json")
    shutil.copytree(sample, os.path.join(work, "evidence", "sample"))
    # Reseal the copy with the manifest's own account, period and date: these tests are about
    # packets, and must not fail because someone is editing the sample's files right now.
    with open(os.path.join(sample, "manifest.json")) as f:
        manifest = json.load(f)
    seal = [BIN, "evidence", "seal", "evidence/sample", "--account", manifest["account"],
            "--collected-at", manifest["collected_at"]]
    if manifest.get("period"):
        seal += ["--period", f"{manifest['period']['start']}..{manifest['period']['end']}"]
    run(seal, work, check=True)
    result = run([BIN, "report", "--evidence", "evidence/sample", "--out", "output/sample"],
                 work)
    packet = os.path.join(work, "output", "sample")
    if result.returncode not in (0, 1):
        print(f"FAIL: ddbaudit report exited {result.returncode}\n{result.stderr}")
        sys.exit(1)
    if not os.path.exists(os.path.join(packet, "packet.json")):
        skip("`ddbaudit report` does not write packet.json yet (report.c must call packet_write)")
    return packet


def scratch():
    return tempfile.mkdtemp(prefix="ddbaudit-packet-it-")
