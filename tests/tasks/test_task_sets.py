"""bench/task_sets.py's pair set: balanced, in MRPC's layout, each sentence 2 a variant of the sentence its id names."""

import random
from collections import Counter

from bench.task_sets import pair_rows, variant, write_pairs
from hub_export.tasks.classification_data import read_task

DOCUMENTS = [[" ".join(f"w{d}x{i}y{k}" for k in range(4 + 3 * i)) for i in range(3)] for d in range(4)]  # words unique


def _sentence(sentence_id: str) -> str:
  d, i = sentence_id.split(".")
  return DOCUMENTS[int(d)][int(i)]


def _is_variant(text: str, source: str) -> bool:
  """Words of `source` only, at least one dropped and none added, and not in their first order."""
  words, kept = source.split(), text.split()
  return not Counter(kept) - Counter(words) and len(kept) < len(words) and kept != [w for w in words if w in kept]


def test_variant_drops_words_and_swaps_a_neighbouring_pair():
  sentence = "one two three four five six seven eight nine ten eleven twelve"
  text = variant(sentence, random.Random(0))
  assert _is_variant(text, sentence) and len(text.split()) == 10  # a sixth dropped
  assert len(variant("a b c d", random.Random(0)).split()) == 3  # never below three words


def test_pairs_are_balanced_and_each_second_sentence_derives_from_its_id():
  rows = pair_rows(DOCUMENTS, seed=3, per_sentence=2)
  assert len(rows) == 4 * 3 * 2 * 2
  for sentence_id in {row[1] for row in rows}:
    labels = Counter(row[0] for row in rows if row[1] == sentence_id)
    assert labels == {0: 2, 1: 2}, sentence_id
  for label, id1, id2, sentence1, sentence2 in rows:
    assert sentence1 == _sentence(id1)
    assert (id1 == id2) == (label == 1), (id1, id2, label)
    assert _is_variant(sentence2, _sentence(id2)), (sentence2, id2)
    if label == 0:  # another sentence of the same length, so that a variant's length does not tell the label
      assert len(_sentence(id2).split()) == len(sentence1.split()) and _sentence(id2) != sentence1
  assert pair_rows(DOCUMENTS, seed=3, per_sentence=2) == rows != pair_rows(DOCUMENTS, seed=4, per_sentence=2)


def test_pairs_file_reads_as_mrpc(tmp_path):
  rows = pair_rows(DOCUMENTS, seed=0, per_sentence=1)
  path = tmp_path / "pairs_train.tsv"
  write_pairs(path, rows)
  dataset = read_task("mrpc", "train", path)
  assert dataset.labels == ("0", "1")
  assert [(e.text_a, e.text_b, e.label) for e in dataset.examples] == [(s1, s2, label) for label, _, _, s1, s2 in rows]


def test_a_sentence_of_unique_length_is_paired_with_the_nearest_length():
  documents = [["a b c d e f g h i j k l m", "n o p q"], ["r s t u v w x y z", "A B C D"]]  # 13, 4; 9, 4 words
  partners = {(id1, id2) for label, id1, id2, _, _ in pair_rows(documents, seed=0, per_sentence=3) if label == 0}
  assert partners == {("0.0", "1.0"), ("0.1", "1.1"), ("1.0", "0.0"), ("1.1", "0.1")}
