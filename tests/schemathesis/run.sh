#!/usr/bin/env bash
# The API against its own contract: schemathesis (PyPI) reads /openapi.json from the
# real server and fuzzes every route with all its checks, in bounded time.
#
#   bash tests/schemathesis/run.sh target/debug/optionhub
#
# Makes (or reuses) a virtualenv at target/schemathesis-venv with the pinned version,
# starts the server on a free loopback port (simulated feed trading around the clock,
# the bundled plugins from target/plugins copied to a fresh directory, a fresh SQLite
# database), creates a trader and runs `schemathesis run` with its token. Exits non-zero
# on any server error or mismatch with the document.
#
# The main run uses a trader's token, not an admin's: the admin routes then answer 403
# (which is documented), where with an admin token the fuzzer would unload the plugins
# through DELETE /admin/plugins/{name} and every analytics route would answer 503 from
# then on. A second, short run reads the admin routes (GET only) with an admin token.
# The plugin upload is left out: its body is a WebAssembly component, which cannot be
# generated from a schema.
#
# Knobs (environment): ST_MAX_EXAMPLES (default 25 per operation), ST_MAX_TIME (seconds,
# default 210; the admin pass adds 45), ST_SEED (default 1), ST_WORKERS (default 2), PYTHON.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BINARY   (e.g. target/debug/optionhub)" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="$1"
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
if [ ! -x "$binary" ]; then
  echo "schemathesis: no executable at $binary" >&2
  exit 2
fi
plugins_src="$root/target/plugins"
if ! ls "$plugins_src"/*.wasm >/dev/null 2>&1; then
  echo "schemathesis: no plugins in $plugins_src (make plugins)" >&2
  exit 2
fi

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
  echo "schemathesis: $python is missing or older than 3.10 (set PYTHON=...)" >&2
  exit 2
fi

# ---- virtualenv (tests/python/venv.sh) ---------------------------------------------------
source "$root/tests/python/venv.sh"
venv="$root/target/schemathesis-venv"
ensure_venv schemathesis "$venv" "$here/requirements.txt"

# ---- server -----------------------------------------------------------------------------
work="$root/target/schemathesis-run"
rm -rf "$work"
mkdir -p "$work/plugins" "$work/data"
cp "$plugins_src"/*.wasm "$work/plugins/"
log="$work/server.log"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

# Only what is set here: nothing from the caller's environment picks another database,
# Redis, keys or limits.
server_env=(
  env -i "PATH=$PATH" "HOME=${HOME:-/tmp}"
  "JWT_SECRET=schemathesis-secret-of-at-least-32-bytes"
  "OPTIONHUB_DATA=$work/data"
  "OPTIONHUB_RATE_FREE=1000000" "OPTIONHUB_RATE_PRO=1000000"
  # Every listed expiry subscribed from the start, so each has prices and Greeks by
  # the time the run begins (an on-demand chain answers 503 until it has).
  "OPTIONHUB_TIER_EXPIRIES=12"
  "RUST_LOG=${RUST_LOG:-warn}"
)
"${server_env[@]}" "$binary" user add st-trader --role trader --tier pro >/dev/null
"${server_env[@]}" "$binary" user add st-admin --role admin --tier pro >/dev/null
token="$("${server_env[@]}" "$binary" user token st-trader | tail -n 1)"
admin_token="$("${server_env[@]}" "$binary" user token st-admin | tail -n 1)"

"${server_env[@]}" "$binary" serve --listen "127.0.0.1:$port" --plugins "$work/plugins" \
  --sim-always-open >"$log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT

show_log() {
  echo "---- server log ($log), last 40 lines ----" >&2
  tail -n 40 "$log" >&2 || true
}

# Ready: the document is served and the first chain has Greeks (so the analytics routes
# answer rather than 503, and their answers are checked against their schemas).
ready=0
for _ in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis: the server exited before it was ready" >&2
    show_log
    exit 1
  fi
  if "$python" - "$port" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health/ready", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
  then
    ready=1
    break
  fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "schemathesis: the server was not ready on 127.0.0.1:$port within 60 s" >&2
  show_log
  exit 1
fi

# Warm: every chain of every underlying answers /fo/summary (bounded; the run checks
# whatever is still missing as it goes).
"$python" - "$port" "$token" <<'EOF' || true
import json, sys, time, urllib.error, urllib.request
base, token = f"http://127.0.0.1:{sys.argv[1]}", sys.argv[2]
def get(path):
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, None
_, underlyings = get("/api/v2/market/underlyings")
chains = [(u["name"], e["date"]) for u in underlyings or [] for e in u["expiries"]]
deadline = time.time() + 90
while chains and time.time() < deadline:
    chains = [c for c in chains if get(f"/fo/summary?underlying={c[0]}&expiry={c[1]}")[0] != 200]
    time.sleep(0.5)
print(f"schemathesis: {len(chains)} chains without analytics after warm-up: {chains}")
EOF

# ---- the run ----------------------------------------------------------------------------
status=0
(cd "$work" && "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" \
  run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $token" \
  --exclude-operation-id upload \
  --max-examples "${ST_MAX_EXAMPLES:-25}" \
  --max-time "${ST_MAX_TIME:-210}" \
  --seed "${ST_SEED:-1}" \
  --workers "${ST_WORKERS:-2}" \
  --request-timeout 20 \
  --generation-database none \
  --report junit --report-dir "$work/report") || status=$?
(cd "$work" && "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" \
  run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $admin_token" \
  --include-path-regex '^/admin/' \
  --exclude-method POST --exclude-method DELETE \
  --max-examples 10 \
  --max-time 45 \
  --seed "${ST_SEED:-1}" \
  --request-timeout 20 \
  --generation-database none \
  --report junit --report-dir "$work/report-admin") || status=$?
if [ "$status" != 0 ]; then
  show_log
fi
exit "$status"
