"""BERT's text rules (facts section 7) as TensorFlow string ops, exact and graph-friendly.

The original tokenizer walks characters in Python; here each rule is one vectorised op:
invalid UTF-8 dropped, whitespace mapped to spaces, control/format characters dropped,
then (uncased) lower-case + NFD + drop combining marks, then one regex split on
whitespace, punctuation and CJK ideographs. Applying lower-casing and NFD to the whole
string instead of word by word gives the same result: both act per character, except
Greek final sigma, whose context never crosses a space, and NFD's reordering of combining
marks, which never crosses a starter such as a space.
"""

import tensorflow as tf
import tensorflow_text as tf_text

# Rule 1: whitespace becomes a space; control (Cc), format (Cf), U+FFFD are dropped. Tab,
# newline and carriage return are Cc but count as whitespace, so they are mapped first.
_WHITESPACE = r"[\t\n\r\p{Zs}]"
_DROPPED = r"[\p{Cc}\p{Cf}\x{FFFD}]"
# Rule 3 (uncased only): combining marks left after NFD.
_COMBINING_MARKS = r"\p{Mn}"
# Rule 4: punctuation is every P* character plus these ASCII symbol ranges.
_PUNCTUATION = r"!-/:-@\[-`{-~\p{P}"
# Rule 2: CJK ideographs, each its own word (google-research/bert's `_is_chinese_char`).
_CJK = (r"\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
        r"\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}")
# After cleaning, the only characters Python's str.split() still splits on are the space
# and the line/paragraph separators U+2028, U+2029 (categories Zl, Zp, not Zs).
_WORD_BREAK = r"[ \x{2028}\x{2029}]"
_SINGLE_CHAR_WORD = f"[{_PUNCTUATION}{_CJK}]"
SPLIT_PATTERN = f"{_WORD_BREAK}|{_SINGLE_CHAR_WORD}"
KEEP_PATTERN = _SINGLE_CHAR_WORD


def normalize(text: tf.Tensor, lower_case: bool) -> tf.Tensor:
  """Rules 1 and 3 on a string tensor of any shape; invalid UTF-8 bytes are dropped.

  Dropping invalid bytes is what the original `convert_to_unicode` does
  (`bytes.decode("utf-8", "ignore")`), and matches it byte sequence for byte sequence.
  """
  text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="ignore")
  text = tf.strings.regex_replace(text, _WHITESPACE, " ")
  text = tf.strings.regex_replace(text, _DROPPED, "")
  if lower_case:
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf_text.normalize_utf8(text, "NFD")
    text = tf.strings.regex_replace(text, _COMBINING_MARKS, "")
  return text


def split_words(text: tf.Tensor) -> tf.RaggedTensor:
  """Rules 2 and 4: normalized strings [batch] -> words, ragged [batch, words]."""
  return tf_text.regex_split(text, SPLIT_PATTERN, KEEP_PATTERN)


def split_words_with_offsets(text: tf.Tensor):
  """Like `split_words`, plus each word's start and limit byte offsets in `text`."""
  return tf_text.regex_split_with_offsets(text, SPLIT_PATTERN, KEEP_PATTERN)
