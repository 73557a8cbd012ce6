"""export_tflite --task_model: the TFLite Task Library's BertQuestionAnswerer runs the file and gives our task
SavedModel's answers; a model or flag it cannot take is refused in one line, exit 2, nothing written.

The Task Library runs in a venv of its own (tflite-support 0.4.4 pins protobuf 3.20), made by
scripts/setup_tflite_support.sh: a machine where the script cannot make it fails here, it does not skip.
The task model is tiny, seeded and untrained, at the Task Library's length 384, on an ASCII vocab that
holds every context word whole: the Task Library answers with whole space-separated words, the
evaluate_task decoding with the words its wordpieces spell, and here those are the same. It ranks only
the 5 best starts x the 5 best ends, so a question counts when our best span is among those (most are).
"""

import functools
import json
import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert.interpreter",
                    reason="ai-edge-litert (the LiteRT runtime, a test extra) is not installed")

from conftest import REPO, SUPPORT  # noqa: E402
from hub_export import signatures as sig  # noqa: E402
from hub_export.export_tflite import main  # noqa: E402
from hub_export.tasks.squad_metrics import normalize_answer  # noqa: E402
from hub_export.tasks.task_library_inputs import qa_windows  # noqa: E402
from hub_export.tflite.export import export_task_qa  # noqa: E402
from hub_export.tflite.qa_source import TASK_LIBRARY_QUERY_LENGTH, TASK_LIBRARY_SEQ_LENGTH  # noqa: E402
from hub_export.tflite.representative_data import DEFAULT_CALIBRATION_TEXT, read_lines  # noqa: E402
from support import task_savedmodels as tm  # noqa: E402
from support.tokenization_test_data import special_layout  # noqa: E402
from support.command_runs import run_main  # noqa: E402

SETUP_SCRIPT = REPO / "scripts" / "setup_tflite_support.sh"
WORKER = SUPPORT / "task_library_qa_worker.py"
# What the Task Library hard-codes besides the lengths (tflite-support bert_question_answerer.h).
TASK_LIBRARY_N_BEST, TASK_LIBRARY_ANSWER_LENGTH = 5, 32
QA_SETTINGS = {**tm.SQUAD_SETTINGS, "max_query_length": TASK_LIBRARY_QUERY_LENGTH,
               "max_answer_length": TASK_LIBRARY_ANSWER_LENGTH}
CANDIDATES, MIN_QUESTIONS = 170, 100  # about two thirds of the candidates count
# Narrow, so that the 384-token windows cost milliseconds; the position table as long as BERT's.
NARROW = dict(hidden_size=128, embedding_size=64, intra_bottleneck_size=64, intermediate_size=128)
SEED = 4
INT8_WINDOWS = 16


@pytest.fixture(scope="session")
def task_library_python():
  """The tflite-support venv's python, made (or found) by the set-up script."""
  done = subprocess.run(["bash", str(SETUP_SCRIPT)], cwd=REPO, capture_output=True, text=True, timeout=900)
  if done.returncode != 0:
    pytest.fail(f"{SETUP_SCRIPT.name} failed: {done.stderr.strip()}", pytrace=False)
  return REPO / done.stdout.strip().splitlines()[-1]


def _words(line: str) -> list:
  return re.findall("[A-Za-z]+", line)


def _questions(lines: list, count: int, seed: int = 11) -> list:
  """(context, question) pairs: 4-10 words of the context and "?"; the context, words of shuffled lines without
  punctuation (one wordpiece each), fills the window but for up to 8 positions of padding, as long contexts do."""
  rng = random.Random(seed)
  pairs = []
  for _ in range(count):
    words = [word for line in rng.sample(lines, len(lines)) for word in _words(line)]
    question = rng.sample(words[:200], rng.randint(4, 10)) + ["?"]
    room = TASK_LIBRARY_SEQ_LENGTH - len(question) - 3
    pairs.append((" ".join(words[:room - rng.randint(0, 8)]), " ".join(question)))
  return pairs


def _savedmodel_answers(saved, vocab_path, pairs) -> tuple:
  """The task SavedModel's best answer to each pair (its `serve` logits, decoded as evaluate_task decodes), and
  whether the Task Library's search (5 best starts x 5 best ends) holds that answer."""
  from hub_export.tasks import squad_decode, squad_windows
  from hub_export.tasks.squad_data import Example, split_context
  from hub_export.tasks.squad_tokens import WordpieceTokenizer
  from hub_export.tasks.task_runners import SavedModelRunner, run_batches
  from hub_export.tokenization.vocab import load_vocab

  vocab = load_vocab(vocab_path)
  examples = [Example(str(i), question, split_context(context), ()) for i, (context, question) in enumerate(pairs)]
  encoded = squad_windows.encode(examples, WordpieceTokenizer(vocab, True), vocab, TASK_LIBRARY_SEQ_LENGTH,
                                 TASK_LIBRARY_QUERY_LENGTH, QA_SETTINGS["doc_stride"])
  assert len(encoded.windows) == len(pairs)  # each context fits one window, as the Task Library needs
  logits = run_batches(SavedModelRunner(saved), squad_windows.as_arrays(encoded.windows, vocab,
                                                                        TASK_LIBRARY_SEQ_LENGTH), "squad", 25)
  decode = lambda n_best: squad_decode.predict(  # noqa: E731
      examples, encoded, logits[sig.START_LOGITS], logits[sig.END_LOGITS], False, n_best_size=n_best,
      max_answer_length=TASK_LIBRARY_ANSWER_LENGTH).answers
  best, reachable = decode(squad_decode.N_BEST_SIZE), decode(TASK_LIBRARY_N_BEST)
  return [best[e.qas_id] for e in examples], [best[e.qas_id] == reachable[e.qas_id] != squad_decode.NO_SPAN_TEXT
                                              for e in examples]


