"""Two exports of one checkpoint, each by its own command run, are byte-identical, and so is
everything published from them (tarballs, cards, metadata, SHA256SUMS). The runs also show
what a newcomer sees on stderr: the project's own lines only."""

import os
import re
import subprocess
import sys

import pytest

from hub_export import publish
from release_dirs import SPECIALS, tiny_vocab, write_tiny_release

WORDS = ["hello", "world"]


def _command(module, *args) -> subprocess.Popen:
  environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # a newcomer's environment
  return subprocess.Popen([sys.executable, "-m", f"hub_export.{module}", *map(str, args)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=environ)


def _finish(procs) -> list:
  errs = [proc.communicate(timeout=900)[1] for proc in procs]
  for proc, err in zip(procs, errs):
    assert proc.returncode == 0, err[-3000:]
  return errs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """Two independent runs, side by side: encoder export, preprocessor export, publish."""
  root = tmp_path_factory.mktemp("reproducible")
  release = write_tiny_release(root / "release", seed=11)
  vocab = root / "vocab.txt"  # with plain words, from which publish reads the casing
  vocab.write_text("".join(f"{token}\n" for token in SPECIALS + WORDS + tiny_vocab(160 - len(WORDS))[len(SPECIALS):]))
  runs = [root / "run1", root / "run2"]
  for run in runs:
    run.mkdir()
  errs = _finish([_command("export_encoder", "--ckpt", release, "--vocab", vocab, "--export_dir", run / "encoder",
                           "--lower_case", "true") for run in runs])
  errs += _finish([_command("export_preprocessor", "--vocab", vocab, "--export_dir", run / "preprocessor",
                            "--lower_case", "true") for run in runs])
  for run in runs:
    assert publish.main(["--encoder", str(run / "encoder"), "--preprocessor", str(run / "preprocessor"),
                         "--out", str(run / "dist"), "--name", "tiny_en_uncased", "--language", "en"]) == 0
  return runs, errs


def _files(directory) -> dict:
  return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("export", ["encoder", "preprocessor"])
def test_two_exports_of_one_checkpoint_are_byte_identical(runs, export):
  (first, second), _ = runs
  files = _files(first / export)
  assert {"saved_model.pb", "fingerprint.pb", "variables/variables.index", "assets/vocab.txt"} <= set(files)
  differing = [name for name, data in files.items() if _files(second / export).get(name) != data]
  assert not differing and set(files) == set(_files(second / export))


def test_what_is_published_from_them_is_byte_identical(runs):
  (first, second), _ = runs
  assert (first / "dist" / "SHA256SUMS").read_bytes() == (second / "dist" / "SHA256SUMS").read_bytes()
  assert _files(first / "dist") == _files(second / "dist")
  assert len([name for name in _files(first / "dist") if name.endswith(".tar.gz")]) == 2


def test_the_fingerprint_keeps_tensorflows_hashes_and_a_content_uuid(runs):
  import tensorflow as tf
  from tensorflow.core.protobuf import fingerprint_pb2

  from hub_export.savedmodel.reproducible import content_uuid

  export = runs[0][0] / "encoder"
  fingerprint = fingerprint_pb2.FingerprintDef()
  fingerprint.ParseFromString((export / "fingerprint.pb").read_bytes())
  assert fingerprint.uuid == content_uuid(fingerprint) and 0 <= int(fingerprint.uuid) < 2 ** 128
  read = tf.saved_model.experimental.read_fingerprint(str(export))  # TensorFlow still reads it
  assert read.saved_model_checksum == fingerprint.saved_model_checksum != 0
  assert read.singleprint() == tf.saved_model.experimental.read_fingerprint(str(runs[0][1] / "encoder")).singleprint()


def test_every_command_run_printed_only_the_projects_lines(runs):
  _, errs = runs
  for err in errs:
    foreign = [line for line in err.splitlines()
               if re.match(r"[IWEF]\d{4} ", line) or re.search(r"absl|cuInit|CUDA|cuda|oneDNN|pkg_resources", line)]
    assert not foreign, foreign[:5]
