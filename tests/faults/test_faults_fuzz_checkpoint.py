"""240 seeded corruptions of checkpoint index, data and bert_config.json through the restore path.

Each case restores `load_mobilebert(locate_checkpoint(dir))` on a corrupted copy of a
small release (TF1 name-based layout) or of its conversion (this project's TF2 object
layout, config stored inside). The verdict must be identical weights or a HubExportError
with a one-line message: never a raw exception, different weights, a crash or a hang.
The cases run in a worker process (tests/support/checkpoint_fuzz_worker.py), one at a time with a
deadline each, so a segfault or a hang becomes a named failing case; a few corruptions
also go through the command line (exit 2, one `error:` line).
"""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import SUPPORT
from hub_export.convert_checkpoint import convert_checkpoint
from support.checkpoint_corruption import cases, corrupt
from support.release_dirs import write_tiny_release

CASES = 240
CASE_TIMEOUT_S = 60
START_TIMEOUT_S = 300
pytestmark = pytest.mark.slow

WORKER = SUPPORT / "checkpoint_fuzz_worker.py"
LAYOUTS = {"tf1": ("index", "data", "config"), "native": ("index", "data")}
SMALL = dict(num_hidden_layers=1, hidden_size=64, embedding_size=32, intra_bottleneck_size=32, intermediate_size=64,
             num_feedforward_networks=2)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
  root = tmp_path_factory.mktemp("fuzz_checkpoint")
  release = write_tiny_release(root / "tf1", seed=41, **SMALL)
  convert_checkpoint(release, root / "native" / "mobilebert")
  return {"tf1": release, "native": root / "native"}


class _Worker:
  """The worker process and a thread turning its stdout into a queue (None at its end)."""

  def __init__(self, pristine: dict, scratch: Path):
    layouts = [f"{name}={path}" for name, path in pristine.items()]
    self._stderr = open(scratch / "worker.log", "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
    self.proc = subprocess.Popen([sys.executable, str(WORKER), str(scratch), *layouts], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=self._stderr, text=True)
    self.lines = queue.Queue()
    threading.Thread(target=self._read, daemon=True).start()

  def _read(self):
    for line in self.proc.stdout:
      self.lines.put(line)
    self.lines.put(None)

  def ask(self, case: dict, timeout_s: float) -> dict:
    try:
      self.proc.stdin.write(json.dumps(case) + "\n")
      self.proc.stdin.flush()
    except BrokenPipeError:
      pass
    return self.answer(timeout_s)

  def answer(self, timeout_s: float) -> dict:
    try:
      line = self.lines.get(timeout=timeout_s)
    except queue.Empty:
      return {"outcome": f"hang (no verdict in {timeout_s} s)"}
    if line is None:
      return {"outcome": f"worker died (exit status {self.proc.wait()})"}
    return json.loads(line)

  def stop(self):
    if self.proc.poll() is None:
      self.proc.kill()
    self.proc.wait()
    self._stderr.close()


def run_cases(all_cases: list, pristine: dict, scratch: Path) -> dict:
  """{case id: verdict}; a hang or a death is that case's verdict and the worker is restarted."""
  verdicts, worker = {}, None
  try:
    for case in all_cases:
      if worker is None:
        worker = _Worker(pristine, scratch)
        ready = worker.answer(START_TIMEOUT_S)
        assert ready.get("ready"), f"worker did not start: {ready}; see {scratch / 'worker.log'}"
      verdicts[case["id"]] = worker.ask(case, CASE_TIMEOUT_S)
      if "id" not in verdicts[case["id"]]:  # hung or died: start afresh for the next case
        worker.stop()
        worker = None
  finally:
    if worker is not None:
      worker.stop()
  return verdicts


@pytest.fixture(scope="module")
def verdicts(pristine, tmp_path_factory):
  all_cases = cases(CASES, seed=7, layouts=LAYOUTS)
  return all_cases, run_cases(all_cases, pristine, tmp_path_factory.mktemp("fuzz_scratch"))


def test_every_corruption_restores_identically_or_fails_with_one_line(verdicts):
  all_cases, found = verdicts
  bad = [(case, found[case["id"]]) for case in all_cases
         if found[case["id"]]["outcome"] not in ("identical", "error")
         or "\n" in found[case["id"]].get("message", "")]
  assert not bad, f"{len(bad)} of {len(all_cases)} cases misbehaved, first: {bad[:3]}"


def test_the_fuzz_reaches_both_outcomes_on_every_file(verdicts):
  all_cases, found = verdicts
  assert len(all_cases) >= 200
  outcomes = {}
  for case in all_cases:
    outcomes.setdefault((case["layout"], case["file"]), set()).add(found[case["id"]]["outcome"])
  assert all("error" in seen for seen in outcomes.values()), outcomes
  assert "identical" in outcomes[("tf1", "config")]  # e.g. an unknown key or a changed dropout rate


@pytest.mark.parametrize("command,layout,file,mutation,seed", [
    ("export_encoder", "tf1", "data", "truncate", 1),
    ("export_encoder", "tf1", "config", "replace_document", 5),
    ("export_encoder", "tf1", "index", "flip_bits", 3),
    ("convert_checkpoint", "native", "index", "overwrite_span", 4),
    ("convert_checkpoint", "tf1", "config", "invalid_utf8", 2),
])
def test_cli_reports_a_corrupt_checkpoint_in_one_line(pristine, tmp_path, command, layout, file, mutation, seed):
  work = tmp_path / "ckpt"
  subprocess.run(["cp", "-r", str(pristine[layout]), str(work)], check=True)
  corrupt(work, {"file": file, "mutation": mutation, "seed": seed})
  out = ["--export_dir", str(tmp_path / "out"), "--lower_case", "true"] if command == "export_encoder" \
      else ["--out", str(tmp_path / "out" / "mobilebert")]
  proc = subprocess.run([sys.executable, "-m", f"hub_export.{command}", "--ckpt", str(work), *out],
                        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert proc.returncode == 2, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr
  errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and proc.stderr.strip().splitlines()[-1] == errors[0], proc.stderr[-3000:]
  assert not (tmp_path / "out").exists()
