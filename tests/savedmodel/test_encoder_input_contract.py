"""Malformed encoder inputs fail with an error naming the input, never silent garbage.

Through the loaded object's `__call__` / `.mlm` and through the `serving_default` signature.
"""

import re

import numpy as np
import pytest
import tensorflow as tf

from hub_export.export_encoder import export_encoder
from support.release_dirs import without_fresh_process_check, write_tiny_release

VOCAB = 160


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
  root = tmp_path_factory.mktemp("contract")
  release = write_tiny_release(root / "release", seed=4)
  with without_fresh_process_check():
    return tf.saved_model.load(str(export_encoder(release, root / "export", lower_case=True)))


def _inputs(length=6, **overrides):
  values = {"input_word_ids": np.full([2, length], 7, np.int32), "input_mask": np.ones([2, length], np.int32),
            "input_type_ids": np.zeros([2, length], np.int32)}
  values.update(overrides)
  return {k: tf.constant(v) for k, v in values.items()}


BAD = {
    "sequence over 512": (dict(length=513), "sequence length must be in [1, max_position_embeddings 512]"),
    "empty sequence": (dict(length=0), "sequence length must be in [1, max_position_embeddings 512]"),
    "id at vocab_size": (dict(input_word_ids=np.full([2, 6], VOCAB, np.int32)), "input_word_ids must be in [0, 160)"),
    "negative id": (dict(input_word_ids=np.full([2, 6], -1, np.int32)), "input_word_ids must be in [0, 160)"),
    "type id 2": (dict(input_type_ids=np.full([2, 6], 2, np.int32)), "input_type_ids must be in [0, 2)"),
    "mask value 3": (dict(input_mask=np.full([2, 6], 3, np.int32)), "input_mask must be in [0, 2)"),
    "mask shape": (dict(input_mask=np.ones([2, 5], np.int32)), "input_mask must have the shape of input_word_ids"),
    "type shape": (dict(input_type_ids=np.zeros([1, 6], np.int32)), "input_type_ids must have the shape of"),
}


def _build(case):
  overrides, message = BAD[case]
  overrides = dict(overrides)
  length = overrides.pop("length", 6)
  return _inputs(length, **overrides), message


@pytest.mark.parametrize("case", sorted(BAD))
def test_call_rejects(loaded, case):
  inputs, message = _build(case)
  with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
    loaded(inputs, training=False)


@pytest.mark.parametrize("case", sorted(BAD))
def test_serving_signature_rejects(loaded, case):
  inputs, message = _build(case)
  with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
    loaded.signatures["serving_default"](**inputs)


def test_mlm_positions_outside_the_sequence(loaded):
  inputs = dict(_inputs(), masked_lm_positions=tf.constant([[0, 6], [1, 2]], tf.int32))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"masked_lm_positions must be in \[0, sequence length\)"):
    loaded.mlm(inputs, training=False)


def test_wrong_dtype_is_rejected_by_tensorflow(loaded):
  inputs = {k: tf.cast(v, tf.int64) for k, v in _inputs().items()}
  with pytest.raises((ValueError, TypeError)):
    loaded(inputs, training=False)
  with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
    loaded.signatures["serving_default"](**inputs)


def test_valid_edge_inputs_pass(loaded):
  out = loaded(_inputs(512, input_word_ids=np.full([2, 512], VOCAB - 1, np.int32)), training=False)
  assert out["sequence_output"].shape == (2, 512, 512)
