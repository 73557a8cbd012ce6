"""Exports a MobileBERT encoder as a LiteRT (.tflite) model for on-device inference.

    python -m hub_export.export_tflite (--ckpt PATH | --saved_model DIR) --out FILE.tflite
        [--quantize none|dynamic|int8|float16] [--seq_length 128] [--bert_config FILE] [--vocab FILE]
        [--lower_case true|false] [--calibration_text FILE] [--calibration_samples N] [--overwrite]
        [--allow_vocab_larger_than_model] [--no_metadata] [--name NAME] [--model_version V] [--license L]
        [--text_input]

The model takes the TF-Hub encoder inputs (input_word_ids, input_mask, input_type_ids) as
int32 [1, seq_length] -- batch 1 and a fixed length, as on-device interpreters expect --
and returns sequence_output [1, seq_length, hidden] and pooled_output [1, hidden] (float32).
`dynamic` stores weights in int8, `float16` in float16; `int8` also quantizes activations, calibrated on text
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

    python -m hub_export.export_tflite --task_model DIR --out FILE.tflite [--calibration_squad FILE]

turns a SQuAD task model (`finetune`'s SavedModel) into a model the TFLite Task Library's
BertQuestionAnswerer runs: inputs `ids`, `mask`, `segment_ids` int32 [1, 384] and outputs
`start_logits`, `end_logits` float32, found by those metadata names, the vocab in its BERT
tokenizer unit. It is checked and, for int8, calibrated on question + context windows: the
questions of --calibration_squad, else windows made from --calibration_text.

    python -m hub_export.export_tflite --task_classifier DIR --out FILE.tflite [--calibration_tsv FILE]

turns a classification task model (`finetune`'s SavedModel; single texts or sentence pairs, which
MediaPipe and the Task Library cannot feed) into a model on token ids: `ids`, `mask`,
`segment_ids` int32 [1, max_seq_length] (a pair packed `[CLS] a [SEP] b [SEP]`, segment 1 from b
on) and `logits` float32 [1, labels], the labels and the vocab in its metadata. It is checked and,
for int8, calibrated on the texts of --calibration_tsv (read as evaluate_task reads it), else on
lines of --calibration_text (for pairs, each line and the next).
"""

import argparse
import functools
import sys
from pathlib import Path

from hub_export import signatures
from hub_export.checkpoint.export_source import add_source_arguments
from hub_export.support import cli
from hub_export.support.errors import HubExportError
from hub_export.tflite import QUANTIZATIONS
from hub_export.tflite.model_info import (CLASSIFIER_NAME, DEFAULT_LICENSE, DEFAULT_VERSION, ENCODER_NAME, QA_NAME,
                                          TASK_CLASSIFIER_NAME)
from hub_export.tflite.qa_source import TASK_LIBRARY_SEQ_LENGTH
from hub_export.tflite.representative_data import DEFAULT_CALIBRATION_SAMPLES, DEFAULT_CALIBRATION_TEXT


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.export_tflite", description=__doc__.split("\n")[0])
  source = parser.add_mutually_exclusive_group(required=True)
  source.add_argument("--saved_model", help="a TF-Hub text-encoder SavedModel directory (e.g. from export_encoder)")
  source.add_argument("--classifier", help="a fine-tuned tf_keras classifier SavedModel on the encoder (needs --labels)")
  source.add_argument("--task_model", help="a SQuAD task SavedModel (from finetune), for the TFLite Task Library's "
                                           "BertQuestionAnswerer")
  source.add_argument("--task_classifier", help="a classification task SavedModel (from finetune; single texts or "
                                                "pairs), as a .tflite on token ids")
  add_source_arguments(parser, other_sources=source)
  parser.add_argument("--labels", type=Path, help="with --classifier: the class names, one a line, in output order")
  parser.add_argument("--out", required=True, type=Path, help="the .tflite file to write")
  parser.add_argument("--quantize", default="none", choices=QUANTIZATIONS,
                      help="none (default): float32; dynamic: int8 weights; int8: int8 weights and activations, "
                           "attention's batch matmuls, softmax and score arithmetic kept in float32; float16: "
                           "float16 weights")
  parser.add_argument("--seq_length", type=int, default=None,
                      help="the fixed sequence length of the model's inputs (default 128; a classifier keeps its own)")
  parser.add_argument("--calibration_text", type=Path, default=DEFAULT_CALIBRATION_TEXT,
                      help="UTF-8 text, one sentence or paragraph a line, to calibrate int8 on (default: a committed English text)")
  parser.add_argument("--calibration_squad", type=Path,
                      help="with --task_model: a SQuAD JSON file whose question + context windows the export checks "
                           "with and int8 calibrates on (default: windows made from --calibration_text, each line a "
                           "question and the lines after it the context)")
  parser.add_argument("--calibration_tsv", type=Path,
                      help="with --task_classifier: a TSV of the task (as evaluate_task reads it) whose texts the "
                           "export checks with and int8 calibrates on (default: lines of --calibration_text)")
  parser.add_argument("--calibration_samples", type=int, default=DEFAULT_CALIBRATION_SAMPLES,
                      help=f"how many calibration inputs to make from the text (default {DEFAULT_CALIBRATION_SAMPLES})")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
  parser.add_argument("--text_input", action="store_true",
                      help="the model takes one string and tokenizes it in the graph (TensorFlow Text's TFLite "
                           "kernels; not for MediaPipe)")
  metadata = parser.add_argument_group("metadata (for MediaPipe Tasks)")
  metadata.add_argument("--no_metadata", action="store_true", help="write the bare model, without TFLite metadata")
  metadata.add_argument("--name", help=f"the model's name in its metadata (default {ENCODER_NAME!r}, "
                                      f"{CLASSIFIER_NAME!r}, {QA_NAME!r} or {TASK_CLASSIFIER_NAME!r})")
  metadata.add_argument("--model_version", default=DEFAULT_VERSION, help=f"the model's version (default {DEFAULT_VERSION})")
  metadata.add_argument("--license", default=DEFAULT_LICENSE, help=f"the model's license (default {DEFAULT_LICENSE})")
  return parser.parse_args(argv)


