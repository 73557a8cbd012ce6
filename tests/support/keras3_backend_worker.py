"""Every Keras 3 check for one backend, in one process (the backend is fixed at import).

    KERAS_BACKEND=jax python tests/support/keras3_backend_worker.py WORKDIR OUT.json

WORKDIR is laid out by tests/keras3/test_keras3.py: release/NAME (the golden configs' seeded
checkpoints), preset (exported from release/opt_small), encoder (our SavedModel of the
same checkpoint), sentences.json. Writes the measured figures as JSON; the test asserts.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SUPPORT = Path(__file__).resolve().parent
REPO = SUPPORT.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(SUPPORT.parent))  # tests/, for `support.*`


def predict(model, inputs):
  """Inference outputs as numpy. On JAX through `predict_on_batch` (one jit per shape): eager
  JAX compiles every op separately, which costs minutes here."""
  import keras
  from keras import ops

  if keras.config.backend() == "jax":
    # A plain functional view of the same layers: a task's predict would run its preprocessor.
    outputs = keras.Model(model.input, model.output).predict_on_batch(inputs)
  else:
    outputs = model(inputs, training=False)
  if isinstance(outputs, dict):
    return {k: ops.convert_to_numpy(v) for k, v in outputs.items()}
  return ops.convert_to_numpy(outputs)


def relative(ours, theirs):
  return float((np.linalg.norm(ours - theirs, axis=-1) / np.linalg.norm(theirs, axis=-1)).max())


def backbone_and_head(task):
  """The masked-LM task's layers as one model giving the backbone's outputs and the head's logits: one call
  (on JAX one compilation) where the backbone and the task would each need their own."""
  import keras

  inputs = {**task.backbone.input, "mask_positions": task.input["mask_positions"]}
  outputs = task.backbone(task.backbone.input)
  logits = task.masked_lm_head(outputs["sequence_output"], inputs["mask_positions"])
  return keras.Model(inputs, {**outputs, "mlm_logits": logits})


def golden_parity(workdir):
  """Each golden config, converted from the restored checkpoint, against HF's outputs."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.keras3 import MobileBertBackbone, MobileBertMaskedLM
  from hub_export.keras3.from_tf_keras import convert_weights

  report = {}
  for path in sorted((SUPPORT / "golden").glob("*.npz")):
    golden = np.load(path)
    model, _ = load_mobilebert(locate_checkpoint(workdir / "release" / path.stem))
    task = MobileBertMaskedLM(MobileBertBackbone(**model.config.to_dict()))
    converted = convert_weights(model, task)
    inputs = {"token_ids": golden["input_word_ids"], "segment_ids": golden["input_type_ids"],
              "padding_mask": golden["input_mask"]}
    outputs = predict(backbone_and_head(task), {**inputs, "mask_positions": golden["masked_lm_positions"]})
    report[path.stem] = {
        "converted": converted,
        "variables": len({id(v) for v in task.weights}),
        "sequence": relative(outputs["sequence_output"], golden["sequence_output"]),
        "pooled": relative(outputs["pooled_output"], golden["pooled_output"]),
        "mlm": float(np.abs(outputs["mlm_logits"] - golden["mlm_logits"]).max()),
    }
  return report


def savedmodel_parity(workdir):
  """The preset's backbone against our SavedModel on padded probes, at real tokens."""
  import keras_hub
  import tensorflow as tf

  from hub_export.savedmodel.roundtrip import probe_inputs

  backbone = keras_hub.models.Backbone.from_preset(str(workdir / "preset"))
  encoder = tf.saved_model.load(str(workdir / "encoder"))
  worst_sequence = worst_pooled = 0.0
  padded = 0
  for probe in probe_inputs(backbone.mobilebert_config, seed=5):
    mask = probe["input_mask"]
    if mask.all():
      continue
    padded += 1
    theirs = encoder({k: tf.constant(probe[k]) for k in ("input_word_ids", "input_mask", "input_type_ids")},
                     training=False)
    ours = predict(backbone, {"token_ids": probe["input_word_ids"], "segment_ids": probe["input_type_ids"],
                              "padding_mask": mask})
    real = mask.astype(bool)
    worst_sequence = max(worst_sequence, relative(ours["sequence_output"][real],
                                                  theirs["sequence_output"].numpy()[real]))
    worst_pooled = max(worst_pooled, relative(ours["pooled_output"], theirs["pooled_output"].numpy()))
  return {"sequence": worst_sequence, "pooled": worst_pooled, "padded_probes": padded}


