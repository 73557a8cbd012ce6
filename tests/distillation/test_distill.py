"""Progressive knowledge transfer on tiny networks: stages, freezing, copies, resume, tf.distribute, bad input."""

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from support import distill_setup
from support.progress_capture import every_update_reported, reports

# Records in file order: three steps of a stage see neighbouring batches, so a falling loss is the training's
# (test_distill_input.py covers the shuffled stream).
STEPS = ("--steps_per_stage", 3, "--distill_steps", 4, "--batch_size", 8, "--warmup_steps", 2,
         "--checkpoint_every", 2, "--seed", 5, "--shuffle_buffer", 0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
  return distill_setup.build(tmp_path_factory.mktemp("distill"))


def _args(setup, out, *extra):
  from hub_export.distill import parse_args

  return parse_args(distill_setup.distill_argv(setup, out, *STEPS, *extra))


@pytest.fixture(scope="module")
def finished_with_log(setup, tmp_path_factory):
  """One uninterrupted single-device run: (trainer, out, its log lines off a terminal)."""
  from hub_export.distillation.run import build_trainer, write_student

  out = tmp_path_factory.mktemp("runs") / "single"
  trainer, vocab = build_trainer(_args(setup, out))
  with every_update_reported() as lines:
    trainer.run(log=lambda _: None)
  write_student(trainer, out, vocab)
  return trainer, out, lines


@pytest.fixture(scope="module")
def finished(finished_with_log):
  """(trainer, out) of the uninterrupted run."""
  return finished_with_log[:2]


def _losses(out) -> list:
  return [json.loads(line) for line in (out / "losses.jsonl").read_text().splitlines()]


def _values(variables) -> list:
  return [v.numpy().copy() for v in variables]


def _scalars(out) -> list:
  """(tag, step, value) of every scalar in the run's TensorBoard event files, read back as TensorBoard reads them."""
  import tensorflow as tf

  return [(value.tag, event.step, float(tf.make_ndarray(value.tensor)))
          for path in sorted((out / "train").glob("events.out.tfevents.*"))
          for event in tf.compat.v1.train.summary_iterator(str(path)) for value in event.summary.value]


def test_each_stage_lowers_its_loss_and_the_run_records_every_step(finished):
  _, out = finished
  records = _losses(out)
  assert [r["step"] for r in records] == list(range(10))
  assert [r["stage"] for r in records] == [0] * 3 + [1] * 3 + [2] * 4
  for stage in (0, 1):
    losses = [r["loss"] for r in records if r["stage"] == stage]
    assert losses[-1] < losses[0], (stage, losses)


def test_each_stage_reports_steps_done_rate_and_time_left(finished_with_log):
  stages = reports(finished_with_log[2])
  assert list(stages) == ["stage 0 (layer 0)", "stage 1 (layer 1)", "stage 2 (distillation)"]
  for (name, found), steps in zip(stages.items(), (3, 3, 4)):
    assert {total for _, total in found} == {steps}, name
    assert sorted({done for done, _ in found}) == list(range(1, steps + 1)), name  # a report after every step


def test_tensorboard_holds_each_stage_s_loss_terms_and_learning_rate_at_every_step(finished):
  _, out = finished
  stages = ("layer_0", "layer_1", "distillation")
  recorded = sorted((f"{stages[r['stage']]}/{name}", r["step"], np.float32(value)) for r in _losses(out)
                    for name, value in r.items() if name not in ("step", "stage"))
  scalars = _scalars(out)
  assert sorted((tag, step, np.float32(value)) for tag, step, value in scalars
                if not tag.endswith("/learning_rate")) == recorded
  assert {tag for tag, _, _ in recorded} >= {"layer_0/feature_map", "layer_0/mean", "layer_0/variance",
                                             "layer_0/attention", "layer_0/loss", "distillation/masked_lm",
                                             "distillation/next_sentence", "distillation/loss"}
  # Layer stages: the constant 1.5e-3; distillation: warm-up over 2 steps, then linear decay to 1.5e-7 at step 4.
  rates = [1.5e-3] * 6 + [7.5e-4, 1.5e-3, (1.5e-3 - 1.5e-7) / 2 + 1.5e-7, (1.5e-3 - 1.5e-7) / 4 + 1.5e-7]
  found = sorted((step, tag, value) for tag, step, value in scalars if tag.endswith("/learning_rate"))
  assert [(step, tag) for step, tag, _ in found] == [(s, f"{stages[min(s // 3, 2)]}/learning_rate") for s in range(10)]
  np.testing.assert_allclose([value for _, _, value in found], rates, rtol=1e-6)


@pytest.mark.slow
def test_mirrored_on_two_cpu_devices_equals_one_device(setup, finished, tmp_path):
  """The same ten steps on the same global batch, split over two logical CPU devices."""
  _, single = finished
  out = tmp_path / "mirrored"
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  proc = subprocess.run([sys.executable, "-m", "hub_export.distill",
                         *distill_setup.distill_argv(setup, out, *STEPS, "--strategy", "mirrored", "--cpu_devices", 2)],
                        capture_output=True, text=True, cwd=REPO, env=env, timeout=400)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "on 2 replica(s)" in proc.stderr
  mirrored, reference = _losses(out), _losses(single)
  assert len(mirrored) == len(reference) == 10
  for ours, theirs in zip(mirrored, reference):
    assert ours.keys() == theirs.keys()
    for key in ours:
      np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=f"step {ours['step']} {key}")


