"""The encoder network: the TF-Hub output dict from the three inputs, and the pooler."""

import numpy as np

from hub_export import signatures as sig
from hub_export.model.encoder import MobileBertEncoder
from support.layer_test_case import (encoder_inputs, encoder_output_shapes, narrow_config, run_layer_test,
                                     with_padding_changed)

LENGTHS, LENGTH = (6, 4, 1), 6


def test_encoder_with_pooler():
  config = narrow_config(classifier_activation=True)
  inputs = encoder_inputs(LENGTHS, LENGTH, config.vocab_size)
  expected = encoder_output_shapes(config, len(LENGTHS), LENGTH)
  # 7 embedding weights, 46 stacked block weights, the pooler's kernel and bias.
  encoder, out = run_layer_test(lambda: MobileBertEncoder(config), (inputs,), expected, expected_num_variables=55,
                                input_mask=inputs[sig.INPUT_MASK],
                                changed_under_mask=(with_padding_changed(inputs, config.vocab_size),))
  np.testing.assert_array_equal(out[sig.SEQUENCE_OUTPUT], out[sig.ENCODER_OUTPUTS][-1])
  np.testing.assert_array_equal(out[sig.DEFAULT_OUTPUT], out[sig.POOLED_OUTPUT])
  kernel, bias = (w.numpy() for w in encoder.pooler.weights)
  np.testing.assert_allclose(out[sig.POOLED_OUTPUT], np.tanh(out[sig.SEQUENCE_OUTPUT][:, 0] @ kernel + bias),
                             rtol=1e-5, atol=1e-6)
