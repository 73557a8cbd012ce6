"""Where one checkpoint value goes: a model variable, or one layer's slice of a stacked one."""

import dataclasses
import functools
from typing import Optional

import tensorflow as tf

from hub_export.weight_layout import Weight


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


def model_target(model, weight: Weight, stored_shape: Optional[tuple] = None) -> Target:
  """The model variable (or stacked block slice) that `weight` of `weight_layout` names."""
  if weight.part.block is not None:
    return Target(model.encoder.blocks.stacked[weight.ours], layer=weight.part.block, stored_shape=stored_shape)
  return Target(functools.reduce(getattr, weight.ours.split("."), model), stored_shape=stored_shape)
