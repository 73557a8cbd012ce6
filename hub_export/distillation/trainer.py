"""Progressive knowledge transfer under `tf.distribute`: one stage a block, then distillation.

The run is a sequence of global steps; `StageLayout` maps each to its stage and the step
within it. Each step reads the next global batch of the data stream (`inputs.py`: the same
batches under one device, mirrored replicas or data-sharded workers, split evenly over the
replicas), every loss is normalized by global weight sums, and gradients are summed over
replicas, so a mirrored run computes the single-device run.
Checkpoints hold the student, the optimizer, the global step and the stage layout, so a run
resumes where it stopped and refuses a checkpoint made for another layout. Each step's loss
terms and learning rate also go to TensorBoard event files in `train/` (Model Garden's summary
folder).
"""

import contextlib
import dataclasses
import json
from pathlib import Path

import tensorflow as tf
import tf_keras

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig
from hub_export.distillation import inputs, losses, records, schedules
from hub_export.distillation.optimizer import Lamb
from hub_export.distillation.options import TrainOptions
from hub_export.distillation.student import (Pretrainer, embedding_pairs, masked_lm_pairs,
                                             seeded_initialization)
from hub_export.support.errors import HubExportError
from hub_export.support import summaries
from hub_export.support.progress import progress

LOSS_LOG = "losses.jsonl"
CHECKPOINTS = "checkpoints"
SUMMARIES = "train"  # TensorBoard's event files, named as Model Garden's trainers name them
MIXED_POLICY = "mixed_bfloat16"


