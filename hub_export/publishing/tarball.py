"""Deterministic TF-Hub tarballs, and safe unpacking of tarballs we did not write.

A TF-Hub compressed model is a `.tar.gz` whose root *is* the SavedModel (`saved_model.pb`,
`variables/`, `assets/` at the top, no leading folder), holding only regular files and
directories. Writing it with fixed metadata makes two publications of the same export
byte-identical, so a checksum identifies the model rather than the moment it was packed.
"""

import gzip
import os
import shutil
import stat
import tarfile
from pathlib import Path, PurePosixPath

from hub_export.errors import HubExportError

FILE_MODE = 0o644
DIR_MODE = 0o755
FIXED_MTIME = 0
GZIP_LEVEL = 6
_COPY_CHUNK = 1 << 20


def _entries(root: Path) -> list:
  """(archive name, path) for everything under `root`, sorted by name; refuses non-regular files."""
  entries = []
  for dirpath, dirnames, filenames in os.walk(root):
    base = Path(dirpath)
    for name in dirnames + filenames:
      path = base / name
      mode = path.lstat().st_mode
      arcname = path.relative_to(root).as_posix()
      if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise HubExportError(f"cannot package {path}: only regular files and directories may go into a "
                             f"TF-Hub tarball ({arcname} is a link or special file)")
      entries.append((arcname, path))
  return sorted(entries)


def _tarinfo(arcname: str, path: Path) -> tarfile.TarInfo:
  info = tarfile.TarInfo(arcname)
  info.uid = info.gid = 0
  info.uname = info.gname = ""
  info.mtime = FIXED_MTIME
  if path.is_dir():
    info.type = tarfile.DIRTYPE
    info.mode = DIR_MODE
  else:
    info.type = tarfile.REGTYPE
    info.mode = FILE_MODE
    info.size = path.stat().st_size
  return info


def write_tarball(saved_model_dir, tarball) -> Path:
  """Packs `saved_model_dir` into `tarball` (.tar.gz) with sorted entries and fixed metadata.

  Owner 0/'' , mtime 0, modes 0644/0755, and a gzip header with mtime 0 and no file name:
  the output depends on the files' names and bytes only.
  """
  source = Path(saved_model_dir)
  if not (source / "saved_model.pb").is_file():
    raise HubExportError(f"{source} is not a SavedModel directory (no saved_model.pb)")
  tarball = Path(tarball)
  with open(tarball, "wb") as raw, \
       gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=FIXED_MTIME, compresslevel=GZIP_LEVEL) as gz, \
       tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
    for arcname, path in _entries(source):
      info = _tarinfo(arcname, path)
      if info.isdir():
        tar.addfile(info)
      else:
        with open(path, "rb") as f:
          tar.addfile(info, f)
  return tarball


def _unsafe_reason(member: tarfile.TarInfo) -> str | None:
  """Says why an entry must not be unpacked, or None if it is a plain file or directory in place."""
  if member.issym():
    return f"is a symbolic link (to {member.linkname!r})"
  if member.islnk():
    return f"is a hard link (to {member.linkname!r})"
  if member.ischr() or member.isblk():
    return "is a device file"
  if member.isfifo():
    return "is a FIFO"
  if not (member.isfile() or member.isdir()):
    return "is not a regular file or directory"
  name = member.name
  if not name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
    return "has an absolute path"
  if ".." in PurePosixPath(name).parts:
    return "has a '..' component that would escape the target directory"
  return None


def safe_extract(tarball, target) -> Path:
  """Unpacks `tarball` into the empty directory `target`, refusing anything but files and dirs.

  Every entry is checked before anything is written; the first offending one is named in
  the error. Modes are normalised to 0644/0755 whatever the archive says.
  """
  tarball, target = Path(tarball), Path(target)
  try:
    tar = tarfile.open(tarball, mode="r:*")
  except (tarfile.TarError, OSError) as e:
    raise HubExportError(f"cannot read tarball {tarball}: {e}") from None
  with tar:
    try:
      members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as e:
      raise HubExportError(f"tarball {tarball} is damaged: {e}") from None
    for member in members:
      reason = _unsafe_reason(member)
      if reason:
        raise HubExportError(f"refusing to unpack {tarball}: entry {member.name!r} {reason}")
    target.mkdir(parents=True, exist_ok=True)
    seen = set()
    for member in members:
      relative = PurePosixPath(member.name)
      if relative in seen:
        raise HubExportError(f"refusing to unpack {tarball}: entry {member.name!r} appears twice")
      seen.add(relative)
      destination = target.joinpath(*relative.parts) if relative.parts != (".",) else target
      if member.isdir():
        destination.mkdir(parents=True, exist_ok=True)
        os.chmod(destination, DIR_MODE)
        continue
      try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with tar.extractfile(member) as src, open(destination, "xb") as dst:
          shutil.copyfileobj(src, dst, _COPY_CHUNK)
      except (OSError, tarfile.TarError, EOFError) as e:
        raise HubExportError(f"cannot unpack entry {member.name!r} of {tarball}: {e}") from None
      os.chmod(destination, FILE_MODE)
  return target
