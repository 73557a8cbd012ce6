"""Two exports of one checkpoint, each made by its own fresh process the way the demo makes
them (encoder export, preprocessor export, publish), are byte-identical, and so is everything
published from them (tarballs, cards, metadata, SHA256SUMS). The exports skip their
fresh-process round trip, which only reads them (tests/support/release_dirs.without_fresh_process_check)."""

import os
import subprocess
import sys

import pytest

from conftest import REPO
from support.release_dirs import SPECIALS, tiny_vocab, write_tiny_release

WORDS = ["hello", "world"]  # plain words, from which publish reads the casing
pytestmark = pytest.mark.slow

_RUN = """
import sys
from pathlib import Path
from hub_export import publish
from hub_export.publishing.dist_folder import publish as write_dist
from hub_export.export_encoder import export_encoder
from hub_export.export_preprocessor import export as export_preprocessor
from support.release_dirs import without_fresh_process_check
release, vocab, run = map(Path, sys.argv[1:])
with without_fresh_process_check():
  export_encoder(release, run / "encoder", vocab=vocab, lower_case=True)
  export_preprocessor(vocab, run / "preprocessor", lower_case=True)
write_dist(publish.parse_args(["--encoder", str(run / "encoder"), "--preprocessor", str(run / "preprocessor"),
                              "--out", str(run / "dist"), "--name", "tiny_en_uncased", "--language", "en"]))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """Two independent runs, side by side."""
  root = tmp_path_factory.mktemp("reproducible")
  release = write_tiny_release(root / "release", seed=11)
  vocab = root / "vocab.txt"
  vocab.write_text("".join(f"{token}\n" for token in SPECIALS + WORDS + tiny_vocab(160 - len(WORDS))[len(SPECIALS):]))
  runs = [root / "run1", root / "run2"]
  for run in runs:
    run.mkdir()
  env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
  procs = [subprocess.Popen([sys.executable, "-c", _RUN, str(release), str(vocab), str(run)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for run in runs]
  for proc in procs:
    err = proc.communicate(timeout=900)[1]
    assert proc.returncode == 0, err[-3000:]
  return runs


def _files(directory) -> dict:
  return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("export", ["encoder", "preprocessor"])
def test_two_exports_of_one_checkpoint_are_byte_identical(runs, export):
  first, second = runs
  files = _files(first / export)
  assert {"saved_model.pb", "fingerprint.pb", "variables/variables.index", "assets/vocab.txt"} <= set(files)
  differing = [name for name, data in files.items() if _files(second / export).get(name) != data]
  assert not differing and set(files) == set(_files(second / export))


def test_what_is_published_from_them_is_byte_identical(runs):
  first, second = runs
  assert (first / "dist" / "SHA256SUMS").read_bytes() == (second / "dist" / "SHA256SUMS").read_bytes()
  assert _files(first / "dist") == _files(second / "dist")
  assert len([name for name in _files(first / "dist") if name.endswith(".tar.gz")]) == 2


def test_the_fingerprint_keeps_tensorflows_hashes_and_a_content_uuid(runs):
  import tensorflow as tf
  from tensorflow.core.protobuf import fingerprint_pb2

  from hub_export.savedmodel.reproducible import content_uuid

  export = runs[0] / "encoder"
  fingerprint = fingerprint_pb2.FingerprintDef()
  fingerprint.ParseFromString((export / "fingerprint.pb").read_bytes())
  assert fingerprint.uuid == content_uuid(fingerprint) and 0 <= int(fingerprint.uuid) < 2 ** 128
  read = tf.saved_model.experimental.read_fingerprint(str(export))  # TensorFlow still reads it
  assert read.saved_model_checksum == fingerprint.saved_model_checksum != 0
  assert read.singleprint() == tf.saved_model.experimental.read_fingerprint(str(runs[1] / "encoder")).singleprint()

