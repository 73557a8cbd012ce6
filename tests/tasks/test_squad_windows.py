"""SQuAD windows and answer decoding, compared with the original run_squad.py's procedure written out plainly below.

The plain version follows google-research/bert's run_squad.py step by step (dict maps, a max-context
search per token, n-best loops per window, BasicTokenizer on the original text in get_final_text),
with the reference tokenizer of tests/support/bert_reference_tokenizer.py standing in for FullTokenizer.
Small windows (64 positions, question cut at 12 wordpieces, stride 16) give several windows per
context, so answers are often cut by a window's edge.
"""

import collections
import functools
import json
import math
import random

import numpy as np
import pytest

from conftest import shared_path
from hub_export.support.errors import HubExportError
from hub_export.tasks import squad_decode, squad_windows
from hub_export.tasks.squad_data import read_squad
from hub_export.tokenization.vocab import load_vocab
from support import bert_reference_tokenizer as ref
from support.tokenization_test_data import build_test_vocab, corpus, write_vocab

SEQ, QUERY, STRIDE = 64, 12, 16
DOC_WHITESPACE = [" "] * 8 + ["  ", "\n", "\t", "\u202f", "\u00a0"]  # U+00A0 splits BERT words, not doc tokens


# --- The original procedure ---

class OriginalTokenizer:
  """FullTokenizer's interface on the reference rules (remembering texts it has seen, for speed)."""

  def __init__(self, tokens, lower_case):
    self.vocab = {t: i for i, t in enumerate(tokens)}
    self.lower_case = lower_case
    self._basic = functools.lru_cache(maxsize=None)(lambda text: tuple(ref.basic_tokenize(text, lower_case)))

  def basic_tokenize(self, text):
    return list(self._basic(text))

  def tokenize(self, text):
    return [piece for word in self.basic_tokenize(text) for piece in ref.wordpiece(word, self.vocab)]

  def convert_tokens_to_ids(self, tokens):
    return [self.vocab[t] for t in tokens]


def original_read(data, training, version_2):
  def is_whitespace(c):
    return c == " " or c == "\t" or c == "\r" or c == "\n" or ord(c) == 0x202F

  examples = []
  for entry in data:
    for paragraph in entry["paragraphs"]:
      doc_tokens, char_to_word_offset, prev_is_whitespace = [], [], True
      for c in paragraph["context"]:
        if is_whitespace(c):
          prev_is_whitespace = True
        else:
          if prev_is_whitespace:
            doc_tokens.append(c)
          else:
            doc_tokens[-1] += c
          prev_is_whitespace = False
        char_to_word_offset.append(len(doc_tokens) - 1)
      for qa in paragraph["qas"]:
        example = {"qas_id": qa["id"], "question_text": qa["question"], "doc_tokens": doc_tokens,
                   "is_impossible": False}
        if training:
          if version_2:
            example["is_impossible"] = qa["is_impossible"]
          if not example["is_impossible"]:
            answer = qa["answers"][0]
            start_position = char_to_word_offset[answer["answer_start"]]
            end_position = char_to_word_offset[answer["answer_start"] + len(answer["text"]) - 1]
            actual_text = " ".join(doc_tokens[start_position:end_position + 1])
            if actual_text.find(" ".join(answer["text"].strip().split())) == -1:
              continue
            example.update(orig_answer_text=answer["text"], start_position=start_position, end_position=end_position)
        examples.append(example)
  return examples


def original_improve_answer_span(doc_tokens, input_start, input_end, tokenizer, orig_answer_text):
  tok_answer_text = " ".join(tokenizer.tokenize(orig_answer_text))
  for new_start in range(input_start, input_end + 1):
    for new_end in range(input_end, new_start - 1, -1):
      if " ".join(doc_tokens[new_start:new_end + 1]) == tok_answer_text:
        return new_start, new_end
  return input_start, input_end


def original_check_is_max_context(doc_spans, cur_span_index, position):
  best_score, best_span_index = None, None
  for span_index, (start, length) in enumerate(doc_spans):
    end = start + length - 1
    if position < start or position > end:
      continue
    score = min(position - start, end - position) + 0.01 * length
    if best_score is None or score > best_score:
      best_score, best_span_index = score, span_index
  return cur_span_index == best_span_index


