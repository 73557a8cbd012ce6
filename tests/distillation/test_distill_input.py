"""The training input stream: position from the step, shuffled epochs, and how workers split the data."""

import types

import pytest

SEQ_LENGTH, MAX_PREDICTIONS = 8, 2
SHARDS, PER_SHARD = 4, 6


@pytest.fixture(scope="module")
def data(tmp_path_factory):
  """Four shards of six records; record k carries k + 10 as its second input id."""
  import json

  from hub_export.distillation import records

  folder = tmp_path_factory.mktemp("input_data")
  instances = [types.SimpleNamespace(tokens=[1, k + 10, 2], segment_ids=[0, 0, 0], masked_lm_positions=[1],
                                     masked_lm_ids=[k + 10], is_random_next=False) for k in range(SHARDS * PER_SHARD)]
  serialized = [records.serialize(i, SEQ_LENGTH, MAX_PREDICTIONS) for i in instances]
  shards = [records.write_shard(str(folder), records.SHARD_PATTERN.format(index=s, count=SHARDS), serialized[s::SHARDS])
            for s in range(SHARDS)]  # round robin: shard s holds records s, s + SHARDS, ...
  metadata = {"features": list(records.FEATURES), "shards": shards, "seq_length": SEQ_LENGTH,
              "max_predictions": MAX_PREDICTIONS}
  (folder / records.METADATA_NAME).write_text(json.dumps(metadata))
  return records.read_metadata(folder)


def _ids(data, context, first_step=0, steps=1, policy="file", seed=3, shuffle_buffer=5, batch_size=4) -> list:
  """The record numbers of each batch the pipeline of `context` gives, from `first_step` on."""
  from hub_export.distillation.inputs import training_dataset

  dataset = training_dataset(data, context, batch_size=batch_size, first_step=first_step, policy=policy, seed=seed,
                             shuffle_buffer=shuffle_buffer)
  return [[int(row[1]) - 10 for row in batch["input_ids"].numpy()] for batch in dataset.take(steps)]


def _context(pipelines=1, index=0, replicas=1):
  import tensorflow as tf

  return tf.distribute.InputContext(num_input_pipelines=pipelines, input_pipeline_id=index,
                                    num_replicas_in_sync=replicas)


def test_a_resumed_stream_continues_where_the_step_stands_with_each_epoch_shuffled(data):
  total = SHARDS * PER_SHARD
  whole = _ids(data, _context(), steps=15)  # 60 records: two and a half epochs
  records = [k for batch in whole for k in batch]
  epochs = [records[i:i + total] for i in range(0, 2 * total, total)]
  assert all(sorted(epoch) == list(range(total)) for epoch in epochs)  # every record once an epoch
  assert epochs[0] != epochs[1] and epochs[0] != list(range(total))  # shuffled, differently each epoch
  assert _ids(data, _context(), first_step=5, steps=10) == whole[5:]  # mid-epoch, and across epoch ends
  assert _ids(data, _context(), steps=15, seed=4) != whole
  assert [k for batch in _ids(data, _context(), steps=6, shuffle_buffer=0) for k in batch] == list(range(total))


def test_two_workers_under_the_file_policy_read_disjoint_shards(data):
  """One epoch of each worker's own shards: every record read by exactly one of them."""
  seen = [[k for batch in _ids(data, _context(2, index, replicas=2), steps=6) for k in batch] for index in (0, 1)]
  assert len(seen[0]) == len(seen[1]) == SHARDS * PER_SHARD // 2
  assert sorted(seen[0]) == sorted(set(seen[0])) and not set(seen[0]) & set(seen[1])
  assert sorted(seen[0] + seen[1]) == list(range(SHARDS * PER_SHARD))
  # Round-robin shards: worker 0 has shards 0 and 2.
  assert {k % SHARDS for k in seen[0]} == {0, 2} and {k % SHARDS for k in seen[1]} == {1, 3}


def test_under_the_data_policy_the_workers_split_the_one_device_batches(data):
  one = _ids(data, _context(), steps=8, batch_size=4)
  halves = [_ids(data, _context(2, index, replicas=2), steps=8, policy="data", batch_size=4) for index in (0, 1)]
  assert [a + b for a, b in zip(*halves)] == one
  resumed = [_ids(data, _context(2, index, replicas=2), first_step=6, steps=2, policy="data") for index in (0, 1)]
  assert [a + b for a, b in zip(*resumed)] == one[6:]


def test_the_file_policy_needs_a_shard_for_each_worker(data):
  from hub_export.support.errors import HubExportError

  with pytest.raises(HubExportError, match="needs a shard with records for each of the 5 workers, the data has 4"):
    _ids(data, _context(5, 0, replicas=5), batch_size=5)
