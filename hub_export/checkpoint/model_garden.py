"""Model Garden's TF2 object checkpoint (`BertPretrainerV2.checkpoint_items`) by key.

Keys are built from the block index (`layer_with_weights-K`, K = 1 + block) and the list
positions inside a block, never from how a listing happens to sort them. Attention
projections are stored per head ([in, heads, head_size], [heads, head_size, out]); they
restore into our 2-D kernels by reshaping, which keeps the values in the same order.
"""

from hub_export.model import MobileBert

SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
IGNORED_NAMES = ("save_counter" + SUFFIX, "_CHECKPOINTABLE_OBJECT_GRAPH")
MARKER_KEY = "masked_lm/embedding_table" + SUFFIX


def is_ignorable(name: str) -> bool:
  return name in IGNORED_NAMES or "/.OPTIMIZER_SLOT/" in name or name.startswith("optimizer/")


def _plain(variable):
  return variable, tuple(variable.shape)


def _dense(prefix, layer):
  return {f"{prefix}/kernel{SUFFIX}": _plain(layer.kernel), f"{prefix}/bias{SUFFIX}": _plain(layer.bias)}


def _norm(prefix, layer):
  return {f"{prefix}/gamma{SUFFIX}": _plain(layer.gamma), f"{prefix}/beta{SUFFIX}": _plain(layer.beta)}


def _attention(prefix, attention):
  heads, size = attention.num_heads, attention.head_size
  names = {}
  for part in ("query", "key", "value"):
    layer = getattr(attention, part)
    names[f"{prefix}/_{part}_dense/kernel{SUFFIX}"] = (layer.kernel, (layer.kernel.shape[0], heads, size))
    names[f"{prefix}/_{part}_dense/bias{SUFFIX}"] = (layer.bias, (heads, size))
  out = attention.output_dense
  names[f"{prefix}/_output_dense/kernel{SUFFIX}"] = (out.kernel, (heads, size, out.kernel.shape[1]))
  names[f"{prefix}/_output_dense/bias{SUFFIX}"] = _plain(out.bias)
  return names


def model_garden_assignments(model: MobileBert) -> dict:
  """Maps each Model Garden key to (model variable, the shape the checkpoint stores)."""
  emb = model.encoder.embedding
  e = "encoder/layer_with_weights-0"
  names = {
      f"masked_lm/embedding_table{SUFFIX}": _plain(emb.word_embeddings),
      f"{e}/pos_embedding/embeddings{SUFFIX}": _plain(emb.position_embeddings),
      f"{e}/type_embedding/embeddings{SUFFIX}": _plain(emb.token_type_embeddings),
      **_norm(f"{e}/layer_norm", emb.norm),
  }
  if emb.projects:
    names.update(_dense(f"{e}/word_embedding_proj", emb.embedding_transformation))
  for n, block in enumerate(model.encoder.blocks):
    p = f"encoder/layer_with_weights-{n + 1}/block_layers"
    if model.config.use_bottleneck:
      names.update(_dense(f"{p}/bottleneck_input/0", block.bottleneck_input))
      names.update(_norm(f"{p}/bottleneck_input/1", block.bottleneck_input_norm))
      if block.shared_kq:
        names.update(_dense(f"{p}/kq_shared_bottleneck/0", block.bottleneck_attention))
        names.update(_norm(f"{p}/kq_shared_bottleneck/1", block.bottleneck_attention_norm))
      names.update(_dense(f"{p}/bottleneck_output/0", block.bottleneck_output))
      names.update(_norm(f"{p}/bottleneck_output/2", block.bottleneck_output_norm))
    names.update(_attention(f"{p}/attention/0", block.attention))
    names.update(_norm(f"{p}/attention/1", block.attention_norm))
    for k, (ffn, ffn_norm) in enumerate(zip(block.ffns, block.ffn_norms)):
      names.update(_dense(f"{p}/ffn/{k}/0", ffn.intermediate))
      names.update(_dense(f"{p}/ffn/{k}/1", ffn.output_dense))
      names.update(_norm(f"{p}/ffn/{k}/2", ffn_norm))
  head = model.masked_lm
  names.update(_dense("masked_lm/dense", head.dense))
  names.update(_norm("masked_lm/layer_norm", head.layer_norm))
  names[f"masked_lm/extra_output_weights{SUFFIX}"] = _plain(head.extra_output_weights)
  names[f"masked_lm/output_bias.Sbias{SUFFIX}"] = _plain(head.output_bias)
  return names
