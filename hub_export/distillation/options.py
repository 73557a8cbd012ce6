"""Every rate and factor of a transfer run, defaulting to the published values (Model Garden's
`LayerWiseDistillConfig` / `PretrainDistillConfig`, the original run's flags). No TensorFlow
here, so the command answers --help without loading it."""

import dataclasses
from typing import Optional, Tuple

MODEL_GARDEN, ORIGINAL = "model_garden", "original"
SCHEDULES = (MODEL_GARDEN, ORIGINAL)
# How the workers of a multi-worker run split the data (tf.data's AutoShardPolicy of the same name).
FILE, DATA = "file", "data"
SHARD_POLICIES = (FILE, DATA)


@dataclasses.dataclass(frozen=True)
class LayerFactors:
  feature_map: float = 100.0  # hidden_distill_factor
  mean: float = 5000.0  # beta_distill_factor
  variance: float = 5.0  # gamma_distill_factor
  attention: float = 1.0  # attention_distill_factor


@dataclasses.dataclass(frozen=True)
class TrainOptions:
  schedule: str = MODEL_GARDEN
  steps_per_stage: int = 10000
  distill_steps: int = 500000
  batch_size: int = 2048
  layer_learning_rate: float = 1.5e-3  # constant in the layer stages
  learning_rate: float = 1.5e-3  # distillation: warm-up to this, then linear decay
  end_learning_rate: float = 1.5e-7
  warmup_steps: int = 10000
  weight_decay: float = 0.01
  clip_norm: float = 1.0
  factors: LayerFactors = LayerFactors()
  ground_truth_ratio: float = 0.5
  checkpoint_every: int = 1000
  seed: int = 0  # the student's start and the data order
  shuffle_buffer: int = 10000  # records shuffled together
  shard_policy: str = FILE
  transfer_teacher_layers: Optional[Tuple[int, ...]] = None  # the teacher block each student block learns from
  mixed_precision: bool = False  # bfloat16 compute, float32 variables (Keras' mixed_bfloat16)
  jit_compile: bool = False  # each stage's train step compiled with XLA (one replica)
