"""A task SavedModel's `assets/task.json`: the settings its inputs were built with and its labels.

Minimal reader for scoring; the fine-tuning export writes the file (see the task-model contract).
"""

import json
from pathlib import Path

from hub_export.errors import HubExportError, first_line

TASK_CONFIG_NAME = "task.json"
FORMAT = "mobilebert-task/1"
SQUAD, CLASSIFICATION = "squad", "classification"
_REQUIRED = {
    None: {"format": str, "task": str, "max_seq_length": int, "lower_case": bool},
    SQUAD: {"max_query_length": int, "doc_stride": int, "max_answer_length": int, "version_2_with_negative": bool,
            "null_score_diff_threshold": (int, float)},
    CLASSIFICATION: {"labels": list, "regression": bool, "pair": bool},
}


def read_task_config(model_dir) -> dict:
  """`model_dir/assets/task.json`, checked: the format, the task and every key the task needs, with its type."""
  path = Path(model_dir) / "assets" / TASK_CONFIG_NAME
  try:
    config = json.loads(path.read_text(encoding="utf-8"))
  except FileNotFoundError:
    raise HubExportError(f"{model_dir} is not a task model: no assets/{TASK_CONFIG_NAME}") from None
  except (OSError, UnicodeDecodeError, ValueError) as e:
    raise HubExportError(f"cannot read {path}: {first_line(e)}") from None
  if not isinstance(config, dict):
    raise HubExportError(f"{path} must hold a JSON object, got {type(config).__name__}")
  if config.get("format") != FORMAT:
    raise HubExportError(f"{path}: format is {config.get('format')!r}, expected {FORMAT!r}")
  if config.get("task") not in (SQUAD, CLASSIFICATION):
    raise HubExportError(f"{path}: task is {config.get('task')!r}, expected {SQUAD!r} or {CLASSIFICATION!r}")
  for key, kind in {**_REQUIRED[None], **_REQUIRED[config["task"]]}.items():
    value = config.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
      raise HubExportError(f"{path}: {key!r} is {value!r}, expected {getattr(kind, '__name__', 'a number')}")
  return config
