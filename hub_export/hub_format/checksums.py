"""SHA256SUMS manifests in the format `sha256sum -c` reads: written when publishing, checked when verifying."""

import hashlib
import re
from pathlib import Path, PurePosixPath

from hub_export.support.errors import HubExportError

MANIFEST = "SHA256SUMS"
_CHUNK = 1 << 20
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")  # text or binary mode, as sha256sum writes them
# `publish` writes DIST/SHA256SUMS above DIST/<model>/<model>_<version>.tar.gz: a package's
# manifest is in its own folder or the one above.
_MANIFEST_LEVELS = 2


def sha256_file(path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(_CHUNK), b""):
      digest.update(block)
  return digest.hexdigest()


def write_manifest(root, manifest_name: str = MANIFEST) -> Path:
  """Writes `root/manifest_name` listing every other file under `root` by relative path.

  Lines are `<hex>  <path>` (two spaces: binary-agnostic text mode), sorted by path, so
  the manifest is as reproducible as the files it lists.
  """
  root = Path(root)
  manifest = root / manifest_name
  files = sorted(p for p in root.rglob("*") if p.is_file() and p != manifest)
  lines = [f"{sha256_file(p)}  {p.relative_to(root).as_posix()}\n" for p in files]
  manifest.write_text("".join(lines), encoding="utf-8")
  return manifest


def read_manifest(manifest) -> dict:
  """{relative path: hex digest}; a malformed line, or a path leaving the manifest's folder, is refused."""
  manifest = Path(manifest)
  try:
    text = manifest.read_text(encoding="utf-8")
  except (OSError, UnicodeDecodeError) as e:
    raise HubExportError(f"cannot read {manifest}: {e}") from None
  entries = {}
  for number, line in enumerate(text.splitlines(), 1):
    match = _LINE.match(line)
    name = match.group(2) if match else ""
    if not match or name.startswith("/") or ".." in PurePosixPath(name).parts:
      raise HubExportError(f"{manifest} line {number} is not '<sha256>  <relative path>': {line[:80]!r}")
    entries[name] = match.group(1)
  return entries


def _check(path: Path, digest: str, manifest: Path) -> None:
  if sha256_file(path) != digest:
    raise HubExportError(f"{path} does not match its SHA-256 in {manifest}: the package is damaged or altered")


def check_tree(root, manifest_name: str = MANIFEST) -> Path | None:
  """Checks the files under `root` against `root/manifest_name` when there is one; returns it, or None.

  Both ways: every listed file must be there with its digest, and every file must be listed.
  """
  root = Path(root)
  manifest = root / manifest_name
  if not manifest.is_file():
    return None
  expected = read_manifest(manifest)
  present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p != manifest}
  missing, unlisted = sorted(set(expected) - present), sorted(present - set(expected))
  if missing:
    raise HubExportError(f"{root / missing[0]} is listed in {manifest} but absent: the package is incomplete")
  if unlisted:
    raise HubExportError(f"{root / unlisted[0]} is not listed in {manifest}: the package was altered")
  for name, digest in sorted(expected.items()):
    _check(root / name, digest, manifest)
  return manifest


def check_beside(path) -> Path | None:
  """Checks file `path` against the first SHA256SUMS in its folder or the one above that lists it.

  Returns that manifest, or None when none lists the file.
  """
  path = Path(path).absolute()
  for folder in path.parents[:_MANIFEST_LEVELS]:
    manifest = folder / MANIFEST
    if manifest.is_file():
      digest = read_manifest(manifest).get(path.relative_to(folder).as_posix())
      if digest is not None:
        _check(path, digest, manifest)
        return manifest
  return None
