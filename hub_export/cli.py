"""Shared command-line plumbing: quiet TensorFlow, one-line errors, progress timing."""

import argparse
import contextlib
import logging
import os
import sys
import time

from hub_export.errors import HubExportError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LOG = logging.getLogger("hub_export")


def str2bool(text: str) -> bool:
  """Parses `--flag true|false` the way absl does, with a clear error otherwise."""
  value = text.strip().lower()
  if value in ("true", "1", "yes"):
    return True
  if value in ("false", "0", "no"):
    return False
  raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def run(main_fn, argv=None) -> int:
  """Runs `main_fn(argv)`; a HubExportError becomes one line on stderr and exit 2."""
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


@contextlib.contextmanager
def step(name: str):
  """Logs how long a long step (restore, trace, save, verify, package) took."""
  start = time.perf_counter()
  LOG.info("%s ...", name)
  yield
  LOG.info("%s done in %.1f s", name, time.perf_counter() - start)
