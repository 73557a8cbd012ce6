"""SQuAD scores: hand-derived cases, and agreement with the official scripts' logic written out plainly below."""

import collections
import json
import random
import re
import string

import pytest

from hub_export.support.errors import HubExportError
from hub_export.tasks.squad_data import gold_answers, read_squad
from hub_export.tasks.squad_metrics import evaluate_v1, evaluate_v2, normalize_answer


# --- The official evaluate-v1.1.py and evaluate-v2.0.py, function by function, on the file's "data" list. ---

def official_normalize_answer(s):
  def remove_articles(text):
    return re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", text)

  def white_space_fix(text):
    return " ".join(text.split())

  def remove_punc(text):
    exclude = set(string.punctuation)
    return "".join(ch for ch in text if ch not in exclude)

  return white_space_fix(remove_articles(remove_punc(s.lower())))


def official_v1_f1_score(prediction, ground_truth):
  prediction_tokens = official_normalize_answer(prediction).split()
  ground_truth_tokens = official_normalize_answer(ground_truth).split()
  common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
  num_same = sum(common.values())
  if num_same == 0:
    return 0
  precision = 1.0 * num_same / len(prediction_tokens)
  recall = 1.0 * num_same / len(ground_truth_tokens)
  return (2 * precision * recall) / (precision + recall)


def official_v1_exact_match_score(prediction, ground_truth):
  return official_normalize_answer(prediction) == official_normalize_answer(ground_truth)


def official_v1_evaluate(dataset, predictions):
  f1 = exact_match = total = 0
  for article in dataset:
    for paragraph in article["paragraphs"]:
      for qa in paragraph["qas"]:
        total += 1
        if qa["id"] not in predictions:
          continue
        ground_truths = [x["text"] for x in qa["answers"]]
        prediction = predictions[qa["id"]]
        exact_match += max(official_v1_exact_match_score(prediction, g) for g in ground_truths)
        f1 += max(official_v1_f1_score(prediction, g) for g in ground_truths)
  return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def official_v2_make_qid_to_has_ans(dataset):
  qid_to_has_ans = {}
  for article in dataset:
    for p in article["paragraphs"]:
      for qa in p["qas"]:
        qid_to_has_ans[qa["id"]] = bool(qa["answers"])
  return qid_to_has_ans


def official_v2_get_tokens(s):
  if not s:
    return []
  return official_normalize_answer(s).split()


def official_v2_compute_exact(a_gold, a_pred):
  return int(official_normalize_answer(a_gold) == official_normalize_answer(a_pred))


def official_v2_compute_f1(a_gold, a_pred):
  gold_toks = official_v2_get_tokens(a_gold)
  pred_toks = official_v2_get_tokens(a_pred)
  common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
  num_same = sum(common.values())
  if len(gold_toks) == 0 or len(pred_toks) == 0:
    return int(gold_toks == pred_toks)
  if num_same == 0:
    return 0
  precision = 1.0 * num_same / len(pred_toks)
  recall = 1.0 * num_same / len(gold_toks)
  return (2 * precision * recall) / (precision + recall)


def official_v2_get_raw_scores(dataset, preds):
  exact_scores, f1_scores = {}, {}
  for article in dataset:
    for p in article["paragraphs"]:
      for qa in p["qas"]:
        qid = qa["id"]
        gold_answers = [a["text"] for a in qa["answers"] if official_normalize_answer(a["text"])]
        if not gold_answers:
          gold_answers = [""]
        if qid not in preds:
          continue
        a_pred = preds[qid]
        exact_scores[qid] = max(official_v2_compute_exact(a, a_pred) for a in gold_answers)
        f1_scores[qid] = max(official_v2_compute_f1(a, a_pred) for a in gold_answers)
  return exact_scores, f1_scores


def official_v2_apply_no_ans_threshold(scores, na_probs, qid_to_has_ans, na_prob_thresh):
  new_scores = {}
  for qid, s in scores.items():
    if na_probs[qid] > na_prob_thresh:
      new_scores[qid] = float(not qid_to_has_ans[qid])
    else:
      new_scores[qid] = s
  return new_scores


