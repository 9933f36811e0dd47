# The real binary on the bundled sample and on broken inputs: exit codes, file:line:col
# messages, deterministic output, and nothing half-written when a run fails.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
SAMPLE=$SRC/evidence/sample

expect_exit 0 "version" -- "$BIN" --version
expect_exit 2 "unknown command" -- "$BIN" frobnicate
expect_exit 2 "report without --evidence" -- "$BIN" report
expect_exit 2 "bad --as-of" -- "$BIN" report --evidence "$SAMPLE" --as-of 2026-13-01
expect_exit 0 "command help comes from the table" -- "$BIN" report --help
grep -q -- "--fail-on" "$WORK/out" && pass "report --help lists --fail-on" || fail "report --help"

# The sample evaluates; two runs give the same bytes.
expect_exit 0 "report on the sample" -- "$BIN" report --evidence "$SAMPLE" --out "$WORK/a" --format json
expect_exit 0 "again" -- "$BIN" report --evidence "$SAMPLE" --out "$WORK/b" --format json
if cmp -s "$WORK/a/report.json" "$WORK/b/report.json"; then pass "report.json is byte-identical across runs"; else fail "report.json differs between runs"; fi
python3 - "$WORK/a/report.json" <<'PY' && pass "every Pass cites evidence with a hash, every control has a status" || fail "report content"
import json, sys, re
r = json.load(open(sys.argv[1]))
assert len(r["controls"]) == 25, len(r["controls"])
seen = set()
for c in r["controls"]:
    seen.add(c["status"])
    for f in c["findings"]:
        seen.add(f["status"])
        if f["status"] == "pass":
            assert f["evidence"] or f.get("attestation"), (c["id"], f)
        for e in f["evidence"]:
            assert re.fullmatch(r"[0-9a-f]{64}", e["sha256"]), e
            assert e["pointer"] == "" or e["pointer"].startswith("/"), e
assert {"pass", "review", "remediate", "accepted"} <= seen, seen
assert r["inputs"]["as_of"] == r["inputs"]["collected_at"][:10]
assert r["exceptions_unmatched"], "RISK-130 matches nothing and must be reported"
PY
expect_exit 1 "--fail-on remediate with remediate findings" -- "$BIN" report --evidence "$SAMPLE" --out "$WORK/c" --format json --fail-on remediate

# ---- --out never replaces a directory that is not a packet
mkdir -p "$WORK/mine" && echo precious > "$WORK/mine/thesis.txt"
expect_exit 2 "--out on a user's directory is refused" -- "$BIN" report --evidence "$SAMPLE" --out "$WORK/mine" --format json
[ "$(cat "$WORK/mine/thesis.txt")" = precious ] && pass "the user's file survives" || fail "the user's file was lost"
expect_exit 0 "--out on an earlier packet replaces it" -- "$BIN" report --evidence "$SAMPLE" --out "$WORK/a" --format json

# ---- a broken catalog: the exact position, the source line, a caret; nothing written
cp -r "$SRC/controls" "$WORK/controls"
sed -i 's/^vendor_status: pass$/vendor_status: passs/' "$WORK/controls/ddb-04-encryption-at-rest.yaml"
line=$(grep -n '^vendor_status: passs' "$WORK/controls/ddb-04-encryption-at-rest.yaml" | cut -d: -f1)
mkdir -p "$WORK/keep" && echo previous > "$WORK/keep/marker"
expect_exit 3 "unknown status in the catalog" -- "$BIN" report --evidence "$SAMPLE" --controls "$WORK/controls" --out "$WORK/keep"
expect_stderr "error points at file:line:col" "ddb-04-encryption-at-rest.yaml:$line:16: error: unknown status 'passs'"
expect_stderr "the source line is quoted" "^   vendor_status: passs$"
expect_stderr "a caret underlines the value" '^ +\^~~~~$'
[ "$(cat "$WORK/keep/marker")" = previous ] && pass "the previous packet is untouched" || fail "previous packet changed"
ls "$WORK" | grep -q '\.tmp\.' && fail "a temp dir was left behind" || pass "no temp dir left behind"

