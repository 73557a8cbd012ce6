"""CPU time a command's process spends importing its stack, before any work.

    python -m bench.bench_command_start [--repeats 7] [--json FILE]

Each repeat is a fresh interpreter that imports the package as `python -m hub_export.X` does
(so the command-process settings of `hub_export/__init__.py` hold), then TensorFlow, tf_keras,
TensorFlow Hub and TensorFlow Text, which every SavedModel command imports. The figure is the
child's user + system CPU time: every command, and every process the test suite starts, pays it.
The installed `ml_dtypes` is named beside it, since its version moves the figure most.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
from importlib import metadata

IMPORTS = "import sys; sys.argv[0] = '-m'; import hub_export; import tensorflow, tf_keras, tensorflow_hub, tensorflow_text"


def child_cpu_seconds() -> float:
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


def one_start() -> float:
  before = child_cpu_seconds()
  subprocess.run([sys.executable, "-c", IMPORTS], check=True, capture_output=True, timeout=300)
  return child_cpu_seconds() - before


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--json", help="also write the figures here")
  args = parser.parse_args(argv)
  one_start()  # not counted: the first start after an install reads the files from disk
  seconds = [one_start() for _ in range(args.repeats)]
  result = {"ml_dtypes": metadata.version("ml_dtypes"), "tensorflow": metadata.version("tensorflow"),
            "cpu_seconds": [round(s, 2) for s in seconds], "median": round(statistics.median(seconds), 2)}
  print(json.dumps(result))
  if args.json:
    with open(args.json, "w", encoding="utf-8") as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  main()
