"""GLUE and XNLI scores against cases worked on paper, textbook formulas written out here, and scipy."""

import math

import numpy as np
import pytest

from hub_export.support.errors import HubExportError
from hub_export.tasks.classification_data import TASKS
from hub_export.tasks.classification_metrics import score


def _binary_counts(predictions, references):
  counts = {"tp": 0, "tn": 0, "fp": 0, "fn": 0}
  for guess, truth in zip(predictions, references):
    counts[("t" if guess == truth else "f") + ("p" if guess == 1 else "n")] += 1
  return counts


def _textbook_f1(predictions, references):
  c = _binary_counts(predictions, references)
  precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
  recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
  return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _textbook_matthews(predictions, references):
  c = _binary_counts(predictions, references)
  denominator = math.sqrt((c["tp"] + c["fp"]) * (c["tp"] + c["fn"]) * (c["tn"] + c["fp"]) * (c["tn"] + c["fn"]))
  return (c["tp"] * c["tn"] - c["fp"] * c["fn"]) / denominator if denominator else 0.0


def _one_hot_correlation(predictions, references, classes):
  """Gorodkin's R_K: the covariance of one-hot indicator matrices, normalised."""
  x = np.eye(classes)[references]
  y = np.eye(classes)[predictions]
  x, y = x - x.mean(axis=0), y - y.mean(axis=0)
  return np.sum(x * y) / math.sqrt(np.sum(x * x) * np.sum(y * y))


def test_binary_scores_by_hand():
  # tp: items 0, 4; fp: item 1; fn: item 3; tn: item 2.
  result = score("accuracy_f1", [1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
  assert result == pytest.approx({"accuracy": 60.0, "f1": 100 * 2 / 3})
  # (2 * 1 - 1 * 1) / sqrt(3 * 3 * 2 * 2) = 1 / 6
  assert score("matthews", [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]) == pytest.approx({"matthews_correlation": 100 / 6})
  assert score("accuracy", [2, 0, 1], [2, 1, 1]) == pytest.approx({"accuracy": 100 * 2 / 3})


def test_binary_scores_match_the_textbook_formulas_on_random_labels():
  rng = np.random.default_rng(7)
  for size in (1, 2, 9, 200):
    references = rng.integers(0, 2, size)
    predictions = np.where(rng.random(size) < 0.7, references, 1 - references)
    assert score("accuracy_f1", predictions, references)["f1"] == pytest.approx(
        100 * _textbook_f1(predictions.tolist(), references.tolist()), abs=1e-9)
    assert score("matthews", predictions, references)["matthews_correlation"] == pytest.approx(
        100 * _textbook_matthews(predictions.tolist(), references.tolist()), abs=1e-9)


def test_undefined_f1_and_matthews_are_zero():
  assert score("accuracy_f1", [0, 0], [0, 0]) == {"accuracy": 100.0, "f1": 0.0}
  assert score("matthews", [1, 1, 1], [0, 1, 1]) == {"matthews_correlation": 0.0}


def test_multiclass_matthews_by_hand_and_against_one_hot_covariance():
  # confusion rows (truth) [[2,0,0],[0,0,1],[0,0,1]]: (3*4 - t.p) / sqrt((16 - p.p)(16 - t.t)), t=[2,1,1], p=[2,0,2]
  assert score("matthews", [0, 2, 2, 0], [0, 1, 2, 0])["matthews_correlation"] == pytest.approx(100 * 6 / math.sqrt(80))
  rng = np.random.default_rng(3)
  references, predictions = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
  assert score("matthews", predictions, references)["matthews_correlation"] == pytest.approx(
      100 * _one_hot_correlation(predictions, references, 3), abs=1e-9)


def test_correlations_against_scipy_with_ties():
  stats = pytest.importorskip("scipy.stats")
  rng = np.random.default_rng(11)
  references = rng.integers(0, 11, 60) / 2  # STS-B style scores 0..5 in halves: many ties
  predictions = references + rng.normal(0, 1, 60)
  predictions[:10] = 2.5  # ties among predictions too
  result = score("pearson_spearman", predictions, references)
  assert result["pearson"] == pytest.approx(100 * stats.pearsonr(predictions, references)[0], abs=1e-9)
  assert result["spearmanr"] == pytest.approx(100 * stats.spearmanr(predictions, references)[0], abs=1e-9)


def test_correlations_by_hand():
  # Ranks of [10, 20, 20, 40] are [1, 2.5, 2.5, 4]; of [1, 2, 3, 4] themselves: Pearson of those is 4.5/sqrt(4.5*5).
  result = score("pearson_spearman", [10.0, 20.0, 20.0, 40.0], [1.0, 2.0, 3.0, 4.0])
  assert result["spearmanr"] == pytest.approx(100 * 4.5 / math.sqrt(4.5 * 5))
  # Deviations from the mean 22.5, [-12.5, -2.5, -2.5, 17.5], against [-1.5, -.5, .5, 1.5]: 45 / sqrt(475 * 5)
  assert result["pearson"] == pytest.approx(100 * 45 / math.sqrt(475 * 5))
  assert score("pearson_spearman", [3.0, 2.0, 1.0], [1.0, 2.0, 3.0]) == pytest.approx(
      {"pearson": -100.0, "spearmanr": -100.0})
  constant = score("pearson_spearman", [2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
  assert math.isnan(constant["pearson"]) and math.isnan(constant["spearmanr"])


def test_xnli_per_language_and_unweighted_average():
  # en: 3 of 4 right; zh: 1 of 2; fr: 0 of 1. The average of languages is 125 / 3, not 4 of 7 (nor the median).
  predictions = [0, 1, 2, 0, 1, 1, 2]
  references = [0, 1, 2, 1, 1, 0, 1]
  languages = ["en", "en", "en", "en", "zh", "zh", "fr"]
  assert score(TASKS["xnli"].metric, predictions, references, languages) == pytest.approx(
      {"accuracy": 125 / 3, "accuracy_en": 75.0, "accuracy_zh": 50.0, "accuracy_fr": 0.0})
  matched_and_mismatched = score("accuracy", [0, 1, 0], [0, 1, 1], ["matched", "matched", "mismatched"])
  assert matched_and_mismatched == pytest.approx(
      {"accuracy": 50.0, "accuracy_matched": 100.0, "accuracy_mismatched": 0.0})


def test_each_glue_task_names_its_official_metric():
  metric = {task: spec.metric for task, spec in TASKS.items()}
  assert metric == {"cola": "matthews", "sst2": "accuracy", "mrpc": "accuracy_f1", "qqp": "accuracy_f1",
                    "stsb": "pearson_spearman", "mnli": "accuracy", "qnli": "accuracy", "rte": "accuracy",
                    "wnli": "accuracy", "xnli": "accuracy"}


@pytest.mark.parametrize("metric, predictions, references, groups, message", [
    ("bleu", [1], [1], None, "unknown metric 'bleu'"),
    ("accuracy", [[0.1, 0.9]], [1], None, r"predictions \(1, 2\) and references \(1,\) must be one value"),
    ("accuracy", [1, 0], [1], None, "2 predictions for 1 references"),
    ("accuracy", [], [], None, "0 predictions for 0 references"),
    ("accuracy_f1", [2, 0], [1, 0], None, "f1 is for binary labels"),
    ("accuracy", [1, 0], [1, 0], ["en"], "1 groups for 2 references"),
])
def test_bad_input_is_one_line(metric, predictions, references, groups, message):
  with pytest.raises(HubExportError, match=message):
    score(metric, predictions, references, groups)
