"""Deterministic stand-in weights for a release-layout checkpoint, in pure numpy.

Tests need checkpoints with the exact release layout but without the real (large,
downloaded) weights. The values come from one `numpy.random.default_rng(seed)` stream,
drawn in table order, in float32, so the same (config, seed) gives bit-identical tensors on
any machine and numpy version, with or without TensorFlow (the golden-output script feeds
the same values to PyTorch). Scales keep even a 24-layer no_norm network finite and its
activations well away from zero or saturation (checked with `tools/make_hf_golden.py
--deep-check`): kernels ~ N(0, 1) * gain / sqrt(fan_in), norm gammas ~ 1 + 0.05 N, betas
and biases small, embedding tables ~ N(0, 0.25^2).
"""

import hashlib
from collections.abc import Iterator
from typing import Optional

import numpy as np

from hub_export.checkpoint.tf1_names import next_sentence_head_shapes, tf1_variable_shapes
from hub_export.config import MobileBertConfig
from hub_export.weight_layout import TaskHead

KERNEL_GAIN = 0.5
# Query/key kernels get a larger gain so attention is peaked (neither uniform, which would
# hide errors in the score path, nor one-hot). no_norm leaves block inputs about 4x
# smaller than layer_norm's unit scale, hence the larger gain there.
QUERY_KEY_GAIN = {"no_norm": 8.0, "layer_norm": 2.0}
EMBEDDING_STD = 0.25
BIAS_STD = 0.02
NORM_STD = 0.05
SLOT_STD = 1e-3


def _draw(rng: np.random.Generator, name: str, shape: tuple, query_key_gain: float) -> np.ndarray:
  value = rng.standard_normal(shape, dtype=np.float32)
  leaf = name.rsplit("/", 1)[-1]
  if leaf in ("kernel", "output_weights"):
    # Dense kernels are [in, out]; the next-sentence and task head weights are [labels, H] and read H.
    fan_in = shape[-1] if leaf == "output_weights" else shape[0]
    gain = query_key_gain if name.endswith(("/self/query/kernel", "/self/key/kernel")) else KERNEL_GAIN
    value *= np.float32(gain / np.sqrt(fan_in))
  elif leaf == "gamma":
    value *= np.float32(NORM_STD)
    value += np.float32(1.0)
  elif leaf == "beta":
    value *= np.float32(NORM_STD)
  elif leaf in ("bias", "output_bias"):
    value *= np.float32(BIAS_STD)
  else:  # embedding tables and extra_output_weights
    value *= np.float32(EMBEDDING_STD)
  return value


def release_shapes(config: MobileBertConfig, with_next_sentence_head: bool = True,
                   task_head: Optional[TaskHead] = None) -> dict[str, tuple]:
  """The float variables a release holds, in the order their values are drawn.

  With `task_head`, those of a checkpoint the original fine-tuning code saves: the encoder and
  that head, no pre-training heads (`with_next_sentence_head` does not apply). The encoder comes
  first either way, so a seed gives the same encoder values with any head.
  """
  shapes = tf1_variable_shapes(config, task_head)
  if with_next_sentence_head and task_head is None:
    shapes.update(next_sentence_head_shapes(config))
  return shapes


def release_values(config: MobileBertConfig, seed: int, *, with_next_sentence_head: bool = True,
                   task_head: Optional[TaskHead] = None) -> Iterator[tuple[str, np.ndarray]]:
  """Yields (name, float32 array) for every float variable, one at a time to stay lean."""
  rng = np.random.default_rng(seed)
  query_key_gain = QUERY_KEY_GAIN[config.normalization_type]
  for name, shape in release_shapes(config, with_next_sentence_head, task_head).items():
    yield name, _draw(rng, name, shape, query_key_gain)


def optimizer_slot_values(config: MobileBertConfig, seed: int, *, with_next_sentence_head: bool = True,
                          task_head: Optional[TaskHead] = None) -> Iterator[tuple[str, np.ndarray]]:
  """Yields Adam `adam_m`/`adam_v` slots for every variable, from a stream apart from the weights.

  Kept on its own stream so adding slots never changes the weights of the same seed.
  """
  rng = np.random.default_rng([seed, 1])
  for name, shape in release_shapes(config, with_next_sentence_head, task_head).items():
    yield f"{name}/adam_m", rng.standard_normal(shape, dtype=np.float32) * np.float32(SLOT_STD)
    yield f"{name}/adam_v", np.abs(rng.standard_normal(shape, dtype=np.float32)) * np.float32(SLOT_STD ** 2)


def values_sha256(config: MobileBertConfig, seed: int, *, with_next_sentence_head: bool = True,
                  task_head: Optional[TaskHead] = None) -> str:
  """Fingerprint of the weights for (config, seed): golden files record it, so a test can
  tell changed weights from a changed model."""
  digest = hashlib.sha256()
  for name, value in release_values(config, seed, with_next_sentence_head=with_next_sentence_head,
                                    task_head=task_head):
    digest.update(f"{name}{value.shape}".encode())
    digest.update(value.tobytes())
  return digest.hexdigest()
