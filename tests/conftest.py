"""Shared test plumbing: where ../shared lives, skipping without it (failing under CI=true), session fixtures."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TINY = SHARED / "fixtures" / "mobilebert_tiny"
GOLDEN_DIR = REPO / "tests" / "golden"
REFERENCE_ENCODER = TINY / "model_garden_hub_export"
REFERENCE_PREPROCESSOR = SHARED / "fixtures" / "model_garden_preprocess_en_uncased"


# The files that take minutes (measured with --durations, longest first). They are run first:
# with `--dist loadfile` each file stays in one worker, and a long file started last runs
# alone on one core while the other worker idles. scripts/test.sh passes
# --no-loadscope-reorder, which keeps this order (xdist's own puts files with the most
# tests first, and these have few).
LONGEST_FILES_FIRST = (
    "test_readme.py", "test_faults_crash.py", "test_keras3.py", "test_demo.py", "test_export_tflite.py",
    "test_keras3_full_size.py", "test_embed_corpus.py", "test_export_preprocessor.py", "test_distill.py",
    "test_reproducible_exports.py", "test_faults_fuzz_checkpoint.py", "test_wheel.py", "test_mediapipe.py",
)


def pytest_collection_modifyitems(config, items):
  rank = {name: position for position, name in enumerate(LONGEST_FILES_FIRST)}
  items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: within a file, and the rest, as collected


def ci_requires_shared() -> bool:
  """Under CI (`CI=true`, as CI services set it) the shared material must be there."""
  return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_shared(path: Path) -> Path:
  """`path` (under ../shared) when it exists; else a skip, or under CI=true a failure.

  Every test that needs ../shared goes through here, so coverage never silently drops out
  of a CI run that lost the shared material.
  """
  if not path.exists():
    message = f"shared fixture {path} is absent (../shared not beside this checkout)"
    if ci_requires_shared():
      pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)
  return path


def shared_path(relative: str) -> Path:
  """A path under ../shared, given relative to it (see `require_shared`)."""
  return require_shared(SHARED / relative)


def require_fixture(path: Path) -> Path:
  """A shared reference SavedModel directory (see `require_shared`)."""
  require_shared(path / "saved_model.pb")
  return path


@pytest.fixture(scope="session")
def reference_encoder() -> Path:
  return require_fixture(REFERENCE_ENCODER)


@pytest.fixture(scope="session")
def reference_preprocessor() -> Path:
  return require_fixture(REFERENCE_PREPROCESSOR)


@pytest.fixture(scope="session")
def synthetic_encoder(tmp_path_factory) -> Path:
  from synthetic_savedmodels import build_encoder

  return build_encoder(tmp_path_factory.mktemp("synthetic") / "encoder")


@pytest.fixture(scope="session")
def synthetic_preprocessor(tmp_path_factory) -> Path:
  from synthetic_savedmodels import build_preprocessor

  return build_preprocessor(tmp_path_factory.mktemp("synthetic") / "preprocessor")


@pytest.fixture(scope="session")
def small_english_exports(tmp_path_factory):
  """A 2-layer encoder and its preprocessor for one real-word uncased vocab: (release, encoder, preprocessor).

  The vocab is built from the English corpus, so sentences tokenize into real wordpieces
  rather than [UNK].
  """
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from hub_export.export_encoder import export_encoder
  from hub_export.export_preprocessor import export
  from release_dirs import tiny_config
  from tokenization_test_data import build_test_vocab, corpus

  root = tmp_path_factory.mktemp("small_english")
  tokens = build_test_vocab(corpus("english"), lower_case=True)
  release = write_release_checkpoint(root / "release", tiny_config(vocab_size=len(tokens)), seed=5, vocab_lines=tokens)
  encoder = export_encoder(release, root / "encoder", lower_case=True)
  preprocessor = export(release / "vocab.txt", root / "preprocessor", lower_case=True)
  return release, encoder, preprocessor
