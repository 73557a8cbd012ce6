"""Corpus embedding speed: the Beam pipeline against a plain TensorFlow loop over the same batches.

    .venv/bin/python -m bench.bench_embed_corpus --encoder DIR --preprocessor DIR
        [--lines 1024] [--batch_size 32] [--rounds 1] [--workers 2]

Both sides embed the first --lines lines of tests/support/corpus/english.txt with the same two
SavedModels at sequence length 128. The loop loads them with `tf.saved_model.load` and calls
`encoder(preprocessor.bert_pack_inputs([preprocessor.tokenize(batch)], 128))` on batches of
--batch_size in line order. The pipeline is `hub_export.embed_corpus` on the in-process
runner with min = max batch size = --batch_size (so the model sees the same batch size;
only bundle ends make smaller batches, which are counted), and once more letting Beam adapt
the batch size between --batch_size and twice that. With --workers N it also runs N worker processes
(--direct_running_mode=multi_processing). Each measurement is a fresh child process; wall
time is taken inside it after imports (the loop: from model load, and its compute alone;
the pipeline: the whole job including model load, Beam start-up and the Parquet write), and
peak RSS comes from `os.wait4` (largest single process of the child's tree). Rounds
alternate loop and pipeline so load from other processes falls on both.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hub_export.beam.handler import TextEmbeddingHandler
from hub_export.beam.pipeline import EmbedSettings, embed_corpus

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "support" / "corpus" / "english.txt"
SEQ_LENGTH = 128


class _CountingHandler(TextEmbeddingHandler):
  """Appends the size of each batch the model sees to a file (workers may be other processes)."""

  def __init__(self, log_path, *args):
    super().__init__(*args)
    self._log_path = log_path

  def run_inference(self, batch, model, inference_args=None):
    with open(self._log_path, "a", encoding="utf-8") as f:
      f.write(f"{len(batch)}\n")
    return super().run_inference(batch, model, inference_args)


def _corpus(lines: int, directory: Path) -> Path:
  text = CORPUS.read_text(encoding="utf-8").splitlines()[:lines]
  path = directory / "corpus.txt"
  path.write_text("\n".join(text) + "\n", encoding="utf-8")
  return path


def _loop_child(args) -> dict:
  import tensorflow as tf
  import tensorflow_text  # noqa: F401

  lines = Path(args.corpus).read_text(encoding="utf-8").splitlines()
  start = time.perf_counter()
  preprocessor, encoder = tf.saved_model.load(args.preprocessor), tf.saved_model.load(args.encoder)
  loaded = time.perf_counter()
  for i in range(0, len(lines), args.batch_size):
    inputs = preprocessor.bert_pack_inputs([preprocessor.tokenize(tf.constant(lines[i:i + args.batch_size]))],
                                           seq_length=tf.constant(SEQ_LENGTH))
    encoder(inputs, training=False)["pooled_output"].numpy()
  end = time.perf_counter()
  return {"lines": len(lines), "wall_s": end - start, "compute_s": end - loaded,
          "batch_sizes": dict(collections.Counter(len(lines[i:i + args.batch_size])
                                                  for i in range(0, len(lines), args.batch_size)))}


def _pipeline_child(args) -> dict:
  fixed = args.mode == "fixed"
  settings = EmbedSettings(args.encoder, args.preprocessor, args.corpus, args.output, seq_length=SEQ_LENGTH,
                           min_batch_size=args.batch_size, max_batch_size=args.batch_size * (1 if fixed else 2))
  beam_args = ["--direct_num_workers", str(args.workers), "--direct_running_mode", "multi_processing"] \
      if args.workers > 1 else []
  sizes = Path(args.output + ".batches")
  sizes.unlink(missing_ok=True)
  handler = _CountingHandler(str(sizes), settings.encoder, settings.preprocessor, "pooled_output", SEQ_LENGTH,
                             settings.min_batch_size, settings.max_batch_size)
  start = time.perf_counter()
  counters = embed_corpus(settings, beam_args, overwrite=True, handler=handler)
  wall = time.perf_counter() - start
  return {"lines": counters["documents"], "wall_s": wall,
          "batch_sizes": dict(sorted(collections.Counter(int(n) for n in sizes.read_text().split()).items()))}


def _measure(argv: list) -> dict:
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
  proc = subprocess.Popen([sys.executable, "-m", "bench.bench_embed_corpus", *argv], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, env=env)
  output = proc.stdout.read()
  _, status, usage = os.wait4(proc.pid, 0)
  if os.waitstatus_to_exitcode(status) != 0:
    raise RuntimeError(f"child {argv} failed:\n{output[-2000:]}")
  result = json.loads(output.strip().splitlines()[-1])
  result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
  return result


def _line(name: str, result: dict) -> str:
  rate = result["lines"] / result["wall_s"]
  extra = f", compute only {result['lines'] / result['compute_s']:.1f} lines/s" if "compute_s" in result else ""
  return (f"{name:<28} {rate:6.1f} lines/s end to end{extra}; peak RSS {result['peak_rss_mb']} MB; "
          f"batch sizes {result['batch_sizes']}")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--encoder", required=True)
  parser.add_argument("--preprocessor", required=True)
  parser.add_argument("--lines", type=int, default=1024)
  parser.add_argument("--batch_size", type=int, default=32)
  parser.add_argument("--rounds", type=int, default=1)
  parser.add_argument("--workers", type=int, default=0, help="also run the pipeline with this many worker processes")
  parser.add_argument("--child", choices=["loop", "pipeline"], help=argparse.SUPPRESS)
  parser.add_argument("--mode", choices=["fixed", "adaptive"], default="fixed", help=argparse.SUPPRESS)
  parser.add_argument("--corpus", help=argparse.SUPPRESS)
  parser.add_argument("--output", help=argparse.SUPPRESS)
  parser.add_argument("--workers_child", type=int, default=1, dest="workers_child", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    args.workers = args.workers_child
    print(json.dumps((_loop_child if args.child == "loop" else _pipeline_child)(args)))
    return

  with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
    corpus = _corpus(args.lines, Path(tmp))
    common = ["--encoder", args.encoder, "--preprocessor", args.preprocessor, "--corpus", str(corpus),
              "--batch_size", str(args.batch_size), "--output", str(Path(tmp) / "out")]
    print(f"{args.lines} lines, batch {args.batch_size}, seq_length {SEQ_LENGTH}; load {os.getloadavg()}")
    loops, pipelines = [], []
    for _ in range(args.rounds):
      loops.append(_measure(["--child", "loop", *common]))
      print(_line("TF loop", loops[-1]), flush=True)
      pipelines.append(_measure(["--child", "pipeline", "--mode", "fixed", *common]))
      print(_line("pipeline (fixed batch)", pipelines[-1]), flush=True)
    print(_line("pipeline (adaptive, B to 2B)", _measure(["--child", "pipeline", "--mode", "adaptive", *common])))
    if args.workers > 1:
      result = _measure(["--child", "pipeline", "--mode", "fixed", "--workers_child", str(args.workers), *common])
      print(_line(f"pipeline, {args.workers} workers", result))
    best_loop = max(r["lines"] / r["compute_s"] for r in loops)
    best_pipeline = max(r["lines"] / r["wall_s"] for r in pipelines)
    print(f"pipeline end to end / loop compute only: {best_pipeline / best_loop:.2f}x (best of {args.rounds}); "
          f"load {os.getloadavg()}")


if __name__ == "__main__":
  main()
