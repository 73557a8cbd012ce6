"""Deterministic TF-Hub tarballs and the refusal of hostile ones."""

import gzip
import io
import os
import shutil
import struct
import tarfile

import pytest

from hub_export.errors import HubExportError
from hub_export.hub_format.tarball import safe_extract, write_tarball


def _tree(root):
  return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
          for p in sorted(root.rglob("*"))}


def test_two_packings_of_the_same_export_are_byte_identical(synthetic_encoder, tmp_path):
  # A copy with other mtimes, permissions and location must still pack to the same bytes.
  copy = tmp_path / "elsewhere" / "copy"
  shutil.copytree(synthetic_encoder, copy)
  for path in copy.rglob("*"):
    os.utime(path, (1_700_000_000, 1_700_000_000))
    os.chmod(path, 0o700 if path.is_dir() else 0o600)
  first = write_tarball(synthetic_encoder, tmp_path / "a.tar.gz").read_bytes()
  second = write_tarball(copy, tmp_path / "b.tar.gz").read_bytes()
  assert first == second


def test_tarball_root_is_the_saved_model_with_fixed_metadata(synthetic_encoder, tmp_path):
  tarball = write_tarball(synthetic_encoder, tmp_path / "m.tar.gz")
  raw = tarball.read_bytes()
  # RFC 1952 header: magic, CM=8, FLG without FNAME (0x08), MTIME = 0.
  assert raw[:3] == b"\x1f\x8b\x08"
  assert raw[3] & 0x08 == 0
  assert struct.unpack("<I", raw[4:8])[0] == 0
  with tarfile.open(tarball) as tar:
    members = tar.getmembers()
  names = [m.name for m in members]
  assert names == sorted(names)
  assert {"saved_model.pb", "variables", "assets"} <= set(names)
  assert "assets/vocab.txt" in names and "variables/variables.index" in names
  expected = {p.relative_to(synthetic_encoder).as_posix() for p in synthetic_encoder.rglob("*")}
  assert set(names) == expected
  for m in members:
    assert m.isfile() or m.isdir()
    assert (m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "", "", 0)
    assert m.mode == (0o755 if m.isdir() else 0o644)


def test_packing_refuses_a_symlink_inside_the_export(synthetic_encoder, tmp_path):
  copy = tmp_path / "copy"
  shutil.copytree(synthetic_encoder, copy)
  (copy / "assets" / "link.txt").symlink_to(copy / "assets" / "vocab.txt")
  with pytest.raises(HubExportError, match="assets/link.txt"):
    write_tarball(copy, tmp_path / "m.tar.gz")


def test_safe_extract_round_trip_restores_every_byte(synthetic_encoder, tmp_path):
  tarball = write_tarball(synthetic_encoder, tmp_path / "m.tar.gz")
  out = safe_extract(tarball, tmp_path / "out")
  assert _tree(out) == _tree(synthetic_encoder)


def _hostile(tmp_path, member: tarfile.TarInfo, data: bytes = b"") -> str:
  path = tmp_path / "hostile.tar.gz"
  with tarfile.open(path, "w:gz") as tar:
    ok = tarfile.TarInfo("saved_model.pb")
    ok.size = 1
    tar.addfile(ok, io.BytesIO(b"x"))
    member.size = len(data) if member.isfile() else 0
    tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
  return path


def _member(name, kind=tarfile.REGTYPE, linkname=""):
  info = tarfile.TarInfo(name)
  info.type = kind
  info.linkname = linkname
  return info


@pytest.mark.parametrize("member, reason", [
    (_member("variables/evil", tarfile.SYMTYPE, "/etc/passwd"), "symbolic link"),
    (_member("variables/hard", tarfile.LNKTYPE, "saved_model.pb"), "hard link"),
    (_member("dev/null", tarfile.CHRTYPE), "device"),
    (_member("/tmp/absolute.txt"), "absolute path"),
    (_member("../escape.txt"), r"'\.\.'"),
    (_member("assets/../../escape.txt"), r"'\.\.'"),
    (_member("assets/../saved_model.pb"), r"'\.\.'"),
    (_member("fifo", tarfile.FIFOTYPE), "FIFO"),
    (_member("saved_model.pb"), "appears twice"),
    (_member("./saved_model.pb"), "appears twice"),
])
def test_safe_extract_refuses_hostile_entries_and_writes_nothing(tmp_path, member, reason):
  tarball = _hostile(tmp_path, member, b"payload")
  target = tmp_path / "out"
  with pytest.raises(HubExportError, match=rf"entry '{member.name}' .*{reason}"):
    safe_extract(tarball, target)
  assert not target.exists()
  assert not (tmp_path / "escape.txt").exists()


def test_safe_extract_rejects_a_file_that_is_not_a_tarball(tmp_path):
  bogus = tmp_path / "bogus.tar.gz"
  bogus.write_bytes(gzip.compress(b"not a tar archive at all" * 40))
  with pytest.raises(HubExportError, match="bogus.tar.gz"):
    safe_extract(bogus, tmp_path / "out")
