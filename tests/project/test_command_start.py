"""A command's process starts TensorFlow without Keras 3 or JAX (hub_export/__init__.py) and a checking command runs
without Grappler (support/one_shot_runtime.py); a program importing the package keeps its own choices."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

_REPORT = "import os, hub_export; print(os.environ.get('TF_USE_LEGACY_KERAS'))"
# Whether `import jax` is stopped (TensorFlow's converter tries it on start).
_JAX = "import sys, hub_export; print(sys.modules.get('jax', 'importable') is None)"


def _run(code: str, argv0: str, **env) -> str:
  environ = {k: v for k, v in os.environ.items() if k not in ("TF_USE_LEGACY_KERAS", "KERAS_BACKEND")}
  script = f"import sys; sys.argv[0] = {argv0!r}; {code}"
  proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                        env={**environ, "PYTHONPATH": str(REPO), **env})
  assert proc.returncode == 0, proc.stderr[-2000:]
  return proc.stdout.strip()


@pytest.mark.parametrize("argv0", ["-m", "/venv/bin/mobilebert-export-encoder"])
def test_a_command_process_uses_tf_keras_as_tf_keras(argv0):
  assert _run(_REPORT, argv0) == "1"


def test_a_users_choice_is_kept():
  assert _run(_REPORT, "-m", TF_USE_LEGACY_KERAS="0") == "0"


def test_a_program_importing_the_package_is_left_alone():
  assert _run(_REPORT, "my_program.py") == "None"
  assert _run(_JAX, "my_program.py") == "False"


@pytest.mark.parametrize("argv0", ["-m", "/venv/bin/mobilebert-export-encoder"])
def test_a_command_process_starts_tensorflow_without_jax(argv0):
  assert _run(_JAX, argv0) == "True"


def test_a_command_on_the_jax_backend_keeps_jax():
  assert _run(_JAX, "-m", KERAS_BACKEND="jax") == "False"


_GRAPPLER = ("import tensorflow as tf; from hub_export.support.one_shot_runtime import skip_graph_optimization; "
             "skip_graph_optimization(); print(tf.config.optimizer.get_experimental_options())")


def test_a_checking_command_turns_graph_optimization_off_and_a_program_keeps_it():
  assert "'disable_meta_optimizer': True" in _run(_GRAPPLER, "/venv/bin/mobilebert-verify")
  assert "'disable_meta_optimizer': True" not in _run(_GRAPPLER, "my_program.py")
