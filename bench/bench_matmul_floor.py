"""The compute floor for batch-32 throughput: how fast TensorFlow runs the encoder's own matmuls.

    .venv/bin/python -m bench.bench_matmul_floor

Times chains of MatMul + BiasAdd at the batch-32, length-128 shapes of a MobileBERT block
(4,096 rows; each shape as an up-and-down pair, so a chain needs no other op), and one large
square matmul, in a `tf.function` with TensorFlow's default thread pools. Each pair runs as
one chain of 4,096 rows and as two chains of 2,048 side by side (as an export runs a batch
of two or more, in two groups), and the faster of the two counts. Dividing the
encoder's 5.4 GFLOP per sequence by these rates gives the throughput that matmuls alone
would allow: the floor that `bench_encoder`'s batch-32 figure is compared with. Rates come
from each chain's fastest run: the floor is what the machine can do, not what it did on
average while shared.
"""

import json
import statistics
import time

import numpy as np

ROWS = 4096  # batch 32 x length 128
# (in, out) of the block's projections -> multiply-adds per token per block at that shape:
# the feed-forward stack (4 x 128->512->128), the bottlenecks (512->128 three times, 128->512
# once), query+key (128->256) and the attention output (128->128).
PAIRS = {(128, 512): 8 * 128 * 512, (512, 128): 4 * 512 * 128, (128, 256): 128 * 256, (128, 128): 128 * 128}
GFLOP_PER_SEQUENCE = 5.4
BLOCK_FLOOR = "at the block's own shapes"  # the key of the floor that bench figures are compared with
CHAIN = 25


def _gflops(step, xs: list, flop_per_step: float, repeats: int = 10) -> float:
  """The rate of `step` chained CHAIN times on each of `xs`, the chains side by side."""
  import tensorflow as tf

  @tf.function
  def chains(xs):
    outputs = []
    for x in xs:
      for _ in range(CHAIN):
        x = step(x)
      outputs.append(x)
    return outputs

  call = lambda: [x.numpy() for x in chains(xs)]
  for _ in range(3):
    call()
  seconds = []
  for _ in range(repeats):
    start = time.perf_counter()
    call()
    seconds.append(time.perf_counter() - start)
  return round(flop_per_step * CHAIN / min(seconds) / 1e9)


def run() -> dict:
  import tensorflow as tf

  rng = np.random.default_rng(0)
  weight = lambda *shape: tf.constant(rng.normal(0, 0.05, shape).astype(np.float32))
  rates, by_chains = {}, {}
  block_seconds = 0.0  # per multiply-add, weighted as the block weights them
  for (a, b), macs in PAIRS.items():
    up, down, up_bias, down_bias = weight(a, b), weight(b, a), tf.zeros([b]), tf.zeros([a])
    step = lambda x: tf.nn.bias_add(tf.matmul(tf.nn.bias_add(tf.matmul(x, up), up_bias), down), down_bias)
    name = f"[{ROWS},{a}]x[{a},{b}] and back"
    by_chains[name] = {f"{n} of {ROWS // n} rows": _gflops(step, [weight(ROWS // n, a) for _ in range(n)],
                                                           2 * 2 * ROWS * a * b)
                       for n in (1, 2)}
    rates[name] = rate = max(by_chains[name].values())
    block_seconds += macs / rate
  square = weight(512, 512)
  rates["[4096,512]x[512,512]"] = _gflops(lambda x: tf.matmul(x, square), [weight(ROWS, 512)], 2 * ROWS * 512 * 512)
  block_rate = sum(PAIRS.values()) / block_seconds
  return {"gflop_per_s": rates, "gflop_per_s_by_chains": by_chains,
          "floor_seq_per_s": {BLOCK_FLOOR: round(block_rate / GFLOP_PER_SEQUENCE, 1),
                              "at the large square matmul": round(rates["[4096,512]x[512,512]"] / GFLOP_PER_SEQUENCE, 1)}}


if __name__ == "__main__":
  print(json.dumps(run(), indent=2))
