"""Worker process for the checkpoint corruption fuzz (tests/faults/test_faults_fuzz_checkpoint.py).

    python tests/support/checkpoint_fuzz_worker.py SCRATCH LAYOUT=PRISTINE_DIR...

Reads one JSON case per line on stdin, restores a corrupted copy of that layout's
pristine checkpoint and prints one JSON verdict line. It is a separate process so that a
crash in native code or a hang shows up as a verdict the test can name, not a dead pytest.
"""

import gc
import json
import shutil
import sys
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]  # this checkout's hub_export, not an installed one, and tests/support

from support.checkpoint_corruption import corrupt  # noqa: E402


def _weights(model) -> dict:
  return {v.name: v.numpy() for v in model.encoder.weights + model.masked_lm.weights}


def _same(a: dict, b: dict) -> bool:
  return a.keys() == b.keys() and all(a[k].shape == b[k].shape and (a[k] == b[k]).all() for k in a)


def main(argv) -> None:
  import tf_keras

  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.support.errors import HubExportError

  scratch = Path(argv[0])
  pristine = dict(arg.split("=", 1) for arg in argv[1:])
  reference = {layout: _weights(load_mobilebert(locate_checkpoint(path))[0]) for layout, path in pristine.items()}
  print(json.dumps({"ready": True}), flush=True)
  for line in sys.stdin:
    case = json.loads(line)
    work = scratch / "case"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine[case["layout"]], work)
    corrupt(work, case)
    try:
      model, _ = load_mobilebert(locate_checkpoint(work))
      verdict = {"outcome": "identical" if _same(_weights(model), reference[case["layout"]]) else "different"}
    except HubExportError as e:
      verdict = {"outcome": "error", "message": str(e)}
    except Exception as e:  # noqa: BLE001 - exactly what the fuzz is looking for
      verdict = {"outcome": "raw exception", "message": "".join(traceback.format_exception_only(e)).strip()}
    model = None
    tf_keras.backend.clear_session()
    gc.collect()
    print(json.dumps({"id": case["id"], **verdict}), flush=True)


if __name__ == "__main__":
  main(sys.argv[1:])
