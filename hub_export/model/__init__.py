"""MobileBERT in tf_keras: layers, the encoder network, the masked-LM head and the task heads."""

from hub_export.model.encoder import MobileBertEncoder
from hub_export.model.masked_lm import MaskedLMHead
from hub_export.model.mobilebert import MobileBert, build_mobilebert
from hub_export.model.task_model import MobileBertTaskModel

__all__ = ["MobileBertEncoder", "MaskedLMHead", "MobileBert", "MobileBertTaskModel", "build_mobilebert"]
