"""The TF-Hub preprocessor object: the tf.Module tree that becomes the SavedModel.

Its API is the reference preprocessor's (facts section 5): calling it on strings gives
the encoder inputs at a fixed length; `.tokenize` (with `.get_special_tokens_dict`),
`.bert_pack_inputs` and optionally `.tokenize_with_offsets` are sub-objects.
"""

import tensorflow as tf

from hub_export import signatures
from hub_export.tokenization.bert_tokenizer import BertTokenizer
from hub_export.tokenization.packing import pack_segments
from hub_export.tokenization.vocab import CLS, MASK, PAD, SEP, Vocab
from hub_export.support.save_tracing import tracing_for_save

_SENTENCES = tf.TensorSpec([None], tf.string, name="sentences")
_SEQ_LENGTH = tf.TensorSpec([], tf.int32, name="seq_length")


def special_tokens(vocab: Vocab) -> dict:
  ids = vocab.special_ids()
  values = (vocab.size, ids[PAD], ids[CLS], ids[SEP], ids[MASK])
  return dict(zip(signatures.SPECIAL_TOKEN_KEYS, values))


class Tokenize(tf.Module):
  """`.tokenize`: strings [batch] -> int32 ids, ragged [batch, words, wordpieces]."""

  def __init__(self, tokenizer: BertTokenizer, special_tokens: dict, vocab_file: tf.saved_model.Asset):
    super().__init__(name="tokenize")
    self._tokenizer = tokenizer
    self._special_tokens = special_tokens
    self.vocab_file = vocab_file  # ships the vocab as assets/vocab.txt beside the graph
    self.__call__.get_concrete_function()
    self.get_special_tokens_dict.get_concrete_function()

  @tf.function(input_signature=[_SENTENCES], autograph=False)
  def __call__(self, sentences):
    return self._tokenizer.tokenize(sentences)

  @tf.function(input_signature=[], autograph=False)
  def get_special_tokens_dict(self):
    return {key: tf.constant(value, tf.int32) for key, value in self._special_tokens.items()}


class _TokenizeWithOffsets(tf.Module):
  """`.tokenize_with_offsets`: ids plus int64 start/limit byte offsets into each input."""

  def __init__(self, tokenizer: BertTokenizer):
    super().__init__(name="tokenize_with_offsets")
    self._tokenizer = tokenizer

  @tf.function(input_signature=[_SENTENCES], autograph=False)
  def __call__(self, sentences):
    return self._tokenizer.tokenize_with_offsets(sentences)


class _BertPackInputs(tf.Module):
  """`.bert_pack_inputs(segments, seq_length)`: a list of 1 to signatures.MAX_PACKED_SEGMENTS segments, or
  one segment on its own, each of ragged rank 1 or 2.

  A SavedModel keeps only the traces made before saving. The bare segment is traced
  because Keras passes a list of one as a bare tensor when it calls a reloaded model.
  """

  def __init__(self, special_tokens: dict):
    super().__init__(name="bert_pack_inputs")
    self._special_tokens = special_tokens
    for ragged_rank in (1, 2):
      spec = tf.RaggedTensorSpec([None] * (ragged_rank + 1), tf.int32, ragged_rank, tf.int64)
      self.__call__.get_concrete_function(spec, _SEQ_LENGTH)
      for num_segments in range(1, signatures.MAX_PACKED_SEGMENTS + 1):
        self.__call__.get_concrete_function([spec] * num_segments, _SEQ_LENGTH)

  @tf.function(autograph=False)
  def __call__(self, inputs, seq_length):
    return pack(inputs, seq_length, self._special_tokens)


def pack(segments, seq_length, special_tokens: dict) -> dict:
  return pack_segments(segments, seq_length, special_tokens["start_of_sequence_id"],
                       special_tokens["end_of_segment_id"], special_tokens["padding_id"])


class BertPreprocessor(tf.Module):
  """The root object: `preprocessor(strings)` -> encoder inputs at `seq_length`."""

  # The reusable-SavedModel attributes that hub.KerasLayer reads, saved as empty lists (a
  # preprocessor has no variables); these class attributes shadow tf.Module's properties.
  variables = trainable_variables = regularization_losses = None

  def __init__(self, vocab: Vocab, vocab_file, lower_case: bool, seq_length: int, with_offsets: bool):
    super().__init__(name="bert_preprocessor")
    with tracing_for_save():  # traced once, as the export saves them
      self.variables, self.trainable_variables, self.regularization_losses = [], [], []
      self._tokenizer = BertTokenizer(vocab, lower_case)
      self._special_tokens = special_tokens(vocab)
      self._seq_length = seq_length
      self.tokenize = Tokenize(self._tokenizer, self._special_tokens, tf.saved_model.Asset(str(vocab_file)))
      self.bert_pack_inputs = _BertPackInputs(self._special_tokens)
      if with_offsets:
        self.tokenize_with_offsets = _TokenizeWithOffsets(self._tokenizer)
      # The reusable-SavedModel call: an optional Python-bool `training` (no effect here),
      # traced for both values and for leaving it out.
      for training in (None, False, True):
        self.__call__.get_concrete_function(_SENTENCES, training)

  @tf.function(autograph=False)
  def __call__(self, sentences, training=None):
    del training  # nothing in preprocessing depends on it
    return pack([self._tokenizer.tokenize(sentences)], self._seq_length, self._special_tokens)

  def serving_signatures(self) -> dict:
    with tracing_for_save():
      return {"serving_default": self.__call__.get_concrete_function(_SENTENCES)}
