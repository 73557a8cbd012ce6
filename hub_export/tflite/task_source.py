"""A task SavedModel of `finetune` (docs/tasks.md) loaded for conversion: its `serve` signature, token ids in,
the task's logits out. Shared by the question answerer (`qa_source`) and the classifier (`task_classifier_source`).
"""

import dataclasses
from pathlib import Path
from typing import Callable

from hub_export.hub_format.task_model_files import SERVE, read_task_config
from hub_export.support.errors import HubExportError, first_line
from hub_export.support.filenames import SAVED_MODEL_NAME, VOCAB_NAME


@dataclasses.dataclass
class TaskSource:
  logits: Callable  # dict of int32 [1, seq] tensors -> the task's float32 outputs
  trackable: object
  description: str
  protected: Path
  vocab: Path


def read_config(flag: str, path, task: str, other: str) -> dict:
  """The task.json of a task model of `task`, read without TensorFlow; `other` says where a model of the other
  task goes."""
  path = Path(path)
  if not (path / SAVED_MODEL_NAME).is_file():
    raise HubExportError(f"{flag} {path} is not a SavedModel directory (no {SAVED_MODEL_NAME})")
  config = read_task_config(path)
  if config["task"] != task:
    raise HubExportError(f"{flag} {path} is a {config['task']} model; {other}")
  if not (path / "assets" / VOCAB_NAME).is_file():
    raise HubExportError(f"{flag} {path} has no assets/{VOCAB_NAME}")
  return config


def load_serve(flag: str, path, output_keys: tuple, needs: str):
  """(TaskSource, the `serve` concrete function) of the task SavedModel at `path`; its outputs must hold
  `output_keys`, which `needs` (e.g. "the Task Library's BertQuestionAnswerer") needs."""
  import tensorflow as tf
  import tensorflow_text  # noqa: F401 - registers the ops of the in-graph tokenizer `finetune` saves beside `serve`

  path = Path(path)
  try:
    loaded = tf.saved_model.load(str(path))
  except (tf.errors.OpError, ValueError, OSError) as e:
    raise HubExportError(f"cannot load {flag} {path}: {first_line(e)}") from None
  if SERVE not in loaded.signatures:
    raise HubExportError(f"{flag} {path} has no {SERVE!r} signature (it has "
                         f"{', '.join(loaded.signatures) or 'none'}); see docs/tasks.md")
  serve = loaded.signatures[SERVE]
  outputs = serve.structured_outputs
  if not set(output_keys) <= set(outputs):
    raise HubExportError(f"{flag} {path}: its {SERVE!r} signature gives {', '.join(sorted(outputs))}; {needs} "
                         f"needs {' and '.join(output_keys)}")
  source = TaskSource(logits=lambda inputs: serve(**inputs), trackable=loaded, description=f"task model {path}",
                      protected=path, vocab=path / "assets" / VOCAB_NAME)
  return source, serve
