"""`evaluate_task` scores every form of a task model alike, end to end, and refuses bad input in one line.

The task models are tiny seeded ones laid out as the task-model contract says (tests/support/task_savedmodels.py),
so these tests need no fine-tuning: one SQuAD model (contexts longer than one window) and one
sentence-pair classifier, each as a SavedModel, its hub.KerasLayer reload, a Keras 3 model (a preset
folder for SQuAD, a `.keras` file for the classifier) and a float `.tflite` (dynamic shapes for SQuAD,
batch 1 for the classifier, so its batches run in chunks).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from hub_export import evaluate_task
from hub_export.support import cli
from hub_export.support.errors import HubExportError
from support import task_savedmodels as tm

FORMS = ("savedmodel", "hub", "keras3", "tflite")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  """task -> {form: (model path, extra evaluate_task arguments)}, plus the eval files."""
  root = tmp_path_factory.mktemp("task_models")
  vocab = tm.english_vocab()
  built = {}
  for settings in (tm.SQUAD_SETTINGS, tm.CLASSIFICATION_SETTINGS):
    task = settings["task"]
    model = tm.task_model(settings, len(vocab))
    saved = tm.save_task_model(root / task, model, settings, vocab)
    keras3 = tm.keras3_task(model)
    if task == "squad":  # the Keras 3 forms: a preset folder and a .keras file; the .tflite: dynamic and [1, SEQ]
      keras3.save_to_preset(str(root / "squad_preset"))
      keras3, tflite = root / "squad_preset", tm.save_tflite(saved, root / "squad.tflite")
    else:
      keras3.save(str(root / f"{task}.keras"))
      keras3, tflite = root / f"{task}.keras", tm.save_fixed_tflite(model, root / f"{task}.tflite")
    built[task] = {"savedmodel": (saved, {}), "hub": (saved, {"via_hub": True}),
                   "keras3": (keras3, {"assets_from": saved}), "tflite": (tflite, {"assets_from": saved})}
  built["squad_file"] = tm.squad_file(root / "dev-v1.1.json")
  built["pairs_file"] = tm.pairs_file(root / "dev.tsv", tm.CLASSIFICATION_SETTINGS["labels"])
  return built


def _evaluate(models, task, form, eval_file, out, **kwargs):
  path, extra = models[task][form]
  return evaluate_task.evaluate_task(task, path, eval_file, predictions_out=out, **extra, **kwargs)


def test_every_form_of_a_squad_model_scores_the_same(models, tmp_path):
  from hub_export.tasks import squad_data, squad_windows
  from hub_export.tasks.squad_tokens import WordpieceTokenizer
  from hub_export.tokenization.vocab import load_vocab

  vocab = load_vocab(models["squad"]["savedmodel"][0] / "assets" / "vocab.txt")
  examples = squad_data.read_squad(models["squad_file"], False, False).examples
  encoded = squad_windows.encode(examples, WordpieceTokenizer(vocab, True), vocab, tm.SEQ, 16, 24)
  assert len(encoded.windows) >= 2 * len(examples)  # the contexts take several windows each
  metrics, answers = {}, {}
  for form in FORMS:
    out = tmp_path / f"{form}.json"
    metrics[form] = _evaluate(models, "squad", form, models["squad_file"], out)
    answers[form] = json.loads(out.read_text())
  assert set(metrics["savedmodel"]) == {"exact_match", "f1"}
  assert metrics["savedmodel"]["f1"] > 0  # the answers overlap the gold ones: figures that can differ
  assert sorted(answers["savedmodel"]) == sorted(e.qas_id for e in examples)
  for form in FORMS[1:]:
    for key, value in metrics["savedmodel"].items():
      assert abs(metrics[form][key] - value) <= 0.1, (form, metrics)
    assert answers[form] == answers["savedmodel"], form


def test_every_form_of_a_classifier_scores_the_same(models, tmp_path):
  metrics, labels = {}, {}
  for form in FORMS:
    out = tmp_path / f"{form}.txt"
    metrics[form] = _evaluate(models, "classification", form, models["pairs_file"], out)
    labels[form] = out.read_text().splitlines()
  assert set(metrics["savedmodel"]) == {"accuracy"}
  assert len(labels["savedmodel"]) == 24 and set(labels["savedmodel"]) <= {"no", "yes", "maybe"}
  for form in FORMS[1:]:
    assert abs(metrics[form]["accuracy"] - metrics["savedmodel"]["accuracy"]) <= 0.1, (form, metrics)
    assert labels[form] == labels["savedmodel"], form


def test_command_prints_one_json_line_and_scores_squad_v2_with_null_odds(models, tmp_path, capsys):
  model = models["squad"]["savedmodel"][0]
  argv = _args("squad", model, models["squad_file"], "--version_2_with_negative", "--predictions_out",
               tmp_path / "p.json", "--na_prob_out", tmp_path / "na.json", "--batch_size", "3")
  assert cli.run(evaluate_task._main, argv) == 0
  lines = capsys.readouterr().out.splitlines()
  assert len(lines) == 1
  metrics = json.loads(lines[0])
  assert {"exact", "f1", "total", "HasAns_exact", "best_f1", "best_f1_thresh"} <= set(metrics)
  assert metrics["total"] == 12
  odds = json.loads((tmp_path / "na.json").read_text())
  assert sorted(odds) == sorted(json.loads((tmp_path / "p.json").read_text()))
  assert all(isinstance(v, float) for v in odds.values())


def _bad_tflite(path):
  """A .tflite whose `serve` signature takes other inputs (the Task Library's names)."""
  import tensorflow as tf

  module = tf.Module()
  module.fn = tf.function(lambda ids, mask: {"logits": tf.cast(ids + mask, tf.float32)})
  serve = module.fn.get_concrete_function(tf.TensorSpec([1, tm.SEQ], tf.int32, name="ids"),
                                          tf.TensorSpec([1, tm.SEQ], tf.int32, name="mask"))
  tf.saved_model.save(module, str(path.with_suffix("")), signatures={"serve": serve})
  path.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(path.with_suffix("")), ["serve"]).convert())
  return path


