"""Kaggle-ready folders in the dist directory, one per variation, as the kaggle CLI reads them.

    DIST/kaggle/model-metadata.json
    DIST/kaggle/<framework>/<variation>/   the model's files, unpacked (a SavedModel's
                                           saved_model.pb, variables/, assets/; or a .tflite)
                                           + model-instance-metadata.json

`kaggle models create -p DIST/kaggle` and `kaggle models instances create -p FOLDER` work
on them by hand; `publish --to kaggle://...` uploads the same folders through kagglehub.
"""

import dataclasses
import json
import shutil
from pathlib import Path

from hub_export.publishing.kaggle_metadata import dumps

FOLDER = "kaggle"
MODEL_METADATA = "model-metadata.json"
INSTANCE_METADATA = "model-instance-metadata.json"


@dataclasses.dataclass(frozen=True)
class Variation:
  """One variation's folder and the metadata written beside its files."""

  path: Path
  metadata: dict

  @property
  def handle(self) -> str:
    m = self.metadata
    return f"{m['ownerSlug']}/{m['modelSlug']}/{m['framework']}/{m['instanceSlug']}"

  def files(self) -> list:
    """The model's files (what is uploaded), sorted, without the metadata file."""
    return sorted(p for p in self.path.rglob("*") if p.is_file() and p.name != INSTANCE_METADATA)


def write_model_metadata(root: Path, metadata: dict) -> None:
  root.mkdir(parents=True, exist_ok=True)
  (root / MODEL_METADATA).write_text(dumps(metadata), encoding="utf-8")


def write_variation(root: Path, source: Path, metadata: dict) -> Variation:
  """Copies a SavedModel directory's files (or one file) into the variation's folder."""
  folder = root / metadata["framework"] / metadata["instanceSlug"]
  if source.is_dir():
    shutil.copytree(source, folder, copy_function=shutil.copyfile)
  else:
    folder.mkdir(parents=True)
    shutil.copyfile(source, folder / source.name)
  (folder / INSTANCE_METADATA).write_text(dumps(metadata), encoding="utf-8")
  return Variation(folder, metadata)


def read_folders(root: Path) -> tuple:
  """(model metadata, [Variation]) from a dist's kaggle folder, in a fixed order."""
  model = json.loads((root / MODEL_METADATA).read_text(encoding="utf-8"))
  variations = [Variation(p.parent, json.loads(p.read_text(encoding="utf-8")))
                for p in sorted(root.glob(f"*/*/{INSTANCE_METADATA}"))]
  return model, variations
