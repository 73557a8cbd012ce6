"""Pre-training instances from tokenized documents: sentence pairs, next-sentence labels, masked LM.

Follows the standard BERT recipe (google-research/bert `create_pretraining_data.py`):
sentences are packed into chunks up to the target length, a chunk is cut into segment A
and B, half the B segments come from another document (next-sentence label 1), and 15%
of the tokens are picked for prediction, of which 80% become [MASK], 10% stay, 10% become
a random token. Pure Python on a `random.Random` a document, so a seed fixes every choice, and
documents can be built apart (the scheme in `scheme.py`).
"""

import dataclasses
import hashlib
import random


@dataclasses.dataclass(frozen=True)
class MaskingOptions:
  masked_lm_prob: float = 0.15
  max_predictions: int = 20
  mask_rate: float = 0.8  # of the picked tokens, become [MASK]
  keep_rate: float = 0.1  # stay as they are; the rest become a random token


@dataclasses.dataclass(frozen=True)
class Instance:
  tokens: tuple  # ids, [CLS] A [SEP] B [SEP], masked
  segment_ids: tuple
  masked_lm_positions: tuple
  masked_lm_ids: tuple  # the original ids at those positions
  is_random_next: bool


@dataclasses.dataclass(frozen=True)
class SpecialIds:
  cls: int
  sep: int
  mask: int
  vocab_size: int


def _truncate_pair(a: list, b: list, max_tokens: int, rng: random.Random) -> None:
  """Drops tokens from the longer segment, from its front or back at random, until both fit."""
  while len(a) + len(b) > max_tokens:
    longer = a if len(a) > len(b) else b
    del longer[0 if rng.random() < 0.5 else -1]


def _mask(tokens: list, special: SpecialIds, options: MaskingOptions, rng: random.Random):
  candidates = [i for i, t in enumerate(tokens) if t not in (special.cls, special.sep)]
  rng.shuffle(candidates)
  count = min(options.max_predictions, max(1, int(round(len(tokens) * options.masked_lm_prob))))
  picked = sorted(candidates[:count])
  masked = list(tokens)
  for position in picked:
    roll = rng.random()
    if roll < options.mask_rate:
      masked[position] = special.mask
    elif roll >= options.mask_rate + options.keep_rate:
      masked[position] = rng.randrange(special.vocab_size)
  return masked, tuple(picked), tuple(tokens[p] for p in picked)


def _pair(chunk: list, document_index: int, documents: list, target: int, rng: random.Random):
  """Segment A from the first sentences of `chunk`; B the rest, or text from another document."""
  a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
  a = [t for sentence in chunk[:a_end] for t in sentence]
  random_next = len(chunk) == 1 or (len(documents) > 1 and rng.random() < 0.5)
  unused = 0
  if random_next and len(documents) > 1:
    other_index = rng.randrange(len(documents) - 1)
    other = documents[other_index + (other_index >= document_index)]
    start = rng.randrange(len(other))
    b = [t for sentence in other[start:] for t in sentence][:max(1, target - len(a))]
    unused = len(chunk) - a_end  # these sentences go back for the next chunk
  else:
    random_next = False
    b = [t for sentence in chunk[a_end:] for t in sentence]
  return a, b, random_next, unused


def document_instances(documents: list, document_index: int, seq_length: int, special: SpecialIds,
                       options: MaskingOptions, rng: random.Random, short_seq_prob: float = 0.1) -> list:
  """The instances of one document; `documents` are lists of sentences, each a list of ids."""
  max_tokens = seq_length - 3  # [CLS], [SEP], [SEP]
  target = rng.randint(2, max_tokens) if rng.random() < short_seq_prob else max_tokens
  document, instances, chunk, length, i = documents[document_index], [], [], 0, 0
  while i < len(document):
    chunk.append(document[i])
    length += len(document[i])
    if i == len(document) - 1 or length >= target:
      a, b, random_next, unused = _pair(chunk, document_index, documents, target, rng)
      i -= unused
      if a and b:
        _truncate_pair(a, b, max_tokens, rng)
        tokens = [special.cls, *a, special.sep, *b, special.sep]
        segments = (0,) * (len(a) + 2) + (1,) * (len(b) + 1)
        masked, positions, ids = _mask(tokens, special, options, rng)
        instances.append(Instance(tuple(masked), segments, positions, ids, random_next))
      chunk, length = [], 0
      target = rng.randint(2, max_tokens) if rng.random() < short_seq_prob else max_tokens
    i += 1
  return instances


def document_seed(seed: int, dupe_pass: int, number: int) -> int:
  """The seed of one document in one pass, the same in every process (no Python hash)."""
  digest = hashlib.sha256(f"{seed}/{dupe_pass}/{number}".encode()).digest()
  return int.from_bytes(digest[:8], "little")


def create_instances(documents: list, seq_length: int, special: SpecialIds, options: MaskingOptions,
                     seed: int, dupe_factor: int = 1, short_seq_prob: float = 0.1, numbers=None) -> list:
  """[((pass, number, index), instance)] over `dupe_factor` passes, in that order. A document's instances come
  from its own `random.Random(document_seed(seed, pass, number))`, `numbers` being the documents' numbers in the
  corpus (default: their positions); random next segments come from the other documents given."""
  kept = [(n, d) for n, d in zip(range(len(documents)) if numbers is None else numbers, documents) if d]
  documents = [d for _, d in kept]
  keyed = []
  for dupe_pass in range(dupe_factor):
    for position, (number, _) in enumerate(kept):
      rng = random.Random(document_seed(seed, dupe_pass, number))
      built = document_instances(documents, position, seq_length, special, options, rng, short_seq_prob)
      keyed.extend(((dupe_pass, number, index), instance) for index, instance in enumerate(built))
  return keyed
