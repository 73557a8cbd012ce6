"""Reading SQuAD JSON: words and answer spans derived by hand, and one clear line for each kind of bad input."""

import json
import logging
import os
import subprocess
import sys

import pytest

from conftest import REPO
from hub_export.support.errors import HubExportError
from hub_export.tasks.squad_data import gold_answers, read_squad, split_context

CONTEXT = "  The leader\twas\u202fJohn  Smith (1895-1943).\n"


def _file(tmp_path, qas, context=CONTEXT, name="squad.json"):
  path = tmp_path / name
  path.write_text(json.dumps({"version": "x", "data": [{"title": "t", "paragraphs": [
      {"context": context, "qas": qas}]}]}), encoding="utf-8")
  return path


def _qa(qas_id, text, start, **extra):
  return {"id": qas_id, "question": "When?", "answers": [{"text": text, "answer_start": start}], **extra}


def test_context_split_on_the_original_whitespace():
  paragraph = split_context(CONTEXT)
  # Split on space, tab, U+202F and newline; punctuation stays inside its word.
  assert paragraph.doc_tokens == ("The", "leader", "was", "John", "Smith", "(1895-1943).")
  # Characters 0-1 are spaces before any word (-1); "The" is 2-4 and the space after it still maps to word 0.
  assert paragraph.char_to_word[:6] == (-1, -1, 0, 0, 0, 0)
  assert paragraph.char_to_word[CONTEXT.index("1895")] == 5
  assert len(paragraph.char_to_word) == len(CONTEXT)


def test_training_spans_and_eval_answers(tmp_path):
  start = CONTEXT.index("1895")
  path = _file(tmp_path, [_qa("q1", "1895", start),
                          _qa("q2", "John  Smith", CONTEXT.index("John"))])
  first, second = read_squad(path, version_2=False, training=True).examples
  assert (first.start_word, first.end_word, first.answer_text) == (5, 5, "1895")
  assert (second.start_word, second.end_word) == (3, 4)  # "John" and "Smith"
  assert first.paragraph is second.paragraph
  several = _qa("q3", "Smith", CONTEXT.index("Smith"))
  several["answers"].append({"text": "John Smith", "answer_start": CONTEXT.index("John")})
  evaluation = read_squad(_file(tmp_path, [several]), version_2=False, training=False)
  assert gold_answers(evaluation.examples) == {"q3": ["Smith", "John Smith"]}
  assert evaluation.examples[0].start_word is None


def test_v2_no_answer_questions(tmp_path):
  qas = [{"id": "n1", "question": "Who?", "answers": [], "is_impossible": True,
          "plausible_answers": [{"text": "John", "answer_start": CONTEXT.index("John")}]},
         _qa("a1", "Smith", CONTEXT.index("Smith"), is_impossible=False)]
  no_answer, answered = read_squad(_file(tmp_path, qas), version_2=True, training=True).examples
  assert (no_answer.start_word, no_answer.end_word, no_answer.answer_text) == (-1, -1, "")
  assert no_answer.is_impossible
  assert (answered.is_impossible, answered.start_word) == (False, 4)
  assert gold_answers(read_squad(_file(tmp_path, qas), version_2=True, training=False).examples) == {
      "n1": [], "a1": ["Smith"]}


def test_answers_not_in_the_context_are_named_skipped_and_counted(tmp_path, caplog):
  qas = [_qa("good", "Smith", CONTEXT.index("Smith")),
         _qa("typo", "Smyth", CONTEXT.index("Smith")),
         _qa("past_end", "1943", len(CONTEXT) - 2),
         _qa("empty", "", 3)]
  with caplog.at_level(logging.WARNING, logger="hub_export"):
    squad = read_squad(_file(tmp_path, qas), version_2=False, training=True)
  assert [e.qas_id for e in squad.examples] == ["good"]
  assert squad.skipped == ["data[0].paragraphs[0].qas[1] (id 'typo')", "data[0].paragraphs[0].qas[2] (id 'past_end')",
                           "data[0].paragraphs[0].qas[3] (id 'empty')"]
  # "Smith" starts at character 23: 2 spaces, "The ", "leader\t", "was\u202f", "John  ".
  assert "qas[1] (id 'typo'): answer 'Smyth' at character 23 is not in the context; skipped" in caplog.text
  assert "skipped 3 of 4 training questions" in caplog.text
  # Eval keeps them all: the scores count every question.
  assert len(read_squad(_file(tmp_path, qas), version_2=False, training=False).examples) == 4


