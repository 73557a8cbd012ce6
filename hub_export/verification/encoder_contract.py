"""The text-encoder contract: inputs, outputs, `.mlm`, variables, assets, signatures."""

from pathlib import Path

import numpy as np

from hub_export import signatures as sig
from hub_export.hub_format import reading
from hub_export.verification import common
from hub_export.verification.report import Violation, require, run_check

BATCH = 2
SEQ_LENGTHS = (8, 13)
NUM_MASKED = 3


def smoke_inputs(seq_length: int, vocab_size: int) -> dict:
  """Batch 2: one full row, one with 3 padding positions; two segments each."""
  import tensorflow as tf

  ids = (np.arange(BATCH * seq_length).reshape(BATCH, seq_length) * 7 + 3) % max(vocab_size, 1)
  mask = np.ones((BATCH, seq_length), np.int32)
  mask[1, seq_length - 3:] = 0
  types = np.zeros((BATCH, seq_length), np.int32)
  types[:, seq_length // 2:] = 1
  types *= mask
  return {sig.INPUT_WORD_IDS: tf.constant(ids * mask, tf.int32), sig.INPUT_MASK: tf.constant(mask),
          sig.INPUT_TYPE_IDS: tf.constant(types)}


def _shape(tensor) -> list:
  return list(tensor.shape)


def _expect_tensor(outputs: dict, key: str, shape: list, dtype_name: str = "float32"):
  require(key in outputs, f"output '{key}' is missing (outputs: {', '.join(sorted(outputs))})")
  value = outputs[key]
  require(value.dtype.name == dtype_name, f"'{key}' has dtype {value.dtype.name}, expected {dtype_name}")
  actual = _shape(value)
  require(len(actual) == len(shape) and all(e is None or a == e for a, e in zip(actual, shape)),
          f"'{key}' has shape {actual}, expected {['H' if e is None else e for e in shape]}")
  require(np.all(np.isfinite(value.numpy())), f"'{key}' has non-finite values")
  return value


class _Smoke:
  """Runs each inference once and remembers the result (or the error) for the checks."""

  def __init__(self, fn):
    self._fn, self._result, self._error = fn, None, None
    self._done = False

  def get(self):
    if not self._done:
      self._done = True
      try:
        self._result = self._fn()
      except Exception as e:  # noqa: BLE001 - reported by every check that needs the result
        self._error = e
    if self._error is not None:
      raise Violation(f"inference failed: {type(self._error).__name__}: "
                      f"{str(self._error).strip().splitlines()[0] if str(self._error).strip() else ''}")
    return self._result


def check_encoder(obj, export_dir) -> list:
  """All encoder clauses of facts section 5, each a named Check; never raises."""
  import tensorflow_hub as hub

  export_dir = Path(export_dir)
  vocab_size = _vocab_size(obj)
  seq = SEQ_LENGTHS[0]
  inputs = smoke_inputs(seq, vocab_size or 1)
  layer = _Smoke(lambda: hub.KerasLayer(obj, trainable=True))
  outputs = _Smoke(lambda: layer.get()(inputs, training=False))
  hidden = {}

  def sequence_output():
    value = _expect_tensor(outputs.get(), sig.SEQUENCE_OUTPUT, [BATCH, seq, None])
    hidden["H"] = _shape(value)[-1]
    return f"[{BATCH}, {seq}, {hidden['H']}] float32"

  def pooled_output():
    value = _expect_tensor(outputs.get(), sig.POOLED_OUTPUT, [BATCH, hidden.get("H")])
    return f"{_shape(value)} float32"

  def default_output():
    out = outputs.get()
    _expect_tensor(out, sig.DEFAULT_OUTPUT, [BATCH, hidden.get("H")])
    require(sig.POOLED_OUTPUT in out, "cannot compare: 'pooled_output' is missing")
    require(np.array_equal(out[sig.DEFAULT_OUTPUT].numpy(), out[sig.POOLED_OUTPUT].numpy()),
            "'default' differs from 'pooled_output'")
    return "equals pooled_output"

  def encoder_outputs():
    out = outputs.get()
    require(sig.ENCODER_OUTPUTS in out, f"output '{sig.ENCODER_OUTPUTS}' is missing")
    layers = out[sig.ENCODER_OUTPUTS]
    require(isinstance(layers, (list, tuple)) and layers, f"'{sig.ENCODER_OUTPUTS}' is not a non-empty list")
    for i, value in enumerate(layers):
      _expect_tensor({f"{sig.ENCODER_OUTPUTS}[{i}]": value}, f"{sig.ENCODER_OUTPUTS}[{i}]",
                     [BATCH, seq, hidden.get("H")])
    require(sig.SEQUENCE_OUTPUT in out, "cannot compare: 'sequence_output' is missing")
    require(np.allclose(layers[-1].numpy(), out[sig.SEQUENCE_OUTPUT].numpy(), rtol=0, atol=1e-6),
            f"the last of '{sig.ENCODER_OUTPUTS}' differs from 'sequence_output'")
    return f"{len(layers)} tensors, last equals sequence_output"

  def dynamic_shapes():
    shapes = []
    for length in SEQ_LENGTHS[1:]:
      result = layer.get()(smoke_inputs(length, vocab_size or 1))
      _expect_tensor(result, sig.SEQUENCE_OUTPUT, [BATCH, length, hidden.get("H")])
      shapes.append(f"seq_length {length} -> {_shape(result[sig.SEQUENCE_OUTPUT])}")
    return "; ".join(shapes)

  def training_modes():
    traced = common.check_training_traces(obj.__call__, "__call__")
    for training in (True, False):
      result = obj(inputs, training=training)
      _expect_tensor(result, sig.SEQUENCE_OUTPUT, [BATCH, seq, hidden.get("H")])
    return f"{traced}; both run"

  def fine_tuning():
    import tensorflow as tf

    keras_layer = layer.get()
    trainable = keras_layer.trainable_weights
    require(trainable, "hub.KerasLayer(trainable=True) exposes no trainable weights")
    with tf.GradientTape() as tape:
      result = keras_layer(inputs, training=True)
      loss = tf.reduce_sum(result[sig.POOLED_OUTPUT]) + tf.reduce_sum(result[sig.SEQUENCE_OUTPUT])
    grads = tape.gradient(loss, trainable)
    dead = [w.name for w, g in zip(trainable, grads) if g is None]
    require(not dead, f"{len(dead)} of {len(trainable)} trainable weights get no gradient from the "
                      f"outputs, e.g. {dead[0] if dead else ''}")
    return f"all {len(trainable)} trainable weights receive gradients"

  def mlm():
    require(hasattr(obj, "mlm"), "no '.mlm' sub-object")
    mlm_layer = hub.KerasLayer(obj.mlm, trainable=True)
    positions = np.tile(np.arange(1, NUM_MASKED + 1, dtype=np.int32), (BATCH, 1))
    result = mlm_layer(dict(inputs, **{sig.MASKED_LM_POSITIONS: positions}))
    logits = _expect_tensor(result, sig.MLM_LOGITS, [BATCH, NUM_MASKED, vocab_size])
    common.check_training_traces(obj.mlm.__call__, ".mlm.__call__")
    return f"mlm_logits {_shape(logits)} float32; traced for training=True/False"

  def mlm_variables():
    require(hasattr(obj, "mlm"), "no '.mlm' sub-object")
    root_ids = {id(v) for v in obj.variables} | {id(v) for v in obj.trainable_variables}
    head = [v for v in obj.mlm.variables if id(v) not in root_ids]
    require(head, "every '.mlm' variable is also in the root's variables: the MLM head must stay "
                  "out of the root's variable lists")
    return f"{len(head)} head variables only in .mlm"

  def vocab_asset():
    require(hasattr(obj, "vocab_file"), "no 'vocab_file' asset attribute")
    path = Path(obj.vocab_file.asset_path.numpy().decode())
    assets = (export_dir / "assets").resolve()
    require(path.resolve().parent == assets or assets in path.resolve().parents,
            f"vocab_file points outside the export's assets/: {path}")
    require(path.is_file(), f"vocab_file {path.name} is missing from assets/")
    return f"assets/{path.name}, {len(reading.read_vocab(path))} tokens"

  def do_lower_case():
    require(hasattr(obj, "do_lower_case"), "no 'do_lower_case' attribute")
    value = obj.do_lower_case
    require(value.dtype.name == "bool" and list(value.shape) == [],
            f"do_lower_case is {value.dtype.name} {list(value.shape)}, expected a scalar bool")
    return f"{bool(value.numpy())}"

  def serving_default():
    signature = obj.signatures.get("serving_default") if hasattr(obj, "signatures") else None
    require(signature is not None, "no 'serving_default' signature")
    _, kwargs = signature.structured_input_signature
    require(set(kwargs) == set(sig.ENCODER_INPUT_KEYS),
            f"serving_default takes {sorted(kwargs)}, expected {sorted(sig.ENCODER_INPUT_KEYS)}")
    wrong = [k for k, spec in kwargs.items() if spec.dtype.name != "int32"]
    require(not wrong, f"serving_default inputs not int32: {', '.join(wrong)}")
    return "inputs " + ", ".join(sorted(kwargs))

  clauses = [
      ("reusable API", lambda: common.check_reusable_api(obj)),
      ("inputs", lambda: _check_call_inputs(obj)),
      (sig.SEQUENCE_OUTPUT, sequence_output),
      (sig.POOLED_OUTPUT, pooled_output),
      (sig.DEFAULT_OUTPUT, default_output),
      (sig.ENCODER_OUTPUTS, encoder_outputs),
      ("dynamic sequence length", dynamic_shapes),
      ("training argument", training_modes),
      ("fine-tuning", fine_tuning),
      (".mlm", mlm),
      (".mlm variables", mlm_variables),
      ("vocab_file asset", vocab_asset),
      ("do_lower_case", do_lower_case),
      ("serving_default", serving_default),
      ("asset paths", lambda: common.check_no_absolute_asset_paths(export_dir)),
  ]
  return [run_check(name, fn) for name, fn in clauses]


def _vocab_size(obj):
  """The vocab asset's token count, or None when the asset is absent or unreadable."""
  try:
    return len(reading.read_vocab(obj.vocab_file.asset_path.numpy().decode()))
  except Exception:  # noqa: BLE001 - the vocab_file check reports why
    return None


def _check_call_inputs(obj) -> str:
  structures = list(reading.call_input_structures(obj))
  require(structures, "__call__ has no traced input signature")
  for structure in structures:
    require(isinstance(structure, dict), f"__call__ takes {type(structure).__name__}, expected a dict")
    require(set(structure) == set(sig.ENCODER_INPUT_KEYS),
            f"__call__ takes {sorted(structure)}, expected {sorted(sig.ENCODER_INPUT_KEYS)}")
    for key, spec in structure.items():
      require(spec.dtype.name == "int32", f"input '{key}' is {spec.dtype.name}, expected int32")
      require(spec.shape.rank == 2 and all(d is None for d in spec.shape.as_list()),
              f"input '{key}' has shape {spec.shape}, expected dynamic [batch, seq]")
  return ", ".join(f"{k} int32 [batch, seq]" for k in sig.ENCODER_INPUT_KEYS)

