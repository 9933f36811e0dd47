"""An interrupted collection leaves a manifest that says complete: false, and
`collect --resume` finishes it: the result equals an uninterrupted run, and answers already
written are reused instead of asked again."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("DDBAUDIT_SOURCE_DIR", "."), "tests", "endpoint"))
import harness as h  # noqa: E402

REGION = "eu-west-1"
TABLES = 8


def main():
    h.require_tools(need_cli=False)
    failures = []
    with h.Servers() as s:
        creds = h.enable_auth(s.url)
        h.populate(s.url, creds, [REGION], TABLES)
        url = s.start_endpoint(credentials=creds)

        full = os.path.join(s.tmp, "full")
        done = h.run_collect(full, url, creds, "--regions", REGION)
        if done.returncode != 0:
            return f"uninterrupted collect failed: {done.stderr}"
        full_calls = len(h.load_manifest(full)["calls"])

        # Slow every call down so the run can be interrupted half way.
        s.control(latency_ms=150, reset_stats=True)
        partial = os.path.join(s.tmp, "partial")
        proc = subprocess.Popen([os.environ["DDBAUDIT_BIN"], "collect", "--out", partial,
                                 "--regions", REGION, "--concurrency", "2"],
                                env=h.collect_env(url, creds), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        table_dir = os.path.join(partial, h.ACCOUNT, REGION, "dynamodb", "DescribeTable")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.isdir(table_dir) and len(os.listdir(table_dir)) >= 2:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            failures.append("an interrupted collect exited 0")
        if "--resume" not in err:
            failures.append(f"the interruption message does not mention --resume: {err}")
        manifest = h.load_manifest(partial)
        if manifest["complete"] is not False:
            failures.append("the interrupted manifest does not say complete: false")
        written = len(manifest["calls"])
        if not 0 < written < full_calls:
            failures.append(f"interrupted after {written} of {full_calls} calls: not half way")

        s.control(latency_ms=0, reset_stats=True)
        done = h.run_collect(partial, url, creds, "--regions", REGION, "--resume")
        asked = sum(s.stats()["requests"].values())
        if done.returncode != 0:
            failures.append(f"collect --resume failed: {done.stderr}")
        else:
            if h.load_manifest(partial)["complete"] is not True:
                failures.append("the resumed manifest is not complete")
            failures += [f"resumed: {p}" for p in h.compare_snapshots(full, partial)]
            if "earlier answers reused" not in done.stdout:
                failures.append(f"resume did not reuse answers: {done.stdout}")
            if asked >= full_calls:
                failures.append(f"resume asked {asked} requests; a full run needs {full_calls}")
        # Without --resume an existing snapshot is never overwritten.
        again = h.run_collect(partial, url, creds, "--regions", REGION)
        if again.returncode != 2 or "--resume" not in again.stderr:
            failures.append(f"collect over an existing snapshot: {again.returncode} {again.stderr}")
    if failures:
        return "\n".join(failures)
    print(f"ok: interrupted after {written}/{full_calls} calls, resumed with {asked} requests")
    return None


if __name__ == "__main__":
    problem = main()
    if problem:
        print("FAIL:\n" + problem)
        sys.exit(1)
