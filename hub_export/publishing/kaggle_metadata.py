"""Kaggle Models metadata: `model-metadata.json`, `model-instance-metadata.json`, variation names.

Field names follow the kaggle-api documentation (docs/models_metadata.md): a model holds
variations ("instances") per framework; the instance's `usage` markdown may use
`${PATH}`, which Kaggle replaces with the mounted model directory. The same values are
what `--to kaggle://...` sends through the Kaggle client, so the folders and the upload
cannot disagree.
"""

import json
import re

from hub_export.support.errors import HubExportError

SAVED_MODEL_FRAMEWORK = "tensorFlow2"
TFLITE_FRAMEWORK = "tfLite"
KERAS_FRAMEWORK = "keras"

# tfhub.dev license ids we accept, and Kaggle's names for the same licenses.
KAGGLE_LICENSES = {
    "apache-2.0": "Apache 2.0",
    "mit": "MIT",
    "bsd-3-clause": "BSD-3-Clause",
    "gpl-3.0": "GPL 3",
    "cc-by-nc-4.0": "Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)",
}

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def slug(name: str) -> str:
  """Kaggle slugs are lower-case words joined by hyphens."""
  value = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
  if not value:
    raise HubExportError(f"cannot make a Kaggle slug from {name!r}")
  return value


def preprocessor_variation(language: str, lower_case: bool) -> str:
  """As Kaggle names the BERT preprocessors: `en-uncased-preprocess`, `multi-cased-preprocess`."""
  prefix = "multi" if language == "multilingual" else language
  return slug(f"{prefix}-{'uncased' if lower_case else 'cased'}-preprocess")


def dumps(data: dict) -> str:
  return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


_IMPORTS = ("import tensorflow as tf\nimport tensorflow_text  # noqa: F401  registers ops\n"
            "import tensorflow_hub as hub\n\n")


def usage_markdown(kind: str) -> str:
  """The variation's usage text; Kaggle replaces `${PATH}` with the variation's folder."""
  if kind == "encoder":
    code = _IMPORTS + ('encoder = hub.KerasLayer("${PATH}", trainable=True)\n'
                       'outputs = encoder(encoder_inputs)  # dict: pooled_output, sequence_output, ...')
  elif kind == "preprocessor":
    code = _IMPORTS + ('preprocessor = hub.KerasLayer("${PATH}")\n'
                       'encoder_inputs = preprocessor(tf.constant(["hello world"]))')
  elif kind == "keras_preset":
    code = ("import keras_hub\n"
            "import hub_export.keras3  # noqa: F401  registers MobileBERT (pip install 'mobilebert-hub-export[keras]')\n\n"
            'backbone = keras_hub.models.Backbone.from_preset("${PATH}")\n'
            'classifier = hub_export.keras3.MobileBertTextClassifier.from_preset("${PATH}", num_classes=2)')
  elif kind == "task":
    code = _IMPORTS + ('model = hub.load("${PATH}")  # assets/task.json: the task, its settings and metrics\n'
                       'outputs = model.signatures["serving_default"](...)  # raw strings, as the card says\n'
                       'scores = model.signatures["serve"](input_word_ids=..., input_mask=..., input_type_ids=...)')
  else:
    code = ("from ai_edge_litert.interpreter import Interpreter\nimport glob\n\n"
            'interpreter = Interpreter(model_path=glob.glob("${PATH}/*.tflite")[0])\n'
            "runner = interpreter.get_signature_runner()  # inputs input_word_ids, input_mask, input_type_ids")
  return f"```python\n{code}\n```\n"


def model_metadata(owner: str, model: str, title: str, subtitle: str, card_body: str, license_id: str,
                   private: bool) -> dict:
  return {
      "ownerSlug": owner,
      "title": title,
      "slug": model,
      "subtitle": subtitle,
      "isPrivate": private,
      "description": card_body,
      "publishTime": "",
      "provenanceSources": "",
      "licenseName": KAGGLE_LICENSES[license_id],
  }


def instance_metadata(owner: str, model: str, variation: str, framework: str, kind: str, overview: str,
                      license_id: str, dataset: str | None) -> dict:
  return {
      "ownerSlug": owner,
      "modelSlug": model,
      "instanceSlug": variation,
      "framework": framework,
      "overview": overview,
      "usage": usage_markdown(kind),
      "licenseName": KAGGLE_LICENSES[license_id],
      "fineTunable": kind in ("encoder", "keras_preset"),
      "trainingData": [dataset] if dataset else [],
      "modelInstanceType": "Unspecified",
      "baseModelInstance": "",
      "externalBaseModelUrl": "",
  }
