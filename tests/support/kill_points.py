"""Runs a command and SIGKILLs it at a chosen point of its progress, not after a random sleep.

The commands log each long step on stderr ("save ...", "save done in 1.2 s"). A kill
point is armed by such a line, then waits for an optional delay, a file appearing in the
output directory (the step's own writes) or a child process (the round-trip checker),
and kills the command, or only that child.
"""

import dataclasses
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

_POLL_S = 0.002


@dataclasses.dataclass(frozen=True)
class KillPoint:
  name: str
  after_line: str  # regex searched in each stderr line; the first match arms the kill
  delay_s: float = 0.0
  when_exists: str | None = None  # glob under the watched directory that must match first
  when_child: bool = False  # wait until the command has a child process
  kill_child: bool = False  # kill the child only; the command carries on
  orphan_child: bool = False  # kill the command only, and leave its child to end (or not) by itself
  inside_lock: bool = False  # the arming line comes after the command took the target's lock


@dataclasses.dataclass
class Run:
  returncode: int
  stderr: list
  fired: bool  # False when the command ended before the kill point was reached
  orphans: list  # with KillPoint.orphan_child: the children the kill left, for the caller to watch and reap


def children(pid: int) -> list:
  """Live child processes of `pid`, from /proc."""
  listing = Path(f"/proc/{pid}/task/{pid}/children")
  if listing.exists():
    try:
      return [int(child) for child in listing.read_text().split()]
    except OSError:
      return []
  found = []
  for stat in Path("/proc").glob("[0-9]*/stat"):
    try:
      parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
      continue
    if parent == pid:
      found.append(int(stat.parent.name))
  return found


def alive(pid: int) -> bool:
  """Whether `pid` still runs (a zombie nobody reaped yet has ended)."""
  try:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
  except (OSError, IndexError):
    return False


def _kill(pids) -> None:
  for pid in pids:
    try:
      os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
      pass


class _StderrLog:
  """Collects a process's stderr lines on a thread and notes when `pattern` first appears."""

  def __init__(self, stream, pattern: str):
    self.lines = []
    self.armed_at = None
    self._pattern = re.compile(pattern)
    self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
    self._thread.start()

  def _read(self, stream):
    for line in stream:
      self.lines.append(line.rstrip("\n"))
      if self.armed_at is None and self._pattern.search(line):
        self.armed_at = time.monotonic()

  def join(self):
    self._thread.join(timeout=30)


def _ready(point: KillPoint, armed_at: float, pid: int, watch: Path) -> bool:
  if time.monotonic() < armed_at + point.delay_s:
    return False
  if point.when_exists and not any(watch.glob(point.when_exists)):
    return False
  return not point.when_child or bool(children(pid))


def run_until(command: list, point: KillPoint, watch: Path, timeout_s: float = 300, on_armed=None, env=None) -> Run:
  """Runs `command` (with `env`, when given) and applies `point`; `watch` is the directory `when_exists` globs in.

  `on_armed(process)`, when given, replaces the kill: it is called once at the point
  (e.g. to pause the command and run another against the same target).
  """
  proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          start_new_session=True, env=env)
  log = _StderrLog(proc.stderr, point.after_line)
  deadline = time.monotonic() + timeout_s
  fired = False
  orphans = []
  try:
    while proc.poll() is None and not fired:
      if time.monotonic() > deadline:
        raise AssertionError(f"kill point {point.name}: command still running after {timeout_s} s")
      if log.armed_at is not None and _ready(point, log.armed_at, proc.pid, watch):
        orphans = children(proc.pid)
        if on_armed is not None:
          on_armed(proc)
        elif point.kill_child:
          _kill(orphans)
        else:
          _kill([proc.pid])
          proc.wait()
          if not point.orphan_child:
            _kill(orphans)  # the round-trip checker a real kill would orphan; ours, so reap it
        fired = True
      time.sleep(_POLL_S)
    proc.wait(timeout=max(1.0, deadline - time.monotonic()))
  finally:
    if proc.poll() is None:
      _kill(children(proc.pid) + [proc.pid])
      proc.wait()
    log.join()
  return Run(proc.returncode, log.lines, fired, orphans if point.orphan_child else [])
