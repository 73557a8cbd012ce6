"""Packages exported SavedModels for TF-Hub and Kaggle Models.

    python -m hub_export.publish --encoder DIR --preprocessor DIR --out DIST --name NAME \\
        --language en [--version 1] [--publisher ORG] [--overwrite]

For each SavedModel, DIST/<model>/ gets a deterministic TF-Hub tarball
(<model>_<version>.tar.gz, its root the SavedModel), a tfhub.dev model card
(<version>.md) and Kaggle metadata (kaggle/model-metadata.json,
kaggle/model-instance-metadata.json); DIST/SHA256SUMS lists every file. The encoder is
published as NAME, the preprocessor as --preprocessor-name (default NAME_preprocess).
"""

import argparse
import dataclasses
import re
import sys
from pathlib import Path

from hub_export import cli
from hub_export.atomic import atomic_directory, write_failure
from hub_export.errors import HubExportError
from hub_export.hub_format.tarball import write_tarball
from hub_export.publishing import checksums, kaggle_metadata, model_card

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


def _positive(text: str) -> int:
  if not text.isdigit() or int(text) < 1:
    raise argparse.ArgumentTypeError(f"{text!r}: expected a positive integer")
  return int(text)


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.publish", description=__doc__.split("\n\n")[0],
                                   epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--encoder", type=Path, help="encoder SavedModel directory")
  parser.add_argument("--preprocessor", type=Path, help="preprocessor SavedModel directory")
  parser.add_argument("--out", type=Path, required=True, help="output directory (must be empty or absent)")
  parser.add_argument("--name", type=_name, required=True, help="model name, e.g. mobilebert_en_uncased_L-24_H-128_B-512_A-4_F-4_OPT")
  parser.add_argument("--preprocessor-name", type=_name, help="preprocessor model name (default: NAME_preprocess)")
  parser.add_argument("--version", type=_positive, default=1, help="model version (default 1)")
  parser.add_argument("--publisher", type=_name, default="local", help="publisher / Kaggle owner (default 'local')")
  parser.add_argument("--language", type=_language, required=True, help="ISO 639-1 code ('en') or 'multilingual'")
  parser.add_argument("--license", choices=sorted(kaggle_metadata.KAGGLE_LICENSES), default="apache-2.0",
                      help="license id (default apache-2.0)")
  parser.add_argument("--dataset", help="training data tag for the card, e.g. wikipedia-and-bookscorpus")
  parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
  args = parser.parse_args(argv)
  if not (args.encoder or args.preprocessor):
    parser.error("give --encoder, --preprocessor, or both")
  return args


def _write_model(dist: Path, release: model_card.Release, kind: str, source: Path, card: str) -> None:
  folder = dist / release.name
  (folder / "kaggle").mkdir(parents=True)
  with cli.step(f"pack {source} -> {release.tarball_name}"):
    write_tarball(source, folder / release.tarball_name)
  (folder / f"{release.version}.md").write_text(card, encoding="utf-8")
  body = card.split("\n## ", 1)[1]
  overview = model_card.one_line_description(card)
  (folder / "kaggle" / "model-metadata.json").write_text(
      kaggle_metadata.model_metadata(release.publisher, release.name, overview, "## " + body, release.license),
      encoding="utf-8")
  (folder / "kaggle" / "model-instance-metadata.json").write_text(
      kaggle_metadata.instance_metadata(release.publisher, release.name, kind, overview, release.license,
                                        fine_tunable=kind == "encoder", dataset=release.dataset),
      encoding="utf-8")


def publish(args) -> Path:
  from hub_export.publishing import facts

  base = model_card.Release(publisher=args.publisher, name=args.name, version=args.version,
                            language=args.language, license=args.license, dataset=args.dataset)
  pre_release = dataclasses.replace(base, name=args.preprocessor_name or f"{args.name}_preprocess")
  if args.encoder and args.preprocessor and pre_release.name == base.name:
    raise HubExportError(f"the encoder and the preprocessor would both be published as {base.name!r}")
  for source in (args.encoder, args.preprocessor):
    if source is not None and not (source / "saved_model.pb").is_file():
      raise HubExportError(f"{source} is not a SavedModel directory (no saved_model.pb)")
  sources = [p for p in (args.encoder, args.preprocessor) if p is not None]
  cards = {}
  with cli.step("read model facts"):
    if args.encoder:
      cards["encoder"] = model_card.encoder_card(base, facts.encoder_facts(args.encoder),
                                                 pre_release.handle if args.preprocessor else None)
    if args.preprocessor:
      cards["preprocessor"] = model_card.preprocessor_card(pre_release, facts.preprocessor_facts(args.preprocessor))
  with atomic_directory(args.out, overwrite=args.overwrite, protected=sources) as dist:
    try:
      if args.encoder:
        _write_model(dist, base, "encoder", args.encoder, cards["encoder"])
      if args.preprocessor:
        _write_model(dist, pre_release, "preprocessor", args.preprocessor, cards["preprocessor"])
      checksums.write_manifest(dist)
    except OSError as e:
      raise write_failure(args.out, e) from None
  return Path(args.out)


def main(argv=None) -> int:
  return cli.run(lambda a: print(publish(parse_args(a))), argv)


if __name__ == "__main__":
  sys.exit(main())
