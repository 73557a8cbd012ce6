"""A full-size English OPT checkpoint in the original release layout, for the benchmarks.

    python -m bench.full_size_checkpoint OUT_DIR

Writes OUT_DIR with the release writer (seeded random weights: timing does not depend on
the values) and the shared English vocab. Reuses OUT_DIR when it already holds a
checkpoint, so repeated benchmark runs do not pay for writing ~150 MB again.
"""

import sys
import tempfile
from pathlib import Path

from hub_export.config import MobileBertConfig

ENGLISH_VOCAB = Path(__file__).resolve().parents[1].parent / "shared" / "vocab" / "bert_en_uncased_vocab.txt"
SEED = 0
# Where the benches keep the checkpoint, exports and runs they reuse (--work_dir's default).
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "mobilebert_bench"


def english_opt_config() -> MobileBertConfig:
  """The released English OPT model: the config defaults with the uncased vocab."""
  return MobileBertConfig(vocab_size=30522)


def ensure_checkpoint(out_dir) -> Path:
  """OUT_DIR holding a full-size English release checkpoint (written on first use)."""
  from hub_export.checkpoint.tf1_release import DEFAULT_PREFIX, write_release_checkpoint

  out_dir = Path(out_dir)
  if not (out_dir / f"{DEFAULT_PREFIX}.index").is_file():
    if not ENGLISH_VOCAB.is_file():
      sys.exit(f"the English vocab {ENGLISH_VOCAB} is absent (../shared not beside this checkout)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    vocab = ENGLISH_VOCAB.read_text(encoding="utf-8").splitlines()
    write_release_checkpoint(out_dir, english_opt_config(), SEED, vocab_lines=vocab, overwrite=True)
  return out_dir


if __name__ == "__main__":
  print(ensure_checkpoint(sys.argv[1]))
