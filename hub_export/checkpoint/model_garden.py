"""Model Garden's TF2 object checkpoint (`BertPretrainerV2.checkpoint_items`) by key.

Keys come from `weight_layout`, built from the block index (`layer_with_weights-K`, K = 1
+ block) and the list positions inside a block, never from how a listing happens to sort
them. Attention projections are stored per head ([in, heads, head_size], [heads,
head_size, out]); they restore into our 2-D kernels by reshaping, which keeps the values
in the same order.
"""

from hub_export.checkpoint.target import model_target
from hub_export.model import MobileBert
from hub_export.weight_layout import model_weights

SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
IGNORED_NAMES = ("save_counter" + SUFFIX, "_CHECKPOINTABLE_OBJECT_GRAPH")
MARKER_KEY = "masked_lm/embedding_table" + SUFFIX


def is_ignorable(name: str) -> bool:
  return name in IGNORED_NAMES or "/.OPTIMIZER_SLOT/" in name or name.startswith("optimizer/")


def model_garden_assignments(model: MobileBert) -> dict:
  """Maps each Model Garden key to the Target it restores."""
  return {f"{w.model_garden}{SUFFIX}": model_target(model, w, w.model_garden_shape if w.model_garden_shape != w.shape
                                                    else None)
          for w in model_weights(model.config) if w.model_garden is not None}
