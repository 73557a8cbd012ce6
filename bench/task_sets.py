"""Learnable task sets from text that ships with Python, in the official file layouts.

No SQuAD or GLUE copy is reachable offline, so fine-tuning is shown to learn on sets built
from the Python Language Reference's topic texts (`hub_export.distillation.corpus`, the
same held-out split: training sets from training topics, eval sets from held-out ones).

* `squad`: SQuAD v1.1 JSON. A context is a run of 60 words of one reference section (its
  sentences joined; a section gives several, a tail under 20 words is dropped); each question
  names a word that occurs once in it, `Where does "WORD" appear?`, and the answer is that word
  with the one or two words after it, up to the sentence's end. Finding the word and the span's
  extent is an extractive skill a model must learn from the spans; an untrained head does not
  have it. Short contexts, each asked about most of its words, make the question decide the
  answer and give a model trained from scratch enough of them to learn in CPU minutes (whole
  120-word sections with 12 questions each gave 140 contexts, and a small model did not learn);
  contexts longer than a window are kept, so windowing is exercised.
* `pairs`: MRPC's `msr_paraphrase` layout (`--glue_task mrpc`), paraphrase-like as MRPC's pairs
  are. Sentence 2 is always a variant of a sentence (a sixth of its words dropped, a neighbouring
  pair of the rest swapped): of sentence 1 for label 1, for label 0 of another sentence with as
  many words as sentence 1 (the nearest count when none has). Each sentence gets
  `pairs_per_sentence` of each label (balanced, so the majority class scores 50%). The signal is
  the words the two segments share, which attention can match; varying the label-0 sentences too,
  from sentences of sentence 1's length, keeps a variant's form (shorter, a pair swapped) and its
  length from telling the label (with partners of any length, the length ratio alone told 94% of
  the labels). The first recipe, label 1 for two sentences of one section, gave a 2-layer model
  trained from scratch nothing it learned in CPU minutes (both in
  bench/results/2026-12-06-learnability-pairs-xeon.md).

`python -m bench.task_sets OUT_DIR [--seed 0]` writes squad_train.json, squad_dev.json,
pairs_train.tsv and pairs_dev.tsv and prints their sizes.
"""

import argparse
import json
import random
import re
from pathlib import Path

from hub_export.distillation.corpus import split_documents

_WORD = re.compile(r"[A-Za-z]{4,}")
_TOKEN = re.compile(r"\S+")
_MAX_ANSWER_WORDS = 3
_CONTEXT_WORDS = 60
_MIN_CONTEXT_WORDS = 20
_DROP_EVERY = 6
_MIN_VARIANT_WORDS = 3


def _contexts(document: list) -> list:
  words = " ".join(document).split(" ")
  runs = [words[i:i + _CONTEXT_WORDS] for i in range(0, len(words), _CONTEXT_WORDS)]
  return [" ".join(run) for run in runs if len(run) >= _MIN_CONTEXT_WORDS]


def _questions(context: str, rng: random.Random, per_context: int) -> list:
  """(question, answer text, answer_start) for words that occur once, with their next words."""
  tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(context)]
  counts = {}
  for text, _ in tokens:
    counts[text.lower()] = counts.get(text.lower(), 0) + 1
  candidates = []
  for index, (text, _) in enumerate(tokens[:-1]):
    if not _WORD.fullmatch(text) or counts[text.lower()] != 1:
      continue
    answer = []
    for following, start in tokens[index:index + _MAX_ANSWER_WORDS]:
      stripped = following.rstrip(".,;:!?)\"'")
      if stripped:
        answer.append((stripped, start))
      if stripped != following or not stripped:
        break
    if answer and re.search(r"\w", answer[0][0]):
      first_start = answer[0][1]
      last_text, last_start = answer[-1]
      candidates.append((f'Where does "{text}" appear?', context[first_start:last_start + len(last_text)], first_start))
  rng.shuffle(candidates)
  return candidates[:per_context]


