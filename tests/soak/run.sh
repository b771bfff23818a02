#!/usr/bin/env bash
# The soak: a release server on the simulator under everything at once for a long run
# (`make soak`; not in CI). Figures go in BENCHMARKS.md.
#
#   bash tests/soak/run.sh [SECONDS]        # default 1200 (20 minutes), plus warm-up
#
# - 2,000 WebSocket clients on NIFTY and BANKNIFTY's nearest chains, 20 replaced a second;
# - REST at 1,000/s over ordinary routes, with hostile plugins called alongside (4/s);
# - an upload every minute, alternating two versions of the probe plugin.
# loadgen checks the targets (RSS growth after warm-up < 5 %, no 5xx on ordinary routes,
# no 500 anywhere, no failed Greeks recomputation) and exits non-zero if one is missed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
duration="${1:-1200}"
warmup="${SOAK_WARMUP:-120}"
# SQLite in the run's data directory by default; SOAK_DATABASE_URL runs on another
# database (server and token command alike).
if [ -n "${SOAK_DATABASE_URL:-}" ]; then export DATABASE_URL="$SOAK_DATABASE_URL"; fi

make -s plugins fixtures
cargo build --release -p optionhub -p loadgen
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/plugins" "$work/data"
cp target/plugins/*.wasm "$work/plugins/"
for fixture in hostile overreach; do
  [ -f "target/wasm32-wasip2/release/$fixture.wasm" ] && cp "target/wasm32-wasip2/release/$fixture.wasm" "$work/plugins/"
done

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
target/release/optionhub serve --listen "127.0.0.1:$port" --plugins "$work/plugins" --data "$work/data" \
  --rate-pro 100000000 --ws-channels-pro 1000 --ws-connections-pro 100000 --sim-always-open ${SOAK_SERVER_FLAGS:-} >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  sleep 1
done
token="$(target/release/optionhub user token dev --data "$work/data" | tail -n 1)"
expiry() {
  curl -fs -H "Authorization: Bearer $token" "$base/api/v2/options/expiries?underlying=$1" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); e = d["expiries"] if isinstance(d, dict) else d; print(e[0]["date"] if isinstance(e[0], dict) else e[0])'
}
nifty="$(expiry NIFTY)"
banknifty="$(expiry BANKNIFTY)"
echo "soak: server pid $server on port $port; NIFTY $nifty, BANKNIFTY $banknifty; ${duration} s after ${warmup} s warm-up"

status=0
LOADGEN_TOKEN="$token" target/release/loadgen soak --url "$base" --ws-url "ws://127.0.0.1:$port/ws/live" \
  --server-pid "$server" --duration "$duration" --warmup "$warmup" --rate 1000 --in-flight 512 \
  --clients 2000 --churn 20 --channels "NIFTY:$nifty,BANKNIFTY:$banknifty" \
  --route "/api/v2/options/live?underlying=NIFTY&expiry=$nifty" \
  --route "/fo/summary?underlying=NIFTY&expiry=$nifty" \
  --route "/fo/strike-distribution?underlying=BANKNIFTY&expiry=$banknifty&strikes=10" \
  --route "/api/v2/market/underlyings" \
  --route "/api/v2/analytics/gamma-exposure?underlying=NIFTY&expiry=$nifty" \
  --hostile "/api/v2/analytics/hostile?underlying=NIFTY&expiry=$nifty&mode=loop" \
  --hostile "/api/v2/analytics/hostile?underlying=NIFTY&expiry=$nifty&mode=hog" \
  --hostile "/api/v2/analytics/hostile?underlying=NIFTY&expiry=$nifty&mode=huge-output&len=3000000" \
  --hostile "/api/v2/analytics/hostile?underlying=NIFTY&expiry=$nifty&mode=trap" \
  --upload target/wasm32-wasip2/release/probe.wasm \
  --upload target/probe-v2/wasm32-wasip2/release/probe.wasm --upload-every 60 || status=$?
echo "soak: server log tail"; tail -n 20 "$work/server.log"
exit $status
