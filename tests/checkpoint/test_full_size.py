"""Full-size release checkpoints (24 layers; English and multilingual vocab) restore completely."""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.tf1_release import next_sentence_head_shapes, tf1_assignments, tf1_variable_shapes, write_release_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
from hub_export.config import MobileBertConfig

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("vocab_size", [30522, 119547])
def test_full_size_release_restores_every_variable(tmp_path, vocab_size):
  config = MobileBertConfig(vocab_size=vocab_size)
  assert config.num_hidden_layers == 24 and config.normalization_type == "no_norm"
  release = write_release_checkpoint(tmp_path / "release", config, seed=vocab_size)
  model, report = load_mobilebert(locate_checkpoint(release))

  table = tf1_variable_shapes(config)
  assert report.restored == len(table) == len(tf1_assignments(model))
  assert report.unused == list(next_sentence_head_shapes(config))
  assert report.ignored == 1  # global_step
  encoder_params = sum(int(np.prod(v.shape)) for v in model.encoder.trainable_variables)
  assert encoder_params == 24_581_888 + (vocab_size - 30522) * 128

  # Spot-check values in every stacked block variable against the file, layer by layer.
  reader = tf.train.load_checkpoint(str(release / "mobilebert_variables.ckpt"))
  for name, target in tf1_assignments(model).items():
    if target.layer in (0, 23) or target.layer is None and "word_embeddings" in name:
      stored = target.variable.numpy() if target.layer is None else target.variable[target.layer].numpy()
      np.testing.assert_array_equal(stored, reader.get_tensor(name).reshape(stored.shape), err_msg=name)
