"""The fine-tuning heads: `output_weights` [num_labels, H] read transposed, a span head's two rows."""

import numpy as np
import tensorflow as tf

from hub_export.model.classifier_head import ClassifierHead
from hub_export.model.span_head import SpanHead
from hub_export.signatures import END_LOGITS, START_LOGITS
from support.layer_test_case import narrow_config, run_layer_test

CONFIG = narrow_config()
HIDDEN = np.random.default_rng(0).normal(0.0, 1.0, [2, 5, CONFIG.hidden_size]).astype(np.float32)


def test_classifier_head():
  pooled = HIDDEN[:, 0]
  head, logits = run_layer_test(lambda: ClassifierHead(CONFIG, 3), (pooled,), (2, 3), expected_num_variables=2)
  np.testing.assert_allclose(logits, pooled @ head.output_weights.numpy().T + head.output_bias.numpy(),
                             rtol=1e-5, atol=1e-5)
  tf.random.set_seed(0)
  dropped = head(pooled, training=True).numpy()  # dropout, in training only
  assert not np.allclose(dropped, logits)


def test_span_head():
  head, logits = run_layer_test(lambda: SpanHead(CONFIG), (HIDDEN,), {START_LOGITS: (2, 5), END_LOGITS: (2, 5)},
                                expected_num_variables=2)
  weights, bias = head.output_weights.numpy(), head.output_bias.numpy()
  for row, name in enumerate((START_LOGITS, END_LOGITS)):
    np.testing.assert_allclose(logits[name], HIDDEN @ weights[row] + bias[row], rtol=1e-5, atol=1e-5)
