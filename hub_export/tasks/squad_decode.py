"""SQuAD answers from start and end logits, picked as the original run_squad.py picks them (facts section 2).

In each window of a question, the `n_best_size` best starts times the `n_best_size` best ends
(over the whole row, padding included) make the candidate spans: both ends on context wordpieces,
the start in a window that scores it (max context), end >= start, at most `max_answer_length`
wordpieces. Candidates rank by start + end logit; a span's text is its words in the original
context, trimmed to what its wordpieces spell (`get_final_text`). For SQuAD v2.0 the null score
is the least [CLS] start + end over the windows, and the answer is "" when it beats the best span
by more than `null_score_diff_threshold`. When no span qualifies, the best non-null answer is the
original's placeholder "empty" with logits 0 (for v2.0 as Hugging Face's port has it: the original
stops there).
"""

import dataclasses
import math

import numpy as np

from hub_export.support.errors import HubExportError

N_BEST_SIZE, MAX_ANSWER_LENGTH = 20, 30
NO_SPAN_TEXT = "empty"
NO_WINDOW_NULL_SCORE = 1e6  # the original's starting null score, left as it is when a question has no window


@dataclasses.dataclass(frozen=True)
class Predictions:
  answers: dict  # question id -> answer text, the predictions file the scripts score
  nbest: dict  # question id -> [{"text", "probability", "start_logit", "end_logit"}], best first
  null_odds: dict  # v2.0: question id -> null score minus the best span's (the script's no-answer probability)


@dataclasses.dataclass(frozen=True)
class _Candidate:
  window: int
  start: int
  end: int
  start_logit: float
  end_logit: float


def _logits(name: str, logits, encoded) -> np.ndarray:
  logits = np.asarray(logits, dtype=np.float64)  # sums in double precision, as the original's Python floats
  longest = max((len(w.input_ids) for w in encoded.windows), default=0)
  if logits.ndim != 2 or logits.shape[0] != len(encoded.windows) or logits.shape[1] < longest:
    raise HubExportError(f"{name} has shape {list(logits.shape)}; expected [{len(encoded.windows)} windows, "
                         f"at least {longest} positions]")
  return logits


def _best_indexes(row: np.ndarray, n: int) -> np.ndarray:
  return np.argsort(-row, kind="stable")[:n]  # highest first; ties keep position order


def predict(examples, encoded, start_logits, end_logits, version_2: bool, n_best_size=N_BEST_SIZE,
            max_answer_length=MAX_ANSWER_LENGTH, null_score_diff_threshold=0.0) -> Predictions:
  """Answers for `examples` from `encoded` (squad_windows.encode) and logits [windows, positions]."""
  if len(encoded.contexts) != len(examples):
    raise HubExportError(f"{len(examples)} examples but windows of {len(encoded.contexts)}: decode the examples "
                         "that were encoded")
  start_logits = _logits("start_logits", start_logits, encoded)
  end_logits = _logits("end_logits", end_logits, encoded)
  by_example = [[] for _ in examples]
  for index, window in enumerate(encoded.windows):
    by_example[window.example_index].append(index)
  answers, nbest_all, null_odds = {}, {}, {}
  for example, context, window_indexes in zip(examples, encoded.contexts, by_example):
    candidates, null, null_score = [], _Candidate(-1, 0, 0, 0.0, 0.0), NO_WINDOW_NULL_SCORE
    for index in window_indexes:
      starts, ends = start_logits[index], end_logits[index]
      if starts[0] + ends[0] < null_score:
        null, null_score = _Candidate(index, 0, 0, float(starts[0]), float(ends[0])), starts[0] + ends[0]
      candidates += _spans(encoded.windows[index], index, starts, ends, n_best_size, max_answer_length)
    if version_2:
      candidates.append(null)
    candidates.sort(key=lambda c: c.start_logit + c.end_logit, reverse=True)
    nbest = _nbest(candidates, example, context, encoded.windows, n_best_size)
    if version_2 and all(text for text, _, _ in nbest):
      nbest.append(("", null.start_logit, null.end_logit))
    if not any(text for text, _, _ in nbest):
      nbest.insert(0, (NO_SPAN_TEXT, 0.0, 0.0))
    probabilities = _softmax([start + end for _, start, end in nbest])
    nbest_all[example.qas_id] = [{"text": text, "probability": probability, "start_logit": start, "end_logit": end}
                                 for (text, start, end), probability in zip(nbest, probabilities)]
    best_text, best_start, best_end = next(entry for entry in nbest if entry[0])
    if version_2:
      null_odds[example.qas_id] = float(null_score - best_start - best_end)
      answers[example.qas_id] = "" if null_odds[example.qas_id] > null_score_diff_threshold else best_text
    else:
      answers[example.qas_id] = best_text
  return Predictions(answers, nbest_all, null_odds)


def _spans(window, index: int, starts, ends, n_best_size: int, max_answer_length: int) -> list:
  spans = []
  doc_end = window.doc_offset + window.doc_length
  for start in _best_indexes(starts, n_best_size):
    if not (window.doc_offset <= start < doc_end and window.max_context[start - window.doc_offset]):
      continue
    for end in _best_indexes(ends, n_best_size):
      if start <= end < doc_end and end - start + 1 <= max_answer_length:
        spans.append(_Candidate(index, int(start), int(end), float(starts[start]), float(ends[end])))
  return spans


def _nbest(candidates, example, context, windows, n_best_size: int) -> list:
  """(text, start logit, end logit) of the best `n_best_size` distinct texts; the null candidate (start 0) is ""."""
  nbest, seen = [], set()
  for candidate in candidates:
    if len(nbest) >= n_best_size:
      break
    text = ""
    if candidate.start > 0:
      window = windows[candidate.window]
      first = window.doc_start + candidate.start - window.doc_offset
      last = window.doc_start + candidate.end - window.doc_offset
      text = span_text(context.pieces[first:last + 1], example.paragraph.doc_tokens, context.basic_words,
                       context.piece_to_word[first], context.piece_to_word[last])
      if text in seen:
        continue
    seen.add(text)
    nbest.append((text, candidate.start_logit, candidate.end_logit))
  return nbest


def span_text(pieces, doc_tokens, basic_words, first_word: int, last_word: int) -> str:
  """The original context text of a span of wordpieces (the original's `get_final_text`).

  The wordpieces, joined into words, are found in the basic-tokenized words under the span; when
  those and the original words hold the same characters but spaces, the characters align one to
  one and the found part is cut from the original text. Otherwise the whole words are returned.
  """
  pred_text = " ".join(" ".join(pieces).replace(" ##", "").replace("##", "").split())
  orig_text = " ".join(doc_tokens[first_word:last_word + 1])
  tok_text = " ".join(word for words in basic_words[first_word:last_word + 1] for word in words)
  start = tok_text.find(pred_text)
  if start < 0:
    return orig_text
  orig_chars = [i for i, char in enumerate(orig_text) if char != " "]
  tok_chars = {i: n for n, i in enumerate(i for i, char in enumerate(tok_text) if char != " ")}
  end = start + len(pred_text) - 1
  if len(orig_chars) != len(tok_chars) or start not in tok_chars or end not in tok_chars:
    return orig_text
  return orig_text[orig_chars[tok_chars[start]]:orig_chars[tok_chars[end]] + 1]


def _softmax(scores: list) -> list:
  top = max(scores)
  exps = [math.exp(score - top) for score in scores]
  return [e / sum(exps) for e in exps]