def _free_ports(count: int) -> list:
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("localhost", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


@pytest.mark.slow
def test_multi_worker_over_two_processes_equals_one_device(setup, finished, tmp_path):
  """Two local worker processes, TF_CONFIG naming both, one CPU replica each, on the same global batch (each
  worker reads all the data and keeps its half of each batch)."""
  _, single = finished
  out = tmp_path / "multi_worker"
  cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
  argv = distill_setup.distill_argv(setup, out, *STEPS, "--strategy", "multi_worker", "--shard_policy", "data")
  workers = []
  for index in range(2):
    env = {**{k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
           "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
    workers.append(subprocess.Popen([sys.executable, "-m", "hub_export.distill", *argv], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, cwd=REPO, env=env))
  logs = [worker.communicate(timeout=400)[1] for worker in workers]
  for index, (worker, stderr) in enumerate(zip(workers, logs)):
    assert worker.returncode == 0, f"worker {index}: {stderr[-3000:]}"
    assert "on 2 replica(s)" in stderr
  chief, other, reference = _losses(out), _losses(out / ".worker-1"), _losses(single)
  assert chief == other and len(chief) == len(reference) == 10
  for ours, theirs in zip(chief, reference):
    for key in ours:
      np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=f"step {ours['step']} {key}")
  assert (out / "student" / "student.index").is_file()


@pytest.mark.slow
def test_jit_compile_compiles_each_stage_once_and_trains_as_without_it(setup, finished, tmp_path):
  """--jit_compile: one XLA compilation a stage (not one a step) and the same ten steps' losses."""
  _, single = finished
  out = tmp_path / "jit"
  # TensorFlow logs each XLA compilation at this verbosity of its device compiler.
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0", "TF_CPP_VMODULE": "device_compiler=1"}
  proc = subprocess.run([sys.executable, "-m", "hub_export.distill",
                         *distill_setup.distill_argv(setup, out, *STEPS, "--jit_compile")],
                        capture_output=True, text=True, cwd=REPO, env=env, timeout=400)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stderr.count("Compilation of XLA executable") == 3  # layer 0, layer 1, distillation
  jit, reference = _losses(out), _losses(single)
  assert len(jit) == len(reference) == 10
  for ours, theirs in zip(jit, reference):
    for key in ours:
      np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, err_msg=f"step {ours['step']} {key}")


def test_jit_compile_is_refused_over_several_replicas(setup):
  from hub_export.config import MobileBertConfig
  from hub_export.distillation.options import TrainOptions
  from hub_export.distillation.records import read_metadata
  from hub_export.distillation.trainer import check_data
  from hub_export.support.errors import HubExportError

  config = MobileBertConfig.from_json_file(setup["student_config"])
  metadata = read_metadata(setup["data"])
  check_data(metadata, config, TrainOptions(batch_size=8, jit_compile=True), replicas=1)
  with pytest.raises(HubExportError, match="--jit_compile compiles the train step for one replica, not 2"):
    check_data(metadata, config, TrainOptions(batch_size=8, jit_compile=True), replicas=2)


def test_the_student_carries_the_casing_its_data_was_tokenized_with(finished):
  """pretraining_data recorded lower_case for an unknown vocab; the student's exporters read it, no flag needed."""
  from hub_export.checkpoint.export_source import resolve_source

  _, out = finished
  assert resolve_source(out / "student").lower_case is True


def test_teacher_never_changes(setup, finished):
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.config import TEACHER

  trainer, _ = finished
  fresh, _ = load_mobilebert(locate_checkpoint(setup["teacher_ckpt"]), setup["teacher_config"], role=TEACHER)
  assert fresh.config.normalization_type == "layer_norm" and fresh.config.num_feedforward_networks == 1
  after = trainer.teacher.encoder.trainable_variables + trainer.teacher.masked_lm.trainable_variables
  before = fresh.encoder.trainable_variables + fresh.masked_lm.trainable_variables
  assert len(after) == len(before) > 0
  for a, b in zip(after, before):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.name)


