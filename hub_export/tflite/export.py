"""A MobileBERT encoder (a checkpoint or a SavedModel), a fine-tuned classifier or a task model (SQuAD or
classification) -> a checked LiteRT file.

The steps of `python -m hub_export.export_tflite`: load the source, trace its serving function
(behind the in-graph tokenizer for text input), convert (calibrated for int8), add MediaPipe's
metadata, then write the file beside its target, run it with LiteRT against the source and only
then rename it into place.
"""

from pathlib import Path

from hub_export import signatures
from hub_export.support import log
from hub_export.support.atomic import atomic_file, check_file_target, write_failure
from hub_export.support.errors import HubExportError, first_line
from hub_export.tflite import check_quantize, is_litert_model
from hub_export.tflite.agreement import check_classifier, check_encoder, check_task_logits
from hub_export.tflite.model_info import CLASSIFIER_NAME, DEFAULT_LICENSE, DEFAULT_VERSION, ENCODER_NAME
from hub_export.tflite.representative_data import DEFAULT_CALIBRATION_SAMPLES, DEFAULT_CALIBRATION_TEXT

MIN_SEQ_LENGTH = 2  # [CLS] and [SEP]
CHECK_SAMPLES = 8


def _load_source(ckpt, saved_model, bert_config, quantize, vocab, lower_case, allow_larger_vocab):
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
  return encoder_source.from_checkpoint(ckpt, bert_config, vocab, lower_case, allow_larger_vocab)


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
  source = _load_source(ckpt, saved_model, bert_config, quantize, vocab, lower_case, allow_larger_vocab)
  if source.max_seq_length is not None and seq_length > source.max_seq_length:
    raise HubExportError(f"--seq_length {seq_length} exceeds the model's max_position_embeddings "
                         f"{source.max_seq_length}")
  if ckpt is not None:  # its vocab and casing were settled with the flags before the restore
    from hub_export.tflite.representative_data import TextEncoder
    from hub_export.tokenization.vocab import load_vocab

    text_encoder = TextEncoder(load_vocab(source.vocab), source.lower_case, seq_length)
  else:
    text_encoder = _text_encoder(source, vocab, lower_case, seq_length, allow_larger_vocab)

  flatbuffer, probes, reference = _trace_and_convert(
      source.encode, signatures.TFLITE_OUTPUT_KEYS, seq_length, source, quantize,
      _text_inputs(text_encoder, calibration_text, calibration_samples), text_encoder if text_input else None)
  if text_input:
    from hub_export.tflite.representative_data import read_lines

    log.LOG.info("no TFLite metadata: the model takes text, and MediaPipe Tasks need the token-id inputs")
    lines = read_lines(calibration_text, CHECK_SAMPLES)
    _write_checked(out, overwrite, source, flatbuffer,
                   lambda tmp: check_encoder(tmp, quantize, probes, reference, lines))
    log.LOG.info("wrote %s (%.1f MB, %s, input text [1], tokenized to %d)", out, len(flatbuffer) / 1e6, quantize,
                 seq_length)
    return Path(out)
  if metadata:
    from hub_export.tflite.model_info import encoder_info

    flatbuffer = _with_metadata(flatbuffer, encoder_info(text_encoder.vocab.path, text_encoder.lower_case, seq_length,
                                                         quantize, name or ENCODER_NAME, model_version, license),
                                text_encoder.lower_case)
  _write_checked(out, overwrite, source, flatbuffer, lambda tmp: check_encoder(tmp, quantize, probes, reference))
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
      lambda x: {PROBABILITY: source.scores(x)}, (PROBABILITY,), source.seq_length, source, quantize,
      _text_inputs(text_encoder, calibration_text, calibration_samples))
  flatbuffer = _with_metadata(flatbuffer, classifier_info(text_encoder.vocab.path, text_encoder.lower_case,
                                                          source.seq_length, label_names, name or CLASSIFIER_NAME,
                                                          model_version, license),
                              text_encoder.lower_case)
  _write_checked(out, overwrite, source, flatbuffer,
                 lambda tmp: check_classifier(tmp, quantize, probes, reference))
  log.LOG.info("wrote %s (%.1f MB, %s, %d labels, inputs int32 [1, %d])", out, len(flatbuffer) / 1e6, quantize,
               len(label_names), source.seq_length)
  return Path(out)


def export_task_qa(out, task_model, windows, quantize="none", calibration_samples=DEFAULT_CALIBRATION_SAMPLES,
                   overwrite=False, name=None, model_version=DEFAULT_VERSION, license=DEFAULT_LICENSE) -> Path:
  """A SQuAD task SavedModel -> a .tflite the TFLite Task Library's BertQuestionAnswerer runs; returns the file.

  `windows(count)` gives up to `count` input dicts of question + context windows, what the file is checked with
  and int8 calibrated on (`hub_export.tasks.task_library_inputs.qa_windows`).
  """
  from hub_export.tflite.qa_source import QA_OUTPUT_KEYS, TASK_LIBRARY_SEQ_LENGTH, from_task_model, read_qa_config

  _, source = _load_task_model(out, overwrite, quantize, task_model, read_qa_config, from_task_model)
  from hub_export.tflite.model_info import QA_NAME, qa_info

  info = qa_info(source.vocab, TASK_LIBRARY_SEQ_LENGTH, quantize, name or QA_NAME, model_version, license)
  # tflite-support 0.4.4 refuses FULLY_CONNECTED version 12, what per-channel dynamic-range dense layers take.
  flatbuffer = _write_task_model(out, overwrite, source, QA_OUTPUT_KEYS, TASK_LIBRARY_SEQ_LENGTH, quantize, windows,
                                 calibration_samples, info, "question answerer", per_tensor_dense=quantize == "dynamic")
  log.LOG.info("wrote %s (%.1f MB, %s, inputs int32 [1, %d], for the Task Library's BertQuestionAnswerer)", out,
               len(flatbuffer) / 1e6, quantize, TASK_LIBRARY_SEQ_LENGTH)
  return Path(out)


