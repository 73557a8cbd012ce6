"""Shared fixtures: synthetic SavedModels (built once per session) and the shared reference exports."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE_ENCODER = SHARED / "fixtures" / "mobilebert_tiny" / "model_garden_hub_export"
REFERENCE_PREPROCESSOR = SHARED / "fixtures" / "model_garden_preprocess_en_uncased"


def require_fixture(path: Path) -> Path:
  if not (path / "saved_model.pb").is_file():
    pytest.skip(f"shared fixture not available: {path}")
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
