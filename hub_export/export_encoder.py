"""Exports a MobileBERT checkpoint as a TF-Hub text-encoder SavedModel (with `.mlm`).

    python -m hub_export.export_encoder --ckpt PATH --export_dir DIR \
        [--bert_config FILE] [--vocab FILE] [--lower_case true|false] [--overwrite]
        [--allow_vocab_larger_than_model]

PATH is a checkpoint prefix or a release directory holding one checkpoint (TF1 release,
Model Garden TF2 or this project's TF2 layout), `bert_config.json` and `vocab.txt`. The
export is written beside the target, reloaded in a fresh process and compared with the
model, and only then renamed into place.
"""

import argparse
import sys
from pathlib import Path

from hub_export.checkpoint.export_source import add_source_arguments, named_folders, resolve_source, restore_model
from hub_export.support import cli, log
from hub_export.support.atomic import atomic_directory, check_target, write_failure


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.export_encoder", description=__doc__.split("\n")[0])
  add_source_arguments(parser)
  parser.add_argument("--export_dir", required=True, help="directory to write the SavedModel to")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --export_dir")
  return parser.parse_args(argv)


def export_encoder(ckpt, export_dir, bert_config=None, vocab=None, lower_case=None, overwrite=False,
                   allow_larger_vocab=False) -> Path:
  """The whole job; returns the export directory. Raises HubExportError on bad input."""
  check_target(export_dir, overwrite, protected=named_folders(ckpt))  # before the checkpoint is read
  source = resolve_source(ckpt, vocab, lower_case)
  target = check_target(export_dir, overwrite, protected=[source.location.directory])

  import tensorflow as tf

  from hub_export.savedmodel.encoder_object import build_encoder_object, save_encoder
  from hub_export.savedmodel.roundtrip import verify_in_fresh_process

  model = restore_model(source, bert_config, allow_larger_vocab)
  with atomic_directory(target, overwrite, protected=[source.location.directory]) as tmp:
    with log.step("trace"):
      root = build_encoder_object(model, str(source.vocab.path), source.lower_case)
    with log.step("save"):
      try:
        save_encoder(root, str(tmp))
      except (OSError, tf.errors.OpError) as e:
        raise write_failure(target, e) from None
    with log.step("verify (fresh process)"):
      verify_in_fresh_process(str(tmp), root, model.config)
  log.LOG.info("exported encoder to %s", target)
  return target


def _main(argv):
  args = parse_args(argv)
  export_encoder(args.ckpt, args.export_dir, args.bert_config, args.vocab, args.lower_case, args.overwrite,
                 args.allow_vocab_larger_than_model)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
