"""Writes masked-LM and next-sentence pre-training TFRecords from plain text.

    python -m hub_export.pretraining_data --vocab vocab.txt --input 'corpus/*.txt' [more ...] --out DIR
        [--seq_length 128] [--max_predictions 20] [--masked_lm_prob 0.15] [--dupe_factor 1]
        [--short_seq_prob 0.1] [--num_shards 1] [--seed 12345] [--lower_case true|false] [--overwrite]
        [--runner DirectRunner|DataflowRunner|... [BEAM PIPELINE OPTIONS]]

Input: files or glob patterns of text, one sentence a line, documents separated by blank
lines (the BERT convention). Text is tokenized by the project's exact BERT tokenizer (the
exported preprocessor's), so the ids are those the published encoder reads. By default the
records are built in this process; --runner builds them in an Apache Beam pipeline on that
runner (the `beam` extra). Both follow one scheme (distillation/scheme.py): the same inputs
and seed give byte-identical files from either.
"""

import argparse
import glob
import json
import os
import sys
from pathlib import Path

from hub_export.support import cli, log
from hub_export.support.errors import HubExportError


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.pretraining_data", description=__doc__.split("\n")[0],
                                   epilog="Options not listed here, with --runner, are Beam pipeline options, e.g. "
                                          "--direct_num_workers, --project, --region, --temp_location, --dry_run=True.")
  parser.add_argument("--vocab", required=True, help="WordPiece vocab.txt")
  parser.add_argument("--input", required=True, nargs="+",
                      help="text files or glob patterns: a sentence a line, blank line between documents")
  parser.add_argument("--out", required=True, help="output directory for the TFRecord shards")
  parser.add_argument("--seq_length", type=int, default=128)
  parser.add_argument("--max_predictions", type=int, default=20, help="masked-LM predictions a sequence")
  parser.add_argument("--masked_lm_prob", type=float, default=0.15)
  parser.add_argument("--short_seq_prob", type=float, default=0.1, help="chance of a shorter target length")
  parser.add_argument("--dupe_factor", type=int, default=1, help="passes over the text, each with new masks")
  parser.add_argument("--num_shards", type=int, default=1)
  parser.add_argument("--seed", type=int, default=12345)
  parser.add_argument("--lower_case", type=cli.str2bool, default=None,
                      help="true|false (default: the known casing of the vocab)")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
  parser.add_argument("--runner", help="an Apache Beam runner to build the records on (default: this process)")
  args, beam_args = parser.parse_known_args(argv)
  if beam_args and args.runner is None:
    parser.error(f"unrecognized arguments: {' '.join(beam_args)} (Beam pipeline options need --runner)")
  args.beam_args = beam_args + ([f"--runner={args.runner}"] if args.runner else [])
  for name, low in (("seq_length", 8), ("max_predictions", 1), ("dupe_factor", 1), ("num_shards", 1)):
    if getattr(args, name) < low:
      parser.error(f"--{name} must be at least {low}")
  if not 0 < args.masked_lm_prob < 1 or not 0 <= args.short_seq_prob <= 1:
    parser.error("--masked_lm_prob must be in (0, 1) and --short_seq_prob in [0, 1]")
  return args


def match_inputs(patterns, pipeline=None) -> list:
  """The files the --input patterns match, absolute, each once, sorted (the corpus order); one line for a pattern
  that matches nothing or a local file that cannot be opened. Remote patterns (gs://) need the Beam `pipeline`."""
  from hub_export.beam.io import check_readable  # Beam-free

  paths = set()
  for pattern in map(str, patterns):
    if "://" in pattern:
      if pipeline is None:
        raise HubExportError(f"--input {pattern}: remote files are read on Beam only (pass --runner)")
      matched = pipeline.match_remote(pattern)
    else:
      pattern = os.path.expanduser(pattern)
      literal = os.path.lexists(pattern)  # a file whose name holds glob characters is that file
      matched = [os.path.abspath(path) for path in ([pattern] if literal else glob.glob(pattern))]
      for path in matched:
        check_readable(path)
    if not matched:
      raise HubExportError(f"--input {pattern} matches no file")
    paths.update(matched)
  return sorted(paths)


def read_documents(paths) -> list:
  """[[sentence text, ...] per document] of the files in order, documents split at blank lines and at file ends."""
  from hub_export.distillation.scheme import split_documents

  documents = []
  for path in paths:
    try:
      data = Path(path).read_bytes()
    except OSError as e:
      raise HubExportError(f"cannot read input {path}: {e.strerror}") from None
    documents.extend(split_documents(path, data))
  return documents