def presets(workdir):
  """from_preset for the backbone and both tasks; save_to_preset -> from_preset and a `.keras` file -> load_model
  reproduce outputs."""
  import keras_hub

  import hub_export.keras3
  from hub_export.keras3 import MobileBertMaskedLM, MobileBertTextClassifier

  preset = str(workdir / "preset")
  golden = np.load(SUPPORT / "golden" / "opt_small.npz")
  inputs = {"token_ids": golden["input_word_ids"], "segment_ids": golden["input_type_ids"],
            "padding_mask": golden["input_mask"]}
  mlm_inputs = {**inputs, "mask_positions": golden["masked_lm_positions"]}
  backbone = keras_hub.models.Backbone.from_preset(preset)
  masked_lm = MobileBertMaskedLM.from_preset(preset)
  classifier = MobileBertTextClassifier.from_preset(preset, num_classes=2)
  generic_classifier = keras_hub.models.TextClassifier.from_preset(preset, num_classes=2)
  logits = predict(masked_lm, mlm_inputs)
  report = {
      "backbone_class": type(backbone).__name__,
      "masked_lm_class": type(masked_lm).__name__,
      "classifier_class": type(classifier).__name__,
      "generic_classifier_class": type(generic_classifier).__name__,
      "classifier_preprocessor": type(classifier.preprocessor).__name__,
      "classifier_output_shape": list(predict(classifier, inputs).shape),
      "mlm_vs_hf": float(np.abs(logits - golden["mlm_logits"]).max()),
      "sequence_vs_hf": relative(predict(backbone, inputs)["sequence_output"], golden["sequence_output"]),
  }
  saved = {}
  with tempfile.TemporaryDirectory() as tmp:
    for name, model, model_inputs, cls in (("backbone", backbone, inputs, keras_hub.models.Backbone),
                                          ("masked_lm", masked_lm, mlm_inputs, MobileBertMaskedLM),
                                          ("classifier", classifier, inputs, MobileBertTextClassifier)):
      model.save_to_preset(os.path.join(tmp, name))
      reloaded = cls.from_preset(os.path.join(tmp, name))
      before, after = predict(model, model_inputs), predict(reloaded, model_inputs)
      if isinstance(before, dict):
        before, after = before["sequence_output"], after["sequence_output"]
      saved[name] = bool(np.array_equal(before, after))
    # A fine-tuned model saved the Keras way, loaded back by the loader the README names.
    keras_file = os.path.join(tmp, "classifier.keras")
    classifier.save(keras_file)
    reloaded = hub_export.keras3.load_model(keras_file)
    report["keras_file"] = {"class": type(reloaded).__name__,
                            "identical": bool(np.array_equal(predict(classifier, inputs), predict(reloaded, inputs)))}
  report["save_reload_identical"] = saved
  return report


def tokenizer_ids(workdir):
  """The preset's tokenizer on this backend, for the test to compare with the reference rules."""
  from hub_export.keras3 import MobileBertTokenizer

  tokenizer = MobileBertTokenizer.from_preset(str(workdir / "preset"))
  sentences = json.loads((workdir / "sentences.json").read_text(encoding="utf-8"))
  eager = [np.asarray(tokenizer(s)).tolist() for s in sentences]
  batched = tokenizer(sentences)
  batched = [np.asarray(row).tolist() for row in batched]
  return {"eager": eager, "batched": batched}


