#!/usr/bin/env bash
# Installs the project into ./.venv and runs the built-in demo (seeded full-size MobileBERT
# -> exports -> dist/ -> a sentence through hub.KerasLayer). Rerunnable: --overwrite replaces
# only an earlier demo's ./demo_out and ./dist. Extra arguments go to `python -m hub_export.demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh
exec .venv/bin/python -m hub_export.demo --overwrite "$@"
