"""The table by precision on a task model's card: the task SavedModel and the `.tflite` files converted from it,
each scored on one eval file with the official metric, with its size and its batch-1 latency where it was published.

Each model is scored at its own input length: a `.tflite` at the length it was converted to (the Task Library's 384
for question answering), the SavedModel at its `max_seq_length` and again at each other length a file has, so
that every file has a float row on the same windows to be read against.
"""

import typing
from pathlib import Path

from hub_export.hub_format.task_model_files import SQUAD, read_task_config
from hub_export.support import log
from hub_export.support.filenames import VOCAB_NAME
from hub_export.support.timing import median_call_ms

LATENCY_CALLS = 20  # timed batch-1 calls a model, after one untimed call
SCORING_BATCH = 32


class Row(typing.NamedTuple):
  model: str  # "task SavedModel" or the file's name
  seq_length: int
  metrics: dict  # the official names, 0-100 scale
  megabytes: float
  latency_ms: float  # median of LATENCY_CALLS batch-1 calls


class _FirstInputs:
  """A runner that keeps the first batch it is given, so that one of its windows can be timed alone."""

  def __init__(self, runner):
    self.runner, self.first = runner, None

  def __call__(self, inputs: dict) -> dict:
    if self.first is None:
      self.first = {key: value[:1] for key, value in inputs.items()}
    return self.runner(inputs)


def _megabytes(path: Path) -> float:
  files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
  return sum(p.stat().st_size for p in files) / 1e6


def _score(runner, config: dict, seq_length: int, eval_data, vocab) -> tuple:
  """(metrics, the first window scored) of `runner` on the eval data, windowed at `seq_length`."""
  from hub_export.tasks import task_scoring

  recording, config = _FirstInputs(runner), {**config, "max_seq_length": seq_length}
  if config["task"] == SQUAD:
    scored = task_scoring.score_squad(recording, eval_data, config, vocab, SCORING_BATCH,
                                      config["version_2_with_negative"])
  else:
    dataset, metric = eval_data
    scored = task_scoring.score_classification(recording, dataset, metric, config, vocab, SCORING_BATCH)
  return scored.metrics, recording.first


def precision_rows(task_model: Path, tflite_files: list, eval_file: Path) -> list:
  """A Row for the task SavedModel at each length and for each file; raises HubExportError on a file that is not
  this task's (its inputs, its length) or an eval file that does not fit the task."""
  from hub_export.tasks import squad_data, task_runners, task_scoring
  from hub_export.tokenization.vocab import load_vocab

  config = read_task_config(task_model)
  vocab = load_vocab(Path(task_model) / "assets" / VOCAB_NAME)
  if config["task"] == SQUAD:
    eval_data = squad_data.read_squad(eval_file, config["version_2_with_negative"], training=False).examples
  else:
    eval_data = task_scoring.read_classification(eval_file, config, config.get("glue_task"))
  files = []
  for path in tflite_files:
    runner = task_runners.TFLiteRunner(path)
    files.append((path, runner, config["max_seq_length"] if runner.seq_length == -1 else runner.seq_length))
  saved = task_runners.SavedModelRunner(task_model)
  rows = []
  for seq_length in sorted({config["max_seq_length"], *(seq for _, _, seq in files)}):
    with log.step(f"score the task SavedModel at {seq_length} on {eval_file}"):
      metrics, window = _score(saved, config, seq_length, eval_data, vocab)
      rows.append(Row("task SavedModel", seq_length, metrics, _megabytes(Path(task_model)),
                      median_call_ms(saved, window, LATENCY_CALLS)))
  for path, runner, seq_length in files:
    with log.step(f"score {path} on {eval_file}"):
      metrics, window = _score(runner, config, seq_length, eval_data, vocab)
      rows.append(Row(Path(path).name, seq_length, metrics, _megabytes(Path(path)),
                      median_call_ms(runner, window, LATENCY_CALLS)))
  return rows