def _write_in_process(paths, directory: Path, builder, settings, vocab, lower_case) -> None:
  from hub_export.distillation import records, scheme

  documents = read_documents(paths)
  with log.step("build instances"):
    keyed = [record for block in scheme.blocks(documents) for record in builder.block_records(block)]
  by_shard = [[] for _ in range(settings.num_shards)]
  for shard, key, record in keyed:
    by_shard[shard].append((key, record))
  shards = [records.write_shard(str(directory), name, scheme.in_order(shard_records))
            for name, shard_records in zip(scheme.shard_names(settings.num_shards), by_shard)]
  data = scheme.metadata(settings, vocab, lower_case, shards, len(documents))
  (directory / records.METADATA_NAME).write_bytes(scheme.metadata_bytes(data))


def _check_written(directory: Path, patterns) -> dict:
  """The metadata written; one line for a corpus with no text or no sentence pair (nothing is published)."""
  from hub_export.distillation import records

  data = json.loads((directory / records.METADATA_NAME).read_text(encoding="utf-8"))
  if not data["documents"]:
    raise HubExportError(f"no text in {', '.join(map(str, patterns))}")
  if not data["examples"]:
    raise HubExportError("the input yields no sentence pairs (each document needs at least one sentence, "
                         "and the corpus two documents or a document of two sentences)")
  return data


def _beam_pipeline():
  """The Beam pipeline module, with Beam's chatter off; one line when the beam extra is missing."""
  try:
    from hub_export.beam import pretraining
    from hub_export.beam.pipeline import quiet_beam_logging
  except ImportError as e:
    raise HubExportError(f"{e.name} is not installed; install the beam extra: "
                         "pip install 'mobilebert-hub-export[beam]'") from None
  quiet_beam_logging()
  return pretraining


def write_pretraining_data(vocab_path, inputs, out, *, seq_length=128, max_predictions=20, masked_lm_prob=0.15,
                           short_seq_prob=0.1, dupe_factor=1, num_shards=1, seed=12345, lower_case=None,
                           overwrite=False, beam_args=()) -> dict:
  """Writes the shards and metadata into `out` (atomically), in this process or, when `beam_args` name a runner,
  in a Beam pipeline; returns the metadata ({} for a Beam dry run, which writes nothing)."""
  from hub_export.distillation import records
  from hub_export.distillation.scheme import RecordBuilder, Settings
  from hub_export.support.atomic import atomic_directory, check_target
  from hub_export.tokenization.vocab import load_vocab, resolve_lower_case

  settings = Settings(seq_length=seq_length, max_predictions=max_predictions, masked_lm_prob=masked_lm_prob,
                      short_seq_prob=short_seq_prob, dupe_factor=dupe_factor, num_shards=num_shards, seed=seed)
  pretraining = _beam_pipeline() if beam_args else None
  paths = match_inputs(inputs, pretraining)
  dry_run = pretraining is not None and pretraining.is_dry_run(beam_args)
  if not dry_run:
    if "://" in str(out):
      raise HubExportError(f"--out {out}: the output is published by a local atomic rename; write it to a local "
                           "or mounted folder")
    check_target(out, overwrite, ours=records.DATA_FILES)  # before TensorFlow loads for the tokenizer
  vocab = load_vocab(vocab_path)
  lower_case = resolve_lower_case(vocab, lower_case)
  builder = RecordBuilder(settings, vocab, lower_case)  # here too for Beam: a vocab it refuses is one line now
  if dry_run:
    pretraining.run(paths, str(out), settings, vocab, lower_case, beam_args)
    return {}
  with atomic_directory(out, overwrite, ours=records.DATA_FILES) as tmp:
    if pretraining:
      pretraining.run(paths, str(tmp), settings, vocab, lower_case, beam_args)
    else:
      _write_in_process(paths, tmp, builder, settings, vocab, lower_case)
    data = _check_written(tmp, inputs)
  log.LOG.info("wrote %d examples from %d documents to %s", data["examples"], data["documents"], out)
  return data


def _main(argv):
  args = parse_args(argv)
  write_pretraining_data(args.vocab, args.input, args.out, seq_length=args.seq_length,
                         max_predictions=args.max_predictions, masked_lm_prob=args.masked_lm_prob,
                         short_seq_prob=args.short_seq_prob, dupe_factor=args.dupe_factor,
                         num_shards=args.num_shards, seed=args.seed, lower_case=args.lower_case,
                         overwrite=args.overwrite, beam_args=args.beam_args)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
