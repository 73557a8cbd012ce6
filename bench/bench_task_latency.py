"""Batch-1 latency at sequence 384 of the task SavedModel `finetune` writes, beside a Model Garden-style export.

    .venv/bin/python -m bench.bench_task_latency [--work_dir DIR] [--calls 30] [--warmup 3] [--rounds 3]

Reads the SQuAD run `bench.bench_finetune` leaves in --work_dir (its task SavedModel, its run folder's last
training checkpoint, its data). Ours: the task SavedModel through `tf.saved_model.load`, called as a user calls
it: `serving_default` (a question and a context of the training data as strings, tokenized in the graph) and
`serve` (the three int32 inputs). The peer: the same fine-tuned weights exported as Model Garden exports its
`BertSpanLabeler`: a tf_keras functional model (encoder, span head) held by a tf.Module whose `serving_default`
takes int32 `input_word_ids`, `input_mask`, `input_type_ids` [batch, seq] and returns `start_logits` and
`end_logits`, written by `tf.saved_model.save` and loaded back. The id inputs fill the window, no padding.
Each signature: untimed warm-up calls, then `--calls` timed ones, the signatures in turn for `--rounds` rounds;
the median over all. Prints one JSON report, with the largest logit difference between the two exports.
"""

import argparse
import json
import sys
from pathlib import Path

from bench.bench_encoder import encoder_inputs, load_average, summarize, timed_calls
from bench.bench_finetune import CHECKPOINT, DATA, EXPORT, RUN, SEQ_LENGTH
from bench.full_size_checkpoint import DEFAULT_WORK_DIR

PEER_EXPORT = "model_garden_style_export"


def model_garden_style_export(work_dir: Path) -> Path:
  """The fine-tuned network of the run as Model Garden's `QuestionAnswering` serving module saves a span labeler."""
  import tensorflow as tf
  import tf_keras

  from hub_export import signatures as sig
  from hub_export.checkpoint.export_source import resolve_source
  from hub_export.tasks.finetune_job import CHECKPOINTS
  from hub_export.tasks.finetune_model import from_checkpoint
  from hub_export.weight_layout import SPAN_HEAD

  network = from_checkpoint(resolve_source(str(work_dir / CHECKPOINT)), SPAN_HEAD).network
  latest = tf.train.latest_checkpoint(str(work_dir / RUN / CHECKPOINTS))
  if latest is None:
    sys.exit(f"no training checkpoint under {work_dir / RUN / CHECKPOINTS}: run bench.bench_finetune first")
  tf.train.Checkpoint(network=network).restore(latest).expect_partial().assert_existing_objects_matched()
  inputs = {key: tf_keras.Input(shape=(None,), dtype=tf.int32, name=key) for key in sig.ENCODER_INPUT_KEYS}
  labeler = tf_keras.Model(inputs, network.head(network.encoder(inputs)[sig.SEQUENCE_OUTPUT]), name="span_labeler")

  class QuestionAnswering(tf.Module):
    def __init__(self, model):
      super().__init__()
      self.model = model

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name=key) for key in sig.ENCODER_INPUT_KEYS])
    def serve(self, input_word_ids, input_mask, input_type_ids):
      return dict(self.model(dict(zip(sig.ENCODER_INPUT_KEYS, (input_word_ids, input_mask, input_type_ids))),
                             training=False))

  module = QuestionAnswering(labeler)
  out = work_dir / PEER_EXPORT
  tf.saved_model.save(module, str(out), signatures={"serving_default": module.serve})
  return out


def first_question(data: Path) -> tuple:
  paragraph = json.loads(data.read_text())["data"][0]["paragraphs"][0]
  return paragraph["qas"][0]["question"], paragraph["context"]


def run(work_dir: Path, calls: int, warmup: int, rounds: int) -> dict:
  import numpy as np
  import tensorflow as tf
  import tensorflow_text  # noqa: F401 - registers the ops of the task model's in-graph tokenizer

  ours = tf.saved_model.load(str(work_dir / EXPORT))
  peer = tf.saved_model.load(str(model_garden_style_export(work_dir))).signatures["serving_default"]
  question, context = first_question(work_dir / DATA)
  strings = ours.signatures["serving_default"]
  ids = {key: tf.constant(value) for key, value in encoder_inputs(1, SEQ_LENGTH).items()}
  signatures = {
      "ours serving_default (question, context strings)":
          lambda: strings(question=tf.constant([question]), context=tf.constant([context]))["answer"].numpy(),
      "ours serve (int32 ids)": lambda: ours.signatures["serve"](**ids)["start_logits"].numpy(),
      "Model Garden-style serving_default (int32 ids)": lambda: peer(**ids)["start_logits"].numpy(),
  }
  difference = max(float(np.abs((ours.signatures["serve"](**ids)[key] - peer(**ids)[key]).numpy()).max())
                   for key in ("start_logits", "end_logits"))
  times, loads = {name: [] for name in signatures}, [load_average()]
  for _ in range(rounds):
    for name, call in signatures.items():
      times[name] += timed_calls(call, calls, warmup)
    loads.append(load_average())
  return {"batch_size": 1, "seq_length": SEQ_LENGTH, "load_average_1_5_15min": loads,
          "max_logit_difference": difference, "results": {name: summarize(t, 1) for name, t in times.items()}}


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m bench.bench_task_latency", description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=str(DEFAULT_WORK_DIR), help="where bench.bench_finetune ran")
  parser.add_argument("--calls", type=int, default=30, help="timed calls a signature a round")
  parser.add_argument("--warmup", type=int, default=3, help="untimed calls before each round's timed ones")
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args(argv)
  print(json.dumps(run(Path(args.work_dir), args.calls, args.warmup, args.rounds), indent=2))


if __name__ == "__main__":
  main()