def official_v2_make_eval_dict(exact_scores, f1_scores, qid_list=None):
  if not qid_list:
    total = len(exact_scores)
    return collections.OrderedDict([("exact", 100.0 * sum(exact_scores.values()) / total),
                                    ("f1", 100.0 * sum(f1_scores.values()) / total), ("total", total)])
  total = len(qid_list)
  return collections.OrderedDict([("exact", 100.0 * sum(exact_scores[k] for k in qid_list) / total),
                                  ("f1", 100.0 * sum(f1_scores[k] for k in qid_list) / total), ("total", total)])


def official_v2_merge_eval(main_eval, new_eval, prefix):
  for k in new_eval:
    main_eval["%s_%s" % (prefix, k)] = new_eval[k]


def official_v2_find_best_thresh(preds, scores, na_probs, qid_to_has_ans):
  num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
  cur_score = num_no_ans
  best_score = cur_score
  best_thresh = 0.0
  qid_list = sorted(na_probs, key=lambda k: na_probs[k])
  for qid in qid_list:
    if qid not in scores:
      continue
    if qid_to_has_ans[qid]:
      diff = scores[qid]
    else:
      diff = -1 if preds[qid] else 0
    cur_score += diff
    if cur_score > best_score:
      best_score = cur_score
      best_thresh = na_probs[qid]
  return 100.0 * best_score / len(scores), best_thresh


def official_v2_main(dataset, preds, na_prob_file=None, na_prob_thresh=1.0):
  na_probs = na_prob_file if na_prob_file is not None else {k: 0.0 for k in preds}
  qid_to_has_ans = official_v2_make_qid_to_has_ans(dataset)
  has_ans_qids = [k for k, v in qid_to_has_ans.items() if v]
  no_ans_qids = [k for k, v in qid_to_has_ans.items() if not v]
  exact_raw, f1_raw = official_v2_get_raw_scores(dataset, preds)
  exact_thresh = official_v2_apply_no_ans_threshold(exact_raw, na_probs, qid_to_has_ans, na_prob_thresh)
  f1_thresh = official_v2_apply_no_ans_threshold(f1_raw, na_probs, qid_to_has_ans, na_prob_thresh)
  out_eval = official_v2_make_eval_dict(exact_thresh, f1_thresh)
  if has_ans_qids:
    official_v2_merge_eval(out_eval, official_v2_make_eval_dict(exact_thresh, f1_thresh, qid_list=has_ans_qids),
                           "HasAns")
  if no_ans_qids:
    official_v2_merge_eval(out_eval, official_v2_make_eval_dict(exact_thresh, f1_thresh, qid_list=no_ans_qids),
                           "NoAns")
  if na_prob_file is not None:
    best_exact, exact_thresh = official_v2_find_best_thresh(preds, exact_raw, na_probs, qid_to_has_ans)
    best_f1, f1_thresh = official_v2_find_best_thresh(preds, f1_raw, na_probs, qid_to_has_ans)
    out_eval.update(best_exact=best_exact, best_exact_thresh=exact_thresh, best_f1=best_f1, best_f1_thresh=f1_thresh)
  return out_eval


# --- Files in the official layout, read back through squad_data as the project scores them. ---

def _dataset(questions):
  """questions: [(id, [gold texts], is_impossible)] -> the "data" list, two questions a paragraph."""
  paragraphs = []
  for i in range(0, len(questions), 2):
    qas = [{"id": qas_id, "question": "Q?", "answers": [{"text": t, "answer_start": 0} for t in texts],
            "is_impossible": impossible} for qas_id, texts, impossible in questions[i:i + 2]]
    paragraphs.append({"context": "some context", "qas": qas})
  return [{"title": "t", "paragraphs": paragraphs}]


def _gold(tmp_path, dataset, version_2):
  path = tmp_path / "dev.json"
  path.write_text(json.dumps({"version": "x", "data": dataset}), encoding="utf-8")
  return gold_answers(read_squad(path, version_2=version_2, training=False).examples)


def test_normalization_by_hand():
  assert normalize_answer("  The  Eiffel-Tower!\t") == "eiffeltower"  # "-" is punctuation: dropped, not a space
  assert normalize_answer("an apple, a pear") == "apple pear"
  assert normalize_answer("Theatre anthem a.") == "theatre anthem"  # articles only as whole words
  assert normalize_answer("Über «Zürich»") == "über «zürich»"  # only ASCII punctuation is dropped


