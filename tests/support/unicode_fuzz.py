"""Seeded random byte strings over every Unicode general category, for fuzzing the preprocessor.

Each string mixes code points drawn category by category (so rare categories such as
combining marks, format characters, private use and unassigned are as likely as letters),
vocab words, whitespace runs and lengths past any sequence length. Some are not valid
UTF-8: lone surrogates, and raw random bytes.
"""

import functools
import random
import sys
import unicodedata

LENGTHS = (0, 1, 2, 3, 8, 30, 120, 700)
WHITESPACE = (" ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2028")


@functools.cache
def code_points_by_category() -> dict:
  """{general category: [code points]} over the whole code space, surrogates included."""
  table = {}
  for code_point in range(sys.maxunicode + 1):
    table.setdefault(unicodedata.category(chr(code_point)), []).append(code_point)
  return table


def _piece(rng: random.Random, words: list) -> str:
  roll = rng.random()
  if roll < 0.15:
    return rng.choice(words)
  if roll < 0.25:
    return rng.choice(WHITESPACE) * rng.randint(1, 3)
  table = code_points_by_category()
  return chr(rng.choice(table[rng.choice(sorted(table))]))


def random_texts(count: int, seed: int, words: list) -> list:
  """`count` byte strings; the same seed always gives the same strings."""
  rng = random.Random(seed)
  texts = []
  for _ in range(count):
    if rng.random() < 0.05:
      texts.append(bytes(rng.getrandbits(8) for _ in range(rng.choice(LENGTHS))))
      continue
    text = "".join(_piece(rng, words) for _ in range(rng.choice(LENGTHS)))
    texts.append(text.encode("utf-8", "surrogatepass"))  # lone surrogates become invalid UTF-8
  return texts