@pytest.fixture(scope="module")
def qa(tmp_path_factory):
  """A seeded SQuAD task SavedModel at 384, its float, float16, dynamic and int8 exports, candidate questions and
  the SavedModel's answers."""
  root = tmp_path_factory.mktemp("task_qa")
  lines = read_lines(DEFAULT_CALIBRATION_TEXT)
  vocab = special_layout() + ["?"] + sorted({word.lower() for line in lines for word in _words(line)})
  model = tm.task_model(QA_SETTINGS, len(vocab), SEED, **NARROW)
  assert model.config.max_position_embeddings >= TASK_LIBRARY_SEQ_LENGTH
  saved = tm.save_task_model(root / "qa", model, QA_SETTINGS, vocab, max_seq_length=TASK_LIBRARY_SEQ_LENGTH)
  windows = functools.partial(qa_windows, saved, None, DEFAULT_CALIBRATION_TEXT)
  files = {quantize: export_task_qa(root / f"qa_{quantize}.tflite", saved, windows, quantize)
           for quantize in ("none", "float16")}
  # Few calibration windows (the default is 100): an untrained model's int8 ranges need not be good, only usable.
  files["int8"] = export_task_qa(root / "qa_int8.tflite", saved, windows, "int8", calibration_samples=INT8_WINDOWS)
  files["dynamic"] = root / "qa_dynamic.tflite"  # the command, checked on the windows of a SQuAD file
  with pytest.raises(SystemExit) as exit_info:
    main(["--task_model", str(saved), "--out", str(files["dynamic"]), "--quantize", "dynamic",
          "--calibration_squad", str(tm.squad_file(root / "dev.json"))])
  assert exit_info.value.code == 0
  pairs = _questions(lines, CANDIDATES)
  answers, reachable = _savedmodel_answers(saved, saved / "assets" / "vocab.txt", pairs)
  return {"saved": saved, "windows": windows, "files": files, "pairs": pairs, "answers": answers,
          "reachable": reachable}


def test_the_file_has_the_task_librarys_interface(qa):
  from hub_export.tflite.runtime import TFLiteEncoder

  for path in qa["files"].values():
    model = TFLiteEncoder(path, output_keys=(sig.START_LOGITS, sig.END_LOGITS))
    shapes = {name: (tuple(d["shape"]), d["dtype"]) for name, d in model.input_details.items()}
    assert shapes == {key: ((1, TASK_LIBRARY_SEQ_LENGTH), np.int32) for key in sig.ENCODER_INPUT_KEYS}
    shapes = {name: (tuple(d["shape"]), d["dtype"]) for name, d in model.output_details.items()}
    assert shapes == {key: ((1, TASK_LIBRARY_SEQ_LENGTH), np.float32) for key in (sig.START_LOGITS, sig.END_LOGITS)}
  assert qa["files"]["float16"].stat().st_size < 0.6 * qa["files"]["none"].stat().st_size