def original_features(examples, tokenizer, training):
  features = []
  for example_index, example in enumerate(examples):
    query_tokens = tokenizer.tokenize(example["question_text"])[:QUERY]
    tok_to_orig_index, orig_to_tok_index, all_doc_tokens = [], [], []
    for i, token in enumerate(example["doc_tokens"]):
      orig_to_tok_index.append(len(all_doc_tokens))
      for sub_token in tokenizer.tokenize(token):
        tok_to_orig_index.append(i)
        all_doc_tokens.append(sub_token)
    if training and not example["is_impossible"]:
      tok_start_position = orig_to_tok_index[example["start_position"]]
      if example["end_position"] < len(example["doc_tokens"]) - 1:
        tok_end_position = orig_to_tok_index[example["end_position"] + 1] - 1
      else:
        tok_end_position = len(all_doc_tokens) - 1
      tok_start_position, tok_end_position = original_improve_answer_span(
          all_doc_tokens, tok_start_position, tok_end_position, tokenizer, example["orig_answer_text"])
    max_tokens_for_doc = SEQ - len(query_tokens) - 3
    doc_spans, start_offset = [], 0
    while start_offset < len(all_doc_tokens):
      length = min(len(all_doc_tokens) - start_offset, max_tokens_for_doc)
      doc_spans.append((start_offset, length))
      if start_offset + length == len(all_doc_tokens):
        break
      start_offset += min(length, STRIDE)
    for doc_span_index, (span_start, span_length) in enumerate(doc_spans):
      tokens, token_to_orig_map, token_is_max_context = ["[CLS]"] + query_tokens + ["[SEP]"], {}, {}
      segment_ids = [0] * len(tokens)
      for i in range(span_length):
        split_token_index = span_start + i
        token_to_orig_map[len(tokens)] = tok_to_orig_index[split_token_index]
        token_is_max_context[len(tokens)] = original_check_is_max_context(doc_spans, doc_span_index,
                                                                          split_token_index)
        tokens.append(all_doc_tokens[split_token_index])
        segment_ids.append(1)
      tokens.append("[SEP]")
      segment_ids.append(1)
      input_ids = tokenizer.convert_tokens_to_ids(tokens)
      input_mask = [1] * len(input_ids)
      while len(input_ids) < SEQ:
        input_ids.append(0)
        input_mask.append(0)
        segment_ids.append(0)
      feature = {"example_index": example_index, "tokens": tokens, "token_to_orig_map": token_to_orig_map,
                 "token_is_max_context": token_is_max_context, "input_ids": input_ids, "input_mask": input_mask,
                 "segment_ids": segment_ids, "all_doc_tokens": all_doc_tokens}
      if training:
        doc_end = span_start + span_length - 1
        if example["is_impossible"] or not (tok_start_position >= span_start and tok_end_position <= doc_end):
          feature["start_position"] = feature["end_position"] = 0
        else:
          feature["start_position"] = tok_start_position - span_start + len(query_tokens) + 2
          feature["end_position"] = tok_end_position - span_start + len(query_tokens) + 2
        feature["answer_span"] = None if example["is_impossible"] else (tok_start_position, tok_end_position)
      features.append(feature)
  return features


def original_get_final_text(pred_text, orig_text, tokenizer):
  def strip_spaces(text):
    ns_chars, ns_to_s_map = [], collections.OrderedDict()
    for i, c in enumerate(text):
      if c == " ":
        continue
      ns_to_s_map[len(ns_chars)] = i
      ns_chars.append(c)
    return "".join(ns_chars), ns_to_s_map

  tok_text = " ".join(tokenizer.basic_tokenize(orig_text))
  start_position = tok_text.find(pred_text)
  if start_position == -1:
    return orig_text
  end_position = start_position + len(pred_text) - 1
  orig_ns_text, orig_ns_to_s_map = strip_spaces(orig_text)
  tok_ns_text, tok_ns_to_s_map = strip_spaces(tok_text)
  if len(orig_ns_text) != len(tok_ns_text):
    return orig_text
  tok_s_to_ns_map = {tok_index: i for i, tok_index in tok_ns_to_s_map.items()}
  orig_start_position = orig_end_position = None
  if start_position in tok_s_to_ns_map and tok_s_to_ns_map[start_position] in orig_ns_to_s_map:
    orig_start_position = orig_ns_to_s_map[tok_s_to_ns_map[start_position]]
  if orig_start_position is None:
    return orig_text
  if end_position in tok_s_to_ns_map and tok_s_to_ns_map[end_position] in orig_ns_to_s_map:
    orig_end_position = orig_ns_to_s_map[tok_s_to_ns_map[end_position]]
  if orig_end_position is None:
    return orig_text
  return orig_text[orig_start_position:orig_end_position + 1]


