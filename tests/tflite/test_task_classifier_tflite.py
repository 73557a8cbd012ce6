"""export_tflite --task_classifier: a sentence-pair task model (which MediaPipe and the Task Library cannot feed) as a
.tflite on token ids in every precision, scored by evaluate_task as the task SavedModel is; padding stays inert;
what does not fit is one line, exit 2, nothing written."""

import zipfile

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert.interpreter",
                    reason="ai-edge-litert (the LiteRT runtime, a test extra) is not installed")

from hub_export import signatures as sig  # noqa: E402
from hub_export.evaluate_task import evaluate_task  # noqa: E402
from hub_export.export_tflite import main  # noqa: E402
from hub_export.tflite import QUANTIZATIONS  # noqa: E402
from support import task_savedmodels as tm  # noqa: E402
from support.command_runs import run_main  # noqa: E402

LABELS = tm.CLASSIFICATION_SETTINGS["labels"]
DEV_PAIRS = 48


def _cli(capsys, *args):
  return run_main(capsys, main, *args)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
  """A seeded pair classifier (3 labels, max_seq_length 64), a dev TSV of pairs, and the command's file in each
  precision (int8 calibrated on the dev TSV)."""
  root = tmp_path_factory.mktemp("task_classifier")
  vocab = tm.english_vocab()
  model = tm.task_model(tm.CLASSIFICATION_SETTINGS, len(vocab))
  saved = tm.save_task_model(root / "pairs", model, tm.CLASSIFICATION_SETTINGS, vocab, {"accuracy": 40.0})
  dev = tm.pairs_file(root / "dev.tsv", LABELS, count=DEV_PAIRS)
  files = {}
  for quantize in QUANTIZATIONS:
    files[quantize] = root / f"pairs_{quantize}.tflite"
    calibration = ["--calibration_tsv", dev] if quantize == "int8" else []
    with pytest.raises(SystemExit) as exit_info:
      main([str(a) for a in ("--task_classifier", saved, "--out", files[quantize], "--quantize", quantize,
                             *calibration)])
    assert exit_info.value.code == 0
  return {"saved": saved, "dev": dev, "files": files, "root": root}


def test_the_file_takes_token_ids_and_gives_logits_with_its_labels_and_vocab(pairs):
  from hub_export.tflite.runtime import TFLiteEncoder

  for quantize, path in pairs["files"].items():
    model = TFLiteEncoder(path, output_keys=(sig.LOGITS,))
    inputs = {name: (tuple(d["shape"]), d["dtype"]) for name, d in model.input_details.items()}
    assert inputs == {key: ((1, tm.SEQ), np.int32) for key in sig.ENCODER_INPUT_KEYS}, quantize
    outputs = {name: (tuple(d["shape"]), d["dtype"]) for name, d in model.output_details.items()}
    assert outputs == {sig.LOGITS: ((1, len(LABELS)), np.float32)}, quantize
    with zipfile.ZipFile(path) as packed:  # TFLite metadata's associated files ride in a zip at the file's end
      assert packed.read("labels.txt").decode().splitlines() == LABELS
      assert packed.read("vocab.txt") == (pairs["saved"] / "assets" / "vocab.txt").read_bytes()


def test_evaluate_task_scores_every_precision_on_the_pairs(pairs, tmp_path):
  """The float file labels every dev pair as the SavedModel does; the quantized ones nearly all."""
  def labels(model, name, **kwargs):
    out = tmp_path / f"{name}.txt"
    metrics = evaluate_task("classification", model, pairs["dev"], predictions_out=out, **kwargs)
    return metrics, out.read_text().splitlines()

  want_metrics, want = labels(pairs["saved"], "saved")
  assert len(want) == DEV_PAIRS
  for quantize, path in pairs["files"].items():
    metrics, got = labels(path, quantize, assets_from=pairs["saved"])
    same = np.mean([g == w for g, w in zip(got, want)])
    if quantize == "none":
      assert (metrics, same) == (want_metrics, 1.0)
    else:
      assert same >= 0.9, (quantize, same)


def test_padding_stays_inert_in_every_precision(pairs, tmp_path):
  """Other ids under the mask leave the logits bit-identical (from one past the first padding on: the trigram
  embedding of the last real token reads the id after it)."""
  from hub_export.tasks.task_library_inputs import classifier_windows
  from hub_export.tflite.runtime import TFLiteEncoder

  short = tmp_path / "short.txt"
  short.write_text("the film was good\nthe film was not bad at all\n", encoding="utf-8")
  window = classifier_windows(pairs["saved"], None, short, 1)[0]
  assert 8 < window[sig.INPUT_MASK].sum() < tm.SEQ // 2
  beyond = np.arange(tm.SEQ) > window[sig.INPUT_MASK].sum()
  other = dict(window, **{sig.INPUT_WORD_IDS: np.where(beyond, 5 + np.arange(tm.SEQ) % 40,
                                                       window[sig.INPUT_WORD_IDS]).astype(np.int32)})
  for quantize, path in pairs["files"].items():
    model = TFLiteEncoder(path, output_keys=(sig.LOGITS,))
    np.testing.assert_array_equal(model(other)[sig.LOGITS], model(window)[sig.LOGITS], err_msg=quantize)


def test_a_question_answerer_is_refused_before_loading(pairs, tmp_path, capsys):
  model = tmp_path / "model"
  tm.write_task_assets(model, tm.SQUAD_SETTINGS, tm.english_vocab())
  (model / "saved_model.pb").write_bytes(b"not a SavedModel")
  code, line = _cli(capsys, "--task_classifier", model, "--out", tmp_path / "m.tflite")
  assert (code, line) == (2, f"error: --task_classifier {model} is a squad model; --task_classifier takes a "
                             "classification one (a question answerer goes on device with --task_model)")
  assert not (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize("flag, why", [
    (["--labels", "labels.txt"], "its assets/task.json names its labels"),
    (["--seq_length", "128"], "it keeps the max_seq_length it was fine-tuned at"),
    (["--calibration_squad", "dev.json"], "a classifier calibrates on --calibration_tsv"),
])
def test_a_flag_that_does_not_apply_is_refused(tmp_path, capsys, flag, why):
  code, line = _cli(capsys, "--task_classifier", tmp_path / "none", "--out", tmp_path / "m.tflite", *flag)
  assert (code, line) == (2, f"error: {flag[0]} does not apply to --task_classifier ({why})")
  assert list(tmp_path.iterdir()) == []


def test_calibration_tsv_applies_to_a_task_classifier_only(tmp_path, capsys):
  code, line = _cli(capsys, "--task_model", tmp_path / "qa", "--out", tmp_path / "m.tflite", "--calibration_tsv",
                    tmp_path / "dev.tsv")
  assert (code, line) == (2, "error: --calibration_tsv does not apply to --task_model (a SQuAD model calibrates on "
                             "--calibration_squad)")
