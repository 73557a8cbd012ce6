"""Atomic outputs: build beside the target, rename into place, never half-write.

Every command that writes a SavedModel or a package goes through `atomic_directory`, and
every single-file output (a .tflite model) through `atomic_file`, so a killed or failed
run leaves either nothing at the target or a complete result.
"""

import contextlib
import errno
import fcntl
import glob
import os
import shutil
import tempfile
from pathlib import Path

from hub_export.errors import HubExportError

_TMP_TAG = ".tmp-"
_OLD_TAG = ".old-"
_PREVIOUS = "previous"  # the replaced export, inside an `.old-` directory until the new one is in place
# OS reasons a write into an export can fail for; TensorFlow buries them inside op messages.
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM)


def _is_within(path: Path, other: Path) -> bool:
  return path == other or other in path.parents


def _absolute_with_writable_parent(target) -> Path:
  target = Path(target).expanduser().absolute()
  parent = target.parent
  if not parent.is_dir():
    raise HubExportError(f"parent directory of {target} does not exist: {parent}")
  if not os.access(parent, os.W_OK | os.X_OK):
    raise HubExportError(f"parent directory of {target} is not writable: {parent}")
  return target


def check_target(target, overwrite: bool, protected=()) -> Path:
  """Validates an output directory before any work starts; returns its absolute path."""
  target = _absolute_with_writable_parent(target)
  for source in protected:
    source = Path(source).expanduser().absolute()
    if _is_within(target.resolve(), source.resolve()) or _is_within(source.resolve(), target.resolve()):
      raise HubExportError(f"output {target} must not be, contain or sit inside the input {source}")
  if target.exists() or target.is_symlink():
    if not target.is_dir() or target.is_symlink():
      raise HubExportError(f"output {target} exists and is not a directory")
    if any(target.iterdir()) and not overwrite:
      raise HubExportError(f"output {target} exists and is not empty; pass --overwrite to replace it")
  return target


def _same_file(fd: int, path: Path) -> bool:
  try:
    return os.path.samestat(os.fstat(fd), os.stat(path))
  except FileNotFoundError:
    return False


@contextlib.contextmanager
def _lock(target: Path):
  lock_path = target.parent / f".{target.name}.lock"
  while True:
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      os.close(fd)
      raise HubExportError(f"another export to {target} is running (lock {lock_path} is held)") from None
    # The previous holder removes the file when it finishes; a lock on a file it removed
    # between our open and our flock guards nothing, so take the lock again on the new file.
    if _same_file(fd, lock_path):
      break
    os.close(fd)
  try:
    yield
  finally:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(lock_path)  # still holding the lock, so no other run is using this file
    os.close(fd)


def _remove_stale(target: Path) -> None:
  """Removes temporaries that killed runs left beside `target` (we hold its lock).

  A run killed between the two renames that replace an export left no target and the
  previous export in `.NAME.old-*/previous`: that one is put back, not deleted.
  """
  for tag in (_TMP_TAG, _OLD_TAG):
    for stale in target.parent.glob(f".{glob.escape(target.name)}{tag}*"):
      previous = stale / _PREVIOUS
      if tag == _OLD_TAG and previous.is_dir() and not (target.exists() or target.is_symlink()):
        os.rename(previous, target)
      shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(target, overwrite: bool = False, protected=()):
  """Yields an empty temporary directory that becomes `target` only if the block succeeds.

  The temporary sits beside the target (same filesystem, so the final rename is atomic),
  is named `.NAME.tmp-*`, and is removed on any failure. A lock file refuses a second
  concurrent export to the same target.
  """
  target = check_target(target, overwrite, protected)
  with _lock(target):
    _remove_stale(target)
    check_target(target, overwrite, protected)  # the lock holder's view is the one that counts
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{_TMP_TAG}", dir=target.parent))
    try:
      yield tmp
      os.chmod(tmp, 0o755)
      if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}{_OLD_TAG}", dir=target.parent))
        os.rename(target, old / _PREVIOUS)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
      else:
        os.rename(tmp, target)
    except BaseException:
      shutil.rmtree(tmp, ignore_errors=True)
      raise


def check_file_target(target, overwrite: bool, protected=()) -> Path:
  """Validates an output file path before any work starts; returns its absolute path."""
  target = _absolute_with_writable_parent(target)
  for source in protected:
    source = Path(source).expanduser().absolute()
    if _is_within(target.resolve(), source.resolve()):
      raise HubExportError(f"output {target} must not be or sit inside the input {source}")
  if target.is_dir():
    raise HubExportError(f"output {target} is a directory, expected a file path")
  if (target.exists() or target.is_symlink()) and not overwrite:
    raise HubExportError(f"output {target} exists; pass --overwrite to replace it")
  return target


@contextlib.contextmanager
def atomic_file(target, overwrite: bool = False, protected=()):
  """Yields a temporary file path beside `target` that replaces it only if the block succeeds.

  The temporary is named `.NAME.tmp-*` in the target's directory (so `os.replace` is
  atomic), is removed on any failure, and a lock refuses a concurrent write to `target`.
  """
  target = check_file_target(target, overwrite, protected)
  with _lock(target):
    check_file_target(target, overwrite, protected)
    for stale in target.parent.glob(f".{glob.escape(target.name)}{_TMP_TAG}*"):
      with contextlib.suppress(FileNotFoundError):
        os.unlink(stale)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}{_TMP_TAG}", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
      yield tmp
      os.chmod(tmp, 0o644)
      os.replace(tmp, target)
    except BaseException:
      with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
      raise


def write_failure(target, error: Exception) -> HubExportError:
  """The one-line error for a failed write into an export: disk full, file size limit, I/O error."""
  if isinstance(error, OSError) and error.strerror:
    reason = error.strerror
  else:
    text = (getattr(error, "message", None) or str(error)).strip()
    reason = next((os.strerror(code) for code in _WRITE_ERRNOS if os.strerror(code) in text),
                  text.splitlines()[0] if text else type(error).__name__)
  return HubExportError(f"cannot write {target}: {reason}")


@contextlib.contextmanager
def scratch_beside(staging):
  """Yields a new directory beside `staging` (an `atomic_directory`'s temporary) and removes it after the block.

  It is named after `staging`, so when a killed run leaves it behind, the next run's removal
  of `.NAME.tmp-*` temporaries removes it too.
  """
  staging = Path(staging)
  scratch = Path(tempfile.mkdtemp(prefix=f"{staging.name}-", dir=staging.parent))
  try:
    yield scratch
  finally:
    shutil.rmtree(scratch, ignore_errors=True)
