"""Model Garden's TF2 object checkpoint (`BertPretrainerV2.checkpoint_items`) by key.

Keys are built from the block index (`layer_with_weights-K`, K = 1 + block) and the list
positions inside a block, never from how a listing happens to sort them. Attention
projections are stored per head ([in, heads, head_size], [heads, head_size, out]); they
restore into our 2-D kernels by reshaping, which keeps the values in the same order.
"""

from hub_export.checkpoint.target import Target, plain
from hub_export.model import MobileBert

SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
IGNORED_NAMES = ("save_counter" + SUFFIX, "_CHECKPOINTABLE_OBJECT_GRAPH")
MARKER_KEY = "masked_lm/embedding_table" + SUFFIX


def is_ignorable(name: str) -> bool:
  return name in IGNORED_NAMES or "/.OPTIMIZER_SLOT/" in name or name.startswith("optimizer/")


def _dense(prefix, layer):
  return {f"{prefix}/kernel{SUFFIX}": plain(layer.kernel), f"{prefix}/bias{SUFFIX}": plain(layer.bias)}


def _norm(prefix, layer):
  return {f"{prefix}/gamma{SUFFIX}": plain(layer.gamma), f"{prefix}/beta{SUFFIX}": plain(layer.beta)}


def _block_keys(p: str, num_ffns: int) -> dict:
  """Our block weight groups -> Model Garden's object paths inside block `p`."""
  keys = {
      "bottleneck_input": f"{p}/bottleneck_input/0",
      "bottleneck_input_norm": f"{p}/bottleneck_input/1",
      "bottleneck_attention": f"{p}/kq_shared_bottleneck/0",
      "bottleneck_attention_norm": f"{p}/kq_shared_bottleneck/1",
      "attention/query": f"{p}/attention/0/_query_dense",
      "attention/key": f"{p}/attention/0/_key_dense",
      "attention/value": f"{p}/attention/0/_value_dense",
      "attention/output": f"{p}/attention/0/_output_dense",
      "attention_norm": f"{p}/attention/1",
      "bottleneck_output": f"{p}/bottleneck_output/0",
      "bottleneck_output_norm": f"{p}/bottleneck_output/2",
  }
  for k in range(num_ffns):
    keys[f"ffn_{k}/intermediate"] = f"{p}/ffn/{k}/0"
    keys[f"ffn_{k}/output"] = f"{p}/ffn/{k}/1"
    keys[f"ffn_{k}_norm"] = f"{p}/ffn/{k}/2"
  return keys


def _stored_shape(name: str, shape: tuple, heads: int):
  """Attention projections are stored per head; everything else as we hold it (None)."""
  if name in ("attention/query/kernel", "attention/key/kernel", "attention/value/kernel"):
    return (shape[0], heads, shape[1] // heads)
  if name in ("attention/query/bias", "attention/key/bias", "attention/value/bias"):
    return (heads, shape[0] // heads)
  if name == "attention/output/kernel":
    return (heads, shape[0] // heads, shape[1])
  return None


def model_garden_assignments(model: MobileBert) -> dict:
  """Maps each Model Garden key to the Target it restores."""
  emb = model.encoder.embedding
  e = "encoder/layer_with_weights-0"
  names = {
      f"masked_lm/embedding_table{SUFFIX}": plain(emb.word_embeddings),
      f"{e}/pos_embedding/embeddings{SUFFIX}": plain(emb.position_embeddings),
      f"{e}/type_embedding/embeddings{SUFFIX}": plain(emb.token_type_embeddings),
      **_norm(f"{e}/layer_norm", emb.norm),
  }
  if emb.projects:
    names.update(_dense(f"{e}/word_embedding_proj", emb.embedding_transformation))
  config = model.config
  for n in range(config.num_hidden_layers):
    keys = _block_keys(f"encoder/layer_with_weights-{n + 1}/block_layers", config.num_feedforward_networks)
    for name, variable in model.encoder.blocks.stacked.items():
      group, leaf = name.rsplit("/", 1)
      stored = _stored_shape(name, tuple(variable.shape[1:]), config.num_attention_heads)
      names[f"{keys[group]}/{leaf}{SUFFIX}"] = Target(variable, layer=n, stored_shape=stored)
  head = model.masked_lm
  names.update(_dense("masked_lm/dense", head.dense))
  names.update(_norm("masked_lm/layer_norm", head.layer_norm))
  names[f"masked_lm/extra_output_weights{SUFFIX}"] = plain(head.extra_output_weights)
  names[f"masked_lm/output_bias.Sbias{SUFFIX}"] = plain(head.output_bias)
  return names
