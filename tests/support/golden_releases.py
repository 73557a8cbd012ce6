"""The seeded release checkpoints behind the HF golden files, and the error measure they are compared with.

A golden file records the config, seed and weight fingerprint of the checkpoint HF ran; the tests
rewrite that checkpoint from the seed (no torch needed) after checking the fingerprint, so changed
weights are told apart from a changed model.
"""

import json

import numpy as np
import tensorflow as tf

from hub_export import signatures as sig
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


def _pad_batch(rows, length: int, rng=None) -> dict:
  """The rows padded to `length`: [PAD] (id 0) and type 0, or with `rng` random ids and types under the zero
  mask (what sits in padding must not matter); any other input of the rows (masked-LM positions) stacked."""
  batch = {k: np.zeros((len(rows), length), np.int32) for k in sig.ENCODER_INPUT_KEYS}
  for r, (n, inputs, _) in enumerate(rows):
    if rng is not None:
      batch[sig.INPUT_WORD_IDS][r] = rng.integers(1, 100, length)
      batch[sig.INPUT_TYPE_IDS][r] = rng.integers(0, 2, length)
    for k in sig.ENCODER_INPUT_KEYS:
      batch[k][r, :n] = inputs[k]
  for k in rows[0][1].keys() - set(sig.ENCODER_INPUT_KEYS):
    batch[k] = np.stack([inputs[k] for _, inputs, _ in rows])
  return {k: tf.constant(v) for k, v in batch.items()}


def padded_batches(rows) -> list:
  """(rows, batch) for each padding case the golden tests check, from `rows` of (real length, that row's inputs
  cut to it, HF's outputs for it unpadded) with the longest row last."""
  rng = np.random.default_rng(0)
  full = rows[-1][0]
  batches = [(rows, _pad_batch(rows, full)),  # padded with [PAD] to the longest row
             (rows[::-1], _pad_batch(rows[::-1], full + 16, rng))]  # reordered, longer, junk under the mask
  return batches + [([row], _pad_batch([row], full + 5, rng)) for row in rows[:-1]]  # a batch of one: two streams
