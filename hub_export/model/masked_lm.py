"""The masked-LM head: transform, LayerNorm, and logits over the (shared + extra) word table."""

import tensorflow as tf
import tf_keras

from hub_export.config import LAYER_NORM_EPSILON, MobileBertConfig
from hub_export.model.activations import get_activation
from hub_export.model.initializers import truncated_normal


class MaskedLMHead(tf_keras.layers.Layer):
  """Logits at `masked_lm_positions`.

  The output table is the embedding's word table [V, E] widened by `extra_output_weights`
  [V, H - E], so the thin embedding can score H-wide hidden states.
  """

  def __init__(self, config: MobileBertConfig, word_embeddings: tf.Variable, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.word_embeddings = word_embeddings
    self.activation = get_activation(config.hidden_act)
    self.dense = tf_keras.layers.Dense(
        config.hidden_size, kernel_initializer=truncated_normal(config), name="transform")
    self.layer_norm = tf_keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="layer_norm")

  def build(self, input_shape):
    c = self.config
    self.extra_output_weights = self.add_weight(
        "extra_output_weights", [c.vocab_size, c.hidden_size - c.embedding_size],
        initializer=truncated_normal(c))
    self.output_bias = self.add_weight("output_bias", [c.vocab_size], initializer="zeros")
    super().build(input_shape)

  def call(self, sequence_output, masked_lm_positions):
    hidden = tf.gather(sequence_output, masked_lm_positions, batch_dims=1)
    hidden = self.layer_norm(self.activation(self.dense(hidden)))
    table = tf.concat([self.word_embeddings, self.extra_output_weights], axis=1)
    return tf.einsum("bph,vh->bpv", hidden, table) + self.output_bias
