"""Multi-head self-attention over the block's (possibly bottlenecked) inputs."""

import math

import tensorflow as tf
import tf_keras

# Added to the scores of padding positions: large enough that they get exactly zero weight
# (outputs do not depend on padding, as in the published TF-Hub encoder), small enough that
# an all-padding row stays finite.
MASK_BIAS = -1e9


def attention_mask_bias(input_mask: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
  """[batch, seq] 1/0 mask -> [batch, 1, 1, seq] additive bias for the scores."""
  mask = tf.cast(input_mask, dtype)[:, tf.newaxis, tf.newaxis, :]
  return (1.0 - mask) * MASK_BIAS


class MultiHeadAttention(tf_keras.layers.Layer):
  """Scaled dot-product attention with separate query/key/value projections and an output dense.

  Query and key often read the same tensor (the shared key/query bottleneck); then both
  projections run as one matmul.
  """

  def __init__(self, num_heads: int, width: int, dropout_rate: float, initializer_factory, **kwargs):
    super().__init__(**kwargs)
    self.num_heads = num_heads
    self.head_size = width // num_heads
    dense = lambda name: tf_keras.layers.Dense(width, kernel_initializer=initializer_factory(), name=name)
    self.query = dense("query")
    self.key = dense("key")
    self.value = dense("value")
    self.output_dense = dense("output")
    self.dropout = tf_keras.layers.Dropout(dropout_rate)

  def _split_heads(self, x):
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    x = tf.reshape(x, [batch, length, self.num_heads, self.head_size])
    return tf.transpose(x, [0, 2, 1, 3])

  def _query_key(self, query_input, key_input):
    if query_input is not key_input:
      return self.query(query_input), self.key(key_input)
    for projection in (self.query, self.key):
      if not projection.built:
        projection.build(query_input.shape)
    kernel = tf.concat([self.query.kernel, self.key.kernel], axis=1)
    bias = tf.concat([self.query.bias, self.key.bias], axis=0)
    both = tf.einsum("bsi,io->bso", query_input, kernel) + bias
    return tf.split(both, 2, axis=-1)

  def call(self, query_input, key_input, value_input, mask_bias, training=False):
    query, key = self._query_key(query_input, key_input)
    query = self._split_heads(query)
    key = self._split_heads(key)
    value = self._split_heads(self.value(value_input))
    scores = tf.matmul(query, key, transpose_b=True) * (1.0 / math.sqrt(self.head_size)) + mask_bias
    probs = self.dropout(tf.nn.softmax(scores, axis=-1), training=training)
    context = tf.matmul(probs, value)
    context = tf.transpose(context, [0, 2, 1, 3])
    batch, length = tf.shape(context)[0], tf.shape(context)[1]
    context = tf.reshape(context, [batch, length, self.num_heads * self.head_size])
    return self.output_dense(context)
