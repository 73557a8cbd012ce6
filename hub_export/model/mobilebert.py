"""The whole pretrained network (encoder + masked-LM head), built with every variable created."""

from typing import Optional

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig
from hub_export.model.encoder import MobileBertEncoder
from hub_export.model.masked_lm import MaskedLMHead
from hub_export.model.task_model import MobileBertTaskModel
from hub_export.weight_layout import TaskHead


class MobileBert(tf.Module):
  """Holds the encoder and the MLM head; its checkpoint is the project's own TF2 layout."""

  def __init__(self, config: MobileBertConfig):
    super().__init__(name="mobilebert")
    self.config = config
    self.task_head = None  # the pre-training heads; MobileBertTaskModel holds a task head instead
    self.encoder = MobileBertEncoder(config, name="encoder")
    dummy = self.encoder.dummy_inputs()
    outputs = self.encoder(dummy)
    self.masked_lm = MaskedLMHead(config, self.encoder.embedding.word_embeddings, name="masked_lm")
    self.masked_lm(outputs[sig.SEQUENCE_OUTPUT], tf.zeros([1, 1], tf.int32))

  def mlm_logits(self, inputs, training=False):
    outputs = self.encoder(inputs, training=training)
    return outputs, self.masked_lm(outputs[sig.SEQUENCE_OUTPUT], inputs[sig.MASKED_LM_POSITIONS])


def build_mobilebert(config: MobileBertConfig, task_head: Optional[TaskHead] = None):
  """The pre-training network, or given `task_head` the encoder with that head instead of the MLM head."""
  return MobileBert(config) if task_head is None else MobileBertTaskModel(config, task_head)
