"""What the encoder input-contract checks cost: the same traced encoder with and without them.

    .venv/bin/python bench/bench_input_checks.py [--repeats 30]

Builds the full-size English OPT model (random weights; timing only), traces the encoder
once plain and once behind `checked_encoder_inputs`, and reports the median latency of
each at batch 1 and batch 32, sequence 128, interleaving the two so load affects both.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from hub_export.config import MobileBertConfig  # noqa: E402
from hub_export.savedmodel.input_contract import checked_encoder_inputs  # noqa: E402
from hub_export.model import build_mobilebert  # noqa: E402


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--repeats", type=int, default=30)
  args = parser.parse_args()
  model = build_mobilebert(MobileBertConfig(vocab_size=30522))
  plain = tf.function(lambda x: model.encoder(x, training=False)["pooled_output"])
  checked = tf.function(lambda x: model.encoder(checked_encoder_inputs(x, model.config), training=False)["pooled_output"])
  for batch in (1, 32):
    ids = tf.constant(np.random.default_rng(0).integers(0, 30522, [batch, 128]), tf.int32)
    inputs = {"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)}
    times = {"plain": [], "checked": []}
    for fn in (plain, checked):
      fn(inputs).numpy()
    repeats = args.repeats if batch == 1 else max(3, args.repeats // 6)
    for _ in range(repeats):
      for name, fn in (("plain", plain), ("checked", checked)):
        start = time.perf_counter()
        fn(inputs).numpy()
        times[name].append(time.perf_counter() - start)
    p, c = (statistics.median(times[k]) * 1000 for k in ("plain", "checked"))
    print(f"batch {batch:2d} seq 128: plain {p:7.1f} ms, checked {c:7.1f} ms, checks cost {c - p:+.2f} ms "
          f"({(c - p) / p:+.1%})")


if __name__ == "__main__":
  main()
