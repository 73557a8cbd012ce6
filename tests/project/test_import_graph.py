"""The package's import graph, read from the source with `ast` (no import runs): every module sits in a declared
layer and imports only from its own layer or those below; no module or folder imports in a circle; capability
folders import no command."""

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "hub_export"
# Lowest first. A module may import from its own layer and the layers below it, never from one above.
LAYERS = (
    ("support", ("hub_export", "hub_export.support")),  # the package itself: its __init__ only
    ("contracts", ("hub_export.config", "hub_export.signatures", "hub_export.weight_layout")),
    ("model and tokenization", ("hub_export.model", "hub_export.tokenization")),
    ("capabilities", ("hub_export.checkpoint", "hub_export.savedmodel", "hub_export.hub_format",
                      "hub_export.verification", "hub_export.publishing", "hub_export.kaggle_models",
                      "hub_export.tflite", "hub_export.keras3", "hub_export.beam", "hub_export.distillation",
                      "hub_export.tasks")),
    ("commands", ("hub_export.convert_checkpoint", "hub_export.distill", "hub_export.embed_corpus",
                  "hub_export.evaluate_mlm", "hub_export.evaluate_task", "hub_export.export_encoder",
                  "hub_export.export_keras", "hub_export.export_preprocessor", "hub_export.export_tflite",
                  "hub_export.finetune", "hub_export.pretraining_data", "hub_export.publish", "hub_export.verify")),
    ("demo", ("hub_export.demo",)),  # runs the commands end to end
)


def _module_name(path: Path) -> str:
  parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set) -> set:
  """The package's modules that `path` imports, at the top or inside a function; `from a import b` counts as
  importing module a.b when b is one, else a."""
  found = set()
  for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
    if isinstance(node, ast.Import):
      found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "hub_export")
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "hub_export":
      found.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                   for alias in node.names)
  return found


PATHS = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: _imports(path, set(PATHS)) for name, path in PATHS.items()}
# The modules of the capability folders (and support), beneath the top level's commands and contracts.
IN_A_FOLDER = {name for name, path in PATHS.items() if path.parent != PACKAGE and path.parent.name != "demo"}


def _layer(module: str):
  """The index of the layer whose longest prefix names `module`; None when no layer does."""
  matches = [(len(prefix), index) for index, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
             if module == prefix or prefix != "hub_export" and module.startswith(prefix + ".")]
  return max(matches)[1] if matches else None


def _cycle(graph: dict):
  """One cycle of `graph` (name -> names) as a list, or None."""
  state, stack = {}, []

  def visit(node):
    state[node] = "open"
    stack.append(node)
    for target in sorted(graph.get(node, ())):
      if state.get(target) == "open":
        return stack[stack.index(target):] + [target]
      if target not in state and (found := visit(target)):
        return found
    stack.pop()
    state[node] = "done"
    return None

  return next(filter(None, (visit(node) for node in sorted(graph) if node not in state)), None)


def test_every_module_has_a_layer():
  assert [name for name in GRAPH if _layer(name) is None] == []


def test_no_module_imports_one_in_a_layer_above_it():
  upward = [f"{name} ({LAYERS[_layer(name)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
            for name, targets in GRAPH.items() for target in sorted(targets)
            if None not in (_layer(name), _layer(target)) and _layer(target) > _layer(name)]
  assert upward == []


def test_no_capability_folder_imports_a_command_or_the_top_level_outside_the_contracts():
  allowed = {"hub_export", *dict(LAYERS)["contracts"]}
  wrong = [f"{name} imports {target}" for name in sorted(IN_A_FOLDER) for target in sorted(GRAPH[name])
           if target not in IN_A_FOLDER and target not in allowed]
  assert wrong == []


def test_no_module_imports_in_a_circle():
  assert _cycle({name: targets - {name} for name, targets in GRAPH.items()}) is None


def _folder(module: str) -> str:
  return ".".join(module.split(".")[:2])


def test_no_folder_imports_in_a_circle():
  folders = {}
  for name, targets in GRAPH.items():
    folders.setdefault(_folder(name), set()).update(_folder(t) for t in targets if _folder(t) != _folder(name))
  assert _cycle(folders) is None


@pytest.mark.parametrize("graph, cycle", [({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
                                          ({"a": {"b"}, "b": set()}, None)])
def test_the_cycle_finder_finds_a_cycle_and_only_one(graph, cycle):
  assert _cycle(graph) == cycle
