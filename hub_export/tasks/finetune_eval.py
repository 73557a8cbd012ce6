"""Scores the fine-tuned network on an eval set with the official metrics, for task.json and metrics.json."""

import numpy as np
import tensorflow as tf

from hub_export import signatures as sig
from hub_export.model.span_head import END_LOGITS, START_LOGITS
from hub_export.tasks import classification_metrics, squad_data, squad_decode, squad_metrics
from hub_export.tasks.finetune_data import LABELS, batches


def predict(network, arrays: dict, batch_size: int) -> dict:
  """The network's outputs for every row of `arrays`, as numpy arrays."""
  call = tf.function(lambda inputs: network(inputs, training=False))
  inputs = {key: arrays[key] for key in sig.ENCODER_INPUT_KEYS}
  parts = [call({key: tf.constant(values) for key, values in batch.items()}) for batch in batches(inputs, batch_size)]
  return {name: np.concatenate([part[name].numpy() for part in parts]) for name in parts[0]}


def squad_scores(network, examples, encoded, arrays: dict, config: dict, batch_size: int) -> dict:
  """The v1.1 script's exact_match and f1, or the v2.0 script's keys (best thresholds included)."""
  outputs = predict(network, arrays, batch_size)
  version_2 = config["version_2_with_negative"]
  predictions = squad_decode.predict(examples, encoded, outputs[START_LOGITS], outputs[END_LOGITS], version_2,
                                     max_answer_length=config["max_answer_length"],
                                     null_score_diff_threshold=config["null_score_diff_threshold"])
  gold = squad_data.gold_answers(examples)
  if version_2:
    return squad_metrics.evaluate_v2(gold, predictions.answers, predictions.null_odds)
  return squad_metrics.evaluate_v1(gold, predictions.answers)


def classification_scores(network, arrays: dict, metric: str, groups, regression: bool, batch_size: int) -> dict:
  logits = next(iter(predict(network, arrays, batch_size).values()))
  guesses = logits[:, 0] if regression else logits.argmax(axis=-1)
  return classification_metrics.score(metric, guesses, arrays[LABELS], groups)
