"""The transfer trainer's LAMB against hand computations: which variables get the trust ratio."""

import numpy as np
import tensorflow as tf

from hub_export.distillation.optimizer import Lamb

RATE = 0.01


def _steps(optimizer, gradients, scales, count):
  for _ in range(count):
    optimizer.apply([tf.constant(g) for g in gradients], tf.constant(RATE), scales)


def test_biases_and_norms_take_plain_adam_steps_kernels_the_trust_ratio():
  """A constant gradient: Adam's direction is its sign from the first step on. A zero-initialized
  bias must then move RATE a step (no trust ratio, as both published LAMBs); a kernel moves
  RATE times its own norm a step, in the direction (sign + weight decay)."""
  bias = tf.Variable(np.zeros(4, np.float32), name="bias")
  gamma = tf.Variable(np.ones(4, np.float32), name="gamma")
  kernel = tf.Variable(np.full((2, 3), 0.5, np.float32), name="kernel")
  gradients = [np.array([1.0, -2.0, 3.0, -4.0], np.float32), np.full(4, 0.5, np.float32),
               np.full((2, 3), 2.0, np.float32)]
  optimizer = Lamb([bias, gamma, kernel], [False] * 3, weight_decay=0.01, clip_norm=0.0)
  _steps(optimizer, gradients, [1.0, 1.0, 1.0], 3)
  np.testing.assert_allclose(bias.numpy(), -3 * RATE * np.sign(gradients[0]), rtol=1e-4)
  np.testing.assert_allclose(gamma.numpy(), 1.0 - 3 * RATE, rtol=1e-4)
  expected = np.full((2, 3), 0.5)
  for _ in range(3):
    direction = 1.0 + 0.01 * expected  # sign of the gradient plus decay
    expected = expected - RATE * np.linalg.norm(expected) / np.linalg.norm(direction) * direction
  np.testing.assert_allclose(kernel.numpy(), expected, rtol=1e-4)


def test_stacked_biases_keep_the_per_block_rate_without_a_trust_ratio():
  bias = tf.Variable(np.zeros((3, 2), np.float32), name="ffn_0.output.bias")
  optimizer = Lamb([bias], [True], clip_norm=0.0)
  _steps(optimizer, [np.ones((3, 2), np.float32)], [(0.0, 1.0, 3.0)], 2)
  np.testing.assert_allclose(bias.numpy(), -2 * RATE * np.array([[0.0] * 2, [1.0] * 2, [3.0] * 2]), rtol=1e-4)
