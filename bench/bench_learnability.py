"""Fine-tuning learns: a fresh small MobileBERT fine-tuned with `finetune` on bench/task_sets.py's sets.

    python -m bench.bench_learnability [--work_dir DIR] [--seed 0] [--tasks squad,pairs] [--repeat pairs]

The encoder is initialised as a model trained from scratch is: the model's own initializers
(truncated normal of stddev `initializer_range` 0.02, norms at one and zero) drawn from
`--seed`, written as this project's checkpoint folder (`write_model_folder`) with the English
vocab. Each task is fine-tuned with `python -m hub_export.finetune --ckpt` as a user runs it, at a
rate fit for training from scratch. The untrained figure is that encoder with the head
`finetune` draws from the same seed, scored on the dev set before any step. The `--repeat` tasks
run a second time with the same seed; their metrics must be equal (else exit 1). Prints one JSON
report.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.full_size_checkpoint import DEFAULT_WORK_DIR, ENGLISH_VOCAB
from bench.task_sets import write_sets

# Small enough to learn in CPU minutes. Layer norms, as a network trained from scratch is steadier with them; no
# trigram input and no attention dropout, so a word reads the same in the question and the context from the start;
# heads of 32 so that matching a word is a clear signal.
CONFIG = dict(vocab_size=30522, hidden_size=128, embedding_size=128, trigram_input=False, intra_bottleneck_size=64,
              num_attention_heads=2, intermediate_size=256, num_hidden_layers=2, num_feedforward_networks=1,
              normalization_type="layer_norm", attention_probs_dropout_prob=0.0)
TASKS = {
    "squad": dict(files=("squad_train.json", "squad_dev.json"),
                  flags=["--task", "squad", "--max_seq_length", "96", "--doc_stride", "32", "--epochs", "4",
                         "--learning_rate", "2e-3", "--batch_size", "16"]),
    # Below SQuAD's rate: the pair head left ln 2 sooner and ended higher at 5e-4 than at 1e-3 or 2e-3. 64 tokens hold
    # most pairs; a longer pair is cut in both sentences, whose starts still share their words.
    "pairs": dict(files=("pairs_train.tsv", "pairs_dev.tsv"),
                  flags=["--task", "classification", "--glue_task", "mrpc", "--max_seq_length", "64",
                         "--epochs", "4", "--learning_rate", "5e-4", "--batch_size", "32"]),
}
QUESTIONS_PER_CONTEXT = 40  # every word once in its context, nearly: the question decides the answer
PAIRS_PER_SENTENCE = 4
LOWER_CASE = True


def fresh_checkpoint(folder: Path, seed: int) -> Path:
  """A from-scratch network (encoder and masked-LM head) in this project's checkpoint folder layout."""
  import tf_keras

  from hub_export.checkpoint.model_folder import write_model_folder
  from hub_export.config import MobileBertConfig
  from hub_export.model.mobilebert import MobileBert

  tf_keras.utils.set_random_seed(seed)
  return write_model_folder(MobileBert(MobileBertConfig(**CONFIG)), folder, ENGLISH_VOCAB, LOWER_CASE, "fresh")


def finetune_argv(task: str, sets: Path, checkpoint: Path, out: Path, seed: int) -> list:
  train, dev = (sets / name for name in TASKS[task]["files"])
  return ["-m", "hub_export.finetune", *TASKS[task]["flags"], "--train_file", str(train), "--eval_file", str(dev),
          "--ckpt", str(checkpoint), "--seed", str(seed), "--export_dir", str(out / "export"),
          "--model_dir", str(out / "run"), "--overwrite"]


def untrained(argv: list) -> dict:
  """The dev metrics of the network `finetune` starts from (the fresh encoder, the seed's head), before a step."""
  import tf_keras

  from hub_export.finetune import parse_args
  from hub_export.tasks.finetune_job import build_network, read_data, score_eval, task_config, task_head

  args = parse_args(argv[2:])
  train, evaluation = read_data(args)
  tf_keras.utils.set_random_seed(args.seed)
  built = build_network(args, task_head(args, train))
  return score_eval(args, built, train, evaluation, task_config(args, train, built.lower_case))


def finetune(argv: list, run_dir: Path) -> dict:
  begin = time.perf_counter()
  subprocess.run([sys.executable, *argv], check=True)
  results = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
  return {"eval": results["eval"], "steps": results["steps"], "final_loss": round(results["final_loss"], 4),
          "wall_s": round(time.perf_counter() - begin, 1)}


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m bench.bench_learnability", description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=str(DEFAULT_WORK_DIR / "learnability"))
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated: squad, pairs")
  parser.add_argument("--repeat", default="pairs", help="tasks run twice with the seed, comma-separated ('' for none)")
  args = parser.parse_args(argv)
  work = Path(args.work_dir)
  sets = work / "sets"
  sizes = write_sets(sets, args.seed, QUESTIONS_PER_CONTEXT, PAIRS_PER_SENTENCE)
  report = {"config": CONFIG, "seed": args.seed, "sets": sizes}
  checkpoint = fresh_checkpoint(work / "fresh", args.seed)
  for task in args.tasks.split(","):
    out = work / task
    argv = finetune_argv(task, sets, checkpoint, out, args.seed)
    figures = {"command": "python " + " ".join(argv).replace(str(work), "DIR"), "untrained": untrained(argv),
               "trained": finetune(argv, out / "run")}
    if task in args.repeat.split(","):
      again = finetune(argv, out / "run")
      figures["repeat"] = again
      figures["repeat_equal"] = again["eval"] == figures["trained"]["eval"]
    report[task] = figures
    print(json.dumps({task: figures}), flush=True)
  print(json.dumps(report, indent=2))
  if not all(report[task].get("repeat_equal", True) for task in args.tasks.split(",")):
    sys.exit("a run repeated with the same seed gave other metrics")


if __name__ == "__main__":
  main()
