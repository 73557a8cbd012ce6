"""Knowledge-transfer losses as pure functions of tensors.

Layer stage (at one block): feature-map MSE between teacher and student block outputs,
each first normalized by a LayerNorm without weights; the differences of the per-token
mean (squared) and variance (absolute) of the raw outputs; and the KL divergence of the
student's attention distribution from the teacher's, per head. Distillation stage:
masked-LM cross-entropy against `ratio * one-hot + (1 - ratio) * teacher softmax`,
weighted by `masked_lm_weights`, plus next-sentence cross-entropy.

Every average is a weighted sum divided by `normalizer`, by default the sum of the
weights. Under `tf.distribute` the train step passes the global weight sum, so the
replicas' losses add up to the loss of the global batch.
"""

import tensorflow as tf

from hub_export.distillation.options import LayerFactors

# The feature-map LayerNorm: Model Garden's non-trainable Keras LayerNormalization, whose
# epsilon is Keras' default.
FEATURE_NORM_EPSILON = 1e-3
_TINY = 1e-30  # floors probabilities under a log; a zero teacher weight multiplies it away


def _weighted_mean(values, weights, normalizer):
  """sum(values * weights) / normalizer (default: sum(weights)); values and weights broadcast."""
  weights = tf.broadcast_to(tf.cast(weights, values.dtype), tf.shape(values))
  total = tf.reduce_sum(values * weights)
  return tf.math.divide_no_nan(total, tf.reduce_sum(weights) if normalizer is None else normalizer)


def _standardize(x, epsilon: float):
  mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
  return (x - mean) * tf.math.rsqrt(variance + epsilon)


def layer_transfer_losses(teacher_hidden, student_hidden, teacher_attention, student_attention, token_weights,
                          factors: LayerFactors = LayerFactors(), normalizer=None,
                          feature_norm_epsilon: float = FEATURE_NORM_EPSILON) -> dict:
  """The layer-stage terms, each already scaled by its factor, and their `total`.

  hidden: [batch, seq, width] block outputs; attention: [batch, heads, seq, seq]
  distributions; token_weights: [batch, seq] (the input mask), over which every term is
  averaged. The attention term averages the per-head KL over heads and query tokens.
  """
  weights = tf.cast(token_weights, tf.float32)
  feature = tf.reduce_mean(tf.math.squared_difference(_standardize(student_hidden, feature_norm_epsilon),
                                                      _standardize(teacher_hidden, feature_norm_epsilon)), -1)
  teacher_mean, teacher_variance = tf.nn.moments(teacher_hidden, axes=[-1])
  student_mean, student_variance = tf.nn.moments(student_hidden, axes=[-1])
  mean = tf.math.squared_difference(student_mean, teacher_mean)
  variance = tf.abs(student_variance - teacher_variance)
  kl = tf.reduce_sum(tf.math.xlogy(teacher_attention, teacher_attention)
                     - teacher_attention * tf.math.log(tf.maximum(student_attention, _TINY)), axis=-1)
  attention = tf.reduce_mean(kl, axis=1)  # over heads: [batch, seq]
  terms = {
      "feature_map": factors.feature_map * _weighted_mean(feature, weights, normalizer),
      "mean": factors.mean * _weighted_mean(mean, weights, normalizer),
      "variance": factors.variance * _weighted_mean(variance, weights, normalizer),
      "attention": factors.attention * _weighted_mean(attention, weights, normalizer),
  }
  terms["total"] = tf.add_n(list(terms.values()))
  return terms


def masked_lm_distillation_loss(student_logits, teacher_logits, masked_lm_ids, masked_lm_weights,
                                ground_truth_ratio: float = 0.5, normalizer=None):
  """Cross-entropy of the student against `ratio * one-hot + (1 - ratio) * softmax(teacher)`.

  logits: [batch, predictions, vocab]; ids and weights: [batch, predictions]. With ratio 1,
  or `teacher_logits` None (training without a teacher), it is the plain masked-LM loss.
  """
  targets = tf.one_hot(masked_lm_ids, tf.shape(student_logits)[-1], dtype=tf.float32)
  if teacher_logits is not None:
    targets = ground_truth_ratio * targets + (1.0 - ground_truth_ratio) * tf.nn.softmax(teacher_logits, axis=-1)
  per_prediction = -tf.reduce_sum(targets * tf.nn.log_softmax(student_logits, axis=-1), axis=-1)
  return _weighted_mean(per_prediction, masked_lm_weights, normalizer)


def next_sentence_loss(logits, labels, normalizer=None):
  """Mean cross-entropy of [batch, 2] logits against [batch] or [batch, 1] 0/1 labels."""
  labels = tf.reshape(labels, [-1])
  per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
  return _weighted_mean(per_example, tf.ones_like(per_example), normalizer)
