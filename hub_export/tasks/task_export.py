"""The task SavedModel of the task-model contract (docs/tasks.md).

- `serve`: the three int32 encoder inputs [batch, seq] -> `start_logits`, `end_logits` (SQuAD) or
  `logits` (classification); what `evaluate_task` windows and decodes long contexts with.
- `serving_default`: raw strings, one window. SQuAD: `question`, `context` -> the logits, the best
  span's text `answer` and `truncated` (the context did not fit). Classification: `text` (or
  `text_a`, `text_b`) -> `logits`, `probabilities` and `label`.
- `__call__` (the reusable SavedModel API), so `hub.KerasLayer(DIR)` returns what `serve` returns.
- `assets/vocab.txt` and `assets/task.json` (`task_model_files`).

Strings are tokenized and packed in the graph as the preprocessor export does it, for the model's own vocab
and casing (`.tokenize` is the preprocessor's).
"""

import shutil
from pathlib import Path

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.savedmodel import reproducible
from hub_export.savedmodel.encoder_object import reusable_object
from hub_export.hub_format.task_model_files import SERVE, SQUAD, TASK_CONFIG_NAME, write_task_config
from hub_export.tokenization.packing import pack_segments
from hub_export.tokenization.bert_tokenizer import BertTokenizer
from hub_export.tokenization.preprocessor_module import Tokenize, special_tokens
from hub_export.tokenization.vocab import CLS, PAD, SEP, load_vocab
from hub_export.support.save_tracing import tracing_for_save

ANSWER, TRUNCATED, PROBABILITIES, LABEL = "answer", "truncated", "probabilities", "label"
QUESTION, CONTEXT, TEXT, TEXT_A, TEXT_B = "question", "context", "text", "text_a", "text_b"


def _strings(name: str) -> tf.TensorSpec:
  return tf.TensorSpec([None], tf.string, name=name)


def _pack(segments, seq_length: int, vocab) -> dict:
  ids = vocab.special_ids()
  return pack_segments(segments, seq_length, ids[CLS], ids[SEP], ids[PAD])


def _squad_serving(call, tokenize, vocab, config: dict):
  """One window a question: the question cut to max_query_length wordpieces, the context to what is left."""
  seq, max_answer = config["max_seq_length"], config["max_answer_length"]
  tokens = tf.constant(vocab.tokens)

  @tf.function(input_signature=[_strings(QUESTION), _strings(CONTEXT)], autograph=False)
  def answer(question, context):
    query = tokenize(question).merge_dims(1, 2)[:, :config["max_query_length"]]
    pieces = tokenize(context).merge_dims(1, 2)
    room = seq - 3 - query.row_lengths()
    kept = tf.ragged.boolean_mask(pieces, tf.ragged.range(pieces.row_lengths()) < tf.expand_dims(room, 1))
    inputs = _pack([query, kept], seq, vocab)
    logits = call(inputs, training=False)
    start, end = logits[sig.START_LOGITS], logits[sig.END_LOGITS]
    first = query.row_lengths() + 2  # after [CLS] question [SEP]
    position = tf.range(seq, dtype=tf.int64)
    in_context = (position >= first[:, None]) & (position < (first + kept.row_lengths())[:, None])
    length = position[None, :] - position[:, None]  # [start, end]: end - start
    allowed = in_context[:, :, None] & in_context[:, None, :] & (length >= 0) & (length < max_answer)
    scores = tf.reshape(tf.where(allowed, start[:, :, None] + end[:, None, :], float("-inf")), [-1, seq * seq])
    best, best_score = tf.argmax(scores, axis=1), tf.reduce_max(scores, axis=1)
    span = tf.gather(inputs[sig.INPUT_WORD_IDS], tf.ragged.range(best // seq, best % seq + 1), batch_dims=1)
    text = tf.strings.regex_replace(tf.strings.reduce_join(tf.gather(tokens, span), axis=1, separator=" "), " ##", "")
    empty = tf.math.is_inf(best_score)  # no context wordpiece in the window
    if config["version_2_with_negative"]:
      empty |= start[:, 0] + end[:, 0] - best_score > config["null_score_diff_threshold"]
    return {sig.START_LOGITS: start, sig.END_LOGITS: end, ANSWER: tf.where(empty, "", text),
            TRUNCATED: pieces.row_lengths() > room}

  return answer


def _classification_serving(call, tokenize, vocab, config: dict):
  """A text or a pair packed as the preprocessor packs it (round-robin truncation)."""
  labels = tf.constant(config["labels"] or [""])

  def classify(*texts):
    inputs = _pack([tokenize(text) for text in texts], config["max_seq_length"], vocab)
    logits = call(inputs, training=False)[sig.LOGITS]
    if config["regression"]:
      return {sig.LOGITS: logits, PROBABILITIES: logits, LABEL: tf.strings.as_string(logits[:, 0])}
    return {sig.LOGITS: logits, PROBABILITIES: tf.nn.softmax(logits), LABEL: tf.gather(labels, tf.argmax(logits, -1))}

  names = (TEXT_A, TEXT_B) if config["pair"] else (TEXT,)
  return tf.function(classify, input_signature=[_strings(name) for name in names], autograph=False)


def build_task_object(network, config: dict, staging: Path) -> tf.train.Checkpoint:
  """The object the task SavedModel saves; its assets are staged in `staging` (as vocab.txt and task.json)."""
  write_task_config(staging / TASK_CONFIG_NAME, config)
  vocab = load_vocab(staging / "vocab.txt")

  @tf.function(autograph=False)
  def call(inputs, training=False):
    return network(inputs, training=training)

  @tf.function(input_signature=[sig.encoder_input_spec(named=True)], autograph=False)
  def serve(inputs):
    return call(inputs, training=False)

  root = reusable_object(call, sig.encoder_input_spec(), network.weights(), network.trained_weights())
  root.serve = serve
  root.tokenize = Tokenize(BertTokenizer(vocab, config["lower_case"]), special_tokens(vocab),
                           tf.saved_model.Asset(str(vocab.path)))
  root.vocab_file = root.tokenize.vocab_file
  root.task_config = tf.saved_model.Asset(str(staging / TASK_CONFIG_NAME))
  serving = _squad_serving if config["task"] == SQUAD else _classification_serving
  root.serving_default = serving(call, root.tokenize, vocab, config)
  return root


def save_task_model(network, config: dict, vocab_path, export_dir: Path, staging: Path) -> None:
  """Writes the task SavedModel into the (empty, temporary) `export_dir`."""
  shutil.copyfile(vocab_path, staging / "vocab.txt")
  with tracing_for_save():
    root = build_task_object(network, config, staging)
  reproducible.save(root, export_dir, signatures={SERVE: root.serve, "serving_default": root.serving_default})
