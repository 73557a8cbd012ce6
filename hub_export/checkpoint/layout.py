"""Recognises which of the three supported layouts a checkpoint is in, from its keys."""

import enum

from hub_export.checkpoint import model_garden, native
from hub_export.support.errors import HubExportError

TF1_MARKER = "bert/embeddings/word_embeddings"


class Layout(enum.Enum):
  TF1_RELEASE = "original TF1 release (name-based)"
  MODEL_GARDEN = "Model Garden TF2 (BertPretrainerV2 object checkpoint)"
  NATIVE = "hub_export TF2 (this project's object checkpoint)"


def detect_layout(keys, prefix: str) -> Layout:
  if native.CONFIG_KEY in keys:
    return Layout.NATIVE
  if TF1_MARKER in keys:
    return Layout.TF1_RELEASE
  if model_garden.MARKER_KEY in keys:
    return Layout.MODEL_GARDEN
  raise HubExportError(f"checkpoint {prefix} is not a MobileBERT checkpoint in a known layout: none of "
                       f"{TF1_MARKER!r}, {model_garden.MARKER_KEY!r}, {native.CONFIG_KEY!r} is in it")
