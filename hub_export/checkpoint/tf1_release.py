"""The original TF1 release layout: which release variable name feeds which model variable."""

from hub_export.checkpoint.target import Target
from hub_export.model import MobileBert


def _dense(prefix, layer):
  return {f"{prefix}/kernel": layer.kernel, f"{prefix}/bias": layer.bias}


def _norm(prefix, layer, normalization_type="layer_norm"):
  scope = "FakeLayerNorm" if normalization_type == "no_norm" else "LayerNorm"
  return {f"{prefix}/{scope}/gamma": layer.gamma, f"{prefix}/{scope}/beta": layer.beta}


def _block_scopes(p: str, num_ffns: int) -> dict:
  """Our block weight groups -> the release's variable scopes for block `p`."""
  scopes = {
      "bottleneck_input": f"{p}/bottleneck/input/dense",
      "bottleneck_input_norm": f"{p}/bottleneck/input",
      "bottleneck_attention": f"{p}/bottleneck/attention/dense",
      "bottleneck_attention_norm": f"{p}/bottleneck/attention",
      "attention/query": f"{p}/attention/self/query",
      "attention/key": f"{p}/attention/self/key",
      "attention/value": f"{p}/attention/self/value",
      "attention/output": f"{p}/attention/output/dense",
      "attention_norm": f"{p}/attention/output",
      "bottleneck_output": f"{p}/output/bottleneck/dense",
      "bottleneck_output_norm": f"{p}/output/bottleneck",
  }
  for k in range(num_ffns):
    # All feed-forward networks but the last live under ffn_layer_k; the last one uses
    # the plain BERT names.
    scope = p if k == num_ffns - 1 else f"{p}/ffn_layer_{k}"
    scopes[f"ffn_{k}/intermediate"] = f"{scope}/intermediate/dense"
    scopes[f"ffn_{k}/output"] = f"{scope}/output/dense"
    scopes[f"ffn_{k}_norm"] = f"{scope}/output"
  return scopes


def tf1_assignments(model: MobileBert) -> dict:
  """Maps every release variable name to the Target it restores (same shape)."""
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
  norm_scope = "FakeLayerNorm" if config.normalization_type == "no_norm" else "LayerNorm"
  for n in range(config.num_hidden_layers):
    scopes = _block_scopes(f"bert/encoder/layer_{n}", config.num_feedforward_networks)
    for name, variable in model.encoder.blocks.stacked.items():
      group, leaf = name.rsplit("/", 1)
      key = f"{scopes[group]}/{leaf}" if leaf in ("kernel", "bias") else f"{scopes[group]}/{norm_scope}/{leaf}"
      names[key] = Target(variable, layer=n)
  if config.classifier_activation:
    names.update(_dense("bert/pooler/dense", model.encoder.pooler))
  head = model.masked_lm
  names.update(_dense("cls/predictions/transform/dense", head.dense))
  names.update(_norm("cls/predictions/transform", head.layer_norm))
  names["cls/predictions/output_bias"] = head.output_bias
  names["cls/predictions/extra_output_weights"] = head.extra_output_weights
  return {key: value if isinstance(value, Target) else Target(value) for key, value in names.items()}
