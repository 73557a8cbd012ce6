"""Exports a MobileBERT encoder as a LiteRT (.tflite) model for on-device inference.

    python -m hub_export.export_tflite (--ckpt PATH | --saved_model DIR) --out FILE.tflite
        [--quantize none|dynamic|int8] [--seq_length 128] [--bert_config FILE] [--vocab FILE]
        [--lower_case true|false] [--calibration_text FILE] [--calibration_samples N] [--overwrite]
        [--allow_vocab_larger_than_model] [--no_metadata] [--name NAME] [--model_version V] [--license L]
        [--text_input]

The model takes the TF-Hub encoder inputs (input_word_ids, input_mask, input_type_ids) as
int32 [1, seq_length] -- batch 1 and a fixed length, as on-device interpreters expect --
and returns sequence_output [1, seq_length, hidden] and pooled_output [1, hidden] (float32).
`dynamic` stores weights in int8; `int8` also quantizes activations, calibrated on text
(a committed English text by default) tokenized with the model's own vocab. The file is
written beside FILE, run with the LiteRT runtime against the source model, and only then
renamed into place.

The file carries TFLite metadata (unless --no_metadata): the inputs described under the
names MediaPipe Tasks look up (`ids`, `mask`, `segment_ids`), a BERT tokenizer with the
vocab packed into the file, and each output described, so MediaPipe's TextEmbedder runs it
on raw strings.

With --text_input the model takes the text itself instead (one string, `text` [1]) and
tokenizes it in the graph with TensorFlow Text's ops, which have TFLite kernels: it runs
in LiteRT with those kernels registered (hub_export.tflite.runtime.TFLiteTextEncoder), not
in MediaPipe Tasks, and carries no MediaPipe metadata. Its tokenizer gives the
preprocessor's ids but for Greek final sigma and invalid UTF-8 (hub_export/tflite/text_input.py);
none and dynamic only.

    python -m hub_export.export_tflite --classifier DIR --labels labels.txt --out FILE.tflite

turns a text classifier fine-tuned on the TF-Hub encoder (a tf_keras SavedModel built as
the README shows) into a model MediaPipe's TextClassifier runs: its part from the encoder
inputs on, at the length it was trained with, one output `probability` (softmax of the
logits, unless the model ends in softmax already) with labels.txt (one label a line, in
output order) attached.
"""

import argparse
import sys
from pathlib import Path

from hub_export import signatures
from hub_export.support import cli, log
from hub_export.support.atomic import atomic_file, check_file_target, write_failure
from hub_export.support.errors import HubExportError, first_line
from hub_export.tflite import QUANTIZATIONS, check_quantize, is_litert_model
from hub_export.tflite.model_info import CLASSIFIER_NAME, DEFAULT_LICENSE, DEFAULT_VERSION, ENCODER_NAME
from hub_export.tflite.representative_data import DEFAULT_CALIBRATION_SAMPLES, DEFAULT_CALIBRATION_TEXT
from hub_export.tokenization.vocab import ALLOW_LARGER_VOCAB_FLAG

