"""Packages exported SavedModels for TF-Hub and Kaggle Models, and publishes to Kaggle.

    python -m hub_export.publish --encoder DIR --preprocessor DIR --out DIST --name NAME \\
        --language en [--version 1] [--publisher ORG] [--task_model DIR...] [--tflite FILE...] [--keras_preset DIR] \\
        [--eval_file FILE] [--overwrite] \\
        [--to kaggle://OWNER/MODEL [--public] [--version_notes TEXT] [--dry_run]]

For each SavedModel, DIST/<model>/ gets a deterministic TF-Hub tarball
(<model>_<version>.tar.gz, its root the SavedModel) and a tfhub.dev model card
(<version>.md). DIST/kaggle/ holds one Kaggle model (model-metadata.json, the encoder's
card as its description) and a folder per variation with the model's files unpacked
beside model-instance-metadata.json: tensorFlow2/<NAME> for the encoder,
tensorFlow2/<language>-<cased|uncased>-preprocess for the preprocessor, tensorFlow2/<NAME>-<task>
for each --task_model (a task SavedModel of finetune, its card stating the metrics of its
assets/task.json, published on TF-Hub as NAME_<task>, <task> its GLUE task if any), tfLite/<file stem>
for each --tflite file, keras/<NAME> for a --keras_preset (a KerasHub preset written by
export_keras; reading it needs the `keras` extra). DIST/SHA256SUMS lists every file. The
TF-Hub names are NAME and --preprocessor-name (default NAME_preprocess).

With --eval_file and one --task_model, the task model and each --tflite file (converted from it by
export_tflite --task_model) are scored on that file with the official metric before anything is
written, and the task model's card gets a table by precision: each model's scores, size and
batch-1 latency on this machine.

With --to, the Kaggle folders are then uploaded with kagglehub (credentials from
KAGGLE_API_TOKEN, KAGGLE_USERNAME/KAGGLE_KEY or kaggle.json, as Kaggle's tools read them):
the model is created if missing (private unless --public), each variation gets a new
version, and every published handle is printed with its version. --dry_run prints what
would be sent and sends nothing. Each request waits at most --network_timeout seconds for
an answer and is sent again up to --network_retries times; then the step fails with one line
naming the host and the call.
"""

import argparse
import re
import sys
from pathlib import Path

from hub_export.kaggle_models import handles, network
from hub_export.publishing import kaggle_folders, kaggle_metadata
from hub_export.publishing.dist_folder import publish
from hub_export.support import cli
from hub_export.support.errors import HubExportError
from hub_export.tflite import is_litert_model

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LANGUAGE = re.compile(r"^([a-z]{2}(-[a-z]{2})?|multilingual)$")


def _name(text: str) -> str:
  if not _NAME.match(text):
    raise argparse.ArgumentTypeError(f"{text!r}: use letters, digits, '.', '_' and '-' (no leading punctuation)")
  return text


def _language(text: str) -> str:
  if not _LANGUAGE.match(text):
    raise argparse.ArgumentTypeError(f"{text!r}: expected an ISO 639-1 code such as 'en', or 'multilingual'")
  return text


def _kaggle_model(text: str) -> handles.ModelHandle:
  try:
    return handles.parse_model(text)
  except HubExportError as e:
    raise argparse.ArgumentTypeError(str(e)) from None


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.publish", description=__doc__.split("\n\n")[0],
                                   epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--encoder", type=Path, help="encoder SavedModel directory")
  parser.add_argument("--preprocessor", type=Path, help="preprocessor SavedModel directory")
  parser.add_argument("--task_model", type=Path, nargs="+", action="extend", default=[], metavar="DIR",
                      help="task SavedModels from finetune (with eval metrics), each published as NAME_<task>")
  parser.add_argument("--tflite", type=Path, nargs="+", default=[], metavar="FILE",
                      help=".tflite files, each published as a tfLite variation named after its file")
  parser.add_argument("--eval_file", type=Path, metavar="FILE",
                      help="with one --task_model: score it and each --tflite converted from it on this eval file "
                           "(SQuAD JSON or TSV, as evaluate_task reads), for a table by precision on its card")
  parser.add_argument("--keras_preset", type=Path, metavar="DIR",
                      help="KerasHub preset (from export_keras), published as the keras variation")
  parser.add_argument("--out", type=Path, required=True, help="output directory (must be empty or absent)")
  parser.add_argument("--name", type=_name, required=True, help="model name, e.g. mobilebert_en_uncased_L-24_H-128_B-512_A-4_F-4_OPT")
  parser.add_argument("--preprocessor-name", type=_name, help="preprocessor model name (default: NAME_preprocess)")
  parser.add_argument("--version", type=cli.positive_int, default=1, help="model version (default 1)")
  parser.add_argument("--publisher", type=_name, default="local", help="publisher / Kaggle owner (default 'local')")
  parser.add_argument("--language", type=_language, required=True, help="ISO 639-1 code ('en') or 'multilingual'")
  parser.add_argument("--license", choices=sorted(kaggle_metadata.KAGGLE_LICENSES), default="apache-2.0",
                      help="license id (default apache-2.0)")
  parser.add_argument("--dataset", help="training data tag for the card, e.g. wikipedia-and-bookscorpus")
  parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
  parser.add_argument("--to", type=_kaggle_model, metavar="kaggle://OWNER/MODEL",
                      help="also upload the Kaggle folders to this Kaggle model (default owner/model in the "
                           "folders: --publisher and --name as slugs)")
  parser.add_argument("--public", action="store_true", help="create the Kaggle model public (default private)")
  parser.add_argument("--version_notes", default="", help="notes for the new version of an existing variation")
  parser.add_argument("--dry_run", action="store_true", help="with --to: print what would be sent, send nothing")
  network.add_arguments(parser)
  args = parser.parse_args(argv)
  if not (args.encoder or args.preprocessor or args.keras_preset or args.task_model):
    parser.error("give --encoder, --preprocessor, --keras_preset, --task_model, or several")
  if args.dry_run and not args.to:
    parser.error("--dry_run needs --to kaggle://OWNER/MODEL")
  for tflite in args.tflite:
    if tflite.suffix != ".tflite" or not tflite.is_file():
      parser.error(f"--tflite {tflite}: not a .tflite file")
    if not is_litert_model(tflite):
      parser.error(f"--tflite {tflite}: not a LiteRT model (no TFL3 file identifier)")
  return args


def _run(argv) -> None:
  args = parse_args(argv)
  if args.to and not args.dry_run:
    from hub_export.kaggle_models.session import require_credentials

    require_credentials()  # before the packing, which takes a while
  from hub_export.tasks.precision_table import precision_rows

  dist = publish(args, precision_rows)
  print(dist, flush=True)
  if args.to:
    from hub_export.kaggle_models import upload

    root = dist / kaggle_folders.FOLDER
    if args.dry_run:
      print("\n".join(upload.plan(root)))
    else:
      upload.upload(root, version_notes=args.version_notes, limits=network.from_args(args))


def main(argv=None) -> int:
  return cli.run(_run, argv)


if __name__ == "__main__":
  sys.exit(main())
