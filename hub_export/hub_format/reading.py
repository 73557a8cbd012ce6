"""Reading an export as TF-Hub users do: unpacking it, loading it, telling its kind, finding its vocab."""

import contextlib
import tempfile
from pathlib import Path

from hub_export.hub_format import checksums
from hub_export.hub_format.tarball import MAX_UNPACKED_BYTES, safe_extract
from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG
from hub_export.support.filenames import SAVED_MODEL_NAME

ENCODER = "encoder"
PREPROCESSOR = "preprocessor"
TARBALL_SUFFIXES = (".tar.gz", ".tgz")


def require_saved_model_dir(path) -> Path:
  path = Path(path)
  if not path.exists():
    raise HubExportError(f"no such file or directory: {path}")
  if not path.is_dir():
    raise HubExportError(f"{path} is neither a SavedModel directory nor a .tar.gz package")
  if not (path / SAVED_MODEL_NAME).is_file():
    raise HubExportError(f"{path} is not a SavedModel directory (no saved_model.pb)")
  return path


def is_tarball(path) -> bool:
  return str(path).endswith(TARBALL_SUFFIXES)


@contextlib.contextmanager
def unpacked_saved_model(path, max_unpacked_bytes: int = MAX_UNPACKED_BYTES):
  """Yields a SavedModel directory: `path` itself, or a `.tar.gz` package safely unpacked into a temporary folder
  (removed afterwards).

  A package is first checked against a SHA256SUMS beside it (its folder or the one above, as `publish` lays them
  out) that lists it, and unpacks to at most `max_unpacked_bytes`.
  """
  path = Path(path)
  if not path.is_file():
    yield require_saved_model_dir(path)
    return
  if not is_tarball(path):
    raise HubExportError(f"{path} is neither a SavedModel directory nor a .tar.gz package")
  manifest = checksums.check_beside(path)
  if manifest:
    LOG.info("%s matches %s", path, manifest)
  with tempfile.TemporaryDirectory(prefix="hub-package-") as scratch:
    unpacked = safe_extract(path, Path(scratch) / "model", max_unpacked_bytes)
    if not (unpacked / SAVED_MODEL_NAME).is_file():
      raise HubExportError(f"{path} has no saved_model.pb at its root (a TF-Hub tarball's root is the SavedModel "
                           f"itself)")
    yield unpacked


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
