"""MobileBERT's layers in Keras 3 (`keras.ops`), for the TensorFlow, JAX and PyTorch backends.

The weights and their shapes come from the same table as the tf_keras model
(`weight_layout.block_weight_shapes`), so a checkpoint maps onto both name by name.
The math is written again in `keras.ops` (see BUILD_NOTES, "Keras 3"); the parity tests
against HF's outputs and the TF-Hub SavedModel are the contract between the two.
"""

import math

import keras
from keras import ops

from hub_export.config import MobileBertConfig
from hub_export.weight_layout import block_weight_shapes, uses_shared_key_query_bottleneck

LAYER_NORM_EPSILON = 1e-12
MASK_BIAS = -1e9  # padding gets exactly zero attention weight, as in the SavedModel


def _gelu_tanh(x):
  return ops.gelu(x, approximate=True)


# "gelu" in a TF1 bert_config.json is the tanh approximation (see model/activations.py).
ACTIVATIONS = {
    "relu": ops.relu,
    "relu6": ops.relu6,
    "gelu": _gelu_tanh,
    "gelu_new": _gelu_tanh,
    "tanh": ops.tanh,
    "swish": ops.silu,
    "linear": lambda x: x,
}


def kernel_initializer(config: MobileBertConfig):
  return keras.initializers.TruncatedNormal(stddev=config.initializer_range)


def normalize(normalization_type: str, x, gamma, beta):
  """NoNorm (`x * gamma + beta`) or LayerNorm over the last axis (eps 1e-12, statistics in float32)."""
  if normalization_type == "no_norm":
    return x * gamma + beta
  dtype = x.dtype
  x = ops.cast(x, "float32")
  mean = ops.mean(x, axis=-1, keepdims=True)
  variance = ops.mean(ops.square(x - mean), axis=-1, keepdims=True)
  normed = (x - mean) * ops.rsqrt(variance + LAYER_NORM_EPSILON)
  return ops.cast(normed, dtype) * gamma + beta


def _softmax(x):
  """Softmax over the last axis (`ops.softmax` warns on every length-1 sequence)."""
  e = ops.exp(x - ops.max(x, axis=-1, keepdims=True))
  return e / ops.sum(e, axis=-1, keepdims=True)


def _constant_or_random(config: MobileBertConfig, name: str):
  leaf = name.rsplit("/", 1)[-1]
  return {"gamma": "ones", "beta": "zeros", "bias": "zeros"}.get(leaf) or kernel_initializer(config)


def _weight_name(name: str) -> str:
  return name.replace("/", "_").replace(".", "_")  # PyTorch parameter names may hold neither


class MobileBertEmbedding(keras.layers.Layer):
  """Word (thin, [V, E]), trigram concatenation, projection to hidden, positions, types, norm.

  Neighbours at padding positions count as zeros, so padding never changes a real token's
  input (as in the project's SavedModel). `token_embedding` holds the word table, which
  the masked-LM head shares.
  """

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.projects = config.trigram_input or config.embedding_size != config.hidden_size
    self.token_embedding = keras.layers.Embedding(
        config.vocab_size, config.embedding_size, embeddings_initializer=kernel_initializer(config),
        dtype=self.dtype_policy, name="token_embedding")
    self.dropout = keras.layers.Dropout(config.hidden_dropout_prob, dtype=self.dtype_policy, name="dropout")

  def build(self, input_shape=None):
    c = self.config
    self.token_embedding.build((None, None))
    self.position_embeddings = self.add_weight(
        name="position_embeddings", shape=(c.max_position_embeddings, c.hidden_size),
        initializer=kernel_initializer(c))
    self.token_type_embeddings = self.add_weight(
        name="token_type_embeddings", shape=(c.type_vocab_size, c.hidden_size), initializer=kernel_initializer(c))
    if self.projects:
      width = c.embedding_size * (3 if c.trigram_input else 1)
      self.transformation_kernel = self.add_weight(
          name="embedding_transformation_kernel", shape=(width, c.hidden_size), initializer=kernel_initializer(c))
      self.transformation_bias = self.add_weight(
          name="embedding_transformation_bias", shape=(c.hidden_size,), initializer="zeros")
    self.norm_gamma = self.add_weight(name="norm_gamma", shape=(c.hidden_size,), initializer="ones")
    self.norm_beta = self.add_weight(name="norm_beta", shape=(c.hidden_size,), initializer="zeros")
    self.built = True

  def call(self, token_ids, segment_ids, padding_mask, training=None):
    c = self.config
    words = self.token_embedding(token_ids)
    if c.trigram_input:
      neighbours = words * ops.expand_dims(ops.cast(padding_mask, words.dtype), -1)
      next_tokens = ops.pad(neighbours[:, 1:], [[0, 0], [0, 1], [0, 0]])
      prev_tokens = ops.pad(neighbours[:, :-1], [[0, 0], [1, 0], [0, 0]])
      words = ops.concatenate([next_tokens, words, prev_tokens], axis=-1)
    if self.projects:
      words = ops.matmul(words, self.transformation_kernel) + self.transformation_bias
    length = ops.shape(token_ids)[1]
    positions = ops.slice(ops.convert_to_tensor(self.position_embeddings), (0, 0), (length, c.hidden_size))
    types = ops.take(ops.convert_to_tensor(self.token_type_embeddings), segment_ids, axis=0)
    embeddings = words + ops.expand_dims(positions, 0) + types
    embeddings = normalize(c.normalization_type, embeddings, self.norm_gamma, self.norm_beta)
    return self.dropout(embeddings, training=training)

  def compute_output_shape(self, token_ids_shape, *args):
    return (*token_ids_shape, self.config.hidden_size)


