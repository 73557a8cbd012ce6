"""The SQuAD and classifier heads agree with HF transformers' MobileBERT task models, and restore from
checkpoints holding the original fine-tuning code's head variables.

The golden files were made by tools/make_hf_head_golden.py (HF `MobileBertForQuestionAnswering` and
`MobileBertForSequenceClassification`, eval mode) from fine-tuned checkpoints the release writer lays
down; here the same checkpoints are rewritten from the same seed and restored, so no torch is needed.
"""

import functools
import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from conftest import GOLDEN_DIR
from hub_export import signatures as sig
from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.native import write_native_checkpoint
from hub_export.checkpoint.tf1_release import DEFAULT_PREFIX, write_release_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
from hub_export.config import MobileBertConfig
from hub_export.model import build_mobilebert
from hub_export.signatures import END_LOGITS, START_LOGITS
from hub_export.support.errors import HubExportError
from hub_export.weight_layout import CLASSIFIER, SPAN, SPAN_HEAD, TaskHead
from support.checkpoint_edits import rewrite_checkpoint
from support.golden_releases import padded_batches, relative_error, rewrite_golden_release

# Beside the encoder's golden files, in their own folder (the encoder's tests take every file in tests/support/golden).
HEAD_GOLDEN_DIR = GOLDEN_DIR / "heads"
GOLDEN = sorted(p.stem for p in HEAD_GOLDEN_DIR.glob("*.npz"))
_KEYS = sig.ENCODER_INPUT_KEYS


def test_golden_files_cover_span_classifier_and_regression_heads():
  heads = {(str(g["head_kind"]), int(g["num_labels"])) for g in (np.load(HEAD_GOLDEN_DIR / f"{n}.npz") for n in GOLDEN)}
  assert {(SPAN, 2), (CLASSIFIER, 3), (CLASSIFIER, 1)} <= heads
  assert all((HEAD_GOLDEN_DIR / f"{name}.npz").stat().st_size < 64 << 10 for name in GOLDEN)


def _logits(outputs, kind: str) -> np.ndarray:
  """Span: [B, S, 2], each token's (start, end); classifier: [B, num_labels]."""
  if kind == SPAN:
    return np.stack([np.asarray(outputs[START_LOGITS]), np.asarray(outputs[END_LOGITS])], -1)
  return np.asarray(outputs)


def _golden_logits(golden, prefix: str = "") -> np.ndarray:
  """HF's logits in `_logits`'s layout; `prefix` "short_" for the rows run alone."""
  if str(golden["head_kind"]) == SPAN:
    return _logits({n: golden[f"{prefix}{n}"] for n in (START_LOGITS, END_LOGITS)}, SPAN)
  return golden[f"{prefix}logits"]


def _hidden(golden) -> int:
  return json.loads(str(golden["config_json"]))["hidden_size"]


@pytest.fixture(scope="module")
def restored(tmp_path_factory):
  """name -> (golden arrays, task head, the seeded fine-tuned release dir, model restored from it)."""

  @functools.cache
  def get(name):
    golden = np.load(HEAD_GOLDEN_DIR / f"{name}.npz")
    head = TaskHead(str(golden["head_kind"]), int(golden["num_labels"]))
    release = rewrite_golden_release(golden, tmp_path_factory.mktemp(name) / "release", head)
    return golden, head, release, load_mobilebert(locate_checkpoint(release), task_head=head)[0]

  return get


@pytest.mark.parametrize("name", GOLDEN)
def test_matches_hf_pytorch(restored, name):
  golden, head, _, model = restored(name)
  inputs = {k: tf.constant(golden[k]) for k in _KEYS}
  expected = _golden_logits(golden)
  assert relative_error(_logits(model.task_logits(inputs)[1], head.kind), expected).max() <= 1e-5
  # A batch of one takes the two-stream graph (BlockStack); each row alone must agree too.
  for row in range(len(expected)):
    alone = _logits(model.task_logits({k: v[row:row + 1] for k, v in inputs.items()})[1], head.kind)
    assert relative_error(alone[0], expected[row]).max() <= 1e-5


def _rows(golden) -> list:
  """(length, one row's inputs cut to its real tokens, HF's logits for it run unpadded): the short rows and
  the first full-length row."""
  per_token = str(golden["head_kind"]) == SPAN
  short = _golden_logits(golden, "short_")
  rows = [(int(n), {k: golden[f"short_{k}"][r, :n] for k in _KEYS}, short[r, :n] if per_token else short[r])
          for r, n in enumerate(golden["short_length"])]
  n = golden["input_word_ids"].shape[1]
  return rows + [(n, {k: golden[k][0] for k in _KEYS}, _golden_logits(golden)[0])]


@pytest.mark.parametrize("name", GOLDEN)
def test_padded_batches_match_hf_on_the_rows_unpadded(restored, name):
  """Rows of different real lengths, padded into batches, get at their real tokens (or, for a classifier,
  per row) the logits HF gives each row run alone without padding."""
  golden, head, _, model = restored(name)
  rows = _rows(golden)
  assert len({n for n, _, _ in rows}) == len(rows) >= 4
  for batch_rows, batch in padded_batches(rows):
    logits = _logits(model.task_logits(batch)[1], head.kind)
    for r, (n, _, hf) in enumerate(batch_rows):
      ours = logits[r, :n] if head.kind == SPAN else logits[r]
      assert relative_error(ours, hf).max() <= 1e-5, (r, n)
      if head.kind == SPAN and n < logits.shape[1]:  # padding is left unmasked, as in the original
        assert np.abs(logits[r, n:]).max() < 10 * np.abs(hf).max(), (r, n)