def test_layer_stage_trains_only_blocks_up_to_it_and_starts_from_the_teacher_embedding(setup, tmp_path):
  import tensorflow as tf

  from hub_export.distillation.run import build_trainer
  from hub_export.distillation.student import embedding_pairs, masked_lm_pairs

  trainer, _ = build_trainer(_args(setup, tmp_path / "staged"))
  trainer.start()
  for teacher_variable, student_variable in embedding_pairs(trainer.teacher, trainer.student.model):
    np.testing.assert_array_equal(student_variable.numpy(), teacher_variable.numpy())
  assert not all(np.array_equal(t.numpy(), s.numpy()) for t, s in masked_lm_pairs(trainer.teacher, trainer.student.model))
  # No gradient reaches block 1 from the stage-0 loss.
  batch = next(trainer.batches(0))
  blocks = list(trainer.student.model.encoder.blocks.stacked.values())
  with tf.GradientTape() as tape:
    loss = trainer._stage_loss(0, batch)["loss"]  # pylint: disable=protected-access
  for variable, gradient in zip(blocks, tape.gradient(loss, blocks)):
    assert not np.any(gradient.numpy()[1]), variable.name
    assert np.any(gradient.numpy()[0]), variable.name
  blocks_before = _values(blocks)
  shared = trainer.student.embedding_variables()  # the masked-LM head reads the embedding's word table
  heads = [v for v in trainer.student.model.masked_lm.trainable_variables + trainer.student.next_sentence.trainable_variables
           if id(v) not in shared]
  heads_before = _values(heads)
  trainer.run(log=lambda _: None, until=3)  # stage 0
  for variable, before in zip(blocks, blocks_before):
    np.testing.assert_array_equal(variable.numpy()[1], before[1], err_msg=variable.name)
  assert any(not np.array_equal(v.numpy()[0], b[0]) for v, b in zip(blocks, blocks_before))
  for variable, before in zip(heads, heads_before):
    np.testing.assert_array_equal(variable.numpy(), before, err_msg=variable.name)
  # Killed after step 2's summaries but before its checkpoint, in the middle of writing an event: the resumed run
  # writes step 2 again, once.
  out = tmp_path / "staged"
  (events,) = (out / "train").glob("events.out.tfevents.*")
  with open(events, "ab") as cut_short:
    cut_short.write(b"\x40\x00\x00\x00")
  tf.compat.v1.train.update_checkpoint_state(str(out / "checkpoints"), str(out / "checkpoints" / "ckpt-2"))
  trainer.manager = tf.train.CheckpointManager(trainer.checkpoint, str(out / "checkpoints"), max_to_keep=2)
  trainer.run(log=lambda _: None, until=3)
  steps = sorted(step for tag, step, _ in _scalars(out) if tag == "layer_0/loss")
  assert steps == [0, 1, 2]
  assert [r["step"] for r in _losses(out)] == [0, 1, 2]


