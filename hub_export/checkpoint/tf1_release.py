"""The original TF1 release layout: which release variable name feeds which model variable."""

from hub_export.model import MobileBert

IGNORED_SUFFIXES = ("/adam_m", "/adam_v")
IGNORED_NAMES = ("global_step",)
# Present in the release (pretraining's next-sentence head) but not part of any export.
UNUSED_NAMES = ("cls/seq_relationship/output_weights", "cls/seq_relationship/output_bias")


def is_ignorable(name: str) -> bool:
  return name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def _dense(prefix, layer):
  return {f"{prefix}/kernel": layer.kernel, f"{prefix}/bias": layer.bias}


def _norm(prefix, layer, normalization_type="layer_norm"):
  scope = "FakeLayerNorm" if normalization_type == "no_norm" else "LayerNorm"
  return {f"{prefix}/{scope}/gamma": layer.gamma, f"{prefix}/{scope}/beta": layer.beta}


def tf1_assignments(model: MobileBert) -> dict:
  """Maps every release variable name to the model variable it restores (same shape)."""
  config = model.config
  norm = lambda prefix, layer: _norm(prefix, layer, config.normalization_type)
  emb = model.encoder.embedding
  names = {
      "bert/embeddings/word_embeddings": emb.word_embeddings,
      "bert/embeddings/position_embeddings": emb.position_embeddings,
      "bert/embeddings/token_type_embeddings": emb.token_type_embeddings,
      **norm("bert/embeddings", emb.norm),
  }
  if emb.projects:
    names.update(_dense("bert/embeddings/embedding_transformation", emb.embedding_transformation))
  for n, block in enumerate(model.encoder.blocks):
    p = f"bert/encoder/layer_{n}"
    if config.use_bottleneck:
      names.update(_dense(f"{p}/bottleneck/input/dense", block.bottleneck_input))
      names.update(norm(f"{p}/bottleneck/input", block.bottleneck_input_norm))
      if block.shared_kq:
        names.update(_dense(f"{p}/bottleneck/attention/dense", block.bottleneck_attention))
        names.update(norm(f"{p}/bottleneck/attention", block.bottleneck_attention_norm))
      names.update(_dense(f"{p}/output/bottleneck/dense", block.bottleneck_output))
      names.update(norm(f"{p}/output/bottleneck", block.bottleneck_output_norm))
    for part in ("query", "key", "value"):
      names.update(_dense(f"{p}/attention/self/{part}", getattr(block.attention, part)))
    names.update(_dense(f"{p}/attention/output/dense", block.attention.output_dense))
    names.update(norm(f"{p}/attention/output", block.attention_norm))
    last = len(block.ffns) - 1
    for k, (ffn, ffn_norm) in enumerate(zip(block.ffns, block.ffn_norms)):
      scope = p if k == last else f"{p}/ffn_layer_{k}"
      names.update(_dense(f"{scope}/intermediate/dense", ffn.intermediate))
      names.update(_dense(f"{scope}/output/dense", ffn.output_dense))
      names.update(norm(f"{scope}/output", ffn_norm))
  if config.classifier_activation:
    names.update(_dense("bert/pooler/dense", model.encoder.pooler))
  head = model.masked_lm
  names.update(_dense("cls/predictions/transform/dense", head.dense))
  names.update(_norm("cls/predictions/transform", head.layer_norm))
  names["cls/predictions/output_bias"] = head.output_bias
  names["cls/predictions/extra_output_weights"] = head.extra_output_weights
  return names