@dataclasses.dataclass(frozen=True)
class StageLayout:
  num_layers: int
  steps_per_stage: int
  distill_steps: int
  schedule: str
  teacher_layers: tuple = ()  # the teacher block each stage transfers from

  @property
  def total_steps(self) -> int:
    return self.num_layers * self.steps_per_stage + self.distill_steps

  def locate(self, step: int):
    """(stage, step within the stage) of a global step; stage `num_layers` is distillation."""
    stage = min(step // self.steps_per_stage, self.num_layers) if self.steps_per_stage else self.num_layers
    return stage, step - stage * self.steps_per_stage

  def describe(self) -> str:
    return json.dumps(dataclasses.asdict(self), sort_keys=True)


def check_pair(teacher: MobileBertConfig, student: MobileBertConfig, teacher_layers=None) -> None:
  """What transfer needs the two networks to share; one line naming the first mismatch."""
  if teacher_layers is not None:
    check_teacher_layers(teacher_layers, teacher, student)
  why = {"hidden_size": "layer transfer compares their block outputs",
         "num_attention_heads": "attention transfer compares them head by head",
         "num_hidden_layers": ("without --transfer_teacher_layers each student block learns from the teacher block "
                               "at its depth"),
         "vocab_size": "distillation compares their masked-LM distributions",
         "embedding_size": "the student's embedding starts as the teacher's",
         "trigram_input": "the student's embedding starts as the teacher's",
         "max_position_embeddings": "the student's embedding starts as the teacher's",
         "type_vocab_size": "the student's embedding starts as the teacher's"}
  for key, reason in why.items():
    if getattr(teacher, key) != getattr(student, key) and not (key == "num_hidden_layers" and teacher_layers):
      raise HubExportError(f"teacher {key} {getattr(teacher, key)} differs from student {key} "
                           f"{getattr(student, key)}: {reason}")


def check_teacher_layers(teacher_layers, teacher: MobileBertConfig, student: MobileBertConfig) -> None:
  """Model Garden's `transfer_teacher_layers`: one teacher block index (from 0) for each student block."""
  if len(teacher_layers) != student.num_hidden_layers:
    raise HubExportError(f"--transfer_teacher_layers names {len(teacher_layers)} teacher block(s), the student has "
                         f"{student.num_hidden_layers}: name one for each student block")
  wrong = [index for index in teacher_layers if not 0 <= index < teacher.num_hidden_layers]
  if wrong:
    raise HubExportError(f"--transfer_teacher_layers {wrong[0]} is not a teacher block: the teacher has "
                         f"{teacher.num_hidden_layers}, numbered from 0")


def check_data(metadata: dict, config: MobileBertConfig, options: TrainOptions, replicas: int) -> None:
  check_data_fits(metadata, config)
  for path, first in records.first_records(metadata):
    largest = max(int(first["input_ids"].max()), int(first["masked_lm_ids"].max()))
    if largest >= config.vocab_size:
      raise HubExportError(f"shard {path}: its first record holds token id {largest}, beyond the model's vocab_size "
                           f"{config.vocab_size}")
  if options.batch_size % replicas:
    raise HubExportError(f"--batch_size {options.batch_size} does not split evenly over {replicas} replicas")
  if options.jit_compile and replicas > 1:
    # The step's optimizer update and all-reduces run across replicas, which one XLA computation cannot hold.
    raise HubExportError(f"--jit_compile compiles the train step for one replica, not {replicas}: "
                         f"drop --jit_compile or run on one device")


def check_data_fits(metadata: dict, config: MobileBertConfig) -> None:
  """The data's token ids and lengths are ones the model can read."""
  if metadata["vocab_size"] > config.vocab_size:
    raise HubExportError(f"the data's vocab has {metadata['vocab_size']} tokens, more than the model's vocab_size "
                         f"{config.vocab_size}")
  if metadata["seq_length"] > config.max_position_embeddings:
    raise HubExportError(f"the data's seq_length {metadata['seq_length']} exceeds max_position_embeddings "
                         f"{config.max_position_embeddings}")


def model_inputs(batch) -> dict:
  return {sig.INPUT_WORD_IDS: batch["input_ids"], sig.INPUT_MASK: batch["input_mask"],
          sig.INPUT_TYPE_IDS: batch["segment_ids"], sig.MASKED_LM_POSITIONS: batch["masked_lm_positions"]}


PRETRAINING = "pretraining"  # the layout's schedule name without a teacher


@contextlib.contextmanager
def precision(mixed: bool):
  """Keras layers built in the block compute in bfloat16 and keep float32 variables (`mixed_bfloat16`) when
  `mixed`; the global policy is restored after it."""
  previous = tf_keras.mixed_precision.global_policy()
  tf_keras.mixed_precision.set_global_policy(MIXED_POLICY if mixed else previous)
  try:
    yield
  finally:
    tf_keras.mixed_precision.set_global_policy(previous)


def _float32(tensors):
  """Losses are computed in float32 from bfloat16 activations, as Keras' mixed-precision guide asks."""
  return [None if t is None else tf.cast(t, tf.float32) for t in tensors]


class Trainer:
  """Builds teacher and student under `strategy`, then runs or resumes the stages into `out`.

  With `teacher` None the run is plain pre-training (masked LM + next sentence) of the
  network from scratch: no layer stages, one-hot targets. That trains a teacher, or the
  from-scratch baseline of a student.
  """

  def __init__(self, strategy, teacher, student_config: MobileBertConfig, data: dict, out: Path,
               options: TrainOptions):
    """`data`: records.read_metadata's dict of the data folder."""
    self.strategy, self.teacher, self.data, self.out, self.options = strategy, teacher, data, out, options
    self.schedule = schedules.get_schedule(options.schedule)
    if teacher is None:
      self.layout = StageLayout(0, 0, options.distill_steps, PRETRAINING)
    else:
      num_layers = student_config.num_hidden_layers
      self.layout = StageLayout(num_layers, options.steps_per_stage, options.distill_steps, options.schedule,
                                tuple(options.transfer_teacher_layers or range(num_layers)))
    with strategy.scope():
      self.student = Pretrainer(student_config)
      self.variables = list(self.student.trainable_variables)
      blocks = self.student.block_variables()
      self.optimizer = Lamb(self.variables, [id(v) in blocks for v in self.variables],
                            weight_decay=options.weight_decay, clip_norm=options.clip_norm)
      self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    self.stage_layout = tf.Variable(self.layout.describe(), dtype=tf.string, trainable=False, name="stage_layout")
    self.checkpoint = tf.train.Checkpoint(student=self.student, optimizer=self.optimizer,
                                          global_step=self.global_step, stage_layout=self.stage_layout)
    self.manager = tf.train.CheckpointManager(self.checkpoint, str(out / CHECKPOINTS), max_to_keep=2)
    self._step_functions = {}

  # -- start or resume ---------------------------------------------------------------------------

  def check_resumable(self) -> None:
    """Refuses, before any training, a checkpoint made for another stage layout."""
    latest = self.manager.latest_checkpoint
    if latest is None:
      return
    stored = tf.train.load_variable(latest, "stage_layout/.ATTRIBUTES/VARIABLE_VALUE").decode("utf-8")
    if stored != self.layout.describe():
      raise HubExportError(f"checkpoint {latest} was made for another stage layout ({stored}); this run has "
                           f"{self.layout.describe()}: use a new --out or the same settings")

  def start(self) -> int:
    """Restores the latest checkpoint, or initializes the student; returns the first step to run."""
    self.check_resumable()
    if self.manager.latest_checkpoint:
      self.checkpoint.restore(self.manager.latest_checkpoint).assert_consumed()
      return int(self.global_step.numpy())
    seeded_initialization(self.variables, self.student.config, self.options.seed)
    if self.teacher is None:
      return 0
    pairs = embedding_pairs(self.teacher, self.student.model)
    if self.schedule.copies == schedules.COPY_NON_ENCODER:
      pairs += masked_lm_pairs(self.teacher, self.student.model)
    for teacher_variable, student_variable in pairs:
      student_variable.assign(teacher_variable)
    return 0

  # -- one step ----------------------------------------------------------------------------------

  def _rate_scales(self, stage: int) -> list:
    num_layers = self.student.config.num_hidden_layers
    rates = (self.schedule.layer_stage_rates(stage, num_layers) if stage < self.layout.num_layers
             else schedules.distillation_rates(num_layers))
    blocks, embedding = self.student.block_variables(), self.student.embedding_variables()
    return [rates.blocks if id(v) in blocks else rates.embedding if id(v) in embedding else rates.heads
            for v in self.variables]

  def _learning_rate(self, stage: int, step_in_stage):
    o = self.options
    if stage < self.layout.num_layers:
      return schedules.learning_rate(step_in_stage, o.steps_per_stage, o.layer_learning_rate,
                                     o.layer_learning_rate, 0)
    return schedules.learning_rate(step_in_stage, o.distill_steps, o.learning_rate, o.end_learning_rate,
                                   o.warmup_steps)

  def _stage_loss(self, stage: int, batch) -> dict:
    """This replica's share of the global-batch loss terms (they sum to the global loss)."""
    context = tf.distribute.get_replica_context()
    inputs = model_inputs(batch)
    global_sum = lambda x: context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(tf.cast(x, tf.float32)))
    if stage < self.layout.num_layers:
      block = self.layout.teacher_layers[stage]
      teacher = self.teacher.encoder.transfer_outputs(inputs, block + 1, training=False)
      student = self.student.model.encoder.transfer_outputs(inputs, stage + 1, training=True)
      terms = losses.layer_transfer_losses(
          *_float32([teacher["block_outputs"][block], student["block_outputs"][stage], teacher["attentions"][block],
                     student["attentions"][stage]]), batch["input_mask"], self.options.factors,
          normalizer=global_sum(batch["input_mask"]))
      terms["loss"] = terms.pop("total") * self.schedule.loss_scale(stage)
      return terms
    teacher_logits = None if self.teacher is None else self.teacher.mlm_logits(inputs, training=False)[1]
    mlm_logits, next_sentence_logits, teacher_logits = _float32(
        [*self.student.pretraining_logits(inputs, training=True), teacher_logits])
    terms = {
        "masked_lm": losses.masked_lm_distillation_loss(
            mlm_logits, teacher_logits, batch["masked_lm_ids"], batch["masked_lm_weights"],
            self.options.ground_truth_ratio, normalizer=global_sum(batch["masked_lm_weights"])),
        "next_sentence": losses.next_sentence_loss(next_sentence_logits, batch["next_sentence_labels"],
                                                   normalizer=global_sum(tf.ones_like(batch["input_ids"][:, 0]))),
    }
    terms["loss"] = terms["masked_lm"] + terms["next_sentence"]
    return terms

  def _replica_step(self, stage: int, batch, step_in_stage):
    with tf.GradientTape() as tape:
      terms = self._stage_loss(stage, batch)
    gradients = tape.gradient(terms["loss"], self.variables)
    gradients = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(gradients, self.variables)]
    gradients = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, gradients)
    self.optimizer.apply(gradients, self._learning_rate(stage, step_in_stage), self._rate_scales(stage))
    return terms

  def _step_function(self, stage: int):
    if stage not in self._step_functions:
      @tf.function(jit_compile=self.options.jit_compile, autograph=False)
      def step(batch, step_in_stage):
        terms = self.strategy.run(lambda b, s: self._replica_step(stage, b, s), args=(batch, step_in_stage))
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in terms.items()}
      self._step_functions[stage] = step
    return self._step_functions[stage]

  def batches(self, first_step: int):
    """The distributed global batches from step `first_step` on."""
    o = self.options
    dataset_for = lambda context: inputs.training_dataset(
        self.data, context, batch_size=o.batch_size, first_step=first_step, policy=o.shard_policy, seed=o.seed,
        shuffle_buffer=o.shuffle_buffer)
    return iter(self.strategy.distribute_datasets_from_function(dataset_for))

  # -- the run -----------------------------------------------------------------------------------

  def _stage_name(self, stage: int) -> str:
    return (f"layer {stage}" if stage < self.layout.num_layers
            else "distillation" if self.teacher is not None else PRETRAINING)

  def _stage_steps(self, stage: int) -> int:
    return self.layout.steps_per_stage if stage < self.layout.num_layers else self.layout.distill_steps

  def run(self, log=print, until=None) -> None:
    """Runs (or resumes) the stages up to global step `until` (default: the end), checkpointing on the way."""
    first = self.start()
    until = self.layout.total_steps if until is None else min(until, self.layout.total_steps)
    log_path = self.out / LOSS_LOG
    summaries.drop_steps_from(self.out / SUMMARIES, first)
    writer = tf.summary.create_file_writer(str(self.out / SUMMARIES))
    kept = [line for line in (log_path.read_text().splitlines() if log_path.exists() else [])
            if json.loads(line)["step"] < first]
    bar, batches = None, self.batches(first)
    with open(log_path, "w", encoding="utf-8") as log_file, contextlib.ExitStack() as stack, writer.as_default():
      stack.callback(writer.close)
      log_file.writelines(f"{line}\n" for line in kept)
      for step in range(first, until):
        stage, step_in_stage = self.layout.locate(step)
        if step_in_stage == 0:
          self.optimizer.reset()  # a fresh optimizer each stage
          log(f"stage {stage} ({self._stage_name(stage)})")
        if bar is None:  # steps done, rate and time left of this stage
          bar = stack.enter_context(progress(self._stage_steps(stage), f"stage {stage} ({self._stage_name(stage)})",
                                            initial=step_in_stage))
        terms = self._step_function(stage)(next(batches), tf.constant(step_in_stage, tf.int64))
        record = {"step": step, "stage": stage, **{k: float(v) for k, v in sorted(terms.items())}}
        log_file.write(json.dumps(record) + "\n")
        log_file.flush()
        self._summarize(stage, step, step_in_stage, record)
        self.global_step.assign(step + 1)
        bar.update()
        stage_ends = self.layout.locate(step + 1)[0] != stage or step + 1 == self.layout.total_steps
        if (step + 1) % self.options.checkpoint_every == 0 or stage_ends or step + 1 == until:
          writer.flush()  # the summaries on disk keep up with the checkpoints
          self.manager.save(checkpoint_number=step + 1)
        if stage_ends:
          bar.close()
          bar = None

  def _summarize(self, stage: int, step: int, step_in_stage: int, record: dict) -> None:
    """The step's loss terms and learning rate, tagged `STAGE/TERM` (e.g. `layer_0/feature_map`)."""
    prefix = self._stage_name(stage).replace(" ", "_")
    for name in sorted(record.keys() - {"step", "stage"}):
      summaries.scalar(f"{prefix}/{name}", record[name], step)
    summaries.scalar(f"{prefix}/learning_rate", self._learning_rate(stage, step_in_stage), step)
