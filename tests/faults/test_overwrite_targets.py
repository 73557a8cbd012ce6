"""--overwrite replaces only what this project wrote; missing parents are made; targets are checked first.

A folder like a home folder (`.bashrc`, `notes.txt`, `projects/thesis.tex`) given as the output
of any command with --overwrite is refused in one line naming a file it would have lost, and
nothing in it changes. An earlier run's output is still replaced.
"""

import json

import pytest

from hub_export import convert_checkpoint, distill, embed_corpus, export_encoder, export_keras, export_preprocessor
from hub_export import export_tflite, pretraining_data, publish
from hub_export.support import cli
from hub_export.support.atomic import SAVED_MODEL_FILES, atomic_directory, atomic_file, check_target
from hub_export.support.errors import HubExportError
from support.distill_setup import build as build_distill_inputs, distill_argv
from support.fault_mounts import tree_digest
from support.release_dirs import without_fresh_process_check, write_tiny_release


@pytest.fixture(scope="module")
def release(tmp_path_factory):
  return write_tiny_release(tmp_path_factory.mktemp("overwrite") / "release", seed=29)


@pytest.fixture(scope="module")
def distill_inputs(tmp_path_factory):
  return build_distill_inputs(tmp_path_factory.mktemp("distill_inputs"))


@pytest.fixture
def home(tmp_path):
  home = tmp_path / "home"
  (home / "projects").mkdir(parents=True)
  (home / ".bashrc").write_text("alias ll='ls -l'\n")
  (home / "notes.txt").write_text("keep me\n")
  (home / "projects" / "thesis.tex").write_text("\\documentclass{article}\n")
  return home


def _argv(command, release, distill_inputs, home, tmp_path):
  """The command's argv writing into `home` with --overwrite (the inputs are valid)."""
  vocab = str(release / "vocab.txt")
  text = tmp_path / "corpus.txt"
  text.write_text("One sentence here.\nAnother one there.\n\nA second document.\nWith two lines.\n")
  fake_model = tmp_path / "model"
  fake_model.mkdir()
  (fake_model / "saved_model.pb").write_bytes(b"")  # refused before anything reads it
  return {
      "export_encoder": (export_encoder, ["--ckpt", release, "--export_dir", home, "--lower_case", "true"]),
      "export_preprocessor": (export_preprocessor, ["--vocab", vocab, "--export_dir", home, "--lower_case", "true"]),
      "export_keras": (export_keras, ["--ckpt", release, "--preset_dir", home, "--lower_case", "true"]),
      "convert_checkpoint": (convert_checkpoint, ["--ckpt", release, "--out", home / "mobilebert"]),
      "pretraining_data": (pretraining_data, ["--vocab", vocab, "--input", text, "--out", home,
                                              "--lower_case", "true"]),
      "embed_corpus": (embed_corpus, ["--encoder", fake_model, "--preprocessor", fake_model, "--input", text,
                                      "--output", home]),
      "publish": (publish, ["--encoder", fake_model, "--out", home, "--name", "toy", "--language", "en"]),
      "distill": (distill, distill_argv(distill_inputs, home)),
  }[command]


@pytest.mark.parametrize("command", ["export_encoder", "export_preprocessor", "export_keras", "convert_checkpoint",
                                     "pretraining_data", "embed_corpus", "publish", "distill"])
def test_overwrite_refuses_a_folder_it_did_not_write(command, release, distill_inputs, home, tmp_path, capsys):
  module, argv = _argv(command, release, distill_inputs, home, tmp_path)
  before = tree_digest(home)
  entry = publish._run if module is publish else module._main
  assert cli.run(entry, [str(a) for a in argv] + ["--overwrite"]) == 2
  errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and errors[0].startswith("error: --overwrite would delete "), errors
  assert f"{home}/" in errors[0] and "which an earlier run of this command did not write" in errors[0]
  assert tree_digest(home) == before
  assert sorted(p.name for p in home.parent.iterdir()) == sorted(["home", "corpus.txt", "model"])  # no temporaries


