"""Encoder inputs made from plain text by the project's own tokenizer and packer.

Full-integer quantization calibrates activation ranges on these (a committed English
text, `calibration_en.txt`, unless the user gives another); the export's own check and
the tests feed the same kind of inputs to both models.
"""

import importlib.resources
from pathlib import Path

from hub_export.support.errors import HubExportError

# Package data: a wheel installs it as a file beside this module, so it is also a Path.
DEFAULT_CALIBRATION_TEXT = importlib.resources.files("hub_export.tflite") / "calibration_en.txt"
DEFAULT_CALIBRATION_SAMPLES = 100


def read_lines(path, limit=None) -> list:
  """The non-blank lines of a UTF-8 text file (at most `limit`), stripped."""
  path = Path(path)
  try:
    text = path.read_text(encoding="utf-8")
  except OSError as e:
    raise HubExportError(f"cannot read text file {path}: {e.strerror}") from None
  except UnicodeDecodeError:
    raise HubExportError(f"text file {path} is not UTF-8") from None
  lines = [line.strip() for line in text.splitlines() if line.strip()]
  if not lines:
    raise HubExportError(f"text file {path} has no non-blank lines")
  return lines[:limit]


class TextEncoder:
  """Text -> int32 encoder inputs at a fixed length, exactly as the exported preprocessor packs them."""

  def __init__(self, vocab, lower_case: bool, seq_length: int):
    from hub_export.tokenization.bert_tokenizer import BertTokenizer
    from hub_export.tokenization.vocab import CLS, PAD, SEP

    self._tokenizer = BertTokenizer(vocab, lower_case)
    self.vocab, self.lower_case = vocab, lower_case
    ids = vocab.special_ids()
    self._special = (ids[CLS], ids[SEP], ids[PAD])
    self.seq_length = seq_length

  def encode(self, first: list, second: list = None) -> list:
    """One [1, seq_length] input dict per text (or per pair of texts, as two segments)."""
    import tensorflow as tf
    from hub_export.tokenization.packing import pack_segments

    segments = [self._tokenizer.tokenize(tf.constant(texts)) for texts in ([first] if second is None else [first, second])]
    packed = pack_segments(segments, self.seq_length, *self._special)
    arrays = {key: value.numpy() for key, value in packed.items()}
    return [{key: value[i:i + 1] for key, value in arrays.items()} for i in range(len(first))]


def calibration_inputs(text_encoder: TextEncoder, path=DEFAULT_CALIBRATION_TEXT,
                       samples: int = DEFAULT_CALIBRATION_SAMPLES) -> list:
  """`samples` inputs from the lines of `path`: single lines, and pairs of consecutive lines.

  Pairs put real text in the second segment (type id 1) and fill longer sequences, so the
  calibrated ranges cover what a sentence-pair task feeds the model. Pairs need room for
  three special tokens, so a sequence length under 3 gets single lines only.
  """
  if samples < 1:
    raise HubExportError(f"--calibration_samples must be at least 1, got {samples}")
  lines = read_lines(path)
  use_pairs = text_encoder.seq_length >= 3 and len(lines) > 1
  inputs = text_encoder.encode(lines[:(samples + 1) // 2] if use_pairs else lines[:samples])
  pairs = min(samples - len(inputs), len(lines) - 1) if use_pairs else 0
  if pairs > 0:
    inputs += text_encoder.encode(lines[:pairs], lines[1:pairs + 1])
  return inputs
