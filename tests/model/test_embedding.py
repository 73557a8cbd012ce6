"""The embedding layer: trigram concatenation, projection, positions and segments, against numpy loops."""

import numpy as np
import pytest

from hub_export import signatures as sig
from hub_export.model.embedding import MobileBertEmbedding
from support.layer_test_case import (encoder_inputs, narrow_config, numpy_layer_norm, run_layer_test,
                                     with_padding_changed)

LENGTHS, LENGTH = (5, 3), 5
CONFIGS = {  # (config overrides, variable count)
    "trigram, no_norm": ({}, 7),
    "projected, layer_norm": (dict(trigram_input=False, normalization_type="layer_norm"), 7),
    "unprojected": (dict(trigram_input=False, embedding_size=32), 5),
}


def _expected(layer, ids, types, mask) -> np.ndarray:
  """Each token's input, row by row: [next, this, previous] word vectors (zeros past the end or at padding)
  when trigram, projected when the layer projects, plus its position and segment vectors, normalized."""
  config, table = layer.config, layer.word_embeddings.numpy()

  def word(b, s):
    real = 0 <= s < ids.shape[1] and mask[b, s]
    return table[ids[b, s]] if real else np.zeros(config.embedding_size, np.float32)

  rows = []
  for b in range(ids.shape[0]):
    for s in range(ids.shape[1]):
      vector = np.concatenate([word(b, s + 1), table[ids[b, s]], word(b, s - 1)]) if config.trigram_input \
          else table[ids[b, s]]
      if layer.projects:
        kernel, bias = (w.numpy() for w in layer.embedding_transformation.weights)
        vector = vector @ kernel + bias
      rows.append(vector + layer.position_embeddings.numpy()[s] + layer.token_type_embeddings.numpy()[types[b, s]])
  rows = np.array(rows, np.float64)
  gamma, beta = (w.numpy() for w in layer.norm.weights)
  if config.normalization_type == "layer_norm":
    return numpy_layer_norm(rows, gamma, beta)
  return rows * gamma + beta


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_embedding(name):
  overrides, num_variables = CONFIGS[name]
  config = narrow_config(**overrides)
  inputs = encoder_inputs(LENGTHS, LENGTH, config.vocab_size)
  keys = (sig.INPUT_WORD_IDS, sig.INPUT_TYPE_IDS, sig.INPUT_MASK)
  args, changed = ([values[k] for k in keys] for values in (inputs, with_padding_changed(inputs, config.vocab_size)))
  layer, out = run_layer_test(lambda: MobileBertEmbedding(config), args, (len(LENGTHS) * LENGTH, config.hidden_size),
                              expected_num_variables=num_variables, input_mask=inputs[sig.INPUT_MASK],
                              changed_under_mask=changed)
  assert layer.projects == (name != "unprojected")
  np.testing.assert_allclose(out, _expected(layer, *args), rtol=1e-5, atol=1e-5)
