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
import zlib
from pathlib import Path, PurePosixPath

from hub_export.support.errors import HubExportError
from hub_export.support.filenames import SAVED_MODEL_NAME

FILE_MODE = 0o644
DIR_MODE = 0o755
FIXED_MTIME = 0
GZIP_LEVEL = 6
_MIB = 1 << 20
# What `verify` unpacks at most by default; a MobileBERT export is a small fraction of it.
MAX_UNPACKED_BYTES = 1024 * _MIB
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = _MIB
# After its last entry a tar stream holds two zero blocks padded to a record (10 KiB for
# GNU tar and tarfile); a larger blocking factor pads more, but never anywhere near this.
_MAX_TRAILING_BYTES = _MIB


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
  if not (source / SAVED_MODEL_NAME).is_file():
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


_FILTER_REASONS = {
    tarfile.AbsolutePathError: "has an absolute path",
    tarfile.OutsideDestinationError: "would be written outside the target directory",
    tarfile.SpecialFileError: "is a device, FIFO or other special file",
}


def _refusal(member: tarfile.TarInfo, target: Path) -> str | None:
  """Says why an entry must not be unpacked, or None when it may.

  Links are refused outright (a TF-Hub tarball holds files and directories only), and so
  are absolute names and '..' components, which `tarfile.data_filter` would silently strip
  or allow when they stay inside; everything else is judged by `data_filter`.
  """
  if member.issym():
    return f"is a symbolic link (to {member.linkname!r})"
  if member.islnk():
    return f"is a hard link (to {member.linkname!r})"
  name = member.name
  if not name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
    return "has an absolute path"
  if ".." in PurePosixPath(name).parts:
    return "has a '..' component that would escape the target directory"
  try:
    tarfile.data_filter(member, str(target))
  except tarfile.FilterError as e:
    return _FILTER_REASONS.get(type(e), f"is refused by tarfile's data filter ({e})")
  return None


def _normalised(member: tarfile.TarInfo, dest_path: str) -> tarfile.TarInfo:
  """`data_filter`, then the fixed modes a TF-Hub tarball is written with."""
  member = tarfile.data_filter(member, dest_path)
  return member.replace(mode=DIR_MODE if member.isdir() else FILE_MODE, deep=False)


def _stream_length(tarball: Path, max_bytes: int) -> int:
  """Decompresses the whole gzip stream, checking its CRC and length, without writing anything.

  tarfile stops at the archive's end marker, so a cut or altered trailer would pass unseen;
  reading to the end makes gzip check both. A stream that outgrows `max_bytes` is refused
  as soon as it does, so a small bomb costs no more than the limit to find.
  """
  try:
    with open(tarball, "rb") as raw:
      magic = raw.read(2)
      if not magic:
        raise HubExportError(f"tarball {tarball} is empty")
      if magic != _GZIP_MAGIC:
        raise HubExportError(f"{tarball} is not gzip-compressed (a TF-Hub package is a .tar.gz)")
      raw.seek(0)
      length = 0
      with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
        while block := gz.read(_CHUNK):
          length += len(block)
          if length > max_bytes:
            raise HubExportError(f"refusing to unpack {tarball}: it unpacks to more than {_mib(max_bytes)} "
                                 f"(verify --max_unpacked_mb raises the limit)")
  except EOFError:
    raise HubExportError(f"tarball {tarball} is truncated: its gzip stream ends early") from None
  except (gzip.BadGzipFile, zlib.error) as e:
    raise HubExportError(f"tarball {tarball} is damaged: {e}") from None
  except OSError as e:
    raise HubExportError(f"cannot read tarball {tarball}: {e}") from None
  return length


def _check_sizes(tarball: Path, tar: tarfile.TarFile, members: list, stream_length: int, max_bytes: int,
                 target: Path) -> None:
  """Refuses entries declaring more than `max_bytes` or the free disk space, and data beyond the last entry."""
  declared = sum(m.size for m in members if m.isfile())
  if declared > max_bytes:
    raise HubExportError(f"refusing to unpack {tarball}: its entries declare {_mib(declared)}, more than "
                         f"{_mib(max_bytes)} (verify --max_unpacked_mb raises the limit)")
  trailing = stream_length - tar.offset
  if trailing > _MAX_TRAILING_BYTES:
    raise HubExportError(f"refusing to unpack {tarball}: {trailing} bytes follow its last entry, more than "
                         f"a tar writer pads with")
  existing = next(p for p in (target, *target.parents) if p.exists())
  free = shutil.disk_usage(existing).free
  if declared > free:
    raise HubExportError(f"cannot unpack {tarball}: it needs {_mib(declared)}, {existing} has {_mib(free)} free")


def _mib(size: int) -> str:
  return f"{size / _MIB:.1f} MiB"


def safe_extract(tarball, target, max_bytes: int = MAX_UNPACKED_BYTES) -> Path:
  """Unpacks `tarball` into `target` (absent or empty), refusing anything but files and dirs.

  The gzip stream is read to its end first (CRC and length checked, at most `max_bytes`),
  then every entry is checked, duplicates and declared sizes included, before anything is
  written; the first offending one is named in the error and `target` is not created.
  Modes are normalised to 0644/0755 whatever the archive says.
  """
  tarball, target = Path(tarball), Path(target)
  stream_length = _stream_length(tarball, max_bytes)
  try:
    tar = tarfile.open(tarball, mode="r:gz")
  except (tarfile.TarError, OSError) as e:
    raise HubExportError(f"cannot read tarball {tarball}: {e}") from None
  with tar:
    try:
      members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as e:
      raise HubExportError(f"tarball {tarball} is damaged: {e}") from None
    seen = set()
    for member in members:
      reason = _refusal(member, target)
      relative = PurePosixPath(member.name)
      if reason is None and relative in seen:
        reason = "appears twice"
      if reason:
        raise HubExportError(f"refusing to unpack {tarball}: entry {member.name!r} {reason}")
      seen.add(relative)
    _check_sizes(tarball, tar, members, stream_length, max_bytes, target)
    try:
      target.mkdir(parents=True, exist_ok=True)
      tar.extractall(target, members=members, filter=_normalised)
    except (OSError, tarfile.TarError, EOFError) as e:
      raise HubExportError(f"cannot unpack {tarball} into {target}: {e}") from None
  return target
