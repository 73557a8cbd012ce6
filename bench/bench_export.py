"""Export cost: TF1 checkpoint -> verified encoder export, and checkpoint restore alone.

    .venv/bin/python -m bench.bench_export [--work_dir DIR] [--repeats 3]

Uses a full-size English OPT checkpoint in the release layout with random weights (written
under --work_dir on first use, then reused). Each repeat runs, as fresh child processes:

- `python -m hub_export.export_encoder --ckpt ... --lower_case true --overwrite`, the whole
  command including its fresh-process round-trip check;
- a restore-only child: build the model for the checkpoint's config and restore it.

Wall time and peak RSS come from `os.wait4` on each child; the peak is that of the largest
single process in its tree (the round-trip check runs in a grandchild, which wait4 counts).
Also reported: the export's own step timings, the restore step alone as timed inside the
child, and the size of `saved_model.pb`. Figures are medians over the repeats; the machine's
load average is printed with them, since other processes on a small machine move them.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.full_size_checkpoint import DEFAULT_WORK_DIR, ensure_checkpoint

# Restore-only child: prints the seconds spent in build + restore after imports.
_RESTORE_CHILD = """
import sys, time
from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
start = time.perf_counter()
load_mobilebert(locate_checkpoint(sys.argv[1]))
print(f"restore_s {time.perf_counter() - start:.2f}")
"""
_STEP = re.compile(r"^(.+?) done in ([0-9.]+) s$")


def run_child(argv: list) -> dict:
  """Runs argv to completion; returns wall seconds, peak RSS (MB) and its output."""
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
  start = time.perf_counter()
  proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
  output = proc.stdout.read()
  _, status, usage = os.wait4(proc.pid, 0)
  wall = time.perf_counter() - start
  proc.returncode = os.waitstatus_to_exitcode(status)
  if proc.returncode != 0:
    raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{output[-2000:]}")
  return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "output": output}


def measure_export(checkpoint: Path, export_dir: Path) -> dict:
  result = run_child([sys.executable, "-m", "hub_export.export_encoder", "--ckpt", str(checkpoint),
                      "--export_dir", str(export_dir), "--lower_case", "true", "--overwrite"])
  steps = {m.group(1): float(m.group(2)) for line in result.pop("output").splitlines()
           if (m := _STEP.match(line.strip()))}
  return {**result, "steps_s": steps, "saved_model_pb_bytes": (export_dir / "saved_model.pb").stat().st_size}


def measure_restore(checkpoint: Path) -> dict:
  result = run_child([sys.executable, "-c", _RESTORE_CHILD, str(checkpoint)])
  found = re.search(r"restore_s ([0-9.]+)", result.pop("output"))
  return {**result, "build_and_restore_s": float(found.group(1))}


def _median(runs: list, key: str) -> float:
  return round(statistics.median(r[key] for r in runs), 2)


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m bench.bench_export", description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=str(DEFAULT_WORK_DIR), help="where the checkpoint and export go")
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args(argv)
  work_dir = Path(args.work_dir)
  checkpoint = ensure_checkpoint(work_dir / "release_en")
  exports, restores, loads = [], [], [" ".join(f"{x:.2f}" for x in os.getloadavg())]
  for _ in range(args.repeats):
    exports.append(measure_export(checkpoint, work_dir / "export_bench"))
    restores.append(measure_restore(checkpoint))
    loads.append(" ".join(f"{x:.2f}" for x in os.getloadavg()))
  steps = {name: round(statistics.median(e["steps_s"].get(name, 0.0) for e in exports), 2)
           for name in exports[0]["steps_s"]}
  report = {
      "checkpoint": str(checkpoint),
      "load_average_1_5_15min": loads,
      "export": {"wall_s_median": _median(exports, "wall_s"), "wall_s_each": [round(e["wall_s"], 1) for e in exports],
                 "peak_rss_mb_median": _median(exports, "peak_rss_mb"), "steps_s_median": steps,
                 "saved_model_pb_bytes": exports[-1]["saved_model_pb_bytes"]},
      "restore_only": {"wall_s_median": _median(restores, "wall_s"),
                       "build_and_restore_s_median": _median(restores, "build_and_restore_s"),
                       "peak_rss_mb_median": _median(restores, "peak_rss_mb")},
  }
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  main()