cp -r "$SRC/controls" "$WORK/controls2"
printf 'id: DDB-99\ntitle: "unclosed\n' > "$WORK/controls2/zz-broken.yaml"
expect_exit 3 "YAML syntax error" -- "$BIN" controls lint "$WORK/controls2"
expect_stderr "syntax error has a position" "zz-broken.yaml:[0-9]+:[0-9]+: error: invalid YAML"

cp -r "$SRC/controls" "$WORK/controls3"
sed -i 's/^  check: point_in_time_recovery/  check: point_in_time_recovery\n  colour: blue/' "$WORK/controls3/ddb-19-point-in-time-recovery.yaml"
sed -i 's|^  - dynamodb:DescribeContinuousBackups|  - dynamodb:DescribeContinuousBackupz|' "$WORK/controls3/ddb-19-point-in-time-recovery.yaml"
sed -i 's|url: https://|url: htps://|' "$WORK/controls3/ddb-21-tagging.yaml"
sed -i 's/^id: DDB-22$/id: DDB-21/' "$WORK/controls3/ddb-22-data-plane-monitoring.yaml"
expect_exit 3 "lint finds every problem at once" -- "$BIN" controls lint "$WORK/controls3"
expect_stderr "unknown key" "ddb-19-point-in-time-recovery.yaml:[0-9]+:3: error: unknown key 'colour' in rule"
expect_stderr "unknown operation" "error: unknown operation 'dynamodb:DescribeContinuousBackupz'"
expect_stderr "malformed URL" "ddb-21-tagging.yaml:[0-9]+:[0-9]+: error: malformed URL 'htps://"
expect_stderr "duplicate id" "error: duplicate id 'DDB-21'"
expect_exit 0 "the bundled catalog lints clean" -- "$BIN" controls lint "$SRC/controls"

# ---- broken evidence
snap() { rm -rf "$WORK/s"; cp -r "$SAMPLE" "$WORK/s"; }
seal() { "$BIN" evidence seal "$WORK/s" --account 111122223333 --collected-at 2026-10-01T09:30:00Z >/dev/null; }
table=111122223333/eu-west-1/dynamodb/DescribeTable/orders.json

snap; printf '1' >> "$WORK/s/$table"
expect_exit 3 "a file changed after sealing is refused" -- "$BIN" report --evidence "$WORK/s" --out "$WORK/o1"
expect_stderr "names the file and says why" "DescribeTable/orders.json: error: changed after sealing"
[ ! -e "$WORK/o1" ] && pass "no packet from tampered evidence" || fail "packet written from tampered evidence"

snap; head -c 200 "$WORK/s/$table" > "$WORK/t" && mv "$WORK/t" "$WORK/s/$table"; rm "$WORK/s/manifest.json"
expect_exit 3 "sealing truncated JSON is refused" -- "$BIN" evidence seal "$WORK/s" --account 111122223333
expect_stderr "truncated JSON has file:line:col" "DescribeTable/orders.json:[0-9]+:[0-9]+: error: not valid JSON"

snap; python3 - "$WORK/s" "$table" <<'PY'
import json, sys, hashlib
root, path = sys.argv[1], sys.argv[2]
data = open(f"{root}/{path}", "rb").read()[:200]
open(f"{root}/{path}", "wb").write(data)
m = json.load(open(f"{root}/manifest.json"))
for c in m["calls"]:
    if c.get("path") == path:
        c["sha256"] = hashlib.sha256(data).hexdigest(); c["size"] = len(data)
json.dump(m, open(f"{root}/manifest.json", "w"), indent=2)
PY
expect_exit 3 "truncated JSON with a matching hash" -- "$BIN" report --evidence "$WORK/s" --out "$WORK/o2"
expect_stderr "position of the truncation" "DescribeTable/orders.json:[0-9]+:[0-9]+: error: not valid JSON"

snap; sed -i '0,/"format_version": 1,/s//"format_version": 1,\n  "colour": "blue",/' "$WORK/s/manifest.json"
expect_exit 3 "unknown manifest field" -- "$BIN" report --evidence "$WORK/s" --out "$WORK/o3"
expect_stderr "names the field" "unknown field 'colour'"

snap; rm "$WORK/s/manifest.json"
expect_exit 3 "missing manifest" -- "$BIN" report --evidence "$WORK/s" --out "$WORK/o4"
expect_stderr "says how to make one" "no manifest.json .*evidence seal"

