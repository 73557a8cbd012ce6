"""The batch-size branch: the private `_lower_using_switch_merge` attribute goes on an If only."""

import logging

import tensorflow as tf

from hub_export.model import block_stack


def _ops_with_the_attribute(graph) -> dict:
  return {op.type for op in graph.get_operations() if "_lower_using_switch_merge" in op.node_def.attr}


def _trace(pred_value):
  @tf.function(input_signature=[tf.TensorSpec([], tf.bool), tf.TensorSpec([2], tf.float32)])
  def branch(pred, x):
    return block_stack._cond_run_time_branch(pred, lambda: [x * 2.0], lambda: [x + 1.0])

  concrete = branch.get_concrete_function()
  return concrete, branch(tf.constant(pred_value), tf.constant([1.0, 2.0]))


def test_the_if_of_tf_cond_keeps_its_branches():
  concrete, out = _trace(True)
  assert _ops_with_the_attribute(concrete.graph) <= {"If", "StatelessIf"}
  assert len(_ops_with_the_attribute(concrete.graph)) == 1
  assert out[0].numpy().tolist() == [2.0, 4.0]


def test_an_op_that_is_not_an_if_is_left_alone(monkeypatch, caplog):
  """If tf.cond ever builds something else, no other op gets the attribute; a warning says so."""
  monkeypatch.setattr(block_stack.tf, "cond", lambda pred, true_fn, false_fn: [tf.identity(tf.add(*true_fn(), 0.0))])
  with caplog.at_level(logging.WARNING, logger="hub_export"):
    concrete, out = _trace(True)
  assert _ops_with_the_attribute(concrete.graph) == set()
  assert "not an If" in caplog.text
  assert out[0].numpy().tolist() == [2.0, 4.0]
