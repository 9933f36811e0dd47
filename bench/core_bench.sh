#!/usr/bin/env bash
# Evaluation speed and memory of `ddbaudit report --format json` on synthetic snapshots of 1k,
# 10k and 100k tables, against two baselines measured in the same run on the same files:
#   io_floor  `cat` of every evidence file (reading the bytes, nothing else)
#   jq_field  one jq pass extracting a single field from every DescribeTable file
# Prints one line per size and the ratios; targets (issue 3): 10k tables < 1 s and < 256 MB peak
# RSS on 2 cores, linear growth to 100k, and faster than the jq pass.
# The machine is shared: the load average is printed with each line, and wall times taken under
# load are upper bounds (callgrind instruction counts are the stable measure; docs/performance-core.md).
#   bench/core_bench.sh [SIZES...]      default: 1000 10000 100000
#   DDBAUDIT_BIN=build/perf/ddbaudit bench/core_bench.sh 1000   (default: build/release/ddbaudit)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
bin=${DDBAUDIT_BIN:-build/release/ddbaudit}
if [ -z "${DDBAUDIT_BIN:-}" ] && [ ! -x "$bin" ]; then
    cmake --preset release >/dev/null && cmake --build --preset release -j "$(nproc)" >/dev/null
fi
work=bench/work
mkdir -p "$work"
measure() { python3 bench/measure.py "$@"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

printf '%-8s %10s %10s %10s %10s %12s %12s  %s\n' tables report_s rss_mib cat_s jq_s report/cat report/jq load
for n in "${sizes[@]}"; do
    snap=$work/snap-$n
    if [ ! -f "$snap/manifest.json" ]; then
        rm -rf "$snap"
        python3 bench/gen_snapshot.py --tables "$n" --out "$snap" --jobs "$(nproc)" >/dev/null
        "$bin" evidence seal "$snap" --account 111122223333 --collected-at 2026-10-01T09:30:00Z >/dev/null
    fi
    find "$snap" -name '*.json' ! -name manifest.json > "$work/files-$n"
    find "$snap" -path '*/DescribeTable/*.json' > "$work/tables-$n"
    runs=3
    [ "$n" -ge 100000 ] && runs=1
    rm -rf "$work/out-$n" # the report refuses to replace a directory that is not its packet
    report=$(measure --runs "$runs" -- "$bin" report --evidence "$snap" --format json --out "$work/out-$n")
    io=$(measure --runs "$runs" --shell -- "xargs -a $work/files-$n cat")
    jq=$(measure --runs "$runs" --shell -- "xargs -a $work/tables-$n jq -r .Table.TableName")
    r=$(field "$report" seconds); m=$(field "$report" rss_mib)
    c=$(field "$io" seconds); j=$(field "$jq" seconds)
    printf '%-8s %10s %10s %10s %10s %12.2f %12.2f  %s\n' "$n" "$r" "$m" "$c" "$j" \
        "$(python3 -c "print($r/$c)")" "$(python3 -c "print($r/$j)")" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
