"""The project's TensorFlow tokenizer as SQuAD windowing takes it: the reference tokenizer's words and wordpieces."""

import pytest

from conftest import shared_path
from hub_export.tasks import squad_tokens, squad_windows
from hub_export.tasks.squad_data import Example, split_context
from hub_export.tokenization.vocab import load_vocab
from support import bert_reference_tokenizer as ref
from support.tokenization_test_data import build_test_vocab, corpus, write_vocab

# No words; a format character only; punctuation split off; an over-long word ([UNK], the word kept); non-ASCII
# word breaks; CJK ideographs one a word; a NUL dropped.
EDGE_TEXTS = ["", " ", "\u200b", "(1895-1943).", "x" * 201 + " ok", "Zoë\u00a0São\u2028Paulo", "東京タワー",
              "a\x00b\tc"]


@pytest.fixture(scope="module", params=["english_release", "multilingual_built_cased"])
def setting(request, tmp_path_factory):
  """(vocab, corpus lines, lower_case, the project's tokenizer for them)."""
  if request.param == "english_release":
    lines, lower_case = corpus("english"), True
    vocab = load_vocab(shared_path("vocab/bert_en_uncased_vocab.txt"))
  else:
    lines, lower_case = corpus("multilingual"), False
    vocab = load_vocab(write_vocab(build_test_vocab(lines, lower_case), tmp_path_factory.mktemp("v") / "vocab.txt"))
  return vocab, lines, lower_case, squad_tokens.WordpieceTokenizer(vocab, lower_case)


def _reference(vocab, lower_case, texts):
  index = {t: i for i, t in enumerate(vocab.tokens)}
  return [[(w, ref.wordpiece(w, index)) for w in ref.basic_tokenize(t, lower_case)] for t in texts]


def test_words_and_wordpieces_match_the_reference_across_batches(setting, monkeypatch):
  vocab, lines, lower_case, tokenizer = setting
  monkeypatch.setattr(squad_tokens, "BATCH_SIZE", 40)  # several batches, the last one short
  texts = lines[:60] + EDGE_TEXTS + [word for line in lines[60:70] for word in line.split()]
  assert len(texts) % 40 and tokenizer(texts) == _reference(vocab, lower_case, texts)


def test_windows_from_the_project_tokenizer_equal_those_from_the_reference(setting):
  vocab, lines, lower_case, tokenizer = setting
  paragraph = split_context(" ".join(lines[:6]))
  examples = [Example(qas_id=str(i), question=lines[10 + i], paragraph=paragraph, answers=()) for i in range(3)]
  settings = {"max_seq_length": 64, "max_query_length": 12, "doc_stride": 16}
  ours = squad_windows.encode(examples, tokenizer, vocab, **settings)
  expected = squad_windows.encode(examples, lambda texts: _reference(vocab, lower_case, texts), vocab, **settings)
  assert len(ours.windows) == len(expected.windows) > 6
  for window, other in zip(ours.windows, expected.windows):
    assert window.input_ids.tolist() == other.input_ids.tolist()
  assert ours.contexts[0].basic_words == expected.contexts[0].basic_words
