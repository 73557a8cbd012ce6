"""SIGKILL during restore, trace, save, verify and package: the target is absent or complete.

Eighteen kill points: seventeen each armed by the command's own progress lines and, inside a
step, by the files the step writes or the round-trip checker it starts. Runs in a lane
share one target, so each run is also "the next run" after the previous kill and must
remove the temporaries that kill left. Every lane ends with a run that succeeds, and
its output is verified. Three lanes, two at a time (the machine has two cores). The
eighteenth, between the two renames that replace an export, is hit exactly by a process
that kills itself there.

Also here, because they need a real export in progress: a second process exporting to
the same target while the first is paused inside the lock is refused by the lock, and an
exporter killed alone while its round-trip checker runs takes the checker along.
"""

import concurrent.futures
import dataclasses
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub_export.support.atomic import atomic_directory
from hub_export.support.errors import HubExportError
from support.kill_points import KillPoint, Run, alive, run_until
from support.release_dirs import write_tiny_release

ENCODER = "encoder"
DIST = "dist"
NAME = "toy"
ENCODER_TAR = rf"-> {NAME}_1\.tar\.gz"
PREPROCESSOR_TAR = rf"-> {NAME}_preprocess_1\.tar\.gz"
pytestmark = pytest.mark.slow


# Lane A: restore, trace and save (the target never exists afterwards).
BEFORE_VERIFY = [
    KillPoint("restore: started", r"^restore \.\.\.$"),
    KillPoint("restore: done, before the lock", r"^restored \d+ variables"),
    KillPoint("trace: started, lock just taken", r"^trace \.\.\.$", inside_lock=True),
    KillPoint("trace: 0.5 s in", r"^trace \.\.\.$", delay_s=0.5, inside_lock=True),
    KillPoint("save: started", r"^save \.\.\.$", inside_lock=True),
    KillPoint("save: writing the variables", r"^save \.\.\.$", when_exists=f".{ENCODER}.tmp-*/variables/variables_temp",
              inside_lock=True),
    KillPoint("save: variables written, graph next", r"^save \.\.\.$",
              when_exists=f".{ENCODER}.tmp-*/variables/variables.index", inside_lock=True),
    KillPoint("save: saved_model.pb written", r"^save \.\.\.$", when_exists=f".{ENCODER}.tmp-*/saved_model.pb",
              inside_lock=True),
]
# Lane B: the fresh-process round trip, then the rename (the target may exist after the last).
VERIFY = r"^verify \(fresh process\) \.\.\.$"
KILL_CHECKER = KillPoint("verify: the round-trip checker killed", VERIFY, when_child=True, delay_s=1.5,
                         kill_child=True, inside_lock=True)
DURING_VERIFY = [
    KillPoint("verify: reference outputs", VERIFY, inside_lock=True),
    KillPoint("verify: checker running (exporter killed)", VERIFY, when_child=True, delay_s=1.5, inside_lock=True),
    KILL_CHECKER,
    KillPoint("verify: done, rename next", r"^verify \(fresh process\) done", inside_lock=True),
]
# Lane C: publish. The first three have no package yet; the last two replace a complete one.
PACKAGE_NEW = [
    KillPoint("package: reading model facts", r"^read model facts \.\.\.$"),
    KillPoint("package: encoder tarball started", rf"^pack .* {ENCODER_TAR} \.\.\.$", inside_lock=True),
    KillPoint("package: preprocessor tarball started", rf"^pack .* {PREPROCESSOR_TAR} \.\.\.$", inside_lock=True),
]
PACKAGE_OVERWRITE = [
    KillPoint("package --overwrite: preprocessor tarball started", rf"^pack .* {PREPROCESSOR_TAR} \.\.\.$",
              inside_lock=True),
    KillPoint("package --overwrite: tarballs done, manifest and rename next", rf"^pack .* {PREPROCESSOR_TAR} done",
              inside_lock=True),
]
PAUSE_INSIDE_LOCK = KillPoint("pause inside the lock", r"^trace \.\.\.$", inside_lock=True)
TO_THE_END = KillPoint("no kill", r"(?!)", inside_lock=True)  # the pattern never matches