class MobileBertTransformerBlock(keras.layers.Layer):
  """One block: bottlenecks around attention, then `num_feedforward_networks` FFNs.

  Weights are named as in `block_weight_shapes` ("/" written "_"), which the converter
  and the tf_keras model share.
  """

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.attention_dropout = keras.layers.Dropout(
        config.attention_probs_dropout_prob, dtype=self.dtype_policy, name="attention_dropout")
    self.hidden_dropout = keras.layers.Dropout(config.hidden_dropout_prob, dtype=self.dtype_policy,
                                               name="hidden_dropout")

  def build(self, input_shape=None):
    self.block_weights = {}
    for name, shape in block_weight_shapes(self.config).items():
      self.block_weights[name] = self.add_weight(
          name=_weight_name(name), shape=shape, initializer=_constant_or_random(self.config, name))
    self.built = True

  def _norm(self, name, x):
    w = self.block_weights
    return normalize(self.config.normalization_type, x, w[f"{name}/gamma"], w[f"{name}/beta"])

  def _dense(self, name, x):
    return ops.matmul(x, self.block_weights[f"{name}/kernel"]) + self.block_weights[f"{name}/bias"]

  def _attention(self, query, key, value, padding_mask, training):
    heads = self.config.num_attention_heads
    head_size = self.config.head_size
    batch, length = ops.shape(query)[0], ops.shape(query)[1]

    def split_heads(x):
      return ops.transpose(ops.reshape(x, (batch, length, heads, head_size)), (0, 2, 1, 3))

    scores = ops.matmul(split_heads(query), ops.transpose(split_heads(key), (0, 1, 3, 2)))
    scores = ops.cast(scores, "float32") * (1.0 / math.sqrt(head_size))
    bias = (1.0 - ops.cast(padding_mask, "float32")) * MASK_BIAS
    probs = _softmax(scores + bias[:, None, None, :])
    probs = self.attention_dropout(ops.cast(probs, query.dtype), training=training)
    context = ops.transpose(ops.matmul(probs, split_heads(value)), (0, 2, 1, 3))
    return ops.reshape(context, (batch, length, heads * head_size))

  def call(self, inputs, padding_mask, training=None):
    c = self.config
    activation = ACTIVATIONS[c.hidden_act]
    if c.use_bottleneck:
      residual = self._norm("bottleneck_input_norm", self._dense("bottleneck_input", inputs))
      if c.use_bottleneck_attention:
        query_key, value = residual, residual
      elif uses_shared_key_query_bottleneck(c):
        query_key = self._norm("bottleneck_attention_norm", self._dense("bottleneck_attention", inputs))
        value = inputs
      else:
        query_key, value = inputs, inputs
    else:
      residual = query_key = value = inputs
    context = self._attention(self._dense("attention/query", query_key), self._dense("attention/key", query_key),
                              self._dense("attention/value", value), padding_mask, training)

    attended = self._dense("attention/output", context)
    if not c.use_bottleneck:
      attended = self.hidden_dropout(attended, training=training)
    hidden = self._norm("attention_norm", attended + residual)
    last = c.num_feedforward_networks - 1
    for k in range(c.num_feedforward_networks):
      out = self._dense(f"ffn_{k}/output", activation(self._dense(f"ffn_{k}/intermediate", hidden)))
      if k == last and not c.use_bottleneck:
        out = self.hidden_dropout(out, training=training)
      hidden = self._norm(f"ffn_{k}_norm", out + hidden)
    if not c.use_bottleneck:
      return hidden
    out = self.hidden_dropout(self._dense("bottleneck_output", hidden), training=training)
    return self._norm("bottleneck_output_norm", out + inputs)

  def compute_output_shape(self, inputs_shape, *args):
    return inputs_shape


class MobileBertMaskedLMHead(keras.layers.Layer):
  """Transform, activation, LayerNorm, then logits over the word table widened by
  `extra_output_weights` [V, H - E] (the thin embedding scores H-wide states)."""

  def __init__(self, config: MobileBertConfig, token_embedding, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.token_embedding = token_embedding

  def build(self, sequence_output_shape=None, mask_positions_shape=None):
    c = self.config
    self.transform_kernel = self.add_weight(
        name="transform_kernel", shape=(c.hidden_size, c.hidden_size), initializer=kernel_initializer(c))
    self.transform_bias = self.add_weight(name="transform_bias", shape=(c.hidden_size,), initializer="zeros")
    self.layer_norm_gamma = self.add_weight(name="layer_norm_gamma", shape=(c.hidden_size,), initializer="ones")
    self.layer_norm_beta = self.add_weight(name="layer_norm_beta", shape=(c.hidden_size,), initializer="zeros")
    self.extra_output_weights = self.add_weight(
        name="extra_output_weights", shape=(c.vocab_size, c.hidden_size - c.embedding_size),
        initializer=kernel_initializer(c))
    self.output_bias = self.add_weight(name="output_bias", shape=(c.vocab_size,), initializer="zeros")
    self.built = True

  def call(self, sequence_output, mask_positions):
    c = self.config
    hidden = ops.take_along_axis(sequence_output, ops.expand_dims(mask_positions, -1), axis=1)
    hidden = ACTIVATIONS[c.hidden_act](ops.matmul(hidden, self.transform_kernel) + self.transform_bias)
    hidden = normalize("layer_norm", hidden, self.layer_norm_gamma, self.layer_norm_beta)
    table = ops.concatenate([self.token_embedding.embeddings, self.extra_output_weights], axis=1)
    return ops.matmul(hidden, ops.transpose(table)) + self.output_bias

  def compute_output_shape(self, sequence_output_shape, mask_positions_shape):
    return (*mask_positions_shape, self.config.vocab_size)
