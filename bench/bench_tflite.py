"""Sizes and batch-1 latency of the .tflite encoders (float, dynamic, int8) beside the SavedModel.

    python bench/bench_tflite.py --vocab VOCAB.txt [--ckpt RELEASE_DIR] [--work_dir DIR]
        [--seq_length 128] [--threads 2] [--runs 30]

Without --ckpt, a full-size English release with seeded weights is written first (the
vocab must then be the 30,522-token English vocab). The SavedModel is the encoder object
`export_encoder` writes, saved directly (its fresh-process check is the encoder export's
business), the three .tflite files come from `export_tflite --ckpt`; latency is the
median of `--runs` single-example calls after warm-up, on `--threads` CPU threads
(LiteRT's num_threads; TensorFlow's intra-op pool, with one inter-op thread). Agreement
with the SavedModel (cosine of pooled outputs and real-token sequence rows) is measured on
the first `--sentences` lines of `--corpus`. Prints a Markdown table.
"""

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

WARMUP = 3


def dir_size(path: Path) -> int:
  return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--vocab", required=True, type=Path, help="the vocab to write beside a seeded release")
  parser.add_argument("--ckpt", type=Path, help="an existing release directory (default: write a seeded one)")
  parser.add_argument("--work_dir", type=Path, help="where to write the exports (default: a temporary directory)")
  parser.add_argument("--seq_length", type=int, default=128)
  parser.add_argument("--threads", type=int, default=2)
  parser.add_argument("--runs", type=int, default=30)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--corpus", type=Path,
                      default=Path(__file__).resolve().parents[1] / "tests" / "support" / "corpus" / "english.txt")
  parser.add_argument("--sentences", type=int, default=256)
  args = parser.parse_args(argv)
  logging.basicConfig(level=logging.INFO, format="%(message)s")  # the exports' steps and LiteRT checks

  import tensorflow as tf
  tf.config.threading.set_intra_op_parallelism_threads(args.threads)
  tf.config.threading.set_inter_op_parallelism_threads(1)

  from hub_export.config import MobileBertConfig
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.savedmodel.encoder_object import build_encoder_object, save_encoder
  from hub_export.tflite.export import export_tflite
  from hub_export.tflite.agreement import measure
  from hub_export.tflite.representative_data import DEFAULT_CALIBRATION_TEXT, TextEncoder, read_lines
  from hub_export.tflite.runtime import TFLiteEncoder
  from hub_export.support.timing import median_call_ms
  from hub_export.tokenization.vocab import load_vocab

  work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench_tflite_"))
  work.mkdir(parents=True, exist_ok=True)
  release = args.ckpt
  if release is None:
    tokens = args.vocab.read_text(encoding="utf-8").splitlines()
    release = write_release_checkpoint(work / "release", MobileBertConfig(vocab_size=len(tokens)), args.seed,
                                       vocab_lines=tokens, overwrite=True)
  saved_model = work / "saved_model"
  if not (saved_model / "saved_model.pb").is_file():
    model, _ = load_mobilebert(locate_checkpoint(release))
    save_encoder(build_encoder_object(model, str(args.vocab), do_lower_case=True), str(saved_model))
  files, convert_s = {}, {}
  for quantize in ("none", "dynamic", "int8"):
    start = time.perf_counter()
    files[quantize] = export_tflite(work / f"encoder_{quantize}.tflite", quantize, ckpt=release,
                                    seq_length=args.seq_length, overwrite=True)
    convert_s[quantize] = time.perf_counter() - start

  text = TextEncoder(load_vocab(args.vocab), lower_case=True, seq_length=args.seq_length)
  example = text.encode(read_lines(DEFAULT_CALIBRATION_TEXT, 1))[0]
  serve = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
  tf_inputs = {k: tf.constant(v) for k, v in example.items()}
  rows = [("SavedModel (TF, encoder + MLM head)", dir_size(saved_model),
           median_call_ms(lambda x: serve(**x), tf_inputs, args.runs, WARMUP), None)]
  sentences = text.encode(read_lines(args.corpus, args.sentences))
  want = [{k: v.numpy() for k, v in serve(**{k: tf.constant(v) for k, v in x.items()}).items()} for x in sentences]
  agreements = {}
  for quantize, path in files.items():
    encoder = TFLiteEncoder(path, num_threads=args.threads)
    rows.append((f".tflite {quantize}", path.stat().st_size, median_call_ms(encoder, example, args.runs, WARMUP),
                 convert_s[quantize]))
    agreements[quantize] = measure(sentences, [encoder(x) for x in sentences], want)

  print(f"\nbatch 1, seq_length {args.seq_length}, {args.threads} threads, median of {args.runs} runs\n")
  print("| model | size (MB) | latency (ms) | export (s) |")
  print("| --- | ---: | ---: | ---: |")
  for name, size, latency, seconds in rows:
    print(f"| {name} | {size / 1e6:.1f} | {latency:.1f} | {'' if seconds is None else f'{seconds:.0f}'} |")
  print(f"\nagreement with the SavedModel on {len(sentences)} lines of {args.corpus.name}:")
  for quantize, agreement in agreements.items():
    print(f"- {quantize}: {agreement.summary()}")
  print(json.dumps({name: {"bytes": size, "latency_ms": round(latency, 2)} for name, size, latency, _ in rows}))
  return 0


if __name__ == "__main__":
  sys.exit(main())
