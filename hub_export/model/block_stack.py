"""The encoder's blocks, with each block weight stacked over layers in one variable.

`block_stack/attention.query.kernel` is [num_layers, in, out], and so on for every name in
`block_weight_shapes`. Each forward pass unstacks them (a view, no copy) and runs the
shared block function once per layer. Compared with one variable per block weight this
keeps the exported graph, tracing and saving about 24 times smaller and faster, and the
SavedModel exposes ~50 variables instead of ~1,100.

In inference the stack runs as two streams, which the runtime's two inter-op threads run
side by side: a batch of one sequence as its two halves through the two-stream block (both
CPU cores busy where the batched block keeps one, see `transformer_block`), a larger batch
as two groups of sequences, each through the batched block on its own (one group's
elementwise ops then overlap the other's matmuls). Training runs one batched stream.
"""


import tensorflow as tf
import tf_keras
from tensorflow.core.framework import attr_value_pb2

from hub_export.config import MobileBertConfig
from hub_export.model.initializers import truncated_normal
from hub_export.model.transformer_block import (block_function, in_xla_compilation,
                                                shared_single_sequence_block_function, transfer_block_function)
from hub_export.support.log import LOG
from hub_export.weight_layout import block_weight_shapes

_CONSTANT_INITIALIZERS = {"gamma": "ones", "beta": "zeros", "bias": "zeros"}
_IF_OPS = ("If", "StatelessIf")


class BlockStack(tf_keras.layers.Layer):
  """Runs `num_hidden_layers` blocks on [batch * seq, hidden]; returns every block's output."""

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config

  def build(self, input_shape):
    layers = self.config.num_hidden_layers
    self.stacked = {}
    for name, shape in block_weight_shapes(self.config).items():
      leaf = name.rsplit("/", 1)[1]
      initializer = _CONSTANT_INITIALIZERS.get(leaf) or truncated_normal(self.config)
      self.stacked[name] = self.add_weight(name.replace("/", "."), shape=(layers, *shape), initializer=initializer)
    super().build(input_shape)

  def _layer_weights(self, num_layers: int) -> list:
    """Each of the first `num_layers` blocks' weights, {name: slice}, unstacked (a view, no copy)."""
    per_layer = {name: tf.unstack(variable, axis=0) for name, variable in self.stacked.items()}
    return [{name: values[layer] for name, values in per_layer.items()} for layer in range(num_layers)]

  def transfer_outputs(self, inputs, mask, batch_seq, num_layers: int, training=False):
    """The first `num_layers` blocks, batched: [(output, attention distribution)] per block.

    Knowledge transfer's training-only path (the exports call `call`); blocks above
    `num_layers` are not computed, so they take no part in the loss.
    """
    block = transfer_block_function(self.config, bool(training))
    hidden, outputs = inputs, []
    for weights in self._layer_weights(num_layers):
      # Called outside the layer's __call__, so Keras does not cast the weights to the compute dtype (mixed precision).
      weights = {name: tf.cast(value, self.compute_dtype) for name, value in weights.items()}
      hidden, probs = block(hidden, mask, batch_seq, weights)
      outputs.append((hidden, probs))
    return outputs

  def call(self, inputs, mask, batch_seq, training=False, fold_no_norm=False, two_streams=True):
    """`two_streams`: in inference, run as two streams picked in the graph by batch size: a
    batch of one sequence as two half-sequence streams
    (`transformer_block._single_sequence_block_forward`), a larger batch as two groups of
    sequences; either way each block's output is joined for the outputs. `fold_no_norm`
    applies to the batched block (`transformer_block._block_end`)."""
    layer_weights = self._layer_weights(self.config.num_hidden_layers)
    block = block_function(self.config, bool(training), bool(fold_no_norm))

    def batched():
      hidden, outputs = inputs, []
      for weights in layer_weights:
        hidden = block(hidden, mask, batch_seq, weights)
        outputs.append(hidden)
      return outputs

    def joined_after_each_block(streams, run_block):
      """`run_block(streams, weights)` layer by layer; a layer's output is its streams joined."""
      outputs = []
      for weights in layer_weights:
        streams = run_block(streams, weights)
        outputs.append(tf.concat(streams, axis=0))
      return outputs

    def sequence_groups():
      # The first group takes the odd sequence; the groups never meet inside the blocks.
      sizes = tf.stack([(batch_seq[0] + 1) // 2, batch_seq[0] // 2])
      masks = tf.split(mask, sizes, axis=0)
      group_batch_seqs = [tf.stack([size, batch_seq[1]]) for size in tf.unstack(sizes)]
      return joined_after_each_block(
          tf.split(inputs, sizes * batch_seq[1], axis=0),
          lambda groups, weights: [block(*group, weights) for group in zip(groups, masks, group_batch_seqs)])

    def single_sequence():
      single_sequence_block = shared_single_sequence_block_function(self.config)
      first = (batch_seq[1] + 1) // 2
      return joined_after_each_block(tf.split(inputs, [first, batch_seq[1] - first], axis=0),
                                     lambda halves, weights: single_sequence_block(*halves, mask, weights))

    # XLA compiles one computation for the batch: the run-time choice of streams is not for it.
    if training or not two_streams or in_xla_compilation():
      return batched()
    return _cond_run_time_branch(tf.equal(batch_seq[0], 1), single_sequence, sequence_groups)


def _cond_run_time_branch(pred, true_fn, false_fn):
  """`tf.cond` whose If op stays an If in a graph instead of being lowered to Switch/Merge.

  Lowered, both 24-block branches land in one graph that the runtime optimizes on each new
  input shape (about 2.5 s for the full model); kept, the If runs only the branch a call
  takes, and that branch's graph is optimized on its first use (about 0.5 s).
  """
  outputs = tf.cond(pred, true_fn, false_fn)
  if tf.executing_eagerly():
    return outputs
  op = outputs[0].op
  while op.type == "Identity" and op.inputs:  # tf.cond returns the If's outputs through Identity ops
    op = op.inputs[0].op
  if op.type not in _IF_OPS:  # a TensorFlow that builds tf.cond otherwise: correct, only slower
    LOG.warning("warning: tf.cond built a %s op, not an If; the batch-of-one branch stays lowered", op.type)
    return outputs
  op._set_attr("_lower_using_switch_merge", attr_value_pb2.AttrValue(b=False))  # pylint: disable=protected-access
  return outputs
