"""The `finetune` command's job: check every input, train, score, export; nothing half-written.

Every input is read and checked (data files, encoder, preprocessor, output paths) before the
first byte is written; the task SavedModel is written atomically, and the run folder holds only
what a run of this command writes, so `--overwrite` never deletes anything else.
"""

import contextlib
import json
import re
import shutil
import tempfile
from pathlib import Path

from hub_export.support import log
from hub_export.support.errors import HubExportError
from hub_export.support.atomic import atomic_directory, atomic_file, check_replaceable, check_target, write_failure
from hub_export.tasks import classification_data, squad_data
from hub_export.hub_format.task_model_files import FORMAT, SQUAD
from hub_export.weight_layout import CLASSIFIER, SPAN_HEAD, TaskHead

METRICS_NAME = "metrics.json"
ENCODER_DIR = "encoder"  # the fine-tuned encoder as a checkpoint folder (export_encoder --ckpt)
CHECKPOINTS, TENSORBOARD = "checkpoints", "tensorboard"  # finetune_loop's, named here without TensorFlow
RUN_FILES = (f"{CHECKPOINTS}/**", f"{TENSORBOARD}/**", f"{ENCODER_DIR}/**", METRICS_NAME)


def _column(text):
  return None if text is None else int(text) if re.fullmatch(r"-?\d+", text) else text


def read_data(args):
  """(train, eval or None): squad_data.SquadFile or classification_data.Dataset; the eval labels must be the
  training labels."""
  if args.task == SQUAD:
    train = squad_data.read_squad(args.train_file, args.version_2_with_negative, training=True)
    if not train.examples:
      raise HubExportError(f"{args.train_file}: no training question is left to train on")
    evaluation = args.eval_file and squad_data.read_squad(args.eval_file, args.version_2_with_negative, training=False)
    return train, evaluation or None
  if args.glue_task:
    train = classification_data.read_task(args.glue_task, "train", args.train_file)
    evaluation = args.eval_file and classification_data.read_task(args.glue_task, "dev", args.eval_file)
    return train, evaluation or None
  columns = classification_data.Columns(_column(args.text_column), _column(args.text_b_column),
                                        _column(args.label_column), header=not args.no_header)
  labels = args.labels.split(",") if args.labels else None
  train = classification_data.read_tsv(args.train_file, columns, labels, args.regression)
  evaluation = args.eval_file and classification_data.read_tsv(args.eval_file, columns, train.labels or None,
                                                               args.regression)
  return train, evaluation or None


def task_config(args, train, lower_case: bool) -> dict:
  """task.json without its metrics."""
  config = {"format": FORMAT, "task": args.task, "max_seq_length": args.max_seq_length, "lower_case": lower_case}
  if args.task == SQUAD:
    return {**config, "max_query_length": args.max_query_length, "doc_stride": args.doc_stride,
            "max_answer_length": args.max_answer_length, "version_2_with_negative": args.version_2_with_negative,
            "null_score_diff_threshold": args.null_score_diff_threshold}
  return {**config, "glue_task": args.glue_task, "labels": list(train.labels), "regression": train.regression,
          "pair": train.examples[0].text_b is not None}


def _inputs(args) -> list:
  return [Path(p) for p in (args.train_file, args.eval_file, args.encoder, args.preprocessor, args.vocab) if p]


def check_model_dir(model_dir, overwrite: bool, protected) -> Path:
  """A run folder to resume (it holds checkpoints), to start afresh with --overwrite, or a new one."""
  path = check_target(model_dir, overwrite=True, protected=protected, ours=("**",))  # the path's own checks
  if path.is_dir() and any(path.iterdir()):
    if overwrite:
      check_replaceable(path, RUN_FILES)
    elif not (path / CHECKPOINTS).is_dir():
      raise HubExportError(f"--model_dir {path} exists and holds no run of this command to resume; choose another "
                           "folder, or pass --overwrite to start afresh")
  return path


@contextlib.contextmanager
def run_folder(model_dir, overwrite: bool):
  """The run folder (made, or emptied with --overwrite), or a temporary one when no --model_dir is given."""
  if model_dir is None:
    with tempfile.TemporaryDirectory(prefix="finetune-") as tmp:
      yield Path(tmp)
    return
  if overwrite and model_dir.exists():
    shutil.rmtree(model_dir)
  model_dir.mkdir(parents=True, exist_ok=True)
  yield model_dir


def finetune(args) -> Path:
  from hub_export.checkpoint.export_source import named_folders

  protected = _inputs(args) + (named_folders(args.ckpt) if args.ckpt else [])
  export_dir = check_target(args.export_dir, args.overwrite, protected=protected)
  model_dir = args.model_dir and check_model_dir(args.model_dir, args.overwrite, protected + [export_dir])
  if model_dir and (export_dir == model_dir or model_dir in export_dir.parents or export_dir in model_dir.parents):
    raise HubExportError(f"--export_dir {export_dir} and --model_dir {model_dir} must be apart")
  train, evaluation = read_data(args)
  with _local_models(args) as (encoder, preprocessor):
    _fine_tune(args, encoder, preprocessor, train, evaluation, export_dir, model_dir, protected)
  log.LOG.info("exported the task model to %s", export_dir)
  return export_dir


