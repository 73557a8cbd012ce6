"""Entry points: verify an export directory, or a published tarball unpacked safely first."""

from pathlib import Path

from hub_export.hub_format import checksums, reading
from hub_export.hub_format.task_model_files import TASK_CONFIG_NAME, read_task_config
from hub_export.hub_format.tarball import MAX_UNPACKED_BYTES
from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG
from hub_export.verification.encoder_contract import check_encoder
from hub_export.verification.graph_safety import check_graph
from hub_export.verification.preprocessor import check_preprocessor
from hub_export.verification.report import Check, Report


def verify_saved_model(export_dir, label=None, loaded=None) -> Report:
  """Loads `export_dir` (unless the caller passes it `loaded`), detects its kind and checks every clause of that
  kind's contract.

  Raises HubExportError only for unusable or unsafe input (missing path, no saved_model.pb,
  files that do not match a SHA256SUMS inside, an op that could touch files, processes or
  the network) and for a task model (assets/task.json), whose contract is `evaluate_task`'s;
  anything wrong with the model itself becomes a FAIL in the report.
  """
  export_dir = reading.require_saved_model_dir(export_dir)
  manifest = checksums.check_tree(export_dir)
  if manifest:
    LOG.info("every file matches %s", manifest)
  if (export_dir / "assets" / TASK_CONFIG_NAME).is_file():
    task = read_task_config(export_dir)["task"]
    raise HubExportError(f"{label or export_dir} is a {task} task model (assets/{TASK_CONFIG_NAME}), not a text "
                         f"encoder or preprocessor: score it with `python -m hub_export.evaluate_task`")
  check_graph(export_dir)
  report = Report(path=str(label or export_dir), kind="unknown")
  try:
    obj = reading.load_saved_model(export_dir) if loaded is None else loaded
  except Exception as e:  # noqa: BLE001 - a model that does not load is a contract failure
    report.checks.append(Check("load", False, f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"))
    return report
  report.checks.append(Check("load", True, "import tensorflow_text; hub.load"))
  kind = reading.detect_kind(obj)
  if kind is None:
    report.checks.append(Check("kind", False, "neither the encoder API (dict of input_word_ids, ...; .mlm) "
                                              "nor the preprocessor API (.tokenize, .bert_pack_inputs)"))
    return report
  report.kind = kind
  report.checks.append(Check("kind", True, kind))
  check = check_encoder if kind == reading.ENCODER else check_preprocessor
  report.checks.extend(check(obj, export_dir))
  return report


def verify_path(path, max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> Report:
  """Verifies a SavedModel directory, or a `.tar.gz` package after a checked, safe unpack to a temp dir
  (`reading.unpacked_saved_model`)."""
  with reading.unpacked_saved_model(path, max_unpacked_bytes) as export_dir:
    return verify_saved_model(export_dir, label=Path(path))
