"""Small and read-only filesystems for fault tests: a size-limited tmpfs, a read-only tmpfs.

Mounting needs root with CAP_SYS_ADMIN on Linux; elsewhere the tests that need a mount
skip with the reason, and the injected-failure tests beside them still run.
"""

import contextlib
import hashlib
import subprocess
from pathlib import Path

import pytest


def _mount(*args) -> subprocess.CompletedProcess:
  return subprocess.run(["mount", *args], capture_output=True, text=True)


@contextlib.contextmanager
def tmpfs(path: Path, size: str, read_only: bool = False):
  """Mounts a tmpfs of `size` (e.g. '2m') at `path` for the block; skips when not allowed."""
  path.mkdir(parents=True, exist_ok=True)
  try:
    mounted = _mount("-t", "tmpfs", "-o", f"size={size},mode=755", "tmpfs", str(path))
  except FileNotFoundError:
    pytest.skip("no mount command on this machine")
  if mounted.returncode != 0:
    pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {mounted.stderr.strip()}")
  try:
    if read_only:
      remounted = _mount("-o", "remount,ro", str(path))
      assert remounted.returncode == 0, remounted.stderr
    yield path
  finally:
    subprocess.run(["umount", str(path)], check=True)


def tree_digest(directory: Path) -> dict:
  """{relative path: sha256} of every file under `directory`, to prove an input untouched."""
  return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(directory.rglob("*")) if p.is_file()}
