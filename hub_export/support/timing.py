"""The median time of a call: what the benches and a card's latency column report."""

import statistics
import time


def median_call_ms(call, inputs, calls: int, warmup: int = 1) -> float:
  """Median milliseconds of `calls` calls of `call(inputs)`, after `warmup` untimed ones."""
  for _ in range(warmup):
    call(inputs)
  times = []
  for _ in range(calls):
    start = time.perf_counter()
    call(inputs)
    times.append(time.perf_counter() - start)
  return statistics.median(times) * 1e3
