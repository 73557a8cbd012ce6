"""How closely a .tflite file reproduces its source: per-token error and cosine similarity, and the check every
written file passes before it is renamed into place (float within FLOAT_TOLERANCE, any variant finite).

Only real positions count (input_mask 1): padding rows are not part of the encoder
contract. `pooled_output` is scored once per example, `sequence_output` once per real token.
"""

import dataclasses

import numpy as np

from hub_export import signatures as sig
from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG

# The float model must reproduce the source to this per-token relative error.
FLOAT_TOLERANCE = 1e-4


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


def check_classifier(model_path, quantize, probes, reference) -> None:
  """The written classifier on the probes: float within FLOAT_TOLERANCE, any variant finite."""
  from hub_export.tflite.model_info import PROBABILITY
  from hub_export.tflite.runtime import TFLiteEncoder

  classifier = TFLiteEncoder(model_path, output_keys=(PROBABILITY,))
  got = np.concatenate([classifier(p)[PROBABILITY] for p in probes])
  want = np.concatenate([r[PROBABILITY] for r in reference])
  error = float(np.max(np.abs(got - want))) if np.all(np.isfinite(got)) else float("inf")
  same = float(np.mean(got.argmax(-1) == want.argmax(-1)))
  LOG.info("LiteRT vs source (%s): %d texts, max probability difference %.3g, same class %.0f%%",
           quantize, len(probes), error, same * 100)
  _refuse_unless_close(quantize, error, "classifier", "outputs", "probability difference")


def check_task_logits(model_path, quantize, probes, reference, keys: tuple, model: str) -> None:
  """The written task model (`model`: "question answerer", "classifier") on the probe windows: float logits
  `keys` within FLOAT_TOLERANCE (relative, per window) of the source's, any variant finite; how often the
  best position or class agrees is logged."""
  from hub_export.tflite.runtime import TFLiteEncoder

  tflite = TFLiteEncoder(model_path, output_keys=keys)
  got = [tflite(p) for p in probes]
  pairs = [(g[key], r[key]) for g, r in zip(got, reference) for key in keys]
  finite = all(np.all(np.isfinite(g)) for g, _ in pairs)
  error = float(max(np.max(row_relative_errors(g, w)) for g, w in pairs)) if finite else float("inf")
  same = float(np.mean([np.argmax(g) == np.argmax(w) for g, w in pairs]))
  LOG.info("LiteRT vs source (%s): %d windows, max relative logit error %.3g, same best %s %.0f%%",
           quantize, len(probes), error, " and ".join(keys), same * 100)
  _refuse_unless_close(quantize, error, model, "logits", "relative logit error")


def _refuse_unless_close(quantize: str, error: float, model: str, outputs: str, measure: str) -> None:
  """Any variant must give finite outputs (`error` is inf or nan otherwise); the float one must be within
  FLOAT_TOLERANCE."""
  if not error < float("inf"):
    raise HubExportError(f"the {quantize} .tflite {model} gives non-finite {outputs}")
  if quantize == "none" and not error <= FLOAT_TOLERANCE:
    raise HubExportError(f"the float .tflite {model} differs from the source: {measure} {error:.3g} > "
                         f"{FLOAT_TOLERANCE}")


def check_encoder(model_path, quantize, probes, reference, lines=None) -> None:
  """Runs the written file with LiteRT on the probes (or on their `lines`, for a model taking text); the float
  model must match the source."""
  from hub_export.tflite.runtime import TFLiteEncoder, TFLiteTextEncoder

  if lines is None:
    encoder = TFLiteEncoder(model_path)
    got = [encoder(p) for p in probes]
  else:
    encoder = TFLiteTextEncoder(model_path)
    got = [encoder(line) for line in lines]
  agreement = measure(probes, got, reference)
  LOG.info("LiteRT vs source (%s): %s", quantize, agreement.summary())
  _refuse_unless_close(quantize, agreement.max_relative_error, "model", "outputs", "per-token relative error")
