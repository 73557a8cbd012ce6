"""Reads sentence and sentence-pair classification data from GLUE-style TSV files.

Files are read as GLUE's own readers read them (BERT's `run_classifier.py`, TFDS, HF): tab
separated, one row a line, no quoting (MNLI and QQP hold stray `"` characters that are text).
Columns are named by header or by 0-based position; `TASKS` names them for each GLUE task and
XNLI exactly as the distributed files lay them out. No TensorFlow here.
"""

import csv
import dataclasses
import itertools
import math
from typing import Optional, Union

from hub_export.support.errors import HubExportError

Column = Union[str, int]  # a header name, or a 0-based position (negative: from the end)
SPLITS = ("train", "dev", "test")


@dataclasses.dataclass(frozen=True)
class Columns:
  """Which columns of a TSV hold the texts, the label and the language."""
  text: Column
  text_b: Optional[Column] = None  # None: single sentences
  label: Optional[Column] = None  # None: the file carries no labels (a test split)
  language: Optional[Column] = None
  header: bool = True  # the first line names the columns; it is not an example
  label_aliases: tuple = ()  # (spelling in the file, label) pairs


@dataclasses.dataclass(frozen=True)
class Example:
  text_a: str
  text_b: Optional[str]
  label: Union[int, float, None]  # an index into Dataset.labels, a regression score, or None when unlabelled
  language: Optional[str]
  line: int  # 1-based line in its file


@dataclasses.dataclass(frozen=True)
class Dataset:
  examples: tuple
  labels: tuple  # label names in id order; () for a regression or unlabelled file
  regression: bool = False


@dataclasses.dataclass(frozen=True)
class Task:
  """A benchmark's label order (which fixes the rows of the classifier's output weights), its file
  layout per split and the name of its metric in `classification_metrics`."""
  labels: tuple
  metric: str
  splits: dict
  regression: bool = False


def _glue(labels, metric, text, text_b=None, label="label", regression=False) -> Task:
  """A GLUE task whose train and dev files share a header and whose test file lacks the label column."""
  labelled = Columns(text, text_b, label)
  return Task(labels, metric, {"train": labelled, "dev": labelled, "test": dataclasses.replace(labelled, label=None)},
              regression)


_BINARY = ("0", "1")
_NLI = ("contradiction", "entailment", "neutral")
_ENTAILMENT = ("entailment", "not_entailment")
_COLA_LABELLED = Columns(text=3, label=1, header=False)  # source, label, original mark, sentence; no header
_XNLI = Columns("sentence1", "sentence2", "gold_label", language="language")  # xnli.dev.tsv and xnli.test.tsv

TASKS = {
    "cola": Task(_BINARY, "matthews", {"train": _COLA_LABELLED, "dev": _COLA_LABELLED, "test": Columns("sentence")}),
    "sst2": _glue(_BINARY, "accuracy", "sentence"),
    "mrpc": _glue(_BINARY, "accuracy_f1", "#1 String", "#2 String", "Quality"),  # msr_paraphrase layout
    "qqp": _glue(_BINARY, "accuracy_f1", "question1", "question2", "is_duplicate"),
    "stsb": _glue((), "pearson_spearman", "sentence1", "sentence2", "score", regression=True),
    "mnli": _glue(_NLI, "accuracy", "sentence1", "sentence2", "gold_label"),  # dev_matched and dev_mismatched alike
    "qnli": _glue(_ENTAILMENT, "accuracy", "question", "sentence"),
    "rte": _glue(_ENTAILMENT, "accuracy", "sentence1", "sentence2"),
    "wnli": _glue(_BINARY, "accuracy", "sentence1", "sentence2"),
    # Training reads MultiNLI machine-translated (multinli.train.<language>.tsv: premise, hypo, label).
    "xnli": Task(_NLI, "accuracy", {
        "train": Columns("premise", "hypo", "label", label_aliases=(("contradictory", "contradiction"),)),
        "dev": _XNLI, "test": _XNLI}),
}


