"""Proves an export by reloading it in a fresh process and comparing it with the model.

The exporter computes reference outputs in memory, writes them beside (not inside) the
export's temporary, and runs `python -m hub_export.savedmodel.roundtrip KIND EXPORT_DIR
PROBES.npz` in a new process, so nothing cached in the exporting process can hide a broken
SavedModel. The new process also runs the whole TF-Hub contract check
(`hub_export.verification`). Encoders are compared on random ids within a tolerance,
preprocessors on text samples exactly.
"""

import os
import signal
import subprocess
import sys

import numpy as np

from hub_export import signatures as sig
from hub_export.support.atomic import scratch_beside
from hub_export.support.errors import HubExportError

# Max abs difference for outputs of magnitude up to 1; beyond that, relative to the output's
# largest value (float32 spacing grows with magnitude, and a reloaded graph may sum in a
# different order: NoNorm hidden states and vocab-wide logits reach tens).
TOLERANCE = 1e-5
# (batch, length, padding) probes: several sizes, padded and unpadded; lengths past a model's
# max_position_embeddings are cut to it.
PROBE_SHAPES = ((1, 1, 0), (2, 9, 0), (3, 24, 7), (1, 128, 0), (4, 64, 30))
MLM_POSITIONS = 3
# Text the preprocessor round trip tokenizes: punctuation, accents, empty and blank strings,
# several scripts, control and format characters, an emoji, a word over 200 characters.
PREPROCESSOR_SAMPLES = ("Hello, World! It's a naïve café.", "", "  \t ", "Ωμέγα ΟΔΟΣ мир 東京タワー 안녕",
                        "a\u200cb\x00c\ufeffd 👍🏽", "x" * 250)
ENCODER, PREPROCESSOR = "encoder", "preprocessor"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def probe_inputs(config, seed: int = 0) -> list:
  """Deterministic encoder + MLM inputs for every probe shape, within the model's (MobileBertConfig) limits."""
  rng = np.random.default_rng(seed)
  vocab_size, type_vocab_size = config.vocab_size, config.type_vocab_size
  probes = []
  for batch, length, padding in PROBE_SHAPES:
    length = min(length, config.max_position_embeddings)
    padding = min(padding, length - 1)
    mask = np.ones([batch, length], np.int32)
    if padding:
      mask[:, length - padding:] = 0
    probes.append({
        sig.INPUT_WORD_IDS: (rng.integers(0, vocab_size, [batch, length]) * mask).astype(np.int32),
        sig.INPUT_MASK: mask,
        sig.INPUT_TYPE_IDS: (rng.integers(0, type_vocab_size, [batch, length]) * mask).astype(np.int32),
        sig.MASKED_LM_POSITIONS: rng.integers(0, length - padding, [batch, MLM_POSITIONS]).astype(np.int32),
    })
  return probes


def _flatten(probes: list, outputs: list) -> dict:
  flat = {}
  for i, (probe, out) in enumerate(zip(probes, outputs)):
    flat.update({f"{i}/in/{k}": v for k, v in probe.items()})
    flat.update({f"{i}/out/{k}": v for k, v in out.items()})
  return flat


def reference_outputs(root, probes: list) -> list:
  """What the in-memory export object (as saved) gives for each probe, in inference mode."""
  import tensorflow as tf

  from hub_export.support.save_tracing import tracing_for_save
  results = []
  with tracing_for_save():  # the saved traces, not new ones
    for probe in probes:
      outputs = root.mlm.__call__({k: tf.constant(v) for k, v in probe.items()}, training=False)
      results.append({key: outputs[key].numpy() for key in (sig.SEQUENCE_OUTPUT, sig.POOLED_OUTPUT, sig.MLM_LOGITS)})
  return results


def scaled_difference(want, have) -> float:
  """The largest absolute difference, relative to the largest |want| once that exceeds 1
  (see TOLERANCE); infinite when the shapes differ."""
  diff = float(np.max(np.abs(want - have))) if want.shape == have.shape else float("inf")
  return diff / max(1.0, float(np.max(np.abs(want), initial=0.0)))


def compare_export(loaded, flat: dict) -> list:
  """Lists every disagreement of the loaded encoder export with the stored reference outputs."""
  import tensorflow as tf
  serve = loaded.signatures["serving_default"]
  # A loaded function called eagerly retraces for every new input shape, and the runtime then
  # re-optimizes the whole encoder graph (seconds per shape at full size). The first probe
  # takes that eager path; the others go through one dynamic-shape trace per entry point,
  # the way a Keras model traces a hub.KerasLayer.
  call = tf.function(lambda x: loaded(x, training=False), input_signature=[sig.encoder_input_spec()], autograph=False)
  mlm = tf.function(lambda x: loaded.mlm(x, training=False), input_signature=[sig.mlm_input_spec()],
                    autograph=False)
  problems = []
  count = len({key.split("/")[0] for key in flat})
  for i in range(count):
    probe = {k: tf.constant(flat[f"{i}/in/{k}"]) for k in sig.ENCODER_INPUT_KEYS + (sig.MASKED_LM_POSITIONS,)}
    encoder_inputs = {k: probe[k] for k in sig.ENCODER_INPUT_KEYS}
    got = {
        "__call__": loaded(encoder_inputs, training=False) if i == 0 else call(encoder_inputs),
        "mlm": loaded.mlm(probe, training=False) if i == 0 else mlm(probe),
        "serving_default": serve(**encoder_inputs),
    }
    for entry, outputs in got.items():
      for key in (sig.SEQUENCE_OUTPUT, sig.POOLED_OUTPUT, sig.MLM_LOGITS):
        if key not in outputs:
          if key != sig.MLM_LOGITS or entry == "mlm":
            problems.append(f"{entry} has no {key}")
          continue
        want = flat[f"{i}/out/{key}"]
        have = outputs[key].numpy()
        if key == sig.SEQUENCE_OUTPUT:  # padded positions are not part of the contract
          real = flat[f"{i}/in/{sig.INPUT_MASK}"].astype(bool)
          want, have = want[real], have[real]
        diff = scaled_difference(want, have)
        if not diff <= TOLERANCE:
          shape = list(flat[f"{i}/in/{sig.INPUT_WORD_IDS}"].shape)
          problems.append(f"{entry} {key} differs by {diff:.3g} at inputs {shape}")
  return problems


