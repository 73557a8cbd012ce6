"""Token ids of the graph tokenizer equal the plain-Python BERT rules on whole corpora.

English: the real uncased vocab (both casing modes). Multilingual: vocabs built from the
corpus (see tokenization_test_data), cased and uncased. Every line must match.
"""

import unicodedata

import pytest
import tensorflow as tf

from conftest import require_shared
from hub_export.tokenization import bert_text_normalizer
from hub_export.tokenization.bert_tokenizer import BertTokenizer
from hub_export.tokenization.vocab import load_vocab
from support import bert_reference_tokenizer as ref
from support.tokenization_test_data import ENGLISH_VOCAB, build_test_vocab, corpus, write_vocab

BATCH = 256


def graph_ids(vocab, lower_case, lines):
  tokenizer = BertTokenizer(vocab, lower_case)
  tokenize = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
  out = []
  for i in range(0, len(lines), BATCH):
    out.extend(tokenize(tf.constant([line.encode("utf-8") for line in lines[i:i + BATCH]])).to_list())
  return out


def assert_all_lines_match(vocab, lower_case, lines):
  assert len(lines) >= 1000
  index = {token: i for i, token in enumerate(vocab.tokens)}
  got = graph_ids(vocab, lower_case, lines)
  mismatched = [n for n, (line, ids) in enumerate(zip(lines, got))
                if ref.tokenize_ids(line, index, lower_case) != ids]
  assert not mismatched, f"{len(mismatched)} of {len(lines)} lines differ, first: {lines[mismatched[0]]!r}"
  return got


@pytest.mark.parametrize("lower_case", [True, False])
def test_english_corpus_real_vocab(lower_case):
  require_shared(ENGLISH_VOCAB)
  assert_all_lines_match(load_vocab(ENGLISH_VOCAB), lower_case, corpus("english"))


@pytest.mark.parametrize("lower_case", [False, True])
def test_multilingual_corpus_built_vocab(lower_case, tmp_path):
  lines = corpus("multilingual")
  vocab = load_vocab(write_vocab(build_test_vocab(lines, lower_case), tmp_path / "vocab.txt"))
  got = assert_all_lines_match(vocab, lower_case, lines)
  flat = [i for line in got for word in line for i in word]
  unk = vocab.special_ids()["[UNK]"]
  # The comparison means something only if both [UNK] and real pieces occur plenty.
  assert 0.01 < flat.count(unk) / len(flat) < 0.5


def test_corpora_cover_the_hard_cases():
  """The multilingual corpus holds what section 7's rules are tested on."""
  text = "\n".join(corpus("multilingual"))
  for needle in ("\u200c", "\x00", "\u200b", "\ufeff", "\u2028", "\u3000", "ΟΔΟΣ", "İ", "👨\u200d👩",
                 "\uf900", "\U00020000", "\u1fef"):
    assert needle in text, f"corpus lacks {needle!r}"
  words = [w for line in corpus("multilingual") for w in line.split()]
  assert any(len(w) > 200 for w in words)
  assert any(len(w.encode()) > 100 and len(w) <= 200 for w in words)
  scripts = {"Cyrillic": "\u0430", "Greek": "\u03b1", "Arabic": "\u0627", "Hebrew": "\u05e9", "Devanagari": "\u0928",
             "Thai": "\u0e2a", "Hangul": "\uc548", "kana": "\u3053"}
  for script, char in scripts.items():
    assert char in text, script


def test_offsets_slice_back_to_source_text(tmp_path):
  """Each word's pieces, from the first start to the last limit, normalize to the word."""
  lines = corpus("multilingual")[:300]
  for lower_case in (True, False):
    vocab = load_vocab(write_vocab(build_test_vocab(lines, lower_case), tmp_path / f"v{lower_case}.txt"))
    raw = [line.encode("utf-8") for line in lines]
    ids, starts, limits = BertTokenizer(vocab, lower_case).tokenize_with_offsets(tf.constant(raw))
    unk = vocab.special_ids()["[UNK]"]
    for line, line_ids, line_starts, line_limits in zip(raw, ids.to_list(), starts.to_list(), limits.to_list()):
      expected_words = ref.basic_tokenize(line, lower_case)
      assert len(expected_words) == len(line_ids)
      for word, word_ids, word_starts, word_limits in zip(expected_words, line_ids, line_starts, line_limits):
        assert word_starts == sorted(word_starts) and word_limits == sorted(word_limits)
        source = line[word_starts[0]:word_limits[-1]]
        assert "".join(ref.basic_tokenize(source, lower_case)) == word
        for piece_id, start, limit in zip(word_ids, word_starts, word_limits):
          if piece_id != unk:
            piece = vocab.tokens[piece_id].removeprefix("##")
            assert piece in "".join(ref.basic_tokenize(line[start:limit], lower_case))


