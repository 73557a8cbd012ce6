"""The training input: a data folder's shards as a `tf.data` stream, one per input pipeline of a
`tf.distribute` run, in memory independent of the corpus' size.

Each epoch reads the files in an order shuffled by (seed, epoch), interleaved, and shuffles the
records in consecutive windows of `shuffle_buffer`, by stateless ops: the stream depends on the
seed alone (not on TensorFlow's global seed), so the records a step reads follow from the step.
A resumed run starts the stream at its first step: it skips the epochs before it by count (the
metadata holds each shard's examples) and the records of the current epoch before it, unparsed.

Two ways to split the data over the workers, tf.data's auto-shard policies done here by hand:
FILE gives each worker its own shards (`shards[worker::workers]`), so a record is read once;
DATA has every worker read every shard and keep its slice of each global batch, so the global
batch equals the one-device run's (at the cost of every worker reading all the data).
"""

import tensorflow as tf

from hub_export.distillation import records
from hub_export.distillation.options import DATA, FILE
from hub_export.support.errors import HubExportError

POLICIES = {FILE: tf.data.experimental.AutoShardPolicy.FILE, DATA: tf.data.experimental.AutoShardPolicy.DATA}
_CYCLE_LENGTH = 16  # shards read at once


def _epoch_records(paths: list, seed, shuffle_buffer: int) -> tf.data.Dataset:
  """One pass over `paths`: the files in an order drawn from `seed`, their records interleaved and window-shuffled
  (`shuffle_buffer` under 2: the files in their order, nothing shuffled)."""
  shuffle = shuffle_buffer > 1
  order = tf.random.experimental.stateless_shuffle(tf.range(len(paths)), seed=seed) if shuffle else tf.range(len(paths))
  files = tf.data.Dataset.from_tensor_slices(tf.gather(tf.constant(paths), order))
  stream = files.interleave(tf.data.TFRecordDataset, cycle_length=min(len(paths), _CYCLE_LENGTH),
                            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  if not shuffle:
    return stream
  windows = stream.batch(shuffle_buffer).enumerate()
  return windows.map(lambda index, window: tf.random.experimental.stateless_shuffle(
      window, seed=tf.random.experimental.stateless_fold_in(seed, index))).unbatch()


def record_stream(paths: list, counts: list, first_record: int, seed: int, shuffle_buffer: int) -> tf.data.Dataset:
  """The serialized records of `paths`, epoch after epoch without end, from the `first_record`-th on."""
  first_epoch, offset = divmod(first_record, sum(counts))
  base = tf.constant([seed, 0], tf.int64)
  epochs = tf.data.Dataset.range(first_epoch, tf.int64.max)
  stream = epochs.flat_map(lambda epoch: _epoch_records(
      paths, tf.random.experimental.stateless_fold_in(base, epoch), shuffle_buffer))
  return stream.skip(offset)


def training_dataset(data: dict, context: tf.distribute.InputContext, *, batch_size: int, first_step: int,
                     policy: str, seed: int, shuffle_buffer: int) -> tf.data.Dataset:
  """This input pipeline's per-replica batches of `data` (records.read_metadata's), from global step `first_step`."""
  pipelines, index = context.num_input_pipelines, context.input_pipeline_id
  paths, counts = data["paths"], data["counts"]
  if POLICIES[policy] == tf.data.experimental.AutoShardPolicy.FILE:
    if not all(sum(counts[worker::pipelines]) for worker in range(pipelines)):
      raise HubExportError(f"--shard_policy file needs a shard with records for each of the {pipelines} workers, "
                           f"the data has {sum(1 for c in counts if c)}: write more (--num_shards) or use "
                           "--shard_policy data")
    paths, counts = paths[index::pipelines], counts[index::pipelines]
    stream = record_stream(paths, counts, first_step * batch_size // pipelines, seed, shuffle_buffer)
  else:
    stream = record_stream(paths, counts, first_step * batch_size, seed, shuffle_buffer)
    stream = stream.batch(batch_size // pipelines, drop_remainder=True).shard(pipelines, index).unbatch()
  spec = records.parse_spec(data["seq_length"], data["max_predictions"])
  dataset = stream.batch(context.get_per_replica_batch_size(batch_size), drop_remainder=True)
  dataset = dataset.map(lambda batch: records.parse_batch(batch, spec), num_parallel_calls=tf.data.AUTOTUNE)
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF  # sharded above
  options.deterministic = True
  return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)
