"""The seeded release checkpoints behind the HF golden files, and the error measure they are compared with.

A golden file records the config, seed and weight fingerprint of the checkpoint HF ran; the tests
rewrite that checkpoint from the seed (no torch needed) after checking the fingerprint, so changed
weights are told apart from a changed model.
"""

import json

import numpy as np

from hub_export.checkpoint.tf1_release import values_sha256, write_release_checkpoint
from hub_export.config import MobileBertConfig


def relative_error(ours, theirs):
  """|ours - theirs| / |theirs| over the last axis: per token, or per row of logits."""
  return np.linalg.norm(ours - theirs, axis=-1) / np.linalg.norm(theirs, axis=-1)


def rewrite_golden_release(golden, directory, task_head=None):
  """The release checkpoint `golden` (an npz) was made from, rewritten into `directory` from its seed."""
  config = MobileBertConfig.from_dict(json.loads(str(golden["config_json"])))
  seed = int(golden["seed"])
  assert values_sha256(config, seed, task_head=task_head) == str(golden["values_sha256"]), \
      "seeded values drifted from the golden run"
  return write_release_checkpoint(directory, config, seed, task_head=task_head)