@dataclasses.dataclass
class Record:
  point: KillPoint
  run: Run
  before: set  # temporaries beside the target before the run
  after: set
  lock_left: bool  # the run left a lock file it created: it was killed while holding the lock
  target: dict | None  # {relative path: sha256} of the target afterwards, None when absent
  previous: dict | None  # the same for an export a replacing run had moved aside, if any


def _digest(directory: Path) -> dict | None:
  if not directory.exists():
    return None
  return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(directory.rglob("*")) if p.is_file()}


def _temporaries(target: Path) -> set:
  return {p.name for p in target.parent.iterdir() if p.name.startswith((f".{target.name}.tmp-", f".{target.name}.old-"))}


def _apply(command: list, point: KillPoint, target: Path, **kwargs) -> Record:
  before = _temporaries(target)
  lock = target.parent / f".{target.name}.lock"
  lock_before = lock.exists()
  run = run_until(command, point, target.parent, **kwargs)
  moved_aside = [_digest(old / "previous") for old in target.parent.glob(f".{target.name}.old-*")]
  return Record(point, run, before, _temporaries(target), not lock_before and lock.exists(), _digest(target),
                next(iter(moved_aside), None))


def _export_command(release: Path, target: Path) -> list:
  return [sys.executable, "-m", "hub_export.export_encoder", "--ckpt", str(release), "--export_dir", str(target),
          "--lower_case", "true"]


def _publish_command(encoder: Path, preprocessor: Path, dist: Path, overwrite: bool) -> list:
  return [sys.executable, "-m", "hub_export.publish", "--encoder", str(encoder), "--preprocessor", str(preprocessor),
          "--out", str(dist), "--name", NAME, "--language", "en"] + (["--overwrite"] if overwrite else [])


def _lane_restore_trace_save(release: Path, target: Path) -> dict:
  records = [_apply(_export_command(release, target), point, target) for point in BEFORE_VERIFY]
  competitor = {}

  def pause_and_compete(proc):
    os.kill(proc.pid, signal.SIGSTOP)
    try:
      competitor["proc"] = subprocess.run(_export_command(release, target), capture_output=True, text=True,
                                          timeout=300)
    finally:
      os.kill(proc.pid, signal.SIGCONT)

  final = _apply(_export_command(release, target), PAUSE_INSIDE_LOCK, target, on_armed=pause_and_compete)
  return {"records": records, "final": final, "competitor": competitor["proc"]}


def _lane_verify(release: Path, target: Path) -> dict:
  records = [_apply(_export_command(release, target), point, target) for point in DURING_VERIFY]
  return {"records": records}


def _lane_package(encoder: Path, preprocessor: Path, dist: Path) -> dict:
  records = [_apply(_publish_command(encoder, preprocessor, dist, False), point, dist) for point in PACKAGE_NEW]
  first = _apply(_publish_command(encoder, preprocessor, dist, False), TO_THE_END, dist)
  replaced = [_apply(_publish_command(encoder, preprocessor, dist, True), point, dist) for point in PACKAGE_OVERWRITE]
  final = _apply(_publish_command(encoder, preprocessor, dist, True), TO_THE_END, dist)
  return {"records": records, "first": first, "replaced": replaced, "final": final}


@pytest.fixture(scope="module")
def lanes(tmp_path_factory, synthetic_encoder, synthetic_preprocessor):
  root = tmp_path_factory.mktemp("crash")
  release = write_tiny_release(root / "release", seed=31)
  for lane in ("a", "b", "c"):
    (root / lane).mkdir()
  with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
    a = pool.submit(_lane_restore_trace_save, release, root / "a" / ENCODER)

    def b_then_c():
      return (_lane_verify(release, root / "b" / ENCODER),
              _lane_package(synthetic_encoder, synthetic_preprocessor, root / "c" / DIST))

    b_and_c = pool.submit(b_then_c)
    results = {"a": a.result()}
    results["b"], results["c"] = b_and_c.result()
  results["root"] = root
  return results


