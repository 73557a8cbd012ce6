"""MobileBERT for Keras 3 / KerasHub, on the TensorFlow, JAX and PyTorch backends.

`import hub_export.keras3` registers the classes, so `keras_hub.models.Backbone.from_preset(DIR)`
and the task classes' `from_preset` load presets written by `python -m hub_export.export_keras`.
"""

from hub_export.keras3.backbone import MobileBertBackbone
from hub_export.keras3.preprocessors import MobileBertMaskedLMPreprocessor, MobileBertTextClassifierPreprocessor
from hub_export.keras3.tasks import MobileBertMaskedLM, MobileBertTextClassifier
from hub_export.keras3.tokenizer import MobileBertTokenizer

__all__ = ["MobileBertBackbone", "MobileBertTokenizer", "MobileBertTextClassifierPreprocessor",
           "MobileBertTextClassifier", "MobileBertMaskedLMPreprocessor", "MobileBertMaskedLM"]