def original_get_best_indexes(logits, n_best_size):
  index_and_score = sorted(enumerate(logits), key=lambda x: x[1], reverse=True)
  return [index for index, _ in index_and_score[:n_best_size]]


def original_write_predictions(examples, features, results, tokenizer, n_best_size, max_answer_length, version_2,
                               null_score_diff_threshold):
  """results[i] = (start_logits, end_logits) of features[i], as lists of Python floats."""
  example_index_to_features = collections.defaultdict(list)
  for feature, result in zip(features, results):
    example_index_to_features[feature["example_index"]].append((feature, result))
  all_predictions, all_nbest, scores_diff = {}, {}, {}
  for example_index, example in enumerate(examples):
    features = example_index_to_features[example_index]
    prelim_predictions = []
    score_null, min_null_feature_index, null_start_logit, null_end_logit = 1000000, 0, 0, 0
    for feature_index, (feature, (start_logits, end_logits)) in enumerate(features):
      if version_2 and start_logits[0] + end_logits[0] < score_null:
        score_null = start_logits[0] + end_logits[0]
        min_null_feature_index, null_start_logit, null_end_logit = feature_index, start_logits[0], end_logits[0]
      for start_index in original_get_best_indexes(start_logits, n_best_size):
        for end_index in original_get_best_indexes(end_logits, n_best_size):
          if start_index >= len(feature["tokens"]) or end_index >= len(feature["tokens"]):
            continue
          if start_index not in feature["token_to_orig_map"] or end_index not in feature["token_to_orig_map"]:
            continue
          if not feature["token_is_max_context"].get(start_index, False):
            continue
          if end_index < start_index or end_index - start_index + 1 > max_answer_length:
            continue
          prelim_predictions.append((feature_index, start_index, end_index, start_logits[start_index],
                                     end_logits[end_index]))
    if version_2:
      prelim_predictions.append((min_null_feature_index, 0, 0, null_start_logit, null_end_logit))
    prelim_predictions = sorted(prelim_predictions, key=lambda x: x[3] + x[4], reverse=True)
    seen_predictions, nbest = {}, []
    for feature_index, start_index, end_index, start_logit, end_logit in prelim_predictions:
      if len(nbest) >= n_best_size:
        break
      feature = features[feature_index][0]
      if start_index > 0:
        tok_text = " ".join(feature["tokens"][start_index:end_index + 1])
        tok_text = tok_text.replace(" ##", "").replace("##", "").strip()
        tok_text = " ".join(tok_text.split())
        orig_tokens = example["doc_tokens"][feature["token_to_orig_map"][start_index]:
                                            feature["token_to_orig_map"][end_index] + 1]
        final_text = original_get_final_text(tok_text, " ".join(orig_tokens), tokenizer)
        if final_text in seen_predictions:
          continue
      else:
        final_text = ""
      seen_predictions[final_text] = True
      nbest.append((final_text, start_logit, end_logit))
    if version_2 and "" not in seen_predictions:
      nbest.append(("", null_start_logit, null_end_logit))
    # The original stops at a v2.0 question with only the null answer; Hugging Face's port puts "empty" first.
    if not nbest or (version_2 and len(nbest) == 1):
      nbest.insert(0, ("empty", 0.0, 0.0))
    total_scores = [s + e for _, s, e in nbest]
    exps = [math.exp(score - max(total_scores)) for score in total_scores]
    all_nbest[example["qas_id"]] = [(text, e / sum(exps), s, en) for (text, s, en), e in zip(nbest, exps)]
    if not version_2:
      all_predictions[example["qas_id"]] = nbest[0][0]
    else:
      best_non_null = next(entry for entry in nbest if entry[0])
      score_diff = score_null - best_non_null[1] - best_non_null[2]
      scores_diff[example["qas_id"]] = score_diff
      all_predictions[example["qas_id"]] = "" if score_diff > null_score_diff_threshold else best_non_null[0]
  return all_predictions, all_nbest, scores_diff


# --- Data ---

VOCABS = {"english_release": ("english", True), "multilingual_built_cased": ("multilingual", False)}


@pytest.fixture(scope="module", params=list(VOCABS))
def setting(request, tmp_path_factory):
  """(vocab, corpus lines, lower_case): the English release vocab (uncased), a cased one built from many scripts."""
  corpus_name, lower_case = VOCABS[request.param]
  lines = [line for line in corpus(corpus_name) if line.strip()]
  if request.param == "english_release":
    path = shared_path("vocab/bert_en_uncased_vocab.txt")
  else:
    path = write_vocab(build_test_vocab(lines, lower_case), tmp_path_factory.mktemp("vocab") / "vocab.txt")
  return load_vocab(path), lines, lower_case


