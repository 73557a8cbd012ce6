"""Exports the BERT text preprocessor for MobileBERT as a TF-Hub SavedModel.

Usage: python -m hub_export.export_preprocessor --vocab FILE --export_dir DIR
           [--lower_case true|false] [--seq_length 128] [--tokenize_with_offsets] [--overwrite]

Casing comes from the manifest of known release vocabs (vocab/manifest.json) unless
--lower_case is given; an unknown vocab needs the flag. The export is written beside
DIR, reloaded in a fresh process, checked against the in-memory tokenizer and the TF-Hub
contract, and only then renamed into place.
"""

import argparse
import shutil
import tempfile
from pathlib import Path

from hub_export import signatures
from hub_export.support import cli, log
from hub_export.support.atomic import atomic_directory, check_target, write_failure
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import VOCAB_NAME
from hub_export.support.log import LOG
from hub_export.tokenization.vocab import load_vocab, resolve_lower_case

MIN_SEQ_LENGTH = 2  # [CLS] and [SEP]


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.export_preprocessor", description=__doc__.split("\n")[0])
  parser.add_argument("--vocab", required=True, type=Path, help="WordPiece vocab.txt, one token per line")
  parser.add_argument("--export_dir", required=True, type=Path, help="directory to write the SavedModel to")
  parser.add_argument("--lower_case", type=cli.str2bool, default=None, metavar="true|false",
                      help="lower-case and strip accents (default: from vocab/manifest.json for a known vocab)")
  parser.add_argument("--seq_length", type=int, default=signatures.DEFAULT_SEQ_LENGTH,
                      help="sequence length of the default call and serving signature (default 128)")
  parser.add_argument("--tokenize_with_offsets", action="store_true",
                      help="also export .tokenize_with_offsets (wordpiece byte offsets)")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing non-empty export_dir")
  return parser.parse_args(argv)


def export(vocab_path, export_dir, lower_case=None, seq_length=signatures.DEFAULT_SEQ_LENGTH,
           tokenize_with_offsets=False, overwrite=False) -> Path:
  """Validates everything, then writes the preprocessor SavedModel atomically."""
  if seq_length < MIN_SEQ_LENGTH:
    raise HubExportError(f"--seq_length must be at least {MIN_SEQ_LENGTH}, got {seq_length}")
  check_target(export_dir, overwrite, protected=[vocab_path])
  vocab = load_vocab(vocab_path)
  lower_case = resolve_lower_case(vocab, lower_case)

  import tensorflow as tf  # slow import, after the cheap checks
  from hub_export.savedmodel import reproducible
  from hub_export.savedmodel.roundtrip import verify_preprocessor_in_fresh_process
  from hub_export.tokenization.preprocessor_module import BertPreprocessor

  with tempfile.TemporaryDirectory(prefix="vocab-asset-") as staging, \
       atomic_directory(export_dir, overwrite, protected=[vocab_path]) as tmp:
    # The asset keeps the name vocab.txt whatever the source file is called.
    staged_vocab = Path(staging) / VOCAB_NAME
    shutil.copyfile(vocab.path, staged_vocab)
    with log.step("build preprocessor"):
      preprocessor = BertPreprocessor(vocab, staged_vocab, lower_case, seq_length, tokenize_with_offsets)
    with log.step("save"):
      try:
        reproducible.save(preprocessor, tmp, signatures=preprocessor.serving_signatures())
      except (OSError, tf.errors.OpError) as e:
        raise write_failure(export_dir, e) from None
    with log.step("verify (fresh process)"):
      verify_preprocessor_in_fresh_process(str(tmp), preprocessor)
  LOG.info("wrote %s (vocab %d tokens, lower_case=%s, seq_length=%d)", export_dir, vocab.size,
           str(lower_case).lower(), seq_length)
  return Path(export_dir)


def _main(argv):
  args = parse_args(argv)
  export(args.vocab, args.export_dir, args.lower_case, args.seq_length, args.tokenize_with_offsets, args.overwrite)


def main(argv=None) -> int:
  return cli.run(_main, argv)


if __name__ == "__main__":
  raise SystemExit(main())
