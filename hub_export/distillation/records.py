"""The pre-training TFRecord layout: writing instances, and reading them back as padded batches.

Feature names and dtypes are the standard BERT pre-training ones (int64 ids, float
weights), so the files also feed Model Garden's and the original code's readers. A
`pretraining_data.json` beside the shards records what made them, and each shard's name,
example count and byte size: a reader knows where an epoch ends without reading the data,
and a truncated shard shows before training.
"""

import json
from pathlib import Path

import numpy as np

from hub_export.support.errors import HubExportError

SHARD_PATTERN = "pretraining-{index:05d}-of-{count:05d}.tfrecord"
METADATA_NAME = "pretraining_data.json"
# What a data folder holds: the files `pretraining_data --overwrite` may replace.
DATA_FILES = ("pretraining-?????-of-?????.tfrecord", METADATA_NAME)
SEQUENCE_FEATURES = ("input_ids", "input_mask", "segment_ids")
PREDICTION_FEATURES = ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")
FEATURES = SEQUENCE_FEATURES + PREDICTION_FEATURES + ("next_sentence_labels",)


def _int64(values):
  import tensorflow as tf

  return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def _float(values):
  import tensorflow as tf

  return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def serialize(instance, seq_length: int, max_predictions: int) -> bytes:
  """One tf.train.Example, padded to `seq_length` and `max_predictions`."""
  import tensorflow as tf

  pad = seq_length - len(instance.tokens)
  predictions = len(instance.masked_lm_positions)
  fill = max_predictions - predictions
  features = {
      "input_ids": _int64(list(instance.tokens) + [0] * pad),
      "input_mask": _int64([1] * len(instance.tokens) + [0] * pad),
      "segment_ids": _int64(list(instance.segment_ids) + [0] * pad),
      "masked_lm_positions": _int64(list(instance.masked_lm_positions) + [0] * fill),
      "masked_lm_ids": _int64(list(instance.masked_lm_ids) + [0] * fill),
      "masked_lm_weights": _float([1.0] * predictions + [0.0] * fill),
      "next_sentence_labels": _int64([1 if instance.is_random_next else 0]),
  }
  return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString(deterministic=True)


def write_shard(directory: str, name: str, records: list) -> dict:
  """One TFRecord file `directory/name` (local or any filesystem TensorFlow reads); returns {"file", "examples",
  "bytes"}."""
  import tensorflow as tf

  path = f"{directory.rstrip('/')}/{name}"
  with tf.io.TFRecordWriter(path) as writer:
    for record in records:
      writer.write(record)
  return {"file": name, "examples": len(records), "bytes": tf.io.gfile.stat(path).length}


def read_metadata(directory) -> dict:
  """The data folder's metadata, checked to list every feature a trainer needs."""
  path = Path(directory) / METADATA_NAME
  try:
    metadata = json.loads(path.read_text(encoding="utf-8"))
  except FileNotFoundError:
    raise HubExportError(f"data folder {directory} has no {METADATA_NAME} (write it with "
                         "python -m hub_export.pretraining_data)") from None
  except (OSError, ValueError) as e:
    raise HubExportError(f"cannot read {path}: {e}") from None
  missing = [name for name in FEATURES if name not in metadata.get("features", [])]
  if missing:
    raise HubExportError(f"data folder {directory} lacks feature(s) {', '.join(missing)} "
                         f"(its {METADATA_NAME} lists {', '.join(metadata.get('features', [])) or 'none'})")
  shards = metadata.get("shards", [])
  if not shards or not all(isinstance(s, dict) and {"file", "examples", "bytes"} <= s.keys() for s in shards):
    raise HubExportError(f"data folder {directory}: its {METADATA_NAME} lists no shards with their examples and "
                         "bytes (write it again with python -m hub_export.pretraining_data)")
  files = [Path(directory) / shard["file"] for shard in shards]
  absent = [str(f) for f in files if not f.is_file()]
  if absent:
    raise HubExportError(f"data folder {directory}: shard(s) missing: {', '.join(absent)}")
  for path, shard in zip(files, shards):
    if path.stat().st_size != shard["bytes"]:
      raise HubExportError(f"shard {path} holds {path.stat().st_size} bytes, {METADATA_NAME} says {shard['bytes']}: "
                           "truncated or changed since it was written")
  if not sum(shard["examples"] for shard in shards):
    raise HubExportError(f"data folder {directory} holds no examples")
  return {**metadata, "paths": [str(f) for f in files], "counts": [shard["examples"] for shard in shards]}


def parse_spec(seq_length: int, max_predictions: int) -> dict:
  import tensorflow as tf

  spec = {name: tf.io.FixedLenFeature([seq_length], tf.int64) for name in SEQUENCE_FEATURES}
  spec["masked_lm_positions"] = tf.io.FixedLenFeature([max_predictions], tf.int64)
  spec["masked_lm_ids"] = tf.io.FixedLenFeature([max_predictions], tf.int64)
  spec["masked_lm_weights"] = tf.io.FixedLenFeature([max_predictions], tf.float32)
  spec["next_sentence_labels"] = tf.io.FixedLenFeature([1], tf.int64)
  return spec


def parse_batch(serialized, spec: dict) -> dict:
  """A batch of serialized records as tensors: int32 ids, float32 weights."""
  import tensorflow as tf

  parsed = tf.io.parse_example(serialized, spec)
  return {name: value if value.dtype == tf.float32 else tf.cast(value, tf.int32) for name, value in parsed.items()}


def first_records(metadata: dict):
  """(path, the shard's first example as numpy arrays) for every shard that has one; one line naming a shard
  that is not a TFRecord file or whose records do not have the metadata's shapes."""
  import tensorflow as tf

  spec = parse_spec(metadata["seq_length"], metadata["max_predictions"])
  for path in (path for path, count in zip(metadata["paths"], metadata["counts"]) if count):
    try:
      first = next(iter(tf.data.TFRecordDataset(path).take(1).batch(1).map(lambda b: parse_batch(b, spec))))
    except StopIteration:
      raise HubExportError(f"shard {path} holds no records") from None
    except tf.errors.OpError as e:
      raise HubExportError(f"shard {path} is not a TFRecord file of pre-training examples with seq_length "
                           f"{metadata['seq_length']} and max_predictions {metadata['max_predictions']}: "
                           f"{e.message.splitlines()[0]}") from None
    yield path, {name: value.numpy()[0] for name, value in first.items()}


def load_examples(directory) -> dict:
  """Every example of a data folder as numpy arrays (int32 ids, float32 weights), in file order (small
  held-out folders; training streams its data)."""
  import tensorflow as tf

  metadata = read_metadata(directory)
  spec = parse_spec(metadata["seq_length"], metadata["max_predictions"])
  columns = {name: [] for name in FEATURES}
  try:
    for batch in tf.data.TFRecordDataset(metadata["paths"]).batch(4096):
      for name, value in parse_batch(batch, spec).items():
        columns[name].append(value.numpy())
  except tf.errors.OpError as e:
    raise HubExportError(f"data folder {directory}: cannot parse its records: {e.message.splitlines()[0]}") from None
  return {name: np.concatenate(values) for name, values in columns.items()}
