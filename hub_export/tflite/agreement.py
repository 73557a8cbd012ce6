"""How closely a .tflite encoder reproduces the TF model: per-token error and cosine similarity.

Only real positions count (input_mask 1): padding rows are not part of the encoder
contract. `pooled_output` is scored once per example, `sequence_output` once per real token.
"""

import dataclasses

import numpy as np

from hub_export import signatures as sig


def row_relative_errors(got: np.ndarray, want: np.ndarray) -> np.ndarray:
  """||got - want|| / ||want|| for each row (last axis)."""
  return np.linalg.norm(got - want, axis=-1) / np.linalg.norm(want, axis=-1)


def row_cosines(got: np.ndarray, want: np.ndarray) -> np.ndarray:
  """Cosine similarity of each pair of rows (last axis)."""
  return np.sum(got * want, axis=-1) / (np.linalg.norm(got, axis=-1) * np.linalg.norm(want, axis=-1))


@dataclasses.dataclass(frozen=True)
class Agreement:
  examples: int
  tokens: int
  max_relative_error: float  # over pooled outputs and real sequence rows
  pooled_cosine_mean: float
  pooled_cosine_min: float
  sequence_cosine_mean: float
  sequence_cosine_min: float

  def summary(self) -> str:
    return (f"{self.examples} examples, {self.tokens} tokens: max per-token relative error "
            f"{self.max_relative_error:.3g}; cosine pooled mean {self.pooled_cosine_mean:.5f} "
            f"min {self.pooled_cosine_min:.5f}, sequence mean {self.sequence_cosine_mean:.5f} "
            f"min {self.sequence_cosine_min:.5f}")


def measure(inputs: list, got: list, want: list) -> Agreement:
  """Scores outputs `got` against `want`, both lists of output dicts for the same `inputs`."""
  pooled_got = np.concatenate([g[sig.POOLED_OUTPUT] for g in got])
  pooled_want = np.concatenate([w[sig.POOLED_OUTPUT] for w in want])
  real = np.concatenate([x[sig.INPUT_MASK] for x in inputs]).astype(bool)
  seq_got = np.concatenate([g[sig.SEQUENCE_OUTPUT] for g in got])[real]
  seq_want = np.concatenate([w[sig.SEQUENCE_OUTPUT] for w in want])[real]
  pooled_cos, seq_cos = row_cosines(pooled_got, pooled_want), row_cosines(seq_got, seq_want)
  errors = np.concatenate([row_relative_errors(pooled_got, pooled_want), row_relative_errors(seq_got, seq_want)])
  return Agreement(
      examples=len(inputs), tokens=int(real.sum()),
      max_relative_error=float(np.max(errors)),
      pooled_cosine_mean=float(np.mean(pooled_cos)), pooled_cosine_min=float(np.min(pooled_cos)),
      sequence_cosine_mean=float(np.mean(seq_cos)), sequence_cosine_min=float(np.min(seq_cos)))
