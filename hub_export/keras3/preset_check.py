"""Proves a preset by loading it in a fresh process and comparing it with the in-memory model.

    python -m hub_export.keras3.preset_check PRESET_DIR [PROBES.npz]

Without probes: loads the backbone, the masked-LM task and the tokenizer (one-line error
if the folder is not a loadable MobileBERT preset) and runs one sentence through them.
With probes (written by the exporter beside, not inside, the preset's temporary): the loaded
models must reproduce the stored outputs, and the loaded tokenizer the stored ids.
"""

import os
import sys

import numpy as np

from hub_export import signatures as sig
from hub_export.savedmodel.roundtrip import TOLERANCE, probe_inputs, run_check_process, scaled_difference
from hub_export.support import cli
from hub_export.support.atomic import scratch_beside
from hub_export.support.errors import HubExportError

SAMPLE_TEXT = ("Hello, World! Naïve café façade.", "中文 and 😀 emoji", "tab\tnew\nline\u200bzero\x00width",
               "x" * 201, "")


def keras_inputs(probe: dict) -> dict:
  """A roundtrip probe (TF-Hub input names) as KerasHub inputs."""
  return {"token_ids": probe[sig.INPUT_WORD_IDS], "segment_ids": probe[sig.INPUT_TYPE_IDS],
          "padding_mask": probe[sig.INPUT_MASK], "mask_positions": probe[sig.MASKED_LM_POSITIONS]}


def backbone_outputs(backbone, probe: dict) -> dict:
  """sequence_output and pooled_output of a Keras 3 backbone in inference mode, as numpy."""
  from keras import ops

  inputs = {k: v for k, v in keras_inputs(probe).items() if k != "mask_positions"}
  outputs = backbone(inputs, training=False)
  return {key: ops.convert_to_numpy(outputs[key]) for key in (sig.SEQUENCE_OUTPUT, sig.POOLED_OUTPUT)}


def task_outputs(task, probe: dict) -> dict:
  """backbone_outputs plus mlm_logits of a Keras 3 masked-LM task in inference mode."""
  from keras import ops

  logits = task(keras_inputs(probe), training=False)
  return {**backbone_outputs(task.backbone, probe), sig.MLM_LOGITS: ops.convert_to_numpy(logits)}


def differences(probe: dict, want: dict, have: dict, label: str) -> list:
  """Disagreements beyond TOLERANCE (relative to the largest value past 1), padding ignored."""
  problems = []
  real = probe[sig.INPUT_MASK].astype(bool)
  for key in (sig.SEQUENCE_OUTPUT, sig.POOLED_OUTPUT, sig.MLM_LOGITS):
    a, b = want[key], have[key]
    if key == sig.SEQUENCE_OUTPUT:
      a, b = a[real], b[real]
    diff = scaled_difference(a, b)
    if not diff <= TOLERANCE:
      problems.append(f"{label} {key} differs by {diff:.3g} at inputs {list(probe[sig.INPUT_WORD_IDS].shape)}")
  return problems


def token_ids(tokenizer) -> list:
  return [np.asarray(tokenizer(text)).tolist() for text in SAMPLE_TEXT]


def verify_in_fresh_process(preset_dir, task, config) -> None:
  """Raises HubExportError unless a new process loads the preset and reproduces `task`."""
  probes = probe_inputs(config)
  flat = {}
  for i, probe in enumerate(probes):
    flat.update({f"{i}/in/{k}": v for k, v in probe.items()})
    flat.update({f"{i}/out/{k}": v for k, v in task_outputs(task, probe).items()})
  for i, ids in enumerate(token_ids(task.preprocessor.tokenizer)):
    flat[f"text/{i}"] = np.asarray(ids, np.int64)
  with scratch_beside(preset_dir) as tmp:
    path = os.path.join(tmp, "probes.npz")
    np.savez(path, **flat)
    run_check_process("hub_export.keras3.preset_check", [str(preset_dir), path], "check of the preset")


def _compare(preset_dir, probes_path) -> list:
  from hub_export.keras3.preset import load_preset_models

  backbone, task, tokenizer = load_preset_models(preset_dir)
  if probes_path is None:
    task_outputs(task, probe_inputs(backbone.mobilebert_config)[1])
    token_ids(tokenizer)
    return []
  with np.load(probes_path) as data:
    flat = dict(data)
  problems = []
  count = len({key.split("/")[0] for key in flat if not key.startswith("text/")})
  for i in range(count):
    probe = {k.split("/")[-1]: v for k, v in flat.items() if k.startswith(f"{i}/in/")}
    want = {k.split("/")[-1]: v for k, v in flat.items() if k.startswith(f"{i}/out/")}
    problems += differences(probe, want, task_outputs(task, probe), "MobileBertMaskedLM")
    problems += differences(probe, want, {**backbone_outputs(backbone, probe), sig.MLM_LOGITS: want[sig.MLM_LOGITS]},
                            "Backbone")
  for i, ids in enumerate(token_ids(tokenizer)):
    if ids != flat[f"text/{i}"].tolist():
      problems.append(f"tokenizer ids differ for {SAMPLE_TEXT[i][:20]!r}")
  return problems


def _main(argv):
  if len(argv) not in (1, 2):
    raise HubExportError("usage: python -m hub_export.keras3.preset_check PRESET_DIR [PROBES.npz]")
  problems = _compare(argv[0], argv[1] if len(argv) == 2 else None)
  if problems:
    raise HubExportError(f"{len(problems)} mismatches: " + "; ".join(problems[:10]))
  print(f"preset {argv[0]} loads and agrees with the exported model")


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
