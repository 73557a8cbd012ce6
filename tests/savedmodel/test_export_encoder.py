"""The encoder export: TF-Hub text-encoder API, reuse for fine-tuning, round trip, serving, safety."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

from conftest import GOLDEN_DIR
from hub_export.checkpoint.tf1_release import write_release_checkpoint
from hub_export.config import MobileBertConfig
from hub_export.export_encoder import export_encoder
from hub_export.savedmodel import roundtrip
from hub_export.support.errors import HubExportError
from support.release_dirs import tiny_vocab, without_fresh_process_check

KEYS = ("input_word_ids", "input_mask", "input_type_ids")


def _inputs(batch, length, vocab=160, padding=0, seed=0):
  rng = np.random.default_rng(seed)
  mask = np.ones([batch, length], np.int32)
  if padding:
    mask[:, length - padding:] = 0
  return {"input_word_ids": tf.constant(rng.integers(0, vocab, [batch, length]) * mask, tf.int32),
          "input_mask": tf.constant(mask),
          "input_type_ids": tf.constant(np.zeros([batch, length], np.int32))}


GOLDEN = np.load(GOLDEN_DIR / "opt_small.npz")  # HF PyTorch outputs for this seeded checkpoint (3 layers, vocab 1000)
GOLDEN_CONFIG = MobileBertConfig.from_dict(json.loads(str(GOLDEN["config_json"])))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  root = tmp_path_factory.mktemp("encoder")
  release = write_release_checkpoint(root / "release", GOLDEN_CONFIG, int(GOLDEN["seed"]),
                                     vocab_lines=tiny_vocab(GOLDEN_CONFIG.vocab_size))
  target = export_encoder(release, root / "export", lower_case=True)
  return release, target


def _relative(ours, theirs):
  return np.linalg.norm(ours - theirs, axis=-1) / np.linalg.norm(theirs, axis=-1)


def test_export_reproduces_hf_pytorch(loaded):
  """The exported SavedModel, through __call__, .mlm and serving_default, gives HF's numbers."""
  inputs = {k: tf.constant(GOLDEN[k]) for k in KEYS}
  mlm_inputs = dict(inputs, masked_lm_positions=tf.constant(GOLDEN["masked_lm_positions"]))
  served = loaded.signatures["serving_default"](**inputs)
  for out in (loaded(inputs, training=False), served, loaded.mlm(mlm_inputs, training=False)):
    assert _relative(out["sequence_output"].numpy(), GOLDEN["sequence_output"]).max() <= 1e-5
    assert _relative(out["pooled_output"].numpy(), GOLDEN["pooled_output"]).max() <= 1e-5
  out = loaded(inputs, training=False)
  assert len(out["encoder_outputs"]) == GOLDEN_CONFIG.num_hidden_layers
  for ours, theirs in zip(out["encoder_outputs"], GOLDEN["encoder_outputs"]):
    assert _relative(ours.numpy(), theirs).max() <= 1e-5
  logits = loaded.mlm(mlm_inputs, training=False)["mlm_logits"].numpy()
  assert np.abs(logits - GOLDEN["mlm_logits"]).max() <= 1e-4


@pytest.fixture(scope="module")
def loaded(exported):
  return tf.saved_model.load(str(exported[1]))


@pytest.mark.parametrize("batch,length", [(1, 1), (3, 17), (2, 512)])
def test_encoder_output_shapes(loaded, batch, length):
  out = loaded(_inputs(batch, length), training=False)
  assert out["sequence_output"].shape == (batch, length, 512)
  assert out["sequence_output"].dtype == tf.float32
  assert out["pooled_output"].shape == (batch, 512)
  assert all(layer.shape == (batch, length, 512) for layer in out["encoder_outputs"])


def test_mlm_sub_object(loaded):
  inputs = dict(_inputs(2, 9), masked_lm_positions=tf.constant([[1, 2, 3], [0, 4, 8]], tf.int32))
  out = loaded.mlm(inputs, training=False)
  assert out["mlm_logits"].shape == (2, 3, GOLDEN_CONFIG.vocab_size)
  root_ids = {id(v) for v in loaded.variables}
  head = [v for v in loaded.mlm.variables if id(v) not in root_ids]
  assert {v.name.split("/")[-1].split(":")[0] for v in head} >= {"extra_output_weights", "output_bias"}
  assert not any("masked_lm" in v.name for v in loaded.variables)


def test_vocab_asset_and_casing(loaded):
  assert os.path.basename(loaded.vocab_file.asset_path.numpy().decode()) == "vocab.txt"
  assert bool(loaded.do_lower_case.numpy()) is True


def test_dropout_acts_only_in_training(loaded):
  inputs = _inputs(2, 16)
  infer = [loaded(inputs, training=False)["sequence_output"].numpy() for _ in range(3)]
  train = [loaded(inputs, training=True)["sequence_output"].numpy() for _ in range(3)]
  assert all(np.array_equal(infer[0], x) for x in infer[1:])
  spread = np.std(np.stack(train), axis=0).mean()
  assert spread > 1e-4, spread


