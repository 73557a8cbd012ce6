"""How often MediaPipe's BERT tokenizer gives the same token rows as our preprocessor, per line.

    .venv/bin/python -m bench.mediapipe_tokenizer_agreement [--limit N]

MediaPipe Tasks tokenize with their own BERT tokenizer (from the model's metadata), not the
one the model was trained with. To see its ids, a probe model is exported with the same
metadata as ours (`ids`, `mask`, `segment_ids`, the vocab) whose only output is the
`ids` input as float32 (exact below 2^24): `TextEmbedder` then returns the packed ids.
Each corpus line is compared, as a whole [CLS] ... [SEP] + padding row of 128, with
`TextEncoder` (the exported preprocessor's tokenizer and packer). Settings: the English
and the multilingual corpora, each with the real uncased English vocab and with a cased
vocab built from that corpus (tests/support/tokenization_test_data; the multilingual release
vocab is not available here). Prints JSON: per setting the
lines, identical rows, the share, and the share among pure-ASCII lines.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from support.tokenization_test_data import ENGLISH_VOCAB, build_test_vocab, corpus, write_vocab  # noqa: E402

SEQ = 128
PROBE_OUTPUT = "ids_echo"


def probe_model(vocab_path, lower_case: bool, out: Path, seq_length: int = SEQ) -> Path:
  """A .tflite with our metadata whose one output is its `ids` input, as float32."""
  import tensorflow as tf

  from hub_export import signatures as sig
  from hub_export.tflite.to_flatbuffer import convert, serving_function
  from hub_export.tflite.metadata import TensorInfo, populate
  from hub_export.tflite.model_info import encoder_info

  def echo(inputs):
    total = sum(tf.cast(inputs[key], tf.float32) * 0 for key in (sig.INPUT_MASK, sig.INPUT_TYPE_IDS))
    return {PROBE_OUTPUT: tf.cast(inputs[sig.INPUT_WORD_IDS], tf.float32) + total}

  module = tf.Module()
  flatbuffer = convert(serving_function(echo, seq_length, "probe", (PROBE_OUTPUT,)), module, "none")
  info = encoder_info(vocab_path, lower_case, seq_length, "none", "tokenizer_probe")
  info = info.__class__(**{**info.__dict__, "outputs": {PROBE_OUTPUT: TensorInfo(PROBE_OUTPUT, "the ids input")}})
  out.write_bytes(populate(flatbuffer, info))
  return out


def mediapipe_ids(model_path, lines) -> list:
  import numpy as np
  from mediapipe.tasks.python import text
  from mediapipe.tasks.python.core.base_options import BaseOptions

  options = text.TextEmbedderOptions(base_options=BaseOptions(model_asset_path=str(model_path)))
  with text.TextEmbedder.create_from_options(options) as embedder:
    return [np.asarray(embedder.embed(line).embeddings[0].embedding).astype(np.int64).tolist() for line in lines]


def our_ids(vocab_path, lower_case: bool, lines) -> list:
  from hub_export.tflite.representative_data import TextEncoder
  from hub_export.tokenization.vocab import load_vocab

  encoder = TextEncoder(load_vocab(vocab_path), lower_case, SEQ)
  return [x["input_word_ids"][0].tolist() for x in encoder.encode(lines)]


def agreement(vocab_path, lower_case: bool, lines, work: Path) -> dict:
  model = probe_model(vocab_path, lower_case, work / f"probe_{Path(vocab_path).stem}.tflite")
  return row_agreement(mediapipe_ids(model, lines), our_ids(vocab_path, lower_case, lines), lines)


def row_agreement(theirs: list, ours: list, lines: list) -> dict:
  """Identical token rows, overall and among pure-ASCII lines, with the first few lines that differ."""
  same = [a == b for a, b in zip(theirs, ours)]
  ascii_same = [s for s, line in zip(same, lines) if line.isascii()]
  return {"lines": len(lines), "identical": sum(same), "identical_share": round(sum(same) / len(lines), 4),
          "ascii_lines": len(ascii_same), "ascii_identical_share": round(sum(ascii_same) / max(len(ascii_same), 1), 4),
          "examples": [line[:80] for line, s in zip(lines, same) if not s][:3]}


def settings(limit, work: Path):
  """(name, vocab path, lower_case, lines) for each corpus with the uncased English vocab and a cased test vocab."""
  texts = {name: [line for line in corpus(name) if line.strip()][:limit] for name in ("english", "multilingual")}
  cased = {name: write_vocab(build_test_vocab(corpus(name), lower_case=False), work / f"{name}_cased.txt")
           for name in texts}
  for name, vocab, lower_case in (("english", ENGLISH_VOCAB, True), ("english", cased["english"], False),
                                  ("multilingual", ENGLISH_VOCAB, True), ("multilingual", cased["multilingual"], False)):
    key = f"{name} corpus, {'the uncased English' if lower_case else f'a cased {name} test'} vocab"
    yield key, vocab, lower_case, texts[name]


def run(measure, argv=None):
  """Parses --limit, measures each setting with `measure(vocab, lower_case, lines, work)`, prints the JSON."""
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--limit", type=int, default=None, help="the first N non-empty lines of each corpus")
  args = parser.parse_args(argv)
  with tempfile.TemporaryDirectory() as work:
    report = {key: measure(vocab, lower_case, lines, Path(work))
              for key, vocab, lower_case, lines in settings(args.limit, Path(work))}
  print(json.dumps(report, indent=2, ensure_ascii=False))


def main(argv=None):
  run(agreement, argv)


if __name__ == "__main__":
  main()
