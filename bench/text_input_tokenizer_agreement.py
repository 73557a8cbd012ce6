"""How often the in-graph tokenizer of `export_tflite --text_input`, run by LiteRT, gives our preprocessor's rows.

    .venv/bin/python -m bench.text_input_tokenizer_agreement [--limit N]

A tokenizer-only LiteRT model is converted from the same in-graph tokenizer the export
uses (`hub_export.tflite.text_input`), its outputs being the packed inputs, and run with
TensorFlow Text's TFLite kernels registered. Each corpus line is compared, as a whole
[CLS] ... [SEP] + padding row of 128, with `TextEncoder` (the exported preprocessor's
tokenizer and packer), on the same settings as bench/mediapipe_tokenizer_agreement.py.
Prints JSON as that bench does.
"""

from pathlib import Path

from bench.mediapipe_tokenizer_agreement import SEQ, our_ids, row_agreement, run


def tokenizer_model(vocab_path, lower_case: bool, out: Path, seq_length: int = SEQ) -> Path:
  """A .tflite from text [1] to the three packed inputs, through the export's in-graph tokenizer."""
  import tensorflow as tf

  from hub_export import signatures as sig
  from hub_export.tflite.to_flatbuffer import convert
  from hub_export.tflite.text_input import InGraphTokenizer, text_serving_function
  from hub_export.tokenization.vocab import load_vocab

  tokenizer = InGraphTokenizer(load_vocab(vocab_path), lower_case, seq_length)
  function = text_serving_function(lambda inputs: inputs, tokenizer, sig.ENCODER_INPUT_KEYS)
  out.write_bytes(convert(function, tf.Module(), "none", custom_ops=True))
  return out


def litert_ids(model_path, lines) -> list:
  from hub_export import signatures as sig
  from hub_export.tflite.runtime import TFLiteTextEncoder

  model = TFLiteTextEncoder(model_path, output_keys=(sig.INPUT_WORD_IDS,))
  return [model(line)[sig.INPUT_WORD_IDS][0].tolist() for line in lines]


def agreement(vocab_path, lower_case: bool, lines, work: Path) -> dict:
  model = tokenizer_model(vocab_path, lower_case, work / f"text_{Path(vocab_path).stem}.tflite")
  return row_agreement(litert_ids(model, lines), our_ids(vocab_path, lower_case, lines), lines)


def main(argv=None):
  run(agreement, argv)


if __name__ == "__main__":
  main()
