#!/usr/bin/env bash
# `ddbaudit template render` end to end: output on stdout, exit codes, and diagnostics that
# name file:line:col with a caret under the offending tag.
set -u

bin=${DDBAUDIT_BIN:-}
cd "${DDBAUDIT_SOURCE_DIR:-.}" || exit 1
if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "skipped: no ddbaudit binary at '${bin}' (src/main.c not built yet?)"
    exit 77
fi
if ! "$bin" template render --help >/dev/null 2>&1; then
    echo "skipped: $bin has no 'template render' command yet (not in the command table)"
    exit 77
fi

dir=tests/data/templates
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run NAME EXPECTED_STATUS ARGS...: runs the command, keeps stdout/stderr in $tmp/NAME.*
run() {
    local name=$1 expected=$2
    shift 2
    "$bin" template render "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    local status=$?
    if [[ $status -ne $expected ]]; then
        fail "$name: exit status $status, expected $expected"
        sed 's/^/    /' "$tmp/$name.err"
    fi
}

# expect_stderr NAME TEXT: stderr of NAME contains TEXT as a whole line
expect_stderr_line() {
    if ! grep -qxF -- "$2" "$tmp/$1.err"; then
        fail "$1: stderr lacks the line: $2"
        sed 's/^/    /' "$tmp/$1.err"
    fi
}

run render 0 "$dir/report.html.mustache" "$dir/data.json"
if ! cmp -s "$tmp/render.out" "$dir/report.expected.html"; then
    fail "render: output differs from $dir/report.expected.html"
    diff "$dir/report.expected.html" "$tmp/render.out" | sed 's/^/    /'
fi
[[ -s "$tmp/render.err" ]] && fail "render: unexpected stderr: $(cat "$tmp/render.err")"

run markdown 0 "$dir/summary.md.mustache" "$dir/data.json"
grep -qF '# DynamoDB \<encryption\> \& keys' "$tmp/markdown.out" ||
    fail "markdown: title not Markdown-escaped: $(head -1 "$tmp/markdown.out")"

run format 0 --format text "$dir/report.html.mustache" "$dir/data.json" --partials "$dir/override"
grep -qF '<h1>DynamoDB <encryption> & keys</h1>' "$tmp/format.out" ||
    fail "format: --format text still escaped the title"
grep -qF '(override)' "$tmp/format.out" || fail "format: --partials was not used"

run unclosed 3 "$dir/unclosed.md.mustache" "$dir/data.json"
expect_stderr_line unclosed "$dir/unclosed.md.mustache:3:1: error: unclosed section '#tables': no '/tables' before the end of $dir/unclosed.md.mustache"
expect_stderr_line unclosed "   {{#tables}}"
expect_stderr_line unclosed "   ^~~~~~~~~~~"
[[ -s "$tmp/unclosed.out" ]] && fail "unclosed: wrote output despite the error"

run mismatched 3 "$dir/mismatched.md.mustache" "$dir/data.json"
expect_stderr_line mismatched "$dir/mismatched.md.mustache:5:1: error: mismatched closing tag '/tables': the open section is '#tags' (line 4, column 1)"
expect_stderr_line mismatched "   {{/tables}}"
expect_stderr_line mismatched "$dir/mismatched.md.mustache:4:1: note: section 'tags' opened here"

run bad_json 3 "$dir/report.html.mustache" "$dir/bad.json"
grep -qF "$dir/bad.json:3:19: error:" "$tmp/bad_json.err" ||
    fail "bad_json: no file:line:col: $(cat "$tmp/bad_json.err")"

run strict 3 --strict "$dir/missing-partial.mustache" "$dir/data.json"
grep -qF "$dir/missing-partial.mustache:1:12: error: unknown partial 'missing'" "$tmp/strict.err" ||
    fail "strict: $(cat "$tmp/strict.err")"
run lenient 0 "$dir/missing-partial.mustache" "$dir/data.json"

run usage 2 "$dir/report.html.mustache"
run bad_format 2 --format pdf "$dir/report.html.mustache" "$dir/data.json"
run missing_file 3 "$dir/no-such.mustache" "$dir/data.json"

if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all template render checks passed"
