"""Graph optimisation off in command processes that run each function on a few inputs once."""

import hub_export


def skip_graph_optimization() -> None:
  """Turns off Grappler, TensorFlow's whole-graph optimiser, when this process is a command's.

  A loaded SavedModel function is optimised afresh for every new input shape it meets: for a
  full-size encoder that is seconds a shape, and more for a gradient. A checking process (the
  fresh-process round trip, `verify`) calls each function on a few shapes once, so optimising
  costs far more than it saves; the optimiser only rewrites the graph for speed, so the values
  checked are the graph's own. The switch holds for the whole process, so a program that calls
  a command's `main` keeps its own setting.
  """
  if hub_export.COMMAND_PROCESS:
    disable_graph_optimization()


def disable_graph_optimization() -> None:
  """Grappler off for this whole process, whoever it belongs to (the test processes call this directly)."""
  import tensorflow as tf

  tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
