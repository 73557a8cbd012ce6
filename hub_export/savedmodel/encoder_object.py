"""The reusable TF-Hub encoder object: `__call__`, `.mlm`, variable lists, vocab asset, signature.

The object is a plain trackable container rather than a saved Keras model: only the
functions the TF-Hub API needs are traced (two `__call__` traces, two `.mlm` traces, one
serving signature), which keeps `saved_model.pb` small and loading fast.
"""

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.savedmodel import reproducible
from hub_export.savedmodel.input_contract import checked_encoder_inputs, checked_positions
from hub_export.model import MobileBert
from hub_export.support.save_tracing import tracing_for_save


def reusable_object(function, input_spec, variables, trainable_variables) -> tf.train.Checkpoint:
  """A trackable with the Reusable SavedModel API over `function(inputs, training)`."""
  obj = tf.train.Checkpoint()
  obj.__call__ = function
  # Traced with the input names `tf.saved_model.save` asks for again (the argument name, `_`, the key), so that
  # saving finds these traces instead of tracing the model once more (support/save_tracing.py).
  input_spec = {key: tf.TensorSpec(spec.shape, spec.dtype, name=f"inputs_{key}") for key, spec in input_spec.items()}
  for training in (False, True):
    function.get_concrete_function(input_spec, training)
  obj.variables = list(variables)
  obj.trainable_variables = list(trainable_variables)
  obj.regularization_losses = []
  return obj


def build_encoder_object(model: MobileBert, vocab_file: str, do_lower_case: bool) -> tf.train.Checkpoint:
  """Wraps a restored model into the object `tf.saved_model.save` writes as the encoder.

  `.mlm` and the serving signature call the encoder's own traced function, so the 24
  blocks are stored once per `training` value instead of once per entry point.
  """
  encoder, head = model.encoder, model.masked_lm

  @tf.function(autograph=False)
  def encode(inputs, training=False):
    return encoder(checked_encoder_inputs(inputs, model.config), training=training)

  @tf.function(autograph=False)
  def encode_and_predict(inputs, training=False):
    outputs = encode({key: inputs[key] for key in sig.ENCODER_INPUT_KEYS}, training=training)
    positions = checked_positions(inputs[sig.MASKED_LM_POSITIONS], tf.shape(inputs[sig.INPUT_WORD_IDS])[1])
    logits = head(outputs[sig.SEQUENCE_OUTPUT], positions)
    return {**outputs, sig.MLM_LOGITS: logits}

  @tf.function(input_signature=[sig.encoder_input_spec(named=True)], autograph=False)
  def serve(inputs):
    outputs = encode(inputs, training=False)
    return {key: outputs[key] for key in (sig.SEQUENCE_OUTPUT, sig.POOLED_OUTPUT, sig.DEFAULT_OUTPUT)}

  encoder_ids = {id(v) for v in encoder.variables}
  head_only = [v for v in head.variables if id(v) not in encoder_ids]
  head_trainable = [v for v in head.trainable_variables if id(v) not in encoder_ids]

  with tracing_for_save():
    root = reusable_object(encode, sig.encoder_input_spec(), encoder.variables, encoder.trainable_variables)
    root.mlm = reusable_object(encode_and_predict, sig.mlm_input_spec(),
                                list(encoder.variables) + head_only,
                                list(encoder.trainable_variables) + head_trainable)
    serve.get_concrete_function()
  root.vocab_file = tf.saved_model.Asset(vocab_file)
  root.do_lower_case = tf.Variable(do_lower_case, trainable=False, name="do_lower_case")
  root.serve = serve
  return root


def save_encoder(root: tf.train.Checkpoint, export_dir: str) -> None:
  reproducible.save(root, export_dir, signatures={"serving_default": root.serve})
