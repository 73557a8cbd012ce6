"""The two attention masks: additive (the SavedModel's) and bounded (for int8 TFLite) agree in float."""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.model import functional as F
from release_dirs import write_tiny_release


def _reference_probs(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Softmax over the real positions only, in float64; padding gets exactly zero."""
  real = mask[:, None, None, :].astype(bool)
  shifted = np.where(real, scores, -np.inf)
  shifted = shifted - shifted.max(axis=-1, keepdims=True)
  weights = np.where(real, np.exp(shifted), 0.0)
  return weights / weights.sum(axis=-1, keepdims=True)


def _random_case(seed: int, spread: float):
  rng = np.random.default_rng(seed)
  batch, heads, seq = 4, 2, 24
  scores = rng.normal(0.0, spread, [batch, heads, seq, seq]) + rng.uniform(-40, 25, [batch, heads, seq, 1])
  lengths = rng.integers(1, seq + 1, batch)
  lengths[0] = seq  # one row without padding
  mask = (np.arange(seq)[None, :] < lengths[:, None]).astype(np.int32)
  scores += np.where(mask[:, None, None, :] == 0, rng.normal(40.0, 10.0, scores.shape), 0.0)  # loud padding
  scores[..., 0] = np.maximum(scores[..., 0], -20.0)  # the bounded mask's condition: a real score above -30
  return scores.astype(np.float32), mask


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("spread", [1.0, 8.0])
def test_both_masks_give_softmax_over_real_positions(bounded, spread):
  scores, mask = _random_case(seed=int(spread), spread=spread)
  probs = F.masked_softmax(tf.constant(scores), F.attention_mask(tf.constant(mask), bounded), bounded).numpy()
  want = _reference_probs(scores.astype(np.float64), mask)
  np.testing.assert_allclose(probs, want, rtol=0, atol=1e-6)  # float32 rounding
  assert probs[np.broadcast_to(mask[:, None, None, :] == 0, probs.shape)].max() < 1e-12


def test_bounded_scores_span_at_most_the_floor():
  """What int8 calibration sees: softmax inputs in [-30, 0] however loud the scores or the padding."""
  scores, mask = _random_case(seed=3, spread=50.0)
  bounded = F.bounded_scores(tf.constant(scores), F.attention_mask(tf.constant(mask), bounded=True)).numpy()
  assert bounded.min() == F.BOUNDED_SCORE_FLOOR and bounded.max() == 0.0
  padding = np.broadcast_to(mask[:, None, None, :] == 0, bounded.shape)
  assert np.all(bounded[padding] == F.BOUNDED_SCORE_FLOOR)


def test_encoder_outputs_agree_with_either_mask(tmp_path):
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert

  model, _ = load_mobilebert(locate_checkpoint(write_tiny_release(tmp_path / "release", seed=5)))
  rng = np.random.default_rng(0)
  ids = rng.integers(104, 160, [3, 40]).astype(np.int32)
  mask = (np.arange(40)[None, :] < np.array([[40], [17], [2]])).astype(np.int32)
  inputs = {"input_word_ids": tf.constant(ids * mask), "input_mask": tf.constant(mask),
            "input_type_ids": tf.zeros_like(ids)}
  additive = model.encoder(inputs)
  bounded = model.encoder(inputs, bounded_mask=True)
  for key in ("sequence_output", "pooled_output"):
    a, b = additive[key].numpy(), bounded[key].numpy()
    relative = np.linalg.norm(a - b, axis=-1) / np.linalg.norm(a, axis=-1)
    assert relative.max() <= 1e-5, key
