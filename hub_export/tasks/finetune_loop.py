"""Fine-tuning under `tf.distribute` as the original run_squad.py and run_classifier.py train.

AdamW (weight decay 0.01 except on norm weights and biases, epsilon 1e-6), the rate warmed up
linearly over the first 10% of the steps and decayed linearly to 0, gradients clipped to a
global norm of 1. Each step reads the rows `finetune_data.step_rows` gives (the same global
batch under any strategy, split over the replicas); the loss is normalized by the global batch
and gradients are summed over replicas, so a mirrored run computes the single-device run.
`--model_dir` holds checkpoints (the model, the optimizer with its step count, and the run's
settings) to resume from, and TensorBoard scalars.
"""

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras

from hub_export.distillation import schedules
from hub_export.distillation.optimizer import NO_DECAY_LEAVES
from hub_export.distillation.student import leaf_name
from hub_export.support.errors import HubExportError
from hub_export.signatures import END_LOGITS, LOGITS, START_LOGITS
from hub_export.support.progress import progress
from hub_export.support.summaries import scalar
from hub_export.tasks import finetune_data, squad_windows
from hub_export.weight_layout import SPAN

CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
WEIGHT_DECAY, EPSILON, CLIP_NORM, WARMUP_PROPORTION = 0.01, 1e-6, 1.0, 0.1


@dataclasses.dataclass(frozen=True)
class TrainSettings:
  epochs: int
  batch_size: int
  learning_rate: float
  seed: int
  checkpoint_every: int = 1000

  def total_steps(self, count: int) -> int:
    return self.epochs * finetune_data.steps_per_epoch(count, self.batch_size)


class WarmupLinearDecay(tf_keras.optimizers.schedules.LearningRateSchedule):
  """The original's rate: linear warm-up to `peak` over `warmup_steps`, then linear decay to 0 at `total_steps`."""

  def __init__(self, peak: float, total_steps: int, warmup_steps: int):
    super().__init__()
    self.peak, self.total_steps, self.warmup_steps = peak, total_steps, warmup_steps

  def __call__(self, step):
    return schedules.learning_rate(step, self.total_steps, self.peak, 0.0, self.warmup_steps)

  def get_config(self):
    return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}


def example_losses(kind: str, regression: bool, outputs: dict, batch: dict):
  """Per-example loss [batch]: the mean of the start and end cross-entropies for spans (as the
  original), cross-entropy for labels, squared error for a regression."""
  entropy = tf.nn.sparse_softmax_cross_entropy_with_logits
  if kind == SPAN:
    return (entropy(batch[squad_windows.START_POSITIONS], outputs[START_LOGITS])
            + entropy(batch[squad_windows.END_POSITIONS], outputs[END_LOGITS])) / 2.0
  if regression:
    return tf.square(outputs[LOGITS][:, 0] - batch[finetune_data.LABELS])
  return entropy(batch[finetune_data.LABELS], outputs[LOGITS])


