"""The encoder with a fine-tuning head in place of the MLM head, built with every variable created."""

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig
from hub_export.model.classifier_head import ClassifierHead
from hub_export.model.encoder import MobileBertEncoder
from hub_export.model.span_head import SpanHead
from hub_export.weight_layout import SPAN, TaskHead


class MobileBertTaskModel(tf.Module):
  """What the original fine-tuning code's graph holds: the encoder and one task head, no pre-training heads."""

  def __init__(self, config: MobileBertConfig, task_head: TaskHead):
    super().__init__(name="mobilebert_task")
    self.config = config
    self.task_head = task_head
    self.encoder = MobileBertEncoder(config, name="encoder")
    outputs = self.encoder(self.encoder.dummy_inputs())
    if task_head.kind == SPAN:
      self.head = SpanHead(config, name="span_head")
    else:
      self.head = ClassifierHead(config, task_head.num_labels, name="classifier_head")
    self.head(self._head_input(outputs))

  def _head_input(self, encoder_outputs):
    return encoder_outputs[sig.SEQUENCE_OUTPUT if self.task_head.kind == SPAN else sig.POOLED_OUTPUT]

  def task_logits(self, inputs, training=False):
    """(encoder outputs, head outputs): `start_logits` and `end_logits` [B, S] for a span head, the
    logits [B, num_labels] for a classifier."""
    outputs = self.encoder(inputs, training=training)
    return outputs, self.head(self._head_input(outputs), training=training)