def test_original_schedule_starts_the_masked_lm_head_from_the_teacher_too(setup, tmp_path):
  from hub_export.distillation.run import build_trainer
  from hub_export.distillation.student import masked_lm_pairs

  trainer, _ = build_trainer(_args(setup, tmp_path / "original", "--schedule", "original"))
  trainer.start()
  for teacher_variable, student_variable in masked_lm_pairs(trainer.teacher, trainer.student.model):
    np.testing.assert_array_equal(student_variable.numpy(), teacher_variable.numpy())


def test_transfer_teacher_layers_maps_named_teacher_blocks_onto_fewer_student_blocks(setup, tmp_path, capsys):
  """A 4-block teacher onto the 2-block student: stage k compares student block k with teacher block [1, 3][k]."""
  import tensorflow as tf

  from hub_export.distillation import losses
  from hub_export.distillation.run import build_trainer
  from hub_export.distillation.trainer import model_inputs

  deep = {**setup, **distill_setup.write_teacher(tmp_path / "deep", setup["vocab"].read_text().splitlines(),
                                                 {"num_hidden_layers": 4})}
  trainer, _ = build_trainer(_args(deep, tmp_path / "run", "--transfer_teacher_layers", 1, 3))
  trainer.start()
  batch = next(trainer.batches(0))
  inputs, normalizer = model_inputs(batch), tf.reduce_sum(tf.cast(batch["input_mask"], tf.float32))
  teacher = trainer.teacher.encoder.transfer_outputs(inputs, 4, training=False)
  student = trainer.student.model.encoder.transfer_outputs(inputs, 2, training=True)
  for stage, block in ((0, 1), (1, 3)):
    by_hand = [losses.layer_transfer_losses(
        teacher["block_outputs"][b], student["block_outputs"][stage], teacher["attentions"][b],
        student["attentions"][stage], batch["input_mask"], trainer.options.factors, normalizer=normalizer)
        for b in range(4)]  # against each teacher block
    terms = trainer._stage_loss(stage, batch)  # pylint: disable=protected-access
    for name in ("feature_map", "mean", "variance", "attention"):
      np.testing.assert_allclose(terms[name], by_hand[block][name], rtol=1e-5, err_msg=f"stage {stage} {name}")
      assert all(abs(float(terms[name]) - float(by_hand[other][name])) > 1e-4 * abs(float(terms[name]))
                 for other in range(4) if other != block), (stage, name)  # no other teacher block gives it
    np.testing.assert_allclose(terms["loss"], by_hand[block]["total"] * trainer.schedule.loss_scale(stage), rtol=1e-5)
  for layers, expected in (((1,), "names 1 teacher block(s), the student has 2"),
                           ((1, 4), "--transfer_teacher_layers 4 is not a teacher block: the teacher has 4"),
                           ((), "teacher num_hidden_layers 4 differs from student num_hidden_layers 2")):
    argv = distill_setup.distill_argv(deep, tmp_path / "bad", *STEPS, *(("--transfer_teacher_layers", *layers)
                                                                       if layers else ()))
    assert expected in _one_line_error(capsys, argv)
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_a_run_killed_mid_stage_resumes_to_the_same_student(setup, finished, tmp_path):
  """SIGKILL inside stage 1 (after the step-4 checkpoint), then the same command again."""
  import tensorflow as tf

  from support.kill_points import KillPoint, run_until

  _, reference = finished
  out = tmp_path / "killed"
  command = [sys.executable, "-m", "hub_export.distill", *distill_setup.distill_argv(setup, out, *STEPS)]
  point = KillPoint("inside stage 1", after_line=r"stage 1 \(layer 1\)", when_exists="checkpoints/ckpt-4.index")
  killed = run_until(command, point, out, timeout_s=300)
  assert killed.fired and killed.returncode == -9, killed.stderr[-5:]
  assert not (out / "student").exists()
  proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert [r["step"] for r in _losses(out)] == list(range(10))
  ours, theirs = tf.train.load_checkpoint(str(out / "student")), tf.train.load_checkpoint(str(reference / "student"))
  keys = [k for k in theirs.get_variable_to_shape_map() if not k.startswith(("bert_config", "_CHECKPOINTABLE"))]
  assert sorted(keys) == sorted(k for k in ours.get_variable_to_shape_map()
                                if not k.startswith(("bert_config", "_CHECKPOINTABLE")))
  for key in keys:
    np.testing.assert_allclose(ours.get_tensor(key), theirs.get_tensor(key), rtol=0, atol=1e-6, err_msg=key)