mkdir -p "$WORK/empty"
printf '{"format": "ddbaudit-evidence", "format_version": 1, "account": "111122223333", "partition": "aws", "regions": ["eu-west-1"], "period": null, "collected_at": "2026-10-01T00:00:00Z", "calls": []}' > "$WORK/empty/manifest.json"
expect_exit 3 "empty snapshot" -- "$BIN" report --evidence "$WORK/empty" --out "$WORK/o5"
expect_stderr "says there is nothing" "records no API calls"
sed -i 's/"regions": \["eu-west-1"\]/"regions": []/' "$WORK/empty/manifest.json"
expect_exit 3 "a manifest with no regions" -- "$BIN" report --evidence "$WORK/empty" --out "$WORK/o5"
expect_stderr "says why it matters" "lists no regions"
snap
sed -i 's/"collected_at": "2026-10-01T09:30:00Z"/"collected_at": "2026-10-01T09:30:00+02:00"/' "$WORK/s/manifest.json"
expect_exit 3 "a collection time with an offset" -- "$BIN" report --evidence "$WORK/s" --out "$WORK/o10"
expect_stderr "asks for UTC" "not a UTC time"

snap; python3 - "$WORK/s" "$table" <<'PY'
import json, sys, hashlib, os
root, path = sys.argv[1], sys.argv[2]
target = "/etc/hostname" if os.path.exists("/etc/hostname") else "/etc/passwd"
os.remove(f"{root}/{path}"); os.symlink(target, f"{root}/{path}")
data = open(target, "rb").read()
m = json.load(open(f"{root}/manifest.json"))
for c in m["calls"]:
    if c.get("path") == path:
        c["sha256"] = hashlib.sha256(data).hexdigest(); c["size"] = len(data)
json.dump(m, open(f"{root}/manifest.json", "w"), indent=2)
PY
expect_exit 3 "a symlink out of the snapshot, even with a matching hash" -- "$BIN" report --evidence "$WORK/s" --out "$WORK/o6"
expect_stderr "says it leaves the snapshot" "outside the snapshot"
expect_exit 3 "sealing refuses symlinks" -- "$BIN" evidence seal "$WORK/s" --account 111122223333
expect_stderr "names the link" "symbolic link"

snap; sed -i 's|"path": "111122223333/eu-west-1/dynamodb/DescribeTable/orders.json"|"path": "../../etc/passwd"|' "$WORK/s/manifest.json"
expect_exit 3 "a path escaping the snapshot" -- "$BIN" report --evidence "$WORK/s" --out "$WORK/o7"

# ---- exceptions and attestations
printf 'exceptions:\n  - control: DDB-77\n    resource: "*"\n    ticket: {id: R-1, url: "https://t.example.com/R-1"}\n    approved_by: x\n    reason: y\n    expires: 2027-01-01\n' > "$WORK/exc.yaml"
expect_exit 3 "acceptance for an unknown control" -- "$BIN" report --evidence "$SAMPLE" --exceptions "$WORK/exc.yaml" --out "$WORK/o8"
expect_stderr "with its position" "exc.yaml:2:14: error: unknown control 'DDB-77'"
printf 'exceptions:\n  - control: DDB-19\n    resource: "*"\n    ticket: {id: R-1, url: "javascript:alert(1)"}\n    approved_by: x\n    reason: y\n    expires: 2027-02-30\n' > "$WORK/exc.yaml"
expect_exit 3 "bad date and a script URL" -- "$BIN" report --evidence "$SAMPLE" --exceptions "$WORK/exc.yaml" --out "$WORK/o9"
expect_stderr "impossible date" "exc.yaml:7:14: error: '2027-02-30' is not a date"
expect_stderr "ticket URL must be https" "ticket url must be an https:// link"

# ---- docs/controls.md is generated from the catalog and must be current
"$BIN" controls doc "$SRC/controls" > "$WORK/controls.md"
if cmp -s "$WORK/controls.md" "$SRC/docs/controls.md"; then pass "docs/controls.md is current"; else
    fail "docs/controls.md is stale: run ./build/…/ddbaudit controls doc > docs/controls.md"; fi

finish
