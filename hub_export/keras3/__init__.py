"""MobileBERT for Keras 3 / KerasHub, on the TensorFlow, JAX and PyTorch backends.

`import hub_export.keras3` registers the classes, so `keras_hub.models.Backbone.from_preset(DIR)`
and the task classes' `from_preset` load presets written by `python -m hub_export.export_keras`,
and `load_model` loads a `.keras` file saved from them.
"""

import keras

from hub_export.keras3.backbone import MobileBertBackbone
from hub_export.keras3.preprocessors import MobileBertMaskedLMPreprocessor, MobileBertTextClassifierPreprocessor
from hub_export.keras3.tasks import MobileBertMaskedLM, MobileBertQuestionAnswerer, MobileBertTextClassifier
from hub_export.keras3.tokenizer import MobileBertTokenizer

__all__ = ["MobileBertBackbone", "MobileBertTokenizer", "MobileBertTextClassifierPreprocessor",
           "MobileBertTextClassifier", "MobileBertQuestionAnswerer", "MobileBertMaskedLMPreprocessor",
           "MobileBertMaskedLM", "load_model"]


def load_model(path, **kwargs):
  """`keras.saving.load_model` for a `.keras` file holding these classes (a fine-tuned classifier, say).

  Keras finds a saved class by its registered name ("hub_export>...") but cannot import the package
  that registers it: without this module imported, it fails with "Could not locate class" and the
  whole saved config. Importing it has registered the classes.
  """
  return keras.saving.load_model(path, **kwargs)
