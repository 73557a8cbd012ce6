"""On-device question answering by precision: the learnability bench's SQuAD model as a float SavedModel and as
float, float16, dynamic-range and int8 .tflite files, each scored with the official SQuAD v1.1 EM/F1.

    python -m bench.bench_qa_precisions [--work_dir DIR] [--task_model DIR] [--seed 0] [--rounds 3] [--calls 20]

Without --task_model, the SQuAD model of `bench.bench_learnability` (a 2-layer MobileBERT trained from scratch,
then `finetune`d on `bench/task_sets.py`'s training set) is fine-tuned first, exactly as that bench does it.
Each .tflite is written by `python -m hub_export.export_tflite --task_model` (int8 calibrated with
`--calibration_squad` on the training set) and every model is scored by `python -m hub_export.evaluate_task` on
the held-out dev set, as a user runs the commands. Every model is scored on the windows the Task Library feeds,
384 tokens: the model was fine-tuned at 96, so its settings are given at 384 through `--assets_from` (a copy of
its task.json and vocab); the SavedModel is also scored at its own 96. Latency: batch 1, the [1, 384] call
the Task Library makes (the first dev window), the SavedModel's `serve` signature and LiteRT's signature runner
(`--threads`), models timed in turn for `--rounds` rounds, the first call of each round not timed; the median
over all. Prints one JSON report.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.bench_encoder import load_average, summarize, timed_calls
from bench.bench_learnability import (PAIRS_PER_SENTENCE, QUESTIONS_PER_CONTEXT, TASKS, fresh_checkpoint, finetune,
                                      finetune_argv)
from bench.bench_tflite import dir_size
from bench.full_size_checkpoint import DEFAULT_WORK_DIR
from bench.task_sets import write_sets

PRECISIONS = ("none", "float16", "dynamic", "int8")
SAVED_MODEL = "float SavedModel"


def _python(*argv) -> str:
  """Runs a module of this checkout as a user runs it; its stdout."""
  done = subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.PIPE, text=True)
  return done.stdout


def assets_at_384(task_model: Path, out: Path) -> Path:
  """A folder whose assets/ describe `task_model` at the Task Library's length, for evaluate_task --assets_from."""
  from hub_export.hub_format.task_model_files import TASK_CONFIG_NAME, read_task_config, write_task_config
  from hub_export.support.filenames import VOCAB_NAME
  from hub_export.tflite.qa_source import TASK_LIBRARY_SEQ_LENGTH

  (out / "assets").mkdir(parents=True, exist_ok=True)
  shutil.copyfile(task_model / "assets" / VOCAB_NAME, out / "assets" / VOCAB_NAME)
  config = {**read_task_config(task_model), "max_seq_length": TASK_LIBRARY_SEQ_LENGTH}
  write_task_config(out / "assets" / TASK_CONFIG_NAME, config)
  return out


def export_all(task_model: Path, train: Path, work: Path) -> tuple:
  files, seconds = {}, {}
  for quantize in PRECISIONS:
    files[quantize] = work / f"qa_{quantize}.tflite"
    begin = time.perf_counter()
    _python("-m", "hub_export.export_tflite", "--task_model", str(task_model), "--out", str(files[quantize]),
            "--quantize", quantize, "--calibration_squad", str(train), "--overwrite")
    seconds[quantize] = round(time.perf_counter() - begin, 1)
  return files, seconds


def score(model: Path, dev: Path, assets: Path = None) -> dict:
  argv = ["-m", "hub_export.evaluate_task", "--task", "squad", "--model", str(model), "--eval_file", str(dev)]
  return json.loads(_python(*argv, *(["--assets_from", str(assets)] if assets else [])).strip().splitlines()[-1])


def latencies(task_model: Path, files: dict, window: dict, threads: int, rounds: int, calls: int) -> dict:
  """{name: summarize(...)} of the [1, 384] call of each model, timed in turn."""
  import tensorflow as tf
  from ai_edge_litert.interpreter import Interpreter

  from hub_export.hub_format.task_model_files import SERVE
  from hub_export.signatures import START_LOGITS

  serve = tf.saved_model.load(str(task_model)).signatures[SERVE]
  tensors = {key: tf.constant(value) for key, value in window.items()}
  calls_by_name = {SAVED_MODEL: lambda: serve(**tensors)[START_LOGITS].numpy()}
  for quantize, path in files.items():
    runner = Interpreter(model_path=str(path), num_threads=threads).get_signature_runner()
    calls_by_name[quantize] = lambda runner=runner: runner(**window)[START_LOGITS]
  times = {name: [] for name in calls_by_name}
  for _ in range(rounds):
    for name, call in calls_by_name.items():
      times[name] += timed_calls(call, calls, warmup=1)
  return {name: summarize(t, 1) for name, t in times.items()}


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m bench.bench_qa_precisions", description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=str(DEFAULT_WORK_DIR / "qa_precisions"))
  parser.add_argument("--task_model", type=Path, help="a SQuAD task SavedModel fine-tuned on the sets of --seed "
                                                      "(default: fine-tune the learnability bench's)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--threads", type=int, default=2, help="LiteRT's num_threads")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--calls", type=int, default=20, help="timed calls a model a round")
  args = parser.parse_args(argv)
  work = Path(args.work_dir)
  sets = work / "sets"
  write_sets(sets, args.seed, QUESTIONS_PER_CONTEXT, PAIRS_PER_SENTENCE)
  train, dev = (sets / name for name in TASKS["squad"]["files"])
  report = {"load_average_1_5_15min": [load_average()], "cpus": os.cpu_count()}
  task_model = args.task_model
  if task_model is None:
    ft_argv = finetune_argv("squad", sets, fresh_checkpoint(work / "fresh", args.seed), work / "squad", args.seed)
    report["finetune"] = finetune(ft_argv, work / "squad" / "run")
    task_model = work / "squad" / "export"
    report["load_average_1_5_15min"].append(load_average())
  files, report["export_s"] = export_all(task_model, train, work)
  report["load_average_1_5_15min"].append(load_average())
  assets = assets_at_384(task_model, work / "assets_384")
  report["scores"] = {f"{SAVED_MODEL} at its max_seq_length": score(task_model, dev),
                      SAVED_MODEL: score(task_model, dev, assets),
                      **{quantize: score(path, dev, assets) for quantize, path in files.items()}}
  report["load_average_1_5_15min"].append(load_average())
  from hub_export.tasks.task_library_inputs import qa_windows

  window = qa_windows(task_model, dev, None, 1)[0]
  report["latency_1x384"] = latencies(task_model, files, window, args.threads, args.rounds, args.calls)
  report["load_average_1_5_15min"].append(load_average())
  report["bytes"] = {SAVED_MODEL: dir_size(task_model), **{q: path.stat().st_size for q, path in files.items()}}
  report["int8_f1_loss"] = round(report["scores"]["none"]["f1"] - report["scores"]["int8"]["f1"], 2)
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  main()
