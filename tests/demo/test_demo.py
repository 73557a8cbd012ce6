"""The full-size demo end to end: journey, dist/ contents, reruns; and its vocab."""

import hashlib
import json
import re
import string

import pytest

from conftest import DEMO_EARLIER_RUN, DEMO_TEXT, run_demo
from hub_export.demo.run_demo import MODEL_NAME, PREPROCESSOR_NAME
from hub_export.demo.demo_vocab import demo_vocab
from hub_export.tokenization.vocab import load_vocab
from support import bert_reference_tokenizer as reference

def _journey_lines(stdout: str) -> dict:
  stages = {}
  for line in stdout.splitlines():
    label, _, value = line.partition(": ")
    stages[label] = json.loads(value)
  return stages


@pytest.mark.slow
def test_journey_matches_the_reference_tokenizer(demo_run):
  cwd, proc = demo_run
  stages = _journey_lines(proc.stdout)
  tokens = load_vocab(cwd / "demo_out" / "checkpoint" / "vocab.txt").tokens
  index = {token: i for i, token in enumerate(tokens)}
  pieces = [p for word in reference.basic_tokenize(DEMO_TEXT, lower_case=True)
            for p in reference.wordpiece(word, index)]

  assert stages["text"] == DEMO_TEXT
  assert stages["wordpieces"] == pieces
  assert "[UNK]" not in pieces and any(p.startswith("##") for p in pieces)
  assert stages["input_word_ids"] == [index["[CLS]"]] + [index[p] for p in pieces] + [index["[SEP]"]]
  assert stages["seq_length"] == 128
  assert stages["pooled_output shape"] == [1, 512]


@pytest.mark.slow
def test_commands_started_from_the_demo_checkpoint_need_no_lower_case_flag(demo_run, tmp_path):
  """The demo vocab is in no manifest: its casing travels in the checkpoint folder."""
  from hub_export.checkpoint.export_source import resolve_source
  from hub_export.pretraining_data import write_pretraining_data

  checkpoint = demo_run[0] / "demo_out" / "checkpoint"
  assert resolve_source(checkpoint).lower_case is True
  corpus = tmp_path / "corpus.txt"
  corpus.write_text("the cat sat on the mat.\nit was warm.\n\na second document.\nwith two lines.\n")
  assert write_pretraining_data(checkpoint / "vocab.txt", [corpus], tmp_path / "data", seq_length=16,
                                max_predictions=2)["lower_case"] is True


@pytest.mark.slow
def test_journey_pooled_output_is_the_checkpoints_model(demo_run):
  """What came out of the published tarballs equals the model restored from the demo's checkpoint."""
  import numpy as np
  import tensorflow as tf

  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert

  cwd, proc = demo_run
  stages = _journey_lines(proc.stdout)
  model, _ = load_mobilebert(locate_checkpoint(cwd / "demo_out" / "checkpoint"))
  ids = np.zeros([1, stages["seq_length"]], np.int32)
  ids[0, :len(stages["input_word_ids"])] = stages["input_word_ids"]
  inputs = {"input_word_ids": tf.constant(ids), "input_mask": tf.constant((ids > 0).astype(np.int32)),
            "input_type_ids": tf.zeros_like(ids)}
  pooled = model.encoder(inputs, training=False)["pooled_output"].numpy()[0]
  shown = stages["pooled_output[:4]"]
  assert len(shown) == 4 and np.abs(pooled).max() > 0
  np.testing.assert_allclose(shown, pooled[:4], rtol=1e-5, atol=2e-6)


@pytest.mark.slow
def test_stderr_holds_only_the_projects_own_lines(demo_run):
  _, proc = demo_run
  foreign = [line for line in proc.stderr.splitlines()
             if re.match(r"[IWEF]\d{4} ", line) or re.search(r"absl|cuInit|CUDA|cuda|oneDNN|pkg_resources", line)]
  assert not foreign, foreign[:5]
  assert "export the encoder done in" in proc.stderr


