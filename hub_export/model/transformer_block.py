"""One MobileBERT block: bottlenecks around attention and a stack of feed-forward networks.

With `use_bottleneck`, the block works at `intra_bottleneck_size` inside: the input
bottleneck gives the attention residual, `key_query_shared_bottleneck` adds a second
projection that query and key read (value reads the raw input), and
`use_bottleneck_attention` makes query, key and value all read the input bottleneck.

The block is a pure function of its weights, traced once per config and shared by all
blocks (see `block_stack.py`, which owns the variables). It comes in two forms built from
the same start and end: batched, on [batch * seq, hidden], and for inference on a single
sequence, as two half-sequence streams that two threads can run side by side.
"""

import functools

import tensorflow as tf
from hub_export.config import MobileBertConfig
from hub_export.model import functional as F
from hub_export.model.activations import get_activation
from hub_export.weight_layout import uses_shared_key_query_bottleneck


def _weight_ops(config: MobileBertConfig, w):
  """`norm(name, x)` and `dense(name, x)` over the block weights `w`, by weight name."""
  norm = lambda name, x: F.normalize(config.normalization_type, x, w[f"{name}/gamma"], w[f"{name}/beta"])
  dense = lambda name, x: F.dense(x, w[f"{name}/kernel"], w[f"{name}/bias"])
  return norm, dense


def _block_starts(config: MobileBertConfig, w, row_groups):
  """The row-wise start of a block for each group of rows: the attention residual, query,
  key and value. The weights the groups share are prepared once."""
  norm, dense = _weight_ops(config, w)
  # Query and key read the same tensor: project both with one matmul.
  query_key_kernel = tf.concat([w["attention/query/kernel"], w["attention/key/kernel"]], axis=1)
  query_key_bias = tf.concat([w["attention/query/bias"], w["attention/key/bias"]], axis=0)

  def start(inputs):
    if config.use_bottleneck:
      residual = norm("bottleneck_input_norm", dense("bottleneck_input", inputs))
      if config.use_bottleneck_attention:
        query_key, value = residual, residual
      elif uses_shared_key_query_bottleneck(config):
        query_key, value = norm("bottleneck_attention_norm", dense("bottleneck_attention", inputs)), inputs
      else:
        query_key, value = inputs, inputs
    else:
      residual = query_key = value = inputs
    query, key = tf.split(F.dense(query_key, query_key_kernel, query_key_bias), 2, axis=-1)
    return residual, query, key, dense("attention/value", value)

  return [start(rows) for rows in row_groups]


def _block_end(config: MobileBertConfig, w, context, residual, inputs, training: bool, fold_no_norm: bool = False):
  """The row-wise end of a block: attention output, the feed-forward stack, the output bottleneck.

  Each sub-block ends in `norm(dense(x) + residual)`. With `fold_no_norm` (inference on
  NoNorm only) that is written `dense'(x) + residual * gamma`, where dense' has its kernel
  and bias scaled by gamma and beta added to the bias: two elementwise ops (a multiply of the
  residual and one add) instead of three after the matmul. For a TFLite file, whose weights
  are constants, the converter computes dense' once; a SavedModel would recompute it on
  every call, so it does not fold.
  """
  act = get_activation(config.hidden_act)
  norm, dense = _weight_ops(config, w)
  fold = fold_no_norm and not training and config.normalization_type == "no_norm"

  def add_and_norm(dense_name: str, x, residual, norm_name: str, dropout: bool):
    if fold:
      gamma = w[f"{norm_name}/gamma"]
      kernel, bias = w[f"{dense_name}/kernel"] * gamma, w[f"{dense_name}/bias"] * gamma + w[f"{norm_name}/beta"]
      return F.dense(x, kernel, bias) + residual * gamma
    out = dense(dense_name, x)
    if dropout:
      out = F.dropout(out, config.hidden_dropout_prob, training)
    return norm(norm_name, out + residual)

  hidden = add_and_norm("attention/output", context, residual, "attention_norm", not config.use_bottleneck)
  last = config.num_feedforward_networks - 1
  for k in range(config.num_feedforward_networks):
    hidden = add_and_norm(f"ffn_{k}/output", act(dense(f"ffn_{k}/intermediate", hidden)), hidden, f"ffn_{k}_norm",
                          k == last and not config.use_bottleneck)
  if not config.use_bottleneck:
    return hidden
  return add_and_norm("bottleneck_output", hidden, inputs, "bottleneck_output_norm", True)


