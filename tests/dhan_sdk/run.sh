#!/usr/bin/env bash
# Wire-compatibility check of `optionhub sim` against the official dhanhq Python SDK.
#
#   bash tests/dhan_sdk/run.sh target/release/optionhub
#
# Makes (or reuses) a virtualenv at target/dhan-sdk-venv with the pinned SDK, starts the
# simulator on a free loopback port, runs check_simulator.py against it and exits with
# its status. Needs only python3 (>= 3.11) and the PyPI registry on first use.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BINARY   (e.g. target/release/optionhub)" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="$1"
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
if [ ! -x "$binary" ]; then
  echo "dhan_sdk: no executable at $binary" >&2
  exit 2
fi

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "dhan_sdk: $python is missing or older than 3.11 (set PYTHON=...)" >&2
  exit 2
fi

# ---- virtualenv (tests/python/venv.sh) ---------------------------------------------------
source "$root/tests/python/venv.sh"
venv="$root/target/dhan-sdk-venv"
ensure_venv dhan_sdk "$venv" "$here/requirements.txt"

# ---- simulator ------------------------------------------------------------------------
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
log="$root/target/dhan-sdk-sim.log"
"$binary" sim --listen "127.0.0.1:$port" --seed 1 --client-id SIMCLIENT --access-token SIMTOKEN --tick-ms 100 --sim-always-open \
  >"$log" 2>&1 &
sim_pid=$!
cleanup() {
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
}
trap cleanup EXIT

show_log() {
  echo "---- simulator log ($log), last 40 lines ----" >&2
  tail -n 40 "$log" >&2 || true
}

ready=0
for _ in $(seq 1 150); do
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "dhan_sdk: the simulator exited before listening" >&2
    show_log
    exit 1
  fi
  if "$python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$port" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "dhan_sdk: the simulator did not listen on 127.0.0.1:$port within 30 s" >&2
  show_log
  exit 1
fi

# ---- the check --------------------------------------------------------------------------
status=0
(cd "$root" && "$venv/bin/python" "$here/check_simulator.py" \
  --feed-url "ws://127.0.0.1:$port/" \
  --api-url "http://127.0.0.1:$port" \
  --scrip-master-url "http://127.0.0.1:$port/api-scrip-master-detailed.csv" \
  --client-id SIMCLIENT --access-token SIMTOKEN) || status=$?
if [ "$status" != 0 ]; then
  show_log
fi
exit "$status"
