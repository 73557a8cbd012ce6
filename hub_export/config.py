"""MobileBertConfig: the release's `bert_config.json`, read, defaulted and validated.

Keys and defaults follow the original TF1 release (google-research/mobilebert); anything
the model cannot honour is rejected here with the key and the allowed values named.
"""

import dataclasses
import json
from pathlib import Path

from hub_export.support.errors import HubExportError

NORMALIZATION_TYPES = ("no_norm", "layer_norm")
# Every LayerNorm of the original graph (tf.contrib.layers.layer_norm), the MLM head's included.
LAYER_NORM_EPSILON = 1e-12
# Added to the scores of padding positions: large enough that they get exactly zero weight
# (outputs do not depend on padding, as in the published TF-Hub encoder), small enough that
# an all-padding row stays finite.
MASK_BIAS = -1e9
# What each `hidden_act` name computes. In a TF1 `bert_config.json` "gelu" is the tanh
# approximation the original BERT and MobileBERT code trained with (Model Garden's `gelu` is
# the same); HF transformers calls it "gelu_new", accepted too. Each framework's model maps
# these functions to its own ops (model/activations.py, keras3/layers.py).
ACTIVATIONS = {"relu": "relu", "gelu": "gelu_tanh", "gelu_new": "gelu_tanh", "relu6": "relu6", "tanh": "tanh",
               "swish": "silu", "linear": "linear"}
REQUIRED_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")
# What a config is for decides the defaults of its absent keys. The student (the released
# OPT model, every exporter's input) takes the dataclass defaults below. The IB-BERT
# teacher of knowledge transfer was read by the original code's `BertConfig`, whose
# defaults differ on these keys; read as a student, a teacher JSON without them would
# silently become a no_norm, shared key/query, 4-FFN network.
STUDENT, TEACHER = "student", "teacher"
ROLE_DEFAULTS = {
    STUDENT: {},
    TEACHER: {"normalization_type": "layer_norm", "key_query_shared_bottleneck": False,
              "num_feedforward_networks": 1},
}


@dataclasses.dataclass(frozen=True)
class MobileBertConfig:
  """Every switch of the MobileBERT architecture, with the original release defaults."""

  vocab_size: int
  hidden_size: int = 512
  num_hidden_layers: int = 24
  num_attention_heads: int = 4
  intermediate_size: int = 512
  hidden_act: str = "relu"
  hidden_dropout_prob: float = 0.0
  attention_probs_dropout_prob: float = 0.1
  max_position_embeddings: int = 512
  type_vocab_size: int = 2
  initializer_range: float = 0.02
  embedding_size: int = 128
  trigram_input: bool = True
  use_bottleneck: bool = True
  intra_bottleneck_size: int = 128
  use_bottleneck_attention: bool = False
  key_query_shared_bottleneck: bool = True
  num_feedforward_networks: int = 4
  normalization_type: str = "no_norm"
  classifier_activation: bool = False

  def __post_init__(self):
    self._validate()

  @property
  def inner_size(self) -> int:
    """The width inside a block: the bottleneck when there is one, else hidden_size."""
    return self.intra_bottleneck_size if self.use_bottleneck else self.hidden_size

  @property
  def head_size(self) -> int:
    return self.inner_size // self.num_attention_heads

  def _validate(self):
    def positive(key):
      value = getattr(self, key)
      if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise HubExportError(f"bert_config key {key!r} must be a positive integer, got {value!r}")

    for key in REQUIRED_KEYS + ("max_position_embeddings", "type_vocab_size", "embedding_size",
                                "intra_bottleneck_size", "num_feedforward_networks"):
      positive(key)
    if self.normalization_type not in NORMALIZATION_TYPES:
      raise HubExportError(f"bert_config key 'normalization_type' is {self.normalization_type!r}; "
                           f"allowed: {', '.join(NORMALIZATION_TYPES)}")
    if self.hidden_act not in ACTIVATIONS:
      raise HubExportError(f"bert_config key 'hidden_act' is {self.hidden_act!r}; allowed: {', '.join(ACTIVATIONS)}")
    for key in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
      value = getattr(self, key)
      if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise HubExportError(f"bert_config key {key!r} must be in [0, 1), got {value!r}")
    for key in ("trigram_input", "use_bottleneck", "use_bottleneck_attention",
                "key_query_shared_bottleneck", "classifier_activation"):
      if not isinstance(getattr(self, key), bool):
        raise HubExportError(f"bert_config key {key!r} must be true or false, got {getattr(self, key)!r}")
    if self.inner_size % self.num_attention_heads:
      raise HubExportError(f"bert_config: the block width {self.inner_size} ('intra_bottleneck_size' when "
                           f"'use_bottleneck', else 'hidden_size') is not divisible by "
                           f"'num_attention_heads' {self.num_attention_heads}")
    if self.embedding_size > self.hidden_size:
      raise HubExportError(f"bert_config: 'embedding_size' {self.embedding_size} exceeds 'hidden_size' "
                           f"{self.hidden_size} (the MLM head needs hidden_size - embedding_size >= 0)")

  @classmethod
  def from_dict(cls, values: dict, source: str = "bert_config", role: str = STUDENT) -> "MobileBertConfig":
    """`role` picks the defaults of absent keys (`ROLE_DEFAULTS`): "student" or "teacher"."""
    if role not in ROLE_DEFAULTS:
      raise ValueError(f"role must be one of {', '.join(ROLE_DEFAULTS)}, got {role!r}")
    if not isinstance(values, dict):
      raise HubExportError(f"{source}: expected a JSON object, got {type(values).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in values]
    if missing:
      raise HubExportError(f"{source}: missing required key(s) {', '.join(missing)}")
    known = {f.name for f in dataclasses.fields(cls)}
    # Unknown keys (e.g. `hidden_act` extras from other BERT configs) are ignored, as the
    # original reader ignores them; only known keys shape the model.
    return cls(**{**ROLE_DEFAULTS[role], **{k: v for k, v in values.items() if k in known}})

  @classmethod
  def from_json_file(cls, path, role: str = STUDENT) -> "MobileBertConfig":
    path = Path(path)
    try:
      text = path.read_text(encoding="utf-8")
    except OSError as e:
      raise HubExportError(f"cannot read config {path}: {e.strerror}") from None
    except UnicodeDecodeError:
      raise HubExportError(f"config {path} is not UTF-8 text") from None
    try:
      values = json.loads(text)
    except json.JSONDecodeError as e:
      raise HubExportError(f"config {path} is not valid JSON: {e.msg} at line {e.lineno}") from None
    return cls.from_dict(values, source=str(path), role=role)

  def to_dict(self) -> dict:
    return dataclasses.asdict(self)

  def to_json_string(self) -> str:
    return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
