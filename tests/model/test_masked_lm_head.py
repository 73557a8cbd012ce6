"""The masked-LM head: transform, LayerNorm, and logits over the word table widened by its extra columns."""

import numpy as np
import tensorflow as tf

from hub_export.model.masked_lm import MaskedLMHead
from support.layer_test_case import narrow_config, numpy_layer_norm, run_layer_test

BATCH, LENGTH, POSITIONS = 2, 5, 3


def test_masked_lm_head():
  config = narrow_config(vocab_size=40)
  rng = np.random.default_rng(0)
  sequence_output = rng.normal(0.0, 1.0, [BATCH, LENGTH, config.hidden_size]).astype(np.float32)
  positions = np.array([[0, 4, 2], [3, 3, 1]], np.int32)
  table = lambda: tf.Variable(tf.random.normal([config.vocab_size, config.embedding_size]))  # the embedding's
  # The word table (the head holds it, so it is among its variables), transform kernel and bias, LayerNorm gamma
  # and beta, the extra output columns, the output bias.
  head, logits = run_layer_test(lambda: MaskedLMHead(config, table()), (sequence_output, positions),
                                (BATCH, POSITIONS, config.vocab_size), expected_num_variables=7)
  assert config.hidden_act == "relu"
  kernel, bias = (w.numpy() for w in head.dense.weights)
  hidden = np.maximum(sequence_output[np.arange(BATCH)[:, None], positions] @ kernel + bias, 0.0)
  hidden = numpy_layer_norm(hidden, head.layer_norm.gamma.numpy(), head.layer_norm.beta.numpy())
  widened = np.concatenate([head.word_embeddings.numpy(), head.extra_output_weights.numpy()], axis=1)
  np.testing.assert_allclose(logits, hidden @ widened.T + head.output_bias.numpy(), rtol=1e-5, atol=1e-5)
