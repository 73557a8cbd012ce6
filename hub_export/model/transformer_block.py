"""One MobileBERT block: bottlenecks around attention and a stack of feed-forward networks."""

import tf_keras

from hub_export.config import MobileBertConfig
from hub_export.model.activations import get_activation
from hub_export.model.attention import MultiHeadAttention
from hub_export.model.initializers import truncated_normal
from hub_export.model.normalization import make_norm


class FeedForward(tf_keras.layers.Layer):
  """dense(inner -> intermediate), activation, dense(intermediate -> inner)."""

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(**kwargs)
    self.activation = get_activation(config.hidden_act)
    self.intermediate = tf_keras.layers.Dense(
        config.intermediate_size, kernel_initializer=truncated_normal(config), name="intermediate")
    self.output_dense = tf_keras.layers.Dense(
        config.inner_size, kernel_initializer=truncated_normal(config), name="output")

  def call(self, inputs):
    return self.output_dense(self.activation(self.intermediate(inputs)))


class TransformerBlock(tf_keras.layers.Layer):
  """Maps [batch, seq, hidden] to the same shape, honouring every bottleneck switch of the config.

  With `use_bottleneck`, the block works at `intra_bottleneck_size` inside: the input
  bottleneck gives the attention residual, `key_query_shared_bottleneck` adds a second
  projection that query and key read (value reads the raw input), and
  `use_bottleneck_attention` makes query, key and value all read the input bottleneck.
  """

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    norm = lambda name: make_norm(config.normalization_type, name)
    dense = lambda width, name: tf_keras.layers.Dense(width, kernel_initializer=truncated_normal(config), name=name)
    inner = config.inner_size
    self.shared_kq = (config.use_bottleneck and config.key_query_shared_bottleneck
                      and not config.use_bottleneck_attention)
    if config.use_bottleneck:
      self.bottleneck_input = dense(inner, "bottleneck_input")
      self.bottleneck_input_norm = norm("bottleneck_input_norm")
      if self.shared_kq:
        self.bottleneck_attention = dense(inner, "bottleneck_attention")
        self.bottleneck_attention_norm = norm("bottleneck_attention_norm")
      self.bottleneck_output = dense(config.hidden_size, "bottleneck_output")
      self.bottleneck_output_norm = norm("bottleneck_output_norm")
    self.attention = MultiHeadAttention(
        config.num_attention_heads, inner, config.attention_probs_dropout_prob, lambda: truncated_normal(config),
        name="attention")
    self.attention_norm = norm("attention_norm")
    self.ffns = [FeedForward(config, name=f"ffn_{i}") for i in range(config.num_feedforward_networks)]
    self.ffn_norms = [norm(f"ffn_{i}_norm") for i in range(config.num_feedforward_networks)]
    self.dropout = tf_keras.layers.Dropout(config.hidden_dropout_prob)

  def call(self, inputs, mask_bias, training=False):
    if self.config.use_bottleneck:
      residual = self.bottleneck_input_norm(self.bottleneck_input(inputs))
      if self.config.use_bottleneck_attention:
        query_key, value = residual, residual
      elif self.shared_kq:
        query_key = self.bottleneck_attention_norm(self.bottleneck_attention(inputs))
        value = inputs
      else:
        query_key, value = inputs, inputs
    else:
      residual = query_key = value = inputs

    attended = self.attention(query_key, query_key, value, mask_bias, training=training)
    if not self.config.use_bottleneck:
      attended = self.dropout(attended, training=training)
    hidden = self.attention_norm(attended + residual)

    last = len(self.ffns) - 1
    for i, (ffn, ffn_norm) in enumerate(zip(self.ffns, self.ffn_norms)):
      out = ffn(hidden)
      if i == last and not self.config.use_bottleneck:
        out = self.dropout(out, training=training)
      hidden = ffn_norm(out + hidden)

    if not self.config.use_bottleneck:
      return hidden
    out = self.dropout(self.bottleneck_output(hidden), training=training)
    return self.bottleneck_output_norm(out + inputs)
