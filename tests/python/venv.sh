# Sourced by the test scripts that need Python packages from PyPI.
#
#   source tests/python/venv.sh
#   ensure_venv LABEL VENV_DIR REQUIREMENTS_TXT   # uses $python (the interpreter)
#
# Makes (or reuses) a virtualenv with the pinned requirements. It is rebuilt whenever the
# requirements file or the interpreter changes (a stamp of both is kept in the venv).
# Where `python -m venv` cannot bootstrap pip (Debian without python3-venv), a pip-less
# venv is filled by the system pip. LABEL prefixes the messages.

ensure_venv() {
  local label="$1" venv="$2" requirements="$3" stamp
  stamp="$("$python" - "$requirements" <<'PY'
import hashlib, sys
digest = hashlib.sha256(open(sys.argv[1], "rb").read())
digest.update(sys.version.encode())
print(digest.hexdigest())
PY
)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements-sha256" 2>/dev/null || true)" = "$stamp" ]; then
    return 0
  fi
  echo "$label: creating $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if "$python" -m venv "$venv" >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  elif "$python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$venv"
    "$python" -m venv --without-pip "$venv"
    "$python" -m pip --python "$venv/bin/python" install -q --disable-pip-version-check -r "$requirements"
  else
    echo "$label: '$python -m venv' failed and there is no pip; install python3-venv" >&2
    return 2
  fi
  echo "$stamp" >"$venv/.requirements-sha256"
}
