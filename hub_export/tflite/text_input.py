"""A LiteRT model that takes the text itself: the BERT tokenizer in the graph, built from ops with TFLite kernels.

Our exact tokenizer (hub_export/tokenization) uses regex and Unicode string ops that have
no TFLite kernels. TensorFlow Text ships TFLite kernels for its own normalizer and
tokenizer, so the graph here is `FastBertNormalizer` driven by a table of our own rules
(bert_normalizer_model: each codepoint normalized as our preprocessor does, word breaks
to spaces), then `FastWordpieceTokenizer` with its own BERT pre-tokenization (whitespace,
punctuation, CJK ideographs), our 200-character word rule from the pieces' offsets and the
text's bytes, then [CLS] ... [SEP] and padding in builtin ops (batch 1, one text). The
converted file has three custom ops, `FastBertNormalize`, `FastWordpieceTokenizeWithOffsets`
and `TFText>ByteSplitWithOffsets`, which an interpreter runs when it is given TensorFlow
Text's registrar (`tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS`); no Flex (Select
TF) op is needed.

Where it can differ from our preprocessor: Greek final sigma (a table maps each codepoint
alone: Σ at a word's end becomes σ, ours ς) and invalid UTF-8 (a space instead of
nothing). The identical rows on the test corpora are measured by
`bench/text_input_tokenizer_agreement.py`.
"""

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.support.errors import HubExportError, first_line
from hub_export.tflite.bert_normalizer_model import build_model
from hub_export.tokenization.bert_tokenizer import MAX_WORD_BYTES, MAX_WORD_CHARS
from hub_export.tokenization.vocab import CLS, PAD, SEP, UNK

TEXT = "text"  # the signature's one input: a string tensor [1]
# The custom ops the converted model holds; each has a kernel in TensorFlow Text's TFLite registrar.
CUSTOM_OPS = ("FastBertNormalize", "FastWordpieceTokenizeWithOffsets", "TFText>ByteSplitWithOffsets")


class InGraphTokenizer(tf.Module):
  """One string -> the three encoder inputs int32 [1, seq_length], from ops LiteRT can run."""

  def __init__(self, vocab, lower_case: bool, seq_length: int):
    super().__init__(name="in_graph_tokenizer")
    import tensorflow_text as tf_text

    self._normalizer = tf_text.FastBertNormalizer(model_buffer=build_model(lower_case))
    # The same byte limit as our tokenizer.
    try:
      self._wordpiece = tf_text.FastWordpieceTokenizer(
          vocab=list(vocab.tokens), suffix_indicator="##", unknown_token=UNK, token_out_type=tf.int32,
          max_bytes_per_word=MAX_WORD_BYTES, no_pretokenization=False,
          support_detokenization=False)
    except RuntimeError as e:  # e.g. a vocab of special tokens only: nothing a split word can match
      raise HubExportError(f"vocab {vocab.path} cannot build the in-graph WordPiece tokenizer: {first_line(e)}") from None
    ids = vocab.special_ids()
    self._cls, self._sep, self._pad, self._unk = ids[CLS], ids[SEP], ids[PAD], ids[UNK]
    self._is_suffix = tf.constant([token.startswith("##") for token in vocab.tokens])
    self._bytes = tf_text.ByteSplitter()
    self.seq_length = seq_length

  def __call__(self, text: tf.Tensor) -> dict:
    """`text` is a string tensor [1]; returns the packed inputs, as the preprocessor packs one segment."""
    # LiteRT resizes the [1] input to whatever batch it is given, and the ops below would join the texts into
    # one row: this reshape makes the interpreter fail on any batch but one text.
    normalized = tf.reshape(self._normalizer.normalize(text), [1])
    pieces, starts, limits = (x.flat_values for x in self._wordpiece.tokenize_with_offsets(normalized))
    pieces = self._long_words_unknown(pieces, starts, limits, normalized)
    word_ids = tf.concat([[self._cls], pieces[:self.seq_length - 2], [self._sep]], axis=0)
    padding = [[0, self.seq_length - tf.shape(word_ids)[0]]]
    packed = {
        sig.INPUT_WORD_IDS: tf.pad(word_ids, padding, constant_values=self._pad),
        sig.INPUT_MASK: tf.pad(tf.ones_like(word_ids), padding),
        sig.INPUT_TYPE_IDS: tf.zeros([self.seq_length], tf.int32),
    }
    return {key: tf.reshape(value, [1, self.seq_length]) for key, value in packed.items()}

  def _long_words_unknown(self, pieces, starts, limits, normalized):
    """Our rule: a word of more than 200 characters is one [UNK] (the byte limit only catches those over 800).

    A word is a piece that is no `##` piece and the pieces after it; its characters are the
    UTF-8 lead bytes between its first piece's start and its last piece's limit.
    """
    word = tf.cumsum(tf.cast(~tf.gather(self._is_suffix, pieces), tf.int32)) - 1
    new_word = word[1:] != word[:-1]
    first_of_word = tf.concat([[True], new_word], axis=0)
    last_of_word = tf.concat([new_word, [True]], axis=0)
    # Per piece, its word's first byte and limit (gathers only: LiteRT's segment ops lack int64).
    word_start = tf.gather(starts, tf.gather(tf.where(first_of_word)[:, 0], word))
    word_limit = tf.gather(limits, tf.gather(tf.where(last_of_word)[:, 0], word))
    data = tf.cast(self._bytes.split(normalized).flat_values, tf.int32)
    is_lead = tf.cast((data < 0x80) | (data >= 0xC0), tf.int32)
    chars_before = tf.concat([[0], tf.cumsum(is_lead)], axis=0)
    piece_too_long = tf.gather(chars_before, word_limit) - tf.gather(chars_before, word_start) > MAX_WORD_CHARS
    keep = ~piece_too_long | first_of_word
    return tf.boolean_mask(tf.where(piece_too_long, self._unk, pieces), keep)


def text_serving_function(encode, tokenizer: InGraphTokenizer, output_keys=sig.TFLITE_OUTPUT_KEYS):
  """The concrete function the converter reads: `text` [1] -> `encode`'s outputs (or the packed ids)."""

  @tf.function(input_signature=[tf.TensorSpec([1], tf.string, name=TEXT)], autograph=False)
  def serve(text):
    outputs = encode(tokenizer(text))
    return {key: outputs[key] for key in output_keys}

  return serve.get_concrete_function()
