"""Encoder speed: batch-1 latency and batch-32 throughput of a loaded export, beside HF PyTorch.

    .venv/bin/python -m bench.bench_encoder [--export_dir DIR ...] [--work_dir DIR]
        [--rounds 3] [--seq_length 128] [--torch_python PATH]

Without --export_dir it benchmarks this checkout's export of a full-size English OPT
checkpoint with random weights (written under --work_dir on first use, then reused; pass
--fresh to export again after changing the model). The export is loaded with
`tf.saved_model.load` and called through `__call__(inputs, training=False)`, the way
`hub.KerasLayer` calls it, at sequence length 128 (--seq_length) with no padding. Repeat --export_dir to
compare several exports (e.g. before and after a model change, or the reference export
that `bench/make_reference_export.py` builds with Model Garden) in one run.

The peer figure is HF transformers' PyTorch `MobileBertModel` (default config = the OPT
English model, random weights, eval mode, `torch.inference_mode`, 2 threads) run in a
subprocess of a Python that has torch and transformers (--torch_python, else the first of
$BENCH_TORCH_PYTHON and the repository's .hfvenv that exists); skipped with a note when
none is found. TF and torch are measured in alternating rounds so that load from other
processes on the machine falls on both alike; each figure is the median over all rounds,
with the best call and the median process CPU time per call beside it (on a shared machine
the CPU time is the steadier figure for comparing two versions of the model). The load
average is printed before and after each round.
TensorFlow's thread pools are left at their defaults, as a SavedModel consumer gets them.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.full_size_checkpoint import DEFAULT_WORK_DIR

DEFAULT_SEQ_LENGTH = 128
# name -> (batch, timed calls per round, untimed warm-up calls per round)
SHAPES = {"latency": (1, 40, 3), "throughput": (32, 2, 1)}
TORCH_PYTHONS = (str(Path(__file__).resolve().parents[1] / ".hfvenv" / "bin" / "python"),)

# Runs in the torch Python: reads "BATCH LENGTH CALLS WARMUP" lines, answers with a JSON list of
# [wall seconds, process CPU seconds] per timed call.
_TORCH_WORKER = r"""
import json, sys, time
import torch
from transformers import MobileBertConfig, MobileBertModel
torch.set_num_threads(2)
torch.manual_seed(0)
model = MobileBertModel(MobileBertConfig()).eval()
print("ready " + torch.__version__, flush=True)
for line in sys.stdin:
    batch, length, calls, warmup = (int(x) for x in line.split())
    ids = torch.randint(0, 30522, (batch, length))
    args = dict(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids))
    times = []
    with torch.inference_mode():
        for i in range(warmup + calls):
            start, cpu = time.perf_counter(), time.process_time()
            model(**args)
            if i >= warmup:
                times.append([time.perf_counter() - start, time.process_time() - cpu])
    print(json.dumps(times), flush=True)
