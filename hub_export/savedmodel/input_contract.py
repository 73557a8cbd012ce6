"""Run-time checks of the encoder input contract, compiled into the exported functions.

TensorFlow itself rejects a wrong dtype (no matching trace or signature) and, on CPU, an
out-of-range embedding index (with an error that names no input). These checks add what
it does not enforce, or enforces unclearly: the three inputs agree in shape, the length
fits the position table, and every id, type id, mask value and MLM position is in range,
each failing with a message that names the input.
"""

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig


def _in_range(values, low, high, what: str):
  return tf.debugging.Assert(
      tf.logical_or(tf.equal(tf.size(values), 0),
                    tf.logical_and(tf.reduce_min(values) >= low, tf.reduce_max(values) < high)),
      [f"{what} must be in [{low}, {high}); got min/max", tf.reduce_min(values), tf.reduce_max(values)])


def checked_encoder_inputs(inputs: dict, config: MobileBertConfig) -> dict:
  """The encoder inputs, gated on the contract checks."""
  ids, mask, types = (inputs[k] for k in sig.ENCODER_INPUT_KEYS)
  shape = tf.shape(ids)
  checks = [
      tf.debugging.Assert(tf.reduce_all(tf.equal(tf.shape(mask), shape)),
                          [f"{sig.INPUT_MASK} must have the shape of {sig.INPUT_WORD_IDS}", tf.shape(mask), shape]),
      tf.debugging.Assert(tf.reduce_all(tf.equal(tf.shape(types), shape)),
                          [f"{sig.INPUT_TYPE_IDS} must have the shape of {sig.INPUT_WORD_IDS}", tf.shape(types), shape]),
      tf.debugging.Assert(tf.logical_and(shape[1] >= 1, shape[1] <= config.max_position_embeddings),
                          [f"sequence length must be in [1, max_position_embeddings "
                           f"{config.max_position_embeddings}]; got", shape[1]]),
      _in_range(ids, 0, config.vocab_size, sig.INPUT_WORD_IDS),
      _in_range(types, 0, config.type_vocab_size, sig.INPUT_TYPE_IDS),
      _in_range(mask, 0, 2, sig.INPUT_MASK),
  ]
  with tf.control_dependencies(checks):
    # Passed on with unknown static shape: a caller that traces against concrete shapes
    # (a restored function does) must meet these checks, not a shape-inference error deep
    # inside the encoder.
    return {k: tf.raw_ops.PlaceholderWithDefault(input=inputs[k], shape=[None, None]) for k in sig.ENCODER_INPUT_KEYS}


def checked_positions(positions, seq_length):
  """masked_lm_positions, gated on every position indexing a real slot of the sequence."""
  check = tf.debugging.Assert(
      tf.logical_or(tf.equal(tf.size(positions), 0),
                    tf.logical_and(tf.reduce_min(positions) >= 0, tf.reduce_max(positions) < seq_length)),
      [f"{sig.MASKED_LM_POSITIONS} must be in [0, sequence length); got min/max, length",
       tf.reduce_min(positions), tf.reduce_max(positions), seq_length])
  with tf.control_dependencies([check]):
    return tf.identity(positions)
