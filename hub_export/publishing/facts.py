"""Model facts for cards and metadata, read from the SavedModel itself rather than assumed."""

import dataclasses
from pathlib import Path

import numpy as np

from hub_export import signatures as sig
from hub_export.hub_format import reading
from hub_export.hub_format.task_model_files import SERVE, TASK_CONFIG_NAME, read_task_config
from hub_export.support.errors import HubExportError


@dataclasses.dataclass(frozen=True)
class EncoderFacts:
  hidden_size: int
  vocab_size: int
  vocab_file: str
  lower_case: bool
  parameters: int
  mlm_head_parameters: int
  encoder_outputs: int


@dataclasses.dataclass(frozen=True)
class PreprocessorFacts:
  vocab_size: int
  vocab_file: str
  lower_case: bool
  seq_length: int
  special_ids: dict


@dataclasses.dataclass(frozen=True)
class KerasPresetFacts:
  hidden_size: int
  vocab_size: int
  lower_case: bool
  num_layers: int
  parameters: int


def _size(variables) -> int:
  return int(sum(np.prod(v.shape.as_list(), dtype=np.int64) for v in variables))


def _need(obj, name: str, path) -> object:
  if not hasattr(obj, name):
    raise HubExportError(f"{path}: the SavedModel has no '{name}'; is it the right kind of export?")
  return getattr(obj, name)


def _asset_name(asset, path) -> tuple:
  file = Path(asset.asset_path.numpy().decode())
  if not file.is_file():
    raise HubExportError(f"{path}: the vocab asset {file.name} is missing from assets/")
  return file.name, len(reading.read_vocab(file))


def encoder_facts(path) -> EncoderFacts:
  obj = reading.load_saved_model(path)
  if reading.detect_kind(obj) != reading.ENCODER:
    raise HubExportError(f"{path} is not a text encoder SavedModel (no encoder API found)")
  traces = getattr(obj.__call__, "concrete_functions", ())
  outputs = traces[0].structured_outputs if traces else {}
  if sig.SEQUENCE_OUTPUT not in outputs:
    raise HubExportError(f"{path}: the encoder's call has no '{sig.SEQUENCE_OUTPUT}' output")
  vocab_file, vocab_size = _asset_name(_need(obj, "vocab_file", path), path)
  root_ids = {id(v) for v in obj.variables}
  head = [v for v in _need(obj, "mlm", path).variables if id(v) not in root_ids]
  return EncoderFacts(hidden_size=int(outputs[sig.SEQUENCE_OUTPUT].shape[-1]), vocab_size=vocab_size,
                      vocab_file=vocab_file, lower_case=bool(_need(obj, "do_lower_case", path).numpy()),
                      parameters=_size(obj.trainable_variables), mlm_head_parameters=_size(head),
                      encoder_outputs=len(outputs.get(sig.ENCODER_OUTPUTS, ())))


def _probe_lower_case(obj, vocab: list, path) -> bool:
  """Does tokenize map an upper-case word onto its lower-case vocab entry?

  Uses a lower-case ASCII word whose upper-case spelling is not itself in the vocab: an
  uncased tokenizer yields the word's id, a cased one yields something else ([UNK] or
  pieces). A tokenizer is observed, not guessed from names.
  """
  import tensorflow as tf

  known = set(vocab)
  for token_id, word in enumerate(vocab):
    if len(word) >= 2 and word.isascii() and word.isalpha() and word.islower() and word.upper() not in known:
      pieces = obj.tokenize(tf.constant([word.upper()])).flat_values.numpy().tolist()
      return pieces == [token_id]
  raise HubExportError(f"{path}: cannot tell whether the preprocessor lower-cases text (no plain "
                       f"lower-case word in its vocab)")


def preprocessor_facts(path) -> PreprocessorFacts:
  import tensorflow as tf

  obj = reading.load_saved_model(path)
  if reading.detect_kind(obj) != reading.PREPROCESSOR:
    raise HubExportError(f"{path} is not a text preprocessor SavedModel (no .tokenize/.bert_pack_inputs)")
  tokens = _need(obj, "tokenize", path).get_special_tokens_dict()
  missing = [k for k in sig.SPECIAL_TOKEN_KEYS if k not in tokens]
  if missing:
    raise HubExportError(f"{path}: get_special_tokens_dict() lacks {', '.join(missing)}")
  special = {k: int(tokens[k].numpy()) for k in sig.SPECIAL_TOKEN_KEYS}
  vocab_files = [p for p in reading.asset_files(path) if len(reading.read_vocab(p)) == special["vocab_size"]]
  if not vocab_files:
    raise HubExportError(f"{path}: no asset has vocab_size={special['vocab_size']} lines")
  vocab = reading.read_vocab(vocab_files[0])
  if hasattr(obj, "do_lower_case"):
    lower_case = bool(obj.do_lower_case.numpy())
  else:
    lower_case = _probe_lower_case(obj, vocab, path)
  packed = obj(tf.constant(["a"]))
  return PreprocessorFacts(vocab_size=len(vocab), vocab_file=vocab_files[0].name, lower_case=lower_case,
                           seq_length=int(packed[sig.INPUT_WORD_IDS].shape[1]), special_ids=special)


def task_facts(path) -> dict:
  """The checked `assets/task.json` of a task SavedModel (from `finetune`), read without running the model; its card
  states the metrics measured on the eval set, so a model without them is refused."""
  saved_model = reading.read_saved_model_proto(path)
  config = read_task_config(path)
  if not config["metrics"]:
    raise HubExportError(f"{Path(path) / 'assets' / TASK_CONFIG_NAME} has no metrics: fine-tune with --eval_file so "
                         f"that the model card can state what the model scores")
  if not any(SERVE in graph.signature_def for graph in saved_model.meta_graphs):
    raise HubExportError(f"{path} has no {SERVE!r} signature: not a task model of `python -m hub_export.finetune`")
  return config


def keras_preset_facts(path) -> KerasPresetFacts:
  """From a KerasHub preset's files (checked first); reading them needs the `keras` extra."""
  import json

  from hub_export.keras3 import preset

  config = preset.check_preset_files(path)["config"]
  tokenizer = json.loads((Path(path) / preset.TOKENIZER_FILE).read_text(encoding="utf-8"))
  shapes = preset.h5_shapes(Path(path) / preset.WEIGHTS_FILE)
  return KerasPresetFacts(hidden_size=int(config["hidden_size"]),
                          vocab_size=len(reading.read_vocab(Path(path) / preset.VOCAB_ASSET)),
                          lower_case=bool(tokenizer["config"]["lowercase"]),
                          num_layers=int(config["num_hidden_layers"]),
                          parameters=int(sum(np.prod(shape, dtype=np.int64) for shape in shapes)))
