"""Stateless math shared by the layers: dense, the two normalizations, attention, dropout.

The transformer blocks run these inside one traced function that all blocks share, so
the graph holds the block computation once rather than once per block.
"""

import math

import tensorflow as tf

from hub_export.config import LAYER_NORM_EPSILON, MASK_BIAS

# The bounded mask's floor: a softmax input this far below the row's largest real score has
# weight e^-30 = 9e-14 of it, below float32 resolution, so the bounded mask equals the
# additive one in float32 while its scores span [-30, 0], a range int8 can resolve.
BOUNDED_SCORE_FLOOR = -30.0


def attention_mask(input_mask: tf.Tensor, bounded: bool = False) -> tf.Tensor:
  """[batch, seq] 1/0 mask -> [batch, 1, 1, seq]: the additive bias for the scores, or with
  `bounded` the 1/0 mask itself, which `masked_softmax` then applies."""
  # expand_dims rather than tf.newaxis slicing, which the TFLite converter cannot lower.
  mask = tf.expand_dims(tf.expand_dims(tf.cast(input_mask, tf.float32), 1), 1)
  return mask if bounded else (1.0 - mask) * MASK_BIAS


def masked_softmax(scores, mask, bounded: bool = False):
  """Softmax over the last axis with padding masked; `mask` comes from `attention_mask`.

  Additive (default): padding gets -1e9 and exactly zero weight. Bounded: see
  `bounded_scores`.
  """
  return tf.nn.softmax(bounded_scores(scores, mask) if bounded else scores + mask, axis=-1)


def bounded_scores(scores, mask):
  """Softmax inputs in [-30, 0], for full-integer quantization.

  A -1e9 bias would take the whole int8 range of the scores and leave the real ones
  unresolved. Instead: scores minus the row's largest real score, floored at -30, and -30
  at padding. The softmax of this equals the additive mask's in float32 whenever a row's
  largest real score is above -30 (the shift changes nothing, and what the floor and the
  padding add is 9e-14 relative, under float32 rounding).
  """
  floor = BOUNDED_SCORE_FLOOR
  padding_at_floor = (mask - 1.0) * -floor
  shifted = scores - tf.reduce_max(scores * mask + padding_at_floor, axis=-1, keepdims=True)
  return tf.maximum(shifted, floor) * mask + padding_at_floor


def dense(x, kernel, bias):
  """x [n, in] @ kernel [in, out] + bias: one MatMul and one BiasAdd."""
  return tf.nn.bias_add(tf.matmul(x, kernel), bias)


def no_norm(x, gamma, beta):
  """MobileBERT's NoNorm: an elementwise affine map, no statistics."""
  return x * gamma + beta


def layer_norm(x, gamma, beta):
  mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
  return tf.nn.batch_normalization(x, mean, variance, beta, gamma, LAYER_NORM_EPSILON)


def normalize(normalization_type: str, x, gamma, beta):
  return no_norm(x, gamma, beta) if normalization_type == "no_norm" else layer_norm(x, gamma, beta)


def dropout(x, rate: float, training: bool):
  return tf.nn.dropout(x, rate) if training and rate > 0 else x


def multi_head_attention(query, key, value, mask, batch_seq, num_heads: int, dropout_rate: float,
                         training: bool, bounded_mask: bool = False, return_probs: bool = False):
  """Scaled dot-product attention; inputs [batch * seq, heads * size], output the same.

  `return_probs` also returns the attention distribution [batch, heads, seq, seq] before
  dropout (what attention transfer compares).
  """
  head_size = query.shape[-1] // num_heads

  def split_heads(x):
    x = tf.reshape(x, [batch_seq[0], batch_seq[1], num_heads, head_size])
    return tf.transpose(x, [0, 2, 1, 3])

  scores = tf.matmul(split_heads(query), split_heads(key), transpose_b=True)
  probs = masked_softmax(scores * (1.0 / math.sqrt(head_size)), mask, bounded_mask)
  context = tf.transpose(tf.matmul(dropout(probs, dropout_rate, training), split_heads(value)), [0, 2, 1, 3])
  context = tf.reshape(context, [-1, num_heads * head_size])
  return (context, probs) if return_probs else context


def single_sequence_attention(queries, key, value, mask, num_heads: int, bounded_mask: bool = False):
  """Inference attention within one sequence, per head as 2-D matmuls.

  `queries` are row groups of the sequence, [rows, heads * size] each; `key` and `value`
  are [seq, heads * size], split into heads once for all groups; `mask` is `attention_mask`
  of a [1, seq] input mask. Returns one [rows, heads * size] context per group, as
  `multi_head_attention` gives for those rows at batch 1. Its head transposes and
  batch-matmuls are ops that oneDNN spreads over the intra-op threads even when tiny; these
  2-D matmuls and slices run on the calling thread.
  """
  head_size = key.shape[-1] // num_heads
  keys, values = tf.split(key, num_heads, axis=1), tf.split(value, num_heads, axis=1)
  mask = tf.reshape(mask, [1, 1, -1])

  def attend(query):
    scores = tf.stack([tf.matmul(q, k, transpose_b=True) for q, k in zip(tf.split(query, num_heads, axis=1), keys)])
    probs = masked_softmax(scores * (1.0 / math.sqrt(head_size)), mask, bounded_mask)
    return tf.concat([tf.matmul(p, v) for p, v in zip(tf.unstack(probs), values)], axis=1)

  return [attend(query) for query in queries]