# The flags that do not apply to --task_model, and why.
_NOT_FOR_TASK_MODEL = {
    "labels": "it answers questions, it does not classify",
    "text_input": "the Task Library tokenizes outside the model",
    "seq_length": f"the Task Library feeds {TASK_LIBRARY_SEQ_LENGTH} tokens",
    "bert_config": "a SavedModel carries its own architecture",
    "vocab": "the task model carries its own vocab",
    "lower_case": "the Task Library lower-cases",
    "allow_vocab_larger_than_model": "the task model carries its own vocab",
    "no_metadata": "the Task Library finds every tensor through the metadata",
    "calibration_tsv": "a SQuAD model calibrates on --calibration_squad",
}
# The same for --task_classifier.
_NOT_FOR_TASK_CLASSIFIER = {
    "labels": "its assets/task.json names its labels",
    "text_input": "it takes token ids; the app packs the text or pair",
    "seq_length": "it keeps the max_seq_length it was fine-tuned at",
    "bert_config": "a SavedModel carries its own architecture",
    "vocab": "the task model carries its own vocab",
    "lower_case": "its assets/task.json says whether it lower-cases",
    "allow_vocab_larger_than_model": "the task model carries its own vocab",
    "no_metadata": "the metadata carries its labels and vocab",
    "calibration_squad": "a classifier calibrates on --calibration_tsv",
}


def _check_flags(args, flag: str, not_for: dict) -> None:
  for dest, why in not_for.items():
    if getattr(args, dest) not in (None, False):
      raise HubExportError(f"--{dest} does not apply to {flag} ({why})")


def _main(argv):
  from hub_export.tflite.export import export_classifier, export_task_classifier, export_task_qa, export_tflite

  args = parse_args(argv)
  if args.task_classifier is not None:
    from hub_export.tasks.task_library_inputs import classifier_windows

    _check_flags(args, "--task_classifier", _NOT_FOR_TASK_CLASSIFIER)
    windows = functools.partial(classifier_windows, args.task_classifier, args.calibration_tsv, args.calibration_text)
    export_task_classifier(args.out, args.task_classifier, windows, args.quantize, args.calibration_samples,
                           args.overwrite, args.name, args.model_version, args.license)
    return
  if args.task_model is not None:
    from hub_export.tasks.task_library_inputs import qa_windows

    _check_flags(args, "--task_model", _NOT_FOR_TASK_MODEL)
    windows = functools.partial(qa_windows, args.task_model, args.calibration_squad, args.calibration_text)
    export_task_qa(args.out, args.task_model, windows, args.quantize, args.calibration_samples, args.overwrite,
                   args.name, args.model_version, args.license)
    return
  if args.calibration_squad is not None:
    raise HubExportError("--calibration_squad applies to --task_model only")
  if args.calibration_tsv is not None:
    raise HubExportError("--calibration_tsv applies to --task_classifier only")
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
