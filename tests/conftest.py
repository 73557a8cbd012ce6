"""Shared test plumbing: where ../shared lives, skipping without it (failing under CI=true), session fixtures."""

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hub_export.demo.run_demo import MODEL_NAME, PREPROCESSOR_NAME  # noqa: E402  (after the log level)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TINY = SHARED / "fixtures" / "mobilebert_tiny"
SUPPORT = REPO / "tests" / "support"  # the helper modules and the test data
GOLDEN_DIR = SUPPORT / "golden"
REFERENCE_ENCODER = TINY / "model_garden_hub_export"
REFERENCE_PREPROCESSOR = SHARED / "fixtures" / "model_garden_preprocess_en_uncased"


# The files that take minutes, longest first (each file's time in
# bench/results/2026-12-06-test-suite-threads-xeon.md). They are run first:
# with `--dist loadfile` each file stays in one worker, and a long file started last runs
# alone on one core while the other worker idles. scripts/test.sh passes
# --no-loadscope-reorder, which keeps this order (xdist's own puts files with the most
# tests first, and these have few). test_embed_corpus.py comes a few files after
# test_demo.py: its last test embeds with the exports of the demo run (`demo_run`), which
# the other worker should have finished by then.
LONGEST_FILES_FIRST = (
    "test_readme.py", "test_keras3.py", "test_export_tflite.py", "test_distill.py", "test_faults_crash.py",
    "test_kaggle_publish.py", "test_demo.py", "test_export_encoder.py", "test_keras3_full_size.py",
    "test_faults_fuzz_checkpoint.py", "test_export_preprocessor.py", "test_embed_corpus.py", "test_finetune.py",
    "test_preprocessor_keras_reload.py", "test_wheel.py", "test_mediapipe.py", "test_reproducible_exports.py",
    "test_evaluate_task.py", "test_text_input_tflite.py",
)


def pytest_collection_modifyitems(config, items):
  rank = {name: position for position, name in enumerate(LONGEST_FILES_FIRST)}
  items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: within a file, and the rest, as collected


def ci_requires_shared() -> bool:
  """Under CI (`CI=true`, as CI services set it) the shared material must be there."""
  return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_shared(path: Path) -> Path:
  """`path` (under ../shared) when it exists; else a skip, or under CI=true a failure.

  Every test that needs ../shared goes through here, so coverage never silently drops out
  of a CI run that lost the shared material.
  """
  if not path.exists():
    message = f"shared fixture {path} is absent (../shared not beside this checkout)"
    if ci_requires_shared():
      pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)
  return path


def shared_path(relative: str) -> Path:
  """A path under ../shared, given relative to it (see `require_shared`)."""
  return require_shared(SHARED / relative)


def require_fixture(path: Path) -> Path:
  """A shared reference SavedModel directory (see `require_shared`)."""
  require_shared(path / "saved_model.pb")
  return path


@pytest.fixture(scope="session", autouse=True)
def one_shot_graphs():
  """Grappler off in the test processes, as in the checking commands (`hub_export/support/one_shot_runtime.py`):
  a test runs each traced or loaded function on a few inputs once, so optimising the graph costs more than it
  saves (9% of two in-process test files' CPU time). It only rewrites graphs for speed; the processes the
  tests start as a user would keep their own setting."""
  from hub_export.support.one_shot_runtime import disable_graph_optimization

  disable_graph_optimization()


@pytest.fixture(scope="session")
def reference_encoder() -> Path:
  return require_fixture(REFERENCE_ENCODER)


@pytest.fixture(scope="session")
def reference_preprocessor() -> Path:
  return require_fixture(REFERENCE_PREPROCESSOR)


@pytest.fixture(scope="session")
def synthetic_encoder(tmp_path_factory) -> Path:
  from support.synthetic_savedmodels import build_encoder

  return build_encoder(tmp_path_factory.mktemp("synthetic") / "encoder")


