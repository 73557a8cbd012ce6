"""Scoring a task model on an eval file: inputs built, the model run, outputs decoded, the official metrics.

The model is any `task_runners` runner; the settings (sequence length, windows, labels) are its
`task.json`'s. SQuAD contexts longer than one window are windowed and decoded here
(`squad_windows`, `squad_decode`), as the original run_squad.py does.
"""

import dataclasses

import numpy as np

from hub_export.support.errors import HubExportError
from hub_export.tasks import classification_data, classification_metrics, squad_data, squad_decode, squad_metrics
from hub_export.tasks import squad_windows
from hub_export.hub_format.task_model_files import CLASSIFICATION, SQUAD
from hub_export.signatures import END_LOGITS, LOGITS, START_LOGITS
from hub_export.tasks.task_runners import run_batches

TOKENIZE_BATCH = 1024
PLAIN_COLUMNS = classification_data.Columns("sentence", label="label")
PAIR_COLUMNS = classification_data.Columns("sentence1", "sentence2", "label")


@dataclasses.dataclass(frozen=True)
class Scored:
  metrics: dict  # the official names, 0-100 scale
  predictions: object  # SQuAD: {question id: answer text}; classification: one label (or score) per example
  null_odds: dict = None  # SQuAD v2.0: {question id: null score minus the best span's}, the script's --na-prob-file


def score_squad(runner, examples, config: dict, vocab, batch_size: int, version_2: bool) -> Scored:
  """SQuAD v1.1 (`exact_match`, `f1`) or v2.0 (the v2.0 script's keys, with the null odds as its
  no-answer probabilities) of the model's answers to `examples` (`squad_data.read_squad`'s)."""
  from hub_export.tasks.squad_tokens import WordpieceTokenizer

  seq = config["max_seq_length"]
  encoded = squad_windows.encode(examples, WordpieceTokenizer(vocab, config["lower_case"]), vocab, seq,
                                 config["max_query_length"], config["doc_stride"])
  logits = run_batches(runner, squad_windows.as_arrays(encoded.windows, vocab, seq), SQUAD, batch_size)
  predicted = squad_decode.predict(examples, encoded, logits[START_LOGITS], logits[END_LOGITS], version_2,
                                   max_answer_length=config["max_answer_length"],
                                   null_score_diff_threshold=config["null_score_diff_threshold"])
  gold = squad_data.gold_answers(examples)
  if version_2:
    return Scored(squad_metrics.evaluate_v2(gold, predicted.answers, predicted.null_odds), predicted.answers,
                  predicted.null_odds)
  return Scored(squad_metrics.evaluate_v1(gold, predicted.answers), predicted.answers)


def read_classification(eval_file, config: dict, glue_task=None, columns=None, header: bool = True):
  """(dataset, metric name): a GLUE/XNLI task's dev layout, else `columns` ({"text", "text_b", "label": header name
  or position}) over GLUE's header names."""
  labels = tuple(config["labels"])
  if glue_task:
    if glue_task not in classification_data.TASKS:
      raise HubExportError(f"unknown --glue_task {glue_task!r}: expected one of {', '.join(classification_data.TASKS)}")
    spec = classification_data.TASKS[glue_task]
    if spec.regression != config["regression"] or (not spec.regression and spec.labels != labels):
      raise HubExportError(f"the model's labels ({', '.join(labels) or 'a regression'}) are not {glue_task}'s "
                           f"({', '.join(spec.labels) or 'a regression'})")
    dataset, metric = classification_data.read_task(glue_task, "dev", eval_file), spec.metric
  else:
    dataset = classification_data.read_tsv(eval_file, _columns(config, columns or {}, header), labels or None,
                                           config["regression"])
    metric = "pearson_spearman" if config["regression"] else "accuracy"
  pairs = {example.text_b is not None for example in dataset.examples}
  if pairs != {config["pair"]}:
    raise HubExportError(f"{eval_file} holds {'sentence pairs' if True in pairs else 'single sentences'}, "
                         f"the model takes {'pairs' if config['pair'] else 'single sentences'}")
  if any(example.label is None for example in dataset.examples):
    raise HubExportError(f"{eval_file} has no label column: scoring needs labelled examples")
  return dataset, metric


def _columns(config: dict, given: dict, header: bool) -> classification_data.Columns:
  default = PAIR_COLUMNS if config["pair"] else PLAIN_COLUMNS
  values = {key: getattr(default, key) if given.get(key) is None else given[key] for key in ("text", "text_b", "label")}
  return classification_data.Columns(values["text"], values["text_b"], values["label"], header=header)


def classification_inputs(examples, config: dict, vocab) -> dict:
  """[CLS] a [SEP] (b [SEP]) at `max_seq_length`, round-robin truncated, as the published preprocessor packs them."""
  import tensorflow as tf

  from hub_export.tokenization.bert_tokenizer import BertTokenizer
  from hub_export.tokenization.packing import pack_segments
  from hub_export.tokenization.vocab import CLS, PAD, SEP

  tokenizer, special = BertTokenizer(vocab, config["lower_case"]), vocab.special_ids()
  parts = []
  for first in range(0, len(examples), TOKENIZE_BATCH):
    batch = examples[first:first + TOKENIZE_BATCH]
    segments = [tokenizer.tokenize(tf.constant([e.text_a for e in batch]))]
    if config["pair"]:
      segments.append(tokenizer.tokenize(tf.constant([e.text_b for e in batch])))
    packed = pack_segments(segments, config["max_seq_length"], special[CLS], special[SEP], special[PAD])
    parts.append({key: value.numpy() for key, value in packed.items()})
  return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def score_classification(runner, dataset, metric: str, config: dict, vocab, batch_size: int) -> Scored:
  """`metric` (`classification_metrics.score` names; XNLI per language) of the model on `dataset`
  (`read_classification`'s)."""
  examples = list(dataset.examples)
  logits = run_batches(runner, classification_inputs(examples, config, vocab), CLASSIFICATION, batch_size)[LOGITS]
  width = 1 if config["regression"] else len(config["labels"])
  if logits.shape != (len(examples), width):
    raise HubExportError(f"the model's logits have shape {list(logits.shape)}; expected [{len(examples)}, {width}] "
                         f"for {'a regression' if width == 1 and config['regression'] else 'its labels'}")
  predicted = logits[:, 0] if config["regression"] else np.argmax(logits, axis=1)
  languages = [example.language for example in examples]
  groups = languages if all(language is not None for language in languages) else None
  metrics = classification_metrics.score(metric, predicted, np.array([e.label for e in examples]), groups)
  lines = [repr(float(value)) for value in predicted] if config["regression"] else \
      [config["labels"][index] for index in predicted]
  return Scored(metrics, lines)
