"""The MobileBERT encoder network: embedding, blocks, pooler; outputs in the TF-Hub layout."""

import tensorflow as tf
import tf_keras

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig
from hub_export.model.functional import attention_mask
from hub_export.model.block_stack import BlockStack
from hub_export.model.embedding import MobileBertEmbedding
from hub_export.model.initializers import truncated_normal


class MobileBertEncoder(tf_keras.layers.Layer):
  """Takes the three int32 encoder inputs; returns the TF-Hub text-encoder output dict.

  `fold_no_norm=True` folds each residual NoNorm into the matmul before it
  (`transformer_block._block_end`): for a TFLite file, whose weights are constants.
  `two_streams=False` keeps every batch on one batched stream (see `BlockStack`): TFLite,
  which runs one op at a time, does not gain from two.
  """

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.embedding = MobileBertEmbedding(config, name="embedding")
    self.blocks = BlockStack(config, name="blocks")
    if config.classifier_activation:
      self.pooler = tf_keras.layers.Dense(
          config.hidden_size, activation="tanh", kernel_initializer=truncated_normal(config), name="pooler")

  def call(self, inputs, training=False, fold_no_norm=False, two_streams=True):
    word_ids = inputs[sig.INPUT_WORD_IDS]
    batch_seq = tf.shape(word_ids)
    mask = attention_mask(inputs[sig.INPUT_MASK])
    hidden = self.embedding(word_ids, inputs[sig.INPUT_TYPE_IDS], inputs[sig.INPUT_MASK], training=training)
    shape = [batch_seq[0], batch_seq[1], self.config.hidden_size]
    blocks = self.blocks(hidden, mask, batch_seq, training=training, fold_no_norm=fold_no_norm,
                         two_streams=two_streams)
    encoder_outputs = [tf.reshape(h, shape) for h in blocks]
    hidden = encoder_outputs[-1]
    first_token = hidden[:, 0, :]
    pooled = self.pooler(first_token) if self.config.classifier_activation else first_token
    return {
        sig.SEQUENCE_OUTPUT: hidden,
        sig.POOLED_OUTPUT: pooled,
        sig.DEFAULT_OUTPUT: pooled,
        sig.ENCODER_OUTPUTS: encoder_outputs,
    }

  def transfer_outputs(self, inputs, num_layers=None, training=False) -> dict:
    """What knowledge transfer reads, on a training-only path the exports never trace.

    Returns `embedding` [B,S,H], `block_outputs` (a list of [B,S,H]) and `attentions` (a
    list of [B,heads,S,S]) for the first `num_layers` blocks (default: all).
    """
    num_layers = self.config.num_hidden_layers if num_layers is None else num_layers
    word_ids = inputs[sig.INPUT_WORD_IDS]
    batch_seq = tf.shape(word_ids)
    shape = [batch_seq[0], batch_seq[1], self.config.hidden_size]
    mask = attention_mask(inputs[sig.INPUT_MASK])
    hidden = self.embedding(word_ids, inputs[sig.INPUT_TYPE_IDS], inputs[sig.INPUT_MASK], training=training)
    blocks = self.blocks.transfer_outputs(hidden, mask, batch_seq, num_layers, training=training)
    return {"embedding": tf.reshape(hidden, shape),
            "block_outputs": [tf.reshape(h, shape) for h, _ in blocks],
            "attentions": [probs for _, probs in blocks]}

  def dummy_inputs(self, batch: int = 1, length: int = 2) -> dict:
    """Small valid inputs, to create every variable before a restore."""
    zeros = tf.zeros([batch, length], tf.int32)
    return {sig.INPUT_WORD_IDS: zeros, sig.INPUT_MASK: tf.ones_like(zeros), sig.INPUT_TYPE_IDS: zeros}