MIN_SEQ_LENGTH = 2  # [CLS] and [SEP]
# The float model must reproduce the source to this per-token relative error.
FLOAT_TOLERANCE = 1e-4
CHECK_SAMPLES = 8


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.export_tflite", description=__doc__.split("\n")[0])
  source = parser.add_mutually_exclusive_group(required=True)
  source.add_argument("--ckpt", help="checkpoint prefix, or a release directory holding one")
  source.add_argument("--saved_model", help="a TF-Hub text-encoder SavedModel directory (e.g. from export_encoder)")
  source.add_argument("--classifier", help="a fine-tuned tf_keras classifier SavedModel on the encoder (needs --labels)")
  parser.add_argument("--labels", type=Path, help="with --classifier: the class names, one a line, in output order")
  parser.add_argument("--out", required=True, type=Path, help="the .tflite file to write")
  parser.add_argument("--quantize", default="none", choices=QUANTIZATIONS,
                      help="none (default): float32; dynamic: int8 weights; int8: int8 weights and activations, "
                           "attention's batch matmuls, softmax and score arithmetic kept in float32")
  parser.add_argument("--seq_length", type=int, default=None,
                      help="the fixed sequence length of the model's inputs (default 128; a classifier keeps its own)")
  parser.add_argument("--bert_config", help="bert_config.json for --ckpt (default: the one beside the checkpoint)")
  parser.add_argument("--vocab", type=Path,
                      help="vocab.txt for calibration and the check (default: beside the checkpoint, or the SavedModel's asset)")
  parser.add_argument("--lower_case", type=cli.str2bool, default=None, metavar="true|false",
                      help="the vocab's casing (default: recorded in the SavedModel, or from vocab/manifest.json)")
  parser.add_argument("--calibration_text", type=Path, default=DEFAULT_CALIBRATION_TEXT,
                      help="UTF-8 text, one sentence or paragraph a line, to calibrate int8 on (default: a committed English text)")
  parser.add_argument("--calibration_samples", type=int, default=DEFAULT_CALIBRATION_SAMPLES,
                      help=f"how many calibration inputs to make from the text (default {DEFAULT_CALIBRATION_SAMPLES})")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
  parser.add_argument(ALLOW_LARGER_VOCAB_FLAG, action="store_true",
                      help="export even if the vocab has more tokens than the model's vocab_size")
  parser.add_argument("--text_input", action="store_true",
                      help="the model takes one string and tokenizes it in the graph (TensorFlow Text's TFLite "
                           "kernels; not for MediaPipe)")
  metadata = parser.add_argument_group("metadata (for MediaPipe Tasks)")
  metadata.add_argument("--no_metadata", action="store_true", help="write the bare model, without TFLite metadata")
  metadata.add_argument("--name", help=f"the model's name in its metadata (default {ENCODER_NAME!r}, or {CLASSIFIER_NAME!r})")
  metadata.add_argument("--model_version", default=DEFAULT_VERSION, help=f"the model's version (default {DEFAULT_VERSION})")
  metadata.add_argument("--license", default=DEFAULT_LICENSE, help=f"the model's license (default {DEFAULT_LICENSE})")
  return parser.parse_args(argv)


def _load_source(ckpt, saved_model, bert_config, quantize, vocab, allow_larger_vocab):
  from hub_export.tflite import encoder_source

  if (ckpt is None) == (saved_model is None):
    raise HubExportError("pass exactly one of --ckpt and --saved_model")
  if saved_model is not None:
    if bert_config is not None:
      raise HubExportError("--bert_config applies to --ckpt only; a SavedModel carries its own architecture")
    if quantize == "int8":
      log.LOG.warning("warning: int8 from a SavedModel quantizes its attention scores and padding mask, which "
                      "costs accuracy; --ckpt keeps them in float32 (see README)")
    with log.step("load SavedModel"):
      return encoder_source.from_saved_model(saved_model)
  return encoder_source.from_checkpoint(ckpt, bert_config, vocab, allow_larger_vocab)


def _text_encoder(source, vocab_flag, lower_case_flag, seq_length, allow_larger_vocab):
  """Tokenizes with the vocab the model was trained with: the flag's, or the source's own."""
  from hub_export.tflite.representative_data import TextEncoder
  from hub_export.tokenization.vocab import check_vocab_fits, load_vocab, resolve_lower_case

  path = vocab_flag or source.vocab
  if path is None:
    raise HubExportError(f"no vocab found for {source.description}; pass --vocab")
  vocab = load_vocab(path)
  if source.vocab_size is not None:
    check_vocab_fits(vocab, source.vocab_size, source.description, allow_larger_vocab)
  lower_case = resolve_lower_case(vocab, lower_case_flag if lower_case_flag is not None else source.lower_case)
  return TextEncoder(vocab, lower_case, seq_length)


def _require_litert() -> None:
  """The written file is run with LiteRT before it is renamed into place: no runtime, no export."""
  from hub_export.tflite.runtime import litert_available

  if not litert_available():
    raise HubExportError("the LiteRT runtime (ai-edge-litert) is not installed, and every .tflite file is run with "
                         "it before it is written; install the tflite extra (bash scripts/setup_venv.sh tflite, or "
                         "pip install -e '.[tflite]' in the repository) or the package: pip install ai-edge-litert")


