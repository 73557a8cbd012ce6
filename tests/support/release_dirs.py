"""Small seeded release directories for tests (the exact release layout, tiny sizes)."""

import contextlib
from unittest import mock

from hub_export.checkpoint.tf1_release import write_release_checkpoint
from hub_export.config import MobileBertConfig

SPECIALS = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_config(**overrides) -> MobileBertConfig:
  """The OPT architecture cut to 2 layers and a 160-token vocab."""
  values = dict(vocab_size=160, num_hidden_layers=2)
  values.update(overrides)
  return MobileBertConfig(**values)


def tiny_vocab(size: int) -> list:
  words = [f"w{i}" for i in range(size - len(SPECIALS))]
  return SPECIALS + words


def write_tiny_release(path, seed: int = 0, lower_case=None, **overrides):
  """`lower_case`, when given, is recorded beside the vocab (as the project's own checkpoints record it)."""
  config = tiny_config(**overrides)
  return write_release_checkpoint(path, config, seed, vocab_lines=tiny_vocab(config.vocab_size), lower_case=lower_case)


@contextlib.contextmanager
def without_fresh_process_check():
  """Exports made inside skip the commands' fresh-process round trip, and nothing else.

  For tests that only consume exports: the round trip starts a second TensorFlow process
  per export, and tests/savedmodel/test_export_encoder.py, tests/savedmodel/test_export_preprocessor.py
  and tests/faults/test_faults_crash.py prove it.
  """
  with mock.patch("hub_export.savedmodel.roundtrip.verify_in_fresh_process"), \
       mock.patch("hub_export.savedmodel.roundtrip.verify_preprocessor_in_fresh_process"):
    yield


def export_release(release, directory, lower_case: bool = True):
  """Encoder and preprocessor SavedModels of a release dir, in directory/{encoder,preprocessor}.

  Saved without the commands' fresh-process round trip (see without_fresh_process_check), so
  tests that only consume exports pay for one restore, trace and save each.
  """
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.savedmodel.encoder_object import build_encoder_object, save_encoder
  from hub_export.export_preprocessor import export as export_preprocessor

  vocab = release / "vocab.txt"
  model, _ = load_mobilebert(locate_checkpoint(release))
  save_encoder(build_encoder_object(model, str(vocab), lower_case), str(directory / "encoder"))
  with without_fresh_process_check():
    export_preprocessor(vocab, directory / "preprocessor", lower_case=lower_case)
  return directory / "encoder", directory / "preprocessor"
