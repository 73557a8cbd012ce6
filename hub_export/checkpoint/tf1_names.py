"""The original release's TF1 variable names and shapes, derived from a MobileBertConfig.

The release checkpoints are name-based: every variable is known by the scope path the
TF1 graph (google-research/mobilebert `modeling.py` and `run_pretraining.py`) created it
under. `tf1_variable_shapes` gives that table for any config (from `weight_layout`), in
the order the graph creates the variables, so a reader can account for every name and a
writer can produce the exact layout. Kernels are 2-D `[in, out]`, as stored.

Besides the model's own variables a release holds names a reader must recognise but not
load: the training step and optimizer slots (ignorable), and the next-sentence head
(present, unused by the encoder and the MLM head). A fine-tuned checkpoint of the original
code holds the encoder and its task head (`cls/squad/...` or `output_weights`/`output_bias`).
"""

from typing import Optional

from hub_export.config import MobileBertConfig
from hub_export.weight_layout import TaskHead, model_weights

IGNORABLE_NAMES = ("global_step",)
IGNORABLE_SUFFIXES = ("/adam_m", "/adam_v")


def is_ignorable(name: str) -> bool:
  """True for the training bookkeeping a release may carry: the step counter and Adam slots."""
  return name in IGNORABLE_NAMES or name.endswith(IGNORABLE_SUFFIXES)


def next_sentence_head_shapes(config: MobileBertConfig) -> dict[str, tuple]:
  """The pre-training next-sentence head: present in the release, used by neither export."""
  return {
      "cls/seq_relationship/output_weights": (2, config.hidden_size),
      "cls/seq_relationship/output_bias": (2,),
  }


def tf1_variable_shapes(config: MobileBertConfig, task_head: Optional[TaskHead] = None) -> dict[str, tuple]:
  """Every model variable of a release checkpoint for `config`, name -> shape, in creation order.

  Covers the encoder (`bert/...`) and the masked-LM head (`cls/predictions/...`), or given
  `task_head` that head instead, as the fine-tuning code names it; the next-sentence head and
  the ignorable names are separate (see the module docstring).
  """
  return {w.tf1: w.shape for w in model_weights(config, order="tf1", head=task_head) if w.tf1 is not None}


def unloaded_shapes(config: MobileBertConfig, task_head: Optional[TaskHead] = None) -> dict[str, tuple]:
  """Known names the model does not load: the next-sentence head, and for a task model the MLM head too."""
  loaded = tf1_variable_shapes(config, task_head)
  pretraining = {**tf1_variable_shapes(config), **next_sentence_head_shapes(config)}
  return {name: shape for name, shape in pretraining.items() if name not in loaded}
