"""One distillation run (`python -m hub_export.distill`): every input checked before any training, the teacher
restored, the run folder resumed or started, the trainer run, and the student written in the project's own
checkpoint layout with its config, vocab and casing."""

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Optional

from hub_export.distillation.options import LayerFactors, TrainOptions
from hub_export.support import log
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import VOCAB_NAME

STRATEGIES = ("default", "mirrored", "multi_worker")
STUDENT_DIR = "student"
TEACHER_DIR = "teacher"
STUDENT_PREFIX = "student"
WORKER_PREFIX = ".worker-"
# What a run folder holds: the files --overwrite may delete.
RUN_FILES = ("checkpoints/**", f"{WORKER_PREFIX}*/**", f"{STUDENT_DIR}/**", f"{TEACHER_DIR}/**", "losses.jsonl",
             "train/**")  # with trainer.LOSS_LOG, trainer.SUMMARIES


def train_options(args) -> TrainOptions:
  factors = LayerFactors(feature_map=args.hidden_distill_factor, mean=args.beta_distill_factor,
                         variance=args.gamma_distill_factor, attention=args.attention_distill_factor)
  return TrainOptions(schedule=args.schedule, steps_per_stage=args.steps_per_stage, distill_steps=args.distill_steps,
                      batch_size=args.batch_size, layer_learning_rate=args.layer_learning_rate,
                      learning_rate=args.learning_rate, end_learning_rate=args.end_learning_rate,
                      warmup_steps=args.warmup_steps, weight_decay=args.weight_decay, clip_norm=args.clip_norm,
                      factors=factors, ground_truth_ratio=args.distill_ground_truth_ratio,
                      checkpoint_every=args.checkpoint_every, seed=args.seed, shuffle_buffer=args.shuffle_buffer,
                      shard_policy=args.shard_policy, mixed_precision=args.mixed_precision, jit_compile=args.jit_compile,
                      transfer_teacher_layers=tuple(args.transfer_teacher_layers) if args.transfer_teacher_layers
                      else None)


def make_strategy(name: str, cpu_devices: int):
  import tensorflow as tf

  if cpu_devices:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
      return tf.distribute.MirroredStrategy()
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
  if "TF_CONFIG" not in os.environ:
    raise HubExportError("--strategy multi_worker needs the cluster in the TF_CONFIG environment variable")
  check_cluster(os.environ["TF_CONFIG"])
  return tf.distribute.MultiWorkerMirroredStrategy()


def check_cluster(tf_config: str) -> None:
  """Each task of the TF_CONFIG cluster at its own host:port (a repeated one would leave the workers waiting)."""
  try:
    cluster = json.loads(tf_config)["cluster"]
    tasks = [(f"{job} {index}", address) for job, addresses in cluster.items()
             for index, address in enumerate(addresses)]
  except (ValueError, KeyError, TypeError, AttributeError):
    raise HubExportError("TF_CONFIG is not JSON with a \"cluster\" of job names and host:port lists") from None
  seen = {}
  for task, address in tasks:
    if address in seen:
      raise HubExportError(f"TF_CONFIG names {address} twice ({seen[address]} and {task}): each task needs its own "
                           "host:port")
    seen[address] = task


@dataclasses.dataclass(frozen=True)
class StudentVocab:
  """The vocab to put beside the student, and the casing to record with it (None: unknown)."""

  path: Path
  lower_case: Optional[bool]


def _vocab_for(args, teacher_location) -> Path:
  vocab = Path(args.vocab) if args.vocab or teacher_location is None else teacher_location.sibling(VOCAB_NAME)
  if vocab is None:
    raise HubExportError(f"no vocab.txt beside the teacher checkpoint {teacher_location.prefix}; pass --vocab")
  if not vocab.is_file():
    raise HubExportError(f"--vocab {vocab} is not a file")
  return vocab


