"""`python -m hub_export.finetune` end to end on a 2-layer MobileBERT: the task SavedModel it exports serves raw
strings and token ids, reloads under hub.KerasLayer, and a run resumes and repeats exactly."""

import json
import logging

import numpy as np
import pytest

from support.finetune_setup import SEQ_LENGTH, write_pairs, write_release, write_squad

SQUAD_WINDOWS = ["--max_seq_length", str(SEQ_LENGTH), "--max_query_length", "16", "--doc_stride", "32"]


def run(argv) -> int:
  from hub_export import finetune
  from hub_export.support import cli

  return cli.run(finetune._main, [str(a) for a in argv])


@pytest.fixture(scope="module")
def release(tmp_path_factory):
  return write_release(tmp_path_factory.mktemp("finetune") / "release")


@pytest.fixture(scope="module")
def published_encoder(release):
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.savedmodel.encoder_object import build_encoder_object, save_encoder

  model, _ = load_mobilebert(locate_checkpoint(release))
  encoder = release.parent / "encoder"
  save_encoder(build_encoder_object(model, str(release / "vocab.txt"), True), str(encoder))
  return encoder


def load_fresh(export_dir):
  import tensorflow as tf
  import tensorflow_text  # noqa: F401 - the tokenizer's ops

  return tf.saved_model.load(str(export_dir))


