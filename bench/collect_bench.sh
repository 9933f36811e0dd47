#!/usr/bin/env bash
# Benchmarks `ddbaudit collect` against the project's test endpoint answering a synthetic
# account with a fixed latency per call (default 50 ms):
#   small: 50 tables in 2 regions -- ddbaudit vs a shell loop of AWS CLI calls vs a sequential
#          botocore script doing the same calls;
#   large: 1,000 tables in 4 regions -- ddbaudit vs the bound latency x calls / concurrency.
# Prints wall times, ratios and ddbaudit's peak RSS. Targets: >= 20x the CLI loop, >= 5x the
# sequential script, within 1.15x of the bound, RSS < 64 MB.
# usage: bench/collect_bench.sh [--skip-cli] [DDBAUDIT_BIN]   (env LATENCY_MS, CONCURRENCY)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
skip_cli=0
if [ "${1:-}" = "--skip-cli" ]; then
    skip_cli=1
    shift
fi
bin=${1:-${DDBAUDIT_BIN:-$root/build/release/ddbaudit}}
latency=${LATENCY_MS:-50}
concurrency=${CONCURRENCY:-16}
work=$(mktemp -d /tmp/ddbaudit-bench.XXXXXX)
endpoint_pid=""
cleanup() {
    if [ -n "$endpoint_pid" ]; then
        kill "$endpoint_pid" 2>/dev/null || true
        wait "$endpoint_pid" 2>/dev/null || true
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$work"; [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || true
}
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=AKIDBENCHMARK0000000 AWS_SECRET_ACCESS_KEY=bench-secret-key
export AWS_CONFIG_FILE=$work/none AWS_SHARED_CREDENTIALS_FILE=$work/none AWS_PAGER=""
export AWS_EC2_METADATA_DISABLED=true TZ=UTC
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_endpoint() { # TABLES_PER_REGION [extra args]
    local tables=$1
    shift
    if [ -n "$endpoint_pid" ]; then
        kill "$endpoint_pid" && wait "$endpoint_pid" 2>/dev/null || true
    fi
    port=$(free_port)
    python3 "$root/tests/endpoint/endpoint.py" --port "$port" --synthetic "$tables" \
        --latency-ms "$latency" --access-key "$AWS_ACCESS_KEY_ID" \
        --secret-key "$AWS_SECRET_ACCESS_KEY" "$@" >"$work/endpoint.log" 2>&1 &
    endpoint_pid=$!
    url=http://127.0.0.1:$port
    for _ in $(seq 1 300); do
        curl -fs "$url/__endpoint/health" >/dev/null 2>&1 && return 0
        kill -0 "$endpoint_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "endpoint did not start:" >&2
    cat "$work/endpoint.log" >&2
    exit 1
}

requests() { curl -fs "$url/__endpoint/stats" | jq '[.requests[]] | add'; }
reset_stats() { curl -fs -X POST -d '{"reset_stats": true}' "$url/__endpoint/config" >/dev/null; }

measure() { # NAME COMMAND... -> sets elapsed, rss_kb
    local name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
        echo "failed: $*" >&2
        tail -5 "$work/$name.err" >&2
        return 1
    }
    read -r elapsed rss_kb <"$work/time"
}

echo "ddbaudit: $bin"
echo "latency: ${latency} ms per call, concurrency: $concurrency, CPUs: $(nproc)"

# ---- small: 50 tables in 2 regions ----
start_endpoint 25
reset_stats
AWS_ENDPOINT_URL=$url measure small "$bin" collect --out "$work/small" \
    --regions eu-west-1,us-east-1 --concurrency "$concurrency" --quiet
small_ddb=$elapsed small_rss=$rss_kb small_calls=$(requests)
echo "small: ddbaudit collect: ${small_ddb}s for $small_calls requests, peak RSS $((small_rss / 1024)) MB"

reset_stats
measure seq python3 "$here/sequential_botocore.py" "$url" "$work/seq" eu-west-1 us-east-1
small_seq=$elapsed
echo "small: sequential botocore: ${small_seq}s for $(requests) requests ($(python3 -c 'import botocore; print(botocore.__file__)'))"

if [ "$skip_cli" = 0 ]; then
    reset_stats
    measure cli bash "$here/cli_loop.sh" "$url" "$work/cli" eu-west-1 us-east-1
    small_cli=$elapsed
    echo "small: AWS CLI loop: ${small_cli}s for $(requests) requests"
fi

# ---- large: 1,000 tables in 4 regions ----
start_endpoint 250
reset_stats
AWS_ENDPOINT_URL=$url measure large "$bin" collect --out "$work/large" \
    --regions eu-west-1,us-east-1,us-west-2,ap-southeast-2 --concurrency "$concurrency" --quiet
large_ddb=$elapsed large_rss=$rss_kb large_calls=$(requests)
echo "large: ddbaudit collect: ${large_ddb}s for $large_calls requests, peak RSS $((large_rss / 1024)) MB"

python3 - "$small_ddb" "$small_seq" "${small_cli:-0}" "$large_ddb" "$large_calls" "$latency" \
    "$concurrency" "$small_rss" "$large_rss" <<'PY'
import sys
small, seq, cli, large, calls, latency, conc, rss_s, rss_l = map(float, sys.argv[1:])
bound = calls * latency / 1000 / conc
print()
print("| measure | value | target |")
print("|---|---|---|")
if cli:
    print(f"| small: speed-up vs AWS CLI loop | {cli / small:.1f}x | >= 20x |")
print(f"| small: speed-up vs sequential botocore | {seq / small:.1f}x | >= 5x |")
print(f"| large: time / bound ({calls:.0f} calls x {latency:.0f} ms / {conc:.0f}) | "
      f"{large:.2f}s / {bound:.2f}s = {large / bound:.3f} | <= 1.15 |")
print(f"| peak RSS (small / large) | {rss_s / 1024:.1f} MB / {rss_l / 1024:.1f} MB | < 64 MB |")
PY
