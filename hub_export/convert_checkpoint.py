"""Converts a TF1 release or Model Garden checkpoint into this project's TF2 checkpoint.

    python -m hub_export.convert_checkpoint --ckpt PATH --out PREFIX [--bert_config FILE] [--overwrite]

The result (PREFIX.index, PREFIX.data-*) is an object checkpoint of our model that also
stores its `bert_config.json`, so it restores exactly with no other file. A `checkpoint`
state file and the source's vocab.txt (and vocab_casing.json, when it has one) are written
beside it, making the output directory a valid `--ckpt` for the exporters.
"""

import argparse
import shutil
import sys
from pathlib import Path

from hub_export.checkpoint.locate import CHECKPOINT_FILES, locate_checkpoint
from hub_export.support import cli, log
from hub_export.support.atomic import atomic_directory, check_target, write_failure
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import CASING_NAME, VOCAB_NAME


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.convert_checkpoint", description=__doc__.split("\n")[0])
  parser.add_argument("--ckpt", required=True, help="checkpoint prefix, or a directory holding one")
  parser.add_argument("--out", required=True, help="output checkpoint prefix, e.g. converted/mobilebert")
  parser.add_argument("--bert_config", help="bert_config.json (default: stored in, or beside, the checkpoint)")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
  return parser.parse_args(argv)


def convert_checkpoint(ckpt, out, bert_config=None, overwrite=False) -> str:
  """Writes the converted checkpoint; returns its prefix."""
  import tensorflow as tf

  from hub_export.checkpoint.native import write_native_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert

  location = locate_checkpoint(ckpt)
  out = Path(out).expanduser().absolute()
  if not out.name:
    raise HubExportError(f"--out {out} must end in a file name prefix, e.g. converted/mobilebert")
  check_target(out.parent, overwrite, protected=[location.directory], ours=CHECKPOINT_FILES)
  with log.step("restore"):
    model, report = load_mobilebert(location, bert_config)
  log.LOG.info("restored %d variables (%s)", report.restored, report.layout.value)
  with atomic_directory(out.parent, overwrite, protected=[location.directory], ours=CHECKPOINT_FILES) as tmp:
    with log.step("write"):
      try:
        write_native_checkpoint(model, str(tmp / out.name))
        (tmp / "checkpoint").write_text(f'model_checkpoint_path: "{out.name}"\n', encoding="utf-8")
        for name in (VOCAB_NAME, CASING_NAME):  # the vocab, and the casing recorded for it
          if (source := location.sibling(name)) is not None:
            shutil.copyfile(source, tmp / name)
      except (OSError, tf.errors.OpError) as e:
        raise write_failure(out.parent, e) from None
  log.LOG.info("wrote %s", out)
  return str(out)


def _main(argv):
  args = parse_args(argv)
  convert_checkpoint(args.ckpt, args.out, args.bert_config, args.overwrite)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
