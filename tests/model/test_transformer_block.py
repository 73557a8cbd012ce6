"""The block in each of its config forms, run by `BlockStack` (which owns the block weights, stacked):
every weight `weight_layout` gives a block takes part in its output, and padding stays inert."""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.model.block_stack import BlockStack
from hub_export.model.functional import attention_mask
from support.layer_test_case import narrow_config, padding_mask, run_layer_test

LENGTH = 5
OPT = 46  # the released model's block weights: a shared key/query bottleneck and 4 FFNs
FORMS = {  # the other forms: (config overrides, block weight count)
    "bottleneck attention": (dict(use_bottleneck_attention=True), 42),
    "bottleneck, layer_norm, 1 FFN": (dict(normalization_type="layer_norm", num_feedforward_networks=1,
                                           key_query_shared_bottleneck=False), 24),
    "no bottleneck": (dict(use_bottleneck=False, num_feedforward_networks=1), 16),
}


def _stack_inputs(config, lengths, seed: int = 0):
  """(hidden rows, attention bias, [batch, seq]) and the same with other hidden rows at padding; the input mask."""
  rng = np.random.default_rng(seed)
  input_mask = padding_mask(lengths, LENGTH)
  hidden = rng.normal(0.0, 1.0, [input_mask.size, config.hidden_size]).astype(np.float32)
  changed = np.where(input_mask.reshape(-1, 1) == 1, hidden, rng.normal(5.0, 1.0, hidden.shape).astype(np.float32))
  rest = (attention_mask(tf.constant(input_mask)), tf.constant(input_mask.shape, tf.int32))
  return (hidden, *rest), (changed, *rest), input_mask


def _run(config, lengths, num_variables: int, **kwargs):
  inputs, changed, input_mask = _stack_inputs(config, lengths)
  return run_layer_test(lambda: BlockStack(config), inputs, [(input_mask.size, config.hidden_size)] * 2,
                        expected_num_variables=num_variables, input_mask=input_mask, changed_under_mask=changed,
                        **kwargs)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_block_form(form):
  """In a batch of two (the sequence groups of `BlockStack.call`); the encoder's tests run the released form."""
  overrides, num_variables = FORMS[form]
  _run(narrow_config(**overrides), (5, 3), num_variables)


def test_a_batch_of_one_takes_the_half_sequence_streams():
  _run(narrow_config(), (3,), OPT)


def test_training_block_without_dropout_is_the_inference_block():
  """Training runs its own out-of-line traced block; with dropout off it computes the same."""
  config = narrow_config(attention_probs_dropout_prob=0.0)
  layer, out = _run(config, (5, 3), OPT, call=lambda layer, *args: layer(*args, training=True))
  inputs, _, _ = _stack_inputs(config, (5, 3))
  for ours, theirs in zip(out, layer(*inputs)):
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-5)
