"""Command-line plumbing: quiet TensorFlow, one-line errors and exit codes, flag parsers."""

import argparse
import contextlib
import logging
import os
import re
import sys
import threading
import warnings

from hub_export.support.errors import HubExportError

# A user who sets TensorFlow's log level asks for its C++ log lines: then nothing is filtered.
USER_SET_TF_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL" in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# TensorFlow's C++ start-up lines: written straight to file descriptor 2 by absl logging,
# partly while the shared libraries load (before TF_CPP_MIN_LOG_LEVEL is read), so only a
# filter on the descriptor removes them. Only lines in absl's format that talk about CUDA,
# GPUs, oneDNN or the CPU build are dropped (and the two fixed lines below); all else passes.
_ABSL_LINE = re.compile(rb"^[IWEF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] ")
_STARTUP_TOPIC = re.compile(rb"cuda|cuInit|GPU|oneDNN|TensorRT|cpu_feature_guard", re.IGNORECASE)
_STARTUP_LINES = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
                  b"To enable the following instructions: ")  # the second line of cpu_feature_guard's notice


def is_tensorflow_startup_line(line: bytes) -> bool:
  line = line.rstrip(b"\r\n")
  return line.startswith(_STARTUP_LINES) or bool(_ABSL_LINE.match(line) and _STARTUP_TOPIC.search(line))


def str2bool(text: str) -> bool:
  """Parses `--flag true|false` the way absl does, with a clear error otherwise."""
  value = text.strip().lower()
  if value in ("true", "1", "yes"):
    return True
  if value in ("false", "0", "no"):
    return False
  raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def positive_int(text: str) -> int:
  """Parses a count flag such as `--version 3`, with a clear error for 0, negatives and non-numbers."""
  if not text.isdigit() or int(text) < 1:
    raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer")
  return int(text)


@contextlib.contextmanager
def _without_tensorflow_startup_lines():
  """Routes descriptor 2 through a thread that drops TensorFlow's start-up lines.

  Only for a real process's own stderr (not when a caller, e.g. pytest, has replaced
  sys.stderr), and not when the user set TF_CPP_MIN_LOG_LEVEL.
  """
  if USER_SET_TF_LOG_LEVEL or sys.stderr is not sys.__stderr__ or sys.stderr is None:
    yield
    return
  sys.stderr.flush()
  original = os.dup(2)
  read_end, write_end = os.pipe()
  os.dup2(write_end, 2)
  os.close(write_end)

  def relay():
    pending = b""
    while chunk := os.read(read_end, 65536):
      *lines, pending = (pending + chunk).split(b"\n")
      kept = b"".join(line + b"\n" for line in lines if not is_tensorflow_startup_line(line))
      if pending.startswith(b"\r"):  # a progress bar redrawing its line (never TensorFlow's): shown at once
        kept, pending = kept + pending, b""
      if kept:
        os.write(original, kept)
    if pending and not is_tensorflow_startup_line(pending):
      os.write(original, pending)

  thread = threading.Thread(target=relay, name="stderr-filter", daemon=True)
  thread.start()
  try:
    yield
  finally:
    sys.stderr.flush()
    os.dup2(original, 2)  # closes the pipe's last write end (children have exited): the relay drains and ends
    thread.join(timeout=10)
    os.close(original)
    os.close(read_end)


def run(main_fn, argv=None) -> int:
  """Runs `main_fn(argv)`; a HubExportError becomes one line on stderr and exit 2."""
  with _without_tensorflow_startup_lines():
    return _run(main_fn, argv)


def _run(main_fn, argv) -> int:
  # tensorflow_hub still imports pkg_resources, whose deprecation warning is not ours.
  warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
  logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
  # TensorFlow's Python-side chatter (asset paths, signature input renaming) is not ours.
  logging.getLogger("tensorflow").setLevel(logging.ERROR)
  logging.getLogger("absl").setLevel(logging.WARNING)  # e.g. SavedModel input renaming notes
  try:
    main_fn(sys.argv[1:] if argv is None else argv)
  except HubExportError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print("error: interrupted", file=sys.stderr)
    return 130
  return 0

