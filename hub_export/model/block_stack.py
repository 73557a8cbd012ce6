"""The encoder's blocks, with each block weight stacked over layers in one variable.

`block_stack/attention.query.kernel` is [num_layers, in, out], and so on for every name in
`block_weight_shapes`. Each forward pass unstacks them (a view, no copy) and runs the
shared block function once per layer. Compared with one variable per block weight this
keeps the exported graph, tracing and saving about 24 times smaller and faster, and the
SavedModel exposes ~50 variables instead of ~1,100.
"""

import tensorflow as tf
import tf_keras

from hub_export.config import MobileBertConfig
from hub_export.model.initializers import truncated_normal
from hub_export.model.transformer_block import block_weight_shapes, shared_block_function

_CONSTANT_INITIALIZERS = {"gamma": "ones", "beta": "zeros", "bias": "zeros"}


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

  def call(self, inputs, mask, batch_seq, training=False, bounded_mask=False):
    per_layer = {name: tf.unstack(variable, axis=0) for name, variable in self.stacked.items()}
    block = shared_block_function(self.config, bool(training), bool(bounded_mask))
    hidden, outputs = inputs, []
    for layer in range(self.config.num_hidden_layers):
      weights = {name: values[layer] for name, values in per_layer.items()}
      hidden = block(hidden, mask, batch_seq, weights)
      outputs.append(hidden)
    return outputs
