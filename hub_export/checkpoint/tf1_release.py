"""The original MobileBERT release's TF1 layout: its name table, the reader's map, seeded values and the writer.

The release checkpoints are name-based: every variable is known by the scope path the
TF1 graph (google-research/mobilebert `modeling.py` and `run_pretraining.py`) created it
under. `tf1_variable_shapes` gives that table for any config (from `weight_layout`), in
the order the graph creates the variables, so a reader can account for every name and a
writer can produce the exact layout. Kernels are 2-D `[in, out]`, as stored.

Besides the model's own variables a release holds names a reader must recognise but not
load: the training step and optimizer slots (ignorable), and the next-sentence head
(present, unused by the encoder and the MLM head). A fine-tuned checkpoint of the original
code holds the encoder and its task head (`cls/squad/...` or `output_weights`/`output_bias`).

Seeded values: tests need checkpoints with the exact release layout but without the real
(large, downloaded) weights. The values come from one `numpy.random.default_rng(seed)`
stream, drawn in table order, in float32, so the same (config, seed) gives bit-identical
tensors on any machine and numpy version (the golden-output script feeds the same values to
PyTorch). Scales keep even a 24-layer no_norm network finite and its activations well away
from zero or saturation (checked with `tools/make_hf_golden.py --deep-check`): kernels
~ N(0, 1) * gain / sqrt(fan_in), norm gammas ~ 1 + 0.05 N, betas and biases small,
embedding tables ~ N(0, 0.25^2).

The writer makes what a release tarball unpacks to: a name-based TF1 checkpoint
(`<prefix>.index`, `<prefix>.data-00000-of-00001`, float32 variables under the TF1 names
plus an int64 `global_step`), the `checkpoint` state file, `bert_config.json` with the
original key names, and `vocab.txt`, so tests exercise the reader and the model at any size,
the full 24-layer English and multilingual ones included, without downloading anything.
Each value moves into a TF variable as soon as it is drawn (a variable holds one copy; a
`tf.constant` of a numpy array holds two), so memory peaks near one copy of the checkpoint
plus two of its largest tensor.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import numpy as np
import tensorflow as tf

from hub_export.checkpoint.locate import CHECKPOINT_FILES
from hub_export.checkpoint.target import model_target
from hub_export.config import MobileBertConfig
from hub_export.model import MobileBert
from hub_export.support.atomic import atomic_directory
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import CONFIG_NAME, VOCAB_NAME
from hub_export.tokenization.vocab import load_vocab, write_casing
from hub_export.weight_layout import TaskHead, model_weights

IGNORABLE_NAMES = ("global_step",)
IGNORABLE_SUFFIXES = ("/adam_m", "/adam_v")


def is_ignorable(name: str) -> bool:
  """True for the training bookkeeping a release may carry: the step counter and Adam slots."""
  return name in IGNORABLE_NAMES or name.endswith(IGNORABLE_SUFFIXES)


def next_sentence_head_shapes(config: MobileBertConfig) -> dict[str, tuple]:
  """The pre-training next-sentence head: present in the release, used by neither export."""
  return {
      "cls/seq_relationship/output_weights": (2, config.hidden_size),
      "cls/seq_relationship/output_bias": (2,),
  }


def tf1_variable_shapes(config: MobileBertConfig, task_head: Optional[TaskHead] = None) -> dict[str, tuple]:
  """Every model variable of a release checkpoint for `config`, name -> shape, in creation order.

  Covers the encoder (`bert/...`) and the masked-LM head (`cls/predictions/...`), or given
  `task_head` that head instead, as the fine-tuning code names it; the next-sentence head and
  the ignorable names are separate (see the module docstring).
  """
  return {w.tf1: w.shape for w in model_weights(config, order="tf1", head=task_head) if w.tf1 is not None}


def unloaded_shapes(config: MobileBertConfig, task_head: Optional[TaskHead] = None) -> dict[str, tuple]:
  """Known names the model does not load: the next-sentence head, and for a task model the MLM head too."""
  loaded = tf1_variable_shapes(config, task_head)
  pretraining = {**tf1_variable_shapes(config), **next_sentence_head_shapes(config)}
  return {name: shape for name, shape in pretraining.items() if name not in loaded}


def tf1_assignments(model: MobileBert) -> dict:
  """Maps every release variable name to the Target it restores (same shape); a task model's head included."""
  return {w.tf1: model_target(model, w)
          for w in model_weights(model.config, order="tf1", head=model.task_head) if w.tf1 is not None}


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
  and that head under its original names (`release_shapes`).

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
