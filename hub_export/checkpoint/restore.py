"""Strict restore: every model variable found, every checkpoint variable used or known.

A mismatch stops with one line listing the offending names (first ten and a count) and
their shapes; the model is only written to after the whole checkpoint has been checked.
The model side is accounted for too: whichever layout is read, every model variable (each
block's slice of a stacked one) must receive exactly one value, or restore stops naming
the variables a reader's map leaves out or fills twice.
"""

import collections
import dataclasses
import math
import re

import numpy as np
import tensorflow as tf

from hub_export.checkpoint import model_garden, native, tf1_release
from hub_export.checkpoint.layout import Layout, TF1_MARKER, detect_layout
from hub_export.checkpoint.locate import CheckpointLocation
from hub_export.checkpoint.target import Target
from hub_export.config import STUDENT, MobileBertConfig
from hub_export.model import MobileBert, build_mobilebert
from hub_export.support.errors import HubExportError, first_line
from hub_export.support.filenames import CONFIG_NAME
from hub_export.weight_layout import task_head_parts

_SHOWN = 10
_OVERSIZE = 2  # a config describing more than this many times the checkpoint's values is refused unbuilt


@dataclasses.dataclass
class RestoreReport:
  layout: Layout
  prefix: str
  restored: int
  unused: list  # present in the checkpoint, known, deliberately not exported
  ignored: int  # optimizer slots, step counters


def _listing(items) -> str:
  items = list(items)
  shown = ", ".join(items[:_SHOWN])
  more = f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
  return f"{len(items)}: {shown}{more}"


def _problems(*labelled) -> list:
  """'LABEL COUNT: names' for each non-empty (label, names) pair."""
  return [f"{label} {_listing(names)}" for label, names in labelled if names]


def _open_reader(prefix: str):
  try:
    return tf.train.load_checkpoint(prefix)
  except (tf.errors.OpError, ValueError) as e:
    raise HubExportError(f"cannot read checkpoint {prefix}: {first_line(e)}") from None


def _model_variables(model) -> list:
  """Each variable once: the encoder and the MLM head share the word table."""
  head = model.masked_lm if model.task_head is None else model.head
  return list({v.ref(): v for v in model.encoder.weights + head.weights}.values())


def check_assigned_once(model: MobileBert, targets, layout: Layout, prefix: str) -> None:
  """Every model variable with values gets exactly one: each layer of a stacked block variable
  once, and a whole-variable target covers all its layers."""
  layers = range(model.config.num_hidden_layers)
  stacked = {v.ref() for v in model.encoder.blocks.stacked.values()}
  counts = collections.Counter()
  for target in targets:
    ref = target.variable.ref()
    slots = layers if target.layer is None and ref in stacked else [target.layer]
    counts.update((ref, slot) for slot in slots)
  unassigned, repeated = [], []
  for variable in _model_variables(model):
    if variable.shape.num_elements() == 0:
      continue
    slots = layers if variable.ref() in stacked else [None]
    name = variable.name.removesuffix(":0")
    for bucket, wrong in ((unassigned, lambda count: count == 0), (repeated, lambda count: count > 1)):
      hits = [slot for slot in slots if wrong(counts[(variable.ref(), slot)])]
      if hits:
        bucket.append(name if hits == [None] else f"{name} (block {', '.join(map(str, hits))})")
  problems = _problems(("model variables no checkpoint name maps to", unassigned),
                       ("model variables more than one checkpoint name maps to", repeated))
  if problems:
    raise HubExportError(f"restoring {prefix} as {layout.value} would not assign every model variable "
                         f"exactly once: {'; '.join(problems)}")


def _block_count(keys, layout: Layout) -> int:
  pattern = r"^bert/encoder/layer_(\d+)/" if layout is Layout.TF1_RELEASE else r"^encoder/layer_with_weights-(\d+)/block_layers/"
  found = {int(m.group(1)) for k in keys if (m := re.match(pattern, k))}
  return len(found)