def test_export_tflite_overwrite_replaces_only_a_litert_file(release, tmp_path, capsys):
  profile = tmp_path / ".profile"
  profile.write_text("export PATH\n")
  argv = ["--ckpt", str(release), "--out", str(profile), "--lower_case", "true", "--overwrite"]
  assert cli.run(export_tflite._main, argv) == 2
  assert capsys.readouterr().err.strip() == (f"error: --overwrite would replace {profile}, which an earlier run of "
                                             f"this command did not write; choose another output file or move that "
                                             f"one away")
  assert profile.read_text() == "export PATH\n"
  earlier = tmp_path / "model.tflite"
  earlier.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(24))  # a LiteRT file's header: replaceable
  with atomic_file(earlier, overwrite=True, ours=lambda path: path.read_bytes()[4:8] == b"TFL3") as tmp:
    tmp.write_bytes(b"new")
  assert earlier.read_bytes() == b"new"


def test_an_earlier_export_is_replaced_and_patterns_stay_inside_their_folder(tmp_path):
  target = tmp_path / "encoder"
  for name in ("saved_model.pb", "fingerprint.pb", "variables/variables.index", "assets/vocab.txt"):
    (target / name).parent.mkdir(parents=True, exist_ok=True)
    (target / name).write_text("old")
  with atomic_directory(target, overwrite=True) as tmp:
    (tmp / "saved_model.pb").write_text("new")
  assert sorted(p.name for p in target.iterdir()) == ["saved_model.pb"]

  (target / "variables").mkdir()
  (target / "variables" / "notes" / "variables.index").parent.mkdir()
  (target / "variables" / "notes" / "variables.index").write_text("mine")  # `*` does not cross folders
  with pytest.raises(HubExportError, match=r"would delete .*/variables/notes/variables\.index, "):
    check_target(target, overwrite=True, ours=SAVED_MODEL_FILES)
  (target / "variables" / "notes" / "variables.index").unlink()
  (target / "link").symlink_to(tmp_path)  # a link is named, never followed
  with pytest.raises(HubExportError, match=r"would delete .*/encoder/link, "):
    check_target(target, overwrite=True, ours=SAVED_MODEL_FILES)


def test_missing_parents_are_made(release, tmp_path, capsys):
  target = tmp_path / "no" / "such" / "preprocessor"
  with without_fresh_process_check():
    assert cli.run(export_preprocessor._main, ["--vocab", str(release / "vocab.txt"), "--export_dir", str(target),
                                               "--lower_case", "true"]) == 0
  assert (target / "saved_model.pb").is_file()
  assert sorted(p.name for p in target.parent.iterdir()) == ["preprocessor"]
  with atomic_file(tmp_path / "deeper" / "still" / "out.json") as tmp:
    tmp.write_text(json.dumps({}))
  assert (tmp_path / "deeper" / "still" / "out.json").read_text() == "{}"


def test_a_file_in_the_way_of_the_parents_is_one_line(release, tmp_path, capsys):
  (tmp_path / "file").write_text("x")
  target = tmp_path / "file" / "sub" / "encoder"
  assert cli.run(export_encoder._main, ["--ckpt", str(release), "--export_dir", str(target),
                                        "--lower_case", "true"]) == 2
  assert capsys.readouterr().err.strip() == (f"error: cannot create the parent directory of {target}: "
                                             f"{tmp_path / 'file'} is not a directory")


def test_publish_checks_its_out_before_reading_the_models(tmp_path, capsys, monkeypatch):
  from hub_export.publishing import facts

  def read(*args, **kwargs):
    raise AssertionError("read a model before checking --out")

  monkeypatch.setattr(facts, "encoder_facts", read)
  encoder = tmp_path / "encoder"
  encoder.mkdir()
  (encoder / "saved_model.pb").write_bytes(b"")
  out = tmp_path / "dist"
  out.mkdir()
  (out / "notes.txt").write_text("x")
  assert cli.run(publish._run, ["--encoder", str(encoder), "--out", str(out), "--name", "toy",
                                "--language", "en"]) == 2
  error = capsys.readouterr().err.strip()
  assert error == f"error: output {out} exists and is not empty; pass --overwrite to replace it"
