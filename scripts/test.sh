#!/usr/bin/env bash
# Installs the project with its test dependencies into ./.venv and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh test
exec .venv/bin/python -m pytest -q "$@"
