"""The MobileBERT embedding: a thin word table, trigram concatenation, projection to hidden."""

import tensorflow as tf
import tf_keras

from hub_export.config import MobileBertConfig
from hub_export.model.initializers import truncated_normal
from hub_export.model.normalization import make_norm


class MobileBertEmbedding(tf_keras.layers.Layer):
  """Word, position and token-type embeddings; the word table is shared with the MLM head.

  Returns [batch * seq, hidden], the flat layout the blocks compute in.
  """

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.projects = config.trigram_input or config.embedding_size != config.hidden_size
    if self.projects:
      self.embedding_transformation = tf_keras.layers.Dense(
          config.hidden_size, kernel_initializer=truncated_normal(config), name="embedding_transformation")
    self.norm = make_norm(config.normalization_type, "norm")
    self.dropout = tf_keras.layers.Dropout(config.hidden_dropout_prob)

  def build(self, input_shape):
    c = self.config
    self.word_embeddings = self.add_weight(
        "word_embeddings", [c.vocab_size, c.embedding_size], initializer=truncated_normal(c))
    self.position_embeddings = self.add_weight(
        "position_embeddings", [c.max_position_embeddings, c.hidden_size], initializer=truncated_normal(c))
    self.token_type_embeddings = self.add_weight(
        "token_type_embeddings", [c.type_vocab_size, c.hidden_size], initializer=truncated_normal(c))
    super().build(input_shape)

  def call(self, word_ids, type_ids, input_mask, training=False):
    words = tf.gather(self.word_embeddings, word_ids)
    if self.config.trigram_input:
      # [next token, this token, previous token], zeros past either end. Neighbours at
      # padding positions count as zeros too, so padding never changes a real token's
      # input (the reference encoder lets the last real token see the [PAD] embedding).
      neighbours = words * tf.expand_dims(tf.cast(input_mask, words.dtype), -1)
      next_tokens = tf.pad(neighbours[:, 1:], [[0, 0], [0, 1], [0, 0]])
      prev_tokens = tf.pad(neighbours[:, :-1], [[0, 0], [1, 0], [0, 0]])
      words = tf.concat([next_tokens, words, prev_tokens], axis=-1)
    batch_seq = tf.shape(word_ids)
    if self.projects:
      words = tf.reshape(words, [-1, words.shape[-1]])
      words = tf.reshape(self.embedding_transformation(words), [batch_seq[0], batch_seq[1], -1])
    positions = self.position_embeddings[tf.newaxis, :batch_seq[1]]
    types = tf.gather(self.token_type_embeddings, type_ids)
    embeddings = tf.reshape(words + positions + types, [-1, self.config.hidden_size])
    return self.dropout(self.norm(embeddings), training=training)