def _context(rng, lines):
  first = rng.randrange(len(lines) - 4)
  words = " ".join(lines[first:first + rng.randint(1, 4)]).split()
  return "".join(word + rng.choice(DOC_WHITESPACE) for word in words).rstrip(rng.choice(["", " \n"]))


def _answer(rng, context):
  """A span of 1-6 doc tokens, trimmed of leading and trailing punctuation now and then; or part of one word."""
  starts = [i for i, c in enumerate(context) if not c.isspace() and (i == 0 or context[i - 1].isspace())]
  first = rng.randrange(len(starts))
  begin = starts[first]
  last = min(first + rng.randint(0, 5), len(starts) - 1)
  end = starts[last]
  while end < len(context) and not context[end].isspace():
    end += 1
  if rng.random() < 0.15 and end - begin > 3:  # a word's prefix ("Japan" in "Japanese"): no exact wordpieces
    end = begin + rng.randint(1, end - begin - 1)
  while rng.random() < 0.5 and end - begin > 1 and ref.is_punctuation(context[end - 1]):
    end -= 1
  while rng.random() < 0.5 and end - begin > 1 and ref.is_punctuation(context[begin]):
    begin += 1
  return {"text": context[begin:end], "answer_start": begin}


def _data(rng, lines, version_2, count=24):
  paragraphs = []
  for p in range(count):
    context = _context(rng, lines)
    qas = []
    for q in range(rng.randint(1, 3)):
      question = " ".join(rng.choice(lines).split()[:rng.choice([3, 6, 30])])  # some past 12 wordpieces
      impossible = version_2 and rng.random() < 0.3
      answers = [] if impossible else [_answer(rng, context)]
      if answers and rng.random() < 0.05:
        answers[0]["text"] = "zq" + answers[0]["text"][2:]  # not in the context: skipped in training
      qas.append({"id": f"p{p}q{q}", "question": question, "answers": answers, "is_impossible": impossible})
    paragraphs.append({"context": context, "qas": qas})
  return [{"title": "t", "paragraphs": paragraphs}]


def _read(tmp_path, data, version_2, training):
  path = tmp_path / "squad.json"
  path.write_text(json.dumps({"version": "x", "data": data}), encoding="utf-8")
  return read_squad(path, version_2=version_2, training=training).examples


def _tokenize(vocab, lower_case):
  index = {t: i for i, t in enumerate(vocab.tokens)}
  return lambda texts: [[(w, ref.wordpiece(w, index)) for w in ref.basic_tokenize(t, lower_case)] for t in texts]


def _encode(examples, vocab, lower_case, training):
  return squad_windows.encode(examples, _tokenize(vocab, lower_case), vocab, max_seq_length=SEQ,
                              max_query_length=QUERY, doc_stride=STRIDE, training=training)


# --- Tests ---

@pytest.mark.parametrize("version_2", [False, True])
def test_windows_match_the_original(setting, tmp_path, version_2):
  vocab, lines, lower_case = setting
  rng = random.Random(3 + version_2)
  data = _data(rng, lines, version_2)
  tokenizer = OriginalTokenizer(vocab.tokens, lower_case)
  for training in (False, True):
    examples = _read(tmp_path, data, version_2, training)
    expected = original_features(original_read(data, training, version_2), tokenizer, training)
    encoded = _encode(examples, vocab, lower_case, training)
    assert len(encoded.windows) == len(expected) > 100
    arrays = squad_windows.as_arrays(encoded.windows, vocab, SEQ)
    for row, (window, feature) in enumerate(zip(encoded.windows, expected)):
      assert window.example_index == feature["example_index"]
      assert arrays["input_word_ids"][row].tolist() == feature["input_ids"]
      assert arrays["input_mask"][row].tolist() == feature["input_mask"]
      assert arrays["input_type_ids"][row].tolist() == feature["segment_ids"]
      context = encoded.contexts[window.example_index]
      positions = range(window.doc_offset, window.doc_offset + window.doc_length)
      assert {p: context.piece_to_word[window.doc_start + p - window.doc_offset] for p in positions} == \
          feature["token_to_orig_map"]
      assert {p: bool(window.max_context[p - window.doc_offset]) for p in positions} == \
          feature["token_is_max_context"]
      if training:
        assert (arrays["start_positions"][row], arrays["end_positions"][row]) == \
            (feature["start_position"], feature["end_position"])
    assert encoded.truncated_questions == sum(
        len(tokenizer.tokenize(e.question)) > QUERY for e in examples) > 0


