"""Checks an export directory or a published `.tar.gz` against the TF-Hub text API contract.

    python -m hub_export.verify PATH [--json REPORT.json]

Prints one PASS/FAIL line per clause; exits 0 when all pass, 1 on any violation, and 2
with a one-line error when PATH is unusable (missing, not a SavedModel, unsafe tarball).
"""

import argparse
import json
import sys

from hub_export import cli

EXIT_VIOLATION = 1


def _parse(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.verify", description=__doc__.split("\n\n")[0])
  parser.add_argument("path", help="SavedModel directory, or a TF-Hub .tar.gz package")
  parser.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
  return parser.parse_args(argv)


def _verify(argv) -> bool:
  args = _parse(argv)
  from hub_export.verification import verify_path

  with cli.step(f"verify {args.path}"):
    report = verify_path(args.path)
  print(f"{report.path}: {report.kind}")
  for line in report.lines():
    print(line)
  failures = len(report.failures)
  print(f"{len(report.checks) - failures} checks passed, {failures} failed")
  if args.json:
    with open(args.json, "w", encoding="utf-8") as f:
      json.dump(report.to_dict(), f, indent=2)
      f.write("\n")
  return report.ok


def main(argv=None) -> int:
  outcome = {}
  code = cli.run(lambda args: outcome.update(ok=_verify(args)), argv)
  return code or (0 if outcome.get("ok") else EXIT_VIOLATION)


if __name__ == "__main__":
  sys.exit(main())
