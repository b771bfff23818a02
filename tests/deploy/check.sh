#!/usr/bin/env bash
# Checks deploy/ (or the directory given): the compose file validates as compose reads
# it, the Prometheus config and alert rules pass promtool (and the rules' unit tests
# fire), the Grafana provisioning and dashboard parse, and every metric an alert or a
# panel reads is one the server's code records.
#
# Tools are fetched on first use and kept: a compose implementation (the Docker CLI's
# plugin if present, else `docker-compose`, installed from Debian's package when this
# runs as root) and promtool (extracted from Debian's prometheus package into
# target/deploy-tools/). A second run installs nothing and takes about a second.
set -euo pipefail
shopt -s nullglob

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deploy=$(cd "${1:-$root/deploy}" && pwd)
tools=$root/target/deploy-tools
here=$root/tests/deploy
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok:   $*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"; else return 1; fi
}

# --- compose -----------------------------------------------------------------------
compose_command() {
  if docker compose version >/dev/null 2>&1; then echo "docker compose"; return; fi
  if command -v docker-compose >/dev/null; then echo "docker-compose"; return; fi
  echo "installing Debian's docker-compose package (first use)..." >&2
  if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >"$tools/apt.log" 2>&1 \
    || { as_root apt-get update -qq >/dev/null 2>&1 \
         && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >"$tools/apt.log" 2>&1; }; then
    command -v docker-compose >/dev/null && { echo "docker-compose"; return; }
  fi
  return 1
}

mkdir -p "$tools"
# Placeholders only for validation: the compose file requires these and has no defaults.
# An empty --env-file: a deploy/.env with real values must not change what is checked.
no_env=$(mktemp)
scratch_files=("$no_env")
trap 'rm -f "${scratch_files[@]}"' EXIT
export JWT_SECRET=check-only-placeholder-of-at-least-32-bytes POSTGRES_PASSWORD=check-only
if compose=$(compose_command); then
  if out=$(cd "$deploy" && $compose --env-file "$no_env" -f compose.yaml config -q 2>&1); then
    ok "compose.yaml validates ($compose config)"
  else
    fail "compose.yaml does not validate ($compose config):"; echo "$out"
  fi
  # The secret has no default: without it compose must refuse, naming the variable.
  if out=$(cd "$deploy" && env -u JWT_SECRET $compose --env-file "$no_env" -f compose.yaml config -q 2>&1); then
    fail "compose.yaml validates without JWT_SECRET: the secret must be required"
  elif grep -q JWT_SECRET <<<"$out"; then
    ok "compose.yaml refuses to run without JWT_SECRET"
  else
    fail "without JWT_SECRET compose fails for another reason:"; echo "$out"
  fi
else
  # Not silent: say exactly what was not checked and how to get it checked.
  echo "SKIP: no compose implementation (docker compose plugin or docker-compose) and none could be installed"
  echo "      (not root, or apt-get failed: $tools/apt.log); compose.yaml was NOT validated."
  if [ -n "${CI:-}" ]; then fail "CI needs a compose implementation"; fi
fi

# --- promtool ----------------------------------------------------------------------
promtool=$(command -v promtool || echo "$tools/promtool")
if [ ! -x "$promtool" ]; then
  echo "fetching promtool from Debian's prometheus package (first use)..."
  scratch=$(mktemp -d)
  chmod 777 "$scratch"  # apt-get download runs as the _apt user when it can
  if (cd "$scratch" && apt-get download prometheus >"$scratch/log" 2>&1) \
    || { as_root apt-get update -qq >/dev/null 2>&1 && (cd "$scratch" && apt-get download prometheus >"$scratch/log" 2>&1); }; then
    dpkg-deb -x "$scratch"/prometheus_*.deb "$scratch/root"
    install -m 0755 "$scratch/root/usr/bin/promtool" "$tools/promtool"
  else
    cat "$scratch/log"
  fi
  rm -rf "$scratch"
