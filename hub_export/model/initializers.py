"""Weight initialization from the config (only matters for weights no checkpoint provides)."""

import tf_keras

from hub_export.config import MobileBertConfig


def truncated_normal(config: MobileBertConfig):
  """A fresh initializer each call: tf_keras warns when one unseeded instance is reused."""
  return tf_keras.initializers.TruncatedNormal(stddev=config.initializer_range)
