"""Fine-tuning features as numpy arrays, and the rows each training step reads.

Features are built once, before training: SQuAD windows with the project's Python windowing
(`squad_windows`), sentences and pairs through the preprocessor's `tokenize` and
`bert_pack_inputs`. Each step reads the rows a seeded permutation of its epoch gives, a pure
function of (seed, step), so a run resumed at step k reads what the unbroken run read there,
under any strategy (the global batch is split over the replicas).
"""

import math

import numpy as np

from hub_export import signatures as sig
from hub_export.support.errors import HubExportError
from hub_export.tasks import squad_windows

LABELS = "labels"  # classification targets: label ids, or scores for a regression
TOKENIZE_CHUNK = 1024


def squad_training_features(examples, vocab, lower_case: bool, max_seq_length: int, max_query_length: int,
                            doc_stride: int) -> dict:
  """The windows of `examples` as arrays, with the answers' start and end positions."""
  from hub_export.tasks.squad_tokens import WordpieceTokenizer

  encoded = squad_windows.encode(examples, WordpieceTokenizer(vocab, lower_case), vocab, max_seq_length,
                                 max_query_length, doc_stride, training=True)
  return squad_windows.as_arrays(encoded.windows, vocab, max_seq_length)


def classification_features(dataset, preprocessor, max_seq_length: int, path) -> dict:
  """Encoder inputs (int32 [examples, max_seq_length]) and `LABELS` of a classification_data.Dataset."""
  import tensorflow as tf

  examples = dataset.examples
  unlabelled = next((e for e in examples if e.label is None), None)
  if unlabelled is not None:
    raise HubExportError(f"{path} line {unlabelled.line} has no label: fine-tuning and scoring need labelled data")
  pair = examples[0].text_b is not None
  chunks = []
  for first in range(0, len(examples), TOKENIZE_CHUNK):
    chunk = examples[first:first + TOKENIZE_CHUNK]
    segments = [preprocessor.tokenize(tf.constant([e.text_a for e in chunk]))]
    if pair:
      segments.append(preprocessor.tokenize(tf.constant([e.text_b for e in chunk])))
    packed = preprocessor.bert_pack_inputs(segments, tf.constant(max_seq_length, tf.int32))
    chunks.append({key: packed[key].numpy().astype(np.int32) for key in sig.ENCODER_INPUT_KEYS})
  arrays = {key: np.concatenate([chunk[key] for chunk in chunks]) for key in sig.ENCODER_INPUT_KEYS}
  arrays[LABELS] = np.array([e.label for e in examples], np.float32 if dataset.regression else np.int32)
  return arrays


def steps_per_epoch(count: int, batch_size: int) -> int:
  return math.ceil(count / batch_size)


def step_rows(count: int, step: int, batch_size: int, seed: int) -> np.ndarray:
  """The rows of global step `step`: the next `batch_size` of the epoch's seeded permutation; the
  last batch of an epoch is filled up from the start of the same permutation."""
  epoch, within = divmod(step, steps_per_epoch(count, batch_size))
  order = np.random.default_rng([seed, epoch]).permutation(count)
  return order[(within * batch_size + np.arange(batch_size)) % count]


def batches(arrays: dict, batch_size: int):
  """The arrays in consecutive slices of `batch_size` rows (the last may be shorter), for prediction."""
  count = len(next(iter(arrays.values())))
  for first in range(0, count, batch_size):
    yield {name: values[first:first + batch_size] for name, values in arrays.items()}
