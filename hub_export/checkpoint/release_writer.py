"""Writes a seeded checkpoint directory in the exact layout of the original MobileBERT release.

What a release tarball unpacks to: a name-based TF1 checkpoint (`<prefix>.index`,
`<prefix>.data-00000-of-00001`, float32 variables under the TF1 names plus an int64
`global_step`), the `checkpoint` state file, `bert_config.json` with the original key
names, and `vocab.txt`. Tests use it to exercise the reader and the model at any size,
the full 24-layer English and multilingual ones included, without downloading anything.

Each value moves into a TF variable as soon as it is drawn (a variable holds one copy; a
`tf.constant` of a numpy array holds two), so memory peaks near one copy of the checkpoint
plus two of its largest tensor.
"""

import json
from pathlib import Path
from typing import Optional

import tensorflow as tf

from hub_export.checkpoint.locate import CHECKPOINT_FILES
from hub_export.checkpoint.seeded_values import optimizer_slot_values, release_values
from hub_export.config import MobileBertConfig
from hub_export.support.atomic import atomic_directory
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import CONFIG_NAME, VOCAB_NAME
from hub_export.tokenization.vocab import load_vocab, write_casing
from hub_export.weight_layout import TaskHead

DEFAULT_PREFIX = "mobilebert_variables.ckpt"
GLOBAL_STEP = 0


def _checkpoint_state(prefix_name: str) -> str:
  # Relative, as in a release, so the directory can be moved or unpacked anywhere.
  return (f'model_checkpoint_path: "{prefix_name}"\n'
          f'all_model_checkpoint_paths: "{prefix_name}"\n')


def _save_variables(prefix: Path, config: MobileBertConfig, seed: int, with_optimizer_slots: bool,
                    with_next_sentence_head: bool, task_head: Optional[TaskHead]) -> None:
  names, variables = [], []
  heads = dict(with_next_sentence_head=with_next_sentence_head, task_head=task_head)
  streams = [release_values(config, seed, **heads)]
  if with_optimizer_slots:
    streams.append(optimizer_slot_values(config, seed, **heads))
  for stream in streams:
    for name, value in stream:
      names.append(name)
      variables.append(tf.Variable(value, trainable=False))
      del value
  names.append("global_step")
  variables.append(tf.Variable(GLOBAL_STEP, dtype=tf.int64, trainable=False))
  tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                    tensors=[v.read_value() for v in variables])


def write_release_checkpoint(out_dir, config: MobileBertConfig, seed: int, *,
                             with_optimizer_slots: bool = False,
                             with_next_sentence_head: bool = True,
                             task_head: Optional[TaskHead] = None,
                             vocab_lines=None,
                             lower_case=None,
                             prefix_name: str = DEFAULT_PREFIX,
                             overwrite: bool = False) -> Path:
  """Writes the release directory `out_dir` (atomically) and returns its path.

  With `task_head` the checkpoint is a fine-tuned one of the original code instead: the encoder
  and that head under its original names (`seeded_values.release_shapes`).

  `vocab_lines`, when given, must hold exactly `config.vocab_size` tokens; without it no
  vocab.txt is written. `lower_case`, with a vocab, is recorded beside it (`CASING_NAME`), so
  the commands reading the directory need no --lower_case.
  """
  if vocab_lines is not None:
    vocab_lines = list(vocab_lines)
    if len(vocab_lines) != config.vocab_size:
      raise HubExportError(f"vocab has {len(vocab_lines)} tokens but bert_config 'vocab_size' is "
                           f"{config.vocab_size}")
  if not prefix_name or "/" in prefix_name:
    raise HubExportError(f"checkpoint prefix must be a plain file name, got {prefix_name!r}")
  with atomic_directory(out_dir, overwrite=overwrite, ours=CHECKPOINT_FILES) as tmp:
    _save_variables(tmp / prefix_name, config, seed, with_optimizer_slots, with_next_sentence_head, task_head)
    (tmp / "checkpoint").write_text(_checkpoint_state(prefix_name), encoding="utf-8")
    (tmp / CONFIG_NAME).write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
    if vocab_lines is not None:
      (tmp / VOCAB_NAME).write_text("".join(f"{token}\n" for token in vocab_lines), encoding="utf-8")
      if lower_case is not None:
        write_casing(load_vocab(tmp / VOCAB_NAME), lower_case)
  return Path(out_dir)