def preprocessor_outputs(preprocessor) -> dict:
  """The default call and `.tokenize` on PREPROCESSOR_SAMPLES, as flat numpy arrays."""
  import tensorflow as tf
  samples = tf.constant(PREPROCESSOR_SAMPLES)
  packed = preprocessor(samples)
  tokens = preprocessor.tokenize(samples)
  outputs = {key: packed[key].numpy() for key in sig.ENCODER_INPUT_KEYS}
  outputs["tokenize/flat_values"] = tokens.flat_values.numpy()
  outputs.update({f"tokenize/row_splits_{i}": splits.numpy() for i, splits in enumerate(tokens.nested_row_splits)})
  return outputs


def compare_preprocessor(loaded, flat: dict) -> list:
  """Lists every output of the loaded preprocessor export that differs from the reference."""
  got = preprocessor_outputs(loaded)
  return [f"{key} differs" for key in sorted(set(flat) | set(got))
          if key not in flat or key not in got or not np.array_equal(flat[key], got[key])]


def verify_in_fresh_process(export_dir: str, root, config) -> None:
  """Raises HubExportError unless a new process reproduces the in-memory encoder's outputs."""
  probes = probe_inputs(config)
  _check_in_fresh_process(ENCODER, export_dir, _flatten(probes, reference_outputs(root, probes)))


def verify_preprocessor_in_fresh_process(export_dir: str, preprocessor) -> None:
  """Raises HubExportError unless a new process reproduces the in-memory preprocessor exactly."""
  from hub_export.support.save_tracing import tracing_for_save
  with tracing_for_save():
    expected = preprocessor_outputs(preprocessor)
  _check_in_fresh_process(PREPROCESSOR, export_dir, expected)


def _check_in_fresh_process(kind: str, export_dir: str, flat: dict) -> None:
  with scratch_beside(export_dir) as tmp:
    path = os.path.join(tmp, "probes.npz")
    np.savez(path, **flat)
    run_check_process("hub_export.savedmodel.roundtrip", [kind, export_dir, path], "round-trip check of the export")


def _killed_with_this_process():
  """A preexec_fn that has Linux SIGKILL the child when this process dies (PR_SET_PDEATHSIG), so a killed export
  leaves no checking process running; None elsewhere."""
  if not sys.platform.startswith("linux"):
    return None
  import ctypes

  prctl = ctypes.CDLL(None, use_errno=True).prctl
  parent = os.getpid()

  def preexec():
    prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died before the signal was asked for
      os.kill(os.getpid(), signal.SIGKILL)

  return preexec


def run_check_process(module: str, args: list, what: str) -> None:
  """Runs `python -m module args` in a fresh process; its failure becomes one HubExportError line."""
  proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, preexec_fn=_killed_with_this_process())
  if proc.returncode < 0:  # killed (out of memory, a crash in native code, a user's kill)
    raise HubExportError(f"{what} failed: the checking process was killed by {signal.Signals(-proc.returncode).name}")
  if proc.returncode != 0:
    # The verdict is the last line on stdout (or an `error:` line on stderr); a crash leaves
    # its exception last on stderr.
    lines = proc.stdout.strip().splitlines() or proc.stderr.strip().splitlines() or ["no output"]
    raise HubExportError(f"{what} failed: {lines[-1].strip().removeprefix('error: ')}")


def main(argv) -> int:
  from hub_export.hub_format.reading import load_saved_model
  from hub_export.support.one_shot_runtime import skip_graph_optimization
  from hub_export.verification import verify_saved_model

  skip_graph_optimization()
  kind, export_dir, probes_path = argv
  with np.load(probes_path) as data:
    flat = dict(data)
  loaded = load_saved_model(export_dir)  # once, for the contract and then the comparison
  report = verify_saved_model(export_dir, loaded=loaded)
  compare = compare_export if kind == ENCODER else compare_preprocessor
  problems = compare(loaded, flat)
  problems += [f"contract: {check.name}: {check.detail}" for check in report.failures]
  if report.kind != kind:
    problems.append(f"contract: the export is {report.kind}, not {kind}")
  if problems:
    print(f"{len(problems)} mismatches: " + "; ".join(problems[:10]))
    return 1
  print(f"round trip OK ({kind}); TF-Hub contract checks pass")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
