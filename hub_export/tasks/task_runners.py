"""Every form of a task model as one callable: int32 inputs [batch, seq] -> its logits, as numpy.

The inputs are the encoder's (`input_word_ids`, `input_mask`, `input_type_ids`); the outputs are
`start_logits` and `end_logits` [batch, seq] for SQuAD, `logits` [batch, num_labels] for a
classifier: what a task SavedModel's `serve` signature gives. `load_runner` picks the class by
what the path holds: a SavedModel folder (its `serve` signature, or `hub.KerasLayer` with
`via_hub`), a Keras 3 `.keras` file or preset folder, or a `.tflite` file.
"""

import json
from pathlib import Path

import numpy as np

from hub_export import signatures as sig
from hub_export.support.errors import HubExportError, first_line
from hub_export.hub_format.task_model_files import CLASSIFICATION, SERVE, SQUAD

OUTPUT_KEYS = {SQUAD: (sig.START_LOGITS, sig.END_LOGITS), CLASSIFICATION: (sig.LOGITS,)}
KERAS3_TASKS = {SQUAD: "MobileBertQuestionAnswerer", CLASSIFICATION: "MobileBertTextClassifier"}
KERAS3_INPUTS = {sig.INPUT_WORD_IDS: "token_ids", sig.INPUT_TYPE_IDS: "segment_ids", sig.INPUT_MASK: "padding_mask"}


class NetworkRunner:
  """A task network in memory (`finetune` scoring its eval set before the export)."""

  def __init__(self, network):
    import tensorflow as tf

    self._call = tf.function(lambda inputs: network(inputs, training=False), autograph=False)

  def __call__(self, inputs: dict) -> dict:
    return {key: value.numpy() for key, value in self._call(inputs).items()}


