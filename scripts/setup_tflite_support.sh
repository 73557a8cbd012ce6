#!/usr/bin/env bash
# Creates ./.venv-tflite-support (if missing) with the TFLite Task Library's Python package, tflite-support 0.4.4.
# It pins protobuf 3.20, so it cannot share the main venv (TensorFlow 2.21). Its native part needs libusb-1.0:
# Debian's libusb-1.0-0 is installed with apt-get (as root, or with sudo -n) when the loader cannot find it.
# Usage: scripts/setup_tflite_support.sh [VENV_DIR]; prints the venv's python. Fails with one line saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-tflite-support}
PIN="tflite-support==0.4.4"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
fail() { echo "error: $*" >&2; exit 1; }

has_libusb() { "$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null | grep -q 'libusb-1\.0\.so'; }
if ! has_libusb; then
  command -v apt-get >/dev/null 2>&1 \
    || fail "libusb-1.0 is not installed and there is no apt-get to install it; install it with the system's packages"
  SUDO=()
  [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n)
  { "${SUDO[@]}" apt-get update -qq \
    && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0; } >/dev/null 2>&1 \
    || fail "cannot install libusb-1.0: apt-get install -y libusb-1.0-0 failed (it needs root or password-less sudo)"
  has_libusb || fail "apt-get installed libusb-1.0-0 but the loader still does not find libusb-1.0"
fi

installed() {
  "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('tflite-support') != '${PIN#*==}')" \
    2>/dev/null
}
if ! installed; then
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV" || fail "cannot create the venv $VENV with $PY"
  log="$VENV/pip-install.log"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --timeout 60 "$PIN" >"$log" 2>&1 \
    || fail "pip cannot install $PIN into $VENV: $(grep -m1 '^ERROR' "$log" || tail -n1 "$log")"
fi
"$VENV/bin/python" -c "from tflite_support.task import text" 2>/dev/null \
  || fail "tflite_support.task does not import in $VENV"
echo "$VENV/bin/python"
