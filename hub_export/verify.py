"""Checks an export directory, a published `.tar.gz` or a Kaggle variation against the TF-Hub text API contract.

    python -m hub_export.verify PATH [--json REPORT.json] [--max_unpacked_mb 1024]
    python -m hub_export.verify kaggle://OWNER/MODEL/tensorFlow2/VARIATION[/VERSION]

Prints one PASS/FAIL line per clause; exits 0 when all pass, 1 on any violation, and 2
with a one-line error when PATH is unusable, damaged or unsafe (missing, not a SavedModel,
a tarball that is hostile, corrupt or unpacks to more than --max_unpacked_mb, files that
do not match a SHA256SUMS, an op that could touch files, processes or the network, a
malformed handle or a failed download), and names a task model of finetune (assets/task.json)
as one: `evaluate_task` scores those. A Kaggle handle is downloaded afresh with
kagglehub (`kagglehub.model_download`, the latest version unless one is given).
What it guarantees against a hostile package, and what not: docs/verify.md.
"""

import argparse
import json
import sys

from hub_export.hub_format.tarball import MAX_UNPACKED_BYTES
from hub_export.kaggle_models import network
from hub_export.support import cli, log
from hub_export.support.atomic import atomic_file, check_file_target, write_failure

EXIT_VIOLATION = 1
_MIB = 1 << 20


def _parse(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.verify", description=__doc__.split("\n\n")[0])
  parser.add_argument("path", help="SavedModel directory, TF-Hub .tar.gz package, or kaggle:// variation handle")
  parser.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE (missing folders are made)")
  parser.add_argument("--max_unpacked_mb", type=cli.positive_int, default=MAX_UNPACKED_BYTES // _MIB,
                      help="refuse a .tar.gz that unpacks to more than this many MiB (default: %(default)s)")
  network.add_arguments(parser)
  return parser.parse_args(argv)


def _write_json(report, target) -> None:
  """Writes the report whole or not at all: never an empty or half-written file."""
  try:
    with atomic_file(target, overwrite=True) as tmp:
      tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
  except OSError as e:
    raise write_failure(target, e) from None


def _verify(argv) -> bool:
  args = _parse(argv)
  if args.json:
    check_file_target(args.json, overwrite=True)  # before the long verification, not after it
  from hub_export.kaggle_models.sources import local_saved_model
  from hub_export.support.one_shot_runtime import skip_graph_optimization
  from hub_export.verification import verify_saved_model

  skip_graph_optimization()

  with local_saved_model(args.path, network.from_args(args), args.max_unpacked_mb * _MIB) as folder, \
       log.step(f"verify {args.path}"):
    report = verify_saved_model(folder, label=args.path)
  print(f"{report.path}: {report.kind}")
  for line in report.lines():
    print(line)
  failures = len(report.failures)
  print(f"{len(report.checks) - failures} checks passed, {failures} failed")
  if args.json:
    _write_json(report, args.json)
  return report.ok


def main(argv=None) -> int:
  outcome = {}
  code = cli.run(lambda args: outcome.update(ok=_verify(args)), argv)
  return code or (0 if outcome.get("ok") else EXIT_VIOLATION)


if __name__ == "__main__":
  sys.exit(main())
