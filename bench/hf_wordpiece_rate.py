"""Seconds per pass of HF `tokenizers`' BERT WordPiece tokenizer (Rust) at one 128-token segment per line.

Run with a Python that has `tokenizers` (it need not have TensorFlow); bench_preprocessor.py
calls it in a subprocess and reads the JSON it prints.
Usage: python bench/hf_wordpiece_rate.py VOCAB CORPUS LOWER_CASE BATCH REPEATS
"""

import json
import sys
import time

from tokenizers import BertWordPieceTokenizer


def main(vocab, corpus, lower_case, batch, repeats):
  lines = open(corpus, "rb").read().decode("utf-8").split("\n")[:-1]
  tokenizer = BertWordPieceTokenizer(vocab, lowercase=lower_case == "true", strip_accents=lower_case == "true")
  tokenizer.enable_truncation(128)
  tokenizer.enable_padding(length=128)
  batch, best = int(batch), float("inf")
  for _ in range(int(repeats)):
    start = time.perf_counter()
    for i in range(0, len(lines), batch):
      tokenizer.encode_batch(lines[i:i + batch])
    best = min(best, time.perf_counter() - start)
  tokenizer.no_truncation()
  tokenizer.no_padding()
  ids = [e.ids[1:-1] for e in tokenizer.encode_batch(lines)]  # drop [CLS] ... [SEP]
  print(json.dumps({"seconds": best, "ids": ids}))


if __name__ == "__main__":
  main(*sys.argv[1:])
