"""Refuses a SavedModel whose graph could touch files, processes or the network, before any of it runs.

A SavedModel is a program: `hub.load` runs its initialisers and every check calls its
functions. So before loading one, every op it holds is judged: the meta graph's own nodes
and every function of its library, called or not.

- Stateless ops (math, shapes, strings, tokenizers, stateless control flow) are allowed as
  a category: TensorFlow marks an op stateful when it does more than compute its outputs,
  so an unfamiliar stateless op needs no change here. The exceptions are the stateless ops
  that read files, run Python or reach a server anyway (`_STATELESS_DENIED`, `_DENIED_FAMILY`).
- Stateful ops must be on `STATEFUL_ALLOWED`: what a TF-Hub text model needs to restore its
  variables, build and query its vocab tables, run its tokenizers, draw dropout noise,
  assert and call its functions. Anything else (WriteFile, PrintV2, PyFunc, ...) is refused.
- Of those, the ops that take a path take only the SavedModel's own: the checkpoint ops
  (SaveV2, RestoreV2, MergeV2Checkpoints) may sit only in functions no restored object can
  reach (the saver functions, which only a TF1-style loader calls, with the variables/
  prefix; TF2 loading restores variables itself), and a vocab table may read a file only
  from an argument the object graph binds to one of the model's assets.
- An op this TensorFlow (with tensorflow_text) does not know cannot be judged, and is refused.
"""

import re

from hub_export.hub_format import reading
from hub_export.support.errors import HubExportError

STATEFUL_ALLOWED = frozenset({
    # Variables and their restore.
    "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp",
    "VarIsInitializedOp", "ResourceGather", "ResourceGatherNd", "DestroyResourceOp", "DisableCopyOnRead",
    "VariableShape",
    # Calls and control flow whose branches may hold stateful ops (judged on their own).
    "StatefulPartitionedCall", "If", "While", "Case",
    # Dropout noise and graph assertions.
    "RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal", "Assert",
    # Vocab lookup tables, filled from constants or (see _ASSET_READERS) the model's assets.
    "HashTableV2", "MutableHashTableV2", "MutableDenseHashTableV2", "InitializeTableV2", "LookupTableFindV2",
    "LookupTableSizeV2", "LookupTableImportV2", "LookupTableExportV2", "LookupTableInsertV2",
    # Loops over tensor arrays.
    "TensorArrayV3", "TensorArrayReadV3", "TensorArrayWriteV3", "TensorArrayGatherV3", "TensorArrayScatterV3",
    "TensorArraySizeV3", "TensorArrayConcatV3", "TensorArraySplitV3", "TensorArrayGradV3", "TensorArrayCloseV3",
    # tensorflow_text tokenizers (a SentencePiece model travels as a string tensor, not a file).
    "WordpieceTokenizeWithOffsets", "SentencepieceOp", "SentencepieceTokenizeOp",
    "SentencepieceTokenizeWithOffsetsOp", "SentencepieceDetokenizeOp", "SentencepieceIdToStringOp",
    "SentencepieceStringToIdOp", "SentencepieceVocabSizeOp",
})
# Checkpoint ops: allowed only where no restored object can reach them.
CHECKPOINT_OPS = frozenset({"SaveV2", "RestoreV2", "MergeV2Checkpoints"})
# Table initialisers that read a file, with the index of their file name input.
_ASSET_READERS = {"InitializeTableFromTextFileV2": 1}
# Stateless by TensorFlow's marking, yet they read files, run Python or talk to a server.
_STATELESS_DENIED = frozenset({"ReadFile", "MatchingFiles", "ImmutableConst", "PyFuncStateless",
                               "InitializeTableFromTextFile", "GenerateVocabRemapping",
                               "XlaCustomCall", "XlaCustomCallV2"})
# tf.data (file readers, caches, snapshots, the data service), debugger ops (debug_urls), file readers.
_DENIED_FAMILY = re.compile(r"Dataset|^Debug|^Reader")
_REACHES_OUT = "can read or write files, run code or reach the network"


