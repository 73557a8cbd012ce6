"""The BERT tokenization rules written plainly in Python, as the yardstick for the graph.

It follows the rules of google-research/bert's `tokenization.py` (facts section 7) one
character at a time, with no TensorFlow, so a test comparing it with the exported
preprocessor compares two independent implementations. Bytes are decoded as UTF-8 with
invalid sequences ignored, as the original `convert_to_unicode` does.
"""

import unicodedata

MAX_WORD_CHARS = 200

_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
               (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def is_whitespace(ch):
  return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
  if ch in "\t\n\r":
    return False
  return unicodedata.category(ch) in ("Cc", "Cf")


def is_punctuation(ch):
  cp = ord(ch)
  if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
    return True
  return unicodedata.category(ch).startswith("P")


def is_cjk(ch):
  cp = ord(ch)
  return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def clean(text):
  out = []
  for ch in text:
    if ch in ("\0", "\ufffd") or is_control(ch):
      continue
    out.append(" " if is_whitespace(ch) else ch)
  return "".join(out)


def space_cjk(text):
  return "".join(f" {ch} " if is_cjk(ch) else ch for ch in text)


def strip_accents(text):
  return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def split_punctuation(token):
  words, current = [], []
  for ch in token:
    if is_punctuation(ch):
      if current:
        words.append("".join(current))
        current = []
      words.append(ch)
    else:
      current.append(ch)
  if current:
    words.append("".join(current))
  return words


def basic_tokenize(text, lower_case):
  """Text -> words, before WordPiece."""
  if isinstance(text, bytes):
    text = text.decode("utf-8", "ignore")
  text = space_cjk(clean(text))
  words = []
  for token in text.split():
    if lower_case:
      token = strip_accents(token.lower())
    words.extend(split_punctuation(token))
  return " ".join(words).split()


def wordpiece(word, vocab, unk="[UNK]"):
  """Greedy longest-match-first; an over-long or uncoverable word is one [UNK]."""
  if len(word) > MAX_WORD_CHARS:
    return [unk]
  pieces, start = [], 0
  while start < len(word):
    end = len(word)
    found = None
    while start < end:
      piece = word[start:end] if start == 0 else "##" + word[start:end]
      if piece in vocab:
        found = piece
        break
      end -= 1
    if found is None:
      return [unk]
    pieces.append(found)
    start = end
  return pieces


def tokenize_ids(text, vocab, lower_case):
  """Text -> list of words, each a list of token ids (the shape of `.tokenize`)."""
  return [[vocab[p] for p in wordpiece(w, vocab)] for w in basic_tokenize(text, lower_case)]
