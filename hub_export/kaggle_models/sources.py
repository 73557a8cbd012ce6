"""A SavedModel named by a folder, a published `.tar.gz` or a `kaggle://` variation handle, as a local folder."""

import contextlib

from hub_export.hub_format.reading import unpacked_saved_model
from hub_export.hub_format.tarball import MAX_UNPACKED_BYTES
from hub_export.kaggle_models import handles, network
from hub_export.support import log
from hub_export.support.errors import HubExportError


@contextlib.contextmanager
def local_saved_model(source, limits: network.Limits = network.Limits(), max_unpacked_bytes: int = MAX_UNPACKED_BYTES):
  """Yields the SavedModel directory of `source`: a folder itself, a tarball checked and unpacked into a temporary
  folder (removed afterwards), or a Kaggle variation downloaded afresh within `limits`."""
  if not handles.is_kaggle(source):
    with unpacked_saved_model(source, max_unpacked_bytes) as folder:
      yield folder
    return
  handle = handles.parse_variation(source)
  if handle.framework != handles.SAVED_MODEL_FRAMEWORK:
    raise HubExportError(f"{source}: only {handles.SAVED_MODEL_FRAMEWORK} variations hold a SavedModel")
  from hub_export.kaggle_models.download import download

  with log.step(f"download {handle}"):
    folder = download(handle, limits)
  yield folder
