"""Exports a MobileBERT checkpoint as a KerasHub preset (Keras 3: TensorFlow, JAX, PyTorch).

    python -m hub_export.export_keras --ckpt PATH --preset_dir DIR \
        [--bert_config FILE] [--vocab FILE] [--lower_case true|false] [--overwrite]
        [--allow_vocab_larger_than_model]

PATH is any checkpoint the project reads (TF1 release, Model Garden TF2, this project's
TF2 layout). The checkpoint is restored strictly, converted variable by variable into
`MobileBertMaskedLM` (backbone + pretrained head) and compared with the restored model;
the preset is written beside DIR, loaded back in a fresh process and compared again, and
only then renamed into place. Load it with `import hub_export.keras3` and
`keras_hub.models.Backbone.from_preset(DIR)` or the task classes' `from_preset`.
"""

import argparse
import sys

from hub_export.checkpoint.export_source import add_source_arguments, named_folders, resolve_source, restore_model
from hub_export.support import cli, log
from hub_export.support.atomic import atomic_directory, check_target, write_failure

# What a preset folder holds (keras3/preset.py lists it): the files --overwrite may replace.
PRESET_FILES = ("*.json", "*.weights.h5", "assets/**")

PRESET_SEQUENCE_LENGTH = 512  # the preprocessors' default length, as KerasHub's BERT presets


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.export_keras", description=__doc__.split("\n")[0])
  add_source_arguments(parser)
  parser.add_argument("--preset_dir", required=True, help="directory to write the KerasHub preset to")
  parser.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --preset_dir")
  return parser.parse_args(argv)


def build_task(config, vocab, lower_case: bool):
  """An untrained `MobileBertMaskedLM` for `config`, with its preprocessor and tokenizer."""
  from hub_export import keras3

  tokenizer = keras3.MobileBertTokenizer(vocabulary=list(vocab.tokens), lowercase=lower_case)
  preprocessor = keras3.MobileBertMaskedLMPreprocessor(
      tokenizer, sequence_length=min(PRESET_SEQUENCE_LENGTH, config.max_position_embeddings))
  return keras3.MobileBertMaskedLM(keras3.MobileBertBackbone(**config.to_dict()), preprocessor=preprocessor)


def check_conversion(model, task) -> None:
  """The converted Keras 3 model must reproduce the restored tf_keras model on the probes."""
  import tensorflow as tf

  from hub_export import signatures as sig
  from hub_export.keras3.preset_check import differences, task_outputs
  from hub_export.savedmodel.roundtrip import probe_inputs
  from hub_export.support.errors import HubExportError

  problems = []
  for probe in probe_inputs(model.config):
    outputs, logits = model.mlm_logits({k: tf.constant(v) for k, v in probe.items()})
    want = {sig.SEQUENCE_OUTPUT: outputs[sig.SEQUENCE_OUTPUT].numpy(), sig.POOLED_OUTPUT: outputs[sig.POOLED_OUTPUT].numpy(),
            sig.MLM_LOGITS: logits.numpy()}
    problems += differences(probe, want, task_outputs(task, probe), "Keras 3 model")
  if problems:
    raise HubExportError(f"the converted Keras 3 model differs from the checkpoint's: {'; '.join(problems[:5])}")


def export_keras(ckpt, preset_dir, bert_config=None, vocab=None, lower_case=None, overwrite=False,
                 allow_larger_vocab=False):
  """The whole job; returns the preset directory. Raises HubExportError on bad input."""
  # Checked before the checkpoint is read, and again against the folder it turns out to be in.
  check_target(preset_dir, overwrite, protected=named_folders(ckpt), ours=PRESET_FILES)
  source = resolve_source(ckpt, vocab, lower_case)
  target = check_target(preset_dir, overwrite, protected=[source.location.directory], ours=PRESET_FILES)

  from hub_export.keras3.from_tf_keras import convert_weights
  from hub_export.keras3.preset_check import verify_in_fresh_process

  model = restore_model(source, bert_config, allow_larger_vocab)
  with log.step("convert"):
    task = build_task(model.config, source.vocab, source.lower_case)
    count = convert_weights(model, task)
    check_conversion(model, task)
  log.LOG.info("converted into %d Keras 3 variables", count)
  with atomic_directory(target, overwrite, protected=[source.location.directory], ours=PRESET_FILES) as tmp:
    with log.step("save"):
      try:
        task.save_to_preset(str(tmp))
      except OSError as e:
        raise write_failure(target, e) from None
    with log.step("verify (fresh process)"):
      verify_in_fresh_process(tmp, task, model.config)
  log.LOG.info("exported KerasHub preset to %s", target)
  return target


def _main(argv):
  args = parse_args(argv)
  export_keras(args.ckpt, args.preset_dir, args.bert_config, args.vocab, args.lower_case, args.overwrite,
               args.allow_vocab_larger_than_model)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
