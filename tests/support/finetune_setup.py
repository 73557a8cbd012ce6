"""Small task data files and a tiny real-word MobileBERT for the finetune tests."""

import json

from hub_export.checkpoint.tf1_release import write_release_checkpoint
from support.release_dirs import tiny_config
from support.tokenization_test_data import build_test_vocab, corpus

SEQ_LENGTH = 64


def sentences(count: int, first: int = 0) -> list:
  """Corpus lines of at least 6 words, cut to 12 words, without tabs."""
  lines = [line.replace("\t", " ").split() for line in corpus("english")]
  return [" ".join(words[:12]) for words in lines if len(words) >= 6][first:first + count]


def write_squad(path, count: int, first: int = 0):
  """SQuAD v1.1: each context a sentence, the question its first two words, the answer its fourth word."""
  paragraphs = []
  for i, context in enumerate(sentences(count, first)):
    words = context.split(" ")
    start = len(" ".join(words[:3])) + 1
    paragraphs.append({"context": context, "qas": [{"id": f"q{first + i}", "question": " ".join(words[:2]) + "?",
                                                     "answers": [{"text": words[3], "answer_start": start}]}]})
  path.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}), encoding="utf-8")
  return path


def write_pairs(path, count: int, first: int = 0):
  """A pair TSV with a header: `same` when the second text is the first, else `other`."""
  texts = sentences(count + 1, first)
  rows = [f"{a}\t{a if i % 2 else texts[i + 1]}\t{'same' if i % 2 else 'other'}" for i, a in enumerate(texts[:-1])]
  path.write_text("premise\thypothesis\tlabel\n" + "".join(f"{row}\n" for row in rows), encoding="utf-8")
  return path


def write_release(path, task_head=None, **overrides):
  """A 2-layer release whose vocab holds the corpus's real words (uncased, recorded beside it); with `task_head`,
  a checkpoint of the original fine-tuning code instead."""
  tokens = build_test_vocab(corpus("english"), lower_case=True)
  config = tiny_config(vocab_size=len(tokens), **overrides)
  return write_release_checkpoint(path, config, seed=5, vocab_lines=tokens, lower_case=True, task_head=task_head)
