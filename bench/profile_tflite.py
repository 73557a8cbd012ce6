"""Where a .tflite model's batch-1 time goes, by kernel: `perf` samples of LiteRT running it.

    python bench/profile_tflite.py NAME=FILE.tflite [NAME=FILE.tflite ...] [--threads 2] [--runs 40]

LiteRT's Python package has no op profiler to call: the `Interpreter` exposes no profiling
hook, the `benchmark_model` binary is not in the wheel, and the profiler of the C API
(`LiteRtCompiledModelGetProfiler` in libLiteRt.so) has no Python binding. So each model
runs `--runs` batch-1 calls (sequence length from the model, `--threads` threads) under
`perf record` (Debian's `linux-perf`; sampling starts after the load and warm-up), and the
samples' own symbols are the kernels that ran: XNNPACK's micro-kernels (named by data type
and op) for delegated ops, TFLite's `reference_ops::` / `optimized_ops::` functions for the
rest. `KERNEL_GROUPS` names the op each kernel serves. The median latency is measured first,
without perf, the models' calls interleaved, and each group's share of the samples is turned
into milliseconds of it. Prints a Markdown table a model.
"""

import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WARMUP = 3
# (symbol pattern, what it is): the first match names a sample's kernel.
KERNEL_GROUPS = (
    (r"reference_ops::BatchMatMul|batch_matmul::", "BATCH_MATMUL int8, TFLite reference kernel"),
    (r"MultiplyByQuantizedMultiplier", "int8 requantization outside XNNPACK (inside the BATCH_MATMUL above)"),
    (r"optimized_ops::Softmax", "SOFTMAX int8, TFLite builtin (not delegated)"),
    (r"xnn_qs8_qc8w_gemm", "FULLY_CONNECTED int8 (XNNPACK, AMX)"),
    (r"xnn_qd8_f32_qc8w_gemm", "FULLY_CONNECTED dynamic-range (XNNPACK, AMX)"),
    (r"xnn_f32_gemm|packw_gemm", "float GEMM and its packing (XNNPACK): BATCH_MATMUL, any float FULLY_CONNECTED"),
    (r"xnn_qs8_vadd", "ADD int8 (XNNPACK)"),
    (r"xnn_qs8_vmul", "MUL int8 (XNNPACK)"),
    (r"xnn_f32_vadd", "ADD float (XNNPACK)"),
    (r"xnn_f32_vmul", "MUL float (XNNPACK)"),
    (r"xnn_f32_raddstoreexpminusmax|xnn_f32_rmax|xnn_f32_vscale", "SOFTMAX float (XNNPACK)"),
    (r"vcvt|pack_lh|xnn_f32_rminmax", "QUANTIZE / DEQUANTIZE, dynamic-range input quantization (XNNPACK)"),
    (r"transpose|Transpose", "TRANSPOSE"),
    (r"thread_main|pthreadpool|thread_parallelize", "thread-pool dispatch and spin-waiting"),
)
OTHER = "other (interpreter, Python, kernel, memory copies)"


def _inputs(interpreter):
  import numpy as np

  runner = interpreter.get_signature_runner()
  inputs = {}
  for name, detail in runner.get_input_details().items():
    shape = tuple(detail["shape"])
    inputs[name] = np.ones(shape, detail["dtype"]) if name != "input_type_ids" else np.zeros(shape, detail["dtype"])
  return runner, inputs


def _load(path: Path, threads: int):
  """A warmed-up runner of the model and its batch-1 inputs."""
  from ai_edge_litert.interpreter import Interpreter

  runner, inputs = _inputs(Interpreter(model_path=str(path), num_threads=threads))
  for _ in range(WARMUP):
    runner(**inputs)
  return lambda: runner(**inputs)


def _median_ms(paths: dict, threads: int, runs: int) -> dict:
  """Median milliseconds a call of each model, the models' calls interleaved so that they share the load."""
  calls = {name: _load(Path(path), threads) for name, path in paths.items()}
  times = {name: [] for name in calls}
  for _ in range(runs):
    for name, call in calls.items():
      start = time.perf_counter()
      call()
      times[name].append(time.perf_counter() - start)
  return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def _run_under_perf(path: Path, threads: int, runs: int, perf_control: Path) -> None:
  """The child `perf record` runs: sampling is switched on (perf's control fifo) after the load and warm-up."""
  call = _load(path, threads)
  with open(perf_control, "w") as control:
    control.write("enable\n")
  for _ in range(runs):
    call()


def _profile(path: Path, threads: int, runs: int) -> dict:
  """Share of perf's samples per kernel group while the model runs `runs` times."""
  with tempfile.TemporaryDirectory() as work:
    data, control = Path(work) / "perf.data", Path(work) / "control"
    os.mkfifo(control)
    subprocess.run(["perf", "record", "-q", "-F", "999", "-D", "-1", f"--control=fifo:{control}", "-o", str(data),
                    "--", sys.executable, __file__, "--_run", str(path), "--threads", str(threads), "--runs", str(runs),
                    "--_perf_control", str(control)], check=True, capture_output=True)
    report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "symbol"],
                            check=True, capture_output=True, text=True).stdout
  shares = collections.Counter()
  for line in report.splitlines():
    match = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(.*\S)", line)
    if match:
      symbol = match.group(2)
      group = next((name for pattern, name in KERNEL_GROUPS if re.search(pattern, symbol)), OTHER)
      shares[group] += float(match.group(1)) / 100
  return shares


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("models", nargs="*", help="NAME=FILE.tflite")
  parser.add_argument("--threads", type=int, default=2)
  parser.add_argument("--runs", type=int, default=40)
  parser.add_argument("--_run", type=Path, help=argparse.SUPPRESS)  # the child perf records
  parser.add_argument("--_perf_control", type=Path, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args._run:
    _run_under_perf(args._run, args.threads, args.runs, args._perf_control)
    return 0
  if shutil.which("perf") is None:
    parser.error("needs perf (Debian: apt-get install linux-perf)")
  models = dict(model.split("=", 1) for model in args.models)
  latency = _median_ms(models, args.threads, args.runs)
  for name, path in models.items():
    shares = _profile(Path(path), args.threads, args.runs)
    print(f"\n{name} ({path}): median {latency[name]:.1f} ms, {args.threads} threads; perf samples by kernel\n")
    print("| kernel | share | ms |")
    print("| --- | ---: | ---: |")
    for group, share in shares.most_common():
      if share >= 0.01:
        print(f"| {group} | {share:.0%} | {share * latency[name]:.1f} |")
  return 0


if __name__ == "__main__":
  sys.exit(main())