fi
if [ -x "$promtool" ]; then
  if out=$("$promtool" check config "$deploy/prometheus/prometheus.yml" 2>&1); then
    ok "prometheus.yml and its rule files pass promtool check config"
  else
    fail "promtool check config:"; echo "$out"
  fi
  if out=$("$promtool" check rules "$deploy/prometheus/alerts.yml" 2>&1); then
    ok "alerts.yml passes promtool check rules"
  else
    fail "promtool check rules:"; echo "$out"
  fi
  # Rule unit tests: each alert fires on the series that should trip it, and stays
  # quiet on the ones that should not. promtool resolves rule_files relative to the
  # test file, so run it on a copy next to the rules being checked.
  test_copy=$deploy/prometheus/.alerts_test.yml
  scratch_files+=("$test_copy")
  cp "$here/alerts_test.yml" "$test_copy"
  if out=$("$promtool" test rules "$test_copy" 2>&1); then
    ok "alert rules fire as tests/deploy/alerts_test.yml expects"
  else
    fail "promtool test rules:"; echo "$out"
  fi
else
  echo "SKIP: promtool unavailable; the Prometheus files were NOT validated"
  if [ -n "${CI:-}" ]; then fail "CI needs promtool"; fi
fi

# --- Grafana -----------------------------------------------------------------------
dashboards=("$deploy"/grafana/dashboards/*.json)
provisioning=("$deploy"/grafana/provisioning/*/*.yaml)
[ "${#dashboards[@]}" -gt 0 ] || fail "no dashboard JSON under $deploy/grafana/dashboards"
[ "${#provisioning[@]}" -gt 0 ] || fail "no Grafana provisioning files under $deploy/grafana/provisioning"
for file in "${provisioning[@]}"; do
  if grep -qE '^apiVersion: 1$' "$file"; then
    ok "$(basename "$file") has apiVersion 1"
  else
    fail "$file: Grafana provisioning needs apiVersion: 1"
  fi
done
# Every panel must use the provisioned datasource (by uid), or it shows "datasource not
# found" on a fresh Grafana.
uids=$(sed -n 's/^ *uid: *//p' "$deploy"/grafana/provisioning/datasources/*.yaml | tr '\n' ' ')
for dashboard in "${dashboards[@]}"; do
  queries=$(mktemp --suffix=.yml)
  scratch_files+=("$queries")
  if [ -x "$promtool" ] && python3 "$here/metric_names.py" --as-rules "$dashboard" >"$queries"; then
    if out=$("$promtool" check rules "$queries" 2>&1); then
      ok "$(basename "$dashboard"): every query is valid PromQL (promtool)"
    else
      fail "$(basename "$dashboard"): a query does not parse:"; echo "$out"
    fi
  fi
  if out=$(python3 - "$dashboard" "$uids" <<'PY' 2>&1
import json, sys
board = json.load(open(sys.argv[1]))
known = set(sys.argv[2].split())
assert board.get("uid"), "no uid"
panels = [p for p in board.get("panels", []) if p.get("type") != "row"]
assert panels, "no panels"
for panel in panels:
    assert panel.get("targets"), f"panel {panel.get('title')!r} has no queries"
def uids(node, where):
    if isinstance(node, dict):
        if isinstance(node.get("datasource"), dict):
            yield where, node["datasource"].get("uid")
        for key, value in node.items():
            yield from uids(value, node.get("title") or node.get("name") or where)
    elif isinstance(node, list):
        for item in node:
            yield from uids(item, where)
for where, uid in uids(board, "dashboard"):
    assert uid in known, f"{where!r} uses datasource {uid!r}; provisioned: {sorted(known)}"
PY
  ); then
    ok "$(basename "$dashboard") parses; every query uses the provisioned datasource"
  else
    fail "$(basename "$dashboard"):"; echo "$out"
  fi
done

# --- metric names --------------------------------------------------------------------
# The server records metrics in host/src and in the layer crates.
sources="$root/host/src:$root/crates"
# First prove the check can fail: a name the code does not record must be reported.
probe=$(mktemp --suffix=.yml)
printf 'groups:\n  - name: probe\n    rules:\n      - alert: Probe\n        expr: rate(no_such_metric_total[5m]) > 0\n' >"$probe"
if python3 "$here/metric_names.py" "$sources" "$probe" >/dev/null; then
  fail "metric_names.py accepted a metric the code does not record"
fi
rm -f "$probe"
if out=$(python3 "$here/metric_names.py" "$sources" "$deploy/prometheus/alerts.yml" "${dashboards[@]}" 2>&1); then
  ok "every metric in the alerts and dashboards is recorded by the code"
else
  fail "unknown metrics:"; echo "$out"
fi

if [ "$failures" -gt 0 ]; then
  echo "deploy check: $failures failure(s)"
  exit 1
fi
echo "deploy check: all passed"
