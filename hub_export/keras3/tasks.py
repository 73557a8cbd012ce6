"""`MobileBertTextClassifier`, `MobileBertQuestionAnswerer` and `MobileBertMaskedLM`, KerasHub tasks on
`MobileBertBackbone`."""

import keras
from keras_hub.models import MaskedLM, Task, TextClassifier

from hub_export.keras3.backbone import MobileBertBackbone
from hub_export.keras3.layers import MobileBertMaskedLMHead, kernel_initializer
from hub_export.keras3.preprocessors import MobileBertMaskedLMPreprocessor, MobileBertTextClassifierPreprocessor
from hub_export.keras3.registration import register


def optimizer_built_before_fit(cls):
  """On the TensorFlow backend, Keras builds the optimizer inside the first traced train step, and a
  `tf.function` that creates variables is traced twice; built before, the first `fit` traces once.

  A class decorator, not a base class: KerasHub names a preset's tasks by each task class's base.
  """
  inherited_fit = cls.fit

  def fit(self, *args, **kwargs):
    if keras.config.backend() == "tensorflow" and self.optimizer is not None and not self.optimizer.built:
      with self.distribute_strategy.scope():
        self.optimizer.build(self.trainable_variables)
    return inherited_fit(self, *args, **kwargs)

  fit.__doc__ = inherited_fit.__doc__
  cls.fit = fit
  return cls


@register
@optimizer_built_before_fit
class MobileBertTextClassifier(TextClassifier):
  """Pooled output -> dropout -> dense logits (as KerasHub's BERT classifier)."""

  backbone_cls = MobileBertBackbone
  preprocessor_cls = MobileBertTextClassifierPreprocessor

  def __init__(self, backbone, num_classes, preprocessor=None, activation=None, dropout=0.1, **kwargs):
    self.backbone = backbone
    self.preprocessor = preprocessor
    self.output_dropout = keras.layers.Dropout(dropout, dtype=backbone.dtype_policy, name="classifier_dropout")
    self.output_dense = keras.layers.Dense(
        num_classes, kernel_initializer=kernel_initializer(backbone.mobilebert_config), activation=activation,
        dtype=backbone.dtype_policy, name="logits")
    inputs = backbone.input
    outputs = self.output_dense(self.output_dropout(backbone(inputs)["pooled_output"]))
    super().__init__(inputs=inputs, outputs=outputs, **kwargs)
    self.num_classes = num_classes
    self.activation = keras.activations.get(activation)
    self.dropout = dropout

  def get_config(self):
    config = super().get_config()
    config.update({"num_classes": self.num_classes, "activation": keras.activations.serialize(self.activation),
                   "dropout": self.dropout})
    return config


class QuestionAnswerer(Task):
  """The generic extractive question-answering task KerasHub lacks, named in its style (`TextClassifier`,
  `MaskedLM`): a preset's metadata lists a task by the generic class its model class extends."""


@register
@optimizer_built_before_fit
class MobileBertQuestionAnswerer(QuestionAnswerer):
  """Extractive QA (SQuAD): a start and an end logit per token from the sequence output, as the original
  run_squad.py head (`cls/squad/output_weights` [2, H], stored here transposed as the dense kernel [H, 2]).

  No preprocessor: SQuAD windows are built in Python (`hub_export.tasks.squad_windows`) and the
  outputs decoded by `hub_export.tasks.squad_decode`.
  """

  backbone_cls = MobileBertBackbone

  def __init__(self, backbone, preprocessor=None, **kwargs):
    self.backbone = backbone
    self.preprocessor = preprocessor
    self.span_dense = keras.layers.Dense(2, kernel_initializer=kernel_initializer(backbone.mobilebert_config),
                                         dtype=backbone.dtype_policy, name="span_logits")
    inputs = backbone.input
    logits = self.span_dense(backbone(inputs)["sequence_output"])
    outputs = {"start_logits": logits[..., 0], "end_logits": logits[..., 1]}
    super().__init__(inputs=inputs, outputs=outputs, **kwargs)


@register
@optimizer_built_before_fit
class MobileBertMaskedLM(MaskedLM):
  """The pretrained masked-LM head on the backbone; inputs add `mask_positions`."""

  backbone_cls = MobileBertBackbone
  preprocessor_cls = MobileBertMaskedLMPreprocessor

  def __init__(self, backbone, preprocessor=None, **kwargs):
    self.backbone = backbone
    self.preprocessor = preprocessor
    self.masked_lm_head = MobileBertMaskedLMHead(backbone.mobilebert_config, backbone.token_embedding,
                                                 dtype=backbone.dtype_policy, name="mlm_head")
    inputs = {**backbone.input, "mask_positions": keras.Input(shape=(None,), dtype="int32", name="mask_positions")}
    sequence_output = backbone(backbone.input)["sequence_output"]
    outputs = self.masked_lm_head(sequence_output, inputs["mask_positions"])
    super().__init__(inputs=inputs, outputs=outputs, **kwargs)
