"""SQuAD model inputs: `[CLS] question [SEP] part of the context [SEP]`, as the original run_squad.py builds them.

The question keeps its first `max_query_length` wordpieces. A context longer than one window is
cut into windows whose starts are `doc_stride` wordpieces apart; a wordpiece that falls in several
windows is scored only in the one where it has the most context on its shorter side (the
original's `_check_is_max_context`). A training answer is the span of wordpieces that spells it
(`_improve_answer_span`), or the words under its characters when none does; a window that does not
hold the whole span, or a no-answer question, targets position 0 ([CLS]).

Tokenizing is passed in (`tokenize`: texts -> for each text, its BERT basic words, each with
its wordpieces), so this module needs no TensorFlow; `squad_tokens` gives the project's exact one.
"""

import dataclasses

import numpy as np

from hub_export import signatures
from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG
from hub_export.tokenization.vocab import CLS, PAD, SEP

MAX_SEQ_LENGTH, MAX_QUERY_LENGTH, DOC_STRIDE = 384, 64, 128
START_POSITIONS, END_POSITIONS = "start_positions", "end_positions"


@dataclasses.dataclass(frozen=True, eq=False)
class ContextPieces:
  """A context's wordpieces and their maps to its whitespace words (`doc_tokens`)."""

  pieces: tuple
  ids: np.ndarray  # int32, the pieces' vocab ids
  piece_to_word: tuple  # the original's tok_to_orig_index
  word_to_piece: tuple  # each word's first wordpiece (the next word's when it has none): orig_to_tok_index
  basic_words: tuple  # each word's BERT basic words (lower-cased when the vocab is): mapping answers back


@dataclasses.dataclass(frozen=True, eq=False)
class Window:
  """One model input: [CLS] question [SEP] context wordpieces [doc_start, doc_start + doc_length) [SEP]."""

  example_index: int
  input_ids: np.ndarray  # int32, unpadded; the segment id is 1 from doc_offset on
  doc_offset: int  # position of the first context wordpiece
  doc_start: int  # its index among the context's wordpieces
  max_context: np.ndarray  # bool [doc_length]: whether this window is the one that scores each context wordpiece
  start_position: int = None  # training targets
  end_position: int = None

  @property
  def doc_length(self) -> int:
    return len(self.max_context)


@dataclasses.dataclass(frozen=True)
class Encoded:
  windows: list  # every example's windows, in example order
  contexts: list  # per example, its ContextPieces (one object for the questions of one paragraph)
  truncated_questions: int


def _check_lengths(max_seq_length: int, max_query_length: int, doc_stride: int):
  if max_query_length < 1 or doc_stride < 1:
    raise HubExportError(f"--max_query_length ({max_query_length}) and --doc_stride ({doc_stride}) must be positive")
  if max_seq_length <= max_query_length + 3:
    raise HubExportError(f"--max_seq_length ({max_seq_length}) must be greater than --max_query_length "
                         f"({max_query_length}) + 3, for [CLS] and two [SEP]")


def encode(examples, tokenize, vocab, max_seq_length=MAX_SEQ_LENGTH, max_query_length=MAX_QUERY_LENGTH,
           doc_stride=DOC_STRIDE, training=False) -> Encoded:
  """The windows of `examples` (squad_data.Example); `training` adds start and end positions."""
  _check_lengths(max_seq_length, max_query_length, doc_stride)
  if training and any(example.start_word is None for example in examples):
    raise HubExportError("training windows need examples read with training=True (with their answer spans)")
  texts = {}
  for example in examples:
    texts.setdefault(example.question)
    for word in example.paragraph.doc_tokens:
      texts.setdefault(word)
    if training and not example.is_impossible:
      texts.setdefault(example.answer_text)
  words = dict(zip(texts, tokenize(list(texts))))
  ids = {token: i for i, token in enumerate(vocab.tokens)}
  cls, sep = ids[CLS], ids[SEP]
  contexts, windows, truncated = {}, [], []
  for index, example in enumerate(examples):
    context = contexts.get(id(example.paragraph))
    if context is None:
      context = contexts[id(example.paragraph)] = _context_pieces(example.paragraph.doc_tokens, words, ids)
    query = _pieces(words[example.question])
    if len(query) > max_query_length:
      truncated.append(example.qas_id)
      query = query[:max_query_length]
    answer = None
    if training and not example.is_impossible:
      answer = _answer_span(example, context, _pieces(words[example.answer_text]))
    head = [cls] + [ids[p] for p in query] + [sep]
    spans = _doc_spans(len(context.pieces), max_seq_length - len(query) - 3, doc_stride)
    best = _max_context_span(spans, len(context.pieces))
    for span_index, (start, length) in enumerate(spans):
      input_ids = np.concatenate([np.array(head, np.int32), context.ids[start:start + length],
                                  np.array([sep], np.int32)])
      window = Window(example_index=index, input_ids=input_ids, doc_offset=len(head), doc_start=start,
                      max_context=best[start:start + length] == span_index)
      if training:
        window = dataclasses.replace(window, **_targets(answer, start, length, len(head)))
      windows.append(window)
  if truncated:
    LOG.warning("warning: %d question(s) longer than %d wordpieces were cut to that length (first: id %r)",
                len(truncated), max_query_length, truncated[0])
  return Encoded(windows, [contexts[id(e.paragraph)] for e in examples], len(truncated))