BAD_FILES = [
    ("", "is empty"),
    ('{"data": [', "is not JSON: line 1 column 11: Expecting value"),
    ("[1]", "the top level: must be a JSON object, got list"),
    ('{"version": "1.1"}', "the top level: missing 'data'"),
    ('{"data": []}', "holds no questions"),
    ('{"data": [{"paragraphs": [{"qas": []}]}]}', "data[0].paragraphs[0]: missing 'context'"),
    ('{"data": [{"paragraphs": [{"context": 7, "qas": []}]}]}',
     "data[0].paragraphs[0]: 'context' must be a string, got 7"),
]


@pytest.mark.parametrize("text, problem", BAD_FILES)
def test_bad_files_one_line(tmp_path, text, problem):
  path = tmp_path / "bad.json"
  path.write_text(text, encoding="utf-8")
  with pytest.raises(HubExportError) as error:
    read_squad(path, version_2=False, training=False)
  assert str(error.value).startswith(f"SQuAD file {path}")
  assert problem in str(error.value) and "\n" not in str(error.value)


BAD_RECORDS = [
    ([{"id": "q1", "answers": []}], False, "qas[0] (id 'q1'): missing 'question'"),
    ([{"question": "Who?", "answers": []}], False, "qas[0]: missing 'id'"),
    ([_qa("q1", "John", "3")], False, "qas[0] (id 'q1') answers[0]: 'answer_start' must be an integer, got \"3\""),
    ([_qa("q1", "John", True)], False, "'answer_start' must be an integer, got true"),
    ([_qa("q1", "John", 3), _qa("q1", "John", 3)], False, "qas[1] (id 'q1'): duplicate id, first at "
                                                          "data[0].paragraphs[0].qas[0] (id 'q1')"),
    ([_qa("q1", "John", 3, is_impossible=True)], False, "(id 'q1'): is a no-answer question (is_impossible); "
                                                         "read the file as SQuAD v2.0"),
    ([_qa("q1", "John", 3, is_impossible="yes")], True, "'is_impossible' must be true or false"),
    ([{"id": "q1", "question": "Who?", "answers": [{"text": "John", "answer_start": 9},
                                                   {"text": "Smith", "answer_start": 15}]}], True,
     "(id 'q1'): a training question takes exactly one answer, found 2"),
]


@pytest.mark.parametrize("qas, version_2, problem", BAD_RECORDS)
def test_bad_records_named_in_one_line(tmp_path, qas, version_2, problem):
  path = _file(tmp_path, qas)
  with pytest.raises(HubExportError) as error:
    read_squad(path, version_2=version_2, training=True)
  assert str(error.value).startswith(f"SQuAD file {path}, data[0].paragraphs[0].qas[")
  assert problem in str(error.value) and "\n" not in str(error.value)


def test_unreadable_and_non_utf8_files(tmp_path):
  with pytest.raises(HubExportError, match="cannot read SQuAD file .*missing.json"):
    read_squad(tmp_path / "missing.json", version_2=False, training=False)
  path = tmp_path / "latin1.json"
  path.write_bytes(b'{"data": "\xe9"}')
  with pytest.raises(HubExportError, match=r"is not UTF-8 \(byte 10\)"):
    read_squad(path, version_2=False, training=False)


def test_data_windows_decoding_and_metrics_import_no_tensorflow():
  """They run where TensorFlow is not wanted (scoring, data checks) and in fast tests."""
  code = ("import sys\nfrom hub_export.tasks import squad_data, squad_decode, squad_metrics, squad_windows\n"
          "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras')))")
  env = {**os.environ, "PYTHONPATH": str(REPO)}
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip() == "[]"