def _check_classifier_with_litert(model_path, quantize, probes, reference) -> None:
  """The written classifier on the probes: float within FLOAT_TOLERANCE, any variant finite."""
  import numpy as np

  from hub_export.tflite.model_info import PROBABILITY
  from hub_export.tflite.runtime import TFLiteEncoder

  classifier = TFLiteEncoder(model_path, output_keys=(PROBABILITY,))
  got = np.concatenate([classifier(p)[PROBABILITY] for p in probes])
  want = np.concatenate([r[PROBABILITY] for r in reference])
  error = float(np.max(np.abs(got - want))) if np.all(np.isfinite(got)) else float("inf")
  same = float(np.mean(got.argmax(-1) == want.argmax(-1)))
  log.LOG.info("LiteRT vs source (%s): %d texts, max probability difference %.3g, same class %.0f%%",
               quantize, len(probes), error, same * 100)
  if not error < float("inf"):
    raise HubExportError(f"the {quantize} .tflite classifier gives non-finite outputs")
  if quantize == "none" and not error <= FLOAT_TOLERANCE:
    raise HubExportError(f"the float .tflite classifier differs from the source: probability difference "
                         f"{error:.3g} > {FLOAT_TOLERANCE}")


def _check_with_litert(model_path, quantize, probes, reference, lines=None) -> None:
  """Runs the written file with LiteRT on the probes (or on their `lines`, for a model taking text); the float
  model must match the source."""
  from hub_export.tflite.agreement import measure
  from hub_export.tflite.runtime import TFLiteEncoder, TFLiteTextEncoder

  if lines is None:
    encoder = TFLiteEncoder(model_path)
    got = [encoder(p) for p in probes]
  else:
    encoder = TFLiteTextEncoder(model_path)
    got = [encoder(line) for line in lines]
  agreement = measure(probes, got, reference)
  log.LOG.info("LiteRT vs source (%s): %s", quantize, agreement.summary())
  if not agreement.max_relative_error < float("inf"):
    raise HubExportError(f"the {quantize} .tflite model gives non-finite outputs")
  if quantize == "none" and not agreement.max_relative_error <= FLOAT_TOLERANCE:
    raise HubExportError(f"the float .tflite model differs from the source: per-token relative error "
                         f"{agreement.max_relative_error:.3g} > {FLOAT_TOLERANCE}")


def export_tflite(out, quantize="none", ckpt=None, saved_model=None, seq_length=signatures.DEFAULT_SEQ_LENGTH,
                  bert_config=None, vocab=None, lower_case=None, calibration_text=DEFAULT_CALIBRATION_TEXT,
                  calibration_samples=DEFAULT_CALIBRATION_SAMPLES, overwrite=False, allow_larger_vocab=False,
                  metadata=True, name=None, model_version=DEFAULT_VERSION, license=DEFAULT_LICENSE,
                  text_input=False) -> Path:
  """The whole job; returns the written file. Raises HubExportError on bad input."""
  check_quantize(quantize)
  if text_input and quantize == "int8":
    raise HubExportError("--text_input takes --quantize none or dynamic: int8 calibrates on token ids, "
                         "not on text")
  if seq_length < MIN_SEQ_LENGTH:
    raise HubExportError(f"--seq_length must be at least {MIN_SEQ_LENGTH} ([CLS] and [SEP]), got {seq_length}")
  check_file_target(out, overwrite, ours=is_litert_model)
  _require_litert()
  source = _load_source(ckpt, saved_model, bert_config, quantize, vocab, allow_larger_vocab)
  if source.max_seq_length is not None and seq_length > source.max_seq_length:
    raise HubExportError(f"--seq_length {seq_length} exceeds the model's max_position_embeddings "
                         f"{source.max_seq_length}")
  text_encoder = _text_encoder(source, vocab, lower_case, seq_length, allow_larger_vocab)

  flatbuffer, probes, reference = _trace_and_convert(
      source.encode, signatures.TFLITE_OUTPUT_KEYS, seq_length, source, quantize, text_encoder, calibration_text,
      calibration_samples, text_input)
  if text_input:
    from hub_export.tflite.representative_data import read_lines

    log.LOG.info("no TFLite metadata: the model takes text, and MediaPipe Tasks need the token-id inputs")
    lines = read_lines(calibration_text, CHECK_SAMPLES)
    _write_checked(out, overwrite, source, flatbuffer,
                   lambda tmp: _check_with_litert(tmp, quantize, probes, reference, lines))
    log.LOG.info("wrote %s (%.1f MB, %s, input text [1], tokenized to %d)", out, len(flatbuffer) / 1e6, quantize,
                 seq_length)
    return Path(out)
  if metadata:
    from hub_export.tflite.model_info import encoder_info

    flatbuffer = _with_metadata(flatbuffer, encoder_info(text_encoder.vocab.path, text_encoder.lower_case, seq_length,
                                                         quantize, name or ENCODER_NAME, model_version, license),
                                text_encoder.lower_case)
  _write_checked(out, overwrite, source, flatbuffer, lambda tmp: _check_with_litert(tmp, quantize, probes, reference))
  log.LOG.info("wrote %s (%.1f MB, %s, inputs int32 [1, %d])", out, len(flatbuffer) / 1e6, quantize, seq_length)
  return Path(out)


