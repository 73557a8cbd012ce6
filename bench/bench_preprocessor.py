"""Throughput and exactness of the exported preprocessor against common alternatives.

Not a test: prints figures for bench/results. For each corpus, lines/s at batch 256 with one
128-token segment per line, and the share of lines whose token ids equal the plain-Python
BERT rules (tests/support/bert_reference_tokenizer.py), for
  - this project's exported preprocessor (SavedModel, loaded),
  - HF `tokenizers` BertWordPieceTokenizer (run in a subprocess with --hf_python),
  - a tf.function around tensorflow_text.BertTokenizer with default settings,
  - the reference Model Garden preprocessor SavedModel (English vocab only, if present).

Usage: python bench/bench_preprocessor.py [--vocab FILE] [--hf_python PYTHON] [--repeats 5]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This checkout's package and test helpers, whatever else is installed.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import tensorflow as tf  # noqa: E402
import tensorflow_text as tf_text  # noqa: E402

from hub_export import export_preprocessor  # noqa: E402
from support import bert_reference_tokenizer as ref  # noqa: E402
from support.tokenization_test_data import ENGLISH_VOCAB, REFERENCE_PREPROCESSOR, corpus  # noqa: E402

BATCH = 256


def tf_pass(fn, lines):
  """One timed pass over `lines` in batches (after a warm-up call that traces)."""
  batches = [tf.constant(lines[i:i + BATCH]) for i in range(0, len(lines), BATCH)]
  fn(batches[0])

  def run():
    start = time.perf_counter()
    for batch in batches:
      fn(batch)
    return time.perf_counter() - start
  return run


def hf_pass(hf_python, vocab, corpus_file):
  """One timed pass of HF tokenizers, in its own Python; returns (seconds, ids) via JSON."""
  def run():
    result = json.loads(subprocess.run(
        [hf_python, str(ROOT / "bench" / "hf_wordpiece_rate.py"), str(vocab), str(corpus_file), "true", str(BATCH), "1"],
        capture_output=True, text=True, check=True).stdout)
    run.ids = result["ids"]
    return result["seconds"]
  return run


def best_rates(runs: dict, lines: int, rounds: int) -> dict:
  """Interleaves the candidates round by round (the machine's load drifts) and keeps each one's best."""
  best = {name: float("inf") for name in runs}
  for _ in range(rounds):
    for name, run in runs.items():
      best[name] = min(best[name], run())
  return {name: lines / seconds for name, seconds in best.items()}


def flat_ids(tokenize, lines):
  out = []
  for i in range(0, len(lines), BATCH):
    out.extend(tokenize(tf.constant(lines[i:i + BATCH])).merge_dims(-2, -1).to_list())
  return out


def exact_share(ids, expected):
  return sum(a == b for a, b in zip(ids, expected)) / len(expected)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--vocab", type=Path, default=ENGLISH_VOCAB)
  parser.add_argument("--hf_python", default=None, help="a Python with `tokenizers` installed")
  parser.add_argument("--repeats", type=int, default=5)
  args = parser.parse_args()
  tokens = args.vocab.read_text(encoding="utf-8").split("\n")[:-1]
  index = {t: i for i, t in enumerate(tokens)}

  with tempfile.TemporaryDirectory() as tmp:
    export_preprocessor.export(args.vocab, Path(tmp) / "pre", lower_case=True)
    ours = tf.saved_model.load(str(Path(tmp) / "pre"))
    tf_text_tokenizer = tf_text.BertTokenizer(args.vocab.as_posix(), lower_case=True, token_out_type=tf.int32)
    tf_text_fn = tf.function(lambda s: tf_text.pad_model_inputs(
        tf_text_tokenizer.tokenize(s).merge_dims(-2, -1)[:, :126], 128))
    reference = tf.saved_model.load(str(REFERENCE_PREPROCESSOR)) if REFERENCE_PREPROCESSOR.exists() else None
    for name in ("english", "multilingual"):
      lines = corpus(name)
      expected = [[i for word in ref.tokenize_ids(line, index, True) for i in word] for line in lines]
      print(f"\n{name} corpus: {len(lines)} lines, {sum(map(len, lines))} characters, vocab {args.vocab.name}, "
            f"batch {BATCH}, best of {args.repeats} interleaved passes")
      runs = {"exported preprocessor": tf_pass(ours, lines), "tf_text.BertTokenizer (default)": tf_pass(tf_text_fn, lines)}
      exact = {"exported preprocessor": exact_share(flat_ids(ours.tokenize, lines), expected),
               "tf_text.BertTokenizer (default)": exact_share(flat_ids(tf_text_tokenizer.tokenize, lines), expected)}
      if reference is not None:
        runs["reference preprocessor SavedModel"] = tf_pass(reference, lines)
        exact["reference preprocessor SavedModel"] = exact_share(flat_ids(reference.tokenize, lines), expected)
      if args.hf_python:
        runs["HF tokenizers BertWordPieceTokenizer"] = hf_pass(args.hf_python, args.vocab,
                                                               ROOT / "tests" / "support" / "corpus" / f"{name}.txt")
      rates = best_rates(runs, len(lines), args.repeats)
      if args.hf_python:
        exact["HF tokenizers BertWordPieceTokenizer"] = exact_share(runs["HF tokenizers BertWordPieceTokenizer"].ids, expected)
      for label, lines_per_s in rates.items():
        print(f"  {label:38s} {lines_per_s:9.0f} lines/s   exact on {100 * exact[label]:6.2f}% of lines")
      if args.hf_python:
        ratio = rates["exported preprocessor"] / rates["HF tokenizers BertWordPieceTokenizer"]
        print(f"  exported preprocessor / HF tokenizers: {ratio:.2f}x")


if __name__ == "__main__":
  main()