def test_the_student_restores_in_the_project_layout_exports_verifies_and_publishes(finished, tmp_path):
  from hub_export import publish
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.export_encoder import export_encoder
  from hub_export.verification import verify_path

  trainer, out = finished
  restored, report = load_mobilebert(locate_checkpoint(out / "student"))
  assert report.layout.name == "NATIVE"
  for ours, theirs in zip(restored.encoder.trainable_variables, trainer.student.model.encoder.trainable_variables):
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
  export = export_encoder(out / "student", tmp_path / "encoder", lower_case=True)
  report = verify_path(export)
  assert report.ok, report.lines()
  dist = tmp_path / "dist"
  assert publish.main(["--out", str(dist), "--name", "distilled_en_uncased", "--language", "en", "--publisher", "acme",
                       "--encoder", str(export)]) == 0
  report = verify_path(dist / "distilled_en_uncased" / "distilled_en_uncased_1.tar.gz")
  assert report.ok, report.lines()


def test_teacher_only_pretrains_the_teacher_config_from_scratch(setup, tmp_path):
  """Under --mixed_precision (bfloat16 compute): float32 variables, a float32 model restored from the result."""
  import tensorflow as tf
  import tf_keras

  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.distill import parse_args
  from hub_export.distillation.run import distill

  out = tmp_path / "teacher_run"
  argv = ["--teacher_only", "--teacher_config", setup["teacher_config"], "--data", setup["data"], "--vocab",
          setup["vocab"], "--out", out, "--distill_steps", 3, "--batch_size", 8, "--warmup_steps", 1,
          "--learning_rate", 1e-2, "--mixed_precision"]
  teacher = distill(parse_args([str(a) for a in argv]))
  assert tf_keras.mixed_precision.global_policy().name == "float32"  # the policy applied to the run's models only
  assert teacher == out / "teacher"
  records = _losses(out)
  assert [r["stage"] for r in records] == [0, 0, 0]
  assert records[-1]["masked_lm"] < records[0]["masked_lm"]
  # From scratch the first masked-LM loss is the plain cross-entropy of a near-uniform guess.
  vocab_size = len(setup["vocab"].read_text().splitlines())
  assert abs(records[0]["masked_lm"] - np.log(vocab_size)) < 0.5
  assert all(np.isfinite(value) for r in records for value in r.values()), records
  model, _ = load_mobilebert(locate_checkpoint(teacher))
  assert model.config.normalization_type == "layer_norm" and model.config.num_feedforward_networks == 1
  assert {v.dtype for v in model.variables} == {tf.float32}
  assert model.encoder.compute_dtype == "float32"
  assert (teacher / "vocab.txt").read_bytes() == setup["vocab"].read_bytes()