def test_padding_does_not_change_real_positions(loaded):
  unpadded = _inputs(2, 10, seed=5)
  padded = {k: tf.pad(v, [[0, 0], [0, 6]]) for k, v in unpadded.items()}
  a = loaded(unpadded, training=False)["sequence_output"].numpy()
  b = loaded(padded, training=False)["sequence_output"].numpy()[:, :10]
  assert np.abs(a - b).max() <= 1e-5


def _block_calls(function_def) -> dict:
  """{called block function's name stem: calls} among a function's nodes."""
  calls = {}
  for node in function_def.node_def:
    if "f" in node.attr:
      for stem in ("single_sequence_block", "inference_block"):
        if stem in node.attr["f"].func.name:
          calls[stem] = calls.get(stem, 0) + 1
  return calls


def test_inference_holds_the_two_stream_block_and_training_does_not(loaded):
  """BlockStack picks the two-stream block for a batch of one inside the inference graph,
  with an If that the runtime keeps (so only the branch a call takes is optimized); a larger
  batch runs as two groups of sequences, two batched blocks a layer."""
  graphs = [cf.graph.as_graph_def() for cf in loaded.__call__.concrete_functions]
  names = [{f.signature.name for f in graph.library.function} for graph in graphs]
  inference = [i for i, n in enumerate(names) if any("inference_block" in f for f in n)]
  training = [i for i, n in enumerate(names) if any("training_block" in f for f in n)]
  assert len(inference) == len(training) == 1
  assert any("single_sequence_block" in f for f in names[inference[0]])
  assert not any("single_sequence_block" in f for f in names[training[0]])
  graph = graphs[inference[0]]
  ifs = [n for n in list(graph.node) + [n for f in graph.library.function for n in f.node_def]
         if n.op in ("If", "StatelessIf")]
  assert len(ifs) == 1
  assert "_lower_using_switch_merge" in ifs[0].attr and ifs[0].attr["_lower_using_switch_merge"].b is False
  branches = {f.signature.name: f for f in graph.library.function}
  layers = GOLDEN_CONFIG.num_hidden_layers
  assert _block_calls(branches[ifs[0].attr["then_branch"].func.name]) == {"single_sequence_block": layers}
  assert _block_calls(branches[ifs[0].attr["else_branch"].func.name]) == {"inference_block": 2 * layers}


@pytest.mark.parametrize("length,padding", [(1, 0), (2, 0), (17, 5), (64, 0)])
def test_batch_of_one_agrees_with_the_batched_graph(loaded, length, padding):
  one = _inputs(1, length, padding=padding, seed=length)
  two = {k: tf.concat([v, v], axis=0) for k, v in one.items()}
  single, batched = loaded(one, training=False), loaded(two, training=False)
  for key in ("sequence_output", "pooled_output"):
    np.testing.assert_allclose(single[key].numpy()[0], batched[key].numpy()[0], rtol=0, atol=1e-5)


def test_inference_gradient_at_batch_of_one(loaded):
  """The batch-size branch is differentiable: one row's gradient is half that of the row twice."""
  one = _inputs(1, 12, seed=7)
  two = {k: tf.concat([v, v], axis=0) for k, v in one.items()}

  def gradients(inputs):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(loaded(inputs, training=False)["pooled_output"])
    return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, loaded.trainable_variables)]

  g_one = np.concatenate([g.ravel() for g in gradients(one)])
  g_two = np.concatenate([g.ravel() for g in gradients(two)])
  assert np.linalg.norm(g_one) > 0
  assert np.linalg.norm(2 * g_one - g_two) <= 1e-5 * np.linalg.norm(g_two)


