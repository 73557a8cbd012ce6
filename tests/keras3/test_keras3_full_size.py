"""A full-size preset (24 layers, the multilingual vocab) exports and loads back.

The English size is not run as well: it takes the same path with a smaller table (its encoder's
parameter count is checked in tests/checkpoint/test_full_size.py, an uncased tokenizer config on
the small preset of test_keras3.py), and each full-size export takes minutes here.
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO
from hub_export.checkpoint.tf1_release import write_release_checkpoint
from hub_export.config import MobileBertConfig
from support.tokenization_test_data import special_layout

pytestmark = pytest.mark.slow
ENGLISH_ENCODER_PARAMS = 24_581_888  # the release's encoder (no pooler), checked in test_full_size


def test_full_size_multilingual_preset_exports_and_loads(tmp_path):
  vocab_size, lower_case = 119547, "false"
  config = MobileBertConfig(vocab_size=vocab_size)
  specials = special_layout()
  vocab = specials + [f"piece{i}" for i in range(vocab_size - len(specials))]
  release = write_release_checkpoint(tmp_path / "release", config, seed=vocab_size, vocab_lines=vocab)
  # The command's own last step loads the preset in a fresh process (Backbone.from_preset,
  # MobileBertMaskedLM.from_preset, the tokenizer) and compares it with the checkpoint.
  proc = subprocess.run([sys.executable, "-m", "hub_export.export_keras", "--ckpt", str(release),
                         "--preset_dir", str(tmp_path / "preset"), "--lower_case", lower_case],
                        capture_output=True, text=True, cwd=REPO, timeout=900,
                        env={**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert proc.returncode == 0, proc.stderr[-3000:]
  preset = tmp_path / "preset"
  backbone_config = json.loads((preset / "config.json").read_text())["config"]
  assert backbone_config["vocab_size"] == vocab_size and backbone_config["num_hidden_layers"] == 24
  metadata = json.loads((preset / "metadata.json").read_text())
  assert metadata["parameter_count"] == ENGLISH_ENCODER_PARAMS + (vocab_size - 30522) * config.embedding_size
  assert len((preset / "assets/tokenizer/vocabulary.txt").read_text(encoding="utf-8").splitlines()) == vocab_size
