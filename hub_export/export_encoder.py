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

from hub_export import cli
from hub_export.savedmodel.atomic import atomic_directory, check_target, write_failure
from hub_export.checkpoint.locate import VOCAB_NAME, locate_checkpoint
from hub_export.errors import HubExportError
from hub_export.tokenization.vocab import ALLOW_LARGER_VOCAB_FLAG


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.export_encoder", description=__doc__.split("\n")[0])
  parser.add_argument("--ckpt", required=True, help="checkpoint prefix, or a release directory holding one")
  parser.add_argument("--export_dir", required=True, help="directory to write the SavedModel to")
  parser.add_argument("--bert_config", help="bert_config.json (default: the one beside the checkpoint)")
  parser.add_argument("--vocab", help="vocab.txt (default: the one beside the checkpoint)")
  parser.add_argument("--lower_case", type=cli.str2bool, default=None,
                      help="true|false; default: from the vocab manifest when the vocab is a known release vocab")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --export_dir")
  parser.add_argument(ALLOW_LARGER_VOCAB_FLAG, action="store_true",
                      help="export even if the vocab has more tokens than the model's vocab_size")
  return parser.parse_args(argv)


def resolve_vocab(location, vocab_flag) -> Path:
  if vocab_flag:
    vocab = Path(vocab_flag)
    if not vocab.is_file():
      raise HubExportError(f"--vocab {vocab} is not a file")
    return vocab
  beside = location.sibling(VOCAB_NAME)
  if beside is None:
    raise HubExportError(f"no {VOCAB_NAME} beside {location.prefix}; pass --vocab")
  return beside


def export_encoder(ckpt, export_dir, bert_config=None, vocab=None, lower_case=None, overwrite=False,
                   allow_larger_vocab=False) -> Path:
  """The whole job; returns the export directory. Raises HubExportError on bad input."""
  from hub_export.tokenization.vocab import resolve_lower_case
  from hub_export.tokenization.vocab import check_vocab_fits, load_vocab

  location = locate_checkpoint(ckpt)
  target = check_target(export_dir, overwrite, protected=[location.directory])
  vocab_file = load_vocab(resolve_vocab(location, vocab))
  do_lower_case = resolve_lower_case(vocab_file, lower_case)

  import tensorflow as tf

  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.savedmodel.encoder import build_encoder_object, save_encoder
  from hub_export.savedmodel.roundtrip import verify_in_fresh_process

  with cli.step("restore"):
    model, report = load_mobilebert(location, bert_config)
  cli.LOG.info("restored %d variables from %s (%s)%s", report.restored, report.prefix, report.layout.value,
               f"; present but not exported: {', '.join(report.unused)}" if report.unused else "")
  check_vocab_fits(vocab_file, model.config.vocab_size, allow_larger_vocab)
  with atomic_directory(target, overwrite, protected=[location.directory]) as tmp:
    with cli.step("trace"):
      root = build_encoder_object(model, str(vocab_file.path), do_lower_case)
    with cli.step("save"):
      try:
        save_encoder(root, str(tmp))
      except (OSError, tf.errors.OpError) as e:
        raise write_failure(target, e) from None
    with cli.step("verify (fresh process)"):
      verify_in_fresh_process(str(tmp), root, model.config)
  cli.LOG.info("exported encoder to %s", target)
  return target


def _main(argv):
  args = parse_args(argv)
  export_encoder(args.ckpt, args.export_dir, args.bert_config, args.vocab, args.lower_case, args.overwrite,
                 args.allow_vocab_larger_than_model)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
