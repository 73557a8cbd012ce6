"""Where one checkpoint value goes: a model variable, or one layer's slice of a stacked one."""

import dataclasses
from typing import Optional

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Target:
  variable: tf.Variable
  layer: Optional[int] = None  # index into a [num_layers, ...] block variable
  stored_shape: Optional[tuple] = None  # the checkpoint's shape when it differs from ours

  @property
  def shape(self) -> tuple:
    """The shape of the value this target receives (one layer's slice for stacked ones)."""
    full = tuple(self.variable.shape)
    return full[1:] if self.layer is not None else full

  @property
  def expected_shape(self) -> tuple:
    return self.stored_shape or self.shape


def plain(variable) -> Target:
  return Target(variable)
