"""What a .tflite file is converted from: a checkpoint restored into the model, or an encoder SavedModel.

Both give the same thing to the converter: a callable taking the three encoder inputs
(inference mode) and returning the TF-Hub output dict, the trackable that owns its
variables, and what calibration needs to turn text into ids (the vocab and its casing).
"""

import dataclasses
from pathlib import Path
from typing import Callable, Optional

from hub_export.support.errors import HubExportError, first_line
from hub_export.support.filenames import SAVED_MODEL_NAME


@dataclasses.dataclass
class EncoderSource:
  encode: Callable  # dict of int32 [batch, seq] tensors -> TF-Hub encoder output dict
  trackable: object  # keeps the variables alive and lets the converter freeze them
  description: str
  protected: Path  # the input directory, which the output must not land in
  max_seq_length: Optional[int]  # max_position_embeddings, when the source says
  vocab_size: Optional[int]  # rows of the word table, when the source says and its vocab is still to be checked
  vocab: Optional[Path]  # the vocab the model was trained with, when the source ships one
  lower_case: Optional[bool]  # that vocab's casing, when the source records it (a checkpoint's: settled)


def from_checkpoint(ckpt, bert_config=None, vocab=None, lower_case=None, allow_larger_vocab=False) -> EncoderSource:
  """Restores a checkpoint (any layout the reader supports) into the project's model on the path every exporter
  takes (`checkpoint.export_source`): its vocab and casing settled with the flags, the vocab found to fit the config.

  Traced in the batched form with NoNorm folded into the matmuls (fewer ops on device), its
  attention-score ops named for int8's float island (`model.functional.FLOAT_SCORES_SCOPE`).
  """
  from hub_export.checkpoint.export_source import resolve_source, restore_model

  source = resolve_source(ckpt, vocab, lower_case)
  model = restore_model(source, bert_config, allow_larger_vocab)
  encoder = model.encoder
  return EncoderSource(
      encode=lambda inputs: encoder(inputs, training=False, fold_no_norm=True, two_streams=False),
      trackable=model,
      description=f"checkpoint {source.location.prefix}",
      protected=source.location.directory,
      max_seq_length=model.config.max_position_embeddings,
      vocab_size=None,  # checked before the restore
      vocab=source.vocab.path,
      lower_case=source.lower_case)


def from_saved_model(export_dir) -> EncoderSource:
  """Loads a TF-Hub text-encoder SavedModel (this project's or another exporter's).

  Its reusable `__call__` is used with training=False, with the attention mask it was
  saved with (TF-Hub encoders add -1e9 at padding, which int8 quantizes poorly). The vocab
  asset (`.vocab_file`) and `do_lower_case` are read when the SavedModel has them (BERT
  encoder exports do).
  """
  import tensorflow as tf

  export_dir = Path(export_dir)
  if not (export_dir / SAVED_MODEL_NAME).is_file():
    raise HubExportError(f"--saved_model {export_dir} is not a SavedModel directory (no saved_model.pb)")
  try:
    loaded = tf.saved_model.load(str(export_dir))
  except (tf.errors.OpError, ValueError, OSError) as e:
    raise HubExportError(f"cannot load SavedModel {export_dir}: {first_line(e)}") from None
  if not callable(loaded):
    raise HubExportError(f"SavedModel {export_dir} has no __call__; expected a TF-Hub text encoder")
  lower_case = getattr(loaded, "do_lower_case", None)
  vocab_asset = getattr(loaded, "vocab_file", None)
  vocab = Path(vocab_asset.asset_path.numpy().decode("utf-8")) if vocab_asset is not None else None
  return EncoderSource(
      encode=lambda inputs: loaded(inputs, training=False),
      trackable=loaded,
      description=f"SavedModel {export_dir}",
      protected=export_dir,
      max_seq_length=None,
      vocab_size=None,
      vocab=vocab if vocab is not None and vocab.is_file() else None,
      lower_case=None if lower_case is None else bool(lower_case.numpy()))
