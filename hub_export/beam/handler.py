"""The RunInference model handler: strings -> preprocessor -> encoder -> one vector a string.

Beam's own TensorFlow handlers load with Keras 3's `load_model`, which refuses TF-Hub
SavedModels, and stack plain tensors rather than the encoder's input dict; this handler
loads both SavedModels with `tensorflow_hub.load` once a worker (RunInference shares the
loaded model across the bundles of a process) and calls them the way a TF-Hub user does:
`encoder(preprocessor.bert_pack_inputs([preprocessor.tokenize(texts)], seq_length))`.
Batches are padded with empty strings to a multiple of `BATCH_BUCKET` rows so the encoder
meets few distinct shapes (each new one costs a graph optimization) while Beam adapts the
batch size; the padding rows are dropped. Rows of a batch do not affect each other.
"""

from typing import Any, Optional, Sequence

import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from hub_export.beam.io import CorpusError
from hub_export.support.errors import first_line

BATCH_BUCKET = 8
METRICS_NAMESPACE = "embed_corpus"


def bucketed(size: int) -> int:
  """The padded batch size: `size` itself up to BATCH_BUCKET, else the next multiple of it."""
  return size if size <= BATCH_BUCKET else -(-size // BATCH_BUCKET) * BATCH_BUCKET


class TextEmbedder:
  """The loaded preprocessor and encoder; called on a list of strings, returns [batch, dim]."""

  def __init__(self, encoder: str, preprocessor: str, output_key: str, seq_length: int):
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401  (registers the preprocessor's ops in this worker)

    self._tf = tf
    self._encoder_handle = encoder
    self._preprocessor = hub.load(preprocessor)
    self._encoder = hub.load(encoder)
    self._output_key = output_key
    self._seq_length = tf.constant(seq_length, tf.int32)
    for name in ("tokenize", "bert_pack_inputs"):
      if not hasattr(self._preprocessor, name):
        raise CorpusError(f"preprocessor {preprocessor} has no .{name}: not a TF-Hub text preprocessor")

  def __call__(self, texts: Sequence[str]) -> np.ndarray:
    tf = self._tf
    strings = tf.constant(list(texts) + [""] * (bucketed(len(texts)) - len(texts)))
    inputs = self._preprocessor.bert_pack_inputs([self._preprocessor.tokenize(strings)], seq_length=self._seq_length)
    try:
      outputs = self._encoder(inputs, training=False)
    except tf.errors.InvalidArgumentError as e:
      raise CorpusError(f"encoder {self._encoder_handle} rejects its inputs at --seq_length "
                        f"{int(self._seq_length)}: {first_line(e)}") from None
    if self._output_key not in outputs:
      raise CorpusError(f"encoder {self._encoder_handle} has no output {self._output_key!r} "
                        f"(it has: {', '.join(sorted(outputs))})")
    values = outputs[self._output_key]
    if values.shape.rank != 2:
      raise CorpusError(f"encoder output {self._output_key!r} is {values.shape.rank - 1}-D per document; "
                        f"choose one vector a document, such as pooled_output")
    return values.numpy()[:len(texts)]


class TextEmbeddingHandler(ModelHandler[str, PredictionResult, TextEmbedder]):
  """RunInference handler for TF-Hub text encoders: examples are strings, inferences vectors."""

  def __init__(self, encoder: str, preprocessor: str, output_key: str, seq_length: int,
               min_batch_size: int, max_batch_size: int):
    super().__init__(min_batch_size=min_batch_size, max_batch_size=max_batch_size)
    self._args = (encoder, preprocessor, output_key, seq_length)

  def load_model(self) -> TextEmbedder:
    return TextEmbedder(*self._args)

  def run_inference(self, batch: Sequence[str], model: TextEmbedder,
                    inference_args: Optional[dict[str, Any]] = None) -> list:
    return [PredictionResult(text, vector) for text, vector in zip(batch, model(batch))]

  def get_num_bytes(self, batch: Sequence[str]) -> int:
    return sum(len(text) for text in batch)

  def get_metrics_namespace(self) -> str:
    return METRICS_NAMESPACE
