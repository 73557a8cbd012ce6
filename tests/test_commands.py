"""Every command answers --help, both as `python -m` and as its installed console script."""

import json
import subprocess
import sys
import tomllib

from conftest import REPO

# The `python -m` commands the README documents, and the module each console script runs.
COMMANDS = {
    "hub_export.export_encoder": "hub_export.export_encoder",
    "hub_export.export_preprocessor": "hub_export.export_preprocessor",
    "hub_export.convert_checkpoint": "hub_export.convert_checkpoint",
    "hub_export.export_tflite": "hub_export.export_tflite",
    "hub_export.publish": "hub_export.publish",
    "hub_export.verify": "hub_export.verify",
    "hub_export.demo": "hub_export.demo.run_demo",
    "hub_export.export_keras": "hub_export.export_keras",
}

# Runs in one fresh process (one TensorFlow import for all): argv[1:] are "-m MODULE" and
# "script MODULE:FUNCTION" probes; prints {probe: [exit code, stdout]} as JSON.
_PROBE = r"""
import contextlib, importlib, io, json, runpy, sys, warnings
warnings.simplefilter("ignore")
results = {}
for probe in sys.argv[1:]:
  how, target = probe.split(" ", 1)
  out, code = io.StringIO(), "returned"
  sys.argv = [target, "--help"]
  with contextlib.redirect_stdout(out):
    try:
      if how == "-m":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
      else:
        module, function = target.split(":")
        sys.exit(getattr(importlib.import_module(module), function)())
    except SystemExit as e:
      code = e.code
  results[probe] = [code, out.getvalue()]
print(json.dumps(results))
"""


def _console_scripts() -> dict:
  with open(REPO / "pyproject.toml", "rb") as f:
    return tomllib.load(f)["project"]["scripts"]


def test_every_command_has_a_console_script():
  script_modules = sorted(target.split(":")[0] for target in _console_scripts().values())
  assert script_modules == sorted(COMMANDS.values())


def test_help_works_for_every_command_and_script():
  probes = [f"-m {module}" for module in COMMANDS] + [f"script {t}" for t in _console_scripts().values()]
  proc = subprocess.run([sys.executable, "-c", _PROBE, *probes], capture_output=True, text=True, cwd=REPO,
                        env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": ""}, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  results = json.loads(proc.stdout.strip().splitlines()[-1])
  for probe in probes:
    code, text = results[probe]
    assert code == 0, f"{probe} --help exited with {code}"
    assert text.startswith("usage: "), f"{probe} --help printed {text[:200]!r}"
    assert "--help" in text
