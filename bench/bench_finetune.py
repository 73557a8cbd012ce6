"""Fine-tuning step time for SQuAD at sequence 384: `finetune` as a user runs it, beside HF PyTorch.

    .venv/bin/python -m bench.bench_finetune [--batch_size 16] [--steps 6] [--work_dir DIR]
        [--torch_python PATH]

Ours: `python -m hub_export.finetune --task squad` on a full-size English checkpoint with seeded
weights (`bench.full_size_checkpoint`), a SQuAD v1.1 file of `batch_size x steps` questions
whose contexts fill the 384-token window, one epoch. The step times are the gaps between the
wall times of the TensorBoard `loss` events the command writes after each step, so they time
exactly what the progress bar shows; the first two steps (tracing) are left out.

The peer: HF transformers' `MobileBertForQuestionAnswering` (default config = the English
model, random weights, train mode, AdamW, gradient clipping at 1, 2 threads), the same batch
and sequence, in a Python that has torch and transformers (see bench/README.md), run after ours.
Each side's peak resident memory comes with its times. Prints one JSON report; `bench.bench_task_latency`
then times the task SavedModel the run left in --work_dir.
"""

import argparse
import glob
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.bench_encoder import find_torch_python
from bench.full_size_checkpoint import DEFAULT_WORK_DIR

SEQ_LENGTH = 384
SKIPPED_STEPS = 2
CONTEXT_WORDS = 260  # about 330 wordpieces: one window a question with the query
# What a run leaves under --work_dir (bench_task_latency reads it).
CHECKPOINT, DATA, EXPORT, RUN = "release_en", "squad_bench.json", "finetune_export", "finetune_run"

_TORCH_WORKER = r"""
import json, resource, sys, time
import torch
from transformers import MobileBertConfig, MobileBertForQuestionAnswering
batch, length, steps = (int(x) for x in sys.argv[1:4])
torch.set_num_threads(2)
torch.manual_seed(0)
model = MobileBertForQuestionAnswering(MobileBertConfig()).train()
optimizer = torch.optim.AdamW(model.parameters(), lr=4e-5, weight_decay=0.01, eps=1e-6)
ids = torch.randint(1000, 30522, (batch, length))
types = torch.zeros_like(ids)
types[:, 64:] = 1
starts = torch.randint(64, length - 30, (batch,))
ends = starts + 3
times = []
for _ in range(steps):
    begin = time.perf_counter()
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=types,
                start_positions=starts, end_positions=ends)
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad()
    times.append(time.perf_counter() - begin)
print(json.dumps({"torch": torch.__version__, "step_s": times,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def squad_file(path: Path, questions: int) -> None:
  """SQuAD v1.1 with contexts of reference text long enough to fill a 384-token window."""
  from hub_export.distillation.corpus import split_documents

  words = " ".join(s for d in split_documents()[0] for s in d).split()
  paragraphs = []
  for q in range(questions):
    context = " ".join(words[q * 50:q * 50 + CONTEXT_WORDS])
    answer = context.split()[20]
    paragraphs.append({"context": context, "qas": [{
        "id": f"q{q}", "question": f'Where does "{answer}" appear?',
        "answers": [{"text": answer, "answer_start": len(" ".join(context.split()[:20])) + 1}]}]})
  path.write_text(json.dumps({"version": "1.1", "data": [{"title": "bench", "paragraphs": paragraphs}]}))


def step_times(tensorboard_dir: Path) -> list:
  import tensorflow as tf

  walls = [event.wall_time for file in glob.glob(str(tensorboard_dir / "*"))
           for event in tf.compat.v1.train.summary_iterator(file)
           if any(value.tag == "loss" for value in event.summary.value)]
  return [b - a for a, b in zip(walls, walls[1:])]


def ours(work_dir: Path, batch: int, steps: int) -> dict:
  from bench.full_size_checkpoint import ensure_checkpoint

  checkpoint = ensure_checkpoint(work_dir / CHECKPOINT)
  data = work_dir / DATA
  squad_file(data, batch * steps)
  run_dir = work_dir / RUN
  command = [sys.executable, "-m", "hub_export.finetune", "--task", "squad", "--train_file", str(data),
             "--ckpt", str(checkpoint), "--export_dir", str(work_dir / EXPORT), "--model_dir", str(run_dir),
             "--max_seq_length", str(SEQ_LENGTH), "--batch_size", str(batch), "--epochs", "1", "--overwrite"]
  begin = time.perf_counter()
  subprocess.run(command, check=True)
  peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # the first child the bench waits for
  gaps = step_times(run_dir / "tensorboard")[SKIPPED_STEPS - 1:]
  return {"command": " ".join(command[1:]), "wall_s": round(time.perf_counter() - begin, 1),
          "step_s": [round(g, 2) for g in gaps], "median_step_s": round(statistics.median(gaps), 2),
          "peak_rss_gb": round(peak_gb, 1)}


def peer(python: str, batch: int, steps: int) -> dict:
  result = subprocess.run([python, "-c", _TORCH_WORKER, str(batch), str(SEQ_LENGTH), str(steps)], check=True,
                          capture_output=True, text=True)
  report = json.loads(result.stdout.strip().splitlines()[-1])
  times = report["step_s"][SKIPPED_STEPS:]
  return {"torch": report["torch"], "step_s": [round(t, 2) for t in times],
          "median_step_s": round(statistics.median(times), 2), "peak_rss_gb": round(report["peak_rss_gb"], 1)}


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m bench.bench_finetune", description=__doc__.split("\n")[0])
  parser.add_argument("--batch_size", type=int, default=16)
  parser.add_argument("--steps", type=int, default=6, help="steps run; the first two are not timed")
  parser.add_argument("--work_dir", default=str(DEFAULT_WORK_DIR))
  parser.add_argument("--torch_python", help="a Python with torch and transformers for the peer figure")
  args = parser.parse_args(argv)
  work_dir = Path(args.work_dir)
  work_dir.mkdir(parents=True, exist_ok=True)
  report = {"seq_length": SEQ_LENGTH, "batch_size": args.batch_size, "ours": ours(work_dir, args.batch_size,
                                                                                   args.steps)}
  python = find_torch_python(args.torch_python)
  if python:
    report["hf_pytorch"] = peer(python, args.batch_size, args.steps)
    report["ours_over_hf"] = round(report["ours"]["median_step_s"] / report["hf_pytorch"]["median_step_s"], 2)
  else:
    report["note"] = "HF PyTorch peer skipped: no Python with torch found (pass --torch_python)"
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  main()
