"""A SQuAD task SavedModel (`finetune`'s, docs/tasks.md) as the TFLite Task Library's BertQuestionAnswerer takes it.

The Task Library (tflite-support, `bert_question_answerer.h`) hard-codes what the model must be:
int32 inputs [1, 384] and float32 outputs `start_logits` and `end_logits`, all found by metadata
name, a lower-cased WordPiece vocab, questions cut to 64 wordpieces. The model's settings are read
from `assets/task.json` first (no TensorFlow), so a model the Task Library cannot run is refused
before anything loads.
"""

import dataclasses
from pathlib import Path
from typing import Callable

from hub_export.hub_format.task_model_files import SERVE, SQUAD, read_task_config
from hub_export.signatures import END_LOGITS, START_LOGITS
from hub_export.support.errors import HubExportError, first_line
from hub_export.support.filenames import SAVED_MODEL_NAME, VOCAB_NAME
from hub_export.support.log import LOG

TASK_LIBRARY_SEQ_LENGTH = 384
TASK_LIBRARY_QUERY_LENGTH = 64
QA_OUTPUT_KEYS = (START_LOGITS, END_LOGITS)


@dataclasses.dataclass
class QaSource:
  logits: Callable  # dict of int32 [1, seq] tensors -> {start_logits, end_logits} float32 [1, seq]
  trackable: object
  description: str
  protected: Path
  vocab: Path


def read_qa_config(path) -> dict:
  """The task.json of a SQuAD task model the Task Library can feed; one line naming what does not fit."""
  path = Path(path)
  if not (path / SAVED_MODEL_NAME).is_file():
    raise HubExportError(f"--task_model {path} is not a SavedModel directory (no {SAVED_MODEL_NAME})")
  config = read_task_config(path)
  if config["task"] != SQUAD:
    raise HubExportError(f"--task_model {path} is a {config['task']} model; the Task Library's BertQuestionAnswerer "
                         f"takes a {SQUAD} one (a classifier goes on device with --classifier)")
  if not config["lower_case"]:
    raise HubExportError(f"--task_model {path} has a cased vocab (lower_case false in its task.json); the Task "
                         "Library lower-cases every question and context")
  if not (path / "assets" / VOCAB_NAME).is_file():
    raise HubExportError(f"--task_model {path} has no assets/{VOCAB_NAME}")
  if config["max_seq_length"] < TASK_LIBRARY_SEQ_LENGTH:
    LOG.warning("warning: %s was fine-tuned at max_seq_length %d; the Task Library feeds it %d tokens", path,
                config["max_seq_length"], TASK_LIBRARY_SEQ_LENGTH)
  if config["version_2_with_negative"]:
    LOG.warning("warning: the Task Library always answers with a span: the SQuAD v2.0 null answer of %s is "
                "not used on device", path)
  return config


def _position_rows(function):
  """The rows of the position table among the function's variables (this project's `position_embeddings`,
  Model Garden's `position_embedding/embeddings`), or None when it has none so named."""
  for variable in function.variables:
    parts = variable.name.split(":")[0].split("/")
    if any(part.startswith("position_embedding") for part in parts) and len(variable.shape) == 2:
      return int(variable.shape[0])
  return None


def from_task_model(path) -> QaSource:
  """Loads the task SavedModel's `serve` signature (of a model `read_qa_config` took); its outputs must be the Task
  Library's."""
  import tensorflow as tf
  import tensorflow_text  # noqa: F401 - registers the ops of the in-graph tokenizer `finetune` saves beside `serve`

  path = Path(path)
  try:
    loaded = tf.saved_model.load(str(path))
  except (tf.errors.OpError, ValueError, OSError) as e:
    raise HubExportError(f"cannot load --task_model {path}: {first_line(e)}") from None
  if SERVE not in loaded.signatures:
    raise HubExportError(f"--task_model {path} has no {SERVE!r} signature (it has "
                         f"{', '.join(loaded.signatures) or 'none'}); see docs/tasks.md")
  serve = loaded.signatures[SERVE]
  outputs = serve.structured_outputs
  if not set(QA_OUTPUT_KEYS) <= set(outputs):
    raise HubExportError(f"--task_model {path}: its {SERVE!r} signature gives {', '.join(sorted(outputs))}; the "
                         f"Task Library's BertQuestionAnswerer needs {' and '.join(QA_OUTPUT_KEYS)}")
  rows = _position_rows(serve)
  if rows is not None and rows < TASK_LIBRARY_SEQ_LENGTH:
    raise HubExportError(f"--task_model {path} has {rows} positions (max_position_embeddings); the Task Library "
                         f"feeds {TASK_LIBRARY_SEQ_LENGTH} tokens")
  return QaSource(
      logits=lambda inputs: serve(**inputs), trackable=loaded, description=f"task model {path}", protected=path,
      vocab=path / "assets" / VOCAB_NAME)