@pytest.fixture(scope="session")
def synthetic_preprocessor(tmp_path_factory) -> Path:
  from support.synthetic_savedmodels import build_preprocessor

  return build_preprocessor(tmp_path_factory.mktemp("synthetic") / "preprocessor")


def built_once(tmp_path_factory, name: str, build) -> Path:
  """The folder `build(folder)` fills, built once per test session however many workers ask.

  pytest-xdist gives each worker its own session, so a plain session fixture is built once per
  worker; here the first worker to ask builds under a lock and the others wait for it and reuse
  the folder. Users must only read it.
  """
  base = tmp_path_factory.getbasetemp()
  if os.environ.get("PYTEST_XDIST_WORKER"):
    base = base.parent  # the workers' temporary folders share this parent
  folder, done = base / name, base / f"{name}.done"
  with open(base / f"{name}.lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
    if not done.exists():
      shutil.rmtree(folder, ignore_errors=True)  # what a worker's failed build left
      build(folder)
      done.touch()
  return folder


@pytest.fixture(scope="session")
def small_english_exports(tmp_path_factory):
  """A 2-layer encoder and its preprocessor for one real-word uncased vocab: (release, encoder, preprocessor).

  The vocab is built from the English corpus, so sentences tokenize into real wordpieces
  rather than [UNK]. Built once per session, without the commands' fresh-process round trip.
  """
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from hub_export.export_encoder import export_encoder
  from hub_export.export_preprocessor import export
  from support.release_dirs import tiny_config, without_fresh_process_check
  from support.tokenization_test_data import build_test_vocab, corpus

  def build(root):
    tokens = build_test_vocab(corpus("english"), lower_case=True)
    release = write_release_checkpoint(root / "release", tiny_config(vocab_size=len(tokens)), seed=5,
                                       vocab_lines=tokens)
    with without_fresh_process_check():
      export_encoder(release, root / "encoder", lower_case=True)
      export(release / "vocab.txt", root / "preprocessor", lower_case=True)

  root = built_once(tmp_path_factory, "small_english", build)
  return root / "release", root / "encoder", root / "preprocessor"


DEMO_TEXT = "MobileBERT runs on phones: the demo's tokenizer splits unknown words!"
# Files of the kinds an earlier demo run leaves in each output; the run must replace every one.
DEMO_EARLIER_RUN = ("demo_out/checkpoint/stale.json", "demo_out/export/encoder/assets/stale.txt",
                    f"demo_out/from_dist/{MODEL_NAME}/assets/stale.txt", f"dist/{MODEL_NAME}/0.md",
                    f"dist/{PREPROCESSOR_NAME}/0.md", "dist/kaggle/stale.txt")


def run_demo(cwd, *args) -> subprocess.CompletedProcess:
  """A newcomer's `python -m hub_export.demo` run: no TF_CPP_MIN_LOG_LEVEL of their own."""
  environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  return subprocess.run([sys.executable, "-m", "hub_export.demo", *args], capture_output=True, text=True,
                        cwd=cwd, env={**environ, "PYTHONPATH": str(REPO)}, timeout=900)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
  """One full-size demo run with the default ./demo_out and ./dist, over the outputs of an earlier
  run: (the folder it ran in, the finished process). Once per session: tests/demo/test_demo.py checks
  it, and the full-size Beam test embeds with its exports."""
  def build(folder):
    cwd = folder / "run"
    for stale in DEMO_EARLIER_RUN:
      (cwd / stale).parent.mkdir(parents=True, exist_ok=True)
      (cwd / stale).write_text("from an earlier run\n")
    proc = run_demo(cwd, "--text", DEMO_TEXT, "--overwrite")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
    (folder / "stderr.txt").write_text(proc.stderr, encoding="utf-8")

  folder = built_once(tmp_path_factory, "demo", build)
  return folder / "run", subprocess.CompletedProcess(["python", "-m", "hub_export.demo"], 0,
                                                     (folder / "stdout.txt").read_text(encoding="utf-8"),
                                                     (folder / "stderr.txt").read_text(encoding="utf-8"))
