"""Checks an export directory, a published `.tar.gz` or a Kaggle variation against the TF-Hub text API contract.

    python -m hub_export.verify PATH [--json REPORT.json]
    python -m hub_export.verify kaggle://OWNER/MODEL/tensorFlow2/VARIATION[/VERSION]

Prints one PASS/FAIL line per clause; exits 0 when all pass, 1 on any violation, and 2
with a one-line error when PATH is unusable (missing, not a SavedModel, unsafe tarball,
a malformed handle or a failed download). A Kaggle handle is downloaded afresh with
kagglehub (`kagglehub.model_download`, the latest version unless one is given).
"""

import argparse
import json
import sys

from hub_export import cli
from hub_export.errors import HubExportError
from hub_export.kaggle_models import network

EXIT_VIOLATION = 1


def _parse(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.verify", description=__doc__.split("\n\n")[0])
  parser.add_argument("path", help="SavedModel directory, TF-Hub .tar.gz package, or kaggle:// variation handle")
  parser.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
  network.add_arguments(parser)
  return parser.parse_args(argv)


def _verify(argv) -> bool:
  args = _parse(argv)
  from hub_export.kaggle_models import handles
  from hub_export.verification import verify_path, verify_saved_model

  if handles.is_kaggle(args.path):
    handle = handles.parse_variation(args.path)
    if handle.framework != handles.SAVED_MODEL_FRAMEWORK:
      raise HubExportError(f"{args.path}: only {handles.SAVED_MODEL_FRAMEWORK} variations hold a SavedModel")
    from hub_export.kaggle_models.download import download

    with cli.step(f"download {handle}"):
      folder = download(handle, network.from_args(args))
    with cli.step(f"verify {args.path}"):
      report = verify_saved_model(folder, label=args.path)
  else:
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
