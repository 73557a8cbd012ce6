"""`kaggle://` handles, checked before anything touches the network.

A model is `kaggle://OWNER/MODEL`; a variation is `kaggle://OWNER/MODEL/FRAMEWORK/VARIATION`,
optionally followed by `/VERSION` (kagglehub's own handle without the scheme).
"""

import dataclasses
import re

from hub_export.publishing.kaggle_metadata import KERAS_FRAMEWORK, SAVED_MODEL_FRAMEWORK, SLUG, TFLITE_FRAMEWORK
from hub_export.support.errors import HubExportError

SCHEME = "kaggle://"
FRAMEWORKS = {name.lower(): name for name in (SAVED_MODEL_FRAMEWORK, TFLITE_FRAMEWORK, KERAS_FRAMEWORK)}
_VERSION = re.compile(r"^[1-9][0-9]*$")


@dataclasses.dataclass(frozen=True)
class ModelHandle:
  owner: str
  model: str

  def __str__(self) -> str:
    return f"{self.owner}/{self.model}"


@dataclasses.dataclass(frozen=True)
class VariationHandle:
  owner: str
  model: str
  framework: str
  variation: str
  version: int | None = None

  def __str__(self) -> str:
    text = f"{self.owner}/{self.model}/{self.framework}/{self.variation}"
    return text if self.version is None else f"{text}/{self.version}"


def is_kaggle(text: str) -> bool:
  return str(text).startswith(SCHEME)


def _parts(text: str, shape: str) -> list:
  if not is_kaggle(text):
    raise HubExportError(f"{text!r} is not a Kaggle handle: expected {SCHEME}{shape}")
  parts = text[len(SCHEME):].split("/")
  return parts


def _check_slug(text: str, what: str, value: str) -> str:
  if not SLUG.match(value):
    raise HubExportError(f"{text!r}: the {what} {value!r} is not a Kaggle slug (lower-case letters, digits "
                         f"and inner hyphens)")
  return value


def parse_model(text: str) -> ModelHandle:
  parts = _parts(text, "OWNER/MODEL")
  if len(parts) != 2:
    raise HubExportError(f"{text!r}: expected {SCHEME}OWNER/MODEL (a variation and version are chosen by publish)")
  return ModelHandle(_check_slug(text, "owner", parts[0]), _check_slug(text, "model", parts[1]))


def parse_variation(text: str) -> VariationHandle:
  parts = _parts(text, "OWNER/MODEL/FRAMEWORK/VARIATION[/VERSION]")
  if len(parts) not in (4, 5):
    raise HubExportError(f"{text!r}: expected {SCHEME}OWNER/MODEL/FRAMEWORK/VARIATION[/VERSION]")
  owner, model, framework, variation = parts[:4]
  if framework.lower() not in FRAMEWORKS:
    raise HubExportError(f"{text!r}: unknown framework {framework!r} (expected one of "
                         f"{', '.join(FRAMEWORKS.values())})")
  version = None
  if len(parts) == 5:
    if not _VERSION.match(parts[4]):
      raise HubExportError(f"{text!r}: the version {parts[4]!r} is not a positive integer")
    version = int(parts[4])
  return VariationHandle(_check_slug(text, "owner", owner), _check_slug(text, "model", model),
                         FRAMEWORKS[framework.lower()], _check_slug(text, "variation", variation), version)