def export_classifier(out, classifier, labels, quantize="none", vocab=None, lower_case=None,
                      calibration_text=DEFAULT_CALIBRATION_TEXT, calibration_samples=DEFAULT_CALIBRATION_SAMPLES,
                      overwrite=False, name=None, model_version=DEFAULT_VERSION, license=DEFAULT_LICENSE) -> Path:
  """A fine-tuned classifier SavedModel -> a .tflite MediaPipe's TextClassifier runs; returns the file."""
  from hub_export.tflite.classifier_source import read_labels

  check_quantize(quantize)
  check_file_target(out, overwrite, ours=is_litert_model)
  label_names = read_labels(labels)
  _require_litert()
  from hub_export.tflite.classifier_source import from_classifier

  with log.step("load classifier"):
    source = from_classifier(classifier)
  if len(label_names) != source.num_classes:
    raise HubExportError(f"--labels {labels} has {len(label_names)} labels but {source.description} has "
                         f"{source.num_classes} outputs")
  _check_same_vocab(vocab, source)
  text_encoder = _text_encoder(source, vocab, lower_case, source.seq_length, False)
  log.LOG.info("%s: %d classes, sequence length %d, output %s", source.description, source.num_classes,
               source.seq_length, "probabilities as saved" if source.already_probabilities else "softmax of its logits")

  from hub_export.tflite.model_info import PROBABILITY, classifier_info

  flatbuffer, probes, reference = _trace_and_convert(
      lambda x: {PROBABILITY: source.scores(x)}, (PROBABILITY,), source.seq_length, source, quantize, text_encoder,
      calibration_text, calibration_samples)
  flatbuffer = _with_metadata(flatbuffer, classifier_info(text_encoder.vocab.path, text_encoder.lower_case,
                                                          source.seq_length, label_names, name or CLASSIFIER_NAME,
                                                          model_version, license),
                              text_encoder.lower_case)
  _write_checked(out, overwrite, source, flatbuffer,
                 lambda tmp: _check_classifier_with_litert(tmp, quantize, probes, reference))
  log.LOG.info("wrote %s (%.1f MB, %s, %d labels, inputs int32 [1, %d])", out, len(flatbuffer) / 1e6, quantize,
               len(label_names), source.seq_length)
  return Path(out)


