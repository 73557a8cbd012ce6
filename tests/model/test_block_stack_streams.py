"""The two-stream inference forms of `BlockStack` against its one batched stream.

A batch of two or more runs as two groups of sequences: every op is row-wise or within one
sequence, so the outputs must be the batched stream's, bit for bit, whatever the batch
(odd, two, empty) and the padding.
"""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.config import MobileBertConfig
from hub_export.model.block_stack import BlockStack
from hub_export.model.functional import attention_mask

LENGTH = 9


@pytest.fixture(scope="module")
def run():
  config = MobileBertConfig(vocab_size=100, num_hidden_layers=2)
  stack = BlockStack(config)
  call = tf.function(lambda hidden, mask, batch_seq, two_streams: stack(hidden, mask, batch_seq,
                                                                      two_streams=two_streams))

  def blocks(batch: int, two_streams: bool, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    hidden = tf.constant(rng.normal(0.0, 1.0, [batch * LENGTH, config.hidden_size]).astype(np.float32))
    input_mask = np.ones([batch, LENGTH], np.int32)
    for row in range(1, batch, 2):  # every other sequence padded, by 1 to 4 positions
      input_mask[row, LENGTH - 1 - row % 4:] = 0
    return [h.numpy() for h in call(hidden, attention_mask(tf.constant(input_mask)), tf.constant([batch, LENGTH]),
                                     two_streams)]

  return blocks


@pytest.mark.parametrize("batch", [2, 3, 4, 7])
def test_sequence_groups_give_the_batched_outputs_exactly(run, batch):
  grouped, batched = run(batch, True, seed=batch), run(batch, False, seed=batch)
  assert len(grouped) == len(batched) == 2
  for ours, theirs in zip(grouped, batched):
    assert ours.shape == (batch * LENGTH, 512)
    np.testing.assert_array_equal(ours, theirs)


def test_an_empty_batch_gives_empty_outputs(run):
  assert [h.shape for h in run(0, True)] == [(0, 512), (0, 512)]


def test_a_batch_of_one_agrees_with_the_batched_stream(run):
  """The half-sequence streams change the matmul shapes, so rounding may differ a little."""
  for ours, theirs in zip(run(1, True), run(1, False)):
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())
