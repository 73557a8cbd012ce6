"""One harness for the model's layers and networks, after KerasHub's `TestCase.run_layer_test`.

`run_layer_test` builds a layer (or a whole `tf.Module` network) from a factory, moves its weights off their
initial values with seeded noise (so a gamma of ones or a bias of zeros cannot hide a weight the computation
drops), and checks what every part of the model must do; a test adds what is particular to its layer (a
closed form, a config switch) on the outputs it returns.
"""

import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import tensorflow as tf

from hub_export import signatures as sig
from support.release_dirs import tiny_config

# tiny_config's architecture (2 layers, a 160-token vocab) at widths where a layer test costs its tracing, not its math.
NARROW = dict(hidden_size=32, embedding_size=16, intra_bottleneck_size=16, intermediate_size=32,
              max_position_embeddings=16)


def narrow_config(**overrides):
  return tiny_config(**{**NARROW, **overrides})


def padding_mask(lengths, length: int) -> np.ndarray:
  """[len(lengths), length] int32: row r is 1 at its first lengths[r] positions, 0 (padding) after."""
  return (np.arange(length)[None, :] < np.asarray(lengths)[:, None]).astype(np.int32)


def encoder_inputs(lengths, length: int, vocab_size: int, seed: int = 0) -> dict:
  """The three encoder inputs for rows of real `lengths`: random word ids, two segments, zeros at padding."""
  mask = padding_mask(lengths, length)
  ids = np.random.default_rng(seed).integers(1, vocab_size, mask.shape, dtype=np.int32)
  types = (np.arange(length)[None, :] >= length // 2).astype(np.int32)
  return {sig.INPUT_WORD_IDS: ids * mask, sig.INPUT_MASK: mask, sig.INPUT_TYPE_IDS: types * mask}


def with_padding_changed(inputs: dict, vocab_size: int) -> dict:
  """`inputs` with other word and segment ids (non-zero) at every padding position."""
  padding = inputs[sig.INPUT_MASK] == 0
  return {**inputs, sig.INPUT_WORD_IDS: np.where(padding, vocab_size - 1, inputs[sig.INPUT_WORD_IDS]),
          sig.INPUT_TYPE_IDS: np.where(padding, 1, inputs[sig.INPUT_TYPE_IDS])}


def numpy_layer_norm(x, gamma, beta):
  """(x - mean) / sqrt(variance + 1e-12) over the last axis, in float64, then scaled and shifted."""
  x = np.asarray(x, np.float64)
  centred = x - x.mean(-1, keepdims=True)
  return centred / np.sqrt((centred ** 2).mean(-1, keepdims=True) + 1e-12) * gamma + beta


def encoder_output_shapes(config, batch: int, length: int) -> dict:
  """The shapes of the encoder's TF-Hub output dict."""
  per_token, per_sequence = (batch, length, config.hidden_size), (batch, config.hidden_size)
  return {sig.SEQUENCE_OUTPUT: per_token, sig.POOLED_OUTPUT: per_sequence, sig.DEFAULT_OUTPUT: per_sequence,
          sig.ENCODER_OUTPUTS: [per_token] * config.num_hidden_layers}


def randomize_weights(variables, seed: int, scale: float = 0.1):
  rng = np.random.default_rng(seed)
  for variable in variables:
    variable.assign(variable.numpy() + rng.normal(0.0, scale, variable.shape).astype(np.float32))


class LayerRun(NamedTuple):
  layer: object  # the layer the checks ran on, its weights randomized
  outputs: object  # its eager outputs on the inputs, as numpy, in the layer's own nesting


def _numpy(structure):
  return tf.nest.map_structure(lambda t: t.numpy(), structure)


def _call_numpy(call, layer, inputs):
  return _numpy(call(layer, *inputs))


def _assert_outputs_equal(ours, theirs, what: str, atol: float = 0.0):
  for a, b in zip(tf.nest.flatten(ours), tf.nest.flatten(theirs)):
    np.testing.assert_allclose(a, b, rtol=atol, atol=atol, err_msg=what)


def _real_part(output: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """The values of the real positions: by [batch, seq] or flat [batch * seq] rows; a per-sequence output
  ([batch, ...], a pooled vector or a sequence's logits) whole."""
  if output.shape[:2] == mask.shape:
    return output[mask.astype(bool)]
  if output.shape[:1] == (mask.size,):
    return output[mask.reshape(-1).astype(bool)]
  assert output.shape[0] == mask.shape[0], f"output {output.shape} has no rows of the inputs {mask.shape}"
  return output


def run_layer_test(make_layer, inputs: tuple, expected_shapes, *, expected_num_variables: int, call=None,
                   serializable: bool = False, input_mask=None, changed_under_mask=None, seed: int = 0,
                   atol: float = 1e-5) -> LayerRun:
  """Builds `make_layer()` on `inputs` (its positional arguments; `call(layer, *inputs)` calls it otherwise)
  and checks:

  - the outputs' shapes (the same nesting as `expected_shapes`, a tuple per tensor) and dtype float32;
  - `expected_num_variables` variables, each trainable, with unique names, and each one getting a gradient
    from the outputs (a weight the computation drops fails here);
  - a `tf.function` of it, every input dimension unknown as in an export's signature, gives the eager
    outputs (to `atol`, absolute and relative);
  - a fresh `make_layer()`, restored from a checkpoint of this one, gives exactly its outputs;
  - `serializable`: `from_config(get_config())` with these weights gives exactly its outputs; otherwise the
    layer has no config of its own (`get_config` raises), which a layer taking a `MobileBertConfig` lacks;
  - `input_mask` ([batch, seq], 0 at padding) with `changed_under_mask` (`inputs` with other values at the
    padding): the real positions' outputs stay exactly the same.
  """
  call = call or (lambda layer, *args: layer(*args))
  inputs = tf.nest.map_structure(tf.convert_to_tensor, tuple(inputs))
  layer = make_layer()
  call(layer, *inputs)  # builds it
  randomize_weights(layer.variables, seed)
  outputs = _call_numpy(call, layer, inputs)

  assert tf.nest.map_structure(lambda t: tuple(t.shape), outputs) == expected_shapes
  assert all(t.dtype == np.float32 for t in tf.nest.flatten(outputs))

  names = [v.name for v in layer.variables]
  assert len(names) == expected_num_variables, names
  assert len(set(names)) == len(names), f"repeated variable names: {sorted(names)}"
  assert len(layer.trainable_variables) == len(names)
  with tf.GradientTape() as tape:
    total = tf.add_n([tf.reduce_sum(t) for t in tf.nest.flatten(call(layer, *inputs))])
  gradients = tape.gradient(total, layer.trainable_variables)
  dropped = [v.name for v, g in zip(layer.trainable_variables, gradients) if g is None]
  assert not dropped, f"variables without a gradient: {dropped}"

  signature = tf.nest.map_structure(lambda t: tf.TensorSpec([None] * t.shape.rank, t.dtype), inputs)
  traced = tf.function(lambda *args: call(layer, *args), input_signature=signature)
  _assert_outputs_equal(_numpy(traced(*inputs)), outputs, "traced", atol)

  fresh = make_layer()
  before = _call_numpy(call, fresh, inputs)
  assert any(not np.array_equal(a, b) for a, b in zip(tf.nest.flatten(before), tf.nest.flatten(outputs))), \
      "a fresh layer gives these outputs already: its restore would prove nothing"
  with tempfile.TemporaryDirectory() as directory:
    path = tf.train.Checkpoint(layer=layer).write(str(Path(directory) / "ckpt"))
    tf.train.Checkpoint(layer=fresh).read(path).assert_consumed()
  _assert_outputs_equal(_call_numpy(call, fresh, inputs), outputs, "restored from a checkpoint")

  if serializable:
    config = layer.get_config()
    copy = type(layer).from_config(config)
    call(copy, *inputs)
    copy.set_weights(layer.get_weights())
    assert copy.get_config() == config
    _assert_outputs_equal(_call_numpy(call, copy, inputs), outputs, "from_config copy")
  elif hasattr(layer, "get_config"):
    with pytest.raises(NotImplementedError):
      layer.get_config()

  if input_mask is not None:
    input_mask = np.asarray(input_mask)
    assert input_mask.ndim == 2 and input_mask.shape[1] > 1 and not input_mask.all(), "no padding to change"
    changed = tf.nest.map_structure(tf.convert_to_tensor, tuple(changed_under_mask))
    assert any(not np.array_equal(a, b) for a, b in zip(tf.nest.flatten(changed), tf.nest.flatten(inputs))), \
        "changed_under_mask changes nothing"
    for ours, theirs in zip(tf.nest.flatten(_call_numpy(call, layer, changed)), tf.nest.flatten(outputs)):
      np.testing.assert_array_equal(_real_part(ours, input_mask), _real_part(theirs, input_mask))
  return LayerRun(layer, outputs)