def _trace_and_convert(encode, output_keys, seq_length, source, quantize, text_encoder, calibration_text,
                       calibration_samples, text_input=False) -> tuple:
  """Traces and converts `encode` (behind the in-graph tokenizer with `text_input`); returns the flatbuffer, the
  probe inputs and the source's outputs on them."""
  from hub_export.tflite.convert import convert, serving_function
  from hub_export.tflite.representative_data import calibration_inputs, read_lines

  with log.step("trace"):
    function = serving_function(encode, seq_length, source.description, output_keys)
    converted = function
    if text_input:
      from hub_export.tflite.text_input import InGraphTokenizer, text_serving_function

      tokenizer = InGraphTokenizer(text_encoder.vocab, text_encoder.lower_case, seq_length)
      converted = text_serving_function(encode, tokenizer, output_keys)
  with log.step("run the source model"):
    probes = text_encoder.encode(read_lines(calibration_text, CHECK_SAMPLES))
    reference = [_run(function, probe, source.description, seq_length) for probe in probes]
  calibration = None
  if quantize == "int8":
    with log.step("tokenize calibration text"):
      calibration = calibration_inputs(text_encoder, calibration_text, calibration_samples)
  with log.step(f"convert ({quantize})"):
    return convert(converted, source.trackable, quantize, calibration, custom_ops=text_input), probes, reference


def _with_metadata(flatbuffer: bytes, info, lower_case: bool) -> bytes:
  """Adds the metadata MediaPipe Tasks need, and says what MediaPipe's tokenizer gets wrong for the vocab."""
  from hub_export.tflite.mediapipe_tokenizer import mediapipe_tokenizer_note
  from hub_export.tflite.metadata import populate

  with log.step("add metadata"):
    flatbuffer = populate(flatbuffer, info)
  log.LOG.warning("warning: on MediaPipe Tasks: %s", mediapipe_tokenizer_note(lower_case))
  return flatbuffer


def _write_checked(out, overwrite, source, flatbuffer: bytes, check) -> None:
  """Writes the file beside `out`, runs `check` on it, and only then renames it into place."""
  with atomic_file(out, overwrite, protected=[source.protected], ours=is_litert_model) as tmp:
    try:
      tmp.write_bytes(flatbuffer)
    except OSError as e:  # a full disk, a file size limit
      raise write_failure(out, e) from None
    with log.step("check with LiteRT"):
      check(tmp)


def _check_same_vocab(vocab_flag, source) -> None:
  """A --vocab other than the one saved with the classifier's tokenizer would give other ids."""
  if vocab_flag is None or source.vocab is None:
    return
  try:
    same = Path(vocab_flag).read_bytes() == source.vocab.read_bytes()
  except OSError as e:
    raise HubExportError(f"cannot read --vocab {vocab_flag}: {e.strerror}") from None
  if not same:
    raise HubExportError(f"--vocab {vocab_flag} is not the vocab {source.description} was saved with "
                         f"({source.vocab}); token ids would not match the model")


def _run(function, inputs, description, seq_length) -> dict:
  """The source model's outputs as numpy; a failure here means it cannot run at this length."""
  import tensorflow as tf

  try:
    outputs = function(inputs)
  except (tf.errors.OpError, ValueError) as e:
    raise HubExportError(f"{description} fails at seq_length {seq_length}: {first_line(e)}") from None
  return {key: value.numpy() for key, value in outputs.items()}


def _main(argv):
  args = parse_args(argv)
  if args.classifier is not None:
    if args.text_input:
      raise HubExportError("--text_input applies to encoders (--ckpt, --saved_model), not to --classifier")
    for flag, value in (("--seq_length", args.seq_length), ("--bert_config", args.bert_config)):
      if value is not None:
        raise HubExportError(f"{flag} does not apply to --classifier (it keeps the length it was trained with)")
    if args.labels is None:
      raise HubExportError("--classifier needs --labels (the class names, one a line, in output order)")
    export_classifier(args.out, args.classifier, args.labels, args.quantize, args.vocab, args.lower_case,
                      args.calibration_text, args.calibration_samples, args.overwrite, args.name, args.model_version,
                      args.license)
    return
  if args.labels is not None:
    raise HubExportError("--labels applies to --classifier only")
  if args.seq_length is None:
    args.seq_length = signatures.DEFAULT_SEQ_LENGTH
  export_tflite(args.out, args.quantize, args.ckpt, args.saved_model, args.seq_length, args.bert_config,
                args.vocab, args.lower_case, args.calibration_text, args.calibration_samples, args.overwrite,
                args.allow_vocab_larger_than_model, not args.no_metadata, args.name, args.model_version, args.license,
                args.text_input)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
