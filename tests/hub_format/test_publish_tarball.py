"""Deterministic TF-Hub tarballs and the refusal of hostile ones."""

import gzip
import hashlib
import io
import os
import shutil
import struct
import tarfile

import pytest

from hub_export.hub_format.tarball import safe_extract, write_tarball
from hub_export.support.errors import HubExportError


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


def _package(tmp_path, payload: bytes) -> bytes:
  """The bytes of a written tarball whose saved_model.pb is `payload`."""
  source = tmp_path / "source"
  source.mkdir()
  (source / "saved_model.pb").write_bytes(payload)
  return write_tarball(source, tmp_path / "package.tar.gz").read_bytes()


def _incompressible(size: int) -> bytes:
  blocks = (hashlib.sha256(i.to_bytes(8, "little")).digest() for i in range(size // 32))
  return b"".join(blocks)


def _refusal(tarball, tmp_path, **kwargs) -> str:
  target = tmp_path / "out"
  with pytest.raises(HubExportError) as error:
    safe_extract(tarball, target, **kwargs)
  assert not target.exists()
  message = str(error.value)
  assert "\n" not in message
  return message


def test_safe_extract_refuses_a_cut_gzip_trailer(tmp_path):
  # The tar data is whole; only the gzip CRC and length (its last 8 bytes) and two more are gone.
  raw = _package(tmp_path, _incompressible(64 << 10))
  cut = tmp_path / "cut.tar.gz"
  cut.write_bytes(raw[:-10])
  assert _refusal(cut, tmp_path) == f"tarball {cut} is truncated: its gzip stream ends early"


def test_safe_extract_refuses_a_flipped_byte(tmp_path):
  raw = bytearray(_package(tmp_path, _incompressible(64 << 10)))
  raw[len(raw) // 2] ^= 0xFF
  flipped = tmp_path / "flipped.tar.gz"
  flipped.write_bytes(raw)
  assert _refusal(flipped, tmp_path).startswith(f"tarball {flipped} is damaged: ")


@pytest.mark.parametrize("content, reason", [(b"", "is empty"), (b"saved_model.pb" * 100, "is not gzip-compressed")],
                         ids=["empty", "uncompressed"])
def test_safe_extract_refuses_an_empty_or_uncompressed_file_in_one_line(tmp_path, content, reason):
  bogus = tmp_path / "bogus.tar.gz"
  bogus.write_bytes(content)
  assert reason in _refusal(bogus, tmp_path)


def test_safe_extract_stops_a_stream_that_outgrows_the_limit(tmp_path):
  bomb = tmp_path / "bomb.tar.gz"
  bomb.write_bytes(_package(tmp_path, bytes(2 << 20)))  # 2 MiB of zeros: a few KiB packed
  assert bomb.stat().st_size < 16 << 10
  assert "it unpacks to more than 1.0 MiB" in _refusal(bomb, tmp_path, max_bytes=1 << 20)


def test_safe_extract_refuses_data_after_the_last_entry(tmp_path):
  raw = gzip.decompress(_package(tmp_path, b"x"))
  padded = tmp_path / "padded.tar.gz"
  padded.write_bytes(gzip.compress(raw + bytes(2 << 20)))
  assert "bytes follow its last entry" in _refusal(padded, tmp_path)


def _sparse_entry(name: str, stored: bytes, real_size: int) -> bytes:
  """An old-GNU sparse entry: `stored` bytes in the archive that unpack to a `real_size` file."""
  info = tarfile.TarInfo(name)
  info.type = tarfile.GNUTYPE_SPARSE
  info.size = len(stored)
  header = bytearray(info.tobuf(tarfile.GNU_FORMAT))
  header[386:410] = tarfile.itn(0, 12, tarfile.GNU_FORMAT) + tarfile.itn(len(stored), 12, tarfile.GNU_FORMAT)
  header[483:495] = tarfile.itn(real_size, 12, tarfile.GNU_FORMAT)
  header[148:156] = b" " * 8
  header[148:156] = b"%06o\0 " % sum(header)
  return bytes(header) + stored.ljust(512, b"\0")


def test_safe_extract_refuses_entries_declaring_more_than_the_limit(tmp_path):
  # A sparse entry declares far more than the stream holds: the stream check alone would pass it.
  sparse = tmp_path / "sparse.tar.gz"
  sparse.write_bytes(gzip.compress(_sparse_entry("saved_model.pb", b"x" * 512, 64 << 20) + bytes(1024)))
  assert "its entries declare 64.0 MiB, more than 1.0 MiB" in _refusal(sparse, tmp_path, max_bytes=1 << 20)