def test_every_assigned_code_point_follows_the_rules():
  """Each character Python's Unicode tables assign, between letters, in both casing modes.

  Other letters (Lo, mostly ideographs and syllables) are sampled 1 in 10. The one known
  gap: letters whose lower case TensorFlow's ICU tables lack (Unicode 14 additions such as
  U+2C2F); the test pins the gap to exactly those.
  """
  chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF
           and unicodedata.category(chr(c)) != "Cn" and (unicodedata.category(chr(c)) != "Lo" or c % 10 == 0)]
  lines = [f"a{ch}b {ch}" for ch in chars]
  for lower_case in (True, False):
    split = tf.function(lambda x: bert_text_normalizer.split_words(bert_text_normalizer.normalize(x, lower_case)))
    got = split(tf.constant([line.encode("utf-8") for line in lines])).to_list()
    wrong = [ch for ch, line, words in zip(chars, lines, got)
             if ref.basic_tokenize(line, lower_case) != [w.decode("utf-8") for w in words]]
    for ch in wrong:
      tf_lower = tf.strings.lower(ch, encoding="utf-8").numpy().decode("utf-8")
      assert lower_case and ch.lower() != ch and tf_lower == ch, f"U+{ord(ch):04X} differs"
    assert len(wrong) < 50


def _is_utf8(data: bytes) -> bool:
  try:
    data.decode("utf-8")
    return True
  except UnicodeDecodeError:
    return False


def test_valid_utf8_pattern_accepts_exactly_what_python_decodes():
  """The DFA that lets valid batches skip the transcode must never pass an invalid string.

  Every string of one and two bytes, every three-byte string led by E0-EF with the
  boundary continuation bytes, and four-byte strings around U+10000 and U+10FFFF.
  """
  edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
  samples = [bytes([a]) for a in range(256)] + [bytes([a, b]) for a in range(256) for b in range(256)]
  samples += [bytes([a, b, c]) for a in range(0xE0, 0xF0) for b in edges for c in edges]
  samples += [bytes([a, b, c, d]) for a in range(0xF0, 0xF8) for b in edges for c in (0x80, 0xBF) for d in (0x80, 0xBF)]
  samples += [b"ok " + s + b" ok" for s in (b"\xed\xa0\x80", b"\xe0\x80\xaf", b"\xf4\x90\x80\x80", b"\xc3")]
  valid = tf.strings.regex_full_match(tf.constant(samples), bert_text_normalizer._VALID_UTF8).numpy()
  expected = [_is_utf8(s) for s in samples]
  assert sum(expected) > 1000 and not all(expected)
  assert [s for s, v, e in zip(samples, valid, expected) if v != e] == []


@pytest.mark.parametrize("batch", [[b"caf\xc3\xa9", b"plain"], [b"caf\xc3\xa9", b"a\xffb\xed\xa0\x80c", b"x\xe2\x82"]])
def test_drop_invalid_utf8_equals_python_decode_ignore(batch):
  got = bert_text_normalizer.drop_invalid_utf8(tf.constant(batch)).numpy().tolist()
  assert got == [s.decode("utf-8", "ignore").encode("utf-8") for s in batch]


def test_a_batch_tokenized_in_halves_keeps_each_line_in_place():
  """`tokenize` runs a batch as two halves; odd, single and empty batches keep their rows."""
  tokenizer = BertTokenizer(load_vocab(require_shared(ENGLISH_VOCAB)), True)
  tokenize = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
  lines = [line.encode("utf-8") for line in corpus("english")[:5]]
  alone = [tokenize(tf.constant([line])).to_list()[0] for line in lines]
  assert len(set(map(str, alone))) == 5
  for size in (0, 1, 2, 3, 5):
    assert tokenize(tf.constant(lines[:size], tf.string)).to_list() == alone[:size]
