"""Where a call of a loaded encoder SavedModel spends its time, op by op (batch 1 by default).

    python -m bench.profile_encoder --export_dir DIR [--export_dir DIR ...] [--tflite FILE]
        [--calls 20] [--batch 1] [--seq_length 128] [--json FILE]

Each export is loaded with `tf.saved_model.load` and called as `hub.KerasLayer` calls it
(`__call__(inputs, training=False)`, no padding, TensorFlow's default threads).
First plain timing with `bench_encoder`'s runners and figures (median wall and process CPU
of --calls calls a round, three alternating rounds over all exports and the LiteRT file),
then --calls calls under
TensorFlow's profiler, whose trace (`*.xplane.pb`) is read here:

- kernels: every op kernel the executors ran, by op type: ops per call, thread time per
  call, microseconds per op;
- executor overhead: the executors' busy time (`ExecutorState::Process`) not spent inside
  a kernel, per call and per op: what running the graph costs beyond its math;
- threads: busy time per call of the inter-op threads (which run the graph) and of the
  intra-op pool (work that ops such as softmax, concat and elementwise ops hand over).

A trace does not always hold every small kernel (two traces of one export at batch 1 have
counted 1,621 and 2,188 kernels a call, the matmuls alike): kernel counts and times are
lower bounds, and executor overhead is an upper bound.

--tflite times the same math in LiteRT (float file from `export_tflite`, 2 threads, its
XNNPACK default; batch 1 only) in the same rounds: the floor the issue compares with.

--ceiling (for batch 32) gives TensorFlow one inter-op thread, so the graph runs one op at a
time and each matmul kernel's time is its own, then runs `bench_matmul_floor` in the same
process: the export's matmul kernels (attention's batch-matmuls included, as in the floor's
5.4 GFLOP a sequence) against the floor's time for the batch. Their ratio is the most the
export could reach of the floor if every other op were free. Not a test.
"""

import argparse
import collections
import glob
import json
import os
import tempfile

import numpy as np

from bench.bench_encoder import encoder_inputs, load_average, summarize, tf_timer, timed_calls

ROUNDS = 3
WARMUP = 2


def _kernel_type(name: str):
  """'scope/op:OpType' -> 'OpType' for a kernel event; None for the runtime's own events."""
  if ":" not in name or "::" in name:
    return None
  return name.rsplit(":", 1)[1] or None


def summarize_trace(xplane_file: str, calls: int) -> dict:
  """Per-call kernel, executor and thread figures from one profiler trace."""
  from tensorflow.tsl.profiler.protobuf import xplane_pb2  # TensorFlow's own copy of the schema
  space = xplane_pb2.XSpace()
  with open(xplane_file, "rb") as f:
    space.ParseFromString(f.read())
  host = next(plane for plane in space.planes if plane.name == "/host:CPU")
  names = {key: meta.name for key, meta in host.event_metadata.items()}
  kernel_ms, kernel_count = collections.Counter(), collections.Counter()
  executor_ms = intra_ms = 0.0
  intra_tasks = 0
  for line in host.lines:
    events = sorted(line.events, key=lambda e: e.offset_ps)
    if line.name.startswith("tf_Compute"):
      for event in events:
        name, ms = names[event.metadata_id], event.duration_ps / 1e9
        kernel = _kernel_type(name)
        if kernel:
          kernel_ms[kernel] += ms
          kernel_count[kernel] += 1
        elif name == "ExecutorState::Process":  # an inter-op thread running the graph
          executor_ms += ms
    elif "Eigen" in line.name:  # the intra-op pool: a task runs from StartRegion to StopRegion
      start = None
      for event in events:
        name = names[event.metadata_id]
        if name == "ThreadpoolListener::StartRegion":
          start = event.offset_ps
        elif name == "ThreadpoolListener::StopRegion" and start is not None:
          intra_ms += (event.offset_ps - start) / 1e9
          intra_tasks += 1
          start = None
  # Function-call kernels return at once and their bodies' kernels are counted on their own.
  total_kernel_ms = sum(ms for kernel, ms in kernel_ms.items() if "Call" not in kernel and kernel != "If")
  ops = sum(kernel_count.values())
  return {
      "ops_per_call": ops / calls,
      "kernel_ms_per_call": total_kernel_ms / calls,
      "executor_overhead_ms_per_call": (executor_ms - total_kernel_ms) / calls,
      "executor_overhead_us_per_op": 1e3 * (executor_ms - total_kernel_ms) / ops,
      "inter_op_busy_ms_per_call": executor_ms / calls,
      "intra_op_busy_ms_per_call": intra_ms / calls,
      "intra_op_tasks_per_call": intra_tasks / calls,
      "kernels": {kernel: {"ops_per_call": kernel_count[kernel] / calls, "ms_per_call": ms / calls,
                           "us_per_op": 1e3 * ms / kernel_count[kernel]}
                  for kernel, ms in kernel_ms.most_common()},
  }


