"""`MobileBertBackbone`: the KerasHub backbone, configured by the `bert_config.json` keys."""

import dataclasses

import keras
from keras_hub.models import Backbone

from hub_export.config import MobileBertConfig
from hub_export.keras3.layers import MobileBertEmbedding, MobileBertTransformerBlock, kernel_initializer
from hub_export.keras3.registration import register

CONFIG_KEYS = tuple(field.name for field in dataclasses.fields(MobileBertConfig))


@register
class MobileBertBackbone(Backbone):
  """MobileBERT encoder: inputs `token_ids`, `segment_ids`, `padding_mask` (int, [batch, seq]);
  outputs `sequence_output` [batch, seq, hidden] and `pooled_output` [batch, hidden].

  Takes every `bert_config.json` key as an argument (`MobileBertConfig` defaults and
  checks), so a release config is `MobileBertBackbone(**json.load(f))`. The pooled output
  is the first token's state, through a tanh dense layer when `classifier_activation`.
  """

  def __init__(self, vocab_size, dtype=None, **kwargs):
    config_values = {k: kwargs.pop(k) for k in CONFIG_KEYS if k in kwargs}
    config = MobileBertConfig(vocab_size=vocab_size, **config_values)
    self.embeddings = MobileBertEmbedding(config, dtype=dtype, name="embeddings")
    self.token_embedding = self.embeddings.token_embedding
    self.transformer_layers = [MobileBertTransformerBlock(config, dtype=dtype, name=f"transformer_layer_{i}")
                               for i in range(config.num_hidden_layers)]
    self.pooled_dense = None
    if config.classifier_activation:
      self.pooled_dense = keras.layers.Dense(config.hidden_size, activation="tanh",
                                             kernel_initializer=kernel_initializer(config), dtype=dtype,
                                             name="pooled_dense")

    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    segment_ids = keras.Input(shape=(None,), dtype="int32", name="segment_ids")
    padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
    x = self.embeddings(token_ids, segment_ids, padding_mask)
    for layer in self.transformer_layers:
      x = layer(x, padding_mask)
    pooled = x[:, 0, :]
    if self.pooled_dense is not None:
      pooled = self.pooled_dense(pooled)
    super().__init__(inputs={"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask},
                     outputs={"sequence_output": x, "pooled_output": pooled}, dtype=dtype, **kwargs)
    self.mobilebert_config = config
    self.vocabulary_size = config.vocab_size
    self.hidden_dim = config.hidden_size

  def get_config(self):
    config = super().get_config()
    config.update(self.mobilebert_config.to_dict())
    return config