@pytest.mark.slow
def test_dist_holds_two_packages_cards_metadata_and_valid_checksums(demo_run):
  cwd, _ = demo_run
  dist = cwd / "dist"
  assert sorted(p.name for p in dist.iterdir()) == sorted(["SHA256SUMS", MODEL_NAME, PREPROCESSOR_NAME, "kaggle"])
  for name in (MODEL_NAME, PREPROCESSOR_NAME):
    assert (dist / name / f"{name}_1.tar.gz").is_file()
    assert (dist / name / "1.md").read_text().startswith(f"# Module local/{name}/1\n")
  json.loads((dist / "kaggle" / "model-metadata.json").read_text())
  variations = sorted((dist / "kaggle").glob("tensorFlow2/*/model-instance-metadata.json"))
  assert len(variations) == 2 and all(json.loads(p.read_text())["ownerSlug"] == "local" for p in variations)
  listed = {}
  for line in (dist / "SHA256SUMS").read_text().splitlines():
    digest, path = line.split("  ", 1)
    listed[path] = digest
  files = {p.relative_to(dist).as_posix(): p for p in dist.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}
  assert sorted(listed) == sorted(files)
  for path, digest in listed.items():
    assert hashlib.sha256(files[path].read_bytes()).hexdigest() == digest, path


@pytest.mark.slow
def test_overwrite_replaced_every_output_of_the_earlier_run(demo_run):
  cwd, _ = demo_run
  assert not [stale for stale in DEMO_EARLIER_RUN if (cwd / stale).exists()]
  assert (cwd / "demo_out" / "from_dist" / MODEL_NAME / "saved_model.pb").is_file()
  assert (cwd / "demo_out" / "from_dist" / PREPROCESSOR_NAME / "assets" / "vocab.txt").is_file()


@pytest.mark.slow
def test_rerun_without_overwrite_refuses_and_changes_nothing(demo_run):
  cwd, _ = demo_run
  sums = (cwd / "dist" / "SHA256SUMS").read_bytes()
  proc = run_demo(cwd)
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
  assert "pass --overwrite" in proc.stderr
  assert (cwd / "dist" / "SHA256SUMS").read_bytes() == sums


def test_overwrite_refuses_a_directory_the_demo_did_not_write(tmp_path):
  (tmp_path / "dist").mkdir()
  (tmp_path / "dist" / "my_release.tar.gz").write_bytes(b"precious")
  proc = run_demo(tmp_path, "--overwrite")
  assert proc.returncode == 2
  assert "my_release.tar.gz" in proc.stderr.strip().splitlines()[-1]
  assert (tmp_path / "dist" / "my_release.tar.gz").read_bytes() == b"precious"
  assert not (tmp_path / "demo_out").exists()


def test_out_and_dist_must_not_overlap(tmp_path):
  proc = run_demo(tmp_path, "--out", "same", "--dist", "same/dist")
  assert proc.returncode == 2 and "must not be, or contain, each other" in proc.stderr


def test_a_file_in_the_way_is_refused(tmp_path):
  (tmp_path / "dist").write_text("not a folder")
  proc = run_demo(tmp_path, "--overwrite")
  assert proc.returncode == 2 and "is not a directory" in proc.stderr.strip().splitlines()[-1]


def test_demo_vocab_has_release_special_ids_and_covers_ascii(tmp_path):
  tokens = demo_vocab()
  path = tmp_path / "vocab.txt"
  path.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
  vocab = load_vocab(path)  # the strict loader: no duplicates or blank lines, specials present
  assert vocab.size == 30522
  assert vocab.special_ids() == {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}
  assert tokens[1:100] == [f"[unused{i}]" for i in range(99)]
  for ch in string.ascii_lowercase + string.digits + string.punctuation:
    assert ch in vocab.tokens
  for ch in string.ascii_lowercase + string.digits:
    assert f"##{ch}" in vocab.tokens
  words = [t for t in tokens if t.isalpha() and len(t) > 1]
  assert 200 <= len(words) <= 1000
  assert tokens[-1].startswith("[unused")