def test_training_targets_point_at_the_answer_in_every_window_that_holds_it(setting, tmp_path):
  vocab, lines, lower_case = setting
  data = _data(random.Random(11), lines, version_2=True, count=80)
  examples = _read(tmp_path, data, version_2=True, training=True)
  tokenizer = OriginalTokenizer(vocab.tokens, lower_case)
  encoded = _encode(examples, vocab, lower_case, training=True)
  spans = {f["example_index"]: f["answer_span"] for f in original_features(
      original_read(data, True, True), tokenizer, True)}
  windows_by_example = collections.defaultdict(list)
  for window in encoded.windows:
    windows_by_example[window.example_index].append(window)
  cut = exact = 0
  for index, example in enumerate(examples):
    span = spans[index]
    answer_pieces = tokenizer.tokenize(example.answer_text) if span else None
    holding = 0
    for window in windows_by_example[index]:
      tokens = [vocab.tokens[i] for i in window.input_ids]
      inside = span and window.doc_start <= span[0] and span[1] < window.doc_start + window.doc_length
      if not inside:
        assert (window.start_position, window.end_position) == (0, 0)
        cut += bool(span) and window.doc_start <= span[1] and span[0] < window.doc_start + window.doc_length
        continue
      holding += 1
      found = tokens[window.start_position:window.end_position + 1]
      assert found == list(encoded.contexts[index].pieces[span[0]:span[1] + 1])
      if found == answer_pieces:
        exact += 1
      else:  # no run of wordpieces spells the answer (a word's prefix, or no wordpieces): the words under it
        assert not answer_pieces or answer_pieces != tokens[window.start_position:][:len(answer_pieces)]
    assert holding or not span or span[1] - span[0] + 1 > SEQ - QUERY - 3 - STRIDE
  assert cut > 10 and exact > 30  # answers cut by a window's edge, and answers found wordpiece for wordpiece


def _logits(rng, encoded, examples, ties):
  """Random float32 logits over every position (padding too), with the gold answer's ends raised now and then,
  and [CLS] raised for no-answer questions. With `ties`, logits are multiples of 0.5, so scores tie often."""
  starts, ends = rng.normal(size=(2, len(encoded.windows), SEQ)).astype(np.float32)
  if ties:
    starts, ends = np.round(starts * 2) / 2, np.round(ends * 2) / 2
  for row, window in enumerate(encoded.windows):
    example = examples[window.example_index]
    if example.is_impossible:
      starts[row, 0] += 3.0
      ends[row, 0] += 3.0
    if example.is_impossible or rng.random() < 0.3:
      continue
    context = encoded.contexts[window.example_index]
    first = context.word_to_piece[example.start_word] - window.doc_start + window.doc_offset
    last = first + 2
    for position, logits in ((first, starts), (last, ends)):
      if window.doc_offset <= position < window.doc_offset + window.doc_length:
        logits[row, position] += 4.0
  return starts, ends


@pytest.mark.parametrize("version_2, n_best_size, max_answer_length, threshold, ties", [
    (False, 20, 30, 0.0, False), (True, 20, 30, -1.5, False), (True, 5, 3, 1.0, False), (False, 3, 2, 0.0, True),
    (True, 20, 30, 0.0, True)])
