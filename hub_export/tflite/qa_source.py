"""A SQuAD task SavedModel (`finetune`'s, docs/tasks.md) as the TFLite Task Library's BertQuestionAnswerer takes it.

The Task Library (tflite-support, `bert_question_answerer.h`) hard-codes what the model must be:
int32 inputs [1, 384] and float32 outputs `start_logits` and `end_logits`, all found by metadata
name, a lower-cased WordPiece vocab, questions cut to 64 wordpieces. The model's settings are read
from `assets/task.json` first (no TensorFlow), so a model the Task Library cannot run is refused
before anything loads.
"""

from pathlib import Path

from hub_export.hub_format.task_model_files import SQUAD
from hub_export.signatures import END_LOGITS, START_LOGITS
from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG
from hub_export.tflite.task_source import TaskSource, load_serve, read_config

TASK_LIBRARY_SEQ_LENGTH = 384
TASK_LIBRARY_QUERY_LENGTH = 64
QA_OUTPUT_KEYS = (START_LOGITS, END_LOGITS)
FLAG = "--task_model"


def read_qa_config(path) -> dict:
  """The task.json of a SQuAD task model the Task Library can feed; one line naming what does not fit."""
  config = read_config(FLAG, path, SQUAD, "the Task Library's BertQuestionAnswerer takes a squad one (a classifier "
                                          "goes on device with --task_classifier)")
  if not config["lower_case"]:
    raise HubExportError(f"{FLAG} {path} has a cased vocab (lower_case false in its task.json); the Task "
                         "Library lower-cases every question and context")
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


def from_task_model(path) -> TaskSource:
  """Loads the task SavedModel's `serve` signature (of a model `read_qa_config` took); its outputs must be the Task
  Library's."""
  source, serve = load_serve(FLAG, path, QA_OUTPUT_KEYS, "the Task Library's BertQuestionAnswerer")
  rows = _position_rows(serve)
  if rows is not None and rows < TASK_LIBRARY_SEQ_LENGTH:
    raise HubExportError(f"{FLAG} {Path(path)} has {rows} positions (max_position_embeddings); the Task Library "
                         f"feeds {TASK_LIBRARY_SEQ_LENGTH} tokens")
  return source
