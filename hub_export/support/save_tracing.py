"""Tracing once for `tf.saved_model.save` rather than twice."""

import contextlib

import tensorflow as tf

try:  # not public API: without it (another TensorFlow), exports are the same, only slower
  from tensorflow.python.saved_model import save_context as _save_context
except ImportError:  # pragma: no cover
  _save_context = None


def tracing_for_save():
  """A context in which functions trace as `save` will look them up.

  TensorFlow keys its trace cache on whether a save is under way (the save options' variable
  policy), so `save` traces again every function traced before it: for a full-size encoder
  or the preprocessor's ragged packing, that is most of an export's time. Traces made, and
  in-memory calls run, inside this context are the ones `save` then finds. No-op where
  TensorFlow lacks the hook, or inside a save.
  """
  if _save_context is None or _save_context.in_save_context():
    return contextlib.nullcontext()
  return _save_context.save_context(tf.saved_model.SaveOptions())
