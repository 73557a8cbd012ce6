"""Bad output targets: read-only parents, outputs overlapping the inputs, concurrent runs.

Every refusal happens before any work is written and leaves the inputs byte-identical.
Two processes exporting to one target at the same moment are in test_faults_crash.py
(the first one is paused inside the lock there); here the lock is held by the test.
"""

import fcntl
import os

import pytest

from hub_export import publish
from hub_export.export_encoder import export_encoder
from hub_export.export_preprocessor import export as export_preprocessor
from hub_export.support.atomic import atomic_directory
from hub_export.support.errors import HubExportError
from support.fault_mounts import tmpfs, tree_digest
from support.release_dirs import write_tiny_release


@pytest.fixture(scope="module")
def release(tmp_path_factory):
  return write_tiny_release(tmp_path_factory.mktemp("targets") / "release", seed=23)


@pytest.fixture
def read_only_dir(tmp_path):
  """A directory no export may write into: a read-only tmpfs for root (whom chmod does not stop)."""
  if os.geteuid() == 0:
    with tmpfs(tmp_path / "read_only", "64k", read_only=True) as mount:
      yield mount
  else:
    path = tmp_path / "read_only"
    path.mkdir(mode=0o555)
    yield path
    path.chmod(0o755)


def test_read_only_parent_is_refused_before_any_work(release, read_only_dir):
  assert not os.access(read_only_dir, os.W_OK)  # the check the exporters rely on, also for root
  target = read_only_dir / "encoder"
  with pytest.raises(HubExportError, match=f"^parent directory of {target} is not writable: {read_only_dir}$"):
    export_encoder(release, target, lower_case=True)
  with pytest.raises(HubExportError, match=f"^parent directory of {read_only_dir / 'a' / 'b'} is not writable: "):
    export_encoder(release, read_only_dir / "a" / "b", lower_case=True)  # the missing parent cannot be made
  with pytest.raises(HubExportError, match="is not writable"):
    export_preprocessor(release / "vocab.txt", read_only_dir / "preprocessor", lower_case=True)
  assert list(read_only_dir.iterdir()) == []


@pytest.mark.parametrize("where", ["same", "inside", "parent", "symlink", "through_symlinked_parent"])
def test_export_overlapping_the_checkpoint_is_refused_even_with_overwrite(release, tmp_path, where):
  before = tree_digest(release)
  if where == "same":
    target = release
  elif where == "inside":
    target = release / "export"
  elif where == "parent":  # --overwrite would replace the directory holding the checkpoint
    target = release.parent
  elif where == "symlink":
    target = tmp_path / "alias"
    target.symlink_to(release, target_is_directory=True)
  else:
    (tmp_path / "link").symlink_to(release, target_is_directory=True)
    target = tmp_path / "link" / "export"
  with pytest.raises(HubExportError, match=f"must not be, contain or sit inside the input {release}$"):
    export_encoder(release, target, lower_case=True, overwrite=True)
  assert tree_digest(release) == before
  assert not (release / "export").exists()


def test_preprocessor_and_publish_refuse_to_overwrite_their_inputs(release, synthetic_encoder, tmp_path):
  vocab_copy = tmp_path / "vocab_dir" / "vocab.txt"
  vocab_copy.parent.mkdir()
  vocab_copy.write_bytes((release / "vocab.txt").read_bytes())
  with pytest.raises(HubExportError, match="must not be, contain or sit inside the input"):
    export_preprocessor(vocab_copy, vocab_copy.parent, lower_case=True, overwrite=True)
  assert vocab_copy.read_bytes() == (release / "vocab.txt").read_bytes()

  before = tree_digest(synthetic_encoder)
  code = publish.main(["--encoder", str(synthetic_encoder), "--out", str(synthetic_encoder / "dist"),
                       "--name", "toy", "--language", "en"])
  assert code == 2
  assert tree_digest(synthetic_encoder) == before


def test_export_while_another_holds_the_lock_fails_clearly(release, tmp_path):
  target = tmp_path / "encoder"
  lock_path = tmp_path / ".encoder.lock"
  fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with pytest.raises(HubExportError, match=f"^another export to {target} is running \\(lock {lock_path} is held\\)$"):
      export_encoder(release, target, lower_case=True)
  finally:
    os.close(fd)
  assert sorted(p.name for p in tmp_path.iterdir()) == [".encoder.lock"]  # ours; the refused run left nothing


def test_lock_on_a_file_its_holder_just_removed_is_taken_again(tmp_path, monkeypatch):
  """Run B opens the lock file, the holder finishes and removes it, then B's flock succeeds on
  the removed file. B must lock the file at the lock path instead, or a third run could too."""
  target = tmp_path / "out"
  lock_path = tmp_path / ".out.lock"
  lock_path.touch()  # left by the previous holder, about to be removed
  real_flock = fcntl.flock
  removed = []

  def holder_leaves_between_open_and_flock(fd, operation):
    if not removed:
      removed.append(lock_path)
      lock_path.unlink()
    return real_flock(fd, operation)

  monkeypatch.setattr(fcntl, "flock", holder_leaves_between_open_and_flock)
  with atomic_directory(target) as tmp:
    (tmp / "done").write_text("B")
    with pytest.raises(HubExportError, match="another export to .* is running"):
      with atomic_directory(target):
        pass
  assert removed and (target / "done").read_text() == "B"


def test_stale_temporaries_of_a_target_with_glob_characters(tmp_path):
  """'.run[1].tmp-*' is this target's leftover; '.run1.tmp-*' is another target's work in progress."""
  own = tmp_path / ".run[1].tmp-killed"
  other = tmp_path / ".run1.tmp-running"
  for path in (own, other):
    path.mkdir()
    (path / "saved_model.pb").write_bytes(b"partial")
  with atomic_directory(tmp_path / "run[1]") as tmp:
    (tmp / "saved_model.pb").write_bytes(b"complete")
  assert sorted(p.name for p in tmp_path.iterdir()) == [".run1.tmp-running", "run[1]"]
  assert (other / "saved_model.pb").read_bytes() == b"partial"
