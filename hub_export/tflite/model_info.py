"""What the metadata of an exported encoder, classifier or question answerer says: names, descriptions, files.

Inputs are described under MediaPipe's names (`ids`, `mask`, `segment_ids`), each placed
on the tensor of the TF-Hub input it stands for; the vocab the model was trained with goes
in as the BERT tokenizer's VOCABULARY file.
"""

from pathlib import Path

from hub_export import signatures as sig
from hub_export.support.filenames import VOCAB_NAME
from hub_export.tflite.metadata import (MEDIAPIPE_INPUT_NAMES, TENSOR_AXIS_LABELS, VOCABULARY, AssociatedFile,
                                        ModelInfo, TensorInfo)

DEFAULT_VERSION = "1"
ENCODER_NAME = "MobileBERT text encoder"
CLASSIFIER_NAME = "MobileBERT text classifier"
QA_NAME = "MobileBERT question answerer"
TASK_CLASSIFIER_NAME = "MobileBERT task classifier"
DEFAULT_LICENSE = "Apache-2.0"
AUTHOR = "mobilebert-hub-export"
LABELS_FILE_NAME = "labels.txt"
# The classifier's one output: MediaPipe's TextClassifier reads scores from it.
PROBABILITY = "probability"

_MASK_DESCRIPTION = "1 at real tokens, 0 at padding."
_INPUT_DESCRIPTIONS = {
    sig.INPUT_WORD_IDS: "Token ids: [CLS], the text's WordPiece ids, [SEP], then 0 (padding).",
    sig.INPUT_MASK: _MASK_DESCRIPTION,
    sig.INPUT_TYPE_IDS: "Segment ids: 0 for the first text (all of it for one text).",
}
_PAIR_INPUT_DESCRIPTIONS = {
    sig.INPUT_WORD_IDS: "Token ids: [CLS], the first text's WordPiece ids, [SEP], the second text's, [SEP], then 0.",
    sig.INPUT_MASK: _MASK_DESCRIPTION,
    sig.INPUT_TYPE_IDS: "Segment ids: 0 for [CLS], the first text and its [SEP]; 1 for the second text and its [SEP].",
}
_QA_INPUT_DESCRIPTIONS = {
    sig.INPUT_WORD_IDS: "Token ids: [CLS], the question's WordPiece ids, [SEP], the context's, [SEP], then 0.",
    sig.INPUT_MASK: _MASK_DESCRIPTION,
    sig.INPUT_TYPE_IDS: "Segment ids: 0 for [CLS], the question and its [SEP]; 1 for the context and its [SEP].",
}


def _casing(lower_case: bool) -> str:
  return "uncased" if lower_case else "cased"


def _inputs(seq_length: int, descriptions: dict) -> dict:
  return {key: TensorInfo(MEDIAPIPE_INPUT_NAMES[key], f"{descriptions[key]} int32 [1, {seq_length}].")
          for key in sig.ENCODER_INPUT_KEYS}


def _vocab(vocab_path: Path, lower_case: bool) -> AssociatedFile:
  return AssociatedFile(VOCAB_NAME, f"WordPiece vocabulary ({_casing(lower_case)}), one token a line.",
                        VOCABULARY, Path(vocab_path).read_bytes())


def encoder_info(vocab_path, lower_case: bool, seq_length: int, quantize: str, name: str,
                 version: str = DEFAULT_VERSION, license: str = DEFAULT_LICENSE) -> ModelInfo:
  outputs = {
      sig.SEQUENCE_OUTPUT: TensorInfo(sig.SEQUENCE_OUTPUT, "One vector per token, float32 [1, seq_length, hidden]."),
      sig.POOLED_OUTPUT: TensorInfo(sig.POOLED_OUTPUT, "One vector for the whole text (from [CLS]), float32 [1, hidden]."),
  }
  description = (f"MobileBERT text encoder ({_casing(lower_case)} WordPiece, {quantize} weights), "
                 f"the TF-Hub encoder's outputs for one text of up to {seq_length} tokens.")
  return _model_info(name, description, version, license, seq_length, outputs, vocab_path, lower_case)


def classifier_info(vocab_path, lower_case: bool, seq_length: int, labels: list, name: str,
                    version: str = DEFAULT_VERSION, license: str = DEFAULT_LICENSE) -> ModelInfo:
  labels_file = AssociatedFile(LABELS_FILE_NAME, "The class of each score, one a line.", TENSOR_AXIS_LABELS,
                               "".join(f"{label}\n" for label in labels).encode("utf-8"))
  outputs = {PROBABILITY: TensorInfo(PROBABILITY, f"Probability of each of the {len(labels)} classes, float32 "
                                                  f"[1, {len(labels)}].", labels_file)}
  description = (f"Text classifier fine-tuned on a MobileBERT encoder ({_casing(lower_case)} WordPiece): "
                 f"class probabilities for one text of up to {seq_length} tokens.")
  return _model_info(name, description, version, license, seq_length, outputs, vocab_path, lower_case)


def task_classifier_info(vocab_path, lower_case: bool, seq_length: int, labels: list, pair: bool, quantize: str,
                         name: str, version: str = DEFAULT_VERSION, license: str = DEFAULT_LICENSE) -> ModelInfo:
  """A classification task model on token ids: one text, or a pair packed as the pair inputs describe; no `labels`:
  a regression, one score."""
  if labels:
    labels_file = AssociatedFile(LABELS_FILE_NAME, "The class of each logit, one a line.", TENSOR_AXIS_LABELS,
                                 "".join(f"{label}\n" for label in labels).encode("utf-8"))
    output = TensorInfo(sig.LOGITS, f"Logit of each of the {len(labels)} classes, float32 [1, {len(labels)}].",
                        labels_file)
  else:
    output = TensorInfo(sig.LOGITS, "The predicted score, float32 [1, 1].")
  outputs = {sig.LOGITS: output}
  texts = "a pair of texts" if pair else "one text"
  description = (f"Text classifier fine-tuned on a MobileBERT encoder ({_casing(lower_case)} WordPiece, {quantize} "
                 f"weights): class logits for {texts} of up to {seq_length} tokens in all.")
  return _model_info(name, description, version, license, seq_length, outputs, vocab_path, lower_case,
                     _PAIR_INPUT_DESCRIPTIONS if pair else _INPUT_DESCRIPTIONS)


def qa_info(vocab_path, seq_length: int, quantize: str, name: str, version: str = DEFAULT_VERSION,
            license: str = DEFAULT_LICENSE) -> ModelInfo:
  """The TFLite Task Library's BertQuestionAnswerer finds every tensor by these names (an uncased vocab only)."""
  outputs = {key: TensorInfo(key, f"Score of each position as the answer's {edge} token, float32 [1, {seq_length}].")
             for key, edge in ((sig.START_LOGITS, "first"), (sig.END_LOGITS, "last"))}
  description = (f"Extractive question answering fine-tuned on a MobileBERT encoder (uncased WordPiece, {quantize} "
                 f"weights): start and end scores over one question and context of up to {seq_length} tokens.")
  return _model_info(name, description, version, license, seq_length, outputs, vocab_path, True,
                     _QA_INPUT_DESCRIPTIONS)


def _model_info(name, description, version, license, seq_length, outputs, vocab_path, lower_case,
                input_descriptions=_INPUT_DESCRIPTIONS) -> ModelInfo:
  return ModelInfo(name=name, description=description, version=version, license=license, author=AUTHOR,
                   inputs=_inputs(seq_length, input_descriptions), outputs=outputs,
                   vocab=_vocab(vocab_path, lower_case))
