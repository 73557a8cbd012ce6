"""What `python -m hub_export.publish` writes into DIST: per SavedModel a deterministic TF-Hub tarball and its
tfhub.dev card, the Kaggle model and variation folders, and SHA256SUMS, all or nothing."""

import dataclasses
import typing
from pathlib import Path

from hub_export.hub_format import checksums
from hub_export.hub_format.tarball import write_tarball
from hub_export.publishing import kaggle_folders, kaggle_metadata, model_card
from hub_export.support import log
from hub_export.support.atomic import atomic_directory, check_target, write_failure
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import SAVED_MODEL_NAME

# What --out holds after a run (NAME/ with the tarball and its card, the Kaggle folders, the
# checksums): the files --overwrite may replace.
DIST_FILES = ("*/*.tar.gz", "*/*.md", f"{kaggle_folders.FOLDER}/**", checksums.MANIFEST)


def _write_tfhub_package(dist: Path, release: model_card.Release, source: Path, card: str) -> None:
  folder = dist / release.name
  folder.mkdir(parents=True)
  with log.step(f"pack {source} -> {release.tarball_name}"):
    write_tarball(source, folder / release.tarball_name)
  (folder / f"{release.version}.md").write_text(card, encoding="utf-8")


def _card_body(card: str) -> str:
  return "## " + card.split("\n## ", 1)[1]


class _Planned(typing.NamedTuple):
  """One Kaggle variation to write: where it goes, what it is, and the card it is described by."""

  framework: str
  slug: str
  kind: str
  source: Path
  card: str


def _write_kaggle_folders(root: Path, args, owner: str, model: str, variations: list) -> None:
  """The model takes the first variation's card (the encoder's when there is one)."""
  title_card = variations[0].card
  kaggle_folders.write_model_metadata(root, kaggle_metadata.model_metadata(
      owner, model, args.name, model_card.one_line_description(title_card), _card_body(title_card), args.license,
      private=not args.public))
  for v in variations:
    with log.step(f"copy {v.source} -> {root.name}/{v.framework}/{v.slug}"):
      kaggle_folders.write_variation(root, v.source, kaggle_metadata.instance_metadata(
          owner, model, v.slug, v.framework, v.kind, model_card.one_line_description(v.card), args.license,
          args.dataset))


def publish(args, score_precisions=None) -> Path:
  """`score_precisions(task_model, tflite_files, eval_file)`, for --eval_file: the rows of the task card's table by
  precision (`tasks.precision_table.precision_rows`, which the command passes: scoring is the tasks folder's)."""
  from hub_export.publishing import facts

  base = model_card.Release(publisher=args.publisher, name=args.name, version=args.version,
                            language=args.language, license=args.license, dataset=args.dataset)
  pre_release = dataclasses.replace(base, name=args.preprocessor_name or f"{args.name}_preprocess")
  if args.encoder and args.preprocessor and pre_release.name == base.name:
    raise HubExportError(f"the encoder and the preprocessor would both be published as {base.name!r}")
  for source in (args.encoder, args.preprocessor, *args.task_model):
    if source is not None and not (source / SAVED_MODEL_NAME).is_file():
      raise HubExportError(f"{source} is not a SavedModel directory (no saved_model.pb)")
  if args.eval_file and len(args.task_model) != 1:
    raise HubExportError(f"--eval_file scores one --task_model and the --tflite files converted from it; got "
                         f"{len(args.task_model)} task models")
  if args.eval_file and not Path(args.eval_file).is_file():
    raise HubExportError(f"--eval_file {args.eval_file} is not a file")
  sources = [p for p in (args.encoder, args.preprocessor, *args.task_model) if p is not None]
  protected = (sources + list(args.tflite) + ([args.keras_preset] if args.keras_preset else [])
               + ([args.eval_file] if args.eval_file else []))
  check_target(args.out, args.overwrite, protected, ours=DIST_FILES)  # before the models are read
  owner, model = ((args.to.owner, args.to.model) if args.to else
                  (kaggle_metadata.slug(args.publisher), kaggle_metadata.slug(args.name)))
  packages, variations = [], []
  with log.step("read model facts"):
    if args.encoder:
      card = model_card.encoder_card(base, facts.encoder_facts(args.encoder),
                                     pre_release.handle if args.preprocessor else None)
      packages.append((base, args.encoder, card))
      variations.append(_Planned(kaggle_metadata.SAVED_MODEL_FRAMEWORK, kaggle_metadata.slug(args.name), "encoder",
                                 args.encoder, card))
    if args.preprocessor:
      pre_facts = facts.preprocessor_facts(args.preprocessor)
      card = model_card.preprocessor_card(pre_release, pre_facts)
      packages.append((pre_release, args.preprocessor, card))
      variations.append(_Planned(kaggle_metadata.SAVED_MODEL_FRAMEWORK,
                                 kaggle_metadata.preprocessor_variation(args.language, pre_facts.lower_case),
                                 "preprocessor", args.preprocessor, card))
    if args.keras_preset:
      card = model_card.keras_preset_card(base, facts.keras_preset_facts(args.keras_preset))
      variations.append(_Planned(kaggle_metadata.KERAS_FRAMEWORK, kaggle_metadata.slug(args.name), "keras_preset",
                                 args.keras_preset, card))
    for source in args.task_model:
      config = facts.task_facts(source)
      release = dataclasses.replace(base, name=model_card.task_model_name(args.name, config))
      rows = score_precisions(source, args.tflite, args.eval_file) if args.eval_file else ()
      card = model_card.task_card(release, config, rows)
      packages.append((release, source, card))
      variations.append(_Planned(kaggle_metadata.SAVED_MODEL_FRAMEWORK, kaggle_metadata.slug(release.name), "task",
                                 source, card))
  for tflite in args.tflite:
    variations.append(_Planned(kaggle_metadata.TFLITE_FRAMEWORK, kaggle_metadata.slug(tflite.stem), "tflite", tflite,
                               variations[0].card))
  releases = [release.name for release, _, _ in packages]
  if len(set(releases)) != len(releases):
    raise HubExportError(f"two models would share a TF-Hub name: {', '.join(releases)}")
  names = [(v.framework, v.slug) for v in variations]
  if len(set(names)) != len(names):
    raise HubExportError(f"two models would share a Kaggle variation: {', '.join('/'.join(n) for n in names)}")
  with atomic_directory(args.out, overwrite=args.overwrite, protected=protected, ours=DIST_FILES) as dist:
    try:
      for release, source, card in packages:
        _write_tfhub_package(dist, release, source, card)
      _write_kaggle_folders(dist / kaggle_folders.FOLDER, args, owner, model, variations)
      checksums.write_manifest(dist)
    except OSError as e:
      raise write_failure(args.out, e) from None
  return Path(args.out)
