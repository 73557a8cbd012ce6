"""How near the batch-32 blocks can come to the matmul floor in TensorFlow: take ops away and time.

    .venv/bin/python -m bench.bench_block_bound [--rounds 12] [--one_stream] [--json FILE]

Runs the encoder's 24 blocks as an export runs them for a batch above one (`BlockStack` in
inference: two groups of sequences side by side, or with --one_stream the single batched
stream; full-size OPT English config, random weights) at batch 32 and length 128, then the
same blocks with parts of the math taken away, each traced anew from the project's own
block code with one function replaced:

- `as exported`: unchanged;
- `no NoNorm`: every NoNorm an identity (about 190 multiply-add pairs a call gone);
- `no NoNorm, no head transposes`: heads also split and joined by reshapes alone;
- `matmuls and their fused adds`: softmax also gone: what is left is the matmuls, the
  bias and residual adds fused into them, and ReLU.

The last three give wrong outputs; their times are upper bounds on what any rewrite of the
ops they drop could buy. Each form is timed in alternating rounds; the floor
(`bench_matmul_floor`, fastest of its runs) is measured in the same process, before and
after, and each form's best and median call is given as a fraction of the lower of the two.
The floor counts the whole encoder's 5.4 GFLOP a sequence, of which the blocks do 99%, so
the fractions are about 1% low. Not a test.
"""

import argparse
import contextlib
import json
import math
import statistics
import time
from unittest import mock

import numpy as np

from bench import bench_matmul_floor

BATCH, LENGTH = 32, 128


def _forms():
  """name -> a context manager under which the block function is traced in that form."""
  import tensorflow as tf
  from hub_export.model import functional as F

  def heads(x, batch_seq, num_heads):
    return tf.reshape(x, [batch_seq[0], num_heads, batch_seq[1], -1])

  def reshape_heads_attention(query, key, value, mask, batch_seq, num_heads, *_, **__):
    q, k, v = (heads(x, batch_seq, num_heads) for x in (query, key, value))
    probs = F.masked_softmax(tf.matmul(q, k, transpose_b=True), 1.0 / math.sqrt(query.shape[-1] // num_heads), mask)
    return tf.reshape(tf.matmul(probs, v), [-1, query.shape[-1]])

  def matmuls_only_attention(query, key, value, mask, batch_seq, num_heads, *_, **__):
    q, k, v = (heads(x, batch_seq, num_heads) for x in (query, key, value))
    return tf.reshape(tf.matmul(tf.matmul(q, k, transpose_b=True), v), [-1, query.shape[-1]])

  identity_norm = lambda: mock.patch.object(F, "no_norm", lambda x, gamma, beta: x)
  attention = lambda form: mock.patch.object(F, "multi_head_attention", form)
  return {
      "as exported": contextlib.nullcontext,
      "no NoNorm": identity_norm,
      "no NoNorm, no head transposes": lambda: _both(identity_norm(), attention(reshape_heads_attention)),
      "matmuls and their fused adds": lambda: _both(identity_norm(), attention(matmuls_only_attention)),
  }


@contextlib.contextmanager
def _both(first, second):
  with first, second:
    yield


def _block_runners(two_streams: bool) -> dict:
  """name -> a no-argument callable running the 24 blocks once in that form."""
  import tensorflow as tf
  from hub_export.config import MobileBertConfig
  from hub_export.model.block_stack import BlockStack
  from hub_export.model.functional import attention_mask
  from hub_export.model.transformer_block import shared_block_function

  config = MobileBertConfig(vocab_size=30522)  # the dataclass defaults are the OPT English model
  stack = BlockStack(config)
  rng = np.random.default_rng(0)
  inputs = tf.constant(rng.normal(0, 1, (BATCH * LENGTH, config.hidden_size)).astype(np.float32))
  mask = attention_mask(tf.ones([BATCH, LENGTH], tf.int32))
  stack(inputs, mask, tf.constant([BATCH, LENGTH]))  # builds the variables

  def blocks(hidden):  # batch size from the input, unknown when traced, as in an export
    batch_seq = tf.stack([tf.shape(hidden)[0] // LENGTH, LENGTH])
    return stack(hidden, mask, batch_seq, training=False, two_streams=two_streams)[-1]

  runners = {}
  for name, form in _forms().items():
    shared_block_function.cache_clear()  # each form traces its own block function
    traced = tf.function(blocks, input_signature=[tf.TensorSpec([None, config.hidden_size])])
    with form():
      traced(inputs).numpy()  # traced here, inside the form
    runners[name] = lambda traced=traced: traced(inputs)
  shared_block_function.cache_clear()
  return runners


def _floor_ms() -> float:
  return 1e3 * BATCH / bench_matmul_floor.run()["floor_seq_per_s"][bench_matmul_floor.BLOCK_FLOOR]


def run(rounds: int, two_streams: bool) -> dict:
  floor_before = _floor_ms()
  runners = _block_runners(two_streams)
  seconds = {name: [] for name in runners}
  for _ in range(rounds):
    for name, call in runners.items():
      start = time.perf_counter()
      call().numpy()
      seconds[name].append(time.perf_counter() - start)
  floor_after = _floor_ms()
  floor_ms = min(floor_before, floor_after)
  result = {"two_streams": two_streams, "floor_ms": round(floor_ms, 1),
            "floor_ms_before_after": [round(floor_before, 1), round(floor_after, 1)], "forms": {}}
  for name, times in seconds.items():
    best, median = 1e3 * min(times), 1e3 * statistics.median(times)
    result["forms"][name] = {"best_ms": round(best, 1), "median_ms": round(median, 1),
                             "of_floor_best": round(floor_ms / best, 3), "of_floor_median": round(floor_ms / median, 3)}
  return result


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--rounds", type=int, default=12)
  parser.add_argument("--one_stream", action="store_true", help="the blocks as one batched stream")
  parser.add_argument("--json", default=None, help="also write the figures here")
  args = parser.parse_args()
  result = run(args.rounds, two_streams=not args.one_stream)
  print(f"floor at the block's own shapes: {result['floor_ms']} ms for {BATCH} x {LENGTH} "
        f"(before and after: {result['floor_ms_before_after']})")
  for name, row in result["forms"].items():
    print(f"{name:32s} best {row['best_ms']:6.1f} ms ({row['of_floor_best']:.2f} of the floor), "
          f"median {row['median_ms']:6.1f} ms ({row['of_floor_median']:.2f})")
  if args.json:
    with open(args.json, "w") as f:
      json.dump(result, f, indent=2)


if __name__ == "__main__":
  main()
