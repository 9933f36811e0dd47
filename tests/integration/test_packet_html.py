#!/usr/bin/env python3
"""The HTML report passes the Nu HTML checker (npm vnu-jar) with no errors and axe-core (npm
axe-core, in Debian's chromium through playwright-core) with no serious or critical violation,
and fetches nothing. Checked on the packet `ddbaudit report` makes from evidence/sample and on
the documents tests/unit/test_render writes when DDBAUDIT_RENDER_OUT is set: the hostile-corpus
rendering and the sample report.json with its access matrix and CloudTrail activity (links from
each event to its file, row groups per principal), so both sections are checked with ordinary
and with hostile content.

Needs java, node, /usr/bin/chromium and tests/node/node_modules (`npm ci --prefix tests/node`);
exits 77 naming what is missing. Exit 1 on any error or serious violation."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import packet_common as common  # noqa: E402

NODE_DIR = os.path.join(common.SRC, "tests", "node")
VNU = os.path.join(NODE_DIR, "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
AXE_SCRIPT = os.path.join(NODE_DIR, "axe-check.js")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

failures = 0


def check(ok, name, detail=""):
    global failures
    if ok:
        print(f"ok - {name}")
    else:
        failures += 1
        print(f"FAIL - {name}")
        if detail:
            print("    " + detail.strip().replace("\n", "\n    ")[:4000])


def prerequisites():
    missing = []
    if not shutil.which("java"):
        missing.append("java")
    if not shutil.which("node"):
        missing.append("node")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(CHROMIUM)
    if not os.path.exists(VNU):
        missing.append("tests/node/node_modules/vnu-jar (npm ci --prefix tests/node)")
    for module in ("axe-core", "playwright-core"):
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", module)):
            missing.append(f"tests/node/node_modules/{module} (npm ci --prefix tests/node)")
    if missing:
        common.skip("missing " + ", ".join(missing))


def hostile_html(work):
    """Runs the render unit test so it writes its hostile documents into work/hostile/."""
    test = os.path.join(common.BUILD, "tests", "test_render") if common.BUILD else ""
    if not test or not os.access(test, os.X_OK):
        print("note: tests/test_render is not built; checking the sample packet only")
        return []
    out = os.path.join(work, "hostile")
    os.makedirs(out)
    env = dict(os.environ, DDBAUDIT_RENDER_OUT=out)
    result = subprocess.run([test], cwd=common.SRC, env=env, capture_output=True, text=True)
    check(result.returncode == 0, "test_render wrote the hostile documents", result.stdout)
    documents = [os.path.join(out, name) for name in ("hostile.html", "sections.html")]
    for path in documents:
        check(os.path.exists(path), f"test_render wrote {os.path.basename(path)}")
    return [path for path in documents if os.path.exists(path)]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def check_sections(packet_html, rendered):
    """The access matrix and the activity are in every HTML document: the sample packet's
    (whose evidence has IAM details and, today, no CloudTrail), the hostile rendering (every
    string of both sections poisoned) and the unpoisoned sample report.json's."""
    html = read(packet_html)
    check('<section class="control" id="access"' in html and '<table class="access">' in html,
          "the sample packet renders its access matrix as a table")
    check('<section class="control" id="activity"' in html and
          ("CloudTrail activity was not provided" in html or 'id="activity-sources-heading"' in html),
          "the sample packet has the activity section, saying when CloudTrail was not provided")
    for path in rendered:
        html = read(path)
        name = os.path.basename(path)
        check('<table class="access">' in html and 'id="activity-sources-heading"' in html,
              f"{name} has the access matrix and the activity with its files read")
        if name == "hostile.html":
            start = html.index('id="access"')
            sections = html[start:]
            check("&lt;script&gt;" in sections and "<script" not in sections,
                  "hostile strings in the sections are escaped")


def main():
    prerequisites()
    work = common.scratch()
    try:
        packet = common.make_packet(work)
        rendered = hostile_html(work)
        check_sections(os.path.join(packet, "report.html"), rendered)
        files = [os.path.join(packet, "report.html")] + rendered
        for path in files:
            name = os.path.relpath(path, work)
            vnu = subprocess.run(["java", "-jar", VNU, "--errors-only", "--format", "gnu", path],
                                 capture_output=True, text=True, timeout=600)
            check(vnu.returncode == 0 and not vnu.stderr.strip(),
                  f"Nu HTML checker: no errors in {name}", vnu.stderr + vnu.stdout)
            axe = subprocess.run(["node", AXE_SCRIPT, path], capture_output=True, text=True,
                                 timeout=600, env=dict(os.environ, CHROMIUM=CHROMIUM))
            check(axe.returncode == 0,
                  f"axe-core: no serious or critical violations, no fetches in {name}",
                  axe.stdout + axe.stderr)
            print("    " + axe.stdout.strip().replace("\n", "\n    "))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'FAILED' if failures else 'passed'}: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
