"""Running a .tflite encoder with the LiteRT runtime (`ai-edge-litert`), as an app would.

`tf.lite.Interpreter` is deprecated since TF 2.20; LiteRT is its successor and is what the
export check, the tests and the benchmark use.
"""

import numpy as np

from hub_export import signatures as sig
from hub_export.support.errors import HubExportError, first_line

SIGNATURE = "serving_default"


def litert_available() -> bool:
  try:
    import ai_edge_litert.interpreter  # noqa: F401
  except ImportError:
    return False
  return True


def _load(interpreter_class, model_path, **options) -> tuple:
  """(interpreter, its serving signature runner); a file LiteRT cannot load is one clear error."""
  try:
    interpreter = interpreter_class(model_path=str(model_path), **options)
    return interpreter, interpreter.get_signature_runner(SIGNATURE)
  except (ValueError, RuntimeError) as e:
    raise HubExportError(f"LiteRT cannot load {model_path}: {first_line(e)}") from None


class TFLiteEncoder:
  """A loaded .tflite encoder (or classifier, with its `output_keys`): call it with a dict of int32 [1, seq] arrays."""

  def __init__(self, model_path, num_threads: int = 2, output_keys=sig.TFLITE_OUTPUT_KEYS):
    from ai_edge_litert.interpreter import Interpreter

    self.interpreter, self._runner = _load(Interpreter, model_path, num_threads=num_threads)
    self.output_keys = output_keys
    self.input_details = self._runner.get_input_details()
    self.output_details = self._runner.get_output_details()

  def __call__(self, inputs: dict) -> dict:
    outputs = self._runner(**{key: np.asarray(inputs[key], np.int32) for key in sig.ENCODER_INPUT_KEYS})
    return {key: outputs[key] for key in self.output_keys}


class TFLiteTextEncoder:
  """A .tflite model that takes text (`export_tflite --text_input`): call it with a string or a list of strings.

  Its tokenizer ops are TensorFlow Text's, so the interpreter is made with TensorFlow Text's
  TFLite kernels registered (`tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS`); an
  app links the same kernels into its LiteRT build.
  """

  def __init__(self, model_path, num_threads: int = 2, output_keys=sig.TFLITE_OUTPUT_KEYS):
    import tensorflow_text as tf_text
    from ai_edge_litert.interpreter import InterpreterWithCustomOps

    from hub_export.tflite.text_input import TEXT

    self.interpreter, self._runner = _load(InterpreterWithCustomOps, model_path, num_threads=num_threads,
                                           custom_op_registerers=tf_text.tflite_registrar.SELECT_TFTEXT_OPS)
    self.output_keys = output_keys
    self._input = TEXT

  def __call__(self, text) -> dict:
    """The outputs for one string (batch 1), or for each string of a list (the model takes one text a call)."""
    texts = [text] if isinstance(text, str) else text
    if not isinstance(texts, (list, tuple)) or not texts or not all(isinstance(t, str) for t in texts):
      raise HubExportError(f"TFLiteTextEncoder takes a string or a non-empty list of strings, got {text!r:.80}")
    runs = [self._runner(**{self._input: np.array([t.encode("utf-8")], dtype=object)}) for t in texts]
    return {key: np.concatenate([outputs[key] for outputs in runs]) for key in self.output_keys}
