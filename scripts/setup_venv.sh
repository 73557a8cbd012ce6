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
import importlib, importlib.util
for name in ("tensorflow", "tf_keras", "tensorflow_hub", "tensorflow_text", "hub_export", "ai_edge_litert",
             "apache_beam", "kagglehub", "keras", "keras_hub", "jax", "torch", "mediapipe", "pytest", "hypothesis"):
  if importlib.util.find_spec(name):
    importlib.import_module(name)
'
# TensorFlow's start-up lines are shown only if an import fails.
if ! log=$(PYTHONDONTWRITEBYTECODE= .venv/bin/python -c "$warm_up" 2>&1); then
  printf '%s\n' "$log" >&2
  exit 1
fi
