"""Keras 3 speed: the KerasHub preset's backbone on each backend, beside our SavedModel and HF PyTorch.

    .venv/bin/python -m bench.bench_keras3 [--work_dir DIR] [--rounds 3] [--seq_length 128]
        [--backends tensorflow,jax,torch] [--torch_python PATH]

Uses the full-size English OPT checkpoint of bench/full_size_checkpoint.py (random weights),
its encoder SavedModel (as bench_encoder exports it) and its KerasHub preset (exported here
on first use, then reused). Each Keras backend runs in its own persistent subprocess
(a backend is fixed at import) that loads the preset with `Backbone.from_preset` and times
`predict_on_batch` (compiled: tf.function, jax.jit; eager for torch), at batch 1 and 32,
sequence length 128, no padding. All runners are measured in alternating rounds, so load
from other processes falls on all alike; figures are medians over all rounds.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.bench_encoder import (DEFAULT_SEQ_LENGTH, TorchPeer, alternate_rounds, ensure_export, find_torch_python,
                                 tf_timer, timing_report)
from bench.full_size_checkpoint import DEFAULT_WORK_DIR

# Runs with KERAS_BACKEND set: same line protocol as bench_encoder's torch worker.
_KERAS_WORKER = r"""
import json, sys
import keras, keras_hub, numpy as np
import hub_export.keras3  # noqa: F401
from bench.bench_encoder import encoder_inputs, timed_calls
backbone = keras_hub.models.Backbone.from_preset(sys.argv[1])
print("ready " + keras.config.backend(), flush=True)
for line in sys.stdin:
    batch, length, calls, warmup = (int(x) for x in line.split())
    raw = encoder_inputs(batch, length)
    inputs = {"token_ids": raw["input_word_ids"], "segment_ids": raw["input_type_ids"], "padding_mask": raw["input_mask"]}
    print(json.dumps(timed_calls(lambda: backbone.predict_on_batch(inputs), calls, warmup)), flush=True)
"""


class KerasPeer(TorchPeer):
  """A persistent subprocess on one Keras backend holding the preset's backbone."""

  def __init__(self, backend: str, preset_dir: Path):  # pylint: disable=super-init-not-called
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    self.proc = subprocess.Popen([sys.executable, "-c", _KERAS_WORKER, str(preset_dir)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, env=env,
                                 cwd=Path(__file__).resolve().parents[1])
    ready = self.proc.stdout.readline().split()
    if not ready or ready[0] != "ready":
      raise RuntimeError(f"Keras worker on {backend} did not start")
    self.version = ready[1]


def ensure_preset(work_dir: Path, fresh: bool) -> Path:
  from bench.full_size_checkpoint import ensure_checkpoint
  from hub_export.export_keras import export_keras

  preset_dir = work_dir / "preset_en"
  if fresh or not (preset_dir / "config.json").is_file():
    export_keras(str(ensure_checkpoint(work_dir / "release_en")), str(preset_dir), lower_case=True, overwrite=True)
  return preset_dir


def run(args) -> dict:
  work_dir = Path(args.work_dir)
  preset_dir = ensure_preset(work_dir, args.fresh)
  export_dir = ensure_export(work_dir, args.fresh)
  peers = [KerasPeer(backend, preset_dir) for backend in args.backends.split(",")]
  runners = {f"keras3 {peer.version}": peer.time_calls for peer in peers}
  runners["tf savedmodel"] = tf_timer(str(export_dir))
  python = find_torch_python(args.torch_python)
  torch_peer = TorchPeer(python) if python else None
  if torch_peer:
    peers.append(torch_peer)
    runners[f"hf_pytorch_{torch_peer.version}"] = torch_peer.time_calls
  times, loads = alternate_rounds(runners, args.rounds, args.seq_length)
  for peer in peers:
    peer.close()
  report = timing_report(args.seq_length, loads, times)
  if not torch_peer:
    report["note"] = "HF PyTorch peer skipped: no Python with torch and transformers found (pass --torch_python)"
  return report


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m bench.bench_keras3", description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=str(DEFAULT_WORK_DIR), help="where the checkpoint, export, preset live")
  parser.add_argument("--fresh", action="store_true", help="re-export even if --work_dir holds the exports")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--seq_length", type=int, default=DEFAULT_SEQ_LENGTH, help="tokens per sequence, no padding")
  parser.add_argument("--backends", default="tensorflow,jax,torch", help="comma-separated Keras backends")
  parser.add_argument("--torch_python", help="a Python with torch and transformers for the HF peer figure")
  args = parser.parse_args(argv)
  print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
  main()
