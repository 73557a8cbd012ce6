"""The demo's WordPiece vocab: release-sized, release special-token ids, real wordpieces.

It stands in for the English uncased release vocab (which is not in this repository):
30,522 lines, [PAD] 0, [unused0..98] 1..99, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103,
then every printable ASCII letter, digit and punctuation mark, their `##` continuations,
common suffixes and a few hundred whole words, so any lower-case ASCII text tokenizes
without [UNK]; the rest is [unusedN] padding. Deterministic: the same list every run.
"""

import string

from hub_export.demo.common_words import COMMON_WORDS
from hub_export.tokenization.vocab import CLS, MASK, PAD, SEP, UNK

ENGLISH_VOCAB_SIZE = 30522
LOWER_CASE = True  # lower-case wordpieces only: an uncased vocab, recorded beside the demo's vocab.txt
RESERVED_BEFORE_UNK = 99  # [unused0] .. [unused98] sit between [PAD] and [UNK]
SUFFIXES = ("s", "es", "ed", "ing", "er", "ers", "est", "ly", "tion", "ment", "ness", "able", "ful")


def _unused(index: int) -> str:
  return f"[unused{index}]"


def demo_vocab() -> list:
  """The demo vocab's tokens in id order."""
  specials = [PAD] + [_unused(i) for i in range(RESERVED_BEFORE_UNK)] + [UNK, CLS, SEP, MASK]
  characters = list(string.punctuation + string.digits + string.ascii_lowercase)
  continuations = [f"##{c}" for c in string.digits + string.ascii_lowercase] + [f"##{s}" for s in SUFFIXES]
  tokens = list(dict.fromkeys(specials + characters + continuations + list(COMMON_WORDS)))
  next_unused = RESERVED_BEFORE_UNK
  while len(tokens) < ENGLISH_VOCAB_SIZE:
    tokens.append(_unused(next_unused))
    next_unused += 1
  return tokens
