"""Every `tf.function` of the package is declared `autograph=False` (docs/design.md, "Traced without AutoGraph"):
one declared without it would have AutoGraph rewrite the source of every function and layer it reaches again."""

import ast

from conftest import REPO


def _tf_function_uses(tree):
  """(line, whether it says autograph=False) for each `tf.function` decorator or call in `tree`."""
  calls = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
  for node in ast.walk(tree):
    if isinstance(node, ast.Call) and _is_tf_function(node.func):
      off = any(k.arg == "autograph" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in node.keywords)
      yield node.lineno, off
    elif _is_tf_function(node) and id(node) not in calls:  # a bare `@tf.function`
      yield node.lineno, False


def _is_tf_function(node) -> bool:
  return (isinstance(node, ast.Attribute) and node.attr == "function" and isinstance(node.value, ast.Name)
          and node.value.id == "tf")


def test_every_tf_function_of_the_package_is_traced_without_autograph():
  uses, with_autograph = 0, []
  for path in sorted((REPO / "hub_export").rglob("*.py")):
    for line, off in _tf_function_uses(ast.parse(path.read_text(encoding="utf-8"))):
      uses += 1
      if not off:
        with_autograph.append(f"{path.relative_to(REPO)}:{line}")
  assert uses >= 18 and not with_autograph, with_autograph


def test_the_check_finds_a_bare_decorator_and_a_call_without_the_flag():
  source = ("@tf.function\ndef f(x):\n  return x\n\n"
            "g = tf.function(lambda x: x, input_signature=[])\n"
            "h = tf.function(lambda x: x, autograph=False)\n")
  assert sorted(_tf_function_uses(ast.parse(source))) == [(1, False), (5, False), (6, True)]
