"""Rewrites a name-based checkpoint with a change, to build deliberately broken inputs."""

import tensorflow as tf


def rewrite_checkpoint(prefix: str, drop=(), add=None) -> None:
  """Rewrites PREFIX in place without the `drop` names and with the `add` {name: array} values."""
  reader = tf.train.load_checkpoint(prefix)
  values = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map() if name not in drop}
  values.update(add or {})
  names = sorted(values)
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                    tensors=[tf.constant(values[n]) for n in names])
