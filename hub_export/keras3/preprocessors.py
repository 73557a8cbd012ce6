"""The two KerasHub preprocessors, tied to the MobileBERT backbone and tokenizer.

[CLS] a [SEP] (b [SEP]) with round-robin truncation, as the TF-Hub preprocessor packs;
`padding_mask` is `token_ids != [PAD]`.
"""

from keras_hub.models import MaskedLMPreprocessor, TextClassifierPreprocessor

from hub_export.keras3.backbone import MobileBertBackbone
from hub_export.keras3.registration import register
from hub_export.keras3.tokenizer import MobileBertTokenizer


@register
class MobileBertTextClassifierPreprocessor(TextClassifierPreprocessor):
  backbone_cls = MobileBertBackbone
  tokenizer_cls = MobileBertTokenizer


@register
class MobileBertMaskedLMPreprocessor(MaskedLMPreprocessor):
  backbone_cls = MobileBertBackbone
  tokenizer_cls = MobileBertTokenizer
