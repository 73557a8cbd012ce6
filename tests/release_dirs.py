"""Small seeded release directories for tests (the exact release layout, tiny sizes)."""

from hub_export.checkpoint.release_writer import write_release_checkpoint
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


def write_tiny_release(path, seed: int = 0, **overrides):
  config = tiny_config(**overrides)
  return write_release_checkpoint(path, config, seed, vocab_lines=tiny_vocab(config.vocab_size))
