#!/usr/bin/env bash
# WebSocket fan-out against this machine's floor (BENCHMARKS.md, "WebSocket fan-out");
# not in CI. Each invocation starts a fresh release server on the simulator:
#
#   bash tests/bench/fanout.sh compare CLIENTS CHAINS   # loadgen compare, CHAINS = 1 or 10
#   bash tests/bench/fanout.sh idle CLIENTS             # RSS per idle connection
#   bash tests/bench/fanout.sh churn CLIENTS SECONDS    # long run, 1 % of clients replaced a second
#
# CHAINS 1 is NIFTY's nearest expiry; 10 are the two nearest of each of the five
# underlyings. Extra server flags go in FANOUT_SERVER_FLAGS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mode="${1:?compare, idle or churn}"
clients="${2:-2000}"

make -s plugins
cargo build --release -p optionhub -p loadgen
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/data"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
target/release/optionhub serve --listen "127.0.0.1:$port" --plugins target/plugins --data "$work/data" \
  --rate-pro 100000000 --ws-channels-pro 1000 --ws-connections-pro 100000 --sim-always-open \
  ${FANOUT_SERVER_FLAGS:-} >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  curl -fs "$base/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
# Startup work (compiling plugins, the first Greeks) must not count as the server's
# background, which loadgen measures before its clients connect.
sleep 20
token="$(target/release/optionhub user token dev --data "$work/data" | tail -n 1)"
# The nearest N expiries of an underlying, as channel names.
chains() {
  curl -fs -H "Authorization: Bearer $token" "$base/api/v2/options/expiries?underlying=$1" |
    python3 -c 'import json, sys
d = json.load(sys.stdin); e = d["expiries"] if isinstance(d, dict) else d
print(",".join(sys.argv[1] + ":" + (x["date"] if isinstance(x, dict) else x) for x in e[:int(sys.argv[2])]))' "$1" "$2"
}
one="$(chains NIFTY 1)"
ten="$(for u in NIFTY BANKNIFTY FINNIFTY MIDCPNIFTY SENSEX; do chains "$u" 2; done | paste -sd,)"
export LOADGEN_TOKEN="$token"
url="ws://127.0.0.1:$port/ws/live"
echo "fanout: server pid $server on port $port"
case "$mode" in
  compare)
    channels="$one"; [ "${3:-1}" = 10 ] && channels="$ten"
    echo "fanout: $clients clients on $channels"
    target/release/loadgen compare --url "$url" --clients "$clients" --channels "$channels" \
      --duration 30 --connect-rate 2000 --server-pid "$server" ;;
  idle)
    target/release/loadgen idle --url "$url" --clients "$clients" --server-pid "$server" ;;
  churn)
    seconds="${3:-600}"
    target/release/loadgen soak --url "$base" --ws-url "$url" --server-pid "$server" \
      --duration "$seconds" --warmup 60 --rate 20 --in-flight 8 \
      --clients "$clients" --churn "$((clients / 100))" --channels "$one" \
      --route "/api/v2/market/underlyings" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
