"""Embeds a corpus with a TF-Hub encoder and its preprocessor in an Apache Beam pipeline.

    python -m hub_export.embed_corpus --encoder DIR_OR_HANDLE --preprocessor DIR_OR_HANDLE
        --input PATTERN --output DIR [--output_key pooled_output] [--seq_length 128]
        [--input_format auto|text|jsonl] [--no_text] [--min_batch_size 32] [--max_batch_size 32]
        [--num_shards 0] [--overwrite] [BEAM PIPELINE OPTIONS]

Input: text files (one document a line, id `PATH:LINE`) or JSONL (`text`, optional `id`),
chosen by suffix unless --input_format says; compressed files (.gz, ...) are read as such.
Empty and whitespace-only lines and lines that are not UTF-8 are skipped and counted; a
JSONL line without a string "text" stops the run naming the file and line. Output: DIR of
Parquet shards with columns id, text (unless --no_text), embedding (float32 list) and model.
Any option not listed here goes to Beam: by default the job runs in this process
(--runner=FnApiRunner); --runner=DataflowRunner / PortableRunner / FlinkRunner run it there.
Requires the `beam` extra: pip install 'mobilebert-hub-export[beam]'.
"""

import argparse
import sys

from hub_export import signatures
from hub_export.beam import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MIN_BATCH_SIZE
from hub_export.beam.io import FORMATS  # Beam-free, so --help needs no Beam
from hub_export.support import cli
from hub_export.support.errors import HubExportError



def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.embed_corpus", description=__doc__.split("\n")[0],
                                   epilog="Other options are Beam pipeline options, e.g. --runner, "
                                          "--direct_num_workers, --project, --region, --temp_location.")
  parser.add_argument("--encoder", required=True, help="encoder SavedModel directory (local, gs://) or hub URL")
  parser.add_argument("--preprocessor", required=True, help="its preprocessor SavedModel directory or hub URL")
  parser.add_argument("--input", required=True, help="file or glob pattern of the corpus (local or gs://)")
  parser.add_argument("--output", required=True, help="folder to write the Parquet shards into (local or gs://)")
  parser.add_argument("--output_key", default=signatures.POOLED_OUTPUT,
                      help="encoder output to store, one vector a document (default pooled_output)")
  parser.add_argument("--seq_length", type=int, default=signatures.DEFAULT_SEQ_LENGTH,
                      help="tokens a document is packed into, [CLS] and [SEP] included (default 128)")
  parser.add_argument("--input_format", choices=FORMATS, default="auto",
                      help="auto: .jsonl/.ndjson/.json files are JSONL, others text (default auto)")
  parser.add_argument("--no_text", action="store_true", help="leave the text column out of the output")
  parser.add_argument("--min_batch_size", type=int, default=DEFAULT_MIN_BATCH_SIZE,
                      help=f"smallest batch Beam forms, bundle ends aside (default {DEFAULT_MIN_BATCH_SIZE})")
  parser.add_argument("--max_batch_size", type=int, default=DEFAULT_MAX_BATCH_SIZE,
                      help=f"largest batch Beam forms (default {DEFAULT_MAX_BATCH_SIZE})")
  parser.add_argument("--num_shards", type=int, default=0, help="output shards; 0 lets the runner choose (default)")
  parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --output")
  return parser.parse_known_args(argv)


def _settings(args):
  from hub_export.beam.pipeline import EmbedSettings

  if args.seq_length < 2:
    raise HubExportError(f"--seq_length must be at least 2 ([CLS] and [SEP]), got {args.seq_length}")
  if not 1 <= args.min_batch_size <= args.max_batch_size:
    raise HubExportError(f"need 1 <= --min_batch_size <= --max_batch_size, got {args.min_batch_size} "
                         f"and {args.max_batch_size}")
  if args.num_shards < 0:
    raise HubExportError(f"--num_shards must be 0 (runner's choice) or more, got {args.num_shards}")
  return EmbedSettings(args.encoder, args.preprocessor, args.input, args.output, args.output_key, args.seq_length,
                       args.input_format, not args.no_text, args.min_batch_size, args.max_batch_size,
                       args.num_shards)


def _main(argv):
  args, beam_args = parse_args(argv)
  try:
    from hub_export.beam.pipeline import embed_corpus, quiet_beam_logging
  except ImportError as e:
    raise HubExportError(f"{e.name} is not installed; install the beam extra: "
                         "pip install 'mobilebert-hub-export[beam]'") from None
  quiet_beam_logging()
  embed_corpus(_settings(args), beam_args, args.overwrite)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
