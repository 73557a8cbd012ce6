"""The official SQuAD scores (evaluate-v1.1.py and evaluate-v2.0.py, facts section 2), as those scripts compute them.

Answers are normalised alike: lower case, every `string.punctuation` character dropped, the words
a, an, the dropped, whitespace collapsed. Exact match compares normalised texts; F1 is the overlap
of their words, repeats counted; a question takes its best gold answer; figures are means x 100.
v1.1: a question with no prediction scores 0, and an empty text overlaps nothing.
v2.0: gold answers that normalise to "" are dropped, a question left with none has the one gold
answer "", two empty texts have F1 1, and every question needs a prediction.
"""

import collections
import re
import string

from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
  text = "".join(char for char in text.lower() if char not in _PUNCTUATION)
  return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(gold: str, prediction: str, empty_agrees: bool) -> float:
  gold_words, predicted_words = normalize_answer(gold).split(), normalize_answer(prediction).split()
  if empty_agrees and not (gold_words and predicted_words):
    return float(gold_words == predicted_words)
  same = sum((collections.Counter(gold_words) & collections.Counter(predicted_words)).values())
  if same == 0:
    return 0.0
  precision, recall = 1.0 * same / len(predicted_words), 1.0 * same / len(gold_words)
  return (2 * precision * recall) / (precision + recall)


def _exact(gold: str, prediction: str) -> int:
  return int(normalize_answer(gold) == normalize_answer(prediction))


def _check(gold: dict, predictions: dict):
  if not gold:
    raise HubExportError("no questions to score")
  for qas_id, prediction in predictions.items():
    if not isinstance(prediction, str):
      raise HubExportError(f"the prediction for question {qas_id!r} must be a string, got {type(prediction).__name__}")


def evaluate_v1(gold: dict, predictions: dict) -> dict:
  """{"exact_match", "f1"} of `predictions` ({id: text}) against `gold` ({id: [answer texts]})."""
  _check(gold, predictions)
  exact = f1 = 0
  missing = []
  for qas_id, answers in gold.items():
    if not answers:
      raise HubExportError(f"question {qas_id!r} has no gold answer: SQuAD v1.1 scores answered questions only "
                           "(score SQuAD v2.0 data with evaluate_v2)")
    if qas_id not in predictions:
      missing.append(qas_id)
      continue
    exact += max(_exact(answer, predictions[qas_id]) for answer in answers)
    f1 += max(_f1(answer, predictions[qas_id], empty_agrees=False) for answer in answers)
  if missing:
    LOG.warning("warning: %d question(s) have no prediction and score 0 (first: id %r)", len(missing), missing[0])
  return {"exact_match": 100.0 * exact / len(gold), "f1": 100.0 * f1 / len(gold)}


def evaluate_v2(gold: dict, predictions: dict, na_probs: dict = None, na_prob_thresh: float = 1.0) -> dict:
  """The v2.0 script's figures; `na_probs` ({id: no-answer score}) adds the best thresholds, as its --na-prob-file.

  A question whose no-answer score exceeds `na_prob_thresh` counts as answered "" (its --na-prob-thresh).
  """
  _check(gold, predictions)
  for name, mapping in (("prediction", predictions), ("no-answer probability", na_probs)):
    missing = [qas_id for qas_id in gold if mapping is not None and qas_id not in mapping]
    if missing:
      raise HubExportError(f"{len(missing)} question(s) have no {name} (first: id {missing[0]!r}); "
                           "SQuAD v2.0 scoring needs every question's")
  has_answer = {qas_id: bool(answers) for qas_id, answers in gold.items()}
  exact_raw, f1_raw = {}, {}
  for qas_id, answers in gold.items():
    answers = [answer for answer in answers if normalize_answer(answer)] or [""]
    exact_raw[qas_id] = max(_exact(answer, predictions[qas_id]) for answer in answers)
    f1_raw[qas_id] = max(_f1(answer, predictions[qas_id], empty_agrees=True) for answer in answers)
  probs = dict.fromkeys(gold, 0.0) if na_probs is None else na_probs
  exact, f1 = ({qas_id: float(not has_answer[qas_id]) if probs[qas_id] > na_prob_thresh else score
                for qas_id, score in raw.items()} for raw in (exact_raw, f1_raw))
  scores = _means(exact, f1, list(gold))
  for prefix, wanted in (("HasAns", True), ("NoAns", False)):
    ids = [qas_id for qas_id, value in has_answer.items() if value == wanted]
    if ids:
      scores.update({f"{prefix}_{key}": value for key, value in _means(exact, f1, ids).items()})
  if na_probs is not None:
    for key, raw in (("exact", exact_raw), ("f1", f1_raw)):
      scores[f"best_{key}"], scores[f"best_{key}_thresh"] = _best_threshold(predictions, raw, na_probs, has_answer)
  return scores


def _means(exact: dict, f1: dict, ids: list) -> dict:
  return {"exact": 100.0 * sum(exact[i] for i in ids) / len(ids), "f1": 100.0 * sum(f1[i] for i in ids) / len(ids),
          "total": len(ids)}


def _best_threshold(predictions: dict, scores: dict, na_probs: dict, has_answer: dict):
  """The score (x 100) and threshold of the best cut of the questions ranked by no-answer probability.

  Answering "" everywhere scores the no-answer questions; moving the cut past each question, least
  likely no-answer first (ties in `na_probs` order), adds its score, or costs 1 for a no-answer
  question given a non-empty prediction (the raw text, as the script tests it).
  """
  score = best = sum(1 for value in has_answer.values() if not value)
  threshold = 0.0
  for qas_id in sorted((i for i in na_probs if i in scores), key=lambda i: na_probs[i]):
    if has_answer[qas_id]:
      score += scores[qas_id]
    elif predictions[qas_id]:
      score -= 1
    if score > best:
      best, threshold = score, na_probs[qas_id]
  return 100.0 * best / len(scores), threshold
