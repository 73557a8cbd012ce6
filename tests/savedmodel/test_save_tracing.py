"""An export traces each of its functions once: saving, and the round trip's in-memory reference outputs, reuse
the traces made while building (hub_export.support.save_tracing)."""

import numpy as np
import pytest
import tensorflow as tf

from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
from hub_export.savedmodel import reproducible, roundtrip
from hub_export.savedmodel.encoder_object import build_encoder_object
from hub_export.tokenization.preprocessor_module import BertPreprocessor
from hub_export.tokenization.vocab import load_vocab
from support.release_dirs import write_tiny_release


def _tracing_counts(functions: dict) -> dict:
  return {name: function.experimental_get_tracing_count() for name, function in functions.items()}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
  return write_tiny_release(tmp_path_factory.mktemp("save_tracing") / "release", seed=3)


def test_saving_the_encoder_traces_nothing_again(release, tmp_path):
  model, _ = load_mobilebert(locate_checkpoint(release))
  root = build_encoder_object(model, str(release / "vocab.txt"), True)
  functions = {"__call__": root.__call__, "mlm": root.mlm.__call__, "serve": root.serve}
  built = _tracing_counts(functions)
  assert all(count >= 1 for count in built.values()), built
  reproducible.save(root, tmp_path / "encoder", signatures={"serving_default": root.serve})
  probes = roundtrip.probe_inputs(model.config)
  references = roundtrip.reference_outputs(root, probes)
  assert _tracing_counts(functions) == built
  # The saved functions are the ones the references came from.
  loaded = tf.saved_model.load(str(tmp_path / "encoder"))
  probe = probes[2]
  got = loaded.mlm({k: tf.constant(v) for k, v in probe.items()}, training=False)
  np.testing.assert_allclose(got["mlm_logits"].numpy(), references[2]["mlm_logits"], rtol=1e-5, atol=1e-5)


def test_saving_the_preprocessor_traces_nothing_again(release, tmp_path):
  vocab = load_vocab(release / "vocab.txt")
  preprocessor = BertPreprocessor(vocab, vocab.path, True, 16, False)
  functions = {"__call__": preprocessor.__call__, "tokenize": preprocessor.tokenize.__call__,
               "bert_pack_inputs": preprocessor.bert_pack_inputs.__call__}
  built = _tracing_counts(functions)
  reproducible.save(preprocessor, tmp_path / "preprocessor", signatures=preprocessor.serving_signatures())
  assert _tracing_counts(functions) == built