def export_task_classifier(out, task_model, windows, quantize="none", calibration_samples=DEFAULT_CALIBRATION_SAMPLES,
                           overwrite=False, name=None, model_version=DEFAULT_VERSION,
                           license=DEFAULT_LICENSE) -> Path:
  """A classification task SavedModel (single texts or pairs) -> a .tflite on token ids at its max_seq_length, output
  `logits` with the labels attached; returns the file. `windows(count)` gives up to `count` input dicts, what the
  file is checked with and int8 calibrated on (`hub_export.tasks.task_library_inputs.classifier_windows`)."""
  from hub_export.tflite.task_classifier_source import from_task_classifier, read_classifier_config

  config, source = _load_task_model(out, overwrite, quantize, task_model, read_classifier_config,
                                    from_task_classifier)
  from hub_export.tflite.model_info import TASK_CLASSIFIER_NAME, task_classifier_info

  seq_length = config["max_seq_length"]
  labels = list(config["labels"]) if not config["regression"] else []
  info = task_classifier_info(source.vocab, config["lower_case"], seq_length, labels, config["pair"], quantize,
                              name or TASK_CLASSIFIER_NAME, model_version, license)
  flatbuffer = _write_task_model(out, overwrite, source, (signatures.LOGITS,), seq_length, quantize, windows,
                                 calibration_samples, info, "classifier")
  log.LOG.info("wrote %s (%.1f MB, %s, %s, inputs int32 [1, %d])", out, len(flatbuffer) / 1e6, quantize,
               "text pairs" if config["pair"] else "single texts", seq_length)
  return Path(out)


def _load_task_model(out, overwrite, quantize, task_model, read_config, load) -> tuple:
  """(its task.json, its TaskSource): what needs no TensorFlow checked first (the quantization, the model's task.json
  by `read_config`, so a model the file cannot take is refused before TensorFlow loads, the target, LiteRT), then
  the model loaded by `load`."""
  check_quantize(quantize)
  config = read_config(task_model)
  check_file_target(out, overwrite, ours=is_litert_model)
  _require_litert()
  with log.step("load task model"):
    return config, load(task_model)


def _write_task_model(out, overwrite, source, keys, seq_length, quantize, windows, calibration_samples, info,
                      model: str, per_tensor_dense=False) -> bytes:
  """A task model's `serve` (`source`) traced at [1, seq_length] and converted, `info` added as its metadata, and
  written checked on `windows(CHECK_SAMPLES)` (the `keys` logits of the `model`); int8 calibrates on
  `windows(calibration_samples)`. Returns the written flatbuffer."""
  from hub_export.tflite.metadata import populate

  inputs = (windows(CHECK_SAMPLES), lambda: windows(calibration_samples))
  flatbuffer, probes, reference = _trace_and_convert(source.logits, keys, seq_length, source, quantize, inputs,
                                                     per_tensor_dense=per_tensor_dense)
  with log.step("add metadata"):
    flatbuffer = populate(flatbuffer, info)
  _write_checked(out, overwrite, source, flatbuffer,
                 lambda tmp: check_task_logits(tmp, quantize, probes, reference, keys, model))
  return flatbuffer


def _text_inputs(text_encoder, calibration_text, calibration_samples) -> tuple:
  """(probes, a function making int8's calibration inputs): lines of the calibration text, by our tokenizer."""
  from hub_export.tflite.representative_data import calibration_inputs, read_lines

  probes = text_encoder.encode(read_lines(calibration_text, CHECK_SAMPLES))
  return probes, lambda: calibration_inputs(text_encoder, calibration_text, calibration_samples)


def _trace_and_convert(encode, output_keys, seq_length, source, quantize, inputs, text_encoder=None,
                       per_tensor_dense=False) -> tuple:
  """Traces and converts `encode` (behind the in-graph tokenizer for `text_encoder`'s vocab, for text input);
  `inputs` is (probes, a function making int8's calibration inputs); `per_tensor_dense` as `convert` takes it.
  Returns the flatbuffer, the probes and the source's outputs on them."""
  from hub_export.tflite.to_flatbuffer import convert, serving_function

  probes, calibration_inputs = inputs
  with log.step("trace"):
    function = serving_function(encode, seq_length, source.description, output_keys)
    converted = function
    if text_encoder is not None:
      from hub_export.tflite.text_input import InGraphTokenizer, text_serving_function

      tokenizer = InGraphTokenizer(text_encoder.vocab, text_encoder.lower_case, seq_length)
      converted = text_serving_function(encode, tokenizer, output_keys)
  with log.step("run the source model"):
    reference = [_run(function, probe, source.description, seq_length) for probe in probes]
  calibration = None
  if quantize == "int8":
    with log.step("make calibration inputs"):
      calibration = calibration_inputs()
  with log.step(f"convert ({quantize})"):
    return (convert(converted, source.trackable, quantize, calibration, custom_ops=text_encoder is not None,
                    per_tensor_dense=per_tensor_dense), probes, reference)


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
