"""Atomic outputs: build beside the target, rename into place, never half-write.

Every command that writes a SavedModel or a package goes through `atomic_directory`, and
every single-file output (a .tflite model) through `atomic_file`, so a killed or failed
run leaves either nothing at the target or a complete result.

`--overwrite` replaces only what this project writes: each output directory comes with the
patterns of the files its kind holds (`ours`), and a target holding any other file is
refused, naming that file, before any work starts.
"""

import contextlib
import errno
import fcntl
import glob
import os
import re
import shutil
import tempfile
from pathlib import Path

from hub_export.support.errors import HubExportError
from hub_export.support.filenames import SAVED_MODEL_NAME

_TMP_TAG = ".tmp-"
_OLD_TAG = ".old-"
_PREVIOUS = "previous"  # the replaced export, inside an `.old-` directory until the new one is in place
# OS reasons a write into an export can fail for; TensorFlow buries them inside op messages.
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM)


# What a SavedModel directory holds (tf.saved_model.save, tf_keras): the files an export replaces.
SAVED_MODEL_FILES = (SAVED_MODEL_NAME, "fingerprint.pb", "keras_metadata.pb", "variables/variables.*",
                     "assets/**", "assets.extra/**")


def _is_within(path: Path, other: Path) -> bool:
  return path == other or other in path.parents


def _absolute_with_writable_parent(target) -> Path:
  """The absolute target; its nearest existing ancestor must be a writable directory (the
  missing folders between are made when the output is written)."""
  target = Path(target).expanduser().absolute()
  ancestor = target.parent
  while not (ancestor.exists() or ancestor.is_symlink()):
    ancestor = ancestor.parent
  if not ancestor.is_dir():
    raise HubExportError(f"cannot create the parent directory of {target}: {ancestor} is not a directory")
  if not os.access(ancestor, os.W_OK | os.X_OK):
    raise HubExportError(f"parent directory of {target} is not writable: {ancestor}")
  return target


def _pattern(pattern: str) -> re.Pattern:
  """A relative-path pattern as a regex: `*` stays inside one folder, `**` crosses folders."""
  parts = re.split(r"(\*\*|\*|\?)", pattern)
  wildcards = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
  return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts) + r"\Z")


def _foreign_file(directory: Path, ours) -> Path | None:
  """The first file (or link) under `directory` that no pattern in `ours` matches, if any."""
  patterns = [_pattern(p) for p in ours]
  for root, folders, files in os.walk(directory):
    folders.sort()
    links = [f for f in folders if os.path.islink(os.path.join(root, f))]  # os.walk does not enter them
    for name in sorted(files + links):
      path = Path(root, name)
      relative = path.relative_to(directory).as_posix()
      if not any(p.match(relative) for p in patterns):
        return path
  return None


def check_replaceable(directory: Path, ours) -> None:
  """Refuses to replace `directory` when it holds a file that is not one of `ours`, naming it."""
  foreign = _foreign_file(directory, ours)
  if foreign is not None:
    raise HubExportError(f"--overwrite would delete {foreign}, which an earlier run of this command did not "
                         f"write; choose another output directory or move that file away")


def check_target(target, overwrite: bool, protected=(), ours=SAVED_MODEL_FILES) -> Path:
  """Validates an output directory before any work starts; returns its absolute path.

  A non-empty target is replaced only with `overwrite`, and only when every file in it is
  one this kind of output writes (`ours`, patterns relative to the target).
  """
  target = _absolute_with_writable_parent(target)
  for source in protected:
    source = Path(source).expanduser().absolute()
    if _is_within(target.resolve(), source.resolve()) or _is_within(source.resolve(), target.resolve()):
      raise HubExportError(f"output {target} must not be, contain or sit inside the input {source}")
  if target.exists() or target.is_symlink():
    if not target.is_dir() or target.is_symlink():
      raise HubExportError(f"output {target} exists and is not a directory")
    if any(target.iterdir()):
      if not overwrite:
        raise HubExportError(f"output {target} exists and is not empty; pass --overwrite to replace it")
      check_replaceable(target, ours)
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
def atomic_directory(target, overwrite: bool = False, protected=(), ours=SAVED_MODEL_FILES):
  """Yields an empty temporary directory that becomes `target` only if the block succeeds.

  The temporary sits beside the target (same filesystem, so the final rename is atomic),
  is named `.NAME.tmp-*`, and is removed on any failure. A lock file refuses a second
  concurrent export to the same target. Missing parent folders are made.
  """
  target = check_target(target, overwrite, protected, ours)
  target.parent.mkdir(parents=True, exist_ok=True)
  with _lock(target):
    _remove_stale(target)
    check_target(target, overwrite, protected, ours)  # the lock holder's view is the one that counts
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


def check_file_target(target, overwrite: bool, protected=(), ours=None) -> Path:
  """Validates an output file path before any work starts; returns its absolute path.

  `ours(path)` says whether an existing file is one this command writes: `overwrite`
  replaces no other.
  """
  target = _absolute_with_writable_parent(target)
  for source in protected:
    source = Path(source).expanduser().absolute()
    if _is_within(target.resolve(), source.resolve()):
      raise HubExportError(f"output {target} must not be or sit inside the input {source}")
  if target.is_dir():
    raise HubExportError(f"output {target} is a directory, expected a file path")
  if target.exists() or target.is_symlink():
    if not overwrite:
      raise HubExportError(f"output {target} exists; pass --overwrite to replace it")
    if ours is not None and (target.is_symlink() or not ours(target)):
      raise HubExportError(f"--overwrite would replace {target}, which an earlier run of this command did not write; "
                           f"choose another output file or move that one away")
  return target


@contextlib.contextmanager
def atomic_file(target, overwrite: bool = False, protected=(), ours=None):
  """Yields a temporary file path beside `target` that replaces it only if the block succeeds.

  The temporary is named `.NAME.tmp-*` in the target's directory (so `os.replace` is
  atomic), is removed on any failure, and a lock refuses a concurrent write to `target`.
  """
  target = check_file_target(target, overwrite, protected, ours)
  target.parent.mkdir(parents=True, exist_ok=True)
  with _lock(target):
    check_file_target(target, overwrite, protected, ours)
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
