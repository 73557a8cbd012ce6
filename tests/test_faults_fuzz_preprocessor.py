"""12,000 generated strings through an exported preprocessor: fixed shapes, int32, ids in the vocab.

The strings come from a seeded generator over every Unicode general category plus
invalid UTF-8 (tests/unicode_fuzz.py). The default call packs one segment; pairs go
through `.tokenize` and `.bert_pack_inputs`. Besides shape, dtype and range, the packing
rules hold for every row: [CLS] first, [SEP] closing each segment, the mask a prefix of
ones, [PAD] (id 0) and type 0 past it.
"""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.export_preprocessor import export
from release_dirs import SPECIALS
from unicode_fuzz import random_texts

SEQ_LENGTH = 24
BATCH = 500
SINGLES = 10_000
PAIRS = 2_000
LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789")
VOCAB = SPECIALS + LETTERS + [f"##{c}" for c in LETTERS] + ["the", "##ing", "é", "東", "京", "!", ",", "."]
PAD, CLS, SEP = (VOCAB.index(token) for token in ("[PAD]", "[CLS]", "[SEP]"))


@pytest.fixture(scope="module")
def preprocessor(tmp_path_factory):
  root = tmp_path_factory.mktemp("fuzz_preprocessor")
  vocab = root / "vocab.txt"
  vocab.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
  return tf.saved_model.load(str(export(vocab, root / "export", lower_case=True, seq_length=SEQ_LENGTH)))


def _check_packed(outputs, batch: int, segments: int) -> None:
  for key in ("input_word_ids", "input_mask", "input_type_ids"):
    assert outputs[key].dtype == tf.int32, key
    assert outputs[key].shape == (batch, SEQ_LENGTH), key
  ids, mask, types = (outputs[k].numpy() for k in ("input_word_ids", "input_mask", "input_type_ids"))
  assert ids.min() >= 0 and ids.max() < len(VOCAB)
  lengths = mask.sum(axis=1)
  assert np.array_equal(mask, (np.arange(SEQ_LENGTH) < lengths[:, None]).astype(np.int32))
  assert (lengths >= 1 + segments).all()
  assert (ids[:, 0] == CLS).all()
  assert (ids[np.arange(batch), lengths - 1] == SEP).all()
  assert ((ids == SEP).sum(axis=1) == segments).all()
  assert (ids[mask == 0] == PAD).all() and (types[mask == 0] == 0).all()
  assert set(np.unique(types)) <= set(range(segments))


def test_single_strings(preprocessor):
  texts = random_texts(SINGLES, seed=1, words=VOCAB)
  for start in range(0, SINGLES, BATCH):
    batch = texts[start:start + BATCH]
    _check_packed(preprocessor(tf.constant(batch)), len(batch), segments=1)


def test_string_pairs(preprocessor):
  firsts, seconds = random_texts(PAIRS, seed=2, words=VOCAB), random_texts(PAIRS, seed=3, words=VOCAB)
  for start in range(0, PAIRS, BATCH):
    segments = [preprocessor.tokenize(tf.constant(texts[start:start + BATCH])) for texts in (firsts, seconds)]
    for tokens in segments:
      assert tokens.dtype == tf.int32
      values = tokens.flat_values.numpy()
      assert values.size == 0 or (values.min() >= 0 and values.max() < len(VOCAB))
    packed = preprocessor.bert_pack_inputs(segments, tf.constant(SEQ_LENGTH))
    _check_packed(packed, BATCH, segments=2)


def test_generator_is_seeded_and_covers_invalid_utf8():
  texts = random_texts(2_000, seed=1, words=VOCAB)
  assert texts == random_texts(2_000, seed=1, words=VOCAB)
  invalid = sum(1 for t in texts if not _is_utf8(t))
  assert 50 <= invalid <= 1_000, invalid
  assert max(len(t) for t in texts) > 4 * SEQ_LENGTH


def _is_utf8(data: bytes) -> bool:
  try:
    data.decode("utf-8")
  except UnicodeDecodeError:
    return False
  return True
