"""The contract checks: PASS on good exports, a named FAIL for each deliberate flaw."""

import builtins
import errno
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import tensorflow as tf

from hub_export import verification, verify
from hub_export.hub_format.checksums import check_beside, check_tree, write_manifest
from hub_export.hub_format.tarball import write_tarball
from hub_export.support.errors import HubExportError
from hub_export.verification import verify_path
from support.synthetic_savedmodels import EncoderFlaws, PreprocessorFlaws, build_encoder, build_preprocessor


def _failed(report) -> set:
  return {c.name for c in report.failures}


def test_synthetic_encoder_passes(synthetic_encoder):
  report = verify_path(synthetic_encoder)
  assert report.kind == "encoder"
  assert report.ok, report.lines()
  assert len(report.checks) == 17


def test_synthetic_preprocessor_passes(synthetic_preprocessor):
  report = verify_path(synthetic_preprocessor)
  assert report.kind == "preprocessor"
  assert report.ok, report.lines()


@pytest.mark.parametrize("flaws, expected", [
    (EncoderFlaws(no_pooled_output=True), {"pooled_output", "default", "fine-tuning"}),
    (EncoderFlaws(sequence_dtype=tf.float16), {"sequence_output", "encoder_outputs", "dynamic sequence length",
                                               "training argument", "fine-tuning"}),
    (EncoderFlaws(no_mlm=True), {".mlm", ".mlm variables"}),
    (EncoderFlaws(no_vocab_asset=True), {"vocab_file asset"}),
    # Head variables in the root also get no gradient from the encoder outputs.
    (EncoderFlaws(mlm_head_in_root=True), {".mlm variables", "fine-tuning"}),
    # hub.KerasLayer(trainable=True) needs the training=True trace too.
    (EncoderFlaws(only_inference_trace=True), {"training argument", "fine-tuning"}),
    (EncoderFlaws(default_differs=True), {"default"}),
], ids=["no-pooled-output", "float16-sequence", "no-mlm", "no-vocab-asset", "mlm-head-in-root",
        "no-training-trace", "default-not-pooled"])
def test_broken_encoder_fails_the_violated_clauses_only(tmp_path, flaws, expected):
  report = verify_path(build_encoder(tmp_path / "encoder", flaws))
  assert report.kind == "encoder"
  assert _failed(report) == expected, report.lines()


def test_broken_preprocessor_fails_the_violated_clauses(tmp_path_factory):
  path = build_preprocessor(tmp_path_factory.mktemp("broken") / "pre",
                            PreprocessorFlaws(special_ids_int64=True, no_segment_ids=True))
  report = verify_path(path)
  failed = {c.name: c.detail for c in report.failures}
  assert set(failed) == {"special tokens", "bert_pack_inputs 2 segments", "bert_pack_inputs truncation"}
  assert failed["special tokens"] == "'vocab_size' is int64 [], expected a scalar int32"
  assert "do not mark the segments" in failed["bert_pack_inputs 2 segments"]


def test_an_object_with_neither_api_fails_kind(tmp_path):
  root = tf.train.Checkpoint()
  root.f = tf.function(lambda x: x + 1, input_signature=[tf.TensorSpec([], tf.float32)])
  tf.saved_model.save(root, str(tmp_path / "other"))
  report = verify_path(tmp_path / "other")
  assert [c.name for c in report.failures] == ["kind"]


def test_reference_encoder_passes(reference_encoder):
  report = verify_path(reference_encoder)
  assert report.kind == "encoder" and report.ok, report.lines()


def test_reference_preprocessor_passes(reference_preprocessor):
  report = verify_path(reference_preprocessor)
  assert report.kind == "preprocessor" and report.ok, report.lines()


def test_cli_exit_codes_and_report_lines(synthetic_encoder, tmp_path, capsys):
  assert verify.main([str(synthetic_encoder), "--json", str(tmp_path / "r.json")]) == 0
  out = capsys.readouterr().out
  assert "PASS pooled_output: [2, 8] float32" in out and "17 checks passed, 0 failed" in out
  assert '"ok": true' in (tmp_path / "r.json").read_text()

  broken = build_encoder(tmp_path / "broken", EncoderFlaws(no_mlm=True))
  assert verify.main([str(broken)]) == 1
  assert "FAIL .mlm: no '.mlm' sub-object" in capsys.readouterr().out

  assert verify.main([str(tmp_path / "missing")]) == 2
  assert capsys.readouterr().err.strip().endswith(f"no such file or directory: {tmp_path / 'missing'}")


def test_cli_verifies_a_tarball(synthetic_encoder, tmp_path, capsys):
  tarball = write_tarball(synthetic_encoder, tmp_path / "enc.tar.gz")
  assert verify.main([str(tarball)]) == 0
  assert "17 checks passed" in capsys.readouterr().out


def test_cli_refuses_a_hostile_tarball_with_one_line(tmp_path):
  tarball = tmp_path / "evil.tar.gz"
  with tarfile.open(tarball, "w:gz") as tar:
    link = tarfile.TarInfo("saved_model.pb")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    tar.addfile(link)
  result = subprocess.run([sys.executable, "-m", "hub_export.verify", str(tarball)], capture_output=True, text=True)
  assert result.returncode == 2
  errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
  assert errors == [f"error: refusing to unpack {tarball}: entry 'saved_model.pb' is a symbolic link "
                    f"(to '/etc/passwd')"]


