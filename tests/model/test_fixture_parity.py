"""Both released checkpoint layouts of the shared tiny model reproduce two independent implementations."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import shared_path
from hub_export.checkpoint.layout import Layout
from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.restore import load_mobilebert

LAYOUTS = {"release_tf1": Layout.TF1_RELEASE, "model_garden_tf2": Layout.MODEL_GARDEN}


@pytest.fixture(scope="module")
def restored():
  tiny = shared_path("fixtures/mobilebert_tiny")
  models = {}
  for folder, layout in LAYOUTS.items():
    model, report = load_mobilebert(locate_checkpoint(tiny / folder), tiny / "release_tf1" / "bert_config.json")
    assert report.layout is layout
    models[folder] = model
  return tiny, models


def _per_token_relative(ours, theirs, mask):
  err = np.linalg.norm(ours - theirs, axis=-1) / np.linalg.norm(theirs, axis=-1)
  return float(err[mask].max())


def test_both_layouts_restore_identical_weights(restored):
  _, models = restored
  a, b = models["release_tf1"], models["model_garden_tf2"]
  for va, vb in zip(a.encoder.weights + a.masked_lm.weights, b.encoder.weights + b.masked_lm.weights):
    np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=va.name)


@pytest.mark.parametrize("folder", sorted(LAYOUTS))
@pytest.mark.parametrize("implementation", ["hf_pytorch", "model_garden"])
def test_matches_golden_outputs(restored, folder, implementation):
  tiny, models = restored
  inputs = dict(np.load(tiny / "golden" / "inputs_unpadded.npz"))
  golden = np.load(tiny / "golden" / f"{implementation}_outputs_unpadded.npz")
  outputs, logits = models[folder].mlm_logits({k: tf.constant(v) for k, v in inputs.items()})
  real = inputs["input_mask"].astype(bool)
  assert _per_token_relative(outputs["sequence_output"].numpy(), golden["sequence_output"], real) <= 1e-5
  pooled_err = _per_token_relative(outputs["pooled_output"].numpy(), golden["pooled_output"], slice(None))
  assert pooled_err <= 1e-5
  assert np.abs(logits.numpy() - golden["mlm_logits"]).max() <= 1e-4


def test_report_names_the_unused_next_sentence_head(restored):
  tiny, _ = restored
  _, report = load_mobilebert(locate_checkpoint(tiny / "release_tf1"))
  assert report.unused == ["cls/seq_relationship/output_weights", "cls/seq_relationship/output_bias"]
  assert report.ignored == 1  # global_step


def test_padding_never_changes_real_tokens(restored):
  """Each padded row gives, at its real tokens, exactly what the row alone gives.

  The reference export does not: with trigram input its last real token sees the [PAD]
  embedding as its right neighbour (about 1e-2 here); we treat padding as absent.
  """
  tiny, models = restored
  padded = dict(np.load(tiny / "golden" / "inputs_padded.npz"))
  model = models["release_tf1"]
  keys = ("input_word_ids", "input_mask", "input_type_ids")
  full = model.encoder({k: tf.constant(padded[k]) for k in keys})["sequence_output"].numpy()
  for row in range(len(padded["input_mask"])):
    n = int(padded["input_mask"][row].sum())
    alone = model.encoder({k: tf.constant(padded[k][row:row + 1, :n]) for k in keys})["sequence_output"].numpy()
    assert np.abs(alone[0] - full[row, :n]).max() <= 1e-5