def _pieces(words) -> list:
  return [piece for _, pieces in words for piece in pieces]


def _context_pieces(doc_tokens, words, ids) -> ContextPieces:
  pieces, piece_to_word, word_to_piece = [], [], []
  for i, token in enumerate(doc_tokens):
    word_to_piece.append(len(pieces))
    token_pieces = _pieces(words[token])
    pieces.extend(token_pieces)
    piece_to_word.extend([i] * len(token_pieces))
  basic_words = tuple(tuple(word for word, _ in words[token]) for token in doc_tokens)
  return ContextPieces(tuple(pieces), np.array([ids[p] for p in pieces], np.int32), tuple(piece_to_word),
                       tuple(word_to_piece), basic_words)


def _doc_spans(num_pieces: int, max_pieces: int, doc_stride: int) -> list:
  """(start, length) of each window's context part: starts `doc_stride` apart until one reaches the end."""
  spans, start = [], 0
  while start < num_pieces:
    length = min(num_pieces - start, max_pieces)
    spans.append((start, length))
    if start + length == num_pieces:
      break
    start += min(length, doc_stride)
  return spans


def _max_context_span(spans, num_pieces: int) -> np.ndarray:
  """For each context wordpiece, the first span where min(left, right context) + 0.01 * span length is largest."""
  best = np.full(num_pieces, -1)
  best_score = np.full(num_pieces, -np.inf)
  for index, (start, length) in enumerate(spans):
    left = np.arange(length)
    score = np.minimum(left, length - 1 - left) + 0.01 * length
    better = score > best_score[start:start + length]
    best[start:start + length][better] = index
    best_score[start:start + length][better] = score[better]
  return best


def _answer_span(example, context: ContextPieces, answer_pieces: list):
  """The answer's first and last context wordpiece."""
  start = context.word_to_piece[example.start_word]
  if example.end_word + 1 < len(context.word_to_piece):
    end = context.word_to_piece[example.end_word + 1] - 1
  else:
    end = len(context.pieces) - 1
  # The first run of wordpieces inside the words' span that spells the answer exactly, if any.
  n = len(answer_pieces)
  if n:
    for first in range(start, end - n + 2):
      if list(context.pieces[first:first + n]) == answer_pieces:
        return first, first + n - 1
  return start, end


def _targets(answer, start: int, length: int, doc_offset: int) -> dict:
  if answer is None or not (start <= answer[0] and answer[1] < start + length):
    return {"start_position": 0, "end_position": 0}
  return {"start_position": answer[0] - start + doc_offset, "end_position": answer[1] - start + doc_offset}


def as_arrays(windows, vocab, max_seq_length=MAX_SEQ_LENGTH) -> dict:
  """The encoder inputs (int32 [windows, max_seq_length], padded with [PAD]), and training targets if any."""
  count = len(windows)
  word_ids = np.full([count, max_seq_length], vocab.special_ids()[PAD], np.int32)
  mask = np.zeros([count, max_seq_length], np.int32)
  type_ids = np.zeros([count, max_seq_length], np.int32)
  for row, window in enumerate(windows):
    length = len(window.input_ids)
    word_ids[row, :length] = window.input_ids
    mask[row, :length] = 1
    type_ids[row, window.doc_offset:length] = 1
  arrays = {signatures.INPUT_WORD_IDS: word_ids, signatures.INPUT_MASK: mask, signatures.INPUT_TYPE_IDS: type_ids}
  if windows and windows[0].start_position is not None:
    arrays[START_POSITIONS] = np.array([w.start_position for w in windows], np.int32)
    arrays[END_POSITIONS] = np.array([w.end_position for w in windows], np.int32)
  return arrays
