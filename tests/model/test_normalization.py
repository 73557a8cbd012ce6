"""NoNorm and LayerNorm, the layers `make_norm` picks, against their formulas written in numpy."""

import numpy as np
import tensorflow as tf
import tf_keras

from hub_export.model import functional as F
from hub_export.model.normalization import NoNorm, make_norm
from support.layer_test_case import numpy_layer_norm, run_layer_test

X = np.random.default_rng(0).normal(1.0, 3.0, [2, 3, 8]).astype(np.float32)


def test_no_norm_is_an_elementwise_affine_map():
  layer, out = run_layer_test(lambda: make_norm("no_norm", "norm"), (X,), (2, 3, 8), expected_num_variables=2,
                              serializable=True)
  assert isinstance(layer, NoNorm)
  np.testing.assert_allclose(out, X * layer.gamma.numpy() + layer.beta.numpy(), rtol=1e-6, atol=1e-6)


def test_layer_norm_normalizes_each_vector():
  layer, out = run_layer_test(lambda: make_norm("layer_norm", "norm"), (X,), (2, 3, 8), expected_num_variables=2,
                              serializable=True)
  assert isinstance(layer, tf_keras.layers.LayerNormalization)
  np.testing.assert_allclose(out, numpy_layer_norm(X, layer.gamma.numpy(), layer.beta.numpy()), rtol=1e-5, atol=1e-5)


def test_the_blocks_layer_norm_is_the_formula():
  """The blocks normalize with `functional.layer_norm` on their stacked weights, not with the layer."""
  rng = np.random.default_rng(1)
  gamma, beta = (rng.normal(0.0, 1.0, [8]).astype(np.float32) for _ in range(2))
  got = F.normalize("layer_norm", tf.constant(X), tf.constant(gamma), tf.constant(beta)).numpy()
  np.testing.assert_allclose(got, numpy_layer_norm(X, gamma, beta), rtol=1e-5, atol=1e-5)
