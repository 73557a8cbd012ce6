"""A classification task SavedModel (`finetune`'s, single texts or pairs) as a `.tflite` on token ids.

Neither MediaPipe's TextClassifier nor the Task Library's BertNLClassifier can feed a pair of texts:
they tokenize one string. This file takes what `serve` takes, `ids`, `mask` and `segment_ids` int32
[1, max_seq_length] (`[CLS] a [SEP] b [SEP]`, segment 1 from b on), so an app packs the pair with
the BERT tokenizer of the metadata and reads `logits` float32 [1, labels], the labels attached.
"""

from hub_export.hub_format.task_model_files import CLASSIFICATION
from hub_export.signatures import LOGITS
from hub_export.tflite.task_source import TaskSource, load_serve, read_config

FLAG = "--task_classifier"


def read_classifier_config(path) -> dict:
  return read_config(FLAG, path, CLASSIFICATION, "--task_classifier takes a classification one (a question answerer "
                                                 "goes on device with --task_model)")


def from_task_classifier(path) -> TaskSource:
  """Loads the task SavedModel's `serve` signature (of a model `read_classifier_config` took)."""
  source, _ = load_serve(FLAG, path, (LOGITS,), "a classifier")
  return source
