"""Teacher configs take the original code's defaults; the model's knowledge-transfer path agrees with its export path."""

import json

import numpy as np
import pytest

from hub_export.config import MobileBertConfig, TEACHER
from hub_export.support.errors import HubExportError

TEACHER_JSON = {"vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
                "intermediate_size": 32, "hidden_act": "gelu", "embedding_size": 8, "trigram_input": True,
                "use_bottleneck": True, "intra_bottleneck_size": 24, "max_position_embeddings": 32}


def test_teacher_json_without_the_student_keys_is_an_ib_bert(tmp_path):
  path = tmp_path / "bert_config.json"
  path.write_text(json.dumps(TEACHER_JSON))
  teacher = MobileBertConfig.from_json_file(path, role=TEACHER)
  assert (teacher.normalization_type, teacher.key_query_shared_bottleneck, teacher.num_feedforward_networks) == \
      ("layer_norm", False, 1)
  # The same file read as a student keeps the student's (OPT) defaults, as before.
  student = MobileBertConfig.from_json_file(path)
  assert (student.normalization_type, student.key_query_shared_bottleneck, student.num_feedforward_networks) == \
      ("no_norm", True, 4)


def test_teacher_json_values_win_over_teacher_defaults():
  values = {**TEACHER_JSON, "normalization_type": "no_norm", "num_feedforward_networks": 2}
  teacher = MobileBertConfig.from_dict(values, role=TEACHER)
  assert (teacher.normalization_type, teacher.num_feedforward_networks) == ("no_norm", 2)
  with pytest.raises(HubExportError, match="normalization_type"):
    MobileBertConfig.from_dict({**TEACHER_JSON, "normalization_type": "batch_norm"}, role=TEACHER)


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_transfer_outputs_match_the_export_path(role):
  import tensorflow as tf

  from hub_export import signatures as sig
  from hub_export.model import MobileBertEncoder

  config = MobileBertConfig.from_dict(TEACHER_JSON, role=role)
  tf.random.set_seed(1)
  encoder = MobileBertEncoder(config)
  ids = tf.constant([[1, 5, 7, 9, 2, 0], [1, 3, 4, 2, 0, 0]], tf.int32)
  mask = tf.cast(ids > 0, tf.int32)
  mask = tf.tensor_scatter_nd_update(mask, [[0, 0], [1, 0]], [1, 1])
  inputs = {sig.INPUT_WORD_IDS: ids, sig.INPUT_MASK: mask, sig.INPUT_TYPE_IDS: tf.zeros_like(ids)}
  exported = encoder(inputs)[sig.ENCODER_OUTPUTS]
  transfer = encoder.transfer_outputs(inputs)
  assert len(transfer["block_outputs"]) == len(transfer["attentions"]) == config.num_hidden_layers
  for ours, theirs in zip(transfer["block_outputs"], exported):
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
  for probs in transfer["attentions"]:
    probs = probs.numpy()
    assert probs.shape == (2, config.num_attention_heads, 6, 6)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    assert np.all(probs[1, :, :, 4:] == 0.0)  # padding gets no attention
  first_only = encoder.transfer_outputs(inputs, num_layers=1)
  assert len(first_only["block_outputs"]) == 1
  np.testing.assert_allclose(first_only["block_outputs"][0].numpy(), exported[0].numpy(), rtol=1e-5, atol=1e-6)


def test_transfer_outputs_compute_in_bfloat16_under_mixed_precision():
  """The transfer path reads the stacked float32 weights outside the layer's call, where Keras casts nothing."""
  import tensorflow as tf

  from hub_export import signatures as sig
  from hub_export.distillation.trainer import precision
  from hub_export.model import MobileBertEncoder

  with precision(mixed=True):
    encoder = MobileBertEncoder(MobileBertConfig.from_dict(TEACHER_JSON))
  ids = tf.constant([[1, 5, 7, 9, 2, 0], [1, 3, 4, 2, 0, 0]], tf.int32)
  inputs = {sig.INPUT_WORD_IDS: ids, sig.INPUT_MASK: tf.cast(ids > 0, tf.int32), sig.INPUT_TYPE_IDS: tf.zeros_like(ids)}
  exported = encoder(inputs)[sig.ENCODER_OUTPUTS]
  transfer = encoder.transfer_outputs(inputs)
  assert {v.dtype for v in encoder.variables} == {tf.float32}
  for ours, theirs in zip(transfer["block_outputs"], exported):
    assert ours.dtype == theirs.dtype == tf.bfloat16
    np.testing.assert_allclose(ours.numpy().astype(np.float32), theirs.numpy().astype(np.float32), rtol=0.05,
                               atol=0.05)
  assert transfer["attentions"][0].dtype == tf.bfloat16
