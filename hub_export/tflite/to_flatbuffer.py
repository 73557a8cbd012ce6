"""TF function -> .tflite flatbuffer bytes, float or quantized, with converter failures made plain.

The converted function has a fixed input signature: batch 1 and one sequence length, the
TF-Hub encoder input names, and the outputs `sequence_output` and `pooled_output`. On
device an interpreter plans its memory for static shapes; apps pad to the length.
"""

import re

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.model.functional import FLOAT_SCORES_SCOPE
from hub_export.support.errors import HubExportError, first_line
from hub_export.tflite import check_quantize


def serving_function(encode, seq_length: int, description: str, output_keys=sig.TFLITE_OUTPUT_KEYS):
  """Traces `encode` at [1, seq_length]; returns the concrete function the converter reads."""

  @tf.function(input_signature=[sig.fixed_encoder_input_spec(seq_length)], autograph=False)
  def serve(inputs):
    outputs = encode(inputs)
    return {key: outputs[key] for key in output_keys}

  try:
    return serve.get_concrete_function()
  except (ValueError, TypeError, KeyError, tf.errors.OpError) as e:
    raise HubExportError(f"{description} cannot be traced at seq_length {seq_length}: {first_line(e)}") from None


# The ops an int8 model keeps in float32, between a DEQUANTIZE and a QUANTIZE: attention's
# two matmuls of activations and its softmax. LiteRT runs BATCH_MATMUL in int8 on its
# reference kernel and SOFTMAX in int8 outside XNNPACK; in float XNNPACK takes both, and the
# whole model runs 4-5x faster (BUILD_NOTES, "Fast int8"). The score arithmetic between
# them (scaling, padding bias) stays float too, picked by name: `FLOAT_SCORES_SCOPE`.
FLOAT_OPS_IN_INT8 = ("BATCH_MATMUL", "SOFTMAX")
# Layer norms (configs with `layer_norm`: a teacher, or a student trained here; the release's NoNorm has none) stay
# float as well: LiteRT runs int8 MEAN, SQUARED_DIFFERENCE and RSQRT outside XNNPACK, and such a model's int8 file
# ran 4x slower than its dynamic-range one. They are picked by the scopes `tf.nn.moments` and
# `tf.nn.batch_normalization` name their ops, so task SavedModels traced by any version of this code match.
LAYER_NORM_SCOPES = ("moments", "batchnorm")
FLOAT_SCOPES_IN_INT8 = (FLOAT_SCORES_SCOPE, *LAYER_NORM_SCOPES)


def convert(concrete_function, trackable, quantize: str, representative_inputs=None, custom_ops=False,
            per_tensor_dense=False) -> bytes:
  """Runs the TFLite converter.

  `dynamic` stores weights as int8 and keeps activations float (no calibration).
  `float16` stores weights as float16; LiteRT's CPU kernels widen them to float32 once, at load.
  `int8` quantizes weights and activations to int8 with ranges calibrated on
  `representative_inputs` (a list of input dicts): every op is an int8 builtin except
  `FLOAT_OPS_IN_INT8` and the ops under `FLOAT_SCOPES_IN_INT8`. Inputs stay int32 and
  outputs float32 so every variant has the same interface. `custom_ops` keeps ops without a builtin kernel as custom ops
  (TensorFlow Text's, for a model that takes text) instead of failing. `per_tensor_dense` quantizes
  each dense layer's weights with one scale, not one per output channel: `dynamic` then needs
  FULLY_CONNECTED version 9, not 12, which older runtimes (the Task Library's) lack.
  """
  check_quantize(quantize)
  converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete_function], trackable)
  if quantize != "none":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  if quantize == "float16":
    converter.target_spec.supported_types = [tf.float16]
  if quantize == "int8":
    if not representative_inputs:
      raise HubExportError("int8 quantization needs calibration inputs, got none")
    converter.representative_dataset = lambda: iter(representative_inputs)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
  converter.allow_custom_ops = custom_ops
  # pylint: disable-next=protected-access
  converter._experimental_disable_per_channel_quantization_for_dense_layers = per_tensor_dense
  try:
    flatbuffer = converter.convert() if quantize != "int8" else _quantize_except(converter, FLOAT_OPS_IN_INT8)
  except Exception as e:  # the converter is a black box: any failure of it is a clear error for us
    raise HubExportError(f"the TFLite converter failed (--quantize {quantize}): {first_line(e)}") from e
  if quantize == "int8":
    left_in_float = float_ops(flatbuffer, except_scopes=FLOAT_SCOPES_IN_INT8) - set(FLOAT_OPS_IN_INT8)
    if left_in_float:
      raise HubExportError(f"int8 quantization left {', '.join(sorted(left_in_float))} in float32; the model has an "
                           f"op the int8 quantizer cannot take (only {', '.join(FLOAT_OPS_IN_INT8)} may stay float)")
  return flatbuffer


def _quantize_except(converter, float_ops) -> bytes:
  """Calibrates, then quantizes every op to int8 except `float_ops`.

  This is the selective quantization of TFLite's quantization debugger
  (`QuantizationDebugOptions(denylisted_ops=...)`), without the debugger's instrumented
  model: the converter stops after calibration and the MLIR quantizer does the rest.
  """
  from tensorflow.lite.python import convert as lite_convert

  converter._experimental_calibrate_only = True  # pylint: disable=protected-access
  calibrated = converter.convert()
  named_float = [name for _, name, _ in _ops(calibrated) if _in_scope(name, FLOAT_SCOPES_IN_INT8)]
  return lite_convert.mlir_quantize(calibrated, denylisted_ops=list(float_ops), denylisted_nodes=named_float)


def float_ops(flatbuffer: bytes, except_scopes: tuple = ()) -> set:
  """The builtin names of the ops in a .tflite model that read a float32 tensor, QUANTIZE
  and the ops named under `except_scopes` aside."""
  return {kind for kind, name, reads_float in _ops(flatbuffer)
          if reads_float and kind != "QUANTIZE" and not _in_scope(name, except_scopes)}


def _in_scope(name: str, scopes: tuple) -> bool:
  """Whether a tensor named by the converter (TensorFlow op names, `;`-joined when ops were fused) is under one
  of `scopes`, or under a scope TensorFlow made unique from it (`moments_3` for the fourth `moments`)."""
  folders = {re.sub(r"_\d+$", "", folder) for part in name.split(";") for folder in part.split("/")[:-1]}
  return not folders.isdisjoint(scopes)


def _ops(flatbuffer: bytes):
  """(builtin name, first output's tensor name, reads a float32 tensor) for each op of a .tflite model."""
  from tensorflow.lite.python import schema_py_generated as schema
  from tensorflow.lite.tools import flatbuffer_utils

  model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
  names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
  for subgraph in model.subgraphs:
    for op in subgraph.operators:
      opcode = model.operatorCodes[op.opcodeIndex]
      kind = names.get(max(opcode.builtinCode, opcode.deprecatedBuiltinCode), "CUSTOM")
      output = subgraph.tensors[op.outputs[0]].name.decode("utf-8") if len(op.outputs) else ""
      yield kind, output, any(i >= 0 and subgraph.tensors[i].type == schema.TensorType.FLOAT32 for i in op.inputs)
