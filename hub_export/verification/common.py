"""Contract clauses shared by encoders and preprocessors."""

from hub_export.hub_format.reading import asset_files, read_saved_model_proto
from hub_export.verification.report import Violation, require


def check_reusable_api(obj) -> str:
  """The Reusable SavedModel attributes `hub.KerasLayer` relies on."""
  require(callable(obj), "the loaded object is not callable (no __call__)")
  for name in ("variables", "trainable_variables", "regularization_losses"):
    require(hasattr(obj, name), f"the loaded object has no '{name}' attribute")
  variables, trainable = list(obj.variables), list(obj.trainable_variables)
  variable_ids = {id(v) for v in variables}
  stray = [v.name for v in trainable if id(v) not in variable_ids]
  require(not stray, f"trainable_variables not listed in variables: {', '.join(stray[:3])}")
  return (f"{len(variables)} variables ({len(trainable)} trainable), "
          f"{len(list(obj.regularization_losses))} regularization losses")


def call_trainings(fn) -> set:
  """The Python-bool `training` values a restored function was traced for."""
  values = set()
  for concrete in getattr(fn, "concrete_functions", ()):
    args, kwargs = concrete.structured_input_signature
    training = kwargs.get("training", args[1] if len(args) > 1 else None)
    values.add(training)
  return values


def check_training_traces(fn, what: str) -> str:
  trainings = call_trainings(fn)
  missing = [str(t) for t in (True, False) if t not in trainings]
  require(not missing, f"{what} has no trace for training={'/'.join(missing)} "
                       f"(traced for: {sorted(map(str, trainings)) or 'none'})")
  return f"{what} traced for training=True and training=False"


def _string_constants(meta_graph):
  nodes = list(meta_graph.graph_def.node)
  for function in meta_graph.graph_def.library.function:
    nodes.extend(function.node_def)
  for node in nodes:
    if node.op != "Const":
      continue
    for value in node.attr["value"].tensor.string_val:
      yield value


def check_no_absolute_asset_paths(export_dir) -> str:
  """No constant in the saved graph may point at an asset by an absolute path.

  Assets must be reached through the SavedModel's asset mechanism, which the loader
  re-roots wherever the model is unpacked; a baked-in path of the exporting machine
  breaks on every other machine. (Names such as a hash table's shared_name may carry
  the old path harmlessly; they are not read as files, so only constants are checked.)
  """
  saved_model = read_saved_model_proto(export_dir)
  asset_names = {p.name.encode() for p in asset_files(export_dir)}
  for meta_graph in saved_model.meta_graphs:
    for value in _string_constants(meta_graph):
      absolute = value.startswith(b"/") or value[1:3] in (b":\\", b":/")
      if absolute and (b"/assets/" in value or any(value.endswith(name) for name in asset_names)):
        raise Violation(f"the saved graph embeds the absolute asset path {value.decode(errors='replace')!r}")
  return f"no absolute asset paths in the saved graph ({len(asset_names)} asset file(s))"
