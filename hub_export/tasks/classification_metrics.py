"""GLUE's and XNLI's official scores, computed as GLUE's scoring and HF `evaluate`'s glue metric compute them.

Every value is reported on GLUE's 0-100 scale. The metric names (and the keys they give) are:
`accuracy` (accuracy), `accuracy_f1` (accuracy, f1: binary, positive class 1; MRPC, QQP),
`matthews` (matthews_correlation; CoLA), `pearson_spearman` (pearson, spearmanr; STS-B).
A correlation of constant values is undefined and reported as NaN, as scipy does.
No TensorFlow here.
"""

import numpy as np

from hub_export.support.errors import HubExportError


def _accuracy(predictions, references) -> dict:
  return {"accuracy": float(np.mean(predictions == references))}


def _accuracy_f1(predictions, references) -> dict:
  if not np.isin(references, (0, 1)).all() or not np.isin(predictions, (0, 1)).all():
    raise HubExportError("f1 is for binary labels: predictions and references must be label ids 0 or 1")
  true_positives = np.sum((predictions == 1) & (references == 1))
  wrong = np.sum(predictions != references)  # false positives and false negatives
  f1 = 2 * true_positives / (2 * true_positives + wrong) if true_positives else 0.0  # 0 when undefined, as sklearn
  return {**_accuracy(predictions, references), "f1": float(f1)}


def _matthews(predictions, references) -> dict:
  """Matthews correlation in its multi-class form (Gorodkin's R_K, sklearn's); 0 when undefined, as sklearn."""
  classes, codes = np.unique(np.concatenate([references, predictions]), return_inverse=True)
  truth, guess = codes[:len(references)], codes[len(references):]
  confusion = np.zeros((len(classes), len(classes)))
  np.add.at(confusion, (truth, guess), 1)
  true_counts, guess_counts, n = confusion.sum(axis=1), confusion.sum(axis=0), len(references)
  covariance = np.trace(confusion) * n - true_counts @ guess_counts
  scale = np.sqrt((n * n - guess_counts @ guess_counts) * (n * n - true_counts @ true_counts))
  return {"matthews_correlation": float(covariance / scale) if scale else 0.0}


def _pearson(x, y) -> float:
  x, y = x - x.mean(), y - y.mean()
  scale = np.sqrt((x @ x) * (y @ y))
  return float(np.clip(x @ y / scale, -1.0, 1.0)) if scale else float("nan")


def _average_ranks(values):
  """1-based ranks, tied values sharing the mean of their ranks (Spearman's convention)."""
  order = np.argsort(values, kind="stable")
  ordered = values[order]
  starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
  ends = np.r_[starts[1:], len(values)]
  ranks = np.empty(len(values))
  ranks[order] = np.repeat((starts + 1 + ends) / 2, ends - starts)
  return ranks


def _pearson_spearman(predictions, references) -> dict:
  predictions, references = predictions.astype(np.float64), references.astype(np.float64)
  return {"pearson": _pearson(predictions, references),
          "spearmanr": _pearson(_average_ranks(predictions), _average_ranks(references))}


METRICS = {"accuracy": _accuracy, "accuracy_f1": _accuracy_f1, "matthews": _matthews,
           "pearson_spearman": _pearson_spearman}


def score(metric: str, predictions, references, groups=None) -> dict:
  """{metric name: value on the 0-100 scale} for predicted label ids (or scores) against the gold ones.

  `groups` names each example's group: XNLI's language, or MNLI's matched and mismatched dev sets
  scored together. Then each value is given per group as `<name>_<group>` and `<name>` is the
  unweighted mean over the groups (XNLI's average over languages).
  """
  if metric not in METRICS:
    raise HubExportError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}")
  predictions, references = np.asarray(predictions), np.asarray(references)
  if predictions.ndim != 1 or references.ndim != 1:
    raise HubExportError(f"predictions {predictions.shape} and references {references.shape} must be one value "
                         "per example (label ids: take the argmax of logits)")
  if len(predictions) != len(references) or not len(references):
    raise HubExportError(f"{len(predictions)} predictions for {len(references)} references: expected as many, not 0")
  if groups is None:
    return {name: 100 * value for name, value in METRICS[metric](predictions, references).items()}
  groups = np.asarray(groups, dtype=str)
  if groups.shape != references.shape:
    raise HubExportError(f"{groups.size} groups for {len(references)} references: expected one per example")
  per_group = {group: score(metric, predictions[groups == group], references[groups == group])
               for group in np.unique(groups)}
  result = {f"{name}_{group}": value for group, values in per_group.items() for name, value in values.items()}
  names = next(iter(per_group.values()))
  return {**{name: float(np.mean([values[name] for values in per_group.values()])) for name in names}, **result}
