"""The exact BERT tokenizer in graph ops: normalize, split words, WordPiece.

WordPiece runs on `tensorflow_text.FastWordpieceTokenizer` (greedy longest-match-first,
the same result as the original loop) with one rule added here: a word longer than
200 characters (characters, not bytes) is a single [UNK].
"""

import tensorflow as tf
import tensorflow_text as tf_text

from hub_export.support.errors import HubExportError
from hub_export.tokenization import bert_text_normalizer
from hub_export.tokenization.vocab import UNK, Vocab

MAX_WORD_CHARS = 200
MAX_TOKEN_BYTES = 256  # FastWordpieceTokenizer's limit, "##" excluded
# WordPiece's own byte limit on a word: a word over it is over 200 characters (4 bytes a character at most).
MAX_WORD_BYTES = MAX_WORD_CHARS * 4


class BertTokenizer:
  """Strings [batch] -> int32 wordpiece ids, ragged [batch, words, wordpieces]."""

  def __init__(self, vocab: Vocab, lower_case: bool):
    for line, token in enumerate(vocab.tokens, start=1):
      if len(token.removeprefix("##").encode("utf-8")) > MAX_TOKEN_BYTES:
        raise HubExportError(f"vocab {vocab.path} line {line}: token longer than {MAX_TOKEN_BYTES} UTF-8 bytes "
                             f"(the WordPiece matcher's limit): {token[:40]!r}...")
    self.lower_case = lower_case
    # A word over 800 bytes is over 200 characters, so FastWordpiece's byte limit only
    # ever agrees with the character rule; shorter over-long words are caught below.
    self._wordpiece = tf_text.FastWordpieceTokenizer(
        vocab=list(vocab.tokens), suffix_indicator="##", unknown_token=UNK, token_out_type=tf.int32,
        max_bytes_per_word=MAX_WORD_BYTES, no_pretokenization=True)

  def _words_for_wordpiece(self, words: tf.Tensor):
    """Replaces over-long words by the [UNK] token text, which WordPiece maps to [UNK].

    Counting characters decodes every word; a word of at most 200 bytes has at most 200
    characters, so the count runs only when some word is longer than that in bytes.
    """
    def replace_long_words():
      too_long = tf.strings.length(words, unit="UTF8_CHAR") > MAX_WORD_CHARS
      return tf.where(too_long, UNK, words), too_long

    return tf.cond(tf.reduce_any(tf.strings.length(words) > MAX_WORD_CHARS), replace_long_words,
                   lambda: (tf.identity(words), tf.zeros_like(words, dtype=tf.bool)))

  def tokenize(self, text: tf.Tensor) -> tf.RaggedTensor:
    """A batch [n] is tokenized as two halves, independent chains of ops that the runtime
    runs on two threads: every string op here is single-threaded."""
    text = tf.convert_to_tensor(text)
    if text.shape.rank != 1:
      return self._tokenize(text)
    half = tf.shape(text)[0] // 2
    return tf.concat([self._tokenize(text[:half]), self._tokenize(text[half:])], axis=0)

  def _tokenize(self, text: tf.Tensor) -> tf.RaggedTensor:
    words = bert_text_normalizer.split_words(bert_text_normalizer.normalize(text, self.lower_case))
    flat_words, _ = self._words_for_wordpiece(words.flat_values)
    return words.with_flat_values(self._wordpiece.tokenize(flat_words))

  def tokenize_with_offsets(self, text: tf.Tensor):
    """Also returns each wordpiece's start and limit byte offsets in the input strings.

    Offsets come from a map of normalized bytes back to source characters: each source
    character is normalized on its own, and the running sum of the resulting lengths says
    where it lands in the normalized string (the per-character lengths add up to the
    whole string's, see bert_text_normalizer). A wordpiece spans the source characters
    its first and last normalized bytes came from.
    """
    text = tf.convert_to_tensor(text)
    normalized = bert_text_normalizer.normalize(text, self.lower_case)
    words, word_starts, word_limits = bert_text_normalizer.split_words_with_offsets(normalized)
    flat_words, too_long = self._words_for_wordpiece(words.flat_values)
    ids, starts, limits = self._wordpiece.tokenize_with_offsets(flat_words)
    pieces_per_word = ids.row_lengths()
    # Offsets in the normalized string; an over-long word's [UNK] spans the whole word.
    word_start = tf.repeat(word_starts.flat_values, pieces_per_word)
    word_limit = tf.repeat(word_limits.flat_values, pieces_per_word)
    piece_too_long = tf.repeat(too_long, pieces_per_word)
    norm_start = tf.where(piece_too_long, word_start, word_start + starts.flat_values)
    norm_limit = tf.where(piece_too_long, word_limit, word_start + limits.flat_values)
    piece_row = tf.gather(words.value_rowids(), ids.value_rowids())

    chars, char_starts = tf.strings.unicode_split_with_offsets(text, "UTF-8", errors="replace")
    char_starts = char_starts.flat_values
    char_limits = _char_limits(chars, char_starts, tf.strings.length(text))
    char_norm_len = tf.strings.length(bert_text_normalizer.normalize(chars.flat_values, self.lower_case))
    char_norm_start = tf.cumsum(tf.cast(char_norm_len, tf.int64), exclusive=True)
    row_norm_start = tf.gather(tf.concat([char_norm_start, [tf.reduce_sum(tf.cast(char_norm_len, tf.int64))]], 0),
                               chars.row_splits[:-1])
    base = tf.gather(row_norm_start, piece_row)
    first_char = _containing_char(char_norm_start, base + norm_start)
    last_char = _containing_char(char_norm_start, base + norm_limit - 1)
    source_starts = tf.gather(char_starts, first_char)
    source_limits = tf.gather(char_limits, last_char)

    shape = words.with_flat_values(ids)
    return shape, shape.with_flat_values(source_starts), shape.with_flat_values(source_limits)


def _char_limits(chars: tf.RaggedTensor, char_starts, text_lengths):
  """Each character's limit byte offset: the next character's start, or its string's end."""
  rows = chars.value_rowids()
  position = tf.range(tf.size(rows, out_type=tf.int64))
  is_last = tf.equal(position, tf.gather(chars.row_splits[1:], rows) - 1)
  next_starts = tf.concat([char_starts[1:], tf.zeros([1], tf.int64)], 0)[:tf.size(rows)]
  return tf.where(is_last, tf.gather(tf.cast(text_lengths, tf.int64), rows), next_starts)


def _containing_char(char_norm_start, positions):
  """Index of the last character whose normalized bytes start at or before each position."""
  index = tf.searchsorted(tf.expand_dims(char_norm_start, 0), tf.expand_dims(positions, 0),
                          side="right", out_type=tf.int64)
  return tf.squeeze(index, 0) - 1
