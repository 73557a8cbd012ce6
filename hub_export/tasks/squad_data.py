"""SQuAD v1.1 and v2.0 JSON files (facts section 2) read into questions over whitespace-split contexts.

A context is split into words as the original run_squad.py splits it (on space, tab, CR, LF and
U+202F), with each character's word, so an answer's character offset becomes a span of words.
A malformed file is refused in one line naming the record; a training answer that cannot be
found in its context is skipped with a warning naming it, as the original skips it.
"""

import dataclasses
import json
from pathlib import Path

from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG

_WHITESPACE = frozenset(" \t\r\n\u202f")
_JSON_TYPES = {str: "a string", int: "an integer", list: "a list", dict: "an object", bool: "true or false"}


@dataclasses.dataclass(frozen=True, eq=False)
class Paragraph:
  """A context, its whitespace-separated words (the original's `doc_tokens`) and each character's word."""

  context: str
  doc_tokens: tuple
  char_to_word: tuple  # -1 for whitespace before the first word


@dataclasses.dataclass(frozen=True)
class Example:
  """One question. Training examples also carry their answer as a span of words (-1 for no answer)."""

  qas_id: str
  question: str
  paragraph: Paragraph
  answers: tuple  # every gold answer text (empty for a v2.0 no-answer question), for scoring
  is_impossible: bool = False
  answer_text: str = None
  start_word: int = None
  end_word: int = None


@dataclasses.dataclass(frozen=True)
class SquadFile:
  examples: list
  skipped: list  # the records whose training answer was not found in the context


def split_context(context: str) -> Paragraph:
  doc_tokens, char_to_word, after_space = [], [], True
  for char in context:
    if char in _WHITESPACE:
      after_space = True
    else:
      if after_space:
        doc_tokens.append(char)
      else:
        doc_tokens[-1] += char
      after_space = False
    char_to_word.append(len(doc_tokens) - 1)
  return Paragraph(context, tuple(doc_tokens), tuple(char_to_word))


def _load(path: Path):
  try:
    data = path.read_bytes()
  except OSError as e:
    raise HubExportError(f"cannot read SQuAD file {path}: {e.strerror}") from None
  if not data.strip():
    raise HubExportError(f"SQuAD file {path} is empty")
  try:
    return json.loads(data.decode("utf-8"))
  except UnicodeDecodeError as e:
    raise HubExportError(f"SQuAD file {path} is not UTF-8 (byte {e.start})") from None
  except json.JSONDecodeError as e:
    raise HubExportError(f"SQuAD file {path} is not JSON: line {e.lineno} column {e.colno}: {e.msg}") from None


class _Records:
  """Typed field access that names the file and the record in its one-line error."""

  def __init__(self, path: Path):
    self.path = path

  def fail(self, where: str, problem: str):
    raise HubExportError(f"SQuAD file {self.path}, {where}: {problem}")

  def get(self, record, key: str, kind, where: str, default=dataclasses.MISSING):
    if not isinstance(record, dict):
      self.fail(where, f"must be a JSON object, got {type(record).__name__}")
    if key not in record:
      if default is not dataclasses.MISSING:
        return default
      self.fail(where, f"missing {key!r}")
    value = record[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
      self.fail(where, f"{key!r} must be {_JSON_TYPES[kind]}, got {json.dumps(value)[:40]}")
    return value


def read_squad(path, version_2: bool, training: bool) -> SquadFile:
  """Every question of a SQuAD file, in file order.

  `version_2` allows no-answer questions (`is_impossible`). `training` takes each answerable
  question's one answer as its target span; eval keeps every gold answer text and needs no span.
  """
  path = Path(path)
  records = _Records(path)
  top = _load(path)
  examples, skipped, seen = [], [], {}
  for a, article in enumerate(records.get(top, "data", list, "the top level")):
    for p, paragraph in enumerate(records.get(article, "paragraphs", list, f"data[{a}]")):
      where = f"data[{a}].paragraphs[{p}]"
      split = split_context(records.get(paragraph, "context", str, where))
      for q, qa in enumerate(records.get(paragraph, "qas", list, where)):
        where = f"data[{a}].paragraphs[{p}].qas[{q}]"
        qas_id = records.get(qa, "id", str, where)
        where = f"{where} (id {qas_id!r})"
        if qas_id in seen:
          records.fail(where, f"duplicate id, first at {seen[qas_id]}")
        seen[qas_id] = where
        example = _example(records, qa, where, split, version_2, training)
        if example is None:
          skipped.append(where)
        else:
          examples.append(example)
  if not seen:
    raise HubExportError(f"SQuAD file {path} holds no questions")
  if skipped:
    LOG.warning("warning: skipped %d of %d training questions of %s whose answer is not in the context",
                len(skipped), len(seen), path)
  return SquadFile(examples, skipped)


def _example(records: _Records, qa: dict, where: str, paragraph: Paragraph, version_2: bool, training: bool):
  question = records.get(qa, "question", str, where)
  answers = records.get(qa, "answers", list, where)
  for i, answer in enumerate(answers):
    records.get(answer, "text", str, f"{where} answers[{i}]")
    records.get(answer, "answer_start", int, f"{where} answers[{i}]")
  is_impossible = records.get(qa, "is_impossible", bool, where, default=False)
  if is_impossible and not version_2:
    records.fail(where, "is a no-answer question (is_impossible); read the file as SQuAD v2.0")
  texts = tuple(answer["text"] for answer in answers)
  example = Example(qas_id=qa["id"], question=question, paragraph=paragraph, answers=texts,
                    is_impossible=is_impossible)
  if not training:
    return example
  if is_impossible:
    return dataclasses.replace(example, answer_text="", start_word=-1, end_word=-1)
  if len(answers) != 1:
    records.fail(where, f"a training question takes exactly one answer, found {len(answers)}")
  text, start = answers[0]["text"], answers[0]["answer_start"]
  span = _answer_words(paragraph, text, start)
  if span is None:
    LOG.warning("warning: SQuAD file %s, %s: answer %r at character %d is not in the context; skipped",
                records.path, where, text[:60], start)
    return None
  return dataclasses.replace(example, answer_text=text, start_word=span[0], end_word=span[1])


def _answer_words(paragraph: Paragraph, text: str, start: int):
  """The answer's first and last word, or None when the words there do not hold the answer text.

  As the original, the words covering the answer's characters must contain its whitespace-normalised
  text; an answer that is empty, outside the context or starting before the first word fails.
  """
  end = start + len(text) - 1
  if not text or start < 0 or end >= len(paragraph.context):
    return None
  first, last = paragraph.char_to_word[start], paragraph.char_to_word[end]
  if first < 0:
    return None
  if " ".join(paragraph.doc_tokens[first:last + 1]).find(" ".join(text.split())) == -1:
    return None
  return first, last


def gold_answers(examples) -> dict:
  """{question id: its gold answer texts}, in file order: what the metrics score against."""
  return {example.qas_id: list(example.answers) for example in examples}