def profile(time_calls, batch: int, seq_length: int, calls: int) -> dict:
  """`calls` calls of a runner from `tf_timer` under TensorFlow's profiler, summarized per call."""
  import tensorflow as tf
  time_calls(batch, seq_length, 1, 0)
  with tempfile.TemporaryDirectory() as logdir:
    tf.profiler.experimental.start(logdir)
    wall = sum(w for w, _ in time_calls(batch, seq_length, calls, 0))
    tf.profiler.experimental.stop()
    trace = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))[-1]
    summary = summarize_trace(trace, calls)
  summary["wall_ms_per_call_profiled"] = 1e3 * wall / calls
  return summary


def litert_timer(path: str):
  """`tf_timer`'s runner for a .tflite file (batch 1, 2 threads)."""
  from hub_export.tflite.runtime import TFLiteEncoder
  encoder = TFLiteEncoder(path, num_threads=2)

  def time_calls(batch: int, length: int, calls: int, warmup: int) -> list:
    inputs = encoder_inputs(batch, length)
    return timed_calls(lambda: encoder(inputs), calls, warmup)

  return time_calls


def matmul_ceiling(runs: dict, export_dirs: list, batch: int) -> dict:
  """Each export's matmul kernel time a call against `bench_matmul_floor`'s time for the batch."""
  from bench import bench_matmul_floor
  floor = bench_matmul_floor.run()
  floor_ms = 1e3 * batch / floor["floor_seq_per_s"][bench_matmul_floor.BLOCK_FLOOR]
  print(f"\nfloor {bench_matmul_floor.BLOCK_FLOOR}: {floor_ms:.0f} ms for a batch of {batch} ({floor['gflop_per_s']})")
  ceiling = {"floor_ms_per_call": floor_ms, "floor": floor, "exports": {}}
  for path in export_dirs:
    kernels = runs[path]["profile"]["kernels"]
    matmul_ms = sum(row["ms_per_call"] for kernel, row in kernels.items() if "MatMul" in kernel or "Einsum" in kernel)
    at_most = floor_ms / matmul_ms
    ceiling["exports"][path] = {"matmul_ms_per_call": matmul_ms, "at_most_of_floor": at_most}
    print(f"{path}: matmul kernels {matmul_ms:.0f} ms a call; with every other op free, at most {at_most:.2f} of the floor")
  return ceiling


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--export_dir", action="append", required=True)
  parser.add_argument("--tflite", default=None, help="a float .tflite of the same model, from export_tflite")
  parser.add_argument("--calls", type=int, default=20)
  parser.add_argument("--batch", type=int, default=1)
  parser.add_argument("--seq_length", type=int, default=128)
  parser.add_argument("--json", default=None)
  parser.add_argument("--ceiling", action="store_true",
                      help="one inter-op thread, and the export's matmul time against bench_matmul_floor")
  args = parser.parse_args()
  if args.ceiling:
    import tensorflow as tf
    tf.config.threading.set_inter_op_parallelism_threads(1)
  runs = {path: tf_timer(path) for path in args.export_dir}
  if args.tflite and args.batch == 1:
    runs[f"LiteRT float {args.tflite}"] = litert_timer(args.tflite)
  print(f"load average {load_average()}; batch {args.batch} x {args.seq_length}, {args.calls} calls a round, {ROUNDS} rounds")
  times = collections.defaultdict(list)
  for _ in range(ROUNDS):
    for name, time_calls in runs.items():
      times[name] += time_calls(args.batch, args.seq_length, args.calls, WARMUP)
  result = {"load_average_after_timing": load_average(), "runs": {}}
  for name, calls in times.items():
    result["runs"][name] = summarize(calls, args.batch)
    print(f"{name}: median {result['runs'][name]['median_ms']:.1f} ms, "
          f"process CPU {result['runs'][name]['cpu_median_ms']:.1f} ms a call (median)")
  for path in args.export_dir:
    summary = profile(runs[path], args.batch, args.seq_length, args.calls)
    result["runs"][path]["profile"] = summary
    print(f"\nprofile of {path} ({args.calls} calls, {summary['wall_ms_per_call_profiled']:.1f} ms a call profiled)")
    print(f"  {summary['ops_per_call']:.0f} kernels a call, {summary['kernel_ms_per_call']:.1f} ms in kernels; executor "
          f"overhead {summary['executor_overhead_ms_per_call']:.1f} ms ({summary['executor_overhead_us_per_op']:.1f} us an op)")
    print(f"  inter-op threads busy {summary['inter_op_busy_ms_per_call']:.1f} ms, intra-op pool busy "
          f"{summary['intra_op_busy_ms_per_call']:.1f} ms in {summary['intra_op_tasks_per_call']:.0f} tasks, a call")
    for kernel, row in list(summary["kernels"].items())[:15]:
      print(f"  {kernel:28s} {row['ops_per_call']:7.1f} ops {row['ms_per_call']:8.2f} ms {row['us_per_op']:8.1f} us/op")
  if args.ceiling:
    result["ceiling"] = matmul_ceiling(result["runs"], args.export_dir, args.batch)
  result["load_average_end"] = load_average()
  print(f"load average {result['load_average_end']}")
  if args.json:
    with open(args.json, "w") as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  main()
