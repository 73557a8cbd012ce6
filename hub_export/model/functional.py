"""Stateless math shared by the layers: dense, the two normalizations, attention, dropout.

The transformer blocks run these inside one traced function that all blocks share, so
the graph holds the block computation once rather than once per block.
"""

import math

import tensorflow as tf

from hub_export.config import LAYER_NORM_EPSILON, MASK_BIAS

# The name scope of attention's score arithmetic (scaling and the padding bias). A full-int8
# TFLite export keeps the ops under it in float32, with BATCH_MATMUL and SOFTMAX: quantized,
# the -1e9 padding bias would take the scores' whole int8 range, and the quantizer gives the
# 1/0 mask the bias's scale, which rounds it to zero (no masking at all).
FLOAT_SCORES_SCOPE = "attention_scores"


def attention_mask(input_mask: tf.Tensor) -> tf.Tensor:
  """[batch, seq] 1/0 mask -> [batch, 1, 1, seq]: the additive bias for the scores, -1e9 at padding."""
  with tf.name_scope(FLOAT_SCORES_SCOPE):
    # expand_dims rather than tf.newaxis slicing, which the TFLite converter cannot lower.
    mask = tf.expand_dims(tf.expand_dims(tf.cast(input_mask, tf.float32), 1), 1)
    return (1.0 - mask) * MASK_BIAS


def masked_softmax(scores, scale: float, mask):
  """softmax(scores * scale + mask) over the last axis; `mask` comes from `attention_mask`,
  so padding gets exactly zero weight. Under mixed precision the float32 mask takes the scores' dtype."""
  with tf.name_scope(FLOAT_SCORES_SCOPE):
    logits = scores * scale + tf.cast(mask, scores.dtype)
  return tf.nn.softmax(logits, axis=-1)


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
                         training: bool, return_probs: bool = False):
  """Scaled dot-product attention; inputs [batch * seq, heads * size], output the same.

  `return_probs` also returns the attention distribution [batch, heads, seq, seq] before
  dropout (what attention transfer compares).
  """
  head_size = query.shape[-1] // num_heads

  def split_heads(x):
    x = tf.reshape(x, [batch_seq[0], batch_seq[1], num_heads, head_size])
    return tf.transpose(x, [0, 2, 1, 3])

  scores = tf.matmul(split_heads(query), split_heads(key), transpose_b=True)
  probs = masked_softmax(scores, 1.0 / math.sqrt(head_size), mask)
  context = tf.transpose(tf.matmul(dropout(probs, dropout_rate, training), split_heads(value)), [0, 2, 1, 3])
  context = tf.reshape(context, [-1, num_heads * head_size])
  return (context, probs) if return_probs else context


def single_sequence_attention(queries, key, value, mask, num_heads: int):
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
    probs = masked_softmax(scores, 1.0 / math.sqrt(head_size), mask)
    return tf.concat([tf.matmul(p, v) for p, v in zip(tf.unstack(probs), values)], axis=1)

  return [attend(query) for query in queries]
