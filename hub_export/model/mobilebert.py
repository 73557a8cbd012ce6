"""The whole pretrained network (encoder + masked-LM head), built with every variable created."""

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig
from hub_export.model.encoder import MobileBertEncoder
from hub_export.model.masked_lm import MaskedLMHead


class MobileBert(tf.Module):
  """Holds the encoder and the MLM head; its checkpoint is the project's own TF2 layout."""

  def __init__(self, config: MobileBertConfig):
    super().__init__(name="mobilebert")
    self.config = config
    self.encoder = MobileBertEncoder(config, name="encoder")
    dummy = self.encoder.dummy_inputs()
    outputs = self.encoder(dummy)
    self.masked_lm = MaskedLMHead(config, self.encoder.embedding.word_embeddings, name="masked_lm")
    self.masked_lm(outputs[sig.SEQUENCE_OUTPUT], tf.zeros([1, 1], tf.int32))

  def mlm_logits(self, inputs, training=False):
    outputs = self.encoder(inputs, training=training)
    return outputs, self.masked_lm(outputs[sig.SEQUENCE_OUTPUT], inputs[sig.MASKED_LM_POSITIONS])


def build_mobilebert(config: MobileBertConfig) -> MobileBert:
  return MobileBert(config)
