"""The contract checks: PASS on good exports, a named FAIL for each deliberate flaw."""

import io
import subprocess
import sys
import tarfile

import pytest
import tensorflow as tf

from hub_export import verify
from hub_export.hub_format.tarball import write_tarball
from hub_export.verification import verify_path
from synthetic_savedmodels import EncoderFlaws, PreprocessorFlaws, build_encoder, build_preprocessor


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
