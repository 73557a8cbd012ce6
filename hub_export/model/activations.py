"""Activation functions by their `bert_config.json` names."""

import tensorflow as tf


def _gelu_tanh(x):
  return tf.nn.gelu(x, approximate=True)


# In a TF1 `bert_config.json`, "gelu" means the tanh approximation the original BERT and
# MobileBERT code trained with (Model Garden's `gelu` is the same); HF transformers calls
# that "gelu_new" and accepts it here too.
_ACTIVATIONS = {
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "gelu": _gelu_tanh,
    "gelu_new": _gelu_tanh,
    "tanh": tf.math.tanh,
    "swish": tf.nn.silu,
    "linear": tf.identity,
}


def get_activation(name: str):
  return _ACTIVATIONS[name]