def test_keras_layer_fine_tunes_and_saves(exported, tmp_path):
  encoder = hub.KerasLayer(str(exported[1]), trainable=True)
  inputs = {k: tf_keras.Input(shape=(None,), dtype=tf.int32, name=k) for k in KEYS}
  logits = tf_keras.layers.Dense(2)(encoder(inputs)["pooled_output"])
  model = tf_keras.Model(inputs, logits)
  model.compile(optimizer=tf_keras.optimizers.Adam(1e-3),
                loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  before = [w.numpy().copy() for w in encoder.trainable_weights]
  data = _inputs(8, 12)
  model.fit(data, tf.constant([0, 1] * 4), epochs=1, batch_size=4, verbose=0)
  changed = sum(not np.array_equal(b, w.numpy()) for b, w in zip(before, encoder.trainable_weights))
  assert changed == len(before)
  model.save(tmp_path / "downstream")
  reloaded = tf_keras.models.load_model(tmp_path / "downstream", custom_objects={"KerasLayer": hub.KerasLayer})
  np.testing.assert_allclose(reloaded(data).numpy(), model(data).numpy(), atol=1e-5)


def test_keras_layer_over_mlm(exported):
  mlm = hub.KerasLayer(tf.saved_model.load(str(exported[1])).mlm, trainable=True)
  inputs = dict(_inputs(2, 8), masked_lm_positions=tf.constant([[1, 2], [3, 4]], tf.int32))
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(mlm(inputs)["mlm_logits"])
  grads = tape.gradient(loss, mlm.trainable_weights)
  assert grads and all(g is not None for g in grads)


def test_moved_export_loads_and_holds_no_absolute_paths(exported, tmp_path):
  release, target = exported
  pb = (target / "saved_model.pb").read_bytes()
  for path in (str(release), str(target.parent), str(target)):
    assert path.encode() not in pb
  moved = tmp_path / "moved"
  shutil.copytree(target, moved)
  out = tf.saved_model.load(str(moved))(_inputs(1, 4), training=False)
  assert out["pooled_output"].shape == (1, 512)


def test_saved_model_cli_shows_and_runs_serving_default(exported):
  cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
  shown = subprocess.run([cli, "show", "--all", "--dir", str(exported[1])], capture_output=True, text=True)
  assert shown.returncode == 0, shown.stderr
  assert "signature_def['serving_default']" in shown.stdout
  for key in KEYS:
    assert f"inputs['{key}']" in shown.stdout
  expr = "input_word_ids=[[101,7,8,102]];input_mask=[[1,1,1,1]];input_type_ids=[[0,0,0,0]]"
  ran = subprocess.run([cli, "run", "--dir", str(exported[1]), "--tag_set", "serve", "--signature_def",
                        "serving_default", "--input_exprs", expr], capture_output=True, text=True)
  assert ran.returncode == 0, ran.stderr[-2000:]
  assert "pooled_output" in ran.stdout


def test_round_trip_reports_a_broken_export(exported, tmp_path):
  """The fresh-process check fails when the export does not reproduce the model."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.savedmodel.encoder_object import build_encoder_object

  model, _ = load_mobilebert(locate_checkpoint(exported[0]))
  root = build_encoder_object(model, str(exported[0] / "vocab.txt"), True)
  roundtrip.verify_in_fresh_process(str(exported[1]), root, model.config)
  table = model.encoder.embedding.word_embeddings
  table.assign(table + 0.01)
  with pytest.raises(HubExportError, match="round-trip check of the export failed"):
    roundtrip.verify_in_fresh_process(str(exported[1]), root, model.config)


def test_a_model_shorter_than_the_longest_probe_exports(tmp_path):
  """max_position_embeddings 32, below the round trip's longest probe (128): the probes stop at the model's limit."""
  from support.release_dirs import write_tiny_release

  release = write_tiny_release(tmp_path / "release", num_hidden_layers=1, max_position_embeddings=32)
  target = export_encoder(release, tmp_path / "export", lower_case=True)
  assert (target / "saved_model.pb").is_file()
  config = MobileBertConfig.from_json_file(release / "bert_config.json")
  assert max(probe["input_word_ids"].shape[1] for probe in roundtrip.probe_inputs(config)) == 32


def test_failed_verification_leaves_nothing(exported, tmp_path, monkeypatch):
  def broken(export_dir, root, config):
    raise HubExportError("round-trip check of the export failed: simulated")

  monkeypatch.setattr(roundtrip, "verify_in_fresh_process", broken)
  with pytest.raises(HubExportError, match="simulated"):
    export_encoder(exported[0], tmp_path / "out", lower_case=True)
  assert list(tmp_path.iterdir()) == []


def test_existing_export_needs_overwrite(exported, tmp_path):
  target = tmp_path / "out"
  target.mkdir()
  (target / "keep.txt").write_text("mine")
  with pytest.raises(HubExportError, match="pass --overwrite"):
    export_encoder(exported[0], target, lower_case=True)
  assert (target / "keep.txt").read_text() == "mine"
  (target / "keep.txt").rename(target / "saved_model.pb")  # now it looks like an earlier export
  with without_fresh_process_check():  # the module's export proves the check; this test, the target's handling
    export_encoder(exported[0], target, lower_case=True, overwrite=True)
  assert (target / "saved_model.pb").read_bytes() != b"mine" and sorted(p.name for p in target.iterdir()) == [
      "assets", "fingerprint.pb", "saved_model.pb", "variables"]
  assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_cli_error_is_one_line(tmp_path):
  proc = subprocess.run([sys.executable, "-m", "hub_export.export_encoder", "--ckpt", str(tmp_path / "nope"),
                         "--export_dir", str(tmp_path / "out")], capture_output=True, text=True)
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1] == f"error: checkpoint path {tmp_path / 'nope'} does not exist"
  assert not (tmp_path / "out").exists()