class SavedModelRunner:
  """A task SavedModel's `serve` signature."""

  def __init__(self, path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 - registers the ops of the in-graph tokenizer `finetune` saves beside `serve`

    try:
      loaded = tf.saved_model.load(str(path))
    except (OSError, ValueError, tf.errors.OpError) as e:
      raise HubExportError(f"cannot load the SavedModel {path}: {first_line(e)}") from None
    if SERVE not in loaded.signatures:
      raise HubExportError(f"SavedModel {path} has no {SERVE!r} signature (it has {', '.join(loaded.signatures)}): "
                           "not a task model")
    self._loaded, self._fn = loaded, loaded.signatures[SERVE]  # the function needs its object alive

  def __call__(self, inputs: dict) -> dict:
    return {key: value.numpy() for key, value in self._fn(**inputs).items()}


class HubLayerRunner:
  """The same SavedModel reloaded as `hub.KerasLayer(path)`, called on the dict of token inputs."""

  def __init__(self, path):
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401 - as for SavedModelRunner

    try:
      self._layer = hub.KerasLayer(str(path))
    except (OSError, ValueError) as e:
      raise HubExportError(f"hub.KerasLayer cannot load {path}: {first_line(e)}") from None

  def __call__(self, inputs: dict) -> dict:
    return {key: value.numpy() for key, value in self._layer(inputs).items()}


class Keras3Runner:
  """A Keras 3 task model (`MobileBertQuestionAnswerer` for SQuAD, `MobileBertTextClassifier`), from a `.keras`
  file or a preset folder; it takes the backbone's inputs `token_ids`, `segment_ids`, `padding_mask`."""

  def __init__(self, path, task: str):
    import hub_export.keras3 as keras3
    from hub_export.keras3.preset import TASK_FILE
    from hub_export.keras3.registration import PACKAGE

    cls = getattr(keras3, KERAS3_TASKS[task])
    path = Path(path)
    try:
      if path.is_dir():  # KerasHub builds a fresh head for another task's preset: refuse that first
        registered = json.loads((path / TASK_FILE).read_text(encoding="utf-8")).get("registered_name")
        if registered != f"{PACKAGE}>{cls.__name__}":
          raise HubExportError(f"preset {path} holds a {registered} task, not the {cls.__name__} --task {task} takes")
        self._model = cls.from_preset(str(path))
      else:
        self._model = keras3.load_model(str(path))
    except FileNotFoundError:
      raise HubExportError(f"preset {path} has no {TASK_FILE}: it holds no task model") from None
    except (OSError, ValueError, TypeError, AttributeError) as e:
      raise HubExportError(f"cannot load the Keras 3 model {path}: {first_line(e)}") from None
    if not isinstance(self._model, cls):
      raise HubExportError(f"{path} holds a {type(self._model).__name__}, not the {cls.__name__} --task {task} takes")

  def __call__(self, inputs: dict) -> dict:
    outputs = self._model({KERAS3_INPUTS[key]: value for key, value in inputs.items()}, training=False)
    if not isinstance(outputs, dict):
      outputs = {sig.LOGITS: outputs}
    return {key: np.asarray(value) for key, value in outputs.items()}


class TFLiteRunner:
  """A `.tflite` with the `serve` inputs, run by LiteRT; a fixed batch size is filled in chunks."""

  def __init__(self, path, num_threads: int = 2):
    from ai_edge_litert.interpreter import Interpreter

    try:
      interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
      signatures = interpreter.get_signature_list()
      key = SERVE if SERVE in signatures else next(iter(signatures), None)
      if key is None:
        raise HubExportError(f"{path} has no signature: convert the task model's {SERVE!r} signature")
      self._runner = interpreter.get_signature_runner(key)
    except (ValueError, RuntimeError) as e:
      raise HubExportError(f"LiteRT cannot load {path}: {first_line(e)}") from None
    details = self._runner.get_input_details()
    found = {name: (np.dtype(d["dtype"]).name, len(d["shape_signature"])) for name, d in details.items()}
    wanted = {key: ("int32", 2) for key in sig.ENCODER_INPUT_KEYS}
    if found != wanted:
      described = ", ".join(f"{name} {dtype}[rank {rank}]" for name, (dtype, rank) in sorted(found.items()))
      raise HubExportError(f"{path} takes {described}; expected int32 [batch, seq] inputs "
                           f"{', '.join(sig.ENCODER_INPUT_KEYS)} (the task model's {SERVE!r} signature)")
    shape = details[sig.INPUT_WORD_IDS]["shape_signature"]
    self.path, self.batch_size, self.seq_length = path, int(shape[0]), int(shape[1])  # -1: any

  def __call__(self, inputs: dict) -> dict:
    count, width = inputs[sig.INPUT_WORD_IDS].shape
    if self.seq_length not in (-1, width):
      raise HubExportError(f"{self.path} takes sequences of {self.seq_length} tokens, the task's max_seq_length "
                           f"is {width}")
    step = count if self.batch_size < 1 else self.batch_size
    parts = []
    for first in range(0, count, step):
      chunk = {key: value[first:first + step] for key, value in inputs.items()}
      rows = len(chunk[sig.INPUT_WORD_IDS])
      if rows < step:  # pad a short last chunk to the fixed batch size
        chunk = {key: np.concatenate([value, np.zeros([step - rows, width], np.int32)]) for key, value in chunk.items()}
      parts.append({key: value[:rows] for key, value in self._runner(**chunk).items()})
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def load_runner(path, task: str, via_hub: bool = False):
  """The runner for what `path` holds (see the module docstring), a model for `task`."""
  path = Path(path)
  if path.is_dir() and (path / "saved_model.pb").is_file():
    return HubLayerRunner(path) if via_hub else SavedModelRunner(path)
  if via_hub:
    raise HubExportError(f"--via_hub needs a SavedModel folder; {path} is not one")
  if path.suffix == ".tflite" and path.is_file():
    return TFLiteRunner(path)
  if path.suffix == ".keras" and path.is_file() or (path / "config.json").is_file():
    return Keras3Runner(path, task)
  raise HubExportError(f"{path} is not a task model: expected a SavedModel folder, a .tflite file, "
                       "or a Keras 3 .keras file or preset folder")


def run_batches(runner, arrays: dict, task: str, batch_size: int) -> dict:
  """The runner's outputs for every row of `arrays`, `batch_size` rows a call, as float32; checks their names."""
  inputs = {key: arrays[key] for key in sig.ENCODER_INPUT_KEYS}
  count = len(inputs[sig.INPUT_WORD_IDS])
  parts = []
  for first in range(0, count, batch_size):
    outputs = runner({key: value[first:first + batch_size] for key, value in inputs.items()})
    missing = [key for key in OUTPUT_KEYS[task] if key not in outputs]
    if missing:
      raise HubExportError(f"the model gives {', '.join(sorted(outputs))}, not the {task} outputs "
                           f"{', '.join(OUTPUT_KEYS[task])}")
    parts.append({key: np.asarray(outputs[key], np.float32) for key in OUTPUT_KEYS[task]})
  return {key: np.concatenate([part[key] for part in parts]) for key in OUTPUT_KEYS[task]}
