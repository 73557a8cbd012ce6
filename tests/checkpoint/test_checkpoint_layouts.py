"""Both published layouts, written by the project itself, restore the same weights, and every
reader accounts for every model variable exactly once.

The Model Garden checkpoints here come from `model_garden`'s writer (no ../shared needed);
the shared fixture, made by Model Garden's own converter, is the extra check that the
written key layout is Model Garden's.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import GOLDEN_DIR, shared_path
from hub_export.checkpoint import model_garden, native, tf1_release
from hub_export.checkpoint.layout import Layout
from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.model_garden import write_model_garden_checkpoint
from hub_export.checkpoint.restore import load_mobilebert, restore_weights
from hub_export.checkpoint.tf1_release import release_values, write_release_checkpoint
from hub_export.config import MobileBertConfig
from hub_export.model import build_mobilebert
from hub_export.support.errors import HubExportError

GOLDEN = sorted(p.stem for p in GOLDEN_DIR.glob("*.npz"))


def _golden_case(name):
  golden = np.load(GOLDEN_DIR / f"{name}.npz")
  return golden, MobileBertConfig.from_dict(json.loads(str(golden["config_json"]))), int(golden["seed"])


@pytest.fixture(scope="module")
def written(tmp_path_factory):
  """name -> {layout: (checkpoint dir, restored model, report)}, both layouts from one seed."""
  cache = {}

  def get(name):
    if name not in cache:
      _, config, seed = _golden_case(name)
      work = tmp_path_factory.mktemp(name)
      dirs = {Layout.TF1_RELEASE: write_release_checkpoint(work / "tf1", config, seed),
              Layout.MODEL_GARDEN: write_model_garden_checkpoint(work / "model_garden", config, seed)}
      cache[name] = {layout: (d, *load_mobilebert(locate_checkpoint(d))) for layout, d in dirs.items()}
    return cache[name]

  return get


def test_written_model_garden_checkpoint_has_model_gardens_own_keys(tmp_path):
  """Extra check against Model Garden's own converter output: same keys, same shapes."""
  tiny = shared_path("fixtures/mobilebert_tiny")
  config = MobileBertConfig.from_json_file(tiny / "release_tf1" / "bert_config.json")
  ours = write_model_garden_checkpoint(tmp_path / "mg", config, seed=0)
  theirs = dict(tf.train.list_variables(str(tiny / "model_garden_tf2" / "mobilebert-1")))
  assert dict(tf.train.list_variables(str(ours / "mobilebert-1"))) == theirs


@pytest.mark.parametrize("name", GOLDEN)
def test_both_layouts_restore_identical_weights_that_match_hf(written, name):
  golden, _, _ = _golden_case(name)
  layouts = written(name)
  assert {report.layout for _, _, report in layouts.values()} == set(layouts)
  tf1_model, mg_model = layouts[Layout.TF1_RELEASE][1], layouts[Layout.MODEL_GARDEN][1]
  for a, b in zip(tf1_model.encoder.weights + tf1_model.masked_lm.weights,
                  mg_model.encoder.weights + mg_model.masked_lm.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.name)
  # The Model Garden restore on its own against HF (independent of the TF1 reader).
  inputs = {k: tf.constant(golden[k]) for k in ("input_word_ids", "input_mask", "input_type_ids", "masked_lm_positions")}
  outputs, logits = mg_model.mlm_logits(inputs)
  for key in ("sequence_output", "pooled_output"):
    ours, hf = outputs[key].numpy(), golden[key]
    assert (np.linalg.norm(ours - hf, axis=-1) / np.linalg.norm(hf, axis=-1)).max() <= 1e-5, key
  assert np.abs(logits.numpy() - golden["mlm_logits"]).max() <= 1e-4


