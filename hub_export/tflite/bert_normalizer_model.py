"""Our BERT text rules as a model for TensorFlow Text's `FastBertNormalizer` kernel (which has a TFLite kernel).

The kernel maps each codepoint on its own through a table: a darts-clone double-array trie
from the codepoint's UTF-8 bytes to a value that points into a pool of replacement
strings (tensorflow_text/core/kernels/fast_bert_normalizer.h and
fast_bert_normalizer_model.fbs). TensorFlow Text builds that table from its own rules
(NFKD-like compatibility mappings, full case folding, control characters to spaces); here
it is built from ours: every codepoint is run through `bert_text_normalizer.normalize`
alone, and each BERT word break becomes a space. Per codepoint that is exactly our
normalization; what a table cannot do is context: Greek final sigma (Σ at a word's end
lower-cases to ς in ours, to σ here) and invalid UTF-8 (dropped in ours, a space here).
"""

import numpy as np

# Value bits (fast_bert_normalizer.h): bit 30 says "replaced"; bits 6-29 the pool offset; bits 0-5 the byte length.
_REPLACED = 0x40000000
_LENGTH_BITS = 6
_MAX_LENGTH = (1 << _LENGTH_BITS) - 1
_MAX_OFFSET = (1 << (30 - _LENGTH_BITS)) - 1
# darts-clone unit bits (darts_clone_trie_wrapper.h).
_LEAF = 1 << 31
_HAS_LEAF = 1 << 8
_MAX_PLAIN_OFFSET = 1 << 21
_UNICODE_END = 0x110000
_SURROGATES = range(0xD800, 0xE000)
_MANY_CHILDREN = 16


def normalization_table(lower_case: bool) -> dict:
  """{codepoint: replacement} for every codepoint our normalization changes when it stands alone."""
  import tensorflow as tf

  from hub_export.tokenization import bert_text_normalizer

  codepoints = [c for c in range(_UNICODE_END) if c not in _SURROGATES]
  chars = [chr(c) for c in codepoints]
  normalized = bert_text_normalizer.normalize(tf.constant(chars), lower_case)
  # A break is what splits a word once normalized (a control character such as U+000B is dropped first).
  breaks = bert_text_normalizer.split_words(tf.strings.join(["a", normalized, "a"])).row_lengths().numpy() == 2
  normalized = normalized.numpy()
  table = {}
  for codepoint, char, out, is_break in zip(codepoints, chars, normalized, breaks):
    out = " " if is_break else out.decode("utf-8")
    if out != char:
      table[codepoint] = out
  return table


def _pool_values(table: dict):
  """The replacement-string pool and each codepoint's encoded value."""
  pool, offsets, values = bytearray(), {}, {}
  for codepoint, out in sorted(table.items()):
    data = out.encode("utf-8")
    if data not in offsets:
      offsets[data] = len(pool)
      pool += data
    if len(data) > _MAX_LENGTH or offsets[data] > _MAX_OFFSET:
      raise ValueError(f"replacement of U+{codepoint:04X} does not fit the normalizer model's value bits")
    values[codepoint] = _REPLACED | (offsets[data] << _LENGTH_BITS) | len(data)
  return bytes(pool), values


def _double_array(keys: dict) -> np.ndarray:
  """A darts-clone double array for {key bytes (no NUL): int value < 2**31}, laid out greedily.

  A node's children sit at `base ^ label` (label 0 holds the value), the base unique per
  node, and the node stores offset = its position ^ base. Nodes with many children (UTF-8
  continuation bytes) are placed at the end of the array, small ones in the first gaps.
  """
  trie = {}
  for key, value in keys.items():
    node = trie
    for byte in key:
      node = node.setdefault(byte, {})
    node[0] = value
  units, taken, used_bases = [0], bytearray(1 << 22), bytearray(1 << 22)
  taken[0] = 1
  first_free = 1

  def free_base(labels):
    position = first_free if len(labels) < _MANY_CHILDREN else max(first_free, len(units) - 256)
    while True:
      base = position ^ labels[0]
      if not used_bases[base] and not any(taken[base ^ label] for label in labels):
        return base
      position += 1

  def place(node, position):
    nonlocal first_free
    labels = sorted(node)
    base = free_base(labels)
    offset = position ^ base
    if offset >= _MAX_PLAIN_OFFSET:
      raise ValueError("normalizer table too large for a plain darts-clone offset")
    used_bases[base] = 1
    children = [base ^ label for label in labels]
    units.extend([0] * (max(children) + 1 - len(units)))
    for child in children:
      taken[child] = 1
    while taken[first_free] or used_bases[first_free]:  # a gap for the next node (skips some usable slots)
      first_free += 1
    units[position] |= (offset << 10) | (_HAS_LEAF if 0 in node else 0)
    for label, child in zip(labels, children):
      if label == 0:
        units[child] = _LEAF | node[0]
      else:
        units[child] = label
        place(node[label], child)

  place(trie, 0)
  return np.asarray(units, np.uint32)


def build_model(lower_case: bool) -> bytes:
  """The FastBertNormalizerModel flatbuffer (tensorflow_text's fast_bert_normalizer_model.fbs) of our rules."""
  import flatbuffers

  pool, values = _pool_values(normalization_table(lower_case))
  zero = values.pop(0, 0)  # the trie cannot hold U+0000's empty key; the model has a field for it
  trie = _double_array({chr(c).encode("utf-8"): v for c, v in values.items()})
  builder = flatbuffers.Builder(len(pool) + 4 * len(trie) + 1024)
  pool_vector = builder.CreateNumpyVector(np.frombuffer(pool, np.uint8))
  trie_vector = builder.CreateNumpyVector(trie)
  builder.StartObject(4)  # fields in schema order: lower_case_nfd_strip_accents, trie_array, data_for_codepoint_zero, pool
  builder.PrependBoolSlot(0, lower_case, False)
  builder.PrependUOffsetTRelativeSlot(1, trie_vector, 0)
  builder.PrependInt32Slot(2, zero, 0)
  builder.PrependUOffsetTRelativeSlot(3, pool_vector, 0)
  builder.Finish(builder.EndObject())
  return bytes(builder.Output())
