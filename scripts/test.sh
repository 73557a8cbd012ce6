#!/usr/bin/env bash
# Installs the project with its test dependencies into ./.venv and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh test
# One worker per core, at most 4; a test file's tests stay in one worker (module fixtures build once),
# and files go out in collection order, the longest first (tests/conftest.py).
workers=$(nproc 2>/dev/null || echo 2)
# One compute thread per process: the workers already fill every core, and a library's own thread pool beside them
# (PyTorch's OpenMP, TensorFlow's intra-op pool) spins on a core another worker needs
# (bench/results/2026-12-06-test-suite-threads-xeon.md).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} TF_NUM_INTRAOP_THREADS=${TF_NUM_INTRAOP_THREADS:-1}
# The suite starts hundreds of Python processes: each module is compiled by the first that imports it, not by all.
export PYTHONDONTWRITEBYTECODE=
if [ "$workers" -gt 4 ]; then workers=4; fi
exec .venv/bin/python -m pytest -q -n "$workers" --dist loadfile --no-loadscope-reorder --durations=30 "$@"