def token_inputs(rows: int = 2):
  import tensorflow as tf

  ids = np.arange(rows * SEQ_LENGTH, dtype=np.int32).reshape(rows, SEQ_LENGTH) % 300 + 104
  mask = np.ones_like(ids)
  mask[0, SEQ_LENGTH // 2:] = 0
  types = np.zeros_like(ids)
  types[:, 10:] = 1
  return {"input_word_ids": tf.constant(ids), "input_mask": tf.constant(mask), "input_type_ids": tf.constant(types)}


def test_squad_from_a_published_encoder_tarball_serves_strings_ids_and_keras_layer(tmp_path, published_encoder):
  import tensorflow as tf
  import tensorflow_hub as hub

  from hub_export.hub_format.tarball import write_tarball
  from hub_export.hub_format.task_model_files import read_task_config

  train, dev = write_squad(tmp_path / "train.json", 8), write_squad(tmp_path / "dev.json", 4, first=20)
  export = tmp_path / "qa"
  package = write_tarball(published_encoder, tmp_path / "encoder_1.tar.gz")  # as publish packs it
  assert run(["--task", "squad", "--train_file", train, "--eval_file", dev, "--encoder", package,
              "--export_dir", export, "--model_dir", tmp_path / "run", "--batch_size", 4, "--epochs", 1,
              *SQUAD_WINDOWS]) == 0

  config = read_task_config(export)
  assert (config["task"], config["max_seq_length"], config["max_query_length"], config["lower_case"]) == (
      "squad", SEQ_LENGTH, 16, True)
  assert set(config["metrics"]) == {"exact_match", "f1"}
  assert json.loads((tmp_path / "run" / "metrics.json").read_text())["eval"] == config["metrics"]
  assert (export / "assets" / "vocab.txt").read_bytes() == (published_encoder / "assets" / "vocab.txt").read_bytes()
  assert list((tmp_path / "run" / "tensorboard").iterdir())
  assert not (tmp_path / "run" / "encoder").exists()  # a published encoder has no checkpoint folder to write

  model = load_fresh(export)
  context = "Named this well-known record in at such"
  out = model.signatures["serving_default"](question=tf.constant(["Named this?", "What?"]),
                                            context=tf.constant([context, "a long context " * 40]))
  assert out["start_logits"].shape == out["end_logits"].shape == (2, SEQ_LENGTH)
  assert out["truncated"].numpy().tolist() == [False, True]
  answer = out["answer"].numpy()[0].decode()
  assert answer and answer in context.lower() and len(answer.split()) <= 30  # a span of the context
  inputs = token_inputs()
  served = model.signatures["serve"](**inputs)
  layer = hub.KerasLayer(str(export))(inputs)
  for name in ("start_logits", "end_logits"):
    np.testing.assert_allclose(layer[name].numpy(), served[name].numpy(), rtol=1e-5, atol=1e-5)


def test_classification_from_a_fine_tuned_checkpoint_restores_its_head_and_labels_pairs(tmp_path):
  import tensorflow as tf
  import tensorflow_hub as hub

  from hub_export.hub_format.task_model_files import read_task_config
  from hub_export.weight_layout import CLASSIFIER, TaskHead
  from support.finetune_setup import write_release as write

  checkpoint = write(tmp_path / "glue_run", task_head=TaskHead(CLASSIFIER, 2))
  train, dev = write_pairs(tmp_path / "train.tsv", 8), write_pairs(tmp_path / "dev.tsv", 4, first=20)
  export = tmp_path / "classifier"
  # A rate too small to move anything: the exported head is the checkpoint's.
  assert run(["--task", "classification", "--train_file", train, "--eval_file", dev, "--ckpt", checkpoint,
              "--text_column", "premise", "--text_b_column", "hypothesis", "--label_column", "label",
              "--export_dir", export, "--max_seq_length", SEQ_LENGTH, "--batch_size", 4, "--epochs", 1,
              "--learning_rate", 1e-12]) == 0

  config = read_task_config(export)
  assert (config["labels"], config["pair"], config["regression"], config["glue_task"]) == (
      ["other", "same"], True, False, None)
  assert set(config["metrics"]) == {"accuracy"}
  model = load_fresh(export)
  head = {v.name.split(":")[0].rsplit("/", 1)[-1]: v.numpy() for v in model.variables if "classifier_head" in v.name}
  stored = tf.train.load_variable(str(checkpoint / "mobilebert_variables.ckpt"), "output_weights")
  np.testing.assert_allclose(head["output_weights"], stored, atol=1e-9)
  out = model.signatures["serving_default"](text_a=tf.constant(["one text", "two"]), text_b=tf.constant(["x", "two"]))
  np.testing.assert_allclose(out["probabilities"].numpy().sum(axis=1), 1.0, rtol=1e-6)
  assert [label.decode() for label in out["label"].numpy()] == [
      config["labels"][i] for i in out["logits"].numpy().argmax(axis=1)]
  inputs = token_inputs()
  np.testing.assert_allclose(hub.KerasLayer(str(export))(inputs)["logits"].numpy(),
                             model.signatures["serve"](**inputs)["logits"].numpy(), rtol=1e-5, atol=1e-5)


def _variables(export_dir) -> dict:
  return {v.name: v.numpy() for v in load_fresh(export_dir).variables}


def test_a_killed_run_resumes_to_the_weights_and_metrics_of_an_unbroken_run_with_the_same_seed(tmp_path, monkeypatch,
                                                                                                 caplog):
  """Two runs with one seed, one of them killed after its third step and rerun: the same weights and metrics.
  Without dropout: TensorFlow's dropout ops keep their random state in the process, not in checkpoints."""
  from hub_export.checkpoint.export_source import resolve_source, restore_model
  from hub_export.tasks import finetune_data

  release = write_release(tmp_path / "release", attention_probs_dropout_prob=0.0)
  train, dev = write_squad(tmp_path / "train.json", 8), write_squad(tmp_path / "dev.json", 4, first=20)

  def finetune(name):
    return run(["--task", "squad", "--train_file", train, "--eval_file", dev, "--ckpt", release, "--seed", 3,
                "--export_dir", tmp_path / name, "--model_dir", tmp_path / f"{name}_run", "--batch_size", 4,
                "--epochs", 2, "--checkpoint_every", 1, "--learning_rate", 1e-3, *SQUAD_WINDOWS])

  assert finetune("unbroken") == 0
  step_rows = finetune_data.step_rows

  def killed_at_step_3(count, step, batch_size, seed):
    if step == 3:
      raise KeyboardInterrupt
    return step_rows(count, step, batch_size, seed)

  monkeypatch.setattr(finetune_data, "step_rows", killed_at_step_3)
  assert finetune("resumed") == 130
  assert not (tmp_path / "resumed").exists()
  assert sorted(p.name for p in (tmp_path / "resumed_run" / "checkpoints").glob("*.index")) == [
      "ckpt-2.index", "ckpt-3.index"]
  monkeypatch.setattr(finetune_data, "step_rows", step_rows)
  caplog.set_level(logging.INFO, logger="hub_export")
  assert finetune("resumed") == 0
  assert f"resuming from {tmp_path / 'resumed_run' / 'checkpoints' / 'ckpt-3'}" in caplog.messages

  metrics = [json.loads((tmp_path / f"{name}_run" / "metrics.json").read_text()) for name in ("unbroken", "resumed")]
  assert metrics[0] == metrics[1] and set(metrics[0]["eval"]) == {"exact_match", "f1"}
  unbroken, resumed = _variables(tmp_path / "unbroken"), _variables(tmp_path / "resumed")
  assert sorted(resumed) == sorted(unbroken)
  for key, value in unbroken.items():
    np.testing.assert_array_equal(resumed[key], value, err_msg=key)

  # The fine-tuned encoder restores as export_encoder restores a --ckpt, and it moved from the release.
  model = restore_model(resolve_source(tmp_path / "unbroken_run" / "encoder"))
  original = restore_model(resolve_source(release))
  assert not np.array_equal(model.encoder.embedding.word_embeddings.numpy(),
                            original.encoder.embedding.word_embeddings.numpy())


# -- bad input: one line, exit 2, nothing written ------------------------------------------------------------------

def _refused(tmp_path, capsys, argv, model_dir="run") -> str:
  before = sorted(p.name for p in tmp_path.iterdir())
  assert run([*argv, "--export_dir", tmp_path / "out", "--model_dir", tmp_path / model_dir]) == 2
  assert sorted(p.name for p in tmp_path.iterdir()) == before
  lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
  assert len(lines) == 1
  return lines[0]


def test_bad_training_files_are_refused_in_one_line_before_anything_is_written(tmp_path, capsys, release):
  broken = tmp_path / "broken.json"
  broken.write_text('{"version": "1.1", "data": [', encoding="utf-8")
  squad = ["--task", "squad", "--ckpt", release]
  assert _refused(tmp_path, capsys, [*squad, "--train_file", broken]) == (
      f"error: SQuAD file {broken} is not JSON: line 1 column 29: Expecting value")
  empty = tmp_path / "empty.tsv"
  empty.write_text("", encoding="utf-8")
  pairs = ["--task", "classification", "--ckpt", release, "--text_column", "premise", "--text_b_column", "hypothesis",
           "--label_column", "label"]
  assert _refused(tmp_path, capsys, [*pairs, "--train_file", empty]) == f"error: {empty} is empty"
  train = write_pairs(tmp_path / "train.tsv", 4)
  assert _refused(tmp_path, capsys, [*pairs, "--train_file", train, "--labels", "same,different"]) == (
      f"error: {train} line 2: label 'other' is not one of same, different")
  (tmp_path / "notes").mkdir()
  (tmp_path / "notes" / "todo.txt").write_text("mine", encoding="utf-8")
  assert _refused(tmp_path, capsys, [*pairs, "--train_file", train], model_dir="notes") == (
      f"error: --model_dir {tmp_path / 'notes'} exists and holds no run of this command to resume; choose another "
      "folder, or pass --overwrite to start afresh")
  assert _refused(tmp_path, capsys, [*pairs, "--train_file", train, "--overwrite"], model_dir="notes") == (
      f"error: --overwrite would delete {tmp_path / 'notes' / 'todo.txt'}, which an earlier run of this command did "
      "not write; choose another output directory or move that file away")


def test_a_preprocessor_for_another_vocab_is_refused(tmp_path, capsys, published_encoder, reference_preprocessor):
  train = write_squad(tmp_path / "train.json", 4)
  line = _refused(tmp_path, capsys, ["--task", "squad", "--train_file", train, "--encoder", published_encoder,
                                     "--preprocessor", reference_preprocessor])
  assert line == (f"error: --preprocessor {reference_preprocessor} has a vocab of 30522 tokens, the encoder's "
                  f"{published_encoder / 'assets' / 'vocab.txt'} has 1657: they do not belong together")


def test_a_preprocessor_casing_text_otherwise_is_refused(release):
  from hub_export.support.errors import HubExportError
  from hub_export.tasks.preprocessor_match import VocabPreprocessor, check_matches
  from hub_export.tokenization.vocab import load_vocab

  vocab = load_vocab(release / "vocab.txt")
  check_matches(release, VocabPreprocessor(vocab, lower_case=True), vocab, lower_case=True)
  with pytest.raises(HubExportError, match=r"does not case text as the encoder \(lower_case=true\)"):
    check_matches(release, VocabPreprocessor(vocab, lower_case=False), vocab, lower_case=True)


def test_a_corrupt_encoder_tarball_or_a_bad_handle_is_refused_in_one_line(tmp_path, capsys):
  train = write_pairs(tmp_path / "train.tsv", 4)
  pairs = ["--task", "classification", "--train_file", train, "--text_column", "premise", "--text_b_column",
           "hypothesis", "--label_column", "label"]
  corrupt = tmp_path / "encoder_1.tar.gz"
  corrupt.write_bytes(b"\x1f\x8b" + bytes(64))
  assert _refused(tmp_path, capsys, [*pairs, "--encoder", corrupt]) == (
      f"error: tarball {corrupt} is damaged: Unknown compression method")
  assert _refused(tmp_path, capsys, [*pairs, "--encoder", "kaggle://acme/toy-bert"]) == (
      "error: 'kaggle://acme/toy-bert': expected kaggle://OWNER/MODEL/FRAMEWORK/VARIATION[/VERSION]")
  assert _refused(tmp_path, capsys, [*pairs, "--encoder", "kaggle://acme/toy-bert/tfLite/x"]) == (
      "error: kaggle://acme/toy-bert/tfLite/x: only tensorFlow2 variations hold a SavedModel")


def test_an_encoder_tarball_that_is_no_bert_encoder_is_named_as_given(tmp_path, capsys, synthetic_encoder):
  from hub_export.hub_format.tarball import write_tarball

  package = write_tarball(synthetic_encoder, tmp_path / "toy_1.tar.gz")  # its word table is not named as BERT's
  line = _refused(tmp_path, capsys, ["--task", "squad", "--train_file", write_squad(tmp_path / "train.json", 4),
                                     "--encoder", package])
  assert line == f"error: --encoder {package} has 0 word embedding tables, expected one"
