"""A trained network as a checkpoint folder every checkpoint command reads: this project's own
checkpoint layout with its bert_config.json, vocab.txt and the casing (vocab_casing.json)."""

import shutil
from pathlib import Path

from hub_export.checkpoint.locate import CHECKPOINT_FILES
from hub_export.support.filenames import CONFIG_NAME, VOCAB_NAME


def write_model_folder(model, target: Path, vocab_path, lower_case, prefix: str) -> Path:
  """Writes `model` (a MobileBert: encoder and masked-LM head) to the folder `target`, atomically and
  replacing an earlier one; `lower_case` None records no casing."""
  from hub_export.checkpoint.native import write_native_checkpoint
  from hub_export.support.atomic import atomic_directory
  from hub_export.tokenization.vocab import load_vocab, write_casing

  with atomic_directory(target, overwrite=True, ours=CHECKPOINT_FILES) as tmp:
    write_native_checkpoint(model, str(tmp / prefix))
    (tmp / "checkpoint").write_text(f'model_checkpoint_path: "{prefix}"\n', encoding="utf-8")
    (tmp / CONFIG_NAME).write_text(model.config.to_json_string(), encoding="utf-8")
    shutil.copyfile(vocab_path, tmp / VOCAB_NAME)
    if lower_case is not None:
      write_casing(load_vocab(tmp / VOCAB_NAME), lower_case)
  return Path(target)
