"""Writing and loading MobileBERT KerasHub presets, with one-line errors for bad folders.

A preset is what `MobileBertMaskedLM.save_to_preset` writes: `config.json` (the backbone,
`registered_name` "hub_export>MobileBertBackbone", the `bert_config.json` keys),
`model.weights.h5`, `task.json` + `task.weights.h5` (the pretrained masked-LM head),
`preprocessor.json`, `tokenizer.json` + `assets/tokenizer/vocabulary.txt`, `metadata.json`.
"""

import json
from pathlib import Path

from hub_export.support.errors import HubExportError, first_line

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
TASK_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
TOKENIZER_FILE = "tokenizer.json"
VOCAB_ASSET = "assets/tokenizer/vocabulary.txt"
METADATA_FILE = "metadata.json"
BACKBONE_NAME = "hub_export>MobileBertBackbone"
REQUIRED_FILES = (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, VOCAB_ASSET, METADATA_FILE)


def check_preset_files(preset_dir) -> dict:
  """Checks the folder is a MobileBERT preset with every file present; returns config.json's content."""
  preset_dir = Path(preset_dir)
  if not preset_dir.is_dir():
    raise HubExportError(f"preset {preset_dir} is not a directory")
  config_path = preset_dir / CONFIG_FILE
  try:
    config = json.loads(config_path.read_text(encoding="utf-8"))
  except FileNotFoundError:
    raise HubExportError(f"preset {preset_dir} has no {CONFIG_FILE}: not a KerasHub preset") from None
  except (OSError, UnicodeDecodeError, ValueError) as e:
    raise HubExportError(f"preset {preset_dir}: cannot read {CONFIG_FILE}: {first_line(e)}") from None
  name = config.get("registered_name") if isinstance(config, dict) else None
  if name != BACKBONE_NAME:
    raise HubExportError(f"preset {preset_dir} holds a {name or 'non-KerasHub'} model, not {BACKBONE_NAME}")
  missing = [f for f in REQUIRED_FILES if not (preset_dir / f).is_file()]
  if missing:
    raise HubExportError(f"preset {preset_dir} lacks {', '.join(missing)}")
  return config


def h5_shapes(path: Path) -> list:
  import h5py

  shapes = []
  try:
    with h5py.File(path, "r") as f:
      f.visititems(lambda _, item: shapes.append(tuple(item.shape)) if isinstance(item, h5py.Dataset) else None)
  except OSError as e:
    raise HubExportError(f"cannot read {path}: {first_line(e)}") from None
  return shapes


def _shape_counts(shapes) -> dict:
  counts = {}
  for shape in shapes:
    counts[shape] = counts.get(shape, 0) + 1
  return counts


def _describe(counts: dict) -> str:
  items = sorted(counts.items())
  shown = ", ".join(f"{list(shape)} x{n}" for shape, n in items[:4])
  return shown + (f" (+{len(items) - 4} more shapes)" if len(items) > 4 else "")


def check_weights_fit(preset_dir, backbone) -> None:
  """model.weights.h5 must hold exactly the weight shapes the config builds (else one line)."""
  stored = _shape_counts(h5_shapes(Path(preset_dir) / WEIGHTS_FILE))
  built = _shape_counts(tuple(v.shape) for v in backbone.weights)
  if stored != built:
    only_file = {s: n - built.get(s, 0) for s, n in stored.items() if n > built.get(s, 0)}
    only_config = {s: n - stored.get(s, 0) for s, n in built.items() if n > stored.get(s, 0)}
    raise HubExportError(f"preset {preset_dir}: {WEIGHTS_FILE} does not fit {CONFIG_FILE}: "
                         f"{sum(stored.values())} weights in the file, {sum(built.values())} from the config; "
                         f"only in the file: {_describe(only_file) or 'none'}; "
                         f"only from the config: {_describe(only_config) or 'none'}")


def load_preset_models(preset_dir):
  """(backbone, masked LM task, tokenizer) from a preset, checked first; one-line errors."""
  import keras_hub

  from hub_export.config import MobileBertConfig
  from hub_export.keras3 import MobileBertMaskedLM, MobileBertTokenizer

  config = check_preset_files(preset_dir)
  values = {k: v for k, v in config.get("config", {}).items() if k not in ("name", "trainable", "dtype")}
  MobileBertConfig.from_dict(values, source=f"preset {preset_dir} {CONFIG_FILE}")
  preset = str(preset_dir)
  check_weights_fit(preset_dir, keras_hub.models.Backbone.from_preset(preset, load_weights=False))
  try:
    backbone = keras_hub.models.Backbone.from_preset(preset)
    task = MobileBertMaskedLM.from_preset(preset)
  except ValueError as e:
    raise HubExportError(f"preset {preset_dir}: {TASK_WEIGHTS_FILE} does not fit {TASK_FILE}: {first_line(e)}") from None
  tokenizer = MobileBertTokenizer.from_preset(preset)
  return backbone, task, tokenizer