def _hints(config: MobileBertConfig, shapes: dict, layout: Layout, task_head=None) -> list:
  """Plain-words causes for the commonest mismatches: vocab size, layer count, a task head's label count."""
  hints = []
  table_key = TF1_MARKER if layout is Layout.TF1_RELEASE else model_garden.MARKER_KEY
  if table_key in shapes and shapes[table_key] and shapes[table_key][0] != config.vocab_size:
    hints.append(f"config vocab_size {config.vocab_size} but the checkpoint's word table "
                 f"{table_key} has {shapes[table_key][0]} rows")
  blocks = _block_count(shapes, layout)
  if blocks and blocks != config.num_hidden_layers:
    hints.append(f"config num_hidden_layers {config.num_hidden_layers} but the checkpoint has {blocks} blocks")
  if task_head is not None and layout is Layout.TF1_RELEASE:
    weights = task_head_parts(config, task_head)[0].tf1
    if shapes.get(weights) and shapes[weights][0] != task_head.num_labels:
      hints.append(f"the {task_head.kind} head has {task_head.num_labels} labels but the checkpoint's {weights} "
                   f"has {shapes[weights][0]} rows")
  return hints


def _restore_by_name(model, reader, prefix, layout) -> RestoreReport:
  if layout is Layout.TF1_RELEASE:
    assignments = tf1_release.tf1_assignments(model)
    ignorable = tf1_release.is_ignorable
    unused_names = tuple(tf1_release.unloaded_shapes(model.config, model.task_head))
  else:
    assignments = model_garden.model_garden_assignments(model)
    ignorable, unused_names = model_garden.is_ignorable, ()
  check_assigned_once(model, assignments.values(), layout, prefix)
  shapes = {k: tuple(s) for k, s in reader.get_variable_to_shape_map().items()}
  dtypes = reader.get_variable_to_dtype_map()

  missing = [f"{k} {list(t.expected_shape)}" for k, t in assignments.items() if k not in shapes]
  unknown = [f"{k} {list(shapes[k])}" for k in sorted(shapes)
             if k not in assignments and k not in unused_names and not ignorable(k)]
  wrong = [f"{k} checkpoint {list(shapes[k])} vs model {list(t.expected_shape)}" for k, t in assignments.items()
           if k in shapes and shapes[k] != t.expected_shape]
  wrong += [f"{k} dtype {dtypes[k].name} (expected float32)" for k in assignments
            if k in dtypes and dtypes[k] != tf.float32]
  problems = _problems(("model variables missing from the checkpoint", missing),
                       ("unknown checkpoint variables", unknown), ("mismatched variables", wrong))
  if problems:
    hints = _hints(model.config, shapes, layout, model.task_head)
    cause = f" ({'; '.join(hints)})" if hints else ""
    head = model.task_head
    fits = "the config" if head is None else f"the config and a {head.kind} head of {head.num_labels} labels"
    raise HubExportError(f"checkpoint {prefix} does not fit {fits}{cause}: {'; '.join(problems)}")

  # Read and check everything before touching the model; stacked block variables are
  # assembled layer by layer into one array each.
  values = {}
  for key, target in assignments.items():
    try:
      value = reader.get_tensor(key)
    except Exception as e:  # noqa: BLE001 - a damaged file surfaces as OpError, ValueError or IndexError
      raise HubExportError(f"checkpoint {prefix} is corrupt: cannot read {key}: {first_line(e)}") from None
    if not np.all(np.isfinite(value)):
      raise HubExportError(f"checkpoint {prefix} is corrupt: {key} holds NaN or infinite values")
    value = value.reshape(target.shape)
    ref = target.variable.ref()
    if target.layer is None:
      values[ref] = value
    else:
      values.setdefault(ref, np.empty(target.variable.shape, np.float32))[target.layer] = value
  for ref, value in values.items():
    ref.deref().assign(value)
  return RestoreReport(layout, prefix, restored=len(assignments),
                       unused=[k for k in unused_names if k in shapes],
                       ignored=sum(1 for k in shapes if ignorable(k)))


def _model_value_count(config: MobileBertConfig, task_head=None) -> int:
  """Floats in the model for `config`, counted from the TF1 name table without building anything.

  The table grows linearly with the block count and the feed-forward count, so three small
  tables give the total for any counts (a damaged config may say a billion blocks).
  """
  def count(blocks, ffns):
    small = dataclasses.replace(config, num_hidden_layers=blocks, num_feedforward_networks=ffns)
    return sum(math.prod(shape) for shape in tf1_release.tf1_variable_shapes(small, task_head).values())

  base = count(1, 1)
  per_block, per_ffn = count(2, 1) - base, count(1, 2) - base
  blocks, ffns = config.num_hidden_layers, config.num_feedforward_networks
  return base + (blocks - 1) * per_block + blocks * (ffns - 1) * per_ffn


