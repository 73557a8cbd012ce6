"""Does knowledge transfer help? A distilled student against the same student trained from scratch.

    .venv/bin/python -m bench.bench_distill --vocab VOCAB.txt --work DIR [--svg FILE]
        [--teacher_steps 600] [--steps_per_stage 50] [--distill_steps 200] [--step_scale 1] [--batch_size 32]
        [--schedules original,model_garden]

On the offline English corpus (`hub_export.distillation.corpus`: the Python reference's
topic texts, held-out topics apart): writes train and held-out pre-training records, pre-trains a
small IB-BERT-shaped teacher (`distill --teacher_only`), distills a small MobileBERT-shaped
student from it under each schedule asked for (a stage a block, then distillation), and
trains the same student config from scratch for the same number of steps on the same
batches (`--teacher_only` with the student's full config). Prints, and writes to
DIR/bench_distill.json: each layer stage's transfer loss at its start and end, the held-out
masked-LM accuracy of teacher, distilled and scratch students and of always predicting the
most frequent training token, and timings; with --svg, the loss curves as an SVG drawn here.
Every run compiles its train steps with XLA (`distill --jit_compile`). `--step_scale 0.5` halves
every step count.
"""

import argparse
import json
import math
import time
from pathlib import Path

SEQ_LENGTH, MAX_PREDICTIONS = 64, 10
COMMON = {"hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4, "embedding_size": 32,
          "trigram_input": True, "use_bottleneck": True, "max_position_embeddings": SEQ_LENGTH,
          "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
# IB-BERT and MobileBERT at one eighth of their widths (1024/512/4096 and 128/512, 4 FFNs).
TEACHER = {**COMMON, "intermediate_size": 512, "intra_bottleneck_size": 128, "hidden_act": "gelu",
           "normalization_type": "layer_norm", "key_query_shared_bottleneck": False, "num_feedforward_networks": 1}
STUDENT = {**COMMON, "intermediate_size": 64, "intra_bottleneck_size": 16, "hidden_act": "relu",
           "normalization_type": "no_norm", "key_query_shared_bottleneck": True, "num_feedforward_networks": 4}
WINDOW = 5  # steps averaged at each end of a stage


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--vocab", required=True, help="uncased English WordPiece vocab.txt")
  parser.add_argument("--work", required=True, help="folder for corpus, data, runs and the results JSON")
  parser.add_argument("--svg", help="write the curves here")
  parser.add_argument("--teacher_steps", type=int, default=600)
  parser.add_argument("--steps_per_stage", type=int, default=50)
  parser.add_argument("--distill_steps", type=int, default=200)
  parser.add_argument("--step_scale", type=float, default=1.0, help="multiplies every step count above")
  parser.add_argument("--batch_size", type=int, default=32)
  parser.add_argument("--teacher_learning_rate", type=float, default=1e-2,
                      help="the teacher's (peak) rate: at 5e-3 it took over 400 steps to clear the floor")
  parser.add_argument("--learning_rate", type=float, default=5e-3, help="the students' (peak) rates")
  parser.add_argument("--schedules", default="original",
                      help="comma-separated transfer schedules, one distilled student each (model_garden: "
                           "transfers at these lengths, not at half of them)")
  return parser.parse_args(argv)


def _train(argv) -> float:
  from hub_export.distill import parse_args as distill_args
  from hub_export.distillation.run import distill

  start = time.perf_counter()
  distill(distill_args(argv))
  return time.perf_counter() - start


def _losses(run: Path) -> list:
  return [json.loads(line) for line in (run / "losses.jsonl").read_text().splitlines()]


def stage_ends(records: list, num_layers: int) -> list:
  """Each layer stage's transfer loss: first and last step, and the mean of WINDOW steps at each end."""
  ends = []
  for stage in range(num_layers):
    losses = [r["loss"] for r in records if r["stage"] == stage]
    ends.append({"stage": stage, "first": losses[0], "last": losses[-1],
                 "start_mean": sum(losses[:WINDOW]) / WINDOW, "end_mean": sum(losses[-WINDOW:]) / WINDOW})
  return ends


def most_frequent_token_accuracy(train: Path, held_out: Path) -> dict:
  """The floor a masked LM has to clear: always predict the training data's most frequent masked token."""
  import numpy as np
  from hub_export.distillation import records

  train_examples, held = records.load_examples(train), records.load_examples(held_out)
  counts = np.bincount(train_examples["masked_lm_ids"].ravel(), weights=train_examples["masked_lm_weights"].ravel())
  token, weights = int(np.argmax(counts)), held["masked_lm_weights"]
  return {"accuracy": float(np.sum((held["masked_lm_ids"] == token) * weights) / np.sum(weights)),
          "predictions": float(np.sum(weights)), "token_id": token}


def transfer_margins(accuracy: dict, schedules: list) -> dict:
  """Each distilled student against the scratch student (difference) and the teacher (ratio)."""
  scratch, teacher = accuracy["scratch"]["accuracy"], accuracy["teacher"]["accuracy"]
  return {schedule: {"over_scratch": accuracy[f"distilled ({schedule})"]["accuracy"] - scratch,
                     "of_teacher": accuracy[f"distilled ({schedule})"]["accuracy"] / teacher}
          for schedule in schedules}


def _polyline(points, x_range, y_range, box, color, dash) -> str:
  (x0, x1), (y0, y1), (left, top, width, height) = x_range, y_range, box
  xy = [(left + (x - x0) / (x1 - x0) * width, top + height - (y - y0) / (y1 - y0) * height) for x, y in points]
  dashes = ' stroke-dasharray="5,3"' if dash else ""
  return (f'<polyline fill="none" stroke="{color}" stroke-width="1.2"{dashes} points="'
          + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')


def _panel(title, series, box, log_y, y_label) -> list:
  """An axis box with its series [(label, color, dashed, [(x, y)])]: lines, ticks and a legend."""
  left, top, width, height = box
  transform = (lambda v: math.log10(v)) if log_y else (lambda v: v)
  xs = [x for *_, points in series for x, _ in points]
  ys = [transform(y) for *_, points in series for _, y in points]
  x_range, y_range = (min(xs), max(xs)), (min(ys), max(ys) + 1e-9)
  parts = [f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#444"/>',
           f'<text x="{left}" y="{top - 8}" font-size="13">{title}</text>',
           f'<text x="{left + width / 2}" y="{top + height + 32}" font-size="11" text-anchor="middle">global step</text>',
           f'<text x="{left - 44}" y="{top + height / 2}" font-size="11" transform="rotate(-90 {left - 44} '
           f'{top + height / 2})" text-anchor="middle">{y_label}</text>']
  for i in range(5):
    x = x_range[0] + (x_range[1] - x_range[0]) * i / 4
    y = y_range[0] + (y_range[1] - y_range[0]) * i / 4
    px, py = left + width * i / 4, top + height - height * i / 4
    label = f"{10 ** y:.3g}" if log_y else f"{y:.3g}"
    parts += [f'<text x="{px}" y="{top + height + 16}" font-size="10" text-anchor="middle">{x:.0f}</text>',
              f'<text x="{left - 4}" y="{py + 3}" font-size="10" text-anchor="end">{label}</text>']
  for index, (label, color, dash, points) in enumerate(series):
    parts.append(_polyline([(x, transform(y)) for x, y in points], x_range, y_range, box, color, dash))
    parts.append(f'<text x="{left + width - 6}" y="{top + 16 + 14 * index}" font-size="11" fill="{color}" '
                 f'text-anchor="end">{label}</text>')
  return parts


def write_svg(path: Path, distilled: dict, scratch: list, num_layers: int, accuracy: dict) -> None:
  """`distilled`: {schedule: loss records}; the first schedule's lines are solid, the others dashed."""
  colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
  stages = [(f"{name} layer stage {s}", colors[s % len(colors)], index > 0,
             [(r["step"], r["loss"]) for r in records if r["stage"] == s])
            for index, (name, records) in enumerate(distilled.items()) for s in range(num_layers)]
  mlm = [("scratch student: masked LM (one-hot)", "#d62728", False, [(r["step"], r["masked_lm"]) for r in scratch])]
  mlm += [(f"distilled, {name}: masked LM (mixed targets)", "#1f77b4", index > 0,
           [(r["step"], r["masked_lm"]) for r in records if r["stage"] == num_layers])
          for index, (name, records) in enumerate(distilled.items())]
  captions = ["held-out masked-LM accuracy:"] + [f"{k} {v:.4f}" for k, v in accuracy.items()]
  body = (_panel("Layer stages: transfer loss (log scale)", stages, (70, 40, 560, 260), True, "loss")
          + _panel("Masked-LM loss on the training batches", mlm, (70, 380, 560, 260), False, "loss")
          + [f'<text x="70" y="{700 + 15 * i}" font-size="12">{line}</text>' for i, line in enumerate(captions)])
  height = 720 + 15 * len(captions)
  path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="680" height="{height}" font-family="sans-serif">\n'
                  '<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n", encoding="utf-8")


def main(argv=None):
  args = parse_args(argv)
  started = time.perf_counter()
  for name in ("teacher_steps", "steps_per_stage", "distill_steps"):
    setattr(args, name, max(1, round(getattr(args, name) * args.step_scale)))
  from hub_export.distillation import corpus
  from hub_export.distillation.evaluation import evaluate_checkpoint
  from hub_export.pretraining_data import write_pretraining_data

  work = Path(args.work)
  text = corpus.write_corpus(work / "corpus")
  data, held_out = work / "data", work / "held_out"
  for folder, name, seed in ((data, corpus.TRAIN_NAME, 1), (held_out, corpus.HELD_OUT_NAME, 2)):
    write_pretraining_data(args.vocab, [work / "corpus" / name], folder, seq_length=SEQ_LENGTH,
                           max_predictions=MAX_PREDICTIONS, dupe_factor=5, seed=seed, lower_case=True, overwrite=True)
  vocab_size = sum(1 for _ in open(args.vocab, encoding="utf-8"))
  configs = {}
  for name, values in (("teacher", TEACHER), ("student", STUDENT)):
    configs[name] = work / f"{name}_config.json"
    configs[name].write_text(json.dumps({**values, "vocab_size": vocab_size}), encoding="utf-8")

  common = ["--batch_size", str(args.batch_size), "--checkpoint_every", "100000", "--overwrite", "--jit_compile"]
  lr = ["--learning_rate", str(args.learning_rate), "--layer_learning_rate", str(args.learning_rate), *common]
  teacher_lr = ["--learning_rate", str(args.teacher_learning_rate), *common]
  student_steps = STUDENT["num_hidden_layers"] * args.steps_per_stage + args.distill_steps
  seconds = {}
  seconds["teacher"] = _train(["--teacher_only", "--teacher_config", str(configs["teacher"]), "--vocab", args.vocab,
                               "--data", str(data), "--out", str(work / "teacher_run"), "--distill_steps",
                               str(args.teacher_steps), "--warmup_steps", str(args.teacher_steps // 10), *teacher_lr])
  schedules = args.schedules.split(",")
  for schedule in schedules:
    seconds[f"distilled ({schedule})"] = _train(
        ["--teacher_config", str(configs["teacher"]), "--teacher_ckpt", str(work / "teacher_run" / "teacher"),
         "--student_config", str(configs["student"]), "--data", str(data), "--out", str(work / f"distill_{schedule}"),
         "--steps_per_stage", str(args.steps_per_stage), "--distill_steps", str(args.distill_steps),
         "--warmup_steps", str(args.distill_steps // 10), "--schedule", schedule, *lr])
  seconds["scratch"] = _train(["--teacher_only", "--teacher_config", str(configs["student"]), "--vocab", args.vocab,
                               "--data", str(data), "--out", str(work / "scratch_run"), "--distill_steps",
                               str(student_steps), "--warmup_steps", str(student_steps // 10), *lr])

  accuracy = {"teacher": evaluate_checkpoint(work / "teacher_run" / "teacher", held_out)}
  for schedule in schedules:
    accuracy[f"distilled ({schedule})"] = evaluate_checkpoint(work / f"distill_{schedule}" / "student", held_out)
  accuracy["scratch"] = evaluate_checkpoint(work / "scratch_run" / "teacher", held_out)
  accuracy["most frequent token"] = most_frequent_token_accuracy(data, held_out)
  seconds["total"] = time.perf_counter() - started
  distilled = {schedule: _losses(work / f"distill_{schedule}") for schedule in schedules}
  scratch = _losses(work / "scratch_run")
  results = {
      "corpus": text, "student_steps": student_steps, "teacher_steps": args.teacher_steps,
      "step_scale": args.step_scale, "transfer": transfer_margins(accuracy, schedules),
      "batch_size": args.batch_size, "learning_rate": args.learning_rate,
      "teacher_learning_rate": args.teacher_learning_rate, "schedules": schedules,
      "seq_length": SEQ_LENGTH,
      "train_examples": json.loads((data / "pretraining_data.json").read_text())["examples"],
      "held_out_examples": json.loads((held_out / "pretraining_data.json").read_text())["examples"],
      "layer_stages": {name: stage_ends(records, STUDENT["num_hidden_layers"]) for name, records in distilled.items()},
      "held_out_accuracy": accuracy, "train_seconds": seconds,
      "final_train_masked_lm": {**{f"distilled ({name}, mixed targets)": records[-1]["masked_lm"]
                                   for name, records in distilled.items()}, "scratch": scratch[-1]["masked_lm"]},
  }
  (work / "bench_distill.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
  print(json.dumps(results, indent=2))
  if args.svg:
    write_svg(Path(args.svg), distilled, scratch, STUDENT["num_hidden_layers"],
              {k: v["accuracy"] for k, v in accuracy.items()})


if __name__ == "__main__":
  main()