@pytest.mark.parametrize("name", GOLDEN)
def test_restores_the_original_head_variable_names(restored, name):
  """run_squad.py's `cls/squad/output_weights` [2, H], run_classifier.py's `output_weights` [num_labels, H]
  and their biases land, as stored, in the head."""
  _, head, release, model = restored(name)
  reader = tf.train.load_checkpoint(str(release / DEFAULT_PREFIX))
  scope = "cls/squad/" if head.kind == SPAN else ""
  names = {k for k in reader.get_variable_to_shape_map() if not k.startswith("bert/")}
  assert names == {f"{scope}output_weights", f"{scope}output_bias", "global_step"}
  assert reader.get_variable_to_shape_map()[f"{scope}output_weights"] == [head.num_labels, model.config.hidden_size]
  np.testing.assert_array_equal(model.head.output_weights.numpy(), reader.get_tensor(f"{scope}output_weights"))
  np.testing.assert_array_equal(model.head.output_bias.numpy(), reader.get_tensor(f"{scope}output_bias"))


def test_fine_tuned_checkpoint_with_adam_slots_restores(restored, tmp_path):
  """What run_squad.py saves: the encoder, the head, their Adam slots and the step counter."""
  golden, head, _, model = restored("qa_small")
  config = MobileBertConfig.from_dict(json.loads(str(golden["config_json"])))
  release = write_release_checkpoint(tmp_path / "release", config, int(golden["seed"]), task_head=head,
                                     with_optimizer_slots=True)
  slotted, report = load_mobilebert(locate_checkpoint(release), task_head=head)
  assert report.unused == [] and report.ignored == 2 * report.restored + 1
  np.testing.assert_array_equal(slotted.head.output_weights.numpy(), model.head.output_weights.numpy())


def _edited(restored, tmp_path, name: str, **edits):
  """A copy of the case's fine-tuned release, rewritten with `rewrite_checkpoint(drop=, add=)`."""
  release = shutil.copytree(restored(name)[2], tmp_path / "release")
  rewrite_checkpoint(str(release / DEFAULT_PREFIX), **edits)
  return locate_checkpoint(release)


def _error_line(location, head) -> str:
  with pytest.raises(HubExportError) as error:
    load_mobilebert(location, task_head=head)
  text = str(error.value)
  assert "\n" not in text
  return text


def test_missing_head_variable_is_named(restored, tmp_path):
  text = _error_line(_edited(restored, tmp_path, "qa_small", drop=["cls/squad/output_bias"]), SPAN_HEAD)
  assert "does not fit the config and a span head of 2 labels: " \
         "model variables missing from the checkpoint 1: cls/squad/output_bias [2]" in text


def test_transposed_head_weights_are_named_with_both_shapes(restored, tmp_path):
  hidden = _hidden(restored("qa_small")[0])
  location = _edited(restored, tmp_path, "qa_small",
                     add={"cls/squad/output_weights": np.zeros([hidden, 2], np.float32)})
  assert f"mismatched variables 1: cls/squad/output_weights checkpoint [{hidden}, 2] vs model [2, {hidden}]" \
      in _error_line(location, SPAN_HEAD)


def test_wrong_label_count_is_named(restored):
  golden, _, release, _ = restored("classifier_small")
  hidden = _hidden(golden)
  text = _error_line(locate_checkpoint(release), TaskHead(CLASSIFIER, 2))
  assert "(the classifier head has 2 labels but the checkpoint's output_weights has 3 rows)" in text
  assert f"output_weights checkpoint [3, {hidden}] vs model [2, {hidden}], output_bias checkpoint [3] vs model [2]" \
      in text


def test_another_heads_checkpoint_is_named(restored):
  golden, _, release, _ = restored("classifier_small")
  hidden = _hidden(golden)
  assert f"model variables missing from the checkpoint 2: cls/squad/output_weights [2, {hidden}], " \
         f"cls/squad/output_bias [2]; unknown checkpoint variables 2: output_bias [3], output_weights [3, {hidden}]" \
      in _error_line(locate_checkpoint(release), SPAN_HEAD)


_ONE_BLOCK = MobileBertConfig(vocab_size=100, hidden_size=64, num_hidden_layers=1, embedding_size=32,
                              intra_bottleneck_size=32, intermediate_size=64, num_feedforward_networks=1)


def test_pretraining_checkpoint_lacks_the_head(tmp_path):
  """A release without fine-tuning holds no head; its MLM and next-sentence heads are known, not unknown."""
  release = write_release_checkpoint(tmp_path / "release", _ONE_BLOCK, 3)
  text = _error_line(locate_checkpoint(release), SPAN_HEAD)
  assert text.endswith("model variables missing from the checkpoint 2: cls/squad/output_weights [2, 64], "
                       "cls/squad/output_bias [2]")


def test_task_head_from_another_layout_is_refused(tmp_path):
  (tmp_path / "ckpt").mkdir()
  write_native_checkpoint(build_mobilebert(_ONE_BLOCK), str(tmp_path / "ckpt" / "model"))
  text = _error_line(locate_checkpoint(tmp_path / "ckpt"), TaskHead(CLASSIFIER, 2))
  assert "is in the hub_export TF2 (this project's object checkpoint) layout; a classifier head restores from " \
         "the original TF1 release (name-based) layout only" in text


@pytest.mark.parametrize("kind, num_labels, message", [
    (SPAN, 3, "a span head's num_labels must be 2, got 3"),
    (CLASSIFIER, 0, "a classifier head's num_labels must be a positive integer, got 0"),
    ("tagger", 2, "task head kind must be one of span, classifier, got 'tagger'"),
])
def test_bad_task_head_is_named(kind, num_labels, message):
  with pytest.raises(HubExportError, match=message):
    TaskHead(kind, num_labels)
