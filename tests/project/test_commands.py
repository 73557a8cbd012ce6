"""Every command answers --help, both as `python -m` and as its installed console script."""

import json
import os
import subprocess
import sys
import tomllib

import pytest

from conftest import REPO
from hub_export.support import cli

# The `python -m` commands the README documents, and the module each console script runs.
COMMANDS = {
    "hub_export.export_encoder": "hub_export.export_encoder",
    "hub_export.export_preprocessor": "hub_export.export_preprocessor",
    "hub_export.convert_checkpoint": "hub_export.convert_checkpoint",
    "hub_export.export_tflite": "hub_export.export_tflite",
    "hub_export.publish": "hub_export.publish",
    "hub_export.verify": "hub_export.verify",
    "hub_export.demo": "hub_export.demo.run_demo",
    "hub_export.embed_corpus": "hub_export.embed_corpus",
    "hub_export.export_keras": "hub_export.export_keras",
    "hub_export.pretraining_data": "hub_export.pretraining_data",
    "hub_export.distill": "hub_export.distill",
    "hub_export.evaluate_mlm": "hub_export.evaluate_mlm",
    "hub_export.finetune": "hub_export.finetune",
    "hub_export.evaluate_task": "hub_export.evaluate_task",
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



def _verify(export_dir, **env) -> subprocess.Popen:
  environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  return subprocess.Popen([sys.executable, "-m", "hub_export.verify", str(export_dir)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=REPO, env={**environ, **env})


def test_a_command_prints_only_its_own_lines_unless_tensorflow_logs_are_asked_for(tmp_path):
  """No TensorFlow start-up lines (CUDA probing, oneDNN notices) and no pkg_resources warning on
  stderr; a user who sets TF_CPP_MIN_LOG_LEVEL gets TensorFlow's lines back. (The demo test
  checks a whole run, device start-up included.)"""
  (tmp_path / "saved_model.pb").write_bytes(b"not a SavedModel")  # verify imports TensorFlow, then refuses it
  quiet, asked = _verify(tmp_path), _verify(tmp_path, TF_CPP_MIN_LOG_LEVEL="0")
  quiet_err, asked_err = quiet.communicate(timeout=300)[1], asked.communicate(timeout=300)[1]
  assert quiet.returncode == asked.returncode == 2, quiet_err[-2000:]
  lines = quiet_err.splitlines()
  assert len(lines) == 2 and lines[0] == f"verify {tmp_path} ..."
  assert lines[1].startswith(f"error: {tmp_path / 'saved_model.pb'} is damaged: ")
  assert any(cli.is_tensorflow_startup_line(line.encode()) for line in asked_err.splitlines()), asked_err[-2000:]


@pytest.mark.parametrize("line,startup", [
    ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
    ("I0000 00:00:1796160182.944765   13279 port.cc:153] oneDNN custom operations are on.", True),
    ("I0000 00:00:1796160182.945090   13279 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
     "GPU will not be used.", True),
    ("E0000 00:00:1796160038.629121   12472 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error", True),
    ("E0000 00:00:1796160131.671499   12815 util.cc:131] oneDNN supports DT_INT64 only on platforms with AVX-512.",
     True),
    ("I0000 00:00:1796160426.886835   15300 cpu_feature_guard.cc:227] This TensorFlow binary is optimized", True),
    ("To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow", True),
    ("E0000 00:00:1796160131.671499   12815 op_kernel.cc:1840] OP_REQUIRES failed at save_restore_v2_ops.cc",
     False),
    ("error: no space left on device", False),
    ("restore done in 3.6 s", False),
])
def test_only_tensorflow_startup_lines_are_filtered(line, startup):
  assert cli.is_tensorflow_startup_line(line.encode()) is startup


@pytest.mark.parametrize("tokens,problem", [
    (170, "ids from 160 up would index past the word table (pass --allow_vocab_larger_than_model to export anyway)"),
    (150, "the word table's rows from 150 up would have no token (is it the vocab this model was trained with?)"),
], ids=["larger", "smaller"])
@pytest.mark.parametrize("command,args", [
    ("export_encoder", ["--export_dir", "{out}"]),
    ("export_tflite", ["--out", "{out}.tflite", "--quantize", "none"]),
    ("export_keras", ["--preset_dir", "{out}"]),
])
def test_a_vocab_other_than_the_models_size_is_the_same_error_for_every_exporter(tmp_path, capsys, monkeypatch,
                                                                                   command, args, tokens, problem):
  """Refused before the model is even built (no restore, no tracing), naming both files and both sizes."""
  import importlib

  if command == "export_keras":
    pytest.importorskip("keras_hub", reason="keras-hub (the keras extra) is not installed")
  from hub_export.checkpoint import restore
  from support.release_dirs import tiny_vocab, write_tiny_release

  def build_mobilebert(config):
    raise AssertionError("the model was built before the vocab was checked")

  monkeypatch.setattr(restore, "build_mobilebert", build_mobilebert)
  release = write_tiny_release(tmp_path / "release")
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("".join(f"{token}\n" for token in tiny_vocab(tokens)), encoding="utf-8")
  argv = ["--ckpt", str(release), "--vocab", str(vocab), "--lower_case", "true"]
  argv += [a.format(out=tmp_path / "out") for a in args]
  main = importlib.import_module(f"hub_export.{command}").main
  with pytest.raises(SystemExit) as exit_info:
    main(argv)
  assert exit_info.value.code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == (
      f"error: vocab {vocab} has {tokens} tokens but the model's vocab_size is 160 in {release / 'bert_config.json'}: "
      f"{problem}")
  assert sorted(p.name for p in tmp_path.iterdir()) == ["release", "vocab.txt"]
