"""The projection both task heads end in: `num_labels` logits from H-wide vectors."""

import tensorflow as tf
import tf_keras

from hub_export.config import MobileBertConfig
from hub_export.model.initializers import truncated_normal


class OutputLogits(tf_keras.layers.Layer):
  """Holds `output_weights` [num_labels, H] and `output_bias` [num_labels] in the layout the original
  fine-tuning code stores them (read transposed, as its `tf.matmul(..., transpose_b=True)`), so its
  checkpoints restore as stored."""

  def __init__(self, config: MobileBertConfig, num_labels: int, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.num_labels = num_labels

  def build(self, input_shape):
    self.output_weights = self.add_weight("output_weights", [self.num_labels, self.config.hidden_size],
                                          initializer=truncated_normal(self.config))
    self.output_bias = self.add_weight("output_bias", [self.num_labels], initializer="zeros")
    super().build(input_shape)

  def logits(self, hidden):
    """[..., H] -> [..., num_labels]."""
    return tf.einsum("...h,lh->...l", hidden, self.output_weights) + self.output_bias