@pytest.mark.parametrize("layout", [Layout.TF1_RELEASE, Layout.MODEL_GARDEN])
def test_pooler_restores_from_both_layouts(written, layout):
  _, config, seed = _golden_case("pooler_small")
  assert config.classifier_activation
  directory, model, _ = written("pooler_small")[layout]
  seeded = dict(release_values(config, seed))
  np.testing.assert_array_equal(model.encoder.pooler.kernel.numpy(), seeded["bert/pooler/dense/kernel"])
  np.testing.assert_array_equal(model.encoder.pooler.bias.numpy(), seeded["bert/pooler/dense/bias"])
  if layout is Layout.MODEL_GARDEN:  # MobileBERTEncoder's pooler: the layer with weights after the blocks
    keys = dict(tf.train.list_variables(str(directory / "mobilebert-1")))
    pooler = f"encoder/layer_with_weights-{config.num_hidden_layers + 1}/kernel{model_garden.SUFFIX}"
    assert keys[pooler] == [config.hidden_size, config.hidden_size]


class _Hiding:
  """A checkpoint reader that does not show `hidden`, as if the file lacked it."""

  def __init__(self, reader, hidden):
    self._reader, self._hidden = reader, hidden

  def get_variable_to_shape_map(self):
    return {k: v for k, v in self._reader.get_variable_to_shape_map().items() if k != self._hidden}

  def get_variable_to_dtype_map(self):
    return {k: v for k, v in self._reader.get_variable_to_dtype_map().items() if k != self._hidden}

  def get_tensor(self, key):
    return self._reader.get_tensor(key)


def _without(assignments_fn, key):
  return lambda model: {k: t for k, t in assignments_fn(model).items() if k != key}


@pytest.mark.parametrize("layout, key, named", [
    (Layout.TF1_RELEASE, "bert/pooler/dense/kernel", "encoder/pooler/kernel"),
    (Layout.MODEL_GARDEN, "encoder/layer_with_weights-2/block_layers/attention/0/_query_dense/kernel"
                          f"{model_garden.SUFFIX}", "encoder/blocks/attention.query.kernel (block 1)"),
])
def test_a_dropped_mapping_stops_restore_naming_the_variable(written, monkeypatch, layout, key, named):
  """A reader map that forgets a variable (and a checkpoint without it) must not leave that
  variable at its random initial value."""
  report = written("pooler_small")[layout][2]
  module, function = (tf1_release, "tf1_assignments") if layout is Layout.TF1_RELEASE else \
      (model_garden, "model_garden_assignments")
  monkeypatch.setattr(module, function, _without(getattr(module, function), key))
  _, config, _ = _golden_case("pooler_small")
  reader = _Hiding(tf.train.load_checkpoint(report.prefix), key)
  with pytest.raises(HubExportError) as error:
    restore_weights(build_mobilebert(config), reader, report.prefix)
  message = str(error.value)
  assert "\n" not in message and "exactly once" in message and named in message, message


def test_a_variable_mapped_twice_stops_restore(written, monkeypatch):
  report = written("pooler_small")[Layout.TF1_RELEASE][2]
  original = tf1_release.tf1_assignments

  def twice(model):
    assignments = original(model)
    return {**assignments, "bert/embeddings/copy_of_position_embeddings":
            assignments["bert/embeddings/position_embeddings"]}

  monkeypatch.setattr(tf1_release, "tf1_assignments", twice)
  _, config, _ = _golden_case("pooler_small")
  with pytest.raises(HubExportError, match=r"more than one checkpoint name maps to 1: "
                                           r"encoder/embedding/position_embeddings"):
    restore_weights(build_mobilebert(config), tf.train.load_checkpoint(report.prefix), report.prefix)


def test_native_reader_accounts_for_every_variable(written, monkeypatch, tmp_path):
  """A native checkpoint object that leaves the MLM head out writes and reads back without
  complaint from TensorFlow; the accounting names what it left out."""
  _, model, _ = written("pooler_small")[Layout.TF1_RELEASE]
  monkeypatch.setattr(native, "_checkpoint",
                      lambda m, config_json: tf.train.Checkpoint(encoder=m.encoder, bert_config=config_json))
  prefix = native.write_native_checkpoint(model, str(tmp_path / "native" / "ckpt"))
  with pytest.raises(HubExportError, match=r"no checkpoint name maps to .*masked_lm/"):
    restore_weights(build_mobilebert(model.config), tf.train.load_checkpoint(prefix), prefix)
