"""Writes masked-LM and next-sentence pre-training TFRecords from plain text.

    python -m hub_export.pretraining_data --vocab vocab.txt --input corpus.txt [more.txt ...] --out DIR
        [--seq_length 128] [--max_predictions 20] [--masked_lm_prob 0.15] [--dupe_factor 1]
        [--short_seq_prob 0.1] [--num_shards 1] [--seed 12345] [--lower_case true|false] [--overwrite]

Input: one sentence per line, documents separated by blank lines (the BERT convention).
Text is tokenized by the project's exact BERT tokenizer (the exported preprocessor's), so
the ids are those the published encoder reads. The same inputs and seed give
byte-identical files.
"""

import argparse
import json
import sys
from pathlib import Path

from hub_export.support import cli, log
from hub_export.support.errors import HubExportError

_TOKENIZE_BATCH = 1024


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.pretraining_data", description=__doc__.split("\n")[0])
  parser.add_argument("--vocab", required=True, help="WordPiece vocab.txt")
  parser.add_argument("--input", required=True, nargs="+", help="text files: a sentence a line, blank line between documents")
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
  args = parser.parse_args(argv)
  for name, low in (("seq_length", 8), ("max_predictions", 1), ("dupe_factor", 1), ("num_shards", 1)):
    if getattr(args, name) < low:
      parser.error(f"--{name} must be at least {low}")
  if not 0 < args.masked_lm_prob < 1 or not 0 <= args.short_seq_prob <= 1:
    parser.error("--masked_lm_prob must be in (0, 1) and --short_seq_prob in [0, 1]")
  return args


def read_documents(paths) -> list:
  """[[sentence text, ...] per document], documents split at blank lines and at file ends."""
  documents = []
  for path in paths:
    try:
      text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
      raise HubExportError(f"cannot read input {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
      raise HubExportError(f"input {path} is not UTF-8 (byte {e.start})") from None
    document = []
    for line in text.split("\n"):  # "\n" only, as the BERT readers split: text may hold U+2028, U+0085
      if line.strip():
        document.append(line.strip())
      elif document:
        documents.append(document)
        document = []
    if document:
      documents.append(document)
  if not documents:
    raise HubExportError(f"no text in {', '.join(map(str, paths))}")
  return documents


def tokenize_documents(documents: list, tokenizer) -> list:
  """Each sentence as a flat list of wordpiece ids; sentences with no tokens are dropped."""
  import tensorflow as tf

  sentences = [s for d in documents for s in d]
  ids = []
  for start in range(0, len(sentences), _TOKENIZE_BATCH):
    ragged = tokenizer.tokenize(tf.constant(sentences[start:start + _TOKENIZE_BATCH]))
    ids.extend(ragged.merge_dims(1, 2).to_list())
  tokenized, at = [], 0
  for document in documents:
    tokenized.append([s for s in ids[at:at + len(document)] if s])
    at += len(document)
  return tokenized


def write_pretraining_data(vocab_path, inputs, out, *, seq_length=128, max_predictions=20, masked_lm_prob=0.15,
                           short_seq_prob=0.1, dupe_factor=1, num_shards=1, seed=12345, lower_case=None,
                           overwrite=False) -> dict:
  """Writes the shards and metadata into `out` (atomically); returns the metadata."""
  from hub_export.distillation import instances as inst
  from hub_export.distillation import records
  from hub_export.support.atomic import atomic_directory, check_target

  check_target(out, overwrite, ours=records.DATA_FILES)  # before TensorFlow loads for the tokenizer
  from hub_export.tokenization.bert_tokenizer import BertTokenizer
  from hub_export.tokenization.vocab import CLS, MASK, SEP, load_vocab, resolve_lower_case

  vocab = load_vocab(vocab_path)
  lower_case = resolve_lower_case(vocab, lower_case)
  documents = read_documents(inputs)
  with log.step("tokenize"):
    tokenized = tokenize_documents(documents, BertTokenizer(vocab, lower_case))
  ids = vocab.special_ids()
  special = inst.SpecialIds(cls=ids[CLS], sep=ids[SEP], mask=ids[MASK], vocab_size=vocab.size)
  options = inst.MaskingOptions(masked_lm_prob=masked_lm_prob, max_predictions=max_predictions)
  with log.step("mask"):
    instances = inst.create_instances(tokenized, seq_length, special, options, seed, dupe_factor, short_seq_prob)
  if not instances:
    raise HubExportError("the input yields no sentence pairs (each document needs at least one sentence, "
                         "and the corpus two documents or a document of two sentences)")
  serialized = [records.serialize(i, seq_length, max_predictions) for i in instances]
  metadata = {"features": list(records.FEATURES), "seq_length": seq_length, "max_predictions": max_predictions,
              "masked_lm_prob": masked_lm_prob, "short_seq_prob": short_seq_prob, "dupe_factor": dupe_factor,
              "seed": seed, "lower_case": lower_case, "vocab_size": vocab.size, "vocab_sha256": vocab.sha256,
              "examples": len(serialized), "documents": len(documents)}
  with atomic_directory(out, overwrite, ours=records.DATA_FILES) as tmp:
    metadata["shards"] = records.write_shards(tmp, serialized, num_shards)
    (tmp / records.METADATA_NAME).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
  log.LOG.info("wrote %d examples from %d documents to %s", len(serialized), len(documents), out)
  return metadata


def _main(argv):
  args = parse_args(argv)
  write_pretraining_data(args.vocab, args.input, args.out, seq_length=args.seq_length,
                         max_predictions=args.max_predictions, masked_lm_prob=args.masked_lm_prob,
                         short_seq_prob=args.short_seq_prob, dupe_factor=args.dupe_factor,
                         num_shards=args.num_shards, seed=args.seed, lower_case=args.lower_case,
                         overwrite=args.overwrite)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
