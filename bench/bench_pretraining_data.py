"""pretraining_data at tens of megabytes: wall time and peak RSS in process and on a Beam runner.

    .venv/bin/python -m bench.bench_pretraining_data --vocab VOCAB --work DIR [--megabytes 50] [--files 50]
        [--runs local,DirectRunner]

The input is the offline English corpus (`hub_export.distillation.corpus`, train.txt: the
Python reference's topic texts) copied into --files files until they hold --megabytes
(documents repeat; speed does not depend on it). Each run is a child process of the command
(sequence 128, 20 predictions, 8 shards, seed 1); their outputs are compared byte for byte.
Prints, and writes DIR/bench_pretraining_data.json: input size, and a run's wall time, peak
RSS, examples and whether its files equal the first run's.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--vocab", required=True, help="uncased English WordPiece vocab.txt")
  parser.add_argument("--work", required=True, help="folder for the input, the outputs and the results JSON")
  parser.add_argument("--megabytes", type=float, default=50)
  parser.add_argument("--files", type=int, default=50)
  parser.add_argument("--runs", default="local,DirectRunner", help="'local' (in process) and/or Beam runners")
  return parser.parse_args(argv)


def make_input(work: Path, megabytes: float, files: int) -> dict:
  from hub_export.distillation.corpus import TRAIN_NAME, write_corpus

  text = Path(write_corpus(work / "offline")[TRAIN_NAME]["path"]).read_text(encoding="utf-8")
  copies = max(1, round(megabytes * 1e6 / len(text.encode()) / files))
  folder = work / "input"
  folder.mkdir(parents=True, exist_ok=True)
  for index in range(files):
    (folder / f"part-{index:03d}.txt").write_text("\n".join([text] * copies), encoding="utf-8")
  size = sum(p.stat().st_size for p in folder.iterdir())
  return {"pattern": str(folder / "*.txt"), "files": files, "copies_of_train_txt_a_file": copies, "bytes": size}


def run(vocab: str, pattern: str, out: Path, runner: str) -> dict:
  command = [sys.executable, "-m", "hub_export.pretraining_data", "--vocab", vocab, "--input", pattern,
             "--out", str(out), "--num_shards", "8", "--seed", "1", "--lower_case", "true", "--overwrite"]
  if runner != "local":
    command += ["--runner", runner]
  start = time.perf_counter()
  child = subprocess.Popen(command)
  _, status, usage = os.wait4(child.pid, 0)
  wall = time.perf_counter() - start
  if status:
    raise SystemExit(f"{runner}: exit status {status}")
  metadata = json.loads((out / "pretraining_data.json").read_text())
  return {"runner": runner, "wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
          "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "examples": metadata["examples"],
          "documents": metadata["documents"]}


def main(argv=None):
  args = parse_args(argv)
  work = Path(args.work)
  result = {"input": make_input(work, args.megabytes, args.files), "runs": []}
  first = None
  for runner in args.runs.split(","):
    out = work / f"out-{runner}"
    result["runs"].append(run(args.vocab, result["input"]["pattern"], out, runner))
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}
    first = first or files
    result["runs"][-1]["same_bytes_as_first_run"] = files == first
    print(json.dumps(result["runs"][-1]), flush=True)
  (work / "bench_pretraining_data.json").write_text(json.dumps(result, indent=2) + "\n")
  print(json.dumps(result["input"]))


if __name__ == "__main__":
  main()
