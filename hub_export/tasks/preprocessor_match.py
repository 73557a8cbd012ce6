"""The preprocessor a task model is trained with: the given preprocessor SavedModel, checked against the
encoder's vocab and casing, or one built in memory from them."""

from hub_export.support.errors import HubExportError
from hub_export.tokenization.vocab import load_vocab


def _casing_probe(vocab):
  """An upper-cased vocab word: a lower-casing tokenizer finds the word, a cased one does not."""
  return next((token.upper() for token in vocab.tokens
               if len(token) > 1 and token.isalpha() and token.islower() and token.upper() not in vocab.tokens), None)


def check_matches(path, preprocessor, vocab, lower_case: bool, label=None) -> None:
  """One line when the preprocessor at `path` (named `label` when given) tokenizes with another vocab or casing than
  the encoder's."""
  import tensorflow as tf

  from hub_export.tokenization.bert_tokenizer import BertTokenizer

  label = label or path
  size = int(preprocessor.tokenize.get_special_tokens_dict()["vocab_size"])
  if size != vocab.size:
    raise HubExportError(f"--preprocessor {label} has a vocab of {size} tokens, the encoder's {vocab.path} has "
                         f"{vocab.size}: they do not belong together")
  theirs = path / "assets" / "vocab.txt"
  if theirs.is_file() and load_vocab(theirs).sha256 != vocab.sha256:
    raise HubExportError(f"--preprocessor {label} has another vocab than the encoder ({theirs} differs from "
                         f"{vocab.path})")
  probe = _casing_probe(vocab)
  if probe is not None:
    text = tf.constant([probe])
    if preprocessor.tokenize(text).to_list() != BertTokenizer(vocab, lower_case).tokenize(text).to_list():
      raise HubExportError(f"--preprocessor {label} does not case text as the encoder (lower_case="
                           f"{str(lower_case).lower()}): {probe!r} tokenizes differently")


class VocabPreprocessor:
  """`tokenize` (with `get_special_tokens_dict`) and `bert_pack_inputs` as the preprocessor export has them, for
  a vocab and casing, without building the whole preprocessor."""

  def __init__(self, vocab, lower_case: bool):
    import tensorflow as tf

    from hub_export.tokenization.bert_tokenizer import BertTokenizer
    from hub_export.tokenization.preprocessor_module import Tokenize, special_tokens

    self._special_tokens = special_tokens(vocab)
    self.tokenize = Tokenize(BertTokenizer(vocab, lower_case), self._special_tokens,
                             tf.saved_model.Asset(str(vocab.path)))

  def bert_pack_inputs(self, segments, seq_length):
    from hub_export.tokenization.preprocessor_module import pack

    return pack(segments, seq_length, self._special_tokens)


def open_preprocessor(path, vocab, lower_case: bool, label=None):
  """The loaded `path`, checked, or (without a path) the project's preprocessor for the encoder's vocab; errors name
  it `label` when given."""
  if path is None:
    return VocabPreprocessor(vocab, lower_case)
  from hub_export.hub_format.reading import load_saved_model, require_saved_model_dir

  path = require_saved_model_dir(path)
  preprocessor = load_saved_model(path)
  if not (hasattr(preprocessor, "tokenize") and hasattr(preprocessor, "bert_pack_inputs")):
    raise HubExportError(f"--preprocessor {label or path} has no tokenize and bert_pack_inputs: not a BERT "
                         f"preprocessor")
  check_matches(path, preprocessor, vocab, lower_case, label)
  return preprocessor
