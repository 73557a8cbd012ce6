"""Every weight of MobileBERT, written once: our name, its shape, and where each published layout keeps it.

The model builds its block variables from this table (`block_weight_shapes`), the TF1
release and Model Garden readers map checkpoint names onto model variables with it, and
the seeded writers lay checkpoints down with it. A part is one dense layer, one
normalization or one table; its leaves (kernel/bias, gamma/beta) follow from its kind.

Names per layout:
  * ours: a block weight group (`attention/query`), the same in every block, whose leaves
    are the stacked variables `BlockStack.stacked["attention/query/kernel"]`; or, outside
    the blocks, the model attribute path (`encoder.pooler`).
  * TF1: the scope the original graph (google-research/mobilebert `modeling.py`,
    `run_pretraining.py`) created the variables under, norms with their
    `FakeLayerNorm`/`LayerNorm` scope. `None` where the release has no such variable.
    A task model's head (`TaskHead`, in place of the MLM head) has the names the
    fine-tuning code (`run_squad.py`, `run_classifier.py`) gives it.
  * Model Garden: the object path inside `BertPretrainerV2.checkpoint_items` (`encoder`,
    `masked_lm`), without the `/.ATTRIBUTES/VARIABLE_VALUE` suffix. The encoder is a
    functional Keras model, so its layers with weights are numbered in graph order:
    `layer_with_weights-0` the embedding, 1..L the blocks, L+1 the `pooler` EinsumDense
    (`MobileBERTEncoder`, created only with `classifier_activation`). Task heads have none.

Parts come in the order the TF1 graph creates them (the seeded values are drawn in it).
"""

import dataclasses
from typing import Optional

from hub_export.config import MobileBertConfig
from hub_export.support.errors import HubExportError

DENSE, NORM, TABLE = "dense", "norm", "table"
SPAN, CLASSIFIER = "span", "classifier"
# Where the original fine-tuning code creates a head's variables: `run_squad.py` under
# `cls/squad/`, `run_classifier.py` outside any scope.
TASK_HEAD_TF1_SCOPES = {SPAN: "cls/squad/", CLASSIFIER: ""}
# Leaves in the order the model creates them; the TF1 graph creates a norm's beta first.
_MODEL_LEAVES = {DENSE: ("kernel", "bias"), NORM: ("gamma", "beta"), TABLE: ("",)}
_TF1_LEAVES = {DENSE: ("kernel", "bias"), NORM: ("beta", "gamma"), TABLE: ("",)}


@dataclasses.dataclass(frozen=True)
class Part:
  """One dense layer, normalization or table of the model."""
  ours: str
  kind: str
  shape: tuple  # dense: (in, out); norm: (width,); table: the table's shape
  tf1: Optional[str]
  model_garden: Optional[str]
  block: Optional[int] = None  # which block, for block parts
  per_head: Optional[str] = None  # "out" (query/key/value) or "in" (attention output): Model Garden splits heads


@dataclasses.dataclass(frozen=True)
class Weight:
  """One variable of a part: a leaf of a dense layer or a norm, or a whole table."""
  part: Part
  leaf: str  # "kernel", "bias", "gamma", "beta"; "" for a table
  shape: tuple  # as the model holds it (one block's slice for block weights)
  model_garden_shape: tuple  # as Model Garden stores it

  @property
  def ours(self) -> str:
    """The block weight name (`attention/query/kernel`) or the model attribute path (`encoder.pooler.kernel`)."""
    if not self.leaf:
      return self.part.ours
    return f"{self.part.ours}{'/' if self.part.block is not None else '.'}{self.leaf}"

  @property
  def tf1(self) -> Optional[str]:
    if self.part.tf1 is None:
      return None
    return f"{self.part.tf1}/{self.leaf}" if self.leaf else self.part.tf1

  @property
  def model_garden(self) -> Optional[str]:
    if self.part.model_garden is None:
      return None
    return f"{self.part.model_garden}/{self.leaf}" if self.leaf else self.part.model_garden


@dataclasses.dataclass(frozen=True)
class TaskHead:
  """A fine-tuning head in place of the MLM head: `num_labels` logits per token (`SPAN`: start and end, so 2)
  or per sequence (`CLASSIFIER`; 1 for a regression)."""
  kind: str
  num_labels: int

  def __post_init__(self):
    if self.kind not in TASK_HEAD_TF1_SCOPES:
      raise HubExportError(f"task head kind must be one of {', '.join(TASK_HEAD_TF1_SCOPES)}, got {self.kind!r}")
    wanted = "2" if self.kind == SPAN else "a positive integer"
    if isinstance(self.num_labels, bool) or not isinstance(self.num_labels, int) or self.num_labels < 1 \
        or (self.kind == SPAN and self.num_labels != 2):
      raise HubExportError(f"a {self.kind} head's num_labels must be {wanted}, got {self.num_labels!r}")


