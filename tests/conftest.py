"""Shared test plumbing: where ../shared lives, and skipping cleanly without it."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TINY = SHARED / "fixtures" / "mobilebert_tiny"
GOLDEN_DIR = REPO / "tests" / "golden"


def shared_path(relative: str) -> Path:
  """A path under ../shared, or a skip when the shared material is not beside the checkout."""
  path = SHARED / relative
  if not path.exists():
    pytest.skip(f"shared fixture {relative} is absent (../shared not beside this checkout)")
  return path
