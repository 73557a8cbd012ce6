"""Shared test data: the committed corpora, the real English vocab, a built multilingual vocab.

The multilingual cased release vocab is not available here, so multilingual tests use a
vocab built deterministically from the multilingual corpus: the special tokens in their
release positions, then wordpieces cut at seeded random points from the words the
reference tokenizer's basic split gives (some words whole, some in pieces, some left out
so that [UNK] occurs).
"""

import random
from pathlib import Path

from hub_export.tokenization.bert_tokenizer import MAX_TOKEN_BYTES
from support import bert_reference_tokenizer as ref

SUPPORT = Path(__file__).resolve().parent
SHARED = SUPPORT.parents[2] / "shared"
ENGLISH_VOCAB = SHARED / "vocab" / "bert_en_uncased_vocab.txt"
TINY_ENCODER = SHARED / "fixtures" / "mobilebert_tiny" / "model_garden_hub_export"
REFERENCE_PREPROCESSOR = SHARED / "fixtures" / "model_garden_preprocess_en_uncased"


def corpus(name: str) -> list:
  """Lines of tests/support/corpus/NAME.txt, split on "\\n" only (the corpora hold U+2028, U+0085...)."""
  text = (SUPPORT / "corpus" / f"{name}.txt").read_bytes().decode("utf-8")
  return text.split("\n")[:-1]


def special_layout() -> list:
  return ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_test_vocab(lines, lower_case: bool, seed: int = 7) -> list:
  rng = random.Random(seed)
  pieces = set()
  for line in lines:
    for word in ref.basic_tokenize(line, lower_case):
      roll = rng.random()
      if roll < 0.1:
        continue
      if roll < 0.35 or len(word) == 1:
        pieces.add(word)
        continue
      cuts = sorted(rng.sample(range(1, len(word)), min(len(word) - 1, rng.randint(1, 3))))
      bounds = [0] + cuts + [len(word)]
      for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        pieces.add(word[a:b] if i == 0 else "##" + word[a:b])
  specials = special_layout()
  pieces = {p for p in pieces if len(p.removeprefix("##").encode()) <= MAX_TOKEN_BYTES}
  return specials + sorted(pieces - set(specials))


def write_vocab(tokens, path: Path) -> Path:
  path.write_text("\n".join(tokens) + "\n", encoding="utf-8")
  return path


CLS, SEP, PAD = 101, 102, 0  # their ids in the release vocabs and in special_layout()


def expected_pack(segments, seq_length):
  """[CLS] a [SEP] b [SEP] with round-robin truncation, from the rule as stated."""
  budget, take = seq_length - len(segments) - 1, [0] * len(segments)
  while budget > 0 and any(t < len(s) for t, s in zip(take, segments)):
    for i, segment in enumerate(segments):
      if budget > 0 and take[i] < len(segment):
        take[i] += 1
        budget -= 1
  ids, types = [CLS], [0]
  for i, (segment, n) in enumerate(zip(segments, take)):
    ids += segment[:n] + [SEP]
    types += [i] * (n + 1)
  mask = [1] * len(ids) + [0] * (seq_length - len(ids))
  return ids + [PAD] * (seq_length - len(ids)), mask, types + [0] * (seq_length - len(types))
