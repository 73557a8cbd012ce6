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
# pip would compile all of the environment's modules, about 22,000 (a minute on two cores), most never imported.
# Compiled instead: what the commands and the installed extras import, imported once with bytecode writing on,
# so a process starts as fast where PYTHONDONTWRITEBYTECODE is set.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-compile -e "$spec"
warm_up='
import importlib, importlib.util, sys
for name in sys.argv[1:]:
  if importlib.util.find_spec(name):
    importlib.import_module(name)
'
# Two importers side by side, one a core: TensorFlow's family, and the other frameworks (Keras 3 on JAX, so it
# does not wait on TensorFlow's import): 15 s instead of 25 on a 2-core box. TensorFlow's start-up lines are shown
# only if an import fails.
logs=$(mktemp -d)
PYTHONDONTWRITEBYTECODE= .venv/bin/python -c "$warm_up" tensorflow tf_keras tensorflow_hub tensorflow_text hub_export \
  ai_edge_litert kagglehub pytest hypothesis > "$logs/tf" 2>&1 & tf_family=$!
PYTHONDONTWRITEBYTECODE= KERAS_BACKEND=jax .venv/bin/python -c "$warm_up" apache_beam torch jax mediapipe keras \
  keras_hub > "$logs/others" 2>&1 & others=$!
failed=0
wait "$tf_family" || { cat "$logs/tf" >&2; failed=1; }
wait "$others" || { cat "$logs/others" >&2; failed=1; }
rm -rf "$logs"
exit "$failed"
