"""Seeded release-layout checkpoints agree with HF transformers' PyTorch MobileBERT.

The golden files were made by tools/make_hf_golden.py (HF, eager attention, eval mode)
from checkpoints the project's release writer lays down; here the same checkpoints are
rewritten from the same seed and restored, so the test runs without torch.
"""

import functools
import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import GOLDEN_DIR
from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
from support.golden_releases import padded_batches, relative_error, rewrite_golden_release

GOLDEN = sorted(p.stem for p in GOLDEN_DIR.glob("*.npz"))


def test_golden_files_cover_opt_and_teacher_like_configs():
  configs = [json.loads(str(np.load(GOLDEN_DIR / f"{name}.npz")["config_json"])) for name in GOLDEN]
  assert any(c["normalization_type"] == "no_norm" and c["trigram_input"] and c["num_feedforward_networks"] == 4
             for c in configs)
  assert any(c["normalization_type"] == "layer_norm" and not c["trigram_input"] and c["num_feedforward_networks"] == 1
             for c in configs)


@pytest.fixture(scope="module")
def restored(tmp_path_factory):
  """name -> (golden arrays, model restored from the seeded release checkpoint), built on first use."""

  @functools.cache
  def get(name):
    golden = np.load(GOLDEN_DIR / f"{name}.npz")
    release = rewrite_golden_release(golden, tmp_path_factory.mktemp(name) / "release")
    return golden, load_mobilebert(locate_checkpoint(release))[0]

  return get


@pytest.mark.parametrize("name", GOLDEN)
def test_matches_hf_pytorch(restored, name):
  golden, model = restored(name)
  inputs = {k: tf.constant(golden[k]) for k in ("input_word_ids", "input_mask", "input_type_ids", "masked_lm_positions")}
  outputs, logits = model.mlm_logits(inputs)
  assert relative_error(outputs["sequence_output"].numpy(), golden["sequence_output"]).max() <= 1e-5
  assert relative_error(outputs["pooled_output"].numpy(), golden["pooled_output"]).max() <= 1e-5
  assert np.abs(logits.numpy() - golden["mlm_logits"]).max() <= 1e-4
  for ours, theirs in zip(outputs["encoder_outputs"], golden["encoder_outputs"]):
    assert relative_error(ours.numpy(), theirs).max() <= 1e-5
  # A batch of one takes the two-stream graph (BlockStack); each golden row alone must agree too.
  for row in range(len(golden["input_word_ids"])):
    alone = model.encoder({k: inputs[k][row:row + 1] for k in ("input_word_ids", "input_mask", "input_type_ids")})
    assert relative_error(alone["sequence_output"].numpy()[0], golden["sequence_output"][row]).max() <= 1e-5
    assert relative_error(alone["pooled_output"].numpy()[0], golden["pooled_output"][row]).max() <= 1e-5


_KEYS = ("input_word_ids", "input_mask", "input_type_ids", "masked_lm_positions")


def _rows(golden) -> list:
  """(length, inputs of one row cut to its real tokens, HF's outputs for it run unpadded):
  the short rows, and the first full-length row."""
  rows = []
  for r, n in enumerate(golden["short_length"]):
    inputs = {k: golden[f"short_{k}"][r, :n] for k in _KEYS[:3]}
    inputs["masked_lm_positions"] = golden["short_masked_lm_positions"][r]
    rows.append((int(n), inputs, {"sequence_output": golden["short_sequence_output"][r, :n],
                                  "pooled_output": golden["short_pooled_output"][r],
                                  "mlm_logits": golden["short_mlm_logits"][r]}))
  n = golden["input_word_ids"].shape[1]
  positions = golden["masked_lm_positions"][0, :golden["short_masked_lm_positions"].shape[1]]
  rows.append((n, {**{k: golden[k][0] for k in _KEYS[:3]}, "masked_lm_positions": positions},
               {"sequence_output": golden["sequence_output"][0], "pooled_output": golden["pooled_output"][0],
                "mlm_logits": golden["mlm_logits"][0, :len(positions)]}))
  return rows


@pytest.mark.parametrize("name", GOLDEN)
def test_padded_batches_match_hf_on_the_rows_unpadded(restored, name):
  """Rows of different real lengths, padded into batches, give at their real tokens what HF
  gives for each row run alone without padding: the independent oracle for padding."""
  golden, model = restored(name)
  rows = _rows(golden)
  assert len({n for n, _, _ in rows}) == len(rows) >= 4
  for batch_rows, batch in padded_batches(rows):
    outputs, logits = model.mlm_logits(batch)
    for r, (n, _, hf) in enumerate(batch_rows):
      assert relative_error(outputs["sequence_output"].numpy()[r, :n], hf["sequence_output"]).max() <= 1e-5, (r, n)
      assert relative_error(outputs["pooled_output"].numpy()[r], hf["pooled_output"]) <= 1e-5, (r, n)
      assert np.abs(logits.numpy()[r] - hf["mlm_logits"]).max() <= 1e-4, (r, n)
