"""A LiteRT model that takes the text itself: the BERT tokenizer in the graph, built from ops with TFLite kernels.

Our exact tokenizer (hub_export/tokenization) uses regex and Unicode string ops that have
no TFLite kernels. TensorFlow Text ships TFLite kernels for its own normalizer and
tokenizer, so the graph here is `FastBertNormalizer` driven by a table of our own rules
(bert_normalizer_model: each codepoint normalized as our preprocessor does, word breaks
to spaces), then `FastWordpieceTokenizer` with its own BERT pre-tokenization (whitespace,
punctuation, CJK ideographs), then [CLS] ... [SEP] and padding in builtin ops (batch 1,
one text). The converted file has two custom ops, `FastBertNormalize` and
`FastWordpieceTokenizeWithOffsets`, which an interpreter runs when it is given TensorFlow
Text's registrar (`tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS`); no Flex
(Select TF) op is needed.

Where it can differ from our preprocessor: Greek final sigma (a table maps each codepoint
alone), invalid UTF-8 (a space instead of nothing), and a word of more than 200
characters but at most 800 UTF-8 bytes (wordpieces instead of one [UNK]). The identical
rows on the test corpora are measured by `bench/text_input_tokenizer_agreement.py`.
"""

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.errors import HubExportError, first_line
from hub_export.tflite.bert_normalizer_model import build_model
from hub_export.tokenization.bert_tokenizer import MAX_WORD_CHARS
from hub_export.tokenization.vocab import CLS, PAD, SEP, UNK

TEXT = "text"  # the signature's one input: a string tensor [1]
# The custom ops the converted model holds; each has a kernel in TensorFlow Text's TFLite registrar.
CUSTOM_OPS = ("FastBertNormalize", "FastWordpieceTokenizeWithOffsets")
_MAX_UTF8_BYTES_PER_CHAR = 4


class InGraphTokenizer(tf.Module):
  """One string -> the three encoder inputs int32 [1, seq_length], from ops LiteRT can run."""

  def __init__(self, vocab, lower_case: bool, seq_length: int):
    super().__init__(name="in_graph_tokenizer")
    import tensorflow_text as tf_text

    self._normalizer = tf_text.FastBertNormalizer(model_buffer=build_model(lower_case))
    # The same byte limit as our tokenizer (a word over it is over 200 characters).
    try:
      self._wordpiece = tf_text.FastWordpieceTokenizer(
          vocab=list(vocab.tokens), suffix_indicator="##", unknown_token=UNK, token_out_type=tf.int32,
          max_bytes_per_word=MAX_WORD_CHARS * _MAX_UTF8_BYTES_PER_CHAR, no_pretokenization=False,
          support_detokenization=False)
    except RuntimeError as e:  # e.g. a vocab of special tokens only: nothing a split word can match
      raise HubExportError(f"vocab {vocab.path} cannot build the in-graph WordPiece tokenizer: {first_line(e)}") from None
    ids = vocab.special_ids()
    self._cls, self._sep, self._pad = ids[CLS], ids[SEP], ids[PAD]
    self.seq_length = seq_length

  def __call__(self, text: tf.Tensor) -> dict:
    """`text` is a string tensor [1]; returns the packed inputs, as the preprocessor packs one segment."""
    pieces = self._wordpiece.tokenize(self._normalizer.normalize(text)).flat_values
    word_ids = tf.concat([[self._cls], pieces[:self.seq_length - 2], [self._sep]], axis=0)
    padding = [[0, self.seq_length - tf.shape(word_ids)[0]]]
    packed = {
        sig.INPUT_WORD_IDS: tf.pad(word_ids, padding, constant_values=self._pad),
        sig.INPUT_MASK: tf.pad(tf.ones_like(word_ids), padding),
        sig.INPUT_TYPE_IDS: tf.zeros([self.seq_length], tf.int32),
    }
    return {key: tf.reshape(value, [1, self.seq_length]) for key, value in packed.items()}


def text_serving_function(encode, tokenizer: InGraphTokenizer, output_keys=sig.TFLITE_OUTPUT_KEYS):
  """The concrete function the converter reads: `text` [1] -> `encode`'s outputs (or the packed ids)."""

  @tf.function(input_signature=[tf.TensorSpec([1], tf.string, name=TEXT)])
  def serve(text):
    outputs = encode(tokenizer(text))
    return {key: outputs[key] for key in output_keys}

  return serve.get_concrete_function()
