"""One MobileBERT block: bottlenecks around attention and a stack of feed-forward networks.

With `use_bottleneck`, the block works at `intra_bottleneck_size` inside: the input
bottleneck gives the attention residual, `key_query_shared_bottleneck` adds a second
projection that query and key read (value reads the raw input), and
`use_bottleneck_attention` makes query, key and value all read the input bottleneck.

The block is a pure function of its weights, traced once per config and shared by all
blocks (see `block_stack.py`, which owns the variables).
"""

import functools

import tensorflow as tf
from hub_export.config import MobileBertConfig
from hub_export.model import functional as F
from hub_export.model.activations import get_activation


def _uses_shared_kq(config: MobileBertConfig) -> bool:
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
    if _uses_shared_kq(config):
      dense("bottleneck_attention", hidden, inner)
      norm("bottleneck_attention_norm", inner)
  query_key_width = inner if config.use_bottleneck and (config.use_bottleneck_attention or _uses_shared_kq(config)) else hidden
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


def _block_forward(config: MobileBertConfig, inputs, mask, batch_seq, w, training: bool, bounded_mask: bool):
  """The block on [batch * seq, hidden] inputs; `w` maps block_weight_shapes names to tensors.

  `mask` is `functional.attention_mask(input_mask, bounded_mask)`.
  """
  act = get_activation(config.hidden_act)
  norm = lambda name, x: F.normalize(config.normalization_type, x, w[f"{name}/gamma"], w[f"{name}/beta"])
  dense = lambda name, x: F.dense(x, w[f"{name}/kernel"], w[f"{name}/bias"])

  if config.use_bottleneck:
    residual = norm("bottleneck_input_norm", dense("bottleneck_input", inputs))
    if config.use_bottleneck_attention:
      query_key, value = residual, residual
    elif _uses_shared_kq(config):
      query_key, value = norm("bottleneck_attention_norm", dense("bottleneck_attention", inputs)), inputs
    else:
      query_key, value = inputs, inputs
  else:
    residual = query_key = value = inputs

  # Query and key read the same tensor: project both with one matmul.
  both = F.dense(query_key, tf.concat([w["attention/query/kernel"], w["attention/key/kernel"]], axis=1),
                 tf.concat([w["attention/query/bias"], w["attention/key/bias"]], axis=0))
  query, key = tf.split(both, 2, axis=-1)
  context = F.multi_head_attention(query, key, dense("attention/value", value), mask, batch_seq,
                                   config.num_attention_heads, config.attention_probs_dropout_prob, training,
                                   bounded_mask)
  attended = dense("attention/output", context)
  if not config.use_bottleneck:
    attended = F.dropout(attended, config.hidden_dropout_prob, training)
  hidden = norm("attention_norm", attended + residual)

  last = config.num_feedforward_networks - 1
  for k in range(config.num_feedforward_networks):
    out = dense(f"ffn_{k}/output", act(dense(f"ffn_{k}/intermediate", hidden)))
    if k == last and not config.use_bottleneck:
      out = F.dropout(out, config.hidden_dropout_prob, training)
    hidden = norm(f"ffn_{k}_norm", out + hidden)

  if not config.use_bottleneck:
    return hidden
  out = F.dropout(dense("bottleneck_output", hidden), config.hidden_dropout_prob, training)
  return norm("bottleneck_output_norm", out + inputs)


@functools.lru_cache(maxsize=None)
def shared_block_function(config: MobileBertConfig, training: bool, bounded_mask: bool = False):
  """One traced block computation per config, mode and masking, reused by every block.

  The training block is kept out of line, so the runtime optimizes one block (and one
  block gradient) instead of 24 inlined copies: building the fine-tuning gradient of a
  loaded export gets 2-4x faster. The inference block stays inlined, which measured about
  2% faster per batch-1 call than the out-of-line version.
  """
  attributes = {"_noinline": True} if training else None
  return tf.function(functools.partial(_block_forward, config, training=training, bounded_mask=bounded_mask),
                     reduce_retracing=True,
                     experimental_attributes=attributes)