def read_task(task: str, split: str, path) -> Dataset:
  """One split of a GLUE task or XNLI, from a file in the layout its distribution has."""
  if task not in TASKS:
    raise HubExportError(f"unknown task {task!r}: expected one of {', '.join(TASKS)}")
  if split not in SPLITS:
    raise HubExportError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
  spec = TASKS[task]
  return read_tsv(path, spec.splits[split], spec.labels or None, spec.regression)


def read_tsv(path, columns: Columns, labels=None, regression: bool = False) -> Dataset:
  """The examples of one TSV file.

  `labels` lists the label names in id order; without it the labels are those the file holds,
  sorted (which is the original order for every GLUE task). A regression label is a number.
  """
  if labels is not None and len(set(labels)) != len(labels):
    raise HubExportError(f"labels {', '.join(labels)} name a label twice")
  rows = _rows(path)
  first = next(rows, None)
  if first is None:
    raise HubExportError(f"{path} is empty")
  width = len(first[1])
  names = first[1] if columns.header else None
  text, text_b, label, language = (_position(path, column, names, width)
                                   for column in (columns.text, columns.text_b, columns.label, columns.language))
  aliases = dict(columns.label_aliases)
  found = []  # (line, text_a, text_b, label as written or score, language)
  for line, fields in rows if columns.header else itertools.chain([first], rows):
    if len(fields) != width:
      raise HubExportError(f"{path} line {line}: {len(fields)} columns, expected {width} as on line {first[0]}")
    value = None if label is None else _label(path, line, aliases.get(fields[label], fields[label]), labels, regression)
    found.append((line, fields[text], None if text_b is None else fields[text_b], value,
                  None if language is None else fields[language]))
  if not found:
    raise HubExportError(f"{path} holds no examples, only a header")
  if labels is None:
    labels = sorted({row[3] for row in found}) if label is not None and not regression else ()
  ids = {name: i for i, name in enumerate(labels)}
  examples = tuple(Example(a, b, value if regression or value is None else ids[value], lang, line)
                   for line, a, b, value, lang in found)
  return Dataset(examples, tuple(labels), regression)


def _rows(path):
  """(line number, fields) per line; decoded line by line so that an encoding error names its line."""
  def lines(f):
    for number, raw in enumerate(f, 1):
      try:
        text = raw.decode("utf-8")
      except UnicodeDecodeError as e:
        raise HubExportError(f"{path} line {number} is not UTF-8 (byte {e.start} of the line)") from None
      yield text.lstrip("\ufeff") if number == 1 else text  # msr_paraphrase_train.txt starts with a BOM

  try:
    with open(path, "rb") as f:
      reader = csv.reader(lines(f), delimiter="\t", quoting=csv.QUOTE_NONE)
      try:
        for fields in reader:
          yield reader.line_num, fields
      except csv.Error as e:
        raise HubExportError(f"{path} line {reader.line_num}: {e}") from None
  except OSError as e:
    raise HubExportError(f"cannot read {path}: {e.strerror}") from None


def _position(path, column, names, width) -> Optional[int]:
  """The 0-based position of a column given by header name or position."""
  if column is None:
    return None
  if isinstance(column, str):
    if names is None:
      raise HubExportError(f"column {column!r} is named, but {path} is read without a header: give its position")
    if names.count(column) != 1:
      found = "more than once" if column in names else "not"
      raise HubExportError(f"column {column!r} is {found} in the header of {path} (columns: {', '.join(names)})")
    return names.index(column)
  if not -width <= column < width:
    raise HubExportError(f"column {column} does not exist: the rows of {path} have {width} columns")
  return column % width


def _label(path, line, text, labels, regression):
  if regression:
    try:
      score = float(text)
    except ValueError:
      score = math.nan
    if not math.isfinite(score):
      raise HubExportError(f"{path} line {line}: score {text!r} is not a finite number")
    return score
  if labels is not None and text not in labels:
    raise HubExportError(f"{path} line {line}: label {text!r} is not one of {', '.join(labels)}")
  if not text:
    raise HubExportError(f"{path} line {line}: empty label")
  return text