def _all_kills(lanes) -> list:
  return lanes["a"]["records"] + lanes["b"]["records"] + lanes["c"]["records"] + lanes["c"]["replaced"]


def test_seventeen_kill_points_fired(lanes):
  records = _all_kills(lanes)
  assert len(records) == 17
  for record in records:
    assert record.run.fired, f"{record.point.name}: the command ended before the kill point"
    expected = 2 if record.point is KILL_CHECKER else -signal.SIGKILL
    assert record.run.returncode == expected, (record.point.name, record.run.stderr[-5:])


def test_killed_export_leaves_no_target(lanes):
  for record in lanes["a"]["records"] + lanes["b"]["records"][:-1] + lanes["c"]["records"]:
    assert record.target is None, f"{record.point.name}: a partial target was left"


def _without_fingerprint(files: dict) -> dict:
  assert "fingerprint.pb" in files
  return {name: digest for name, digest in files.items() if name != "fingerprint.pb"}  # differs run to run


def test_kill_at_the_rename_leaves_nothing_or_the_complete_export(lanes):
  last = lanes["b"]["records"][-1]
  verified = lanes["a"]["final"].target
  assert last.target is None or _without_fingerprint(last.target) == _without_fingerprint(verified), \
      "killed at the rename: the target is neither absent nor complete"


def test_killed_package_replacement_keeps_a_complete_package(lanes):
  first = lanes["c"]["first"]
  assert first.run.returncode == 0
  for record in lanes["c"]["replaced"]:
    # Killed between the two renames, the previous package waits aside for the next run to put back.
    kept = record.target if record.target is not None else record.previous
    assert kept == first.target, f"{record.point.name}: the previous package was damaged or lost"


def test_each_run_inside_the_lock_removes_what_earlier_kills_left(lanes):
  """A run that reached the lock removed every earlier temporary; one that did not, created none.

  A kill aimed before the lock can land a few milliseconds late, after the command took
  the lock and made its temporary (a loaded CI machine); the lock file that run left
  behind shows it, and then its temporary was made inside the lock, as it should be.
  """
  records = _all_kills(lanes) + [lanes["a"]["final"], lanes["c"]["first"], lanes["c"]["final"]]
  left_by_kills = 0
  for record in records:
    if record.point.inside_lock:
      assert not record.before & record.after, f"{record.point.name}: stale temporaries survived {record.before}"
    else:
      assert record.after == record.before or record.lock_left, \
          f"{record.point.name}: temporaries created outside the lock"
    left_by_kills += bool(record.after - record.before)
  assert left_by_kills >= 10  # the kills really did leave temporaries for the next run to clean


def test_killed_round_trip_checker_fails_the_export_clearly(lanes):
  record = next(r for r in lanes["b"]["records"] if r.point is KILL_CHECKER)
  errors = [line for line in record.run.stderr if line.startswith("error:")]
  assert errors == ["error: round-trip check of the export failed: the checking process was killed by SIGKILL"]
  assert not any("Traceback" in line for line in record.run.stderr)
  assert record.after == set() and record.target is None


def test_second_export_to_a_target_is_refused_while_the_first_holds_the_lock(lanes):
  target = lanes["root"] / "a" / ENCODER
  competitor = lanes["a"]["competitor"]
  assert competitor.returncode == 2, competitor.stderr[-3000:]
  lock = target.parent / f".{ENCODER}.lock"
  assert competitor.stderr.strip().splitlines()[-1] == \
      f"error: another export to {target} is running (lock {lock} is held)"
  assert lanes["a"]["final"].run.returncode == 0, lanes["a"]["final"].run.stderr[-5:]


