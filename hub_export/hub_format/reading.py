"""Reading an export as TF-Hub users do: loading it, telling its kind, finding its vocab."""

from pathlib import Path

from hub_export.support.errors import HubExportError
from hub_export.support.filenames import SAVED_MODEL_NAME

ENCODER = "encoder"
PREPROCESSOR = "preprocessor"


def require_saved_model_dir(path) -> Path:
  path = Path(path)
  if not path.exists():
    raise HubExportError(f"no such file or directory: {path}")
  if not path.is_dir():
    raise HubExportError(f"{path} is neither a SavedModel directory nor a .tar.gz package")
  if not (path / SAVED_MODEL_NAME).is_file():
    raise HubExportError(f"{path} is not a SavedModel directory (no saved_model.pb)")
  return path


def read_saved_model_proto(path):
  """The parsed `saved_model.pb` of a SavedModel directory, without running any of it."""
  from google.protobuf.message import DecodeError
  from tensorflow.core.protobuf import saved_model_pb2

  pb = require_saved_model_dir(path) / SAVED_MODEL_NAME
  saved_model = saved_model_pb2.SavedModel()
  try:
    saved_model.ParseFromString(pb.read_bytes())
  except DecodeError as e:
    raise HubExportError(f"{pb} is damaged: {e}") from None
  return saved_model


def load_saved_model(path):
  """Loads the SavedModel the way TF-Hub users do: tensorflow_text first, then hub.load."""
  import tensorflow_text  # noqa: F401 - registers the ops a preprocessor graph uses
  import tensorflow_hub as hub

  return hub.load(str(require_saved_model_dir(path)))


def detect_kind(obj):
  """Returns ENCODER, PREPROCESSOR, or None when the object offers neither API.

  A preprocessor is recognised by its `tokenize`/`bert_pack_inputs` sub-objects; an
  encoder by a call taking a dict with `input_word_ids`, or by its `.mlm`.
  """
  from hub_export import signatures as sig

  if hasattr(obj, "tokenize") or hasattr(obj, "bert_pack_inputs"):
    return PREPROCESSOR
  if hasattr(obj, "mlm"):
    return ENCODER
  for structure in call_input_structures(obj):
    if isinstance(structure, dict) and sig.INPUT_WORD_IDS in structure:
      return ENCODER
  return None


def call_input_structures(obj):
  """The first positional input of each traced `__call__` (a dict of specs for an encoder)."""
  for fn in getattr(getattr(obj, "__call__", None), "concrete_functions", ()):
    args, _ = fn.structured_input_signature
    if args:
      yield args[0]


def asset_files(export_dir) -> list:
  assets = Path(export_dir) / "assets"
  return sorted(p for p in assets.rglob("*") if p.is_file()) if assets.is_dir() else []


def read_vocab(path) -> list:
  tokens = Path(path).read_text(encoding="utf-8").splitlines()
  if not tokens:
    raise HubExportError(f"vocab file {Path(path).name} is empty")
  return tokens
