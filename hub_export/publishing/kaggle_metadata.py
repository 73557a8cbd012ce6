"""Kaggle Models metadata: `model-metadata.json` and `model-instance-metadata.json`.

Field names follow the kaggle-api documentation (docs/models_metadata.md): a model holds
variations ("instances") per framework; the instance's `usage` markdown may use
`${PATH}`, which Kaggle replaces with the mounted model directory.
"""

import json
import re

from hub_export.errors import HubExportError

FRAMEWORK = "tensorFlow2"

# tfhub.dev license ids we accept, and Kaggle's names for the same licenses.
KAGGLE_LICENSES = {
    "apache-2.0": "Apache 2.0",
    "mit": "MIT",
    "bsd-3-clause": "BSD-3-Clause",
    "gpl-3.0": "GPL 3",
    "cc-by-nc-4.0": "Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)",
}


def slug(name: str) -> str:
  """Kaggle slugs are lower-case words joined by hyphens."""
  value = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
  if not value:
    raise HubExportError(f"cannot make a Kaggle slug from {name!r}")
  return value


def _dumps(data: dict) -> str:
  return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def usage_markdown(kind: str) -> str:
  if kind == "encoder":
    call = ('encoder = hub.KerasLayer("${PATH}", trainable=True)\n'
            'outputs = encoder(encoder_inputs)  # dict: pooled_output, sequence_output, ...')
  else:
    call = ('preprocessor = hub.KerasLayer("${PATH}")\n'
            'encoder_inputs = preprocessor(tf.constant(["hello world"]))')
  return ("Unpack the TF-Hub tarball into this variation's files (its root is the SavedModel), then:\n\n"
          "```python\nimport tensorflow as tf\nimport tensorflow_text  # noqa: F401  registers ops\n"
          f"import tensorflow_hub as hub\n\n{call}\n```\n")


def model_metadata(owner: str, name: str, subtitle: str, card_body: str, license_id: str) -> str:
  return _dumps({
      "ownerSlug": slug(owner),
      "title": name,
      "slug": slug(name),
      "subtitle": subtitle,
      "isPrivate": True,
      "description": card_body,
      "publishTime": "",
      "provenanceSources": "",
      "licenseName": KAGGLE_LICENSES[license_id],
  })


def instance_metadata(owner: str, name: str, kind: str, overview: str, license_id: str,
                      fine_tunable: bool, dataset: str | None) -> str:
  return _dumps({
      "ownerSlug": slug(owner),
      "modelSlug": slug(name),
      "instanceSlug": slug(name),
      "framework": FRAMEWORK,
      "overview": overview,
      "usage": usage_markdown(kind),
      "licenseName": KAGGLE_LICENSES[license_id],
      "fineTunable": fine_tunable,
      "trainingData": [dataset] if dataset else [],
      "modelInstanceType": "Unspecified",
      "baseModelInstance": "",
      "externalBaseModelUrl": "",
  })
