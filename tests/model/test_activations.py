"""Every `hidden_act` name computes what the original code meant by it, in the tf_keras model; the Keras 3
model's table is checked on each backend in tests/keras3/test_keras3.py, against the same formulas."""

import numpy as np
import pytest

from hub_export.config import ACTIVATIONS
from support.activation_formulas import EXPECTED, X


def test_the_table_covers_every_accepted_name():
  assert set(EXPECTED) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_tf_keras_model_activation(name):
  from hub_export.model.activations import get_activation

  np.testing.assert_allclose(get_activation(name)(X).numpy(), EXPECTED[name], rtol=1e-5, atol=1e-6)
