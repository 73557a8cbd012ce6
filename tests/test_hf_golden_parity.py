"""Seeded release-layout checkpoints agree with HF transformers' PyTorch MobileBERT.

The golden files were made by tools/make_hf_golden.py (HF, eager attention, eval mode)
from checkpoints the project's release writer lays down; here the same checkpoints are
rewritten from the same seed and restored, so the test runs without torch.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import GOLDEN_DIR
from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.release_writer import write_release_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
from hub_export.checkpoint.seeded_values import values_sha256
from hub_export.config import MobileBertConfig

GOLDEN = sorted(p.stem for p in GOLDEN_DIR.glob("*.npz"))


def test_golden_files_cover_opt_and_teacher_like_configs():
  configs = [json.loads(str(np.load(GOLDEN_DIR / f"{name}.npz")["config_json"])) for name in GOLDEN]
  assert any(c["normalization_type"] == "no_norm" and c["trigram_input"] and c["num_feedforward_networks"] == 4
             for c in configs)
  assert any(c["normalization_type"] == "layer_norm" and not c["trigram_input"] and c["num_feedforward_networks"] == 1
             for c in configs)


def _relative(ours, theirs):
  return np.linalg.norm(ours - theirs, axis=-1) / np.linalg.norm(theirs, axis=-1)


@pytest.mark.parametrize("name", GOLDEN)
def test_matches_hf_pytorch(tmp_path, name):
  golden = np.load(GOLDEN_DIR / f"{name}.npz")
  config = MobileBertConfig.from_dict(json.loads(str(golden["config_json"])))
  seed = int(golden["seed"])
  assert values_sha256(config, seed) == str(golden["values_sha256"]), "seeded values drifted from the golden run"
  write_release_checkpoint(tmp_path / "release", config, seed)
  model, _ = load_mobilebert(locate_checkpoint(tmp_path / "release"))
  inputs = {k: tf.constant(golden[k]) for k in ("input_word_ids", "input_mask", "input_type_ids", "masked_lm_positions")}
  outputs, logits = model.mlm_logits(inputs)
  assert _relative(outputs["sequence_output"].numpy(), golden["sequence_output"]).max() <= 1e-5
  assert _relative(outputs["pooled_output"].numpy(), golden["pooled_output"]).max() <= 1e-5
  assert np.abs(logits.numpy() - golden["mlm_logits"]).max() <= 1e-4
  for ours, theirs in zip(outputs["encoder_outputs"], golden["encoder_outputs"]):
    assert _relative(ours.numpy(), theirs).max() <= 1e-5
  # A batch of one takes the two-stream graph (BlockStack); each golden row alone must agree too.
  for row in range(len(golden["input_word_ids"])):
    alone = model.encoder({k: inputs[k][row:row + 1] for k in ("input_word_ids", "input_mask", "input_type_ids")})
    assert _relative(alone["sequence_output"].numpy()[0], golden["sequence_output"][row]).max() <= 1e-5
    assert _relative(alone["pooled_output"].numpy()[0], golden["pooled_output"][row]).max() <= 1e-5