def _one_line_error(capsys, argv) -> str:
  from hub_export.distill import _main
  from hub_export.support import cli

  assert cli.run(_main, argv) == 2
  lines = capsys.readouterr().err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: "), lines
  return lines[0]


def test_bad_input_is_one_line_before_training(setup, finished, tmp_path, capsys):
  student = json.loads(setup["student_config"].read_text())
  for key, value, expected in (("hidden_size", 24, "teacher hidden_size 16 differs from student hidden_size 24"),
                               ("vocab_size", student["vocab_size"] + 1, "teacher vocab_size")):
    config = tmp_path / f"{key}.json"
    config.write_text(json.dumps({**student, key: value}))
    paths = {**setup, "student_config": config}
    assert expected in _one_line_error(capsys, distill_setup.distill_argv(paths, tmp_path / key, *STEPS))
    assert not (tmp_path / key).exists()
  data = tmp_path / "data"
  data.mkdir()
  metadata = json.loads((setup["data"] / "pretraining_data.json").read_text())
  metadata["features"].remove("masked_lm_weights")
  (data / "pretraining_data.json").write_text(json.dumps(metadata))
  line = _one_line_error(capsys, distill_setup.distill_argv({**setup, "data": data}, tmp_path / "d", *STEPS))
  assert "lacks feature(s) masked_lm_weights" in line
  _, out = finished  # a run made with 3 steps a stage, resumed with 2
  argv = distill_setup.distill_argv(setup, out, *STEPS[2:], "--steps_per_stage", 2)
  assert "was made for another stage layout" in _one_line_error(capsys, argv)


def _data_with_shard(setup, folder, content: bytes, keep_size: bool = False):
  """A copy of the data folder whose shard holds `content`; its metadata records the new size unless `keep_size`."""
  from hub_export.distillation.records import METADATA_NAME

  shutil.copytree(setup["data"], folder)
  metadata = json.loads((folder / METADATA_NAME).read_text())
  shard = folder / metadata["shards"][0]["file"]
  shard.write_bytes(content)
  if not keep_size:
    metadata["shards"][0]["bytes"] = len(content)
    (folder / METADATA_NAME).write_text(json.dumps(metadata))
  return shard


def _edited_first_record(setup, tmp_path, **features) -> bytes:
  """The data's first record with int64 `features` replaced, as the bytes of a TFRecord file."""
  import tensorflow as tf

  from hub_export.distillation.records import read_metadata

  first = next(iter(tf.data.TFRecordDataset(read_metadata(setup["data"])["paths"][0]))).numpy()
  example = tf.train.Example.FromString(first)
  for name, values in features.items():
    del example.features.feature[name].int64_list.value[:]
    example.features.feature[name].int64_list.value.extend(values)
  path = tmp_path / "edited.tfrecord"
  with tf.io.TFRecordWriter(str(path)) as writer:
    writer.write(example.SerializeToString())
  return path.read_bytes()


