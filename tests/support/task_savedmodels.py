"""Tiny task SavedModels laid out as the task-model contract says, so scoring is tested without fine-tuning.

A seeded `build_mobilebert(config, TaskHead(...))` on a real-word English vocab, saved with its
`serve` signature (int32 token inputs -> logits), `__call__` for `hub.KerasLayer`, and
`assets/task.json` + `assets/vocab.txt`. Also the same model's float `.tflite` and Keras 3 task.
"""

import json
import random
from pathlib import Path

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.model import build_mobilebert
from hub_export.hub_format.task_model_files import FORMAT, TASK_CONFIG_NAME
from hub_export.weight_layout import CLASSIFIER, SPAN_HEAD, TaskHead
from hub_export.tflite.qa_source import TASK_LIBRARY_SEQ_LENGTH
from support.release_dirs import tiny_config, tiny_vocab
from support.tokenization_test_data import build_test_vocab, corpus

SEQ = 64
HEAD_SCALE = 50.0
SQUAD_SETTINGS = {"task": "squad", "max_query_length": 16, "doc_stride": 24, "max_answer_length": 10,
                  "version_2_with_negative": False, "null_score_diff_threshold": 0.0}
CLASSIFICATION_SETTINGS = {"task": "classification", "glue_task": None, "labels": ["no", "yes", "maybe"],
                           "regression": False, "pair": True}


def english_vocab() -> list:
  return build_test_vocab(corpus("english"), lower_case=True)


def task_model(settings: dict, vocab_size: int, seed: int = 3, **config_overrides):
  """The seeded tf_keras task model for `settings` (a squad or classification task.json), on `tiny_config` with
  `config_overrides`.

  The head's weights are scaled up so that its logits spread over a few units as a trained head's
  do: with the initializer's spread, float noise between artifacts could swap near-tied spans.
  """
  import tf_keras

  tf_keras.utils.set_random_seed(seed)  # tf_keras's unseeded initializers draw from Python's random too
  head = SPAN_HEAD if settings["task"] == "squad" else TaskHead(CLASSIFIER, len(settings["labels"]))
  model = build_mobilebert(tiny_config(vocab_size=vocab_size, **config_overrides), head)
  model.head.output_weights.assign(model.head.output_weights * HEAD_SCALE)
  return model


def keras3_task(model):
  """The Keras 3 task holding `model`'s weights (`MobileBertQuestionAnswerer` or `MobileBertTextClassifier`)."""
  import hub_export.keras3 as keras3
  from hub_export.keras3.from_tf_keras import convert_weights

  backbone = keras3.MobileBertBackbone(**model.config.to_dict())
  if model.task_head.kind == CLASSIFIER:
    task = keras3.MobileBertTextClassifier(backbone, num_classes=model.task_head.num_labels)
  else:
    task = keras3.MobileBertQuestionAnswerer(backbone)
  convert_weights(model, task)
  return task


class _TaskModule(tf.Module):
  def __init__(self, model):
    super().__init__()
    self.model = model

  @tf.function
  def logits(self, inputs):
    _, outputs = self.model.task_logits(inputs)
    return outputs if isinstance(outputs, dict) else {"logits": outputs}


def write_task_assets(path: Path, settings: dict, vocab: list, metrics: dict = None, max_seq_length: int = SEQ,
                      lower_case: bool = True) -> Path:
  """A task model's `assets/vocab.txt` and `assets/task.json` in the folder `path`; returns the assets folder."""
  assets = Path(path) / "assets"
  assets.mkdir(parents=True)
  (assets / "vocab.txt").write_text("".join(f"{token}\n" for token in vocab), encoding="utf-8")
  (assets / TASK_CONFIG_NAME).write_text(json.dumps({"format": FORMAT, "max_seq_length": max_seq_length,
                                                     "lower_case": lower_case, **settings, "metrics": metrics or {}}),
                                         encoding="utf-8")
  return assets


def save_task_model(path: Path, model, settings: dict, vocab: list, metrics: dict = None,
                    max_seq_length: int = SEQ) -> Path:
  """`model` as a task SavedModel folder at `path`; task.json holds `metrics` (none by default)."""
  root = _TaskModule(model)
  serve = root.logits.get_concrete_function(sig.encoder_input_spec(named=True))
  root.__call__ = tf.function(lambda inputs: root.logits(inputs), input_signature=[sig.encoder_input_spec()])
  assets = write_task_assets(path, settings, vocab, metrics, max_seq_length)
  root.vocab_file = tf.saved_model.Asset(str(assets / "vocab.txt"))
  root.task_file = tf.saved_model.Asset(str(assets / TASK_CONFIG_NAME))
  tf.saved_model.save(root, str(path), signatures={"serve": serve})
  return Path(path)


