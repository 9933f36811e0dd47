#!/usr/bin/env bash
# Rendering speed and memory (issue 4): evaluate + render every packet format for a 10k-table
# snapshot, and the renderer alone per format at 1k..100k tables' worth of findings.
#   bench/render_bench.sh [SCALES...]     default scales: 0.1 1 10 (x the 10k report's findings)
# Prints, for the whole command:  report --format json  vs  report --format html,md,xml,json,
# confluence (the difference is the renderer's share), then per scale one line per step of
# bench/render_bench.c: view model, each format, report.json, and the whole packet_write
# (rendering on one thread per core, hashing and writing included). CPU seconds are given next
# to wall seconds because a shared 2-core machine's wall time says more about its neighbours.
# Targets: < 1 s and < 256 MB peak RSS in total on 2 cores, linear to 100k.
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(0.1 1 10)
build=build/release
bin=${DDBAUDIT_BIN:-$build/ddbaudit}
if [ ! -x "$bin" ] || [ ! -f "$build/libddbaudit_core.a" ]; then
    cmake --preset release >/dev/null && cmake --build --preset release -j "$(nproc)" >/dev/null
fi
deps="yaml-0.1 libxml-2.0 libcmark libcurl libcrypto zlib jansson"
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_DEFAULT_SOURCE -Isrc $(pkg-config --cflags $deps) bench/render_bench.c \
    "$build/libddbaudit_core.a" $(pkg-config --libs $deps) -lpthread -lm -o "$build/render_bench"
export DDBAUDIT_DATA_DIR=$PWD
work=bench/work
mkdir -p "$work"
snap=$work/snap-10000
if [ ! -f "$snap/manifest.json" ]; then
    rm -rf "$snap"
    python3 bench/gen_snapshot.py --tables 10000 --out "$snap" --jobs "$(nproc)" >/dev/null
    "$bin" evidence seal "$snap" --account 111122223333 --collected-at 2026-10-01T09:30:00Z >/dev/null
fi

# Wall, CPU (user + sys of the child) and peak RSS of one command.
cost() {
    python3 - "$@" <<'PY'
import os, resource, subprocess, sys, time
before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(f"{wall:8.2f} s wall {cpu:8.2f} s cpu {after.ru_maxrss / 1024:8.0f} MiB peak  (exit {code})")
PY
}

echo "== ddbaudit report on $snap (evaluation + output)"
printf '%-36s ' "--format json"
cost "$bin" report --evidence "$snap" --format json --out "$work/render-json"
printf '%-36s ' "--format html,md,xml,json,confluence"
cost "$bin" report --evidence "$snap" --format html,md,xml,json,confluence --out "$work/render-all"
report=$work/render-json/report.json
[ -f "$report" ] || { echo "no report.json written"; exit 1; }

format=$(mktemp)
trap 'rm -f "$format"' EXIT
cat >"$format" <<'PY'
import json, sys
for line in sys.stdin:
    row = json.loads(line)
    if "findings" in row:
        print(f"findings {row['findings']}")
    elif "rss_mib" in row:
        print(f"peak RSS {row['rss_mib']:.0f} MiB (whole bench process, input JSON included)")
    else:
        size = f" {row['bytes'] / 1e6:8.1f} MB" if row["bytes"] else ""
        print(f"  {row['step']:<13} {row['seconds']:7.3f} s wall "
              f"{row['cpu_seconds']:7.3f} s cpu{size}")
PY
for scale in "${scales[@]}"; do
    echo "== renderer alone, $scale x the 10k report's findings"
    "$build/render_bench" "$report" --scale "$scale" --out "$work/render-bench-out" |
        python3 "$format"
done
rm -rf "$work/render-bench-out"
