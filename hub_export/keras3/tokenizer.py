"""`MobileBertTokenizer`: KerasHub's WordPiece tokenizer class with the exact BERT rules.

KerasHub's own WordPiece pre-tokenization differs from google-research/bert's (it splits on
control and format characters instead of dropping them, case-folds instead of
lower-casing, runs NFD only with `strip_accents`, and maps words over 100 bytes to [UNK];
BUILD_NOTES records how often that changes the ids). This class keeps KerasHub's
interface (vocabulary asset, special tokens, `detokenize`, `token_to_id`) and tokenizes
with the project's exact rules (`hub_export.tokenization`), in TensorFlow string ops on
every backend, as KerasHub preprocessing does.
"""

from pathlib import Path

import numpy as np
import tensorflow as tf
from keras_hub.tokenizers import WordPieceTokenizer
from keras_hub.src.utils.tensor_utils import preprocessing_function

from hub_export.keras3.backbone import MobileBertBackbone
from hub_export.keras3.registration import register
from hub_export.tokenization.bert_tokenizer import BertTokenizer
from hub_export.tokenization.vocab import CLS, MASK, PAD, SEP, UNK, Vocab


@register
class MobileBertTokenizer(WordPieceTokenizer):
  """Raw strings -> wordpiece ids, by the original BERT rules; `lowercase` is BERT's `do_lower_case`
  (lower case, NFD, accents dropped)."""

  backbone_cls = MobileBertBackbone

  def __init__(self, vocabulary=None, lowercase=False, **kwargs):
    self._add_special_token(CLS, "cls_token")
    self._add_special_token(SEP, "sep_token")
    self._add_special_token(PAD, "pad_token")
    self._add_special_token(MASK, "mask_token")
    self._add_special_token(CLS, "start_token")
    self._add_special_token(SEP, "end_token")
    kwargs.setdefault("strip_accents", lowercase)
    kwargs.setdefault("oov_token", UNK)
    super().__init__(vocabulary=vocabulary, lowercase=lowercase, **kwargs)

  def set_vocabulary(self, vocabulary):
    super().set_vocabulary(vocabulary)
    self._exact = None
    if self.vocabulary is not None:
      vocab = Vocab(path=Path("vocabulary.txt"), tokens=tuple(self.vocabulary), sha256="")
      self._exact = BertTokenizer(vocab, self.lowercase)

  def _exact_ids(self, text: tf.Tensor):
    """[batch] strings -> ragged [batch, tokens] int ids (words merged)."""
    ids = self._exact.tokenize(text).merge_dims(-2, -1)
    return tf.cast(ids, self.compute_dtype)

  @preprocessing_function
  def _tokenize_tf(self, inputs):
    inputs = tf.convert_to_tensor(inputs)
    unbatched = inputs.shape.rank == 0
    tokens = self._exact_ids(tf.reshape(inputs, [-1]) if unbatched else inputs)
    if self.sequence_length:
      tokens = tokens.to_tensor(shape=[None, self.sequence_length])
    return tf.squeeze(tokens, 0) if unbatched else tokens

  def _tokenize_python(self, inputs):
    """The eager path: the same TF ops, results as Python lists / numpy like KerasHub's Python path."""
    unbatched = isinstance(inputs, (str, bytes)) or np.ndim(inputs) == 0
    with tf.device("cpu"):
      text = tf.constant([inputs] if unbatched else list(np.asarray(inputs, dtype=object).reshape(-1)), tf.string)
      tokens = self._exact_ids(text)
      if self.sequence_length:
        tokens = tokens.to_tensor(shape=[None, self.sequence_length]).numpy()
      else:
        tokens = tokens.to_list()
    if unbatched:
      return np.asarray(tokens[0], dtype=self.compute_dtype)
    return tokens
