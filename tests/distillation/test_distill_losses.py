"""Each transfer loss against a computation done by hand on numbers small enough to check on paper."""

import math

import numpy as np
import pytest

EPSILON = 1e-3  # the feature-map LayerNorm's


def _layer_inputs():
  """One sequence, two tokens, width 2, one head; the second token is padding (weight 0) and wild."""
  teacher_hidden = np.array([[[1.0, 3.0], [50.0, -7.0]]], np.float32)  # token 0: mean 2, variance 1
  student_hidden = np.array([[[0.0, 0.0], [-9.0, 4.0]]], np.float32)  # token 0: mean 0, variance 0
  teacher_attention = np.array([[[[0.5, 0.5], [1.0, 0.0]]]], np.float32)
  student_attention = np.array([[[[0.25, 0.75], [0.1, 0.9]]]], np.float32)
  return teacher_hidden, student_hidden, teacher_attention, student_attention, np.array([[1, 0]], np.int32)


def test_layer_transfer_terms_by_hand():
  from hub_export.distillation.losses import LayerFactors, layer_transfer_losses

  terms = {k: float(v) for k, v in layer_transfer_losses(*_layer_inputs()).items()}
  # Token 0: the teacher standardizes to (+-1) / sqrt(1 + eps), the student to 0: MSE 1 / (1 + eps).
  assert terms["feature_map"] == pytest.approx(100 * 1 / (1 + EPSILON), rel=1e-6)
  assert terms["mean"] == pytest.approx(5000 * (2 - 0) ** 2, rel=1e-6)
  assert terms["variance"] == pytest.approx(5 * abs(0 - 1), rel=1e-6)
  # KL([.5, .5] || [.25, .75]) = .5 ln 2 + .5 ln(2/3) = .5 ln(4/3)
  assert terms["attention"] == pytest.approx(0.5 * math.log(4 / 3), rel=1e-5)
  assert terms["total"] == pytest.approx(sum(v for k, v in terms.items() if k != "total"), rel=1e-6)
  halved = layer_transfer_losses(*_layer_inputs(), factors=LayerFactors(feature_map=1, mean=0, variance=0, attention=2),
                                 normalizer=2.0)
  assert float(halved["feature_map"]) == pytest.approx(0.5 / (1 + EPSILON), rel=1e-6)
  assert float(halved["mean"]) == 0.0
  assert float(halved["attention"]) == pytest.approx(0.5 * math.log(4 / 3), rel=1e-5)


def test_attention_kl_is_zero_for_equal_distributions_with_zeros():
  from hub_export.distillation.losses import layer_transfer_losses

  teacher_hidden, _, teacher_attention, _, weights = _layer_inputs()
  terms = layer_transfer_losses(teacher_hidden, teacher_hidden, teacher_attention, teacher_attention,
                                np.ones_like(weights))
  assert float(terms["total"]) == pytest.approx(0.0, abs=1e-5)


def test_masked_lm_distillation_by_hand():
  from hub_export.distillation.losses import masked_lm_distillation_loss

  student = np.array([[[0.0, math.log(3.0)], [5.0, -5.0]]], np.float32)  # softmax [.25, .75]; 2nd unweighted
  teacher = np.array([[[0.0, 0.0], [9.0, 0.0]]], np.float32)  # softmax [.5, .5]
  ids, weights = np.array([[0, 1]]), np.array([[1.0, 0.0]], np.float32)
  # targets .5 * [1, 0] + .5 * [.5, .5] = [.75, .25]
  expected = -(0.75 * math.log(0.25) + 0.25 * math.log(0.75))
  assert float(masked_lm_distillation_loss(student, teacher, ids, weights)) == pytest.approx(expected, rel=1e-6)
  assert float(masked_lm_distillation_loss(student, teacher, ids, weights, ground_truth_ratio=1.0)) == \
      pytest.approx(math.log(4.0), rel=1e-6)
  # Without a teacher (training from scratch) it is the plain masked-LM loss.
  assert float(masked_lm_distillation_loss(student, None, ids, weights)) == pytest.approx(math.log(4.0), rel=1e-6)


def test_next_sentence_loss_by_hand():
  from hub_export.distillation.losses import next_sentence_loss

  logits = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]], np.float32)  # [.25, .75] twice
  labels = np.array([[1], [0]])
  assert float(next_sentence_loss(logits, labels)) == pytest.approx((math.log(4 / 3) + math.log(4)) / 2, rel=1e-6)
