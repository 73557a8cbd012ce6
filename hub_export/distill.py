"""Trains a MobileBERT student from an IB-BERT teacher by progressive knowledge transfer.

    python -m hub_export.distill --teacher_config FILE --teacher_ckpt PATH --student_config FILE
        --data DIR --out DIR [--schedule model_garden|original] [--strategy default|mirrored|multi_worker]
        [--steps_per_stage N] [--distill_steps N] [--batch_size N] [...every rate and factor...]

With `--teacher_only`, instead pre-trains the --teacher_config network from scratch (masked
LM + next sentence) into `--out/teacher/`, a `--teacher_ckpt` for a later run (no teacher
checkpoint was released).

One stage per block (feature-map and attention transfer at that block), then pre-training
distillation (masked LM against mixed teacher targets, plus next sentence). The teacher
never changes. `--out` holds checkpoints (rerunning the command resumes from the latest),
`losses.jsonl`, TensorBoard summaries in `train/`, and at the end `student/`: the student in
this project's own checkpoint layout with its bert_config.json, vocab.txt and the casing the data was tokenized with
(vocab_casing.json), a valid `--ckpt` for export_encoder. The teacher config's absent keys
take the original code's IB-BERT defaults.
"""

import argparse
import sys

from hub_export.distillation.options import SCHEDULES, SHARD_POLICIES, LayerFactors, TrainOptions
from hub_export.distillation.run import STRATEGIES
from hub_export.support import cli


def parse_args(argv):
  defaults, factors = TrainOptions(), LayerFactors()
  parser = argparse.ArgumentParser(prog="python -m hub_export.distill", description=__doc__.split("\n")[0])
  parser.add_argument("--teacher_config", required=True, help="the teacher's bert_config.json (IB-BERT defaults)")
  parser.add_argument("--teacher_ckpt", help="teacher checkpoint prefix or directory (any layout)")
  parser.add_argument("--student_config", help="the student's bert_config.json")
  parser.add_argument("--teacher_only", action="store_true",
                      help="pre-train the teacher config from scratch (needs --vocab; no --teacher_ckpt, --student_config)")
  parser.add_argument("--data", required=True, help="folder written by python -m hub_export.pretraining_data")
  parser.add_argument("--out", required=True, help="run folder: checkpoints, losses.jsonl, student/")
  parser.add_argument("--vocab", help="vocab.txt to put beside the student (default: the one beside the teacher)")
  parser.add_argument("--schedule", choices=SCHEDULES, default=defaults.schedule)
  parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                      help="mirrored: all local devices; multi_worker: the cluster in TF_CONFIG")
  parser.add_argument("--shard_policy", choices=SHARD_POLICIES, default=defaults.shard_policy,
                      help="multi_worker: file: each worker reads its own shards; data: every worker reads all "
                           "(the one-device run's batches)")
  parser.add_argument("--shuffle_buffer", type=int, default=defaults.shuffle_buffer,
                      help="records shuffled together in memory (0 or 1: file order)")
  parser.add_argument("--transfer_teacher_layers", type=int, nargs="+",
                      help="the teacher block (from 0) each student block learns from, one a student block "
                           "(default: the block at its depth)")
  parser.add_argument("--cpu_devices", type=int, default=0,
                      help="split the CPU into this many logical devices first (to run mirrored on a CPU)")
  parser.add_argument("--steps_per_stage", type=int, default=defaults.steps_per_stage, help="steps of each layer stage")
  parser.add_argument("--distill_steps", type=int, default=defaults.distill_steps)
  parser.add_argument("--batch_size", type=int, default=defaults.batch_size, help="global batch size")
  parser.add_argument("--layer_learning_rate", type=float, default=defaults.layer_learning_rate,
                      help="constant rate of the layer stages")
  parser.add_argument("--learning_rate", type=float, default=defaults.learning_rate, help="distillation peak rate")
  parser.add_argument("--end_learning_rate", type=float, default=defaults.end_learning_rate)
  parser.add_argument("--warmup_steps", type=int, default=defaults.warmup_steps)
  parser.add_argument("--weight_decay", type=float, default=defaults.weight_decay)
  parser.add_argument("--clip_norm", type=float, default=defaults.clip_norm, help="global gradient norm clip")
  parser.add_argument("--hidden_distill_factor", type=float, default=factors.feature_map)
  parser.add_argument("--beta_distill_factor", type=float, default=factors.mean, help="per-token mean term")
  parser.add_argument("--gamma_distill_factor", type=float, default=factors.variance, help="per-token variance term")
  parser.add_argument("--attention_distill_factor", type=float, default=factors.attention)
  parser.add_argument("--distill_ground_truth_ratio", type=float, default=defaults.ground_truth_ratio,
                      help="weight of the one-hot target against the teacher's distribution")
  parser.add_argument("--mixed_precision", action="store_true",
                      help="compute in bfloat16, keep float32 variables (Keras' mixed_bfloat16 policy)")
  parser.add_argument("--jit_compile", action="store_true",
                      help="compile each stage's train step with XLA (on one replica)")
  parser.add_argument("--checkpoint_every", type=int, default=defaults.checkpoint_every)
  parser.add_argument("--seed", type=int, default=defaults.seed, help="seeds the student's initial values and the "
                      "data order")
  parser.add_argument("--overwrite", action="store_true", help="discard a finished or foreign --out folder")
  args = parser.parse_args(argv)
  if args.teacher_only:
    if args.teacher_ckpt or args.student_config or args.transfer_teacher_layers or not args.vocab:
      parser.error("--teacher_only takes --vocab and no --teacher_ckpt, --student_config or --transfer_teacher_layers")
  elif not (args.teacher_ckpt and args.student_config):
    parser.error("--teacher_ckpt and --student_config are required (or pass --teacher_only)")
  for name in ("steps_per_stage", "distill_steps", "warmup_steps", "cpu_devices", "shuffle_buffer"):
    if getattr(args, name) < 0:
      parser.error(f"--{name} must not be negative")
  for name in ("batch_size", "checkpoint_every"):
    if getattr(args, name) < 1:
      parser.error(f"--{name} must be at least 1")
  return args


def _main(argv):
  from hub_export.distillation.run import distill

  distill(parse_args(argv))


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