def test_next_run_succeeds_and_leaves_only_a_verified_export(lanes):
  target = lanes["root"] / "a" / ENCODER
  assert sorted(p.name for p in target.parent.iterdir()) == [ENCODER]
  proc = subprocess.run([sys.executable, "-m", "hub_export.verify", str(target)], capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
  assert proc.stdout.strip().splitlines()[-1].endswith(" checks passed, 0 failed")


def test_package_after_kills_is_complete_and_verified(lanes, synthetic_encoder, synthetic_preprocessor, tmp_path):
  from hub_export.hub_format.tarball import safe_extract

  dist = lanes["root"] / "c" / DIST
  final = lanes["c"]["final"]
  assert final.run.returncode == 0 and final.target == lanes["c"]["first"].target  # deterministic packages
  assert sorted(p.name for p in dist.parent.iterdir()) == [DIST]
  listed = {}
  for line in (dist / "SHA256SUMS").read_text().splitlines():
    digest, name = line.split("  ", 1)
    listed[name] = digest
  assert {**listed, "SHA256SUMS": final.target["SHA256SUMS"]} == final.target
  for tarball, source in ((f"{NAME}/{NAME}_1.tar.gz", synthetic_encoder),
                          (f"{NAME}_preprocess/{NAME}_preprocess_1.tar.gz", synthetic_preprocessor)):
    unpacked = safe_extract(dist / tarball, tmp_path / Path(tarball).name.split(".")[0])
    assert _digest(unpacked) == _digest(source), f"{tarball} does not hold exactly {source}"


def test_killed_exporter_takes_its_checker_along_and_the_next_run_removes_their_files(tmp_path):
  """SIGKILL to the exporter alone while its round-trip checker runs: the checker ends within seconds, and the
  probes written for it sit beside the export's temporary, where the next run's clean-up removes them."""
  release = write_tiny_release(tmp_path / "release", seed=31, num_hidden_layers=1)
  target = tmp_path / "out" / ENCODER
  target.parent.mkdir()
  system_tmp = tmp_path / "tmp"
  system_tmp.mkdir()
  point = KillPoint("verify: exporter killed, its checker left", VERIFY, when_child=True, delay_s=0.5,
                    orphan_child=True)
  run = run_until(_export_command(release, target), point, target.parent, env={**os.environ, "TMPDIR": str(system_tmp)})
  assert run.fired and run.returncode == -signal.SIGKILL and run.orphans, run.stderr[-5:]
  deadline = time.monotonic() + 5
  while any(alive(pid) for pid in run.orphans) and time.monotonic() < deadline:
    time.sleep(0.05)
  survivors = [pid for pid in run.orphans if alive(pid)]
  for pid in survivors:
    os.kill(pid, signal.SIGKILL)
  assert not survivors, "the round-trip checker outlived the killed exporter"
  with atomic_directory(target):  # what the next run does first
    pass
  assert sorted(p.name for p in target.parent.iterdir()) == [ENCODER]
  assert list(system_tmp.rglob("probes.npz")) == []  # nothing of the check left in the system's temporary folder


RENAME_THEN_DIE = """
import os, signal, sys
from pathlib import Path
from hub_export.support.atomic import atomic_directory

rename = os.rename

def rename_then_die(source, destination):
  rename(source, destination)
  if Path(destination).name == "previous":  # the old export is out of the way, the new one not yet in
    os.kill(os.getpid(), signal.SIGKILL)

os.rename = rename_then_die
with atomic_directory(sys.argv[1], overwrite=True) as tmp:
  (tmp / "saved_model.pb").write_text("new")
"""


def test_kill_between_the_renames_of_an_overwrite_keeps_the_previous_export(tmp_path):
  target = tmp_path / "export"
  with atomic_directory(target) as tmp:
    (tmp / "saved_model.pb").write_text("old")
  proc = subprocess.run([sys.executable, "-c", RENAME_THEN_DIE, str(target)], capture_output=True, text=True,
                        timeout=120)
  assert proc.returncode == -signal.SIGKILL, proc.stderr
  assert not target.exists()  # the kill hit the window
  with pytest.raises(HubExportError, match="exists and is not empty; pass --overwrite"):
    with atomic_directory(target):  # the next run puts the previous export back, then refuses to replace it
      pass
  assert (target / "saved_model.pb").read_text() == "old"
  assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
