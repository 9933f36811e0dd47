#!/bin/bash
# CloudTrail scanner benchmark: in one run, times decompression alone (zcat > /dev/null),
# zcat | jq selecting the same events the scanner keeps (eventSource dynamodb, kms, iam), and
# `ddbaudit cloudtrail scan` (activity JSON, and --format events), over a ~100 MB corpus from
# bench/cloudtrail_gen.py; prints the ratios against the targets (>= 25x faster than zcat | jq,
# within 2x of decompression alone, peak RSS < 64 MB).
#
# usage: bench/cloudtrail_bench.sh [DDBAUDIT_BIN] [CORPUS_DIR]
#   RUNS=3 (best of), SIZE_MB=100, FILES=240: passed to the generator when CORPUS_DIR is empty.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-${DDBAUDIT_BIN:-$HERE/../build/release/ddbaudit}}
CORPUS=${2:-${TMPDIR:-/tmp}/ddbaudit-cloudtrail-corpus}
RUNS=${RUNS:-3}
[ -x "$BIN" ] || { echo "no ddbaudit binary at $BIN (build it, or pass its path)" >&2; exit 2; }
for tool in zcat jq python3; do
    command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 2; }
done
if [ ! -d "$CORPUS" ] || [ -z "$(find "$CORPUS" -name '*.json.gz' -print -quit)" ]; then
    echo "generating corpus in $CORPUS ..."
    python3 "$HERE/cloudtrail_gen.py" "$CORPUS" --size-mb "${SIZE_MB:-100}" --files "${FILES:-240}"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
find "$CORPUS" -name '*.json.gz' -print0 | sort -z >"$WORK/files"
files=$(tr -cd '\0' <"$WORK/files" | wc -c)
compressed=$(xargs -0 cat <"$WORK/files" | wc -c)
uncompressed=$(xargs -0 zcat <"$WORK/files" | wc -c)

# measure NAME COMMAND: runs COMMAND (a shell string) RUNS times; keeps the best wall time, with
# its CPU time and the largest peak RSS. GNU time when present, else getrusage in python.
measure() {
    local name=$1 command=$2 best="" line
    for _ in $(seq "$RUNS"); do
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" sh -c "$command"
            line=$(tail -1 "$WORK/time")
        else
            line=$(python3 - "$command" <<'EOF'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(["sh", "-c", sys.argv[1]], check=True)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f %.2f %.2f %d" % (wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss))
EOF
)
        fi
        if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best=$line
        fi
    done
    echo "$name $best" >>"$WORK/results"
}

list="xargs -0 zcat < '$WORK/files'"
filter='.Records[] | select(.eventSource == "dynamodb.amazonaws.com" or .eventSource == "kms.amazonaws.com" or .eventSource == "iam.amazonaws.com") | .eventID'
: >"$WORK/results"
measure decompress "$list > /dev/null"
measure zcat_jq "$list | jq -r '$filter' > '$WORK/jq.out'"
measure scan "'$BIN' cloudtrail scan '$CORPUS' > '$WORK/scan.json'"
measure scan_events "'$BIN' cloudtrail scan '$CORPUS' --format events > '$WORK/events.out'"

jq_events=$(wc -l <"$WORK/jq.out")
scan_events=$(wc -l <"$WORK/events.out")
dynamodb=$(xargs -0 zcat <"$WORK/files" | jq '[.Records[] | select(.eventSource == "dynamodb.amazonaws.com")] | length' | awk '{ s += $1 } END { print s }')
records=$(jq .counts.records_read "$WORK/scan.json")

awk -v files="$files" -v compressed="$compressed" -v uncompressed="$uncompressed" \
    -v jq_events="$jq_events" -v scan_events="$scan_events" -v records="$records" \
    -v dynamodb="$dynamodb" -v load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" '
{ wall[$1] = $2; user[$1] = $3; sys[$1] = $4; rss[$1] = $5 }
END {
    printf "corpus: %d files, %.1f MB gzip, %.1f MB JSON, %d records, %d DynamoDB (%.0f%%)\n",
        files, compressed / 1e6, uncompressed / 1e6, records, dynamodb, 100 * dynamodb / records
    printf "events selected: jq %d, ddbaudit %d%s\n\n", jq_events, scan_events,
        (jq_events == scan_events ? " (same)" : " (DIFFERENT)")
    printf "%-28s %8s %8s %10s %10s\n", "", "wall s", "cpu s", "MB/s", "peak RSS"
    split("decompress zcat_jq scan scan_events", order, " ")
    label["decompress"] = "zcat > /dev/null"
    label["zcat_jq"] = "zcat | jq (same selection)"
    label["scan"] = "ddbaudit cloudtrail scan"
    label["scan_events"] = "  --format events"
    for (i = 1; i <= 4; i++) {
        k = order[i]
        printf "%-28s %8.2f %8.2f %10.0f %7.1f MB\n", label[k], wall[k], user[k] + sys[k],
            uncompressed / 1e6 / (wall[k] > 0 ? wall[k] : 0.01), rss[k] / 1024
    }
    cpu["scan"] = user["scan"] + sys["scan"]
    cpu["decompress"] = user["decompress"] + sys["decompress"]
    cpu["zcat_jq"] = user["zcat_jq"] + sys["zcat_jq"]
    speedup = wall["zcat_jq"] / wall["scan"]
    versus = wall["scan"] / wall["decompress"]
    printf "\n%-20s %12s %12s %8s\n", "", "wall time", "cpu time", "target"
    printf "%-20s %11.1fx %11.1fx %8s  %s\n", "zcat|jq / scan", speedup,
        cpu["zcat_jq"] / cpu["scan"], ">= 25x", (speedup >= 25 ? "met" : "NOT MET")
    printf "%-20s %11.2fx %11.2fx %8s  %s\n", "scan / zcat alone", versus,
        cpu["scan"] / cpu["decompress"], "<= 2x", (versus <= 2 ? "met" : "NOT MET")
    printf "%-20s %11.1fx %11.1fx %8s  (the most any single-threaded gzip reader can reach)\n",
        "zcat|jq / zcat", wall["zcat_jq"] / wall["decompress"], cpu["zcat_jq"] / cpu["decompress"], ""
    printf "%-20s %10.1f MB %12s %8s  %s\n", "scan peak RSS", rss["scan"] / 1024, "", "< 64 MB",
        (rss["scan"] < 65536 ? "met" : "NOT MET")
    printf "\nload average while measuring: %s (wall times on a busy machine mislead; cpu times do not)\n", load
}' "$WORK/results"
