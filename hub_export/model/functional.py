"""Stateless math shared by the layers: dense, the two normalizations, attention, dropout.

The transformer blocks run these inside one traced function that all blocks share, so
the graph holds the block computation once rather than once per block.
"""

import math

import tensorflow as tf

# Added to the scores of padding positions: large enough that they get exactly zero weight
# (outputs do not depend on padding, as in the published TF-Hub encoder), small enough that
# an all-padding row stays finite.
MASK_BIAS = -1e9
LAYER_NORM_EPSILON = 1e-12


def attention_mask_bias(input_mask: tf.Tensor) -> tf.Tensor:
  """[batch, seq] 1/0 mask -> [batch, 1, 1, seq] additive bias for the scores."""
  # expand_dims rather than tf.newaxis slicing, which the TFLite converter cannot lower.
  mask = tf.expand_dims(tf.expand_dims(tf.cast(input_mask, tf.float32), 1), 1)
  return (1.0 - mask) * MASK_BIAS


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


def multi_head_attention(query, key, value, mask_bias, batch_seq, num_heads: int, dropout_rate: float,
                         training: bool):
  """Scaled dot-product attention; inputs [batch * seq, heads * size], output the same."""
  head_size = query.shape[-1] // num_heads

  def split_heads(x):
    x = tf.reshape(x, [batch_seq[0], batch_seq[1], num_heads, head_size])
    return tf.transpose(x, [0, 2, 1, 3])

  scores = tf.matmul(split_heads(query), split_heads(key), transpose_b=True)
  scores = scores * (1.0 / math.sqrt(head_size)) + mask_bias
  probs = dropout(tf.nn.softmax(scores, axis=-1), dropout_rate, training)
  context = tf.transpose(tf.matmul(probs, split_heads(value)), [0, 2, 1, 3])
  return tf.reshape(context, [-1, num_heads * head_size])
