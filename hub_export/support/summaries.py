"""TensorBoard scalars, written as `tf.summary.scalar` writes them but without the tensorboard package, and the
events a resumed run must not write twice."""

from pathlib import Path

EVENTS_GLOB = "events.out.tfevents.*"


def scalar(name: str, value, step: int) -> None:
  """One scalar at `step` to the default writer (`tf.summary.create_file_writer(...).as_default()`)."""
  import tensorflow as tf
  from tensorflow.core.framework import summary_pb2

  metadata = summary_pb2.SummaryMetadata()
  metadata.plugin_data.plugin_name = "scalars"
  tf.summary.write(name, tf.cast(value, tf.float32), step=step, metadata=metadata)


def drop_steps_from(folder: Path, first: int) -> None:
  """Removes from `folder`'s event files every event of step `first` or later (and a record cut short by a kill):
  what a run wrote after its last checkpoint, which the resumed run writes again from step `first`."""
  import tensorflow as tf
  from tensorflow.core.util import event_pb2

  from hub_export.support.atomic import atomic_file

  for path in sorted(folder.glob(EVENTS_GLOB)):
    records, whole = [], True
    try:
      for record in tf.compat.v1.io.tf_record_iterator(str(path)):
        records.append(record)
    except tf.errors.DataLossError:  # a last record cut short by a kill
      whole = False
    kept = [r for r in records if event_pb2.Event.FromString(r).step < first]
    if whole and len(kept) == len(records):
      continue
    with atomic_file(path, overwrite=True) as tmp, tf.io.TFRecordWriter(str(tmp)) as writer:
      for record in kept:
        writer.write(record)
