"""MobileBERT in tf_keras: layers, the encoder network and the masked-LM head."""

from hub_export.model.encoder import MobileBertEncoder
from hub_export.model.masked_lm import MaskedLMHead
from hub_export.model.mobilebert import MobileBert, build_mobilebert

__all__ = ["MobileBertEncoder", "MaskedLMHead", "MobileBert", "build_mobilebert"]
