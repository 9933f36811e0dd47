#!/usr/bin/env python3
"""Run a command N times; print the best wall time (s) and the peak RSS (MiB) of its process tree.

    bench/measure.py [--runs N] [--shell] -- command args...

Peak RSS comes from wait4()'s rusage, which reports the largest resident set among the command
and the children it waited for: the figure /usr/bin/time -v calls "Maximum resident set size".
Output, one line of JSON: {"seconds": best, "median": median, "rss_mib": peak}.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    args = sys.argv[1:]
    runs, shell = 3, False
    while args and args[0] != "--":
        if args[0] == "--runs":
            runs = int(args[1]); args = args[2:]
        elif args[0] == "--shell":
            shell = True; args = args[1:]
        else:
            sys.exit(f"measure.py: unknown option {args[0]}")
    command = args[1:]
    times, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        argv = ["/bin/sh", "-c", command[0]] if shell else command
        # stderr goes to a file, not a pipe: a command that writes more than a pipe holds
        # would block before wait4() returned.
        with open(os.devnull, "wb") as null, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(argv, stdout=null, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        times.append(time.perf_counter() - start)
        peak = max(peak, usage.ru_maxrss)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1 = findings at or above --fail-on: a normal report outcome
            sys.exit(f"measure.py: {command} exited {code}\n{stderr}")
    print(json.dumps({"seconds": round(min(times), 4), "median": round(statistics.median(times), 4),
                      "rss_mib": round(peak / 1024, 1)}))


if __name__ == "__main__":
    main()
