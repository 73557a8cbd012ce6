"""Which weights one MobileBERT block has, for a config: the table both models build from.

Pure Python, so the Keras 3 model (any backend) and the tf_keras model share it without
either importing the other's framework; the checkpoint readers and the converter map
weights by these names.
"""

from hub_export.config import MobileBertConfig


def uses_shared_key_query_bottleneck(config: MobileBertConfig) -> bool:
  return config.use_bottleneck and config.key_query_shared_bottleneck and not config.use_bottleneck_attention


def block_weight_shapes(config: MobileBertConfig) -> dict:
  """Every weight of one block, by name, with its shape: the block's whole state."""
  hidden, inner, inter = config.hidden_size, config.inner_size, config.intermediate_size
  shapes = {}

  def dense(name, n_in, n_out):
    shapes[f"{name}/kernel"] = (n_in, n_out)
    shapes[f"{name}/bias"] = (n_out,)

  def norm(name, width):
    shapes[f"{name}/gamma"] = (width,)
    shapes[f"{name}/beta"] = (width,)

  if config.use_bottleneck:
    dense("bottleneck_input", hidden, inner)
    norm("bottleneck_input_norm", inner)
    if uses_shared_key_query_bottleneck(config):
      dense("bottleneck_attention", hidden, inner)
      norm("bottleneck_attention_norm", inner)
  query_key_width = inner if config.use_bottleneck and (config.use_bottleneck_attention or uses_shared_key_query_bottleneck(config)) else hidden
  value_width = inner if config.use_bottleneck and config.use_bottleneck_attention else hidden
  dense("attention/query", query_key_width, inner)
  dense("attention/key", query_key_width, inner)
  dense("attention/value", value_width, inner)
  dense("attention/output", inner, inner)
  norm("attention_norm", inner)
  for k in range(config.num_feedforward_networks):
    dense(f"ffn_{k}/intermediate", inner, inter)
    dense(f"ffn_{k}/output", inter, inner)
    norm(f"ffn_{k}_norm", inner)
  if config.use_bottleneck:
    dense("bottleneck_output", inner, hidden)
    norm("bottleneck_output_norm", hidden)
  return shapes