def fine_tuning(workdir):
  """A classifier fits a few steps on raw strings: the loss falls, backbone weights change;
  dropout acts only in training."""
  import keras

  from hub_export.keras3 import MobileBertTextClassifier

  keras.utils.set_random_seed(0)
  sentences = json.loads((workdir / "sentences.json").read_text(encoding="utf-8"))[:8]
  labels = np.array([i % 2 for i in range(len(sentences))])
  classifier = MobileBertTextClassifier.from_preset(str(workdir / "preset"), num_classes=2)
  classifier.preprocessor.sequence_length = 24
  block = classifier.backbone.transformer_layers[0].block_weights["attention/query/kernel"]
  embedding = classifier.backbone.token_embedding.embeddings
  before = (to_numpy(block).copy(), to_numpy(embedding).copy())
  # XLA on TensorFlow and torch.compile would spend the test's time compiling; JAX always jits.
  classifier.compile(optimizer=keras.optimizers.Adam(3e-4),
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     jit_compile=keras.config.backend() == "jax")
  loss_before = classifier.evaluate(x=sentences, y=labels, batch_size=4, verbose=0, return_dict=True)["loss"]
  traced_steps = []  # TensorFlow and JAX call train_step once per trace, PyTorch once per step
  train_step = classifier.train_step
  classifier.train_step = lambda *args: traced_steps.append(1) or train_step(*args)
  history = classifier.fit(x=sentences, y=labels, batch_size=4, epochs=4, verbose=0)
  loss_after = classifier.evaluate(x=sentences, y=labels, batch_size=4, verbose=0, return_dict=True)["loss"]
  after = (to_numpy(block), to_numpy(embedding))

  preprocessed = classifier.preprocessor(sentences[:4])
  backbone = classifier.backbone
  train = [to_numpy(backbone(preprocessed, training=True)["sequence_output"]) for _ in range(2)]
  infer = [to_numpy(backbone(preprocessed, training=False)["sequence_output"]) for _ in range(2)]
  predicted = classifier.predict(sentences[:4], verbose=0)
  direct = to_numpy(classifier(preprocessed, training=False))
  return {
      "losses": [float(v) for v in history.history["loss"]],
      "train_step_calls": len(traced_steps),
      "loss_before": float(loss_before),
      "loss_after": float(loss_after),
      "block_change": float(np.abs(after[0] - before[0]).max()),
      "embedding_change": float(np.abs(after[1] - before[1]).max()),
      "training_calls_differ": bool(not np.array_equal(train[0], train[1])),
      "inference_calls_equal": bool(np.array_equal(infer[0], infer[1])),
      "predict_matches_call": float(np.abs(predicted - direct).max()),
  }


def bad_presets(workdir):
  """One-line errors for a preset of another model, a missing weights file, a config that
  does not fit the weights (through the preset check command)."""
  import contextlib
  import io
  import shutil

  import keras_hub

  from hub_export.keras3 import preset_check
  from hub_export.support import cli

  report = {}
  with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    bert = keras_hub.models.BertBackbone(vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8,
                                         intermediate_dim=16)
    bert.save_to_preset(str(tmp / "bert"))
    shutil.copytree(workdir / "preset", tmp / "no_weights")
    (tmp / "no_weights" / "model.weights.h5").unlink()
    shutil.copytree(workdir / "preset", tmp / "wrong_config")
    config_path = tmp / "wrong_config" / "config.json"
    config = json.loads(config_path.read_text())
    config["config"]["intermediate_size"] *= 2
    config_path.write_text(json.dumps(config))
    for name in ("bert", "no_weights", "wrong_config"):
      err = io.StringIO()
      with contextlib.redirect_stderr(err):
        code = cli.run(preset_check._main, [str(tmp / name)])
      report[name] = {"code": code, "stderr": err.getvalue().replace(str(tmp), "TMP")}
  return report


def activations(workdir):
  """The Keras 3 model's activation table on this backend, for the test to compare with the formulas."""
  from hub_export.config import ACTIVATIONS
  from hub_export.keras3.layers import get_activation
  from support.activation_formulas import X

  return {name: to_numpy(get_activation(name)(X)).tolist() for name in sorted(ACTIVATIONS)}


def to_numpy(x):
  from keras import ops
  return ops.convert_to_numpy(x)


def main(workdir, out):
  import keras

  workdir = Path(workdir)
  import resource

  report = {"backend": keras.config.backend(), "seconds": {}}
  checks = [golden_parity, savedmodel_parity, presets, tokenizer_ids, fine_tuning, activations]
  if keras.config.backend() == "tensorflow":
    # As in the test processes (tests/conftest.py): each traced function runs a few times, so Grappler's
    # rewrite of every graph costs more than it saves (9 s of this worker's 50).
    from hub_export.support.one_shot_runtime import disable_graph_optimization
    disable_graph_optimization()
    checks.append(bad_presets)
  for check in checks:
    start = time.perf_counter()
    report[check.__name__] = check(workdir)
    report["seconds"][check.__name__] = round(time.perf_counter() - start, 1)
  usage = resource.getrusage(resource.RUSAGE_SELF)
  report["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
  Path(out).write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
  main(*sys.argv[1:])