def _block_forward(config: MobileBertConfig, inputs, mask, batch_seq, w, training: bool, fold_no_norm: bool,
                   with_attention: bool = False):
  """The block on [batch * seq, hidden] inputs; `w` maps `weight_layout.block_weight_shapes` names to tensors.

  `mask` is `functional.attention_mask(input_mask)`; `fold_no_norm`: see `_block_end`. `with_attention` returns
  (output, attention distribution [batch, heads, seq, seq]) for knowledge transfer.
  """
  [(residual, query, key, value)] = _block_starts(config, w, [inputs])
  context = F.multi_head_attention(query, key, value, mask, batch_seq, config.num_attention_heads,
                                   config.attention_probs_dropout_prob, training, return_probs=with_attention)
  if with_attention:
    context, probs = context
    return _block_end(config, w, context, residual, inputs, training), probs
  return _block_end(config, w, context, residual, inputs, training, fold_no_norm)


def transfer_block_function(config: MobileBertConfig, training: bool):
  """The batched block returning its attention distribution too: the training-only path of
  knowledge transfer, untraced (the caller's train step traces it), never in an export."""
  return functools.partial(_block_forward, config, training=training, fold_no_norm=False, with_attention=True)


def _single_sequence_block_forward(config: MobileBertConfig, first, second, mask, w):
  """The inference block on one sequence given as its two halves, [rows, hidden] each.

  At batch 1 and lengths up to about 300, every matmul is small enough that oneDNN runs
  it on the calling thread alone, so the batched block keeps one core busy. Everything
  but attention is row-wise: each half goes through the block on its own, joined only
  where its queries read the keys and values of the whole sequence, and the runtime runs
  the two halves on two threads. Attention is `functional.single_sequence_attention`
  (2-D matmuls, no head transposes), whose ops also stay on the calling thread. Returns
  the two halves of the output.
  """
  halves = (first, second)
  starts = _block_starts(config, w, halves)
  residuals, queries, keys, values = zip(*starts)
  contexts = F.single_sequence_attention(queries, tf.concat(keys, axis=0), tf.concat(values, axis=0), mask,
                                         config.num_attention_heads)
  return tuple(_block_end(config, w, context, residual, half, training=False)
               for half, residual, context in zip(halves, residuals, contexts))


def in_xla_compilation() -> bool:
  """Is the graph being built, or one it is nested in, compiled with XLA (`tf.function(jit_compile=True)`)?"""
  # Not exported by TensorFlow; its jit_compile tracing enters this context.
  from tensorflow.python.ops.control_flow_util import GraphOrParentsInXlaContext

  return GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def block_function(config: MobileBertConfig, training: bool, fold_no_norm: bool = False):
  """The block to call in the graph being built: `shared_block_function`'s, or untraced inside an XLA compilation.

  In a function compiled with XLA (as `distill --jit_compile` compiles its train step), the gradient
  of a nested traced function made XLA take the step's inputs and every weight as compile-time
  constants, so it compiled the step again on every call; the untraced block compiles once.
  """
  if in_xla_compilation():
    return functools.partial(_block_forward, config, training=training, fold_no_norm=fold_no_norm)
  return shared_block_function(config, training, fold_no_norm)


@functools.lru_cache(maxsize=None)
def shared_block_function(config: MobileBertConfig, training: bool, fold_no_norm: bool = False):
  """One traced block computation per config, mode and NoNorm folding, reused by every block.

  The training block is kept out of line, so the runtime optimizes one block (and one
  block gradient) instead of 24 inlined copies: building the fine-tuning gradient of a
  loaded export gets 2-4x faster. The inference block stays inlined, which measured about
  2% faster per batch-1 call than the out-of-line version, and the TFLite converter
  cannot inline an out-of-line call.
  """
  return _traced(f"{'training' if training else 'inference'}_block",
                 functools.partial(_block_forward, config, training=training, fold_no_norm=fold_no_norm),
                 inline=not training)


@functools.lru_cache(maxsize=None)
def shared_single_sequence_block_function(config: MobileBertConfig):
  """`_single_sequence_block_forward` traced once per config, inlined like the above."""
  return _traced("single_sequence_block",
                 functools.partial(_single_sequence_block_forward, config),
                 inline=True)


def _traced(name: str, forward: functools.partial, inline: bool):
  forward.__name__ = name  # names the function in the graph and the SavedModel
  return tf.function(forward, reduce_retracing=True, autograph=False,
                     experimental_attributes=None if inline else {"_noinline": True})