@contextlib.contextmanager
def _local_models(args):
  """(encoder, preprocessor): the SavedModel folders of --encoder and --preprocessor (a folder, a published tarball
  or a Kaggle handle; None when not given), kept until the job ends."""
  from hub_export.kaggle_models import network
  from hub_export.kaggle_models.sources import local_saved_model

  with contextlib.ExitStack() as stack:
    yield tuple(source and stack.enter_context(local_saved_model(source, network.from_args(args)))
                for source in (args.encoder, args.preprocessor))


def _fine_tune(args, encoder, preprocessor_dir, train, evaluation, export_dir, model_dir, protected) -> None:
  """Trains the network of `encoder` (or --ckpt), scores it and writes the task SavedModel."""
  import tensorflow as tf
  import tf_keras

  from hub_export.distillation.run import make_strategy
  from hub_export.tasks.finetune_loop import FineTuner, TrainSettings
  from hub_export.tasks.preprocessor_match import open_preprocessor
  from hub_export.tasks.task_export import save_task_model

  strategy = make_strategy(args.strategy, args.cpu_devices)  # first: it may split the CPU into devices
  tf_keras.utils.set_random_seed(args.seed)
  if args.deterministic:
    tf.config.experimental.enable_op_determinism()
  with strategy.scope():
    built = build_network(args, task_head(args, train), encoder)
  preprocessor = open_preprocessor(preprocessor_dir, built.vocab, built.lower_case, args.preprocessor)
  config = task_config(args, train, built.lower_case)
  with log.step("build features"):
    arrays = _training_features(args, train, built, preprocessor)
  log.LOG.info("%d training rows", len(arrays[next(iter(arrays))]))

  settings = TrainSettings(args.epochs, args.batch_size, args.learning_rate, args.seed, args.checkpoint_every)
  with run_folder(model_dir, args.overwrite) as run_dir:
    trainer = FineTuner(strategy, built.network, arrays, settings, run_dir, {"task": config},
                        regression=config.get("regression", False))
    with log.step(f"fine-tune {trainer.total_steps} steps on {strategy.num_replicas_in_sync} replica(s)"):
      loss = trainer.run(log=log.LOG.info)
    metrics = {}
    if evaluation:
      with log.step("score the eval set"):
        metrics = score_eval(args, built, train, evaluation, config)
      log.LOG.info("eval: %s", json.dumps(metrics, sort_keys=True))
    config["metrics"] = metrics
    with atomic_directory(export_dir, args.overwrite, protected=protected) as tmp, tempfile.TemporaryDirectory(
        prefix="task-assets-") as staging, log.step("save the task model"):
      try:
        save_task_model(built.network, config, built.vocab.path, tmp, Path(staging))
      except (OSError, tf.errors.OpError) as e:
        raise write_failure(export_dir, e) from None
    if model_dir:
      _write_run_results(model_dir, built, {"task": args.task, "steps": trainer.total_steps, "final_loss": loss,
                                            "eval": metrics})


def task_head(args, train) -> TaskHead:
  return SPAN_HEAD if args.task == SQUAD else TaskHead(CLASSIFIER, 1 if train.regression else len(train.labels))


def build_network(args, head, encoder=None):
  """finetune_model.Built from the --encoder folder `encoder` (resolved from a tarball or handle), or --ckpt; a fresh
  head is drawn from the global seed."""
  from hub_export.tasks import finetune_model

  if encoder:
    with log.step("load the encoder"):
      return finetune_model.from_hub_encoder(encoder, head, args.encoder)
  from hub_export.checkpoint.export_source import resolve_source

  return finetune_model.from_checkpoint(resolve_source(args.ckpt, args.vocab, args.lower_case), head, args.bert_config)


def _training_features(args, data, built, preprocessor) -> dict:
  """The training rows of a SquadFile or a classification Dataset, as arrays."""
  from hub_export.tasks import finetune_data

  if args.task != SQUAD:
    return finetune_data.classification_features(data, preprocessor, args.max_seq_length, args.train_file)
  return finetune_data.squad_training_features(data.examples, built.vocab, built.lower_case, args.max_seq_length,
                                               args.max_query_length, args.doc_stride)


def score_eval(args, built, train, evaluation, config: dict) -> dict:
  """The eval set's official metrics, computed as evaluate_task computes them on the exported model."""
  from hub_export.tasks import task_scoring
  from hub_export.tasks.task_runners import NetworkRunner

  runner = NetworkRunner(built.network)
  if args.task == SQUAD:
    return task_scoring.score_squad(runner, evaluation.examples, config, built.vocab, args.batch_size,
                                    args.version_2_with_negative).metrics
  metric = (classification_data.TASKS[args.glue_task].metric if args.glue_task
            else "pearson_spearman" if train.regression else "accuracy")
  return task_scoring.score_classification(runner, evaluation, metric, config, built.vocab, args.batch_size).metrics


def _write_run_results(model_dir: Path, built, results: dict) -> None:
  """metrics.json, and the fine-tuned encoder when it came from a release checkpoint (the only networks with
  the masked-LM head a checkpoint folder of this project holds)."""
  from hub_export.checkpoint.model_folder import write_model_folder

  with atomic_file(model_dir / METRICS_NAME, overwrite=True) as tmp:
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
  if built.model is not None:
    write_model_folder(built.model, model_dir / ENCODER_DIR, built.vocab.path, built.lower_case, ENCODER_DIR)
    log.LOG.info("wrote the fine-tuned encoder to %s (a --ckpt for export_encoder)", model_dir / ENCODER_DIR)