def test_bad_shards_and_a_repeated_cluster_address_are_one_line_before_training(setup, tmp_path, capsys,
                                                                               monkeypatch):
  shard_bytes = next(setup["data"].glob("*.tfrecord")).read_bytes()
  vocab_size = len(setup["vocab"].read_text().splitlines())
  ids = [1, vocab_size + 5] + [0] * 30
  cases = {"truncated": (shard_bytes[:-7], True, "bytes, pretraining_data.json says"),
           "not_a_tfrecord": (b"\x07" * len(shard_bytes), True, "is not a TFRecord file of pre-training examples"),
           "long_records": (_edited_first_record(setup, tmp_path, input_ids=[1] * 40), False, "with seq_length 32"),
           "foreign_ids": (_edited_first_record(setup, tmp_path, input_ids=ids), False,
                           f"holds token id {vocab_size + 5}, beyond the model's vocab_size {vocab_size}")}
  for name, (content, keep_size, expected) in cases.items():
    shard = _data_with_shard(setup, tmp_path / name, content, keep_size)
    line = _one_line_error(capsys, distill_setup.distill_argv({**setup, "data": tmp_path / name}, tmp_path / "out",
                                                              *STEPS))
    assert f"shard {shard}" in line and expected in line, (name, line)
    assert not (tmp_path / "out").exists()
  cluster = {"worker": ["localhost:2222", "localhost:2223"], "chief": ["localhost:2222"]}
  monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "chief", "index": 0}}))
  line = _one_line_error(capsys, distill_setup.distill_argv(setup, tmp_path / "out", *STEPS, "--strategy",
                                                            "multi_worker"))
  assert line == ("error: TF_CONFIG names localhost:2222 twice (worker 0 and chief 0): each task needs its own "
                  "host:port")
  assert not (tmp_path / "out").exists()


def test_held_out_masked_lm_accuracy_counts_weighted_positions(setup, finished):
  """Accuracy over the masked positions, each by its weight, across uneven batches."""
  from hub_export.distillation import records
  from hub_export.distillation.evaluation import evaluate_checkpoint, masked_lm_accuracy
  from hub_export.distillation.trainer import model_inputs

  trainer, out = finished
  model = trainer.student.model
  examples = records.load_examples(setup["data"])
  examples = {k: v[:13] for k, v in examples.items()}
  # The model's own top predictions, one example at a time, as the "original" tokens.
  top = np.stack([np.argmax(model.mlm_logits(model_inputs({k: v[i:i + 1] for k, v in examples.items()}))[1][0], -1)
                  for i in range(13)])
  weights = examples["masked_lm_weights"]
  assert masked_lm_accuracy(model, {**examples, "masked_lm_ids": top.astype(np.int32)}, batch_size=4) == {
      "accuracy": 1.0, "predictions": float(weights.sum())}
  wrong = np.where(top == 0, 1, 0).astype(np.int32)
  # Wrong ids on every position of the first five rows and on every zero-weight position (which must not count).
  ids = np.where((np.arange(13)[:, None] < 5) | (weights == 0), wrong, top).astype(np.int32)
  result = masked_lm_accuracy(model, {**examples, "masked_lm_ids": ids}, batch_size=4)
  assert result["accuracy"] == pytest.approx(float(weights[5:].sum() / weights.sum()))
  # The written student, restored from its checkpoint, measures as the trained one does.
  full = records.load_examples(setup["data"])
  assert evaluate_checkpoint(out / "student", setup["data"]) == pytest.approx(masked_lm_accuracy(model, full))


def test_evaluate_mlm_command_prints_the_held_out_accuracy_and_refuses_data_it_cannot_read(setup, finished, tmp_path,
                                                                                         capsys):
  from hub_export.distillation.evaluation import evaluate_checkpoint
  from hub_export.evaluate_mlm import _main
  from hub_export.support import cli

  _, out = finished
  assert cli.run(_main, ["--ckpt", str(out / "student"), "--data", str(setup["data"]), "--batch_size", "7"]) == 0
  printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  assert printed == pytest.approx(evaluate_checkpoint(out / "student", setup["data"]))
  data = tmp_path / "wide_vocab"
  shutil.copytree(setup["data"], data)
  metadata = json.loads((data / "pretraining_data.json").read_text())
  (data / "pretraining_data.json").write_text(json.dumps({**metadata, "vocab_size": metadata["vocab_size"] + 1}))
  assert cli.run(_main, ["--ckpt", str(out / "student"), "--data", str(data)]) == 2
  lines = capsys.readouterr().err.strip().splitlines()
  assert len(lines) == 1 and "more than the model's vocab_size" in lines[0], lines
