"""The original release's TF1 variable names and shapes, derived from a MobileBertConfig.

The release checkpoints are name-based: every variable is known by the scope path the
TF1 graph (google-research/mobilebert `modeling.py` and `run_pretraining.py`) created it
under. `tf1_variable_shapes` rebuilds that table for any config, in the order the graph
creates the variables, so a reader can account for every name and a writer can produce
the exact layout. Kernels are 2-D `[in, out]`, as stored.

Besides the model's own variables a release holds names a reader must recognise but not
load: the training step and optimizer slots (ignorable), and the next-sentence head
(present, unused by the encoder and the MLM head).
"""

from hub_export.config import MobileBertConfig

IGNORABLE_NAMES = ("global_step",)
IGNORABLE_SUFFIXES = ("/adam_m", "/adam_v")


def is_ignorable(name: str) -> bool:
  """True for the training bookkeeping a release may carry: the step counter and Adam slots."""
  return name in IGNORABLE_NAMES or name.endswith(IGNORABLE_SUFFIXES)


def next_sentence_head_shapes(config: MobileBertConfig) -> dict[str, tuple]:
  """The pre-training next-sentence head: present in the release, used by neither export."""
  return {
      "cls/seq_relationship/output_weights": (2, config.hidden_size),
      "cls/seq_relationship/output_bias": (2,),
  }


def _norm_scope(config: MobileBertConfig) -> str:
  # `no_norm` is the elementwise x * gamma + beta the TF1 code stores as FakeLayerNorm;
  # `layer_norm` is contrib's layer_norm under its default scope.
  return "FakeLayerNorm" if config.normalization_type == "no_norm" else "LayerNorm"


def _dense(table: dict, scope: str, fan_in: int, fan_out: int) -> None:
  table[f"{scope}/kernel"] = (fan_in, fan_out)
  table[f"{scope}/bias"] = (fan_out,)


def _norm(table: dict, scope: str, width: int) -> None:
  table[f"{scope}/beta"] = (width,)
  table[f"{scope}/gamma"] = (width,)


def _embedding_shapes(table: dict, config: MobileBertConfig, norm: str) -> None:
  h, e = config.hidden_size, config.embedding_size
  scope = "bert/embeddings"
  table[f"{scope}/word_embeddings"] = (config.vocab_size, e)
  if config.trigram_input or e != h:
    _dense(table, f"{scope}/embedding_transformation", 3 * e if config.trigram_input else e, h)
  table[f"{scope}/token_type_embeddings"] = (config.type_vocab_size, h)
  table[f"{scope}/position_embeddings"] = (config.max_position_embeddings, h)
  _norm(table, f"{scope}/{norm}", h)


def _attention_input_widths(config: MobileBertConfig) -> tuple[int, int]:
  """(query/key input width, value input width) of a block's self-attention."""
  h, b = config.hidden_size, config.intra_bottleneck_size
  if not config.use_bottleneck:
    return h, h
  if config.use_bottleneck_attention:
    return b, b
  if config.key_query_shared_bottleneck:
    return b, h
  return h, h


def _block_shapes(table: dict, config: MobileBertConfig, norm: str, n: int) -> None:
  h, inner, i = config.hidden_size, config.inner_size, config.intermediate_size
  scope = f"bert/encoder/layer_{n}"
  if config.use_bottleneck:
    _dense(table, f"{scope}/bottleneck/input/dense", h, inner)
    _norm(table, f"{scope}/bottleneck/input/{norm}", inner)
    if config.key_query_shared_bottleneck and not config.use_bottleneck_attention:
      _dense(table, f"{scope}/bottleneck/attention/dense", h, inner)
      _norm(table, f"{scope}/bottleneck/attention/{norm}", inner)
  qk_in, v_in = _attention_input_widths(config)
  _dense(table, f"{scope}/attention/self/query", qk_in, inner)
  _dense(table, f"{scope}/attention/self/key", qk_in, inner)
  _dense(table, f"{scope}/attention/self/value", v_in, inner)
  _dense(table, f"{scope}/attention/output/dense", inner, inner)
  _norm(table, f"{scope}/attention/output/{norm}", inner)
  # All FFNs but the last live under ffn_layer_k; the last keeps BERT's plain names.
  ffn_scopes = [f"{scope}/ffn_layer_{k}" for k in range(config.num_feedforward_networks - 1)] + [scope]
  for ffn in ffn_scopes:
    _dense(table, f"{ffn}/intermediate/dense", inner, i)
    _dense(table, f"{ffn}/output/dense", i, inner)
    _norm(table, f"{ffn}/output/{norm}", inner)
  if config.use_bottleneck:
    _dense(table, f"{scope}/output/bottleneck/dense", inner, h)
    _norm(table, f"{scope}/output/bottleneck/{norm}", h)


def _mlm_head_shapes(table: dict, config: MobileBertConfig) -> None:
  h, e, v = config.hidden_size, config.embedding_size, config.vocab_size
  _dense(table, "cls/predictions/transform/dense", h, h)
  _norm(table, "cls/predictions/transform/LayerNorm", h)  # a real LayerNorm whatever the config says
  table["cls/predictions/output_bias"] = (v,)
  if h != e:
    table["cls/predictions/extra_output_weights"] = (v, h - e)


def tf1_variable_shapes(config: MobileBertConfig) -> dict[str, tuple]:
  """Every model variable of a release checkpoint for `config`, name -> shape, in creation order.

  Covers the encoder (`bert/...`) and the masked-LM head (`cls/predictions/...`); the
  next-sentence head and the ignorable names are separate (see the module docstring).
  """
  norm = _norm_scope(config)
  table = {}
  _embedding_shapes(table, config, norm)
  for n in range(config.num_hidden_layers):
    _block_shapes(table, config, norm, n)
  if config.classifier_activation:
    _dense(table, "bert/pooler/dense", config.hidden_size, config.hidden_size)
  _mlm_head_shapes(table, config)
  return table
