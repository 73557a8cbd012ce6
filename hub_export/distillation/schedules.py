"""The two published progressive-transfer schedules: which variables start as the teacher's,
how fast each part trains in each stage, and the learning rates.

Stages 0..L-1 transfer block k's feature map and attention; stage L is pre-training
distillation. Both schedules start each stage with a fresh optimizer.

* `model_garden` (default; `official/projects/mobilebert/distillation.py`): only the
  embedding starts as the teacher's; in stage k the embedding and blocks 0..k train at the
  stage rate and the stage loss is divided by k + 1.
* `original` (google-research/mobilebert `run_pretraining.py`): every non-encoder
  variable starts as the teacher's (the embedding and the masked-LM head); nothing is
  frozen, the learning rate is scaled per block: x0 before the block's stage, x3 during
  it, x0.3 after. The embedding trains as a block whose stage is past (x0.3), this
  project's choice: the original code's layer-wise phases give every variable outside
  the encoder blocks a rate of 0, and warm the rate up again at each phase's start.
"""

import dataclasses

from hub_export.distillation.options import MODEL_GARDEN, ORIGINAL, SCHEDULES
COPY_EMBEDDING, COPY_NON_ENCODER = "embedding", "embedding and masked-LM head"


@dataclasses.dataclass(frozen=True)
class Rates:
  """Learning-rate multipliers for one stage: per block, the embedding, the pre-training heads."""
  blocks: tuple
  embedding: float
  heads: float


@dataclasses.dataclass(frozen=True)
class Schedule:
  name: str
  copies: str
  before_rate: float  # blocks whose stage has not come
  during_rate: float
  after_rate: float  # blocks whose stage is past
  embedding_rate: float
  divide_by_stage: bool

  def layer_stage_rates(self, stage: int, num_layers: int) -> Rates:
    blocks = tuple(self.after_rate if layer < stage else self.during_rate if layer == stage else self.before_rate
                   for layer in range(num_layers))
    return Rates(blocks=blocks, embedding=self.embedding_rate, heads=0.0)

  def loss_scale(self, stage: int) -> float:
    return 1.0 / (stage + 1) if self.divide_by_stage else 1.0


def distillation_rates(num_layers: int) -> Rates:
  """The last stage trains everything at the schedule's learning rate."""
  return Rates(blocks=(1.0,) * num_layers, embedding=1.0, heads=1.0)


def get_schedule(name: str) -> Schedule:
  if name == MODEL_GARDEN:
    return Schedule(MODEL_GARDEN, COPY_EMBEDDING, before_rate=0.0, during_rate=1.0, after_rate=1.0,
                    embedding_rate=1.0, divide_by_stage=True)
  if name == ORIGINAL:
    return Schedule(ORIGINAL, COPY_NON_ENCODER, before_rate=0.0, during_rate=3.0, after_rate=0.3,
                    embedding_rate=0.3, divide_by_stage=False)
  raise ValueError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULES)}")


def learning_rate(step, total_steps: int, initial: float, end: float, warmup_steps: int):
  """Linear warm-up to `initial`, then linear (power 1) decay to `end` at `total_steps`.

  A tensor function of the 0-based `step`; with `initial == end` and no warm-up it is constant
  (the layer stages).
  """
  import tensorflow as tf

  step = tf.cast(step, tf.float32)
  decay = tf.minimum(step / max(total_steps, 1), 1.0)
  decayed = (initial - end) * (1.0 - decay) + end
  if warmup_steps <= 0:
    return decayed
  return tf.where(step < warmup_steps, initial * (step + 1.0) / warmup_steps, decayed)