def squad_set(documents: list, seed: int, per_context: int, name: str) -> dict:
  rng = random.Random(seed)
  paragraphs = []
  for d, document in enumerate(documents):
    for c, context in enumerate(_contexts(document)):
      qas = [{"id": f"{name}-{d}-{c}-{q}", "question": question, "answers": [{"text": text, "answer_start": start}]}
             for q, (question, text, start) in enumerate(_questions(context, rng, per_context))]
      if qas:
        paragraphs.append({"context": context, "qas": qas})
  return {"version": "1.1", "data": [{"title": f"python-reference-{name}", "paragraphs": paragraphs}]}


def variant(sentence: str, rng: random.Random) -> str:
  """The sentence with one word in `_DROP_EVERY` dropped (at least one, keeping `_MIN_VARIANT_WORDS`) and one
  neighbouring pair of the words left swapped: the same words, mostly in the same order, as a paraphrase has."""
  words = sentence.split()
  drop = max(0, min(max(1, len(words) // _DROP_EVERY), len(words) - _MIN_VARIANT_WORDS))
  dropped = set(rng.sample(range(len(words)), drop))
  kept = [word for k, word in enumerate(words) if k not in dropped]
  k = rng.randrange(len(kept) - 1)
  kept[k], kept[k + 1] = kept[k + 1], kept[k]
  return " ".join(kept)


def _by_length(documents: list) -> dict:
  """Word count: the (section, index) of every sentence of that many words."""
  by_length = {}
  for d, document in enumerate(documents):
    for i, sentence in enumerate(document):
      by_length.setdefault(len(sentence.split()), []).append((d, i))
  return by_length


def pair_rows(documents: list, seed: int, per_sentence: int) -> list:
  """(label, id1, id2, sentence1, sentence2) in MRPC's sense: sentence 2 is always a `variant`, of sentence 1
  (label 1) or of another sentence as long as sentence 1 (the nearest length when none is; label 0); id2 names the
  sentence it was made from. Each sentence gets `per_sentence` rows of each label."""
  rng = random.Random(seed)
  by_length = _by_length(documents)
  rows = []
  for d, document in enumerate(documents):
    for i, sentence in enumerate(document):
      length = len(sentence.split())
      partners = []
      for distance in range(max(by_length)):
        partners = [(o, j) for n in {length - distance, length + distance} for o, j in by_length.get(n, ())
                    if documents[o][j] != sentence]
        if partners:
          break
      for _ in range(per_sentence):
        rows.append((1, f"{d}.{i}", f"{d}.{i}", sentence, variant(sentence, rng)))
        o, j = rng.choice(partners)
        rows.append((0, f"{d}.{i}", f"{o}.{j}", sentence, variant(documents[o][j], rng)))
  rng.shuffle(rows)
  return rows


def _clean(sentence: str) -> str:
  return " ".join(sentence.split())


def write_pairs(path: Path, rows: list) -> None:
  lines = ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"]
  lines += [f"{label}\t{a}\t{b}\t{_clean(s1)}\t{_clean(s2)}" for label, a, b, s1, s2 in rows]
  path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_sets(out_dir: Path, seed: int, per_context: int, per_sentence: int) -> dict:
  out_dir.mkdir(parents=True, exist_ok=True)
  train, held_out = split_documents()
  summary = {}
  for split, documents in (("train", train), ("dev", held_out)):
    squad = squad_set(documents, seed, per_context, split)
    path = out_dir / f"squad_{split}.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    summary[path.name] = sum(len(p["qas"]) for p in squad["data"][0]["paragraphs"])
    rows = pair_rows(documents, seed, per_sentence)
    write_pairs(out_dir / f"pairs_{split}.tsv", rows)
    summary[f"pairs_{split}.tsv"] = len(rows)
  return summary


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("out_dir", type=Path)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--questions_per_context", type=int, default=12)
  parser.add_argument("--pairs_per_sentence", type=int, default=3)
  args = parser.parse_args()
  print(json.dumps(write_sets(args.out_dir, args.seed, args.questions_per_context, args.pairs_per_sentence)))


if __name__ == "__main__":
  main()