"""


def encoder_inputs(batch: int, length: int, vocab_size: int = 30522, seed: int = 0) -> dict:
  rng = np.random.default_rng(seed)
  ids = rng.integers(1000, vocab_size, [batch, length]).astype(np.int32)
  types = np.zeros_like(ids)
  types[:, length // 2:] = 1
  return {"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": types}


def load_average() -> str:
  return " ".join(f"{x:.2f}" for x in os.getloadavg())


class TorchPeer:
  """A persistent HF PyTorch subprocess, so each round costs no model build."""

  def __init__(self, python: str):
    self.proc = subprocess.Popen([python, "-c", _TORCH_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
    ready = self.proc.stdout.readline().split()
    if not ready or ready[0] != "ready":
      raise RuntimeError(f"torch worker in {python} did not start")
    self.version = ready[1]

  def time_calls(self, batch: int, length: int, calls: int, warmup: int) -> list:
    self.proc.stdin.write(f"{batch} {length} {calls} {warmup}\n")
    self.proc.stdin.flush()
    return json.loads(self.proc.stdout.readline())

  def close(self):
    self.proc.stdin.close()
    self.proc.wait()


def find_torch_python(flag):
  candidates = [flag] if flag else [os.environ.get("BENCH_TORCH_PYTHON"), *TORCH_PYTHONS]
  for python in filter(None, candidates):
    if Path(python).is_file():
      return python
  return None


def timed_calls(call, calls: int, warmup: int) -> list:
  """[wall seconds, process CPU seconds] of each of `calls` calls of `call`, after `warmup` untimed ones."""
  times = []
  for i in range(warmup + calls):
    start, cpu = time.perf_counter(), time.process_time()
    call()
    if i >= warmup:
      times.append([time.perf_counter() - start, time.process_time() - cpu])
  return times


def tf_timer(export_dir: str):
  import tensorflow as tf
  loaded = tf.saved_model.load(export_dir)

  def time_calls(batch: int, length: int, calls: int, warmup: int) -> list:
    inputs = {k: tf.constant(v) for k, v in encoder_inputs(batch, length).items()}
    return timed_calls(lambda: loaded(inputs, training=False)["sequence_output"].numpy(), calls, warmup)

  return time_calls


def ensure_export(work_dir: Path, fresh: bool) -> Path:
  from bench.full_size_checkpoint import ensure_checkpoint
  from hub_export.export_encoder import export_encoder
  export_dir = work_dir / "export_en"
  if fresh or not (export_dir / "saved_model.pb").is_file():
    export_encoder(str(ensure_checkpoint(work_dir / "release_en")), str(export_dir), lower_case=True, overwrite=True)
  return export_dir


def summarize(times: list, batch: int) -> dict:
  """Wall-clock figures, plus process CPU time: the latter barely moves with the machine's load."""
  wall = [t[0] for t in times]
  median = statistics.median(wall)
  return {"median_ms": round(1e3 * median, 1), "min_ms": round(1e3 * min(wall), 1),
          "seq_per_s": round(batch / median, 2), "best_seq_per_s": round(batch / min(wall), 2),
          "cpu_median_ms": round(1e3 * statistics.median(t[1] for t in times), 1), "calls": len(times)}


def alternate_rounds(runners: dict, rounds: int, seq_length: int) -> tuple:
  """Times every runner at every shape, in turn, `rounds` times, so load falls on all alike.

  Returns ({(runner, shape): [(wall, cpu), ...]}, load averages before and after each round);
  each figure is printed to stderr as it is measured, so a slow machine still leaves some.
  """
  times = {(name, shape): [] for name in runners for shape in SHAPES}
  loads = [load_average()]
  for _ in range(rounds):
    for shape, (batch, calls, warmup) in SHAPES.items():
      for name, time_calls in runners.items():
        times[name, shape] += time_calls(batch, seq_length, calls, warmup)
        print(f"{name} {shape} batch {batch}: {summarize(times[name, shape], batch)} [load {load_average()}]",
              file=sys.stderr, flush=True)
    loads.append(load_average())
  return times, loads


def run(args) -> dict:
  export_dirs = args.export_dir or [ensure_export(Path(args.work_dir), args.fresh)]
  runners = {f"tf {path}": tf_timer(str(path)) for path in export_dirs}
  python = find_torch_python(args.torch_python)
  peer = TorchPeer(python) if python else None
  if peer:
    runners[f"hf_pytorch_{peer.version}"] = peer.time_calls
  times, loads = alternate_rounds(runners, args.rounds, args.seq_length)
  if peer:
    peer.close()
  report = timing_report(args.seq_length, loads, times)
  if not peer:
    report["note"] = "HF PyTorch peer skipped: no Python with torch found (pass --torch_python)"
  return report



def timing_report(seq_length: int, loads: list, times: dict) -> dict:
  """The JSON report of alternating rounds: {(runner name, shape): call times} summarized per batch."""
  return {"seq_length": seq_length, "load_average_1_5_15min": loads,
          "results": {f"{name} {shape} batch {SHAPES[shape][0]}": summarize(t, SHAPES[shape][0])
                      for (name, shape), t in times.items()}}

def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m bench.bench_encoder", description=__doc__.split("\n")[0])
  parser.add_argument("--export_dir", action="append",
                      help="an encoder SavedModel to benchmark; repeatable (default: export one)")
  parser.add_argument("--work_dir", default=str(DEFAULT_WORK_DIR), help="where the full-size checkpoint and export live")
  parser.add_argument("--fresh", action="store_true", help="re-export even if --work_dir holds an export")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--seq_length", type=int, default=DEFAULT_SEQ_LENGTH, help="tokens per sequence, no padding")
  parser.add_argument("--torch_python", help="a Python with torch and transformers for the peer figure")
  args = parser.parse_args(argv)
  print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
  main()
