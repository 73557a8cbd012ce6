"""The project's exact BERT tokenizer in the form SQuAD windowing takes: each text's basic words with their wordpieces.

The words come from the same normalisation and split that feed WordPiece (`bert_text_normalizer`),
so word i's wordpieces are row i of `BertTokenizer.tokenize`. Texts are tokenized in batches.
"""

import tensorflow as tf

from hub_export.tokenization import bert_text_normalizer
from hub_export.tokenization.bert_tokenizer import BertTokenizer
from hub_export.tokenization.vocab import Vocab

BATCH_SIZE = 4096


class WordpieceTokenizer:
  """texts -> for each text, [(basic word, [wordpiece, ...]), ...]: `squad_windows.encode`'s `tokenize`."""

  def __init__(self, vocab: Vocab, lower_case: bool):
    self._tokenizer = BertTokenizer(vocab, lower_case)
    self._tokens = vocab.tokens
    self._lower_case = lower_case

  def __call__(self, texts) -> list:
    result = []
    for first in range(0, len(texts), BATCH_SIZE):
      batch = tf.constant(list(texts[first:first + BATCH_SIZE]), tf.string)
      words = bert_text_normalizer.split_words(bert_text_normalizer.normalize(batch, self._lower_case)).to_list()
      ids = self._tokenizer.tokenize(batch).to_list()
      for text_words, text_ids in zip(words, ids):
        result.append([(word.decode("utf-8"), [self._tokens[i] for i in word_ids])
                       for word, word_ids in zip(text_words, text_ids)])
    return result