def test_cli_rejects_a_tarball_with_a_leading_directory(tmp_path, capsys):
  tarball = tmp_path / "nested.tar.gz"
  with tarfile.open(tarball, "w:gz") as tar:
    info = tarfile.TarInfo("model/saved_model.pb")
    info.size = 3
    tar.addfile(info, io.BytesIO(b"abc"))
  assert verify.main([str(tarball)]) == 2
  assert "no saved_model.pb at its root" in capsys.readouterr().err


def _error_lines(capsys) -> list:
  return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_cli_reports_a_damaged_package_as_unusable_not_as_a_model_fault(synthetic_encoder, tmp_path, capsys):
  raw = bytearray(write_tarball(synthetic_encoder, tmp_path / "enc.tar.gz").read_bytes())
  raw[len(raw) // 2] ^= 0xFF
  damaged = tmp_path / "damaged.tar.gz"
  damaged.write_bytes(raw)
  assert verify.main([str(damaged)]) == 2
  assert _error_lines(capsys)[-1].startswith(f"error: tarball {damaged} is damaged: ")


def test_cli_checks_a_package_against_the_sha256sums_beside_it(synthetic_encoder, tmp_path, capsys):
  dist = tmp_path / "dist"
  package = dist / "toy" / "toy_1.tar.gz"
  package.parent.mkdir(parents=True)
  write_tarball(synthetic_encoder, package)
  manifest = write_manifest(dist)
  assert check_beside(package) == manifest
  altered = tmp_path / "altered"
  shutil.copytree(synthetic_encoder, altered)
  (altered / "assets" / "notes.txt").write_text("added after publishing\n")
  write_tarball(altered, package)
  assert verify.main([str(package)]) == 2
  assert _error_lines(capsys)[-1] == (f"error: {package} does not match its SHA-256 in {manifest}: "
                                      f"the package is damaged or altered")


def test_a_sha256sums_inside_the_saved_model_is_checked(synthetic_encoder, tmp_path):
  model = tmp_path / "model"
  shutil.copytree(synthetic_encoder, model)
  manifest = write_manifest(model)
  fingerprint = model / "fingerprint.pb"
  fingerprint.write_bytes(fingerprint.read_bytes()[::-1])
  with pytest.raises(HubExportError, match=f"^{fingerprint} does not match its SHA-256 in {manifest}"):
    verify_path(model)


def test_an_unlisted_or_missing_file_fails_the_inside_manifest(tmp_path):
  (tmp_path / "saved_model.pb").write_bytes(b"x")
  manifest = write_manifest(tmp_path)
  assert check_tree(tmp_path) == manifest
  (tmp_path / "extra.txt").write_text("x")
  with pytest.raises(HubExportError, match="extra.txt is not listed in"):
    check_tree(tmp_path)
  (tmp_path / "saved_model.pb").unlink()
  with pytest.raises(HubExportError, match="saved_model.pb is listed in .* but absent"):
    check_tree(tmp_path)


def test_cli_makes_a_json_report_folder_and_refuses_a_file_in_its_way_before_verifying(synthetic_encoder, tmp_path,
                                                                                         capsys, monkeypatch):
  report = tmp_path / "missing" / "r.json"
  assert verify.main([str(synthetic_encoder), "--json", str(report)]) == 0
  assert json.loads(report.read_text())["ok"] is True
  (tmp_path / "file").write_text("x")
  monkeypatch.setattr(verification, "verify_saved_model", None)  # never reached: the target is checked first
  report = tmp_path / "file" / "r.json"
  assert verify.main([str(synthetic_encoder), "--json", str(report)]) == 2
  assert _error_lines(capsys) == [f"error: cannot create the parent directory of {report}: {tmp_path / 'file'} "
                                  f"is not a directory"]


def test_cli_leaves_no_json_report_when_the_disk_is_full(synthetic_encoder, tmp_path, capsys, monkeypatch):
  reports = tmp_path / "reports"
  reports.mkdir()
  real_open = builtins.open

  def full_disk_open(file, mode="r", *args, **kwargs):
    handle = real_open(file, mode, *args, **kwargs)
    if "w" in mode and Path(file).parent == reports:
      handle.write = _no_space
    return handle

  monkeypatch.setattr(builtins, "open", full_disk_open)
  monkeypatch.setattr(io, "open", full_disk_open)
  assert verify.main([str(synthetic_encoder), "--json", str(reports / "r.json")]) == 2
  assert _error_lines(capsys)[-1] == f"error: cannot write {reports / 'r.json'}: No space left on device"
  assert list(reports.iterdir()) == []


def _no_space(*_):
  raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_cli_max_unpacked_mb_bounds_what_a_package_may_unpack_to(tmp_path, capsys):
  source = tmp_path / "source"
  source.mkdir()
  (source / "saved_model.pb").write_bytes(bytes(2 << 20))
  bomb = write_tarball(source, tmp_path / "bomb.tar.gz")
  assert verify.main([str(bomb), "--max_unpacked_mb", "1"]) == 2
  assert _error_lines(capsys)[-1] == (f"error: refusing to unpack {bomb}: it unpacks to more than 1.0 MiB "
                                      f"(verify --max_unpacked_mb raises the limit)")