def save_stub_qa_model(path: Path, outputs=(sig.START_LOGITS, sig.END_LOGITS), positions: int = 512,
                       text_ops: bool = False) -> Path:
  """A task SavedModel without a MobileBERT, for the refusals that need one loaded: its `serve` gives `outputs`
  [batch, seq] from a `position_embeddings` table of `positions` rows; with `text_ops`, a `serving_default` on
  strings uses a TensorFlow Text op, as `finetune`'s in-graph tokenizer does."""
  root = tf.Module()
  root.position_embeddings = tf.Variable(tf.ones([positions, 4]), name="position_embeddings")

  @tf.function(input_signature=[sig.encoder_input_spec(named=True)])
  def serve(inputs):
    scores = tf.cast(inputs[sig.INPUT_WORD_IDS], tf.float32) * tf.reduce_sum(root.position_embeddings)
    return {name: scores for name in outputs}

  signatures = {"serve": serve}
  if text_ops:
    import tensorflow_text as tf_text

    signatures["serving_default"] = tf.function(lambda question: {"question": tf_text.normalize_utf8(question)},
                                                input_signature=[tf.TensorSpec([None], tf.string)])
  write_task_assets(path, SQUAD_SETTINGS, tiny_vocab(160), max_seq_length=TASK_LIBRARY_SEQ_LENGTH)
  tf.saved_model.save(root, str(path), signatures=signatures)
  return Path(path)


def save_tflite(saved_model: Path, target: Path) -> Path:
  """The SavedModel's `serve` signature converted to a float `.tflite` (batch and length dynamic)."""
  converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model), signature_keys=["serve"])
  target.write_bytes(converter.convert())
  return target


def save_fixed_tflite(model, target: Path) -> Path:
  """`model` as a float `.tflite` taking [1, SEQ] inputs, the shape on-device exports fix."""
  root = _TaskModule(model)
  serve = root.logits.get_concrete_function(sig.fixed_encoder_input_spec(SEQ))
  target.write_bytes(tf.lite.TFLiteConverter.from_concrete_functions([serve], root).convert())
  return target


def squad_file(path: Path, seed: int = 0, paragraphs: int = 4, questions: int = 3) -> Path:
  """A SQuAD v1.1 file from the English corpus: contexts of 60-90 words (several windows at SEQ), questions
  of corpus words, gold answers 1-4 context words (a second gold answer on some). Each paragraph's first
  question also takes the whole context as a gold answer, so that any answer an untrained model gives
  scores some F1 there."""
  rng, lines = random.Random(seed), [line for line in corpus("english") if len(line.split()) > 8]
  data = []
  for p in range(paragraphs):
    words = " ".join(rng.sample(lines, 12)).split()[:rng.randint(60, 90)]
    context = " ".join(words)
    qas = []
    for q in range(questions):
      answers = []
      for _ in range(rng.choice((1, 2))):
        first = rng.randrange(len(words) - 4)
        text = " ".join(words[first:first + rng.randint(1, 4)])
        answers.append({"text": text, "answer_start": len(" ".join(words[:first])) + bool(first)})
      if q == 0:
        answers.append({"text": context, "answer_start": 0})
      qas.append({"id": f"q{p}-{q}", "question": " ".join(rng.sample(words, 6)) + "?", "answers": answers})
    data.append({"title": f"t{p}", "paragraphs": [{"context": context, "qas": qas}]})
  path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
  return path


def pairs_file(path: Path, labels, seed: int = 0, count: int = 24) -> Path:
  """A GLUE-style TSV with header `sentence1 sentence2 label` from the English corpus."""
  rng, lines = random.Random(seed), [" ".join(line.split()) for line in corpus("english") if line.strip()]
  rows = ["sentence1\tsentence2\tlabel"]
  rows += [f"{rng.choice(lines)}\t{rng.choice(lines)}\t{rng.choice(labels)}" for _ in range(count)]
  path.write_text("\n".join(rows) + "\n", encoding="utf-8")
  return path
