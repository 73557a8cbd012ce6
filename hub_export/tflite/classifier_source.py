"""A fine-tuned tf_keras text classifier (SavedModel) cut down to what runs on device.

The README's recipe builds `text -> tokenize -> bert_pack_inputs -> encoder -> head`. On
device the tokenizer runs outside the model (MediaPipe's, from the metadata), so the
exported part starts at the encoder's inputs: the functional sub-model from the encoder
layer's input dict to the classifier's output. Its sequence length is the one the
classifier was trained with (`bert_pack_inputs`' `seq_length`).
"""

import dataclasses
from pathlib import Path
from typing import Callable, Optional

from hub_export import signatures as sig
from hub_export.support.errors import HubExportError, first_line
from hub_export.support.filenames import SAVED_MODEL_NAME, VOCAB_NAME

# The word table's variable in this project's encoder and in Model Garden's.
_WORD_TABLE_NAMES = ("word_embeddings", "word_embedding")


@dataclasses.dataclass
class ClassifierSource:
  scores: Callable  # dict of int32 [1, seq] tensors -> float32 [1, classes] probabilities
  trackable: object
  description: str
  protected: Path
  seq_length: int
  num_classes: int
  vocab_size: Optional[int]
  vocab: Optional[Path]  # the vocab asset the classifier's tokenizer was saved with
  already_probabilities: bool
  lower_case: Optional[bool] = None  # not recorded in a tf_keras classifier


def read_labels(path) -> list:
  """The labels file: one label a line, in output order; blank lines and repeats are errors."""
  path = Path(path)
  try:
    lines = path.read_text(encoding="utf-8").splitlines()
  except OSError as e:
    raise HubExportError(f"cannot read --labels {path}: {e.strerror}") from None
  except UnicodeDecodeError:
    raise HubExportError(f"--labels {path} is not UTF-8") from None
  labels = [line.strip() for line in lines]
  while labels and not labels[-1]:
    labels.pop()
  for number, label in enumerate(labels, 1):
    if not label:
      raise HubExportError(f"--labels {path}:{number} is blank; give one label a line")
    if label in labels[:number - 1]:
      raise HubExportError(f"--labels {path}:{number} repeats the label {label!r}")
  if len(labels) < 2:
    raise HubExportError(f"--labels {path} has {len(labels)} label(s); a classifier needs at least 2")
  return labels


def _encoder_layer(model, path):
  found = [layer for layer in model.layers
           if isinstance(layer.input, dict) and set(sig.ENCODER_INPUT_KEYS) <= set(layer.input)]
  if len(found) != 1:
    raise HubExportError(f"--classifier {path}: expected one layer taking the encoder inputs "
                         f"({', '.join(sig.ENCODER_INPUT_KEYS)}), found {len(found)}; is it a classifier built on "
                         "the TF-Hub encoder (see README)?")
  return found[0]


def _vocab_size(layer) -> Optional[int]:
  for weight in layer.weights:
    name = weight.name.rsplit("/", 1)[-1].split(":")[0]
    if name in _WORD_TABLE_NAMES and len(weight.shape) == 2:
      return int(weight.shape[0])
  return None


def _is_probability(model) -> bool:
  """True when the last layer already ends in softmax (or is a Softmax layer)."""
  last = model.layers[-1]
  activation = getattr(last, "activation", None)
  return type(last).__name__ == "Softmax" or getattr(activation, "__name__", "") == "softmax"


def from_classifier(path) -> ClassifierSource:
  import tensorflow as tf
  import tensorflow_hub  # noqa: F401  (KerasLayer)
  import tensorflow_text  # noqa: F401  (the tokenizer's ops, to load the whole model)
  import tf_keras

  path = Path(path)
  if not (path / SAVED_MODEL_NAME).is_file():
    raise HubExportError(f"--classifier {path} is not a SavedModel directory (no saved_model.pb)")
  try:
    model = tf_keras.models.load_model(str(path), compile=False)
  except Exception as e:  # tf_keras raises many kinds for a SavedModel it cannot revive
    raise HubExportError(f"cannot load --classifier {path} as a tf_keras model: {first_line(e)}") from None
  if not isinstance(model, tf_keras.Model) or not hasattr(model, "layers"):
    raise HubExportError(f"--classifier {path} is not a tf_keras model (saved with model.save); "
                         "a TF-Hub encoder is exported with --saved_model")
  encoder = _encoder_layer(model, path)
  try:
    head = tf_keras.Model(encoder.input, model.output)
  except (ValueError, TypeError) as e:
    raise HubExportError(f"--classifier {path}: its output does not follow from the encoder's inputs alone: "
                         f"{first_line(e)}") from None
  shape = model.output.shape
  if len(shape) != 2 or shape[-1] is None or shape[-1] < 2:
    raise HubExportError(f"--classifier {path}: its output has shape {shape}; expected [batch, classes] "
                         "with at least 2 classes")
  seq_length = encoder.input[sig.INPUT_WORD_IDS].shape[-1]
  if seq_length is None:
    raise HubExportError(f"--classifier {path}: its sequence length is not fixed; pack with a seq_length")
  already = _is_probability(model)

  def scores(inputs):
    outputs = head(inputs, training=False)
    return outputs if already else tf.nn.softmax(outputs, axis=-1)

  vocab = path / "assets" / VOCAB_NAME
  return ClassifierSource(
      scores=scores, trackable=head, description=f"classifier {path}", protected=path, seq_length=int(seq_length),
      num_classes=int(shape[-1]), vocab_size=_vocab_size(encoder), vocab=vocab if vocab.is_file() else None,
      already_probabilities=already)
