"""Peak RSS of `distill` against the size of its data: the records stream, so ten times the records should not
raise it.

    .venv/bin/python -m bench.bench_distill_rss --vocab VOCAB --work DIR [--copies 2] [--scale 10]
        [--steps_per_stage 5] [--distill_steps 20]

Writes two pre-training data folders (sequence 64, 10 predictions, 4 shards, as bench_distill) from the offline
English corpus's train.txt copied --copies times (1x) and --copies x --scale times (10x). Then, each in its own
process, with bench_distill's teacher and student configs: the teacher pre-trained (`distill --teacher_only`) on
each folder, and the student distilled from the first teacher on each folder, the same steps every time. Peak RSS
from `os.wait4` (bench_export.run_child). Prints, and writes DIR/bench_distill_rss.json.
"""

import argparse
import json
import sys
from pathlib import Path

from bench.bench_distill import MAX_PREDICTIONS, SEQ_LENGTH, STUDENT, TEACHER
from bench.bench_export import run_child


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--vocab", required=True, help="uncased English WordPiece vocab.txt")
  parser.add_argument("--work", required=True, help="folder for the text, the records, the runs and the results")
  parser.add_argument("--copies", type=int, default=2, help="copies of train.txt in the 1x text")
  parser.add_argument("--scale", type=int, default=10, help="how many times the 1x text the large text holds")
  parser.add_argument("--steps_per_stage", type=int, default=5)
  parser.add_argument("--distill_steps", type=int, default=20)
  return parser.parse_args(argv)


def write_data(vocab: str, work: Path, text: str, name: str, copies: int) -> dict:
  """The records, written by the command in a child process: a child's peak RSS as `wait4` reports it includes
  what its parent held when it forked, so this process must stay small for the distill runs' figures to be theirs
  (it once built the records itself, and at 10x of a larger text every run then reported the builder's 2 GB)."""
  from hub_export.distillation.records import METADATA_NAME

  source = work / f"{name}.txt"
  source.write_text("\n".join([text] * copies), encoding="utf-8")
  run_child([sys.executable, "-m", "hub_export.pretraining_data", "--vocab", vocab, "--input", str(source), "--out",
             str(work / name), "--seq_length", str(SEQ_LENGTH), "--max_predictions", str(MAX_PREDICTIONS),
             "--num_shards", "4", "--seed", "1", "--lower_case", "true", "--overwrite"])
  metadata = json.loads((work / name / METADATA_NAME).read_text(encoding="utf-8"))
  size = sum(p.stat().st_size for p in (work / name).iterdir())
  return {"text_bytes": source.stat().st_size, "examples": metadata["examples"], "record_bytes": size}


def main(argv=None):
  args = parse_args(argv)
  work = Path(args.work)
  from hub_export.distillation.corpus import TRAIN_NAME, write_corpus

  work.mkdir(parents=True, exist_ok=True)
  text = Path(write_corpus(work / "offline")[TRAIN_NAME]["path"]).read_text(encoding="utf-8")
  data = {"1x": write_data(args.vocab, work, text, "data_1x", args.copies),
          f"{args.scale}x": write_data(args.vocab, work, text, f"data_{args.scale}x", args.copies * args.scale)}
  vocab_size = sum(1 for _ in open(args.vocab, encoding="utf-8"))
  configs = {}
  for name, values in (("teacher", TEACHER), ("student", STUDENT)):
    configs[name] = work / f"{name}_config.json"
    configs[name].write_text(json.dumps({**values, "vocab_size": vocab_size}), encoding="utf-8")
  common = ["--batch_size", "32", "--checkpoint_every", "100000", "--overwrite"]
  teacher_steps = STUDENT["num_hidden_layers"] * args.steps_per_stage + args.distill_steps
  runs = []
  for size in data:
    runs.append({"run": "teacher_only", "data": size, **run_child(
        [sys.executable, "-m", "hub_export.distill", "--teacher_only", "--teacher_config", str(configs["teacher"]),
         "--vocab", args.vocab, "--data", str(work / f"data_{size}"), "--out", str(work / f"teacher_{size}"),
         "--distill_steps", str(teacher_steps), *common])})
  for size in data:
    runs.append({"run": "distill", "data": size, **run_child(
        [sys.executable, "-m", "hub_export.distill", "--teacher_config", str(configs["teacher"]), "--teacher_ckpt",
         str(work / "teacher_1x" / "teacher"), "--student_config", str(configs["student"]), "--data",
         str(work / f"data_{size}"), "--out", str(work / f"distill_{size}"), "--steps_per_stage",
         str(args.steps_per_stage), "--distill_steps", str(args.distill_steps), *common])})
  for run in runs:
    run.pop("output")
    run["wall_s"], run["peak_rss_mb"] = round(run["wall_s"], 1), round(run["peak_rss_mb"])
    print(json.dumps(run), flush=True)
  result = {"data": data, "teacher_steps": teacher_steps, "runs": runs}
  (work / "bench_distill_rss.json").write_text(json.dumps(result, indent=2) + "\n")
  print(json.dumps(data))


if __name__ == "__main__":
  main()
