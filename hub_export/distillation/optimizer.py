"""LAMB with a learning-rate multiplier per variable, or per block for stacked block weights.

Our blocks keep each weight stacked over layers in one [layers, ...] variable, so a Keras
optimizer could neither scale the rate per block (the schedules freeze or slow blocks) nor
take LAMB's trust ratio per block as the original's one-variable-per-block graph does.
Here the update of a stacked variable is computed per block slice. LayerNorm/NoNorm weights
and biases get neither weight decay nor the trust ratio (a plain Adam step): both published
LAMBs (the original's `lamb_optimizer.py`, Model Garden's `lamb.py`) exclude from layer
adaptation what they exclude from weight decay. With the ratio, a zero-initialized bias
could only grow geometrically from its first step (each update is `rate` times its own
norm), so the masked-LM output bias and every other bias stayed near zero for hundreds of
steps. Gradients are clipped to a global norm first.
Works under any `tf.distribute` strategy: call `apply` in a replica context with the
already summed gradients.
"""

import tensorflow as tf

from hub_export.distillation.student import leaf_name

NO_DECAY_LEAVES = ("gamma", "beta", "bias", "output_bias")


class Lamb(tf.Module):
  """`variables` paired with `stacked` flags (True for [layers, ...] block variables)."""

  def __init__(self, variables, stacked, weight_decay: float = 0.01, beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-6, clip_norm: float = 1.0):
    super().__init__(name="lamb")
    self.variables_ = list(variables)
    self.stacked = list(stacked)
    self.weight_decay, self.beta_1, self.beta_2, self.epsilon, self.clip_norm = (
        weight_decay, beta_1, beta_2, epsilon, clip_norm)
    self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
    self.m = [tf.Variable(tf.zeros(v.shape), trainable=False, name="m") for v in self.variables_]
    self.v = [tf.Variable(tf.zeros(v.shape), trainable=False, name="v") for v in self.variables_]
    # Weight decay and the trust ratio skip the same variables (norm weights, biases), as published.
    self.adaptive = [leaf_name(v) not in NO_DECAY_LEAVES for v in self.variables_]

  def reset(self):
    """A fresh optimizer (each stage starts with one)."""
    self.iterations.assign(0)
    for slot in self.m + self.v:
      slot.assign(tf.zeros_like(slot))

  def apply(self, gradients, learning_rate, rate_scales):
    """One step. `rate_scales[i]` is a float, or for a stacked variable a tuple of one per block."""
    gradients = [tf.zeros_like(v) if g is None else g for g, v in zip(gradients, self.variables_)]
    if self.clip_norm:
      gradients, _ = tf.clip_by_global_norm(gradients, self.clip_norm)
    tf.distribute.get_replica_context().merge_call(self._update, args=(gradients, learning_rate, rate_scales))

  def _update(self, strategy, gradients, learning_rate, rate_scales):
    step = tf.cast(self.iterations + 1, tf.float32)
    correction_1 = 1.0 - tf.pow(self.beta_1, step)
    correction_2 = 1.0 - tf.pow(self.beta_2, step)

    def update(variable, gradient, m, v, rate, adaptive, stacked, scale):
      m.assign(self.beta_1 * m + (1.0 - self.beta_1) * gradient)
      v.assign(self.beta_2 * v + (1.0 - self.beta_2) * tf.square(gradient))
      step_direction = (m / correction_1) / (tf.sqrt(v / correction_2) + self.epsilon)
      if adaptive and self.weight_decay:
        step_direction += self.weight_decay * variable
      trust = tf.constant(scale, tf.float32)
      if adaptive:
        if stacked:  # one trust ratio per block slice
          weight_norm = tf.norm(tf.reshape(variable, [variable.shape[0], -1]), axis=-1)
          update_norm = tf.norm(tf.reshape(step_direction, [variable.shape[0], -1]), axis=-1)
        else:
          weight_norm, update_norm = tf.norm(variable), tf.norm(step_direction)
        trust *= tf.where((weight_norm > 0) & (update_norm > 0), weight_norm / tf.maximum(update_norm, 1e-30), 1.0)
      if stacked:
        trust = tf.reshape(trust, [-1] + [1] * (len(variable.shape) - 1))
      return variable.assign_sub(rate * trust * step_direction)

    for i, variable in enumerate(self.variables_):
      strategy.extended.update(variable, update, args=(gradients[i], self.m[i], self.v[i], learning_rate, self.adaptive[i],
                                                       self.stacked[i], rate_scales[i]))
    strategy.extended.update(self.iterations, lambda it: it.assign_add(1), args=())
