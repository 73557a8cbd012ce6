"""Activation functions by their `bert_config.json` names."""

import tensorflow as tf


def _gelu_exact(x):
  return tf.nn.gelu(x, approximate=False)


def _gelu_tanh(x):
  return tf.nn.gelu(x, approximate=True)


# "gelu" is the exact erf form, as in Model Garden and HF transformers; "gelu_new" the tanh
# approximation of the original BERT code.
_ACTIVATIONS = {
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "gelu": _gelu_exact,
    "gelu_new": _gelu_tanh,
    "tanh": tf.math.tanh,
    "swish": tf.nn.silu,
    "linear": tf.identity,
}


def get_activation(name: str):
  return _ACTIVATIONS[name]
