"""Peak memory of `publish --to kaggle://...` against packing alone, full-size encoder.

    python -m bench.bench_publish_rss [--work_dir DIR] [--repeats 2]

Exports the full-size English OPT encoder once (seeded release checkpoint, reused under
--work_dir), then alternates two fresh child processes per repeat:

- `publish --encoder ... --out ...`: tarball, card, Kaggle folder (packing alone);
- the same with `--to kaggle://bench/mobilebert`, uploading through kagglehub to the
  test suite's Kaggle stub (tests/support/kaggle_stub.py) on 127.0.0.1, run in its own process
  (a child's peak as wait4 reports it includes its parent's size at the fork, so the
  parent must stay small: the stub keeps every uploaded byte in memory, and this process
  never imports TensorFlow);
- the upload step alone (`kaggle_models.upload.upload` on the packed dist's kaggle folder,
  no TensorFlow imported), whose peak can be set against the largest file it sends.

Peak RSS comes from `os.wait4` on each child. The command's peak is set by reading the
model's facts (TensorFlow loads the SavedModel), so the upload-alone child is what shows
streaming: it stays far below the size of the largest file (variables, ~140 MB).
The stub's stored bytes are checked against the export, so the figure is for a real upload.
"""

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from bench.bench_export import run_child
from bench.full_size_checkpoint import DEFAULT_WORK_DIR

TESTS = Path(__file__).resolve().parents[1] / "tests"
USER, KEY = "bench", "bench-key-not-secret"
_UPLOAD_ALONE = "import sys; from hub_export.kaggle_models.upload import upload; upload(sys.argv[1])"
# The stub's process: prints its proxy address, serves until stdin closes, then prints the
# sha256 of every stored file, per variation and version, as JSON.
_STUB = """
import hashlib, json, sys
sys.path.insert(0, sys.argv[3])
from support.kaggle_stub import KaggleStub
with KaggleStub(sys.argv[1], sys.argv[2]) as stub:
  print(stub.proxy, flush=True)
  sys.stdin.read()
  print(json.dumps({"/".join(key): [{name: hashlib.sha256(data).hexdigest() for name, data in v["files"].items()}
                                    for v in variation.versions] for key, variation in stub.variations.items()}))
"""


def _publish(export: Path, out: Path, *extra) -> list:
  return [sys.executable, "-m", "hub_export.publish", "--encoder", str(export), "--out", str(out), "--overwrite",
          "--name", "mobilebert_en_uncased_L-24_H-128_B-512_A-4_F-4_OPT", "--language", "en",
          "--publisher", USER, *extra]


def _stub_environment(proxy: str, work: Path) -> None:
  for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "KAGGLE_API_TOKEN"):
    os.environ.pop(name, None)
  os.environ.update(KAGGLE_API_ENVIRONMENT="LOCALHOST", http_proxy=proxy, KAGGLE_USERNAME=USER,
                    KAGGLE_KEY=KEY, KAGGLE_CONFIG_DIR=str(work / "kaggle_config"),
                    KAGGLEHUB_CACHE=str(work / "kagglehub_cache"))


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--work_dir", type=Path, default=DEFAULT_WORK_DIR)
  parser.add_argument("--repeats", type=int, default=2)
  args = parser.parse_args(argv)
  work = args.work_dir
  # In children: this process must not import TensorFlow (see the stub's note above).
  checkpoint = work / "checkpoint_en"
  run_child([sys.executable, "-m", "bench.full_size_checkpoint", str(checkpoint)])
  export = work / "export_en"
  if not (export / "saved_model.pb").is_file():
    run_child([sys.executable, "-m", "hub_export.export_encoder", "--ckpt", str(checkpoint), "--export_dir",
               str(export), "--lower_case", "true", "--overwrite"])
  export_bytes = sum(p.stat().st_size for p in export.rglob("*") if p.is_file())
  largest = max(p.stat().st_size for p in export.rglob("*") if p.is_file())
  pack, upload, upload_alone = [], [], []
  stub = subprocess.Popen([sys.executable, "-c", _STUB, USER, KEY, str(TESTS)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
  _stub_environment(stub.stdout.readline().strip(), work)
  for _ in range(args.repeats):
    pack.append(run_child(_publish(export, work / "dist_pack")))
    upload.append(run_child(_publish(export, work / "dist_upload", "--to", f"kaggle://{USER}/mobilebert")))
    upload_alone.append(run_child([sys.executable, "-c", _UPLOAD_ALONE, str(work / "dist_pack" / "kaggle")]))
  stored, _ = stub.communicate("")
  variation = "mobilebert-en-uncased-l-24-h-128-b-512-a-4-f-4-opt"
  versions = json.loads(stored)[f"{USER}/mobilebert/MODEL_FRAMEWORK_TENSOR_FLOW_2/{variation}"]
  local = {p.relative_to(export).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
           for p in export.rglob("*") if p.is_file()}
  assert all(version == local for version in versions), f"the stub's copy of {variation} differs from the export"
  figures = {
      "export_mb": round(export_bytes / 2**20, 1),
      "pack_peak_rss_mb": [round(r["peak_rss_mb"]) for r in pack],
      "publish_to_peak_rss_mb": [round(r["peak_rss_mb"]) for r in upload],
      "largest_file_mb": round(largest / 2**20, 1),
      "upload_alone_peak_rss_mb": [round(r["peak_rss_mb"]) for r in upload_alone],
      "pack_wall_s": [round(r["wall_s"], 1) for r in pack],
      "publish_to_wall_s": [round(r["wall_s"], 1) for r in upload],
      "versions_uploaded_and_identical": len(versions),
      "load_average": os.getloadavg(),
      "this_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
  }
  figures["median_difference_mb"] = round(statistics.median(r["peak_rss_mb"] for r in upload)
                                          - statistics.median(r["peak_rss_mb"] for r in pack))
  print(json.dumps(figures, indent=2))


if __name__ == "__main__":
  main()
