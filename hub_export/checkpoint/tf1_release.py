"""The original TF1 release layout: which release variable name feeds which model variable."""

from hub_export.checkpoint.target import model_target
from hub_export.model import MobileBert
from hub_export.weight_layout import model_weights


def tf1_assignments(model: MobileBert) -> dict:
  """Maps every release variable name to the Target it restores (same shape); a task model's head included."""
  return {w.tf1: model_target(model, w)
          for w in model_weights(model.config, order="tf1", head=model.task_head) if w.tf1 is not None}
