"""Every code block of README.md and of the docs pages runs as written, in order, against small exports.

The files are read in the order of DOCS and their blocks run as one sequence in one folder, so a
block may use what an earlier block of any file made (the README's recipe saves the classifier
that docs/export.md serves and docs/on_device.md converts). Python blocks run in a fresh
interpreter with the placeholder paths (`path/to/...`) replaced by exports made here; shell
blocks run in bash. The release recipe downloads with `curl`: a `curl` earlier on PATH serves a
tarball of a small checkpoint in the release layout, with the real English vocab, instead, so
every other line of the recipe runs unchanged. A block that cannot run offline is preceded by
`<!-- readme-test: skip (reason) -->`.
"""

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import REPO, shared_path
from hub_export.checkpoint.tf1_release import write_release_checkpoint
from support.release_dirs import tiny_config

SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
PLACEHOLDER = re.compile(r"path/to/[\w.-]+")
SHELL_LANGS = ("", "bash", "sh", "shell")
RELEASE_FOLDER = "uncased_L-24_H-128_B-512_A-4_F-4_OPT"
pytestmark = pytest.mark.slow


FAKE_CURL = """#!/usr/bin/env bash
# Offline stand-in for `curl -LO URL`: saves the test's release tarball under the URL's file name.
set -eu
url="${@: -1}"
cp "$README_TEST_TARBALL" "./${url##*/}"
"""


def readme_blocks(text: str):
  """(line number, language, code, skip reason or None) for each fenced block, in order."""
  blocks, lines, i = [], text.splitlines(), 0
  while i < len(lines):
    opening = FENCE.match(lines[i])
    if not opening:
      i += 1
      continue
    previous = next((line for line in reversed(lines[:i]) if line.strip()), "")
    skip = SKIP.search(previous)
    end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
    blocks.append((i + 1, opening["lang"], "\n".join(lines[i + 1:end]) + "\n", skip and skip["reason"]))
    i = end + 1
  return blocks


# The pages whose blocks run, in running order: the README first, then every page under docs/.
DOCS = ("README.md", "docs/export.md", "docs/publishing.md", "docs/verify.md", "docs/keras3.md",
        "docs/on_device.md", "docs/beam.md", "docs/training.md", "docs/tasks.md", "docs/design.md",
        "docs/testing.md")
# (file, line, language, code, skip reason or None) for every block of DOCS, in running order.
BLOCKS = [(name, *block) for name in DOCS for block in readme_blocks((REPO / name).read_text(encoding="utf-8"))]


def test_every_docs_page_is_listed():
  """A new page under docs/ runs its blocks too: it must be given its place in DOCS."""
  assert sorted(str(path.relative_to(REPO)) for path in (REPO / "docs").glob("*.md")) == sorted(DOCS[1:])


def test_readme_has_runnable_blocks():
  langs = [lang for _, _, lang, _, skip in BLOCKS if not skip]
  assert "python" in langs and any(lang in SHELL_LANGS for lang in langs)
  unknown = [(f"{name}:{line}", lang) for name, line, lang, _, _ in BLOCKS if lang not in ("python", *SHELL_LANGS)]
  assert not unknown, f"blocks in a language this test cannot run: {unknown}"


@pytest.fixture(scope="module")
def workspace(small_english_exports, tmp_path_factory):
  """The folder the blocks run in, the placeholder table, and the environment."""
  _, encoder, preprocessor = small_english_exports
  root = tmp_path_factory.mktemp("readme")
  vocab = shared_path("vocab/bert_en_uncased_vocab.txt").read_text(encoding="utf-8").splitlines()
  release = write_release_checkpoint(root / "release", tiny_config(vocab_size=len(vocab)), seed=1, vocab_lines=vocab)
  tarball = root / "release.tar.gz"
  with tarfile.open(tarball, "w:gz") as archive:
    archive.add(release, arcname=RELEASE_FOLDER)
  tools = root / "bin"
  tools.mkdir()
  (tools / "curl").write_text(FAKE_CURL)
  (tools / "curl").chmod(0o755)
  cwd = root / "cwd"
  # `source .venv/bin/activate`, as the recipes say, puts this interpreter first on PATH.
  activate = cwd / ".venv" / "bin" / "activate"
  activate.parent.mkdir(parents=True)
  activate.write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
  (cwd / "export").mkdir()
  # $CKPT, where a block needs a checkpoint: the small release the tarball holds.
  env = dict(os.environ, HOME=str(root / "home"), README_TEST_TARBALL=str(tarball), CKPT=str(release),
             PATH=f"{tools}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
  (root / "home").mkdir()
  placeholders = {"path/to/preprocessor": str(preprocessor), "path/to/encoder": str(encoder),
                  "path/to/keras_preset": str(cwd / "export" / "keras_preset"),
                  "path/to/finetuned_preset": str(cwd / "finetuned_preset")}
  return cwd, placeholders, env


def _substitute(code: str, placeholders: dict, where: str) -> str:
  unknown = sorted(set(PLACEHOLDER.findall(code)) - set(placeholders))
  assert not unknown, f"{where}: no test export stands for {unknown}; add it to the placeholder table"
  for placeholder, path in placeholders.items():
    code = code.replace(placeholder, path)
  return code


@pytest.fixture(scope="module")
def ran(workspace):
  """Runs the blocks in DOCS order in one folder: [("FILE:LINE", language, CompletedProcess)]."""
  cwd, placeholders, env = workspace
  results = []
  for name, line, lang, code, skip in BLOCKS:
    if skip:
      continue
    code = _substitute(code, placeholders, f"{name}:{line}")
    command = [sys.executable, "-c", code] if lang == "python" else ["bash", "-euo", "pipefail", "-c", code]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    results.append((f"{name}:{line}", lang or "shell", result))
    if result.returncode:
      break  # later blocks may build on this one
  return results


def test_every_block_runs(ran):
  for where, lang, result in ran:
    assert result.returncode == 0, (f"{where} ({lang}) exited {result.returncode}\n"
                                    f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
  assert len(ran) == sum(1 for block in BLOCKS if not block[4])


def test_the_recipes_left_what_they_promise(ran, workspace):
  """What the blocks wrote: published tarballs that verify, and a classifier that serves strings."""
  cwd, _, env = workspace
  assert all(result.returncode == 0 for _, _, result in ran)
  dist = Path(env["HOME"]) / "mobilebert" / "dist"
  name = "mobilebert_en_uncased_L-24_H-128_B-512_A-4_F-4_OPT"
  assert (dist / name / f"{name}_1.tar.gz").is_file()
  assert (dist / f"{name}_preprocess" / f"{name}_preprocess_1.tar.gz").is_file()
  served = [result.stdout for _, _, result in ran if "saved_model_cli" in result.args[-1]]
  assert served and re.search(r"Result for output key \w+:\s*\[\[[-0-9.e ]+\]\s*\[[-0-9.e ]+\]\]", served[0])
