"""The batch-1 attention form gives, row for row, what batched attention gives."""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.model import functional as F
from support.layer_test_case import padding_mask

HEADS, HEAD_SIZE, LENGTH = 4, 8, 11


@pytest.mark.parametrize("real", [LENGTH, 7])
def test_rows_match_batched_attention(real):
  rng = np.random.default_rng(real)
  query, key, value = (tf.constant(rng.normal(0, 2, [LENGTH, HEADS * HEAD_SIZE]).astype(np.float32)) for _ in range(3))
  input_mask = tf.constant(padding_mask([real], LENGTH))
  mask = F.attention_mask(input_mask)
  want = F.multi_head_attention(query, key, value, mask, [1, LENGTH], HEADS, 0.0, False).numpy()
  groups = (slice(0, 6), slice(6, LENGTH), slice(0, LENGTH))
  contexts = F.single_sequence_attention([query[rows] for rows in groups], key, value, mask, HEADS)
  assert len(contexts) == len(groups)
  for rows, got in zip(groups, contexts):
    np.testing.assert_allclose(got.numpy(), want[rows], rtol=0, atol=1e-5)