class FineTuner:
  """Trains `network` on `arrays` (encoder inputs and targets) into `run_dir`, resuming from its checkpoints."""

  def __init__(self, strategy, network, arrays: dict, settings: TrainSettings, run_dir: Path, describe: dict,
               regression: bool = False):
    self.strategy, self.network, self.arrays, self.settings = strategy, network, arrays, settings
    self.count = len(next(iter(arrays.values())))
    self.total_steps = settings.total_steps(self.count)
    self.regression = regression
    self.rate = WarmupLinearDecay(settings.learning_rate, self.total_steps, int(WARMUP_PROPORTION * self.total_steps))
    self.variables = network.trained_weights()
    with strategy.scope():
      self.optimizer = tf_keras.optimizers.AdamW(self.rate, weight_decay=WEIGHT_DECAY, beta_1=0.9, beta_2=0.999,
                                                 epsilon=EPSILON)
      self.optimizer.exclude_from_weight_decay(
          var_list=[v for v in self.variables if leaf_name(v) in NO_DECAY_LEAVES])
      self.optimizer.build(self.variables)
    # What the checkpoints were made for: a resume with other settings or data is refused.
    fixed = {k: v for k, v in dataclasses.asdict(settings).items() if k != "checkpoint_every"}
    data = hashlib.sha256(b"".join(arrays[name].tobytes() for name in sorted(arrays))).hexdigest()
    self.describe = json.dumps({**describe, **fixed, "rows": self.count, "data_sha256": data}, sort_keys=True)
    self.run_settings = tf.Variable(self.describe, dtype=tf.string, trainable=False, name="run_settings")
    self.checkpoint = tf.train.Checkpoint(network=network, optimizer=self.optimizer, run_settings=self.run_settings)
    self.manager = tf.train.CheckpointManager(self.checkpoint, str(run_dir / CHECKPOINTS), max_to_keep=2)
    self.writer = tf.summary.create_file_writer(str(run_dir / TENSORBOARD))
    self._step = None

  def check_resumable(self) -> None:
    """Refuses, before any training, a checkpoint made with other settings."""
    latest = self.manager.latest_checkpoint
    if latest is None:
      return
    stored = tf.train.load_variable(latest, "run_settings/.ATTRIBUTES/VARIABLE_VALUE").decode("utf-8")
    if stored != self.describe:
      raise HubExportError(f"checkpoint {latest} was made by a run with other settings or data ({stored}); this run "
                           f"has {self.describe}: pass --overwrite to start afresh, or use another --model_dir")

  def _replica_step(self, batch):
    with tf.GradientTape() as tape:
      outputs = self.network(batch, training=True)
      loss = tf.reduce_sum(example_losses(self.network.kind, self.regression, outputs, batch))
      loss /= self.settings.batch_size  # the replicas' shares sum to the global mean
    gradients = tape.gradient(loss, self.variables)
    gradients = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(gradients, self.variables)]
    gradients = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, gradients)
    gradients, _ = tf.clip_by_global_norm(gradients, CLIP_NORM)
    self.optimizer.apply_gradients(zip(gradients, self.variables), skip_gradients_aggregation=True)
    return loss

  def _step_function(self):
    if self._step is None:
      @tf.function(autograph=False)
      def step(batch):
        loss = self.strategy.run(self._replica_step, args=(batch,))
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
      self._step = step
    return self._step

  def _distribute(self, rows: np.ndarray):
    share = self.settings.batch_size // self.strategy.num_replicas_in_sync

    def slice_for(context):
      mine = rows[context.replica_id_in_sync_group * share:][:share]
      return {name: tf.constant(values[mine]) for name, values in self.arrays.items()}

    return self.strategy.experimental_distribute_values_from_function(slice_for)

  def run(self, log=print, until=None) -> float:
    """Runs (or resumes) the steps up to `until` (default: all); returns the last step's loss (NaN if none ran)."""
    if self.settings.batch_size % self.strategy.num_replicas_in_sync:
      raise HubExportError(f"--batch_size {self.settings.batch_size} does not split evenly over "
                           f"{self.strategy.num_replicas_in_sync} replicas")
    self.check_resumable()
    if self.manager.latest_checkpoint:
      self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
      log(f"resuming from {self.manager.latest_checkpoint}")
    first = int(self.optimizer.iterations.numpy())
    until = self.total_steps if until is None else min(until, self.total_steps)
    loss = float("nan")
    with progress(self.total_steps, "fine-tune", initial=first) as bar, self.writer.as_default():
      for step in range(first, until):
        rows = finetune_data.step_rows(self.count, step, self.settings.batch_size, self.settings.seed)
        loss = float(self._step_function()(self._distribute(rows)))
        scalar("loss", loss, step)
        scalar("learning_rate", self.rate(step), step)
        bar.update()
        if (step + 1) % self.settings.checkpoint_every == 0 or step + 1 == until:
          self.manager.save(checkpoint_number=step + 1)
    self.writer.flush()
    return loss