def _check_size(config: MobileBertConfig, reader, prefix: str, task_head=None) -> None:
  """Refuses a config far larger than the checkpoint before the model is built.

  A damaged value such as hidden_size 1000000 would otherwise allocate and initialise the
  whole oversized model first: minutes, then an out-of-memory error or a killed process.
  Within _OVERSIZE the model is cheap to build and the restore reports each variable.
  """
  shapes = {k: tuple(s) for k, s in reader.get_variable_to_shape_map().items()}
  stored = sum(math.prod(shape) for shape in shapes.values())
  needed = _model_value_count(config, task_head)
  if needed > _OVERSIZE * stored:
    hints = _hints(config, shapes, detect_layout(shapes, prefix), task_head)
    cause = f" ({'; '.join(hints)})" if hints else ""
    raise HubExportError(f"checkpoint {prefix} does not fit the config{cause}: the config describes a model of "
                         f"{needed:,} values, the checkpoint holds {stored:,}")


def read_config(location: CheckpointLocation, reader, bert_config=None, role: str = STUDENT) -> tuple:
  """(the config a checkpoint is restored with, where it was read): stored in it, given, or beside it.

  `role` picks the defaults of keys a JSON file leaves out (`config.ROLE_DEFAULTS`)."""
  stored = None
  if native.CONFIG_KEY in reader.get_variable_to_shape_map():
    try:
      stored = native.config_from_native(reader)
    except (tf.errors.OpError, ValueError, IndexError) as e:  # a damaged data file; ValueError covers bad JSON
      raise HubExportError(f"checkpoint {location.prefix} is corrupt: cannot read its stored config: "
                           f"{first_line(e)}") from None
  if bert_config is not None:
    given = MobileBertConfig.from_json_file(bert_config, role=role)
    if stored is not None and stored != given:
      raise HubExportError(f"--bert_config {bert_config} differs from the config stored in {location.prefix}")
    return given, str(bert_config)
  if stored is not None:
    return stored, f"checkpoint {location.prefix}"
  beside = location.sibling(CONFIG_NAME)
  if beside is None:
    raise HubExportError(f"no {CONFIG_NAME} beside {location.prefix}; pass --bert_config")
  return MobileBertConfig.from_json_file(beside, role=role), str(beside)


def restore_weights(model, reader, prefix: str) -> RestoreReport:
  """Fills `model` from the checkpoint at `prefix` (read through `reader`), in any supported layout; a task
  model (`MobileBertTaskModel`) from the original TF1 layout, the only one whose task heads are known."""
  keys = reader.get_variable_to_shape_map()
  layout = detect_layout(keys, prefix)
  if model.task_head is not None and layout is not Layout.TF1_RELEASE:
    raise HubExportError(f"checkpoint {prefix} is in the {layout.value} layout; a {model.task_head.kind} head "
                         f"restores from the {Layout.TF1_RELEASE.value} layout only")
  if layout is not Layout.NATIVE:
    return _restore_by_name(model, reader, prefix, layout)
  check_assigned_once(model, [Target(v) for v in native.checkpointed_variables(model)], layout, prefix)
  try:
    native.restore_native(model, prefix)
  except (AssertionError, ValueError, IndexError, tf.errors.OpError) as e:
    raise HubExportError(f"checkpoint {prefix} does not fit the model: {first_line(e)}") from None
  return RestoreReport(layout, prefix, restored=len(_model_variables(model)), unused=[], ignored=0)


def load_mobilebert(location: CheckpointLocation, bert_config=None, role: str = STUDENT, check_config=None,
                    task_head=None):
  """Builds the model for the checkpoint's config and restores it; returns (model, report).

  `check_config(config, where it was read)`, when given, runs before anything is built. With
  `task_head` (`weight_layout.TaskHead`) the model is the encoder with that head, from a
  checkpoint the original fine-tuning code saved.
  """
  reader = _open_reader(location.prefix)
  config, origin = read_config(location, reader, bert_config, role)
  if check_config is not None:
    check_config(config, origin)
  _check_size(config, reader, location.prefix, task_head)
  model = build_mobilebert(config, task_head)
  return model, restore_weights(model, reader, location.prefix)
