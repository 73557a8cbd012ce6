"""publish --task_model DIR --tflite FILE... --eval_file FILE: the task model's card gets a table by precision, each
model scored on the same eval file at its own length; a set-up the table cannot be made for is one line, exit 2,
nothing written."""

import functools
import re

import pytest

pytest.importorskip("ai_edge_litert.interpreter",
                    reason="ai-edge-litert (the LiteRT runtime, a test extra) is not installed")

from hub_export import publish  # noqa: E402
from hub_export.evaluate_task import evaluate_task  # noqa: E402
from hub_export.tflite.qa_source import TASK_LIBRARY_SEQ_LENGTH  # noqa: E402
from support import task_savedmodels as tm  # noqa: E402

METRICS = {"exact_match": 37.5, "f1": 51.25}  # what task.json says the model scored when fine-tuned
NAME = "toy_en_uncased"


@pytest.fixture(scope="module")
def qa(tmp_path_factory):
  """A tiny SQuAD task SavedModel at max_seq_length 64, its float [1, 64] file, its dynamic-range file at the Task
  Library's 384 (export_tflite --task_model), and a SQuAD eval file."""
  from hub_export.tasks.task_library_inputs import qa_windows
  from hub_export.tflite.export import export_task_qa
  from hub_export.tflite.representative_data import DEFAULT_CALIBRATION_TEXT

  root = tmp_path_factory.mktemp("precision")
  vocab = tm.english_vocab()
  model = tm.task_model(tm.SQUAD_SETTINGS, len(vocab))
  saved = tm.save_task_model(root / "qa", model, tm.SQUAD_SETTINGS, vocab, METRICS)
  float_64 = tm.save_fixed_tflite(model, root / "qa_float_64.tflite")
  windows = functools.partial(qa_windows, saved, None, DEFAULT_CALIBRATION_TEXT)
  dynamic_384 = export_task_qa(root / "qa_dynamic.tflite", saved, windows, "dynamic")
  return {"saved": saved, "files": [float_64, dynamic_384], "eval": tm.squad_file(root / "dev.json"), "root": root}


def _table(card: str) -> list:
  """The rows of the card's table by precision: [model, tokens, exact_match, f1, size, latency] as strings."""
  section = card.split("### By precision", 1)[1]
  return [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
          if line.startswith("| ") and not line.startswith(("| model", "| ---"))]


def test_the_card_shows_every_model_scored_on_the_same_eval_file(qa, tmp_path):
  dist = tmp_path / "dist"
  float_64, dynamic_384 = qa["files"]
  assert publish.main(["--task_model", str(qa["saved"]), "--tflite", *map(str, qa["files"]), "--eval_file",
                       str(qa["eval"]), "--out", str(dist), "--name", NAME, "--language", "en"]) == 0
  card = (dist / f"{NAME}_squad" / "1.md").read_text()
  rows = {(row[0], int(row[1])): row for row in _table(card)}
  assert sorted(rows) == [("qa_dynamic.tflite", TASK_LIBRARY_SEQ_LENGTH), ("qa_float_64.tflite", tm.SEQ),
                          ("task SavedModel", tm.SEQ), ("task SavedModel", TASK_LIBRARY_SEQ_LENGTH)]
  # The SavedModel at its own length: what evaluate_task scores; the float file at that length: the same.
  want = evaluate_task("squad", qa["saved"], qa["eval"])
  assert rows[("task SavedModel", tm.SEQ)][2:4] == [f"{want['exact_match']:.2f}", f"{want['f1']:.2f}"]
  assert rows[("qa_float_64.tflite", tm.SEQ)][2:4] == rows[("task SavedModel", tm.SEQ)][2:4]
  # Dynamic-range at 384, against the SavedModel on the same 384-token windows: close, not equal.
  f1 = {seq: float(rows[key][3]) for key, seq in ((("task SavedModel", TASK_LIBRARY_SEQ_LENGTH), "saved"),
                                                   (("qa_dynamic.tflite", TASK_LIBRARY_SEQ_LENGTH), "dynamic"))}
  assert abs(f1["saved"] - f1["dynamic"]) <= 5, f1
  for path in qa["files"]:
    row = rows[(path.name, tm.SEQ if path == float_64 else TASK_LIBRARY_SEQ_LENGTH)]
    assert row[4] == f"{path.stat().st_size / 1e6:.1f}" and float(row[5]) > 0
  # The card still states the fine-tuning metrics, and the files are published beside the task model.
  assert "when it was fine-tuned: exact_match 37.5, f1 51.25." in card
  assert sorted(p.name for p in (dist / "kaggle" / "tfLite").iterdir()) == ["qa-dynamic", "qa-float-64"]


def _other_tflite(path):
  """A .tflite of another function (float32 [1, 4] in, no signature): not a task model's `serve`."""
  import tensorflow as tf

  double = tf.function(lambda x: {"y": 2 * x}, input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
  path.write_bytes(tf.lite.TFLiteConverter.from_concrete_functions([double.get_concrete_function()]).convert())
  return path


@pytest.mark.parametrize("problem", ["two task models", "a file of another model", "a missing eval file"])
def test_a_table_that_cannot_be_made_is_one_line_and_nothing_is_written(qa, tmp_path, capsys, problem):
  argv = ["--task_model", str(qa["saved"]), "--eval_file", str(qa["eval"]), "--out", str(tmp_path / "dist"),
          "--name", NAME, "--language", "en"]
  if problem == "two task models":
    argv += ["--task_model", str(qa["saved"])]
    expected = r"--eval_file scores one --task_model and the --tflite files converted from it; got 2 task models"
  elif problem == "a file of another model":
    other = _other_tflite(tmp_path / "other.tflite")
    argv += ["--tflite", str(other)]
    expected = rf"{re.escape(str(other))} has no signature: convert the task model's 'serve' signature"
  else:
    argv[argv.index("--eval_file") + 1] = str(tmp_path / "absent.json")
    expected = rf"--eval_file {re.escape(str(tmp_path / 'absent.json'))} is not a file"
  capsys.readouterr()
  assert publish.main(argv) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert re.fullmatch(f"error: {expected}", err[-1]), err
  assert not (tmp_path / "dist").exists()