def test_v1_by_hand(tmp_path):
  dataset = _dataset([("q1", ["The Eiffel Tower", "Eiffel Tower"], False), ("q2", ["Denver Broncos"], False),
                      ("q3", ["an apple, a pear"], False), ("q4", ["Paris"], False), ("q5", ["The"], False)])
  predictions = {"q1": "eiffel tower!", "q2": "the Broncos", "q3": "pear apple", "q5": ""}
  # q1: "eiffel tower" equals the normalised golds: EM 1, F1 1.
  # q2: "broncos" vs "denver broncos": EM 0; 1 word shared, precision 1/1, recall 1/2, F1 = 2*1*0.5/1.5 = 2/3.
  # q3: "pear apple" vs "apple pear": EM 0 (order differs), F1 1 (same words).
  # q4: no prediction: 0 and 0.
  # q5: gold "The" normalises to "", as does "": EM 1; F1 0 (v1.1 gives no overlap of empty texts).
  # EM = (1 + 0 + 0 + 0 + 1) / 5 = 40%, F1 = (1 + 2/3 + 1 + 0 + 0) / 5 = 53.33%.
  scores = evaluate_v1(_gold(tmp_path, dataset, version_2=False), predictions)
  assert scores == {"exact_match": pytest.approx(40.0), "f1": pytest.approx(100 * (8 / 3) / 5)}


def test_v2_by_hand(tmp_path):
  dataset = _dataset([("q1", ["Paris"], False), ("q2", [], True), ("q3", [], True), ("q4", ["the Seine river"], False),
                      ("q5", ["The"], False)])
  predictions = {"q1": "paris.", "q2": "", "q3": "London", "q4": "Seine", "q5": ""}
  # q1: EM 1, F1 1. q2: no answer, "" predicted: 1, 1. q3: no answer, "London": 0, 0.
  # q4: "seine" vs "seine river": EM 0, precision 1, recall 1/2, F1 2/3.
  # q5: gold "The" normalises to "" and is dropped, leaving gold [""]: "" scores 1, 1. It still counts as HasAns
  #     (its answers list is not empty).
  # exact = 3/5 = 60%, f1 = (1 + 1 + 0 + 2/3 + 1) / 5 = 73.33%; HasAns q1 q4 q5: exact 2/3, f1 (1 + 2/3 + 1)/3;
  # NoAns q2 q3: 50%, 50%.
  na_probs = {"q1": 0.1, "q2": 0.9, "q3": 0.8, "q4": 0.5, "q5": 0.5}
  # Best thresholds start from the 2 no-answer questions answered "" (score 2), then walk up the no-answer
  # probabilities: q1 (0.1) +1 -> 3; q4 (0.5) +0 exact / +2/3 F1; q5 (0.5, after q4 in na_probs order) +1 -> 4 exact
  # at 0.5 / 14/3 F1 at 0.5; q3 (0.8) has no answer and a non-empty prediction: -1; q2 (0.9) predicted "": +0.
  # best_exact = 4/5 = 80% at 0.5, best_f1 = (14/3)/5 = 93.33% at 0.5. No probability exceeds 1.0, so the
  # main figures are unchanged.
  scores = evaluate_v2(_gold(tmp_path, dataset, version_2=True), predictions, na_probs)
  assert list(scores) == ["exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact",
                          "NoAns_f1", "NoAns_total", "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh"]
  assert scores == {"exact": pytest.approx(60.0), "f1": pytest.approx(100 * (11 / 3) / 5), "total": 5,
                    "HasAns_exact": pytest.approx(200 / 3), "HasAns_f1": pytest.approx(100 * (8 / 3) / 3),
                    "HasAns_total": 3, "NoAns_exact": 50.0, "NoAns_f1": 50.0, "NoAns_total": 2,
                    "best_exact": pytest.approx(80.0), "best_exact_thresh": 0.5,
                    "best_f1": pytest.approx(100 * (14 / 3) / 5), "best_f1_thresh": 0.5}
  # With threshold 0.4, q2 q3 q4 q5 (probabilities above it) count as answered "": 1 for the no-answer q2 and q3,
  # 0 for the answerable q4 and q5 (whatever they predicted); q1 keeps its 1. exact = 3/5, HasAns 1/3, NoAns 2/2.
  low = evaluate_v2(_gold(tmp_path, dataset, version_2=True), predictions, na_probs, na_prob_thresh=0.4)
  assert (low["exact"], low["HasAns_exact"], low["NoAns_exact"]) == (60.0, pytest.approx(100 / 3), 100.0)


