# Shared helpers for the shell integration tests (sourced, not run).
set -u
BIN=${DDBAUDIT_BIN:?DDBAUDIT_BIN is not set (run through ctest)}
SRC=${DDBAUDIT_SOURCE_DIR:?}
[ -x "$BIN" ] || { echo "skipped: $BIN not built"; exit 77; }
WORK=$(mktemp -d /tmp/ddbaudit-it-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok - $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL - $1"; }

# expect_exit CODE NAME -- command...: runs the command, keeps stdout/stderr in $WORK/out|err.
expect_exit() {
    local want=$1 name=$2
    shift 3
    "$@" >"$WORK/out" 2>"$WORK/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then pass "$name (exit $got)"; else
        fail "$name: exit $got, want $want"; sed 's/^/    /' "$WORK/err" | head -20; fi
}

# expect_stderr NAME PATTERN: grep -E on the last command's stderr.
expect_stderr() {
    if grep -Eq -- "$2" "$WORK/err"; then pass "$1"; else
        fail "$1: stderr lacks /$2/"; sed 's/^/    /' "$WORK/err" | head -20; fi
}

finish() {
    echo "$((checks - failures)) passed, $failures failed"
    [ "$failures" -eq 0 ]
}
