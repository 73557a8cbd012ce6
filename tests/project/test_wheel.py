"""A built wheel, installed into a fresh virtual environment, runs the commands end to end.

The wheel is built from a copy of the sources and installed with `--no-deps` into a new
venv; the third-party packages it depends on are reached through a `.pth` line pointing
at this test environment's site-packages (the same pinned versions, without spending a
minute reinstalling TensorFlow), which holds no importable copy of `hub_export`. The
commands run from an empty working directory, far from the checkout, so every file they
read at run time (the vocab manifest, the calibration text) must come from the wheel.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, shared_path
from support.release_dirs import write_tiny_release

pytestmark = pytest.mark.slow


def _run(args, cwd, timeout=300):
  env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
  result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
  assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
  return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
  source = tmp_path_factory.mktemp("source")
  for name in ("pyproject.toml", "README.md", "LICENSE"):
    shutil.copy(REPO / name, source / name)
  shutil.copytree(REPO / "hub_export", source / "hub_export", ignore=shutil.ignore_patterns("__pycache__"))
  out = tmp_path_factory.mktemp("wheel")
  _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, source],
       cwd=out)
  (built,) = out.glob("mobilebert_hub_export-*.whl")
  return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
  root = tmp_path_factory.mktemp("venv") / "env"
  _run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root.parent)
  _run([sys.executable, "-m", "pip", "--python", root / "bin" / "python", "install", "-q", "--no-deps",
        "--no-index", wheel], cwd=root.parent)
  purelib = Path(_run([root / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                      cwd=root.parent).stdout.strip())
  (purelib / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
  return root


def test_the_wheel_carries_the_files_read_at_run_time(wheel):
  names = zipfile.ZipFile(wheel).namelist()
  assert "hub_export/vocab/manifest.json" in names
  assert "hub_export/tflite/calibration_en.txt" in names


def test_the_wheel_carries_the_apache_license_text(wheel):
  """pyproject.toml says Apache-2.0; the license's own text must travel with the wheel."""
  with zipfile.ZipFile(wheel) as archive:
    (license_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    text = archive.read(license_name)
  assert text == (REPO / "LICENSE").read_bytes()
  assert b"Apache License\n                           Version 2.0, January 2004" in text


def test_installed_wheel_exports_and_verifies_from_a_clean_directory(venv, tmp_path):
  work = tmp_path / "work"
  work.mkdir()
  bin_dir = venv / "bin"
  located = _run([bin_dir / "python", "-c", "import hub_export; print(hub_export.__file__)"], cwd=work).stdout
  assert Path(located.strip()).is_relative_to(venv), located

  vocab = shared_path("vocab/bert_en_uncased_vocab.txt")  # the English release vocab, known to the manifest
  pre = _run([bin_dir / "mobilebert-export-preprocessor", "--vocab", vocab, "--export_dir", work / "preprocessor"],
             cwd=work)
  assert "lower_case=true" in (pre.stdout + pre.stderr).lower()  # casing read from the packaged manifest

  release = write_tiny_release(tmp_path / "release")
  _run([bin_dir / "mobilebert-export-encoder", "--ckpt", release, "--lower_case", "true", "--export_dir", work / "encoder"],
       cwd=work)
  for export in ("encoder", "preprocessor"):
    report = _run([bin_dir / "mobilebert-verify", work / export], cwd=work).stdout
    assert report.strip().splitlines()[-1].endswith(" checks passed, 0 failed"), report
