#!/usr/bin/env bash
# Creates ./.venv (if missing) and installs the project into it, editable.
# Usage: scripts/setup_venv.sh [EXTRA]   e.g. `test` installs the test dependencies too.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 'setuptools<82'
spec="."
if [ $# -gt 0 ]; then spec=".[$1]"; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
