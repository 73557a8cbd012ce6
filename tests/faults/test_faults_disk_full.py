"""A full disk (or a file size limit) while writing: one clear error, nothing half-written, inputs untouched.

Two ways to make writes fail: a real 2 MiB tmpfs as the target's filesystem (ENOSPC, when
this machine lets the tests mount one), and `RLIMIT_FSIZE` on a CLI subprocess (EFBIG,
anywhere). Python ignores SIGXFSZ, so the oversized write fails instead of killing.
"""

import resource
import signal
import subprocess
import sys

import pytest

from hub_export import publish
from hub_export.convert_checkpoint import convert_checkpoint
from hub_export.export_encoder import export_encoder
from hub_export.export_preprocessor import export as export_preprocessor
from hub_export.support.errors import HubExportError
from support.fault_mounts import tmpfs, tree_digest
from support.release_dirs import write_tiny_release

NO_SPACE = "No space left on device"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
  return write_tiny_release(tmp_path_factory.mktemp("disk_full") / "release", seed=21)


@pytest.fixture
def full_disk(tmp_path):
  """A 2 MiB filesystem: the tiny encoder's 10 MB of variables cannot fit."""
  with tmpfs(tmp_path / "small_disk", "2m") as mount:
    yield mount


def _assert_empty(directory):
  assert sorted(p.name for p in directory.iterdir()) == [], "the failed write left files behind"


def test_encoder_save_on_full_disk(release, full_disk):
  before = tree_digest(release)
  target = full_disk / "encoder"
  with pytest.raises(HubExportError) as error:
    export_encoder(release, target, lower_case=True)
  assert str(error.value) == f"cannot write {target}: {NO_SPACE}"
  _assert_empty(full_disk)
  assert tree_digest(release) == before


def test_encoder_cli_over_file_size_limit(release, tmp_path):
  """The CLI under a 1 MiB file size limit: exit 2, one `error:` line, no traceback, no output."""
  before = tree_digest(release)
  limit = 1 << 20

  def limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

  target = tmp_path / "encoder"
  proc = subprocess.run([sys.executable, "-m", "hub_export.export_encoder", "--ckpt", str(release),
                         "--export_dir", str(target), "--lower_case", "true"],
                        capture_output=True, text=True, preexec_fn=limit_file_size, timeout=300)
  assert proc.returncode == 2, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr
  errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
  assert errors == [f"error: cannot write {target}: File too large"]
  assert sorted(p.name for p in tmp_path.iterdir()) == []
  assert tree_digest(release) == before


def test_tflite_cli_on_full_disk(release, full_disk, capsys):
  pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert (a test extra) is not installed")
  from hub_export import export_tflite

  before = tree_digest(release)
  out = full_disk / "encoder.tflite"
  with pytest.raises(SystemExit) as exit_info:
    export_tflite.main(["--ckpt", str(release), "--out", str(out), "--lower_case", "true", "--seq_length", "16",
                        "--no_metadata"])
  assert exit_info.value.code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: cannot write {out}: {NO_SPACE}"
  _assert_empty(full_disk)
  assert tree_digest(release) == before


def test_preprocessor_save_on_full_disk(release, tmp_path):
  with tmpfs(tmp_path / "small_disk", "512k") as mount:  # its saved_model.pb alone is over 1 MB
    target = mount / "preprocessor"
    with pytest.raises(HubExportError) as error:
      export_preprocessor(release / "vocab.txt", target, lower_case=True, seq_length=16)
    assert str(error.value) == f"cannot write {target}: {NO_SPACE}"
    _assert_empty(mount)


def test_convert_on_full_disk(release, full_disk):
  before = tree_digest(release)
  with pytest.raises(HubExportError) as error:
    convert_checkpoint(release, full_disk / "converted" / "mobilebert")
  assert str(error.value) == f"cannot write {full_disk / 'converted'}: {NO_SPACE}"
  _assert_empty(full_disk)
  assert tree_digest(release) == before


def test_publish_on_full_disk(synthetic_encoder, synthetic_preprocessor, tmp_path, capsys):
  sources = {path: tree_digest(path) for path in (synthetic_encoder, synthetic_preprocessor)}
  with tmpfs(tmp_path / "small_disk", "64k") as mount:  # the preprocessor tarball is larger
    code = publish.main(["--encoder", str(synthetic_encoder), "--preprocessor", str(synthetic_preprocessor),
                         "--out", str(mount / "dist"), "--name", "toy", "--language", "en"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: cannot write {mount / 'dist'}: {NO_SPACE}"
    _assert_empty(mount)
  assert {path: tree_digest(path) for path in sources} == sources
