"""Runs every command of the project on a seeded MobileBERT, from checkpoint to dist/.

    python -m hub_export.demo [--out demo_out] [--dist dist] [--text TEXT] [--overwrite]

Writes a seeded checkpoint in the original release layout (the full 24-layer OPT
architecture) with a built-in 30,522-token demo vocab, exports the encoder and the
preprocessor, publishes both to DIST (tarballs, model cards, Kaggle metadata,
SHA256SUMS), checks both tarballs against the TF-Hub contract, unpacks them under
OUT/from_dist and prints one sentence's journey through `hub.KerasLayer` layers loaded
from there. The weights are random: the
demo shows the pipeline, not a trained model. --overwrite replaces the outputs of an
earlier demo run (and refuses directories holding anything else).
"""

import argparse
import sys
import time
from pathlib import Path

from hub_export.hub_format import checksums
from hub_export.publishing import kaggle_folders
from hub_export.support import cli, log
from hub_export.support.atomic import atomic_directory
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import VOCAB_NAME

MODEL_NAME = "mobilebert_en_uncased_demo"
PREPROCESSOR_NAME = f"{MODEL_NAME}_preprocess"
LANGUAGE = "en"
SEED = 0
DEFAULT_TEXT = "MobileBERT runs on phones, and this demo exports it to TF-Hub!"
# What a demo run leaves in each output directory; --overwrite replaces nothing else.
OUT_ENTRIES = ("checkpoint", "export", "from_dist")
DIST_ENTRIES = (MODEL_NAME, PREPROCESSOR_NAME, kaggle_folders.FOLDER, checksums.MANIFEST)


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.demo", description=__doc__.split("\n\n")[0],
                                   epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--out", type=Path, default=Path("demo_out"), help="working directory (default ./demo_out)")
  parser.add_argument("--dist", type=Path, default=Path("dist"), help="where the packages go (default ./dist)")
  parser.add_argument("--text", default=DEFAULT_TEXT, help="the sentence to send through the published models")
  parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier demo run")
  return parser.parse_args(argv)


def _check_outputs(out: Path, dist: Path, overwrite: bool) -> None:
  """Refuses, before any work, outputs that overlap or hold something a demo did not write."""
  out, dist = out.absolute(), dist.absolute()
  if out == dist or out in dist.parents or dist in out.parents:
    raise HubExportError(f"--out {out} and --dist {dist} must not be, or contain, each other")
  for directory, ours in ((out, OUT_ENTRIES), (dist, DIST_ENTRIES)):
    if directory.exists() and not directory.is_dir():
      raise HubExportError(f"{directory} exists and is not a directory")
    if not directory.exists() or not any(directory.iterdir()):
      continue
    if not overwrite:
      raise HubExportError(f"{directory} exists and is not empty; pass --overwrite to replace an earlier demo run")
    foreign = sorted(p.name for p in directory.iterdir() if p.name not in ours)
    if foreign:
      raise HubExportError(f"--overwrite would replace {directory}, which holds more than a demo run's outputs "
                           f"({', '.join(foreign[:5])}); choose another directory")


def _write_checkpoint(directory: Path, overwrite: bool) -> Path:
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from hub_export.config import MobileBertConfig
  from hub_export.demo.demo_vocab import ENGLISH_VOCAB_SIZE, LOWER_CASE, demo_vocab

  config = MobileBertConfig(vocab_size=ENGLISH_VOCAB_SIZE)  # the released OPT architecture
  return write_release_checkpoint(directory, config, SEED, vocab_lines=demo_vocab(), lower_case=LOWER_CASE,
                                  overwrite=overwrite)


def _publish(encoder: Path, preprocessor: Path, dist: Path, overwrite: bool) -> Path:
  from hub_export.publish import parse_args as publish_args, publish

  argv = ["--encoder", str(encoder), "--preprocessor", str(preprocessor), "--out", str(dist),
          "--name", MODEL_NAME, "--preprocessor-name", PREPROCESSOR_NAME, "--language", LANGUAGE]
  return publish(publish_args(argv + (["--overwrite"] if overwrite else [])))


def _tarball(dist: Path, name: str) -> Path:
  tarballs = sorted((dist / name).glob("*.tar.gz"))
  if len(tarballs) != 1:
    raise HubExportError(f"expected one tarball in {dist / name}, found {len(tarballs)}")
  return tarballs[0]


def _verify_tarball(tarball: Path) -> None:
  from hub_export.verification import verify_path

  report = verify_path(tarball)
  if not report.ok:
    raise HubExportError(f"{tarball} breaks the TF-Hub contract: "
                         + "; ".join(check.line() for check in report.failures))
  log.LOG.info("%s: %s, %d checks passed", tarball, report.kind, len(report.checks))


def _unpack(tarball: Path, target: Path, overwrite: bool) -> Path:
  """hub.load does not unpack a local tarball: unpack it (safely) next to the demo's exports."""
  from hub_export.hub_format.tarball import safe_extract

  with atomic_directory(target, overwrite) as tmp:
    safe_extract(tarball, tmp)
  return target


def run_demo(out: Path, dist: Path, text: str = DEFAULT_TEXT, overwrite: bool = False) -> dict:
  """The whole demo; returns the journey's stages (also printed)."""
  _check_outputs(out, dist, overwrite)  # before the slow imports below

  from hub_export.demo.journey import journey, print_journey
  from hub_export.export_encoder import export_encoder
  from hub_export.export_preprocessor import export as export_preprocessor
  from hub_export.support.one_shot_runtime import skip_graph_optimization

  skip_graph_optimization()  # every model here runs a few inputs once

  for directory in (out / "export", out / "from_dist"):
    directory.mkdir(parents=True, exist_ok=True)
  start = time.perf_counter()
  with log.step(f"write a seeded checkpoint and the demo vocab to {out / 'checkpoint'}"):
    checkpoint = _write_checkpoint(out / "checkpoint", overwrite)
  with log.step("export the encoder"):
    encoder = export_encoder(checkpoint, out / "export" / "encoder", overwrite=overwrite)  # casing: vocab_casing.json
  with log.step("export the preprocessor"):
    preprocessor = export_preprocessor(checkpoint / VOCAB_NAME, out / "export" / "preprocessor",
                                       overwrite=overwrite)
  with log.step(f"publish to {dist}"):
    _publish(encoder, preprocessor, dist, overwrite)
  unpacked = {}
  for name in (MODEL_NAME, PREPROCESSOR_NAME):
    tarball = _tarball(dist, name)
    with log.step(f"verify {tarball}"):
      _verify_tarball(tarball)
    with log.step(f"unpack {tarball.name} to {out / 'from_dist' / name}"):
      unpacked[name] = _unpack(tarball, out / "from_dist" / name, overwrite)
  with log.step("send a sentence through hub.KerasLayer layers loaded from the packages"):
    stages = journey(unpacked[MODEL_NAME], unpacked[PREPROCESSOR_NAME], text)
  log.LOG.info("demo done in %.1f s; packages in %s", time.perf_counter() - start, dist)
  print_journey(stages)
  return stages


def _main(argv):
  args = parse_args(argv)
  run_demo(args.out, args.dist, args.text, args.overwrite)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
