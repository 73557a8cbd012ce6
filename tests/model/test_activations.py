"""Every `hidden_act` name computes what the original code meant by it, in each framework's model."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from hub_export.config import ACTIVATIONS

X = np.linspace(-8.0, 8.0, 97).astype(np.float32)
# The formulas, written out in numpy: "gelu" is the tanh approximation of the original code.
EXPECTED = {
    "relu": np.maximum(X, 0.0),
    "relu6": np.clip(X, 0.0, 6.0),
    "gelu": 0.5 * X * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (X + 0.044715 * X ** 3))),
    "gelu_new": 0.5 * X * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (X + 0.044715 * X ** 3))),
    "tanh": np.tanh(X),
    "swish": X / (1.0 + np.exp(-X)),
    "linear": X,
}


def test_the_table_covers_every_accepted_name():
  assert set(EXPECTED) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_tf_keras_model_activation(name):
  from hub_export.model.activations import get_activation

  np.testing.assert_allclose(get_activation(name)(X).numpy(), EXPECTED[name], rtol=1e-5, atol=1e-6)


def test_keras3_model_activation_on_every_backend():
  """The Keras 3 model's table, on TensorFlow, JAX and PyTorch (each fixed at import: one process each)."""
  script = ("import sys, numpy as np, keras; from hub_export.keras3.layers import get_activation; "
            "x = np.linspace(-8.0, 8.0, 97).astype(np.float32); "
            "np.save(sys.stdout.buffer, np.stack([keras.ops.convert_to_numpy(get_activation(n)(x)) for n in sys.argv[1:]]))")
  names = sorted(ACTIVATIONS)
  for backend in ("tensorflow", "jax", "torch"):
    result = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, timeout=300,
                            env={**os.environ, "KERAS_BACKEND": backend})
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    got = np.load(io.BytesIO(result.stdout))
    for name, row in zip(names, got):
      np.testing.assert_allclose(row, EXPECTED[name], rtol=1e-5, atol=1e-6, err_msg=f"{backend}: {name}")
