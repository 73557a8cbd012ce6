"""The settings a task SavedModel carries as `assets/task.json`: what to window, decode and label with.

`finetune` writes it; `evaluate_task` and any user read it back through `read_task_config`, which
checks every field, so a model scored or served with the wrong settings fails in one line first.
No TensorFlow here.
"""

import json
from pathlib import Path

from hub_export.support.errors import HubExportError

TASK_CONFIG_NAME = "task.json"
FORMAT = "mobilebert-task/1"
SQUAD, CLASSIFICATION = "squad", "classification"
TASKS = (SQUAD, CLASSIFICATION)
SERVE = "serve"  # the signature taking the encoder's int32 inputs; `serving_default` takes raw strings

_COMMON = {"format": str, "task": str, "max_seq_length": int, "lower_case": bool, "metrics": dict}
_BY_TASK = {
    SQUAD: {"max_query_length": int, "doc_stride": int, "max_answer_length": int, "version_2_with_negative": bool,
            "null_score_diff_threshold": float},
    CLASSIFICATION: {"glue_task": (str, type(None)), "labels": list, "regression": bool, "pair": bool},
}
_POSITIVE = ("max_seq_length", "max_query_length", "doc_stride", "max_answer_length")


def _is(value, kind) -> bool:
  kinds = kind if isinstance(kind, tuple) else (kind,)
  if isinstance(value, bool):
    return bool in kinds
  if float in kinds and isinstance(value, int):
    return True
  return isinstance(value, kinds)


def check_task_config(config, where: str) -> dict:
  """`config` when it is a valid task config; else one line naming `where` and the field."""
  if not isinstance(config, dict):
    raise HubExportError(f"{where} is not a JSON object")
  if config.get("format") != FORMAT:
    raise HubExportError(f"{where}: field 'format' is {config.get('format')!r}, expected {FORMAT!r}")
  if config.get("task") not in TASKS:
    raise HubExportError(f"{where}: field 'task' is {config.get('task')!r}, expected one of {', '.join(TASKS)}")
  fields = {**_COMMON, **_BY_TASK[config["task"]]}
  for name, kind in fields.items():
    if name not in config:
      raise HubExportError(f"{where}: field {name!r} is missing")
    if not _is(config[name], kind):
      raise HubExportError(f"{where}: field {name!r} has the wrong type ({config[name]!r})")
    if name in _POSITIVE and config[name] < 1:
      raise HubExportError(f"{where}: field {name!r} must be positive, got {config[name]}")
  extra = sorted(set(config) - set(fields))
  if extra:
    raise HubExportError(f"{where}: unknown field {extra[0]!r}")
  if config["task"] == CLASSIFICATION:
    labels = config["labels"]
    if not all(isinstance(label, str) for label in labels) or len(set(labels)) != len(labels):
      raise HubExportError(f"{where}: field 'labels' must be distinct strings")
    if bool(labels) == config["regression"]:
      raise HubExportError(f"{where}: field 'labels' must be empty for a regression and only then")
  for name, value in config["metrics"].items():
    if not _is(value, float):
      raise HubExportError(f"{where}: field 'metrics' entry {name!r} is not a number")
  return config


def write_task_config(path, config: dict) -> Path:
  """Writes the checked `config` to `path` (a file inside an export being built)."""
  path = Path(path)
  check_task_config(config, str(path))
  path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
  return path


def read_task_config(model_dir) -> dict:
  """The checked `assets/task.json` of the task SavedModel `model_dir`."""
  path = Path(model_dir) / "assets" / TASK_CONFIG_NAME
  try:
    text = path.read_text(encoding="utf-8")
  except FileNotFoundError:
    raise HubExportError(f"{model_dir} is not a task model: no assets/{TASK_CONFIG_NAME}") from None
  except (OSError, UnicodeDecodeError) as e:
    raise HubExportError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
  try:
    config = json.loads(text)
  except json.JSONDecodeError as e:
    raise HubExportError(f"{path} is not valid JSON: line {e.lineno} column {e.colno}: {e.msg}") from None
  return check_task_config(config, str(path))