def test_the_task_library_gives_the_task_models_answers(qa, task_library_python):
  kept = [i for i, reachable in enumerate(qa["reachable"]) if reachable]
  assert len(kept) >= MIN_QUESTIONS
  request = {"models": {quantize: str(path) for quantize, path in qa["files"].items()},
             "questions": [qa["pairs"][i] for i in kept]}
  done = subprocess.run([str(task_library_python), str(WORKER)], input=json.dumps(request), capture_output=True,
                        text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  got = json.loads(done.stdout)
  want = [normalize_answer(qa["answers"][i]) for i in kept]
  same = {quantize: np.mean([a is not None and normalize_answer(a) == w for a, w in zip(answers, want)])
          for quantize, answers in got.items()}
  assert same["none"] >= 0.99, same
  # Sanity bounds, not accuracy targets (bench/bench_qa_precisions.py measures those on a trained model): the
  # Task Library's 2023 runtime takes every op of each file and answers close to the SavedModel.
  assert same["float16"] >= 0.9 and same["dynamic"] >= 0.9 and same["int8"] >= 0.9, same


def test_padding_stays_inert_in_every_precision(qa):
  """Other ids under the mask leave the real tokens' logits bit-identical, int8 included: the padding bias is
  added to float scores before a float softmax, so a padded key gets a weight of exactly 0, and every other op works
  on one token's row (dynamic-range quantizes each row with its own scale, int8 with calibrated constants).
  (Ids from one past the first padding on: the trigram embedding of the last real token reads the id after it.)"""
  from hub_export.tflite.runtime import TFLiteEncoder

  window = next(w for w in qa["windows"](8) if w[sig.INPUT_MASK].sum() < TASK_LIBRARY_SEQ_LENGTH - 50)
  real = window[sig.INPUT_MASK][0].astype(bool)
  beyond = np.arange(TASK_LIBRARY_SEQ_LENGTH) > real.sum()
  other = dict(window, **{sig.INPUT_WORD_IDS: np.where(beyond, 5 + np.arange(TASK_LIBRARY_SEQ_LENGTH) % 40,
                                                       window[sig.INPUT_WORD_IDS])})
  for quantize, path in qa["files"].items():
    model = TFLiteEncoder(path, output_keys=(sig.START_LOGITS, sig.END_LOGITS))
    want, got = model(window), model(other)
    for key in (sig.START_LOGITS, sig.END_LOGITS):
      np.testing.assert_array_equal(got[key][0][real], want[key][0][real], err_msg=f"{quantize} {key}")


# ---- errors: one line, exit 2, nothing written -----------------------------------------


def _cli(capsys, *args):
  return run_main(capsys, main, *args)


@pytest.mark.parametrize("flag, why", [
    (["--labels", "labels.txt"], "it answers questions, it does not classify"),
    (["--text_input"], "the Task Library tokenizes outside the model"),
    (["--seq_length", "128"], "the Task Library feeds 384 tokens"),
    (["--vocab", "vocab.txt"], "the task model carries its own vocab"),
    (["--no_metadata"], "the Task Library finds every tensor through the metadata"),
])
def test_a_flag_that_does_not_apply_to_a_task_model_is_refused(tmp_path, capsys, flag, why):
  code, line = _cli(capsys, "--task_model", tmp_path / "none", "--out", tmp_path / "m.tflite", *flag)
  assert (code, line) == (2, f"error: {flag[0]} does not apply to --task_model ({why})")
  assert list(tmp_path.iterdir()) == []


def test_calibration_squad_applies_to_a_task_model_only(tmp_path, capsys):
  code, line = _cli(capsys, "--saved_model", tmp_path / "encoder", "--out", tmp_path / "m.tflite",
                    "--calibration_squad", tmp_path / "dev.json")
  assert (code, line) == (2, "error: --calibration_squad applies to --task_model only")


@pytest.mark.parametrize("settings, lower_case, problem", [
    (tm.CLASSIFICATION_SETTINGS, True, "is a classification model; the Task Library's BertQuestionAnswerer takes a "
                                       "squad one (a classifier goes on device with --task_classifier)"),
    (QA_SETTINGS, False, "has a cased vocab (lower_case false in its task.json); the Task Library lower-cases every "
                         "question and context"),
])
def test_a_task_model_the_task_library_cannot_take_is_refused_before_loading(tmp_path, capsys, settings, lower_case,
                                                                              problem):
  """Read from task.json alone: the saved_model.pb here is not one, so loading it would fail otherwise."""
  model = tmp_path / "model"
  tm.write_task_assets(model, settings, special_layout(), lower_case=lower_case)
  (model / "saved_model.pb").write_bytes(b"not a SavedModel")
  code, line = _cli(capsys, "--task_model", model, "--out", tmp_path / "m.tflite")
  assert (code, line) == (2, f"error: --task_model {model} {problem}")
  assert not (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize("stub, problem", [
    ({"outputs": ("logits",)}, ": its 'serve' signature gives logits; the Task Library's BertQuestionAnswerer needs "
                               "start_logits and end_logits"),
    ({"positions": 128}, " has 128 positions (max_position_embeddings); the Task Library feeds 384 tokens"),
])
def test_a_task_model_without_the_task_librarys_outputs_or_length_is_refused(tmp_path, capsys, stub, problem):
  model = tm.save_stub_qa_model(tmp_path / "model", **stub)
  code, line = _cli(capsys, "--task_model", model, "--out", tmp_path / "m.tflite")
  assert (code, line) == (2, f"error: --task_model {model}{problem}")
  assert not (tmp_path / "m.tflite").exists()


def test_a_task_model_with_the_in_graph_tokenizer_loads_in_a_fresh_process(tmp_path):
  """`finetune` saves a `serving_default` that tokenizes with TensorFlow Text's ops, which a process must register
  before loading the model: the command does (here nothing else imports tensorflow_text), and so gets as far as
  this stub's refusal."""
  model = tm.save_stub_qa_model(tmp_path / "model", outputs=("logits",), text_ops=True)
  done = subprocess.run([sys.executable, "-m", "hub_export.export_tflite", "--task_model", str(model), "--out",
                         str(tmp_path / "m.tflite")], capture_output=True, text=True, timeout=300,
                        env={**os.environ, "PYTHONPATH": str(REPO)})
  assert (done.returncode, done.stderr.strip().splitlines()[-1]) == (
      2, f"error: --task_model {model}: its 'serve' signature gives logits; the Task Library's BertQuestionAnswerer "
         "needs start_logits and end_logits")
