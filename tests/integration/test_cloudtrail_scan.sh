#!/bin/bash
# `ddbaudit cloudtrail scan` end to end: agrees with jq on which events it selects from the real
# CloudTrail logs in ../shared/testdata/cloudtrail, reads both shapes alike, goes on past broken
# files, exits 3 only when nothing could be read, and survives a 100 MB record.
set -u
BIN=${DDBAUDIT_BIN:-}
SOURCE=${DDBAUDIT_SOURCE_DIR:-.}
SHARED=${DDBAUDIT_SHARED_DIR:-../shared}
DATA=$SOURCE/tests/data/cloudtrail
[ -x "$BIN" ] || { echo "skipped: DDBAUDIT_BIN is not built"; exit 77; }
command -v jq >/dev/null || { echo "skipped: jq is not installed"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
check() { # name, command...
    local name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

# 1. Real logs: every file that is valid JSON is read, and the selection is jq's.
REAL=$SHARED/testdata/cloudtrail
if [ -d "$REAL" ]; then
    "$BIN" cloudtrail scan "$REAL" --format events >"$WORK/events.jsonl" 2>"$WORK/real.err"
    check "real: exit 0" test $? -eq 0
    jq -r '"\(.event_id) \(.event_source)"' "$WORK/events.jsonl" | sort >"$WORK/ours"
    find "$REAL" -type f \( -name '*.json' -o -name '*.json.gz' \) | sort | while read -r f; do
        zcat -f "$f" | jq -r '(.Records[]? // .) | select(.eventSource == "dynamodb.amazonaws.com"
            or .eventSource == "kms.amazonaws.com" or .eventSource == "iam.amazonaws.com")
            | "\(.eventID) \(.eventSource)"'
    done | sort >"$WORK/jq"
    check "real: same events as jq ($(wc -l <"$WORK/jq") events)" cmp -s "$WORK/ours" "$WORK/jq"
    check "real: some events selected" test -s "$WORK/jq"
    check "real: no warnings" test ! -s "$WORK/real.err"
    "$BIN" cloudtrail scan "$REAL" >"$WORK/real.json"
    files=$(find "$REAL" -type f \( -name '*.json' -o -name '*.json.gz' \) | wc -l)
    check "real: every file read ok" test "$(jq '[.sources[] | select(.status == "ok")] | length' "$WORK/real.json")" -eq "$files"
    total=$(find "$REAL" -type f \( -name '*.json' -o -name '*.json.gz' \) | sort | while read -r f; do
        zcat -f "$f" | jq '(.Records[]? // .) | 1'; done | wc -l)
    check "real: records read = jq's ($total)" test "$(jq .counts.records_read "$WORK/real.json")" -eq "$total"
else
    echo "note: $REAL not present; real-data checks skipped"
fi

# 2. Both delivered shapes give the same findings.
for shape in records lookup; do
    "$BIN" cloudtrail scan "$DATA/$shape" --period 2026-07-01..2026-09-30 \
        --keys arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111 |
        jq -S 'del(.sources, .counts.records_read, .counts.records_prefiltered)
               | walk(if type == "object" then del(.source, .example) else . end)' >"$WORK/$shape.json"
done
check "shapes: records and lookup-events agree" cmp -s "$WORK/records.json" "$WORK/lookup.json"
check "findings: 14 control-plane changes in the period" \
    test "$(jq '.dynamodb_control_plane | length' "$WORK/records.json")" -eq 14
check "findings: PITR turned off is flagged" \
    test "$(jq '[.dynamodb_control_plane[] | select(.concerns | index("pitr_disabled"))] | length' "$WORK/records.json")" -eq 1
check "findings: 8 IAM policy changes" test "$(jq '.iam_policy_changes | length' "$WORK/records.json")" -eq 8
check "findings: 3 KMS administration events" test "$(jq '.kms.key_administration | length' "$WORK/records.json")" -eq 3
check "findings: 2 calls below TLS 1.2" test "$(jq '.transport.below_tls_1_2 | length' "$WORK/records.json")" -eq 2

# 3. Deterministic: the same input twice gives the same bytes.
"$BIN" cloudtrail scan "$DATA/records" >"$WORK/a.json"
"$BIN" cloudtrail scan "$DATA/records" >"$WORK/b.json"
check "deterministic output" cmp -s "$WORK/a.json" "$WORK/b.json"
check "every event links to its source" \
    test "$(jq '[.dynamodb_control_plane[], .iam_policy_changes[] | select(.source.sha256 | length == 64)] | length' "$WORK/a.json")" -eq 24

# 4. Broken files are warnings with file and offset; the scan goes on.
"$BIN" cloudtrail scan "$DATA/hostile" "$DATA/records" >"$WORK/h.json" 2>"$WORK/h.err"
check "hostile: exit 0" test $? -eq 0
check "hostile: warnings name file and byte" grep -q 'truncated.json.gz: warning: compressed byte' "$WORK/h.err"
check "hostile: good files still read" test "$(jq '[.sources[] | select(.file | test("records/"))] | map(.kept) | add' "$WORK/h.json")" -eq 38

# 5. Exit 3 only when nothing could be read.
"$BIN" cloudtrail scan "$WORK/does-not-exist.json.gz" >/dev/null 2>&1
check "unreadable only: exit 3" test $? -eq 3
"$BIN" cloudtrail scan "$WORK/does-not-exist.json.gz" "$DATA/records" >/dev/null 2>&1
check "one unreadable among readable: exit 0" test $? -eq 0
mkdir "$WORK/empty"
"$BIN" cloudtrail scan "$WORK/empty" >/dev/null 2>&1
check "no log files at all: exit 3" test $? -eq 3
"$BIN" cloudtrail scan --period 2026-07..2026-08 "$DATA/records" >/dev/null 2>&1
check "bad --period: exit 2" test $? -eq 2
"$BIN" cloudtrail scan --since 2026-07-10 --until 2026-07-01 "$DATA/records" >/dev/null 2>&1
check "--since after --until: exit 2" test $? -eq 2
"$BIN" cloudtrail scan --since 2026-07-01 --until 2026-09-30 "$DATA/records" | jq -S 'del(.sources)' >"$WORK/since.json"
"$BIN" cloudtrail scan --period 2026-07-01..2026-09-30 "$DATA/records" | jq -S 'del(.sources)' >"$WORK/period.json"
check "--since/--until = --period" cmp -s "$WORK/since.json" "$WORK/period.json"

# 6. A 100 MB record: skipped with a warning under the default cap, read with a larger one.
python3 - "$WORK/huge.json.gz" <<'EOF'
import gzip, json, sys
small = {"eventSource": "dynamodb.amazonaws.com", "eventName": "DeleteTable", "eventID": "after",
         "eventTime": "2026-07-01T00:00:00Z"}
with gzip.open(sys.argv[1], "wb", compresslevel=1) as f:
    f.write(b'{"Records":[{"eventSource":"dynamodb.amazonaws.com","eventName":"CreateTable",'
            b'"eventID":"huge","eventTime":"2026-07-01T00:00:00Z","requestParameters":{"pad":"')
    chunk = b"x" * (1 << 20)
    for _ in range(100):
        f.write(chunk)
    f.write(b'"}},' + json.dumps(small).encode() + b"]}")
EOF
rss() { # peak RSS in KB of "$@", via /usr/bin/time -v when present
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'
    else
        python3 -c 'import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
    fi
}
"$BIN" cloudtrail scan "$WORK/huge.json.gz" --format events >"$WORK/huge.out" 2>"$WORK/huge.err"
check "100 MB record: exit 0" test $? -eq 0
check "100 MB record: skipped with a warning" grep -q 'larger than the 33554432-byte record limit' "$WORK/huge.err"
check "100 MB record: the next record is kept" grep -q '"after"' "$WORK/huge.out"
if grep -qs 'DDBAUDIT_SANITIZE:BOOL=ON' "${DDBAUDIT_BUILD_DIR:-.}/CMakeCache.txt"; then
    echo "note: sanitizer build; its shadow memory makes RSS meaningless, check skipped"
else
    peak=$(rss "$BIN" cloudtrail scan "$WORK/huge.json.gz")
    check "100 MB record: peak RSS ${peak} KB < 64 MB" test "$peak" -lt 65536
fi
"$BIN" cloudtrail scan "$WORK/huge.json.gz" --format events --max-record-size 128M >"$WORK/huge2.out" 2>"$WORK/huge2.err"
check "100 MB record: read with --max-record-size 128M" test "$(grep -c event_id "$WORK/huge2.out")" -eq 2

exit $((failures > 0))
