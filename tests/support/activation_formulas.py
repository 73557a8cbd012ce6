"""Each activation `config.ACTIVATIONS` accepts, written out in numpy on one grid of inputs: the expected values
for the tf_keras model's table (tests/model/test_activations.py) and the Keras 3 model's on every backend
(tests/keras3/test_keras3.py, through the backend workers)."""

import numpy as np

X = np.linspace(-8.0, 8.0, 97).astype(np.float32)
# "gelu" is the tanh approximation of the original code.
EXPECTED = {
    "relu": np.maximum(X, 0.0),
    "relu6": np.clip(X, 0.0, 6.0),
    "gelu": 0.5 * X * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (X + 0.044715 * X ** 3))),
    "gelu_new": 0.5 * X * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (X + 0.044715 * X ** 3))),
    "tanh": np.tanh(X),
    "swish": X / (1.0 + np.exp(-X)),
    "linear": X,
}
