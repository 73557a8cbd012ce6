#!/usr/bin/env bash
# Installs the project with its test dependencies into ./.venv and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh test
# One worker per core, at most 4; a test file's tests stay in one worker (module fixtures build once).
workers=$(nproc 2>/dev/null || echo 2)
if [ "$workers" -gt 4 ]; then workers=4; fi
exec .venv/bin/python -m pytest -q -n "$workers" --dist loadfile --durations=30 "$@"
