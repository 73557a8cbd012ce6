"""Model Garden's TF2 object checkpoint (`BertPretrainerV2.checkpoint_items`): the reader's map by key, and a
seeded writer.

Keys come from `weight_layout`, built from the block index (`layer_with_weights-K`, K = 1
+ block) and the list positions inside a block, never from how a listing happens to sort
them. Attention projections are stored per head ([in, heads, head_size], [heads,
head_size, out]); they restore into our 2-D kernels by reshaping, which keeps the values
in the same order.

The writer's weights are those `tf1_release` writes for the same (config, seed), drawn
under their TF1 names, each given its Model Garden object path and stored shape. The objects
are plain trackables named like Model Garden's layers (`encoder/layer_with_weights-K/...`,
`masked_lm/...`), saved with `tf.train.Checkpoint.save` as Model Garden saves, so the keys,
shapes, `save_counter` and the `checkpoint` state file are those of its own files; the
object graph carries no Keras metadata, which no reader of keys looks at. Tests use it to
exercise the Model Garden reader on any config without Model Garden installed.
"""

import json
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from hub_export.checkpoint.locate import CHECKPOINT_FILES
from hub_export.checkpoint.target import model_target
from hub_export.checkpoint.tf1_release import release_values
from hub_export.config import MobileBertConfig
from hub_export.model import MobileBert
from hub_export.support.atomic import atomic_directory
from hub_export.support.filenames import CONFIG_NAME
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


CHECKPOINT_NAME = "mobilebert"  # `save` adds the counter: mobilebert-1.index, mobilebert-1.data-*


def _local_name(segment: str) -> str:
  """Undoes the checkpoint key escaping of one object name ('.S' is '/', '..' is '.')."""
  return re.sub(r"\.([.S])", lambda m: "." if m.group(1) == "." else "/", segment)


def seeded_model_garden_values(config: MobileBertConfig, seed: int) -> dict:
  """Model Garden object path -> float32 array, the release's seeded values reshaped."""
  tf1 = dict(release_values(config, seed, with_next_sentence_head=False))
  return {w.model_garden: (tf1[w.tf1] if w.tf1 is not None else np.zeros(w.shape, np.float32))
          .reshape(w.model_garden_shape)
          for w in model_weights(config) if w.model_garden is not None}


def _object_tree(values: dict) -> dict:
  """Nested trackables holding `values` as variables at their object paths; one per root name."""
  roots = {}
  for path, value in values.items():
    root, *parents, leaf = (_local_name(segment) for segment in path.split("/"))
    node = roots.setdefault(root, tf.Module(name=None))
    for name in parents:
      if not hasattr(node, name):
        setattr(node, name, tf.Module(name=None))
      node = getattr(node, name)
    setattr(node, leaf, tf.Variable(value, trainable=False))
  return roots


def write_model_garden_checkpoint(out_dir, config: MobileBertConfig, seed: int, *, overwrite: bool = False) -> Path:
  """Writes `out_dir` (atomically): the checkpoint, its state file and `bert_config.json`; returns the path."""
  with atomic_directory(out_dir, overwrite=overwrite, ours=CHECKPOINT_FILES) as tmp:
    tf.train.Checkpoint(**_object_tree(seeded_model_garden_values(config, seed))).save(str(tmp / CHECKPOINT_NAME))
    (tmp / CONFIG_NAME).write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
  return Path(out_dir)
