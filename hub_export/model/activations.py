"""Activation functions by their `bert_config.json` names (their meaning: `config.ACTIVATIONS`)."""

import tensorflow as tf

from hub_export.config import ACTIVATIONS

_FUNCTIONS = {
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "gelu_tanh": lambda x: tf.nn.gelu(x, approximate=True),
    "tanh": tf.math.tanh,
    "silu": tf.nn.silu,
    "linear": tf.identity,
}


def get_activation(name: str):
  return _FUNCTIONS[ACTIVATIONS[name]]
