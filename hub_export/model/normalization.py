"""NoNorm (MobileBERT's elementwise affine stand-in for LayerNorm) and the factory that picks it."""

import tf_keras

from hub_export.config import LAYER_NORM_EPSILON
from hub_export.model import functional


class NoNorm(tf_keras.layers.Layer):
  """`x * gamma + beta` per feature: no statistics, so it folds into neighbours on device."""

  def build(self, input_shape):
    width = input_shape[-1]
    self.gamma = self.add_weight("gamma", shape=[width], initializer="ones")
    self.beta = self.add_weight("beta", shape=[width], initializer="zeros")
    super().build(input_shape)

  def call(self, inputs):
    return functional.no_norm(inputs, self.gamma, self.beta)


def make_norm(normalization_type: str, name: str) -> tf_keras.layers.Layer:
  """The normalization the config asks for (`no_norm`, or `layer_norm` with `LAYER_NORM_EPSILON`)."""
  if normalization_type == "no_norm":
    return NoNorm(name=name)
  return tf_keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=name)