_WORDS = ["the", "The", "a", "An", "an", "Paris", "paris", "river", "Seine", "café", "Über", "1,024", "U.S.", "don't",
          "the.", "(1895)", "—", "and", "of", "x", "thea", "another", ".", "?!", "«x»"]
_SEPARATORS = [" ", "  ", "\t", ", ", "-", ". ", "\n"]


def _text(rng, most=4):
  words = [rng.choice(_WORDS) for _ in range(rng.randint(0, most))]
  return "".join(w + rng.choice(_SEPARATORS) for w in words).strip(rng.choice(["", " "]))


def _prediction(rng, golds):
  roll = rng.random()
  if golds and roll < 0.3:
    return rng.choice(golds)
  if golds and roll < 0.5:
    words = rng.choice(golds).split()
    return " ".join(rng.sample(words, rng.randint(0, len(words)))).upper() + rng.choice(["", ".", " the"])
  if roll < 0.7:
    return ""
  return _text(rng)


def _random_case(rng, version_2):
  questions = []
  for i in range(rng.randint(1, 12)):
    impossible = version_2 and rng.random() < 0.35
    golds = [] if impossible else [_text(rng) or "x" for _ in range(rng.randint(1, 3))]
    questions.append((f"id{i}", golds, impossible))
  return questions


@pytest.mark.parametrize("seed", range(3))
def test_v1_matches_the_official_logic(tmp_path, seed):
  rng = random.Random(seed)
  for _ in range(100):
    questions = _random_case(rng, version_2=False)
    dataset = _dataset(questions)
    predictions = {q: _prediction(rng, golds) for q, golds, _ in questions if rng.random() < 0.9}
    ours = evaluate_v1(_gold(tmp_path, dataset, version_2=False), predictions)
    assert ours == pytest.approx(official_v1_evaluate(dataset, predictions), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_v2_matches_the_official_logic(tmp_path, seed):
  rng = random.Random(100 + seed)
  for case in range(100):
    questions = _random_case(rng, version_2=True)
    dataset = _dataset(questions)
    predictions = {q: _prediction(rng, golds) for q, golds, _ in questions}
    na_probs = None
    if case % 4:
      ids = [q for q, _, _ in questions] + ["not_a_question"]
      rng.shuffle(ids)  # tied probabilities are taken in this order
      na_probs = {q: rng.choice([0.1, 0.5, 0.5, 0.9, round(rng.random(), 2)]) for q in ids}
    threshold = rng.choice([1.0, 1.0, 0.5, 0.0])
    expected = official_v2_main(dataset, predictions, na_probs, threshold)
    ours = evaluate_v2(_gold(tmp_path, dataset, version_2=True), predictions, na_probs, threshold)
    assert list(ours) == list(expected)
    assert ours == pytest.approx(dict(expected), rel=1e-12, abs=1e-12)


def test_bad_inputs_one_line(tmp_path):
  gold = {"q1": ["Paris"], "q2": []}
  with pytest.raises(HubExportError, match=r"^question 'q2' has no gold answer: SQuAD v1.1 scores answered "):
    evaluate_v1(gold, {"q1": "Paris", "q2": ""})
  with pytest.raises(HubExportError, match=r"^1 question\(s\) have no prediction \(first: id 'q2'\); SQuAD v2.0"):
    evaluate_v2(gold, {"q1": "Paris"})
  with pytest.raises(HubExportError, match=r"^1 question\(s\) have no no-answer probability \(first: id 'q1'\)"):
    evaluate_v2(gold, {"q1": "Paris", "q2": ""}, {"q2": 0.5})
  with pytest.raises(HubExportError, match=r"^the prediction for question 'q1' must be a string, got int"):
    evaluate_v2(gold, {"q1": 3, "q2": ""})
  with pytest.raises(HubExportError, match=r"^no questions to score$"):
    evaluate_v1({}, {})
