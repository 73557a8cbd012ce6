"""SHA256SUMS manifests in the format `sha256sum -c` reads."""

import hashlib
from pathlib import Path

_CHUNK = 1 << 20
MANIFEST_NAME = "SHA256SUMS"


def sha256_file(path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(_CHUNK), b""):
      digest.update(block)
  return digest.hexdigest()


def write_manifest(root, manifest_name: str = MANIFEST_NAME) -> Path:
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
