"""Turns a user's `--ckpt` (a prefix or a release directory) into one checkpoint prefix."""

import dataclasses
from pathlib import Path

from hub_export.support.errors import HubExportError
from hub_export.support.filenames import VOCAB_NAME

# What a checkpoint directory this project writes holds (a TF1 or TF2 checkpoint, its state file, the
# config and other JSON beside it, the vocab): the files --overwrite may replace.
CHECKPOINT_FILES = ("checkpoint", "*.index", "*.data-?????-of-?????", "*.json", VOCAB_NAME)


@dataclasses.dataclass(frozen=True)
class CheckpointLocation:
  prefix: str
  directory: Path  # where bert_config.json and vocab.txt of a release would sit

  def sibling(self, name: str):
    """`name` in the checkpoint's directory if it exists there, else None."""
    path = self.directory / name
    return path if path.is_file() else None


def _from_state_file(directory: Path):
  """The prefix named by a `checkpoint` state file, tolerating paths from another machine."""
  import tensorflow as tf  # here, so commands answer --help and bad paths without loading TF

  state = tf.train.get_checkpoint_state(str(directory))
  if state is None or not state.model_checkpoint_path:
    return None
  named = Path(state.model_checkpoint_path)
  for candidate in (named, directory / named.name):
    if Path(f"{candidate}.index").is_file():
      return str(candidate)
  return None


def locate_checkpoint(path) -> CheckpointLocation:
  """Accepts `PREFIX` (with PREFIX.index beside it) or a directory holding one checkpoint."""
  path = Path(path).expanduser()
  if Path(f"{path}.index").is_file():
    return CheckpointLocation(str(path), path.parent)
  if path.name.endswith(".index") and path.is_file():
    return CheckpointLocation(str(path)[: -len(".index")], path.parent)
  if not path.exists():
    raise HubExportError(f"checkpoint path {path} does not exist")
  if not path.is_dir():
    raise HubExportError(f"{path} is neither a checkpoint prefix (no {path}.index) nor a directory")
  prefix = _from_state_file(path)
  if prefix is None:
    indexes = sorted(path.glob("*.index"))
    if not indexes:
      raise HubExportError(f"no checkpoint in {path}: no *.index file and no usable 'checkpoint' state file")
    if len(indexes) > 1:
      names = ", ".join(p.name for p in indexes[:10])
      raise HubExportError(f"{path} holds {len(indexes)} checkpoints ({names}); pass one prefix to --ckpt")
    prefix = str(indexes[0])[: -len(".index")]
  return CheckpointLocation(prefix, path)