def _no_task_json(models, tmp_path):
  copy = shutil.copytree(models["squad"]["savedmodel"][0], tmp_path / "copy")
  (copy / "assets" / "task.json").unlink()
  return copy


def _args(task, model, eval_file, *extra):
  return ["--task", task, "--model", str(model), "--eval_file", str(eval_file), *map(str, extra)]


def _squad(m):
  return m["squad"]["savedmodel"][0]


def _classifier(m):
  return m["classification"]["savedmodel"][0]


PAIRS_HEADER = "sentence1\tsentence2\tlabel\n"
BAD = {
    "no task.json": (lambda m, t: _args("squad", _no_task_json(m, t), m["squad_file"]),
                     "is not a task model: no assets/task.json"),
    "other task": (lambda m, t: _args("classification", _squad(m), m["pairs_file"]),
                   "holds a squad model, not --task classification"),
    "malformed json": (lambda m, t: _args("squad", _squad(m), _write(t / "bad.json", '{"data": [{"paragraphs": 3}]}')),
                       "bad.json"),
    "bad tsv line": (lambda m, t: _args("classification", _classifier(m),
                                        _write(t / "bad.tsv", PAIRS_HEADER + "a\tb\tno\na\tb\n")), "bad.tsv line 3"),
    "label outside the list": (lambda m, t: _args("classification", _classifier(m),
                                                  _write(t / "bad.tsv", PAIRS_HEADER + "a\tb\tperhaps\n")),
                               "label 'perhaps' is not one of no, yes, maybe"),
    "tflite inputs": (lambda m, t: _args("squad", _bad_tflite(t / "bad.tflite"), m["squad_file"], "--assets_from",
                                         _squad(m)),
                      "bad.tflite takes ids int32[rank 2], mask int32[rank 2]; expected int32 [batch, seq] inputs"),
    "one file for two outputs": (lambda m, t: _args("squad", _squad(m), m["squad_file"], "--version_2_with_negative",
                                                    "--na_prob_out", t / "out" / "predictions.txt"),
                                 "are both"),
    "file model without assets": (lambda m, t: _args("squad", m["squad"]["tflite"][0], m["squad_file"]),
                                  "pass --assets_from"),
}


def _write(path, text):
  path.write_text(text, encoding="utf-8")
  return path


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(models, tmp_path, capsys, case):
  make_argv, expected = BAD[case]
  out = tmp_path / "out" / "predictions.txt"
  assert cli.run(evaluate_task._main, make_argv(models, tmp_path) + ["--predictions_out", str(out)]) == 2
  captured = capsys.readouterr()
  error = [line for line in captured.err.splitlines() if line.startswith("error:")]
  assert len(error) == 1 and expected in error[0], captured.err
  assert captured.out == ""
  assert not (out.parent.exists() and any(out.parent.iterdir())), "an output or a temporary was left"


def test_classification_columns_by_position_in_a_file_without_header(models, tmp_path):
  lines = models["pairs_file"].read_text(encoding="utf-8").splitlines()
  swapped = _write(tmp_path / "no_header.tsv", "".join("\t".join(line.split("\t")[::-1]) + "\n" for line in lines[1:]))
  by_position = _evaluate(models, "classification", "savedmodel", swapped, tmp_path / "a.txt",
                          columns={"text": 2, "text_b": 1, "label": 0}, header=False)
  assert by_position == _evaluate(models, "classification", "savedmodel", models["pairs_file"], tmp_path / "b.txt")
  assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()


def test_existing_predictions_are_kept_without_overwrite(models, tmp_path):
  out = _write(tmp_path / "p.json", '{"kept": "yes"}')
  with pytest.raises(HubExportError, match="exists; pass --overwrite"):
    _evaluate(models, "squad", "savedmodel", models["squad_file"], out)
  assert out.read_text() == '{"kept": "yes"}'
  _evaluate(models, "squad", "savedmodel", models["squad_file"], out, overwrite=True)
  assert "kept" not in json.loads(out.read_text())


def test_a_task_model_with_the_in_graph_tokenizer_is_scored_in_a_fresh_process(tmp_path):
  """`finetune` saves a `serving_default` that tokenizes with TensorFlow Text's ops, which a process must register
  before loading the model: the command does (in its own process nothing else imports tensorflow_text first)."""
  model = tm.save_stub_qa_model(tmp_path / "model", text_ops=True)
  done = subprocess.run([sys.executable, "-m", "hub_export.evaluate_task", "--task", "squad", "--model", str(model),
                         "--eval_file", str(tm.squad_file(tmp_path / "dev.json"))], capture_output=True, text=True,
                        timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
  assert done.returncode == 0, done.stderr[-2000:]
  assert set(json.loads(done.stdout.strip().splitlines()[-1])) == {"exact_match", "f1"}