SPAN_HEAD = TaskHead(SPAN, 2)


def _leaf_shape(part: Part, leaf: str) -> tuple:
  if part.kind == DENSE:
    return part.shape if leaf == "kernel" else part.shape[1:]
  return part.shape


def _model_garden_shape(part: Part, leaf: str, shape: tuple, heads: int) -> tuple:
  """Model Garden's attention projections are EinsumDense layers that keep heads apart."""
  if part.per_head == "out":
    return (shape[0], heads, shape[1] // heads) if leaf == "kernel" else (heads, shape[0] // heads)
  if part.per_head == "in" and leaf == "kernel":
    return (heads, shape[0] // heads, shape[1])
  return shape


def weights(part: Part, config: MobileBertConfig, order: str = "model") -> list:
  """The part's variables, in the model's creation order or (`order="tf1"`) the TF1 graph's."""
  leaves = (_MODEL_LEAVES if order == "model" else _TF1_LEAVES)[part.kind]
  result = []
  for leaf in leaves:
    shape = _leaf_shape(part, leaf)
    result.append(Weight(part, leaf, shape, _model_garden_shape(part, leaf, shape, config.num_attention_heads)))
  return result


def _norm_scope(config: MobileBertConfig) -> str:
  # `no_norm` is the elementwise x * gamma + beta the TF1 code stores as FakeLayerNorm;
  # `layer_norm` is contrib's layer_norm under its default scope.
  return "FakeLayerNorm" if config.normalization_type == "no_norm" else "LayerNorm"


def uses_shared_key_query_bottleneck(config: MobileBertConfig) -> bool:
  """Query and key read their own bottleneck of the block input; value reads the input."""
  return config.use_bottleneck and config.key_query_shared_bottleneck and not config.use_bottleneck_attention


def attention_input_widths(config: MobileBertConfig) -> tuple:
  """(query/key input width, value input width) of a block's self-attention."""
  h, inner = config.hidden_size, config.inner_size
  if config.use_bottleneck and config.use_bottleneck_attention:
    return inner, inner
  if uses_shared_key_query_bottleneck(config):
    return inner, h
  return h, h


def embedding_parts(config: MobileBertConfig) -> list:
  h, e = config.hidden_size, config.embedding_size
  tf1, mg, norm = "bert/embeddings", "encoder/layer_with_weights-0", _norm_scope(config)
  parts = [Part("encoder.embedding.word_embeddings", TABLE, (config.vocab_size, e),
                f"{tf1}/word_embeddings", "masked_lm/embedding_table")]
  if config.trigram_input or e != h:
    parts.append(Part("encoder.embedding.embedding_transformation", DENSE, (3 * e if config.trigram_input else e, h),
                      f"{tf1}/embedding_transformation", f"{mg}/word_embedding_proj"))
  return parts + [
      Part("encoder.embedding.token_type_embeddings", TABLE, (config.type_vocab_size, h),
           f"{tf1}/token_type_embeddings", f"{mg}/type_embedding/embeddings"),
      Part("encoder.embedding.position_embeddings", TABLE, (config.max_position_embeddings, h),
           f"{tf1}/position_embeddings", f"{mg}/pos_embedding/embeddings"),
      Part("encoder.embedding.norm", NORM, (h,), f"{tf1}/{norm}", f"{mg}/layer_norm"),
  ]


def block_parts(config: MobileBertConfig, n: int) -> list:
  """The parts of block `n`: the same `ours` names in every block."""
  h, inner, i = config.hidden_size, config.inner_size, config.intermediate_size
  tf1, mg, norm = f"bert/encoder/layer_{n}", f"encoder/layer_with_weights-{n + 1}/block_layers", _norm_scope(config)

  def part(ours, kind, shape, tf1_scope, mg_path, per_head=None):
    return Part(ours, kind, shape, f"{tf1}/{tf1_scope}", f"{mg}/{mg_path}", block=n, per_head=per_head)

  parts = []
  if config.use_bottleneck:
    parts += [part("bottleneck_input", DENSE, (h, inner), "bottleneck/input/dense", "bottleneck_input/0"),
              part("bottleneck_input_norm", NORM, (inner,), f"bottleneck/input/{norm}", "bottleneck_input/1")]
    if uses_shared_key_query_bottleneck(config):
      parts += [part("bottleneck_attention", DENSE, (h, inner), "bottleneck/attention/dense", "kq_shared_bottleneck/0"),
                part("bottleneck_attention_norm", NORM, (inner,), f"bottleneck/attention/{norm}",
                     "kq_shared_bottleneck/1")]
  query_key_in, value_in = attention_input_widths(config)
  parts += [
      part("attention/query", DENSE, (query_key_in, inner), "attention/self/query", "attention/0/_query_dense", "out"),
      part("attention/key", DENSE, (query_key_in, inner), "attention/self/key", "attention/0/_key_dense", "out"),
      part("attention/value", DENSE, (value_in, inner), "attention/self/value", "attention/0/_value_dense", "out"),
      part("attention/output", DENSE, (inner, inner), "attention/output/dense", "attention/0/_output_dense", "in"),
      part("attention_norm", NORM, (inner,), f"attention/output/{norm}", "attention/1"),
  ]
  for k in range(config.num_feedforward_networks):
    # All FFNs but the last live under ffn_layer_k in TF1; the last keeps BERT's plain names.
    scope = "" if k == config.num_feedforward_networks - 1 else f"ffn_layer_{k}/"
    parts += [part(f"ffn_{k}/intermediate", DENSE, (inner, i), f"{scope}intermediate/dense", f"ffn/{k}/0"),
              part(f"ffn_{k}/output", DENSE, (i, inner), f"{scope}output/dense", f"ffn/{k}/1"),
              part(f"ffn_{k}_norm", NORM, (inner,), f"{scope}output/{norm}", f"ffn/{k}/2")]
  if config.use_bottleneck:
    parts += [part("bottleneck_output", DENSE, (inner, h), "output/bottleneck/dense", "bottleneck_output/0"),
              part("bottleneck_output_norm", NORM, (h,), f"output/bottleneck/{norm}", "bottleneck_output/2")]
  return parts


def pooler_parts(config: MobileBertConfig) -> list:
  if not config.classifier_activation:
    return []
  h = config.hidden_size
  return [Part("encoder.pooler", DENSE, (h, h), "bert/pooler/dense",
               f"encoder/layer_with_weights-{config.num_hidden_layers + 1}")]


def masked_lm_parts(config: MobileBertConfig) -> list:
  h, e, v = config.hidden_size, config.embedding_size, config.vocab_size
  return [
      Part("masked_lm.dense", DENSE, (h, h), "cls/predictions/transform/dense", "masked_lm/dense"),
      # A real LayerNorm whatever normalization_type says.
      Part("masked_lm.layer_norm", NORM, (h,), "cls/predictions/transform/LayerNorm", "masked_lm/layer_norm"),
      Part("masked_lm.output_bias", TABLE, (v,), "cls/predictions/output_bias", "masked_lm/output_bias.Sbias"),
      # The release stores no [V, 0] table when hidden_size == embedding_size.
      Part("masked_lm.extra_output_weights", TABLE, (v, h - e),
           "cls/predictions/extra_output_weights" if h != e else None, "masked_lm/extra_output_weights"),
  ]


def task_head_parts(config: MobileBertConfig, head: TaskHead) -> list:
  """The head's `output_weights` [num_labels, H] and `output_bias`, stored as the fine-tuning code stores them."""
  scope = TASK_HEAD_TF1_SCOPES[head.kind]
  return [Part("head.output_weights", TABLE, (head.num_labels, config.hidden_size), f"{scope}output_weights", None),
          Part("head.output_bias", TABLE, (head.num_labels,), f"{scope}output_bias", None)]


def model_parts(config: MobileBertConfig, head: Optional[TaskHead] = None) -> list:
  """Every part of the encoder and the MLM head (or, given `head`, that task head instead), in the TF1 graph's
  creation order."""
  parts = embedding_parts(config)
  for n in range(config.num_hidden_layers):
    parts += block_parts(config, n)
  return parts + pooler_parts(config) + (masked_lm_parts(config) if head is None else task_head_parts(config, head))


def model_weights(config: MobileBertConfig, order: str = "model", head: Optional[TaskHead] = None) -> list:
  """Every variable of the encoder and the MLM head, or the task head `head` (see `weights` for `order`)."""
  return [weight for part in model_parts(config, head) for weight in weights(part, config, order)]


def block_weight_shapes(config: MobileBertConfig) -> dict:
  """Every weight of one block, by name, with its shape: the block's whole state."""
  return {w.ours: w.shape for part in block_parts(config, 0) for w in weights(part, config)}
