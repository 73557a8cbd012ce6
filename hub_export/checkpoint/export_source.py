"""What a checkpoint export starts from: the checkpoint, its vocab and casing, then a strict restore.

Shared by the commands that turn a checkpoint into something published (`export_encoder`,
`export_keras`, `export_tflite`), so their flags, defaults and errors cannot drift apart.
"""

import dataclasses
from pathlib import Path

from hub_export.checkpoint.locate import CheckpointLocation, locate_checkpoint
from hub_export.support import cli, log
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import VOCAB_NAME
from hub_export.tokenization.vocab import ALLOW_LARGER_VOCAB_FLAG


def add_source_arguments(parser, other_sources=None) -> None:
  """--ckpt, --bert_config, --vocab, --lower_case and the larger-vocab escape hatch. --ckpt is required, or one of
  `other_sources` (a mutually exclusive group of the command's other inputs, e.g. --saved_model)."""
  ckpt_among = parser if other_sources is None else other_sources
  ckpt_among.add_argument("--ckpt", required=other_sources is None,
                          help="checkpoint prefix, or a release directory holding one")
  parser.add_argument("--bert_config", help="bert_config.json for --ckpt (default: the one beside the checkpoint)")
  parser.add_argument("--vocab", help="vocab.txt (default: the one beside the checkpoint, or the one the source ships)")
  parser.add_argument("--lower_case", type=cli.str2bool, default=None, metavar="true|false",
                      help="default: recorded beside the vocab (or in the source), else from the vocab manifest "
                           "when the vocab is a known release vocab")
  parser.add_argument(ALLOW_LARGER_VOCAB_FLAG, action="store_true",
                      help="export even if the vocab has more tokens than the model's vocab_size")


def resolve_vocab(location: CheckpointLocation, vocab_flag) -> Path:
  if vocab_flag:
    vocab = Path(vocab_flag)
    if not vocab.is_file():
      raise HubExportError(f"--vocab {vocab} is not a file")
    return vocab
  beside = location.sibling(VOCAB_NAME)
  if beside is None:
    raise HubExportError(f"no {VOCAB_NAME} beside {location.prefix}; pass --vocab")
  return beside


@dataclasses.dataclass(frozen=True)
class ExportSource:
  location: CheckpointLocation
  vocab: object  # tokenization.vocab.Vocab
  lower_case: bool


def named_folders(ckpt) -> list:
  """The folder `--ckpt` names (itself, or an existing prefix's folder), known before the checkpoint is
  read; none for a path that names no checkpoint, which the reader then reports."""
  path = Path(ckpt).expanduser()
  if path.is_dir():
    return [path]
  return [path.parent] if path.with_name(f"{path.name}.index").is_file() else []


def resolve_source(ckpt, vocab=None, lower_case=None) -> ExportSource:
  """Finds the checkpoint, reads the vocab and settles the casing; loads no TensorFlow."""
  from hub_export.tokenization.vocab import load_vocab, resolve_lower_case

  location = locate_checkpoint(ckpt)
  vocab_file = load_vocab(resolve_vocab(location, vocab))
  return ExportSource(location, vocab_file, resolve_lower_case(vocab_file, lower_case))


def vocab_fits_config(vocab, allow_larger_vocab=False):
  """The `check_config` of `load_mobilebert` that refuses, before the model is built, a vocab not fitting its word
  table (a wrong vocab would otherwise surface minutes later, in the export's check)."""
  from hub_export.tokenization.vocab import check_vocab_fits

  return lambda config, origin: check_vocab_fits(vocab, config.vocab_size, origin, allow_larger_vocab)


def restore_model(source: ExportSource, bert_config=None, allow_larger_vocab=False):
  """The strictly restored tf_keras model; the vocab must fit its word table."""
  from hub_export.checkpoint.restore import load_mobilebert

  with log.step("restore"):
    model, report = load_mobilebert(source.location, bert_config,
                                    check_config=vocab_fits_config(source.vocab, allow_larger_vocab))
  log.LOG.info("restored %d variables from %s (%s)%s", report.restored, report.prefix, report.layout.value,
               f"; present but not exported: {', '.join(report.unused)}" if report.unused else "")
  return model