def _worker_folder(strategy, out: Path) -> Path:
  """Where this process writes: `out` for the chief (and single-process runs); a private
  `.worker-N` folder inside it for the other workers of a multi-worker run, which must
  save too (their checkpoints and student equal the chief's)."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or strategy.extended.should_checkpoint:
    return out
  return out / f"{WORKER_PREFIX}{resolver.task_id}"


def _prepare_out(out: Path, overwrite: bool) -> None:
  """A folder holding a run is resumed; --overwrite starts afresh, deleting only a run's files."""
  from hub_export.support.atomic import check_replaceable, check_target

  checkpoints = "checkpoints"  # trainer.CHECKPOINTS, without importing TensorFlow here
  if out.name.startswith(WORKER_PREFIX):  # inside the chief's folder, which the chief may not have made yet
    out.parent.mkdir(parents=True, exist_ok=True)
  check_target(out, overwrite=True, ours=("**",))  # the path's checks; what it holds is judged below
  if out.is_dir() and any(out.iterdir()):
    if overwrite:
      check_replaceable(out, RUN_FILES)
      shutil.rmtree(out)
    elif not any(p.name == checkpoints or p.name.startswith(WORKER_PREFIX) for p in out.iterdir()):
      raise HubExportError(f"--out {out} exists and holds no run of this command to resume; choose another folder")
  out.mkdir(parents=True, exist_ok=True)


def _student_vocab(vocab: Path, metadata: dict) -> StudentVocab:
  """The casing the data was tokenized with (pretraining_data records it), when the data was made from `vocab`."""
  from hub_export.tokenization.vocab import load_vocab

  if metadata.get("vocab_sha256") == load_vocab(vocab).sha256 and isinstance(metadata.get("lower_case"), bool):
    return StudentVocab(vocab, metadata["lower_case"])
  log.LOG.warning("warning: --data was not made from %s (another vocab_sha256 in its metadata); the student's "
                  "casing is not recorded, so exporting it needs --lower_case", vocab)
  return StudentVocab(vocab, None)


def write_student(trainer, out: Path, vocab: StudentVocab, name: str = STUDENT_DIR) -> Path:
  """The trained encoder and masked-LM head in the project's checkpoint layout, with config, vocab and casing."""
  from hub_export.checkpoint.model_folder import write_model_folder

  return write_model_folder(trainer.student.model, out / name, vocab.path, vocab.lower_case, STUDENT_PREFIX)


def build_trainer(args):
  """Checks every input (one line on the first problem, before any training), restores the
  teacher and builds the trainer; returns (trainer, StudentVocab)."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.config import TEACHER, MobileBertConfig
  from hub_export.distillation import records, trainer as training

  teacher_config = MobileBertConfig.from_json_file(args.teacher_config, role=TEACHER)
  if args.teacher_only:
    student_config, teacher_location, vocab = teacher_config, None, _vocab_for(args, None)
  else:
    student_config = MobileBertConfig.from_json_file(args.student_config)
    training.check_pair(teacher_config, student_config, args.transfer_teacher_layers)
    teacher_location = locate_checkpoint(args.teacher_ckpt)
    vocab = _vocab_for(args, teacher_location)
  metadata = records.read_metadata(args.data)
  vocab = _student_vocab(vocab, metadata)
  options = train_options(args)
  strategy = make_strategy(args.strategy, args.cpu_devices)
  training.check_data(metadata, student_config, options, strategy.num_replicas_in_sync)
  out = _worker_folder(strategy, Path(args.out).expanduser().absolute())
  _prepare_out(out, args.overwrite)

  from hub_export.checkpoint.restore import load_mobilebert

  teacher = None
  with training.precision(options.mixed_precision):
    if teacher_location is not None:
      with strategy.scope(), log.step("restore the teacher"):
        teacher, _ = load_mobilebert(teacher_location, args.teacher_config, role=TEACHER)
    trainer = training.Trainer(strategy, teacher, student_config, metadata, out, options)
  trainer.check_resumable()
  return trainer, vocab


def distill(args) -> Path:
  trainer, vocab = build_trainer(args)
  with log.step(f"train {trainer.layout.total_steps} steps on {trainer.strategy.num_replicas_in_sync} replica(s)"):
    trainer.run(log=log.LOG.info)
  student = write_student(trainer, trainer.out, vocab, TEACHER_DIR if args.teacher_only else STUDENT_DIR)
  log.LOG.info("wrote %s", student)
  return student
