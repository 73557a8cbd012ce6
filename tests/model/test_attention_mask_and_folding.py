"""The attention mask: padding gets exactly zero weight, real positions a softmax of their scores;
and folding NoNorm into the matmuls (the on-device trace) leaves the encoder's outputs unchanged."""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.model import functional as F
from support.layer_test_case import encoder_inputs, padding_mask
from support.release_dirs import write_tiny_release


def _reference_probs(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Softmax over the real positions only, in float64; padding gets exactly zero."""
  real = mask[:, None, None, :].astype(bool)
  shifted = np.where(real, scores, -np.inf)
  shifted = shifted - shifted.max(axis=-1, keepdims=True)
  weights = np.where(real, np.exp(shifted), 0.0)
  return weights / weights.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("spread", [1.0, 30.0])
def test_masked_softmax_is_a_softmax_over_real_positions(spread):
  rng = np.random.default_rng(int(spread))
  batch, heads, seq = 4, 2, 24
  scores = rng.normal(0.0, spread, [batch, heads, seq, seq]) + rng.uniform(-40, 25, [batch, heads, seq, 1])
  lengths = rng.integers(1, seq + 1, batch)
  lengths[0] = seq  # one row without padding
  mask = padding_mask(lengths, seq)
  scores += np.where(mask[:, None, None, :] == 0, rng.normal(40.0, 10.0, scores.shape), 0.0)  # loud padding
  scale = 0.25
  probs = F.masked_softmax(tf.constant(scores.astype(np.float32)), scale, F.attention_mask(tf.constant(mask))).numpy()
  want = _reference_probs(scores.astype(np.float32).astype(np.float64) * scale, mask)
  assert np.all(probs[np.broadcast_to(mask[:, None, None, :] == 0, probs.shape)] == 0.0)
  np.testing.assert_allclose(probs, want, rtol=0, atol=2e-6)


def test_folding_no_norm_leaves_the_outputs_unchanged(tmp_path):
  """The fold is algebra (`transformer_block._block_end`); only float rounding may differ."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert

  model, _ = load_mobilebert(locate_checkpoint(write_tiny_release(tmp_path / "release", seed=5)))
  assert model.config.normalization_type == "no_norm"
  inputs = {k: tf.constant(v) for k, v in encoder_inputs((40, 17, 2), 40, model.config.vocab_size).items()}
  plain = model.encoder(inputs)
  folded = model.encoder(inputs, fold_no_norm=True)
  for key in ("sequence_output", "pooled_output"):
    a, b = plain[key].numpy(), folded[key].numpy()
    assert not np.array_equal(a, b)  # the folded graph is another computation, not the same one
    relative = np.linalg.norm(a - b, axis=-1) / np.linalg.norm(a, axis=-1)
    assert relative.max() <= 1e-5, key