def check_graph(export_dir) -> int:
  """Raises HubExportError naming the first op (and its function) not allowed; returns how many ops were judged."""
  import tensorflow_text  # noqa: F401 - registers the tokenizer ops, so they can be judged

  saved_model = reading.read_saved_model_proto(export_dir)
  return sum(_check_meta_graph(meta_graph, export_dir) for meta_graph in saved_model.meta_graphs)


def _check_meta_graph(meta_graph, export_dir) -> int:
  graph, objects = meta_graph.graph_def, meta_graph.object_graph_def
  if not objects.nodes:
    raise HubExportError(f"{export_dir} has no object graph: a TF1 SavedModel, whose loading runs its graph's "
                         f"own init ops; verify checks TF2 SavedModels only")
  functions = {f.signature.name: f for f in graph.library.function}
  roots = list(objects.concrete_functions) + [g.gradient_func for g in graph.library.gradient]
  live = _reachable(roots, functions)
  called = {callee for name in live for node in functions[name].node_def for callee in _callees(node, functions)}
  containers = [(None, graph.node)] + [(name, f.node_def) for name, f in functions.items()]
  count = 0
  for name, nodes in containers:
    for node in nodes:
      count += 1
      reason = _refusal(node, name, live, called, functions, objects)
      if reason:
        where = f"function {name}" if name else "the top-level graph"
        raise HubExportError(f"refusing to load {export_dir}: op {node.op} (node {node.name!r} in {where}) "
                             f"{reason}")
  return count


def _callees(node, functions):
  """The library functions `node` calls: as its op, or through a function-valued attribute."""
  if node.op in functions:
    yield node.op
  for attr in node.attr.values():
    if attr.HasField("func"):
      yield attr.func.name
    yield from (f.name for f in attr.list.func)


def _reachable(roots, functions) -> set:
  seen, todo = set(), [r for r in roots if r in functions]
  while todo:
    name = todo.pop()
    if name not in seen:
      seen.add(name)
      todo.extend(c for node in functions[name].node_def for c in _callees(node, functions) if c in functions)
  return seen


def _refusal(node, function_name, live, called, functions, objects):
  """Why `node` must not be loaded, or None."""
  from tensorflow.python.framework import op_def_registry

  op_def = op_def_registry.get(node.op)  # first: TensorFlow refuses a function named like an op
  if op_def is None and node.op in functions:
    return None  # a call: the callee is judged on its own
  if op_def is None:
    return "is not an op TensorFlow or tensorflow_text defines, so what it does cannot be judged"
  if node.op in _STATELESS_DENIED or _DENIED_FAMILY.search(node.op):
    return _REACHES_OUT
  if node.op in CHECKPOINT_OPS:
    return "reads or writes checkpoint files in a function a loaded model can run" if function_name in live else None
  if node.op in _ASSET_READERS:
    return _asset_refusal(node, function_name, called, functions, objects)
  if op_def.is_stateful and node.op not in STATEFUL_ALLOWED:
    return f"is stateful and not on the allowlist of a text model's ops: it {_REACHES_OUT}"
  return None


def _asset_refusal(node, function_name, called, functions, objects):
  """None when the file name input is an argument the loader binds to one of the model's assets."""
  refusal = "reads a file that is not one of the model's assets"
  saved = objects.concrete_functions.get(function_name) if function_name else None
  if saved is None or function_name in called:
    return refusal  # only a function the loader itself calls gets its arguments from the object graph
  args = [a.name for a in functions[function_name].signature.input_arg]
  filename = node.input[_ASSET_READERS[node.op]]
  if filename not in args:
    return refusal
  bound = args.index(filename) - (len(args) - len(saved.bound_inputs))
  if bound < 0:
    return refusal
  node_id = saved.bound_inputs[bound]
  if node_id >= len(objects.nodes) or objects.nodes[node_id].WhichOneof("kind") != "asset":
    return refusal
  return None