def test_decoding_matches_the_original(setting, tmp_path, version_2, n_best_size, max_answer_length, threshold, ties):
  vocab, lines, lower_case = setting
  rng = random.Random(5)
  data = _data(rng, lines, version_2, count=30)
  tokenizer = OriginalTokenizer(vocab.tokens, lower_case)
  # Training-mode examples carry the answer's words, to raise the logits there; decoding reads no answers.
  examples = _read(tmp_path, data, version_2, training=True)
  kept = {e.qas_id for e in examples}
  for paragraph in data[0]["paragraphs"]:
    paragraph["qas"] = [qa for qa in paragraph["qas"] if qa["id"] in kept]
  encoded = _encode(examples, vocab, lower_case, training=False)
  features = original_features(original_read(data, False, version_2), tokenizer, False)
  starts, ends = _logits(np.random.default_rng(len(encoded.windows)), encoded, examples, ties)
  results = [(s.tolist(), e.tolist()) for s, e in zip(starts, ends)]
  expected, expected_nbest, expected_odds = original_write_predictions(
      original_read(data, False, version_2), features, results, tokenizer, n_best_size, max_answer_length, version_2,
      threshold)
  ours = squad_decode.predict(examples, encoded, starts, ends, version_2=version_2, n_best_size=n_best_size,
                              max_answer_length=max_answer_length, null_score_diff_threshold=threshold)
  assert len(encoded.windows) > 100
  assert ours.answers == expected
  assert {q: [(e["text"], e["probability"], e["start_logit"], e["end_logit"]) for e in nbest]
          for q, nbest in ours.nbest.items()} == expected_nbest
  assert ours.null_odds == expected_odds
  answers = list(expected.values())
  assert len(set(answers) - {"", "empty"}) > 10  # real, varied answers
  if version_2:
    assert 0 < answers.count("") < len(answers)
  # Some answers were cut from inside an original word (get_final_text trimmed them), and some were whole words.
  whole = [f" {ours.answers[e.qas_id]} " in f" {' '.join(e.paragraph.doc_tokens)} " for e in examples
           if ours.answers[e.qas_id] not in ("", "empty")]
  assert 0 < sum(whole) < len(whole)


def test_a_question_whose_windows_give_no_span(tmp_path):
  """Only [CLS] and the question score high: v1.1 answers the original's "empty", v2.0 the null answer."""
  tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "who", "?", "paris", "is", "big"]
  vocab = load_vocab(write_vocab(tokens, tmp_path / "vocab.txt"))
  data = [{"paragraphs": [{"context": "Paris is big", "qas": [{"id": "q", "question": "who?", "answers": []}]}]}]
  examples = _read(tmp_path, data, version_2=True, training=False)
  encoded = squad_windows.encode(examples, _tokenize(vocab, True), vocab, max_seq_length=8, max_query_length=2,
                                 doc_stride=2)
  # [CLS] who ? [SEP] paris is big [SEP]: the best 2 starts and ends are positions 0-1, none in the context.
  starts = ends = np.array([[5.0, 4.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]])
  v1 = squad_decode.predict(examples, encoded, starts, ends, version_2=False, n_best_size=2)
  assert v1.answers == {"q": "empty"} and v1.nbest["q"] == [
      {"text": "empty", "probability": 1.0, "start_logit": 0.0, "end_logit": 0.0}]
  assert list(v1.nbest["q"][0]) == ["text", "probability", "start_logit", "end_logit"]  # the original's JSON order
  v2 = squad_decode.predict(examples, encoded, starts, ends, version_2=True, n_best_size=2)
  # null score 5 + 5 = 10, minus the placeholder's 0: 10 > 0, so no answer.
  assert v2.answers == {"q": ""} and v2.null_odds == {"q": 10.0}
  assert [e["text"] for e in v2.nbest["q"]] == ["empty", ""]


def test_bad_settings_and_logits_one_line(setting, tmp_path):
  vocab, lines, lower_case = setting
  examples = _read(tmp_path, _data(random.Random(1), lines, False, count=2), False, False)
  with pytest.raises(HubExportError, match=r"^--max_seq_length \(67\) must be greater than --max_query_length \(64\)"):
    squad_windows.encode(examples, _tokenize(vocab, lower_case), vocab, max_seq_length=67)
  with pytest.raises(HubExportError, match=r"^--max_query_length \(64\) and --doc_stride \(0\) must be positive"):
    squad_windows.encode(examples, _tokenize(vocab, lower_case), vocab, doc_stride=0)
  with pytest.raises(HubExportError, match=r"^training windows need examples read with training=True"):
    _encode(examples, vocab, lower_case, training=True)
  encoded = _encode(examples, vocab, lower_case, training=False)
  count = len(encoded.windows)
  with pytest.raises(HubExportError, match=rf"^start_logits has shape \[{count}, 10\]; expected \[{count} windows, "):
    squad_decode.predict(examples, encoded, np.zeros([count, 10]), np.zeros([count, SEQ]), version_2=False)
  with pytest.raises(HubExportError, match=r"^end_logits has shape \[1, 64\]"):
    squad_decode.predict(examples, encoded, np.zeros([count, SEQ]), np.zeros([1, SEQ]), version_2=False)
  with pytest.raises(HubExportError, match=rf"^1 examples but windows of {len(examples)}: decode the examples that"):
    squad_decode.predict(examples[:1], encoded, np.zeros([count, SEQ]), np.zeros([count, SEQ]), version_2=False)
