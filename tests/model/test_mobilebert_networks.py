"""The two networks `build_mobilebert` makes, like KerasHub's backbone and task tests: the pre-training
network (encoder and masked-LM head on one word table) and the encoder with a fine-tuning head."""

import numpy as np

from hub_export import signatures as sig
from hub_export.model import build_mobilebert
from hub_export.model.classifier_head import ClassifierHead
from hub_export.signatures import END_LOGITS, START_LOGITS
from hub_export.weight_layout import CLASSIFIER, SPAN_HEAD, TaskHead
from support.layer_test_case import (encoder_inputs, encoder_output_shapes, narrow_config, run_layer_test,
                                     with_padding_changed)

CONFIG = narrow_config()
LENGTHS, LENGTH = (6, 3), 6
INPUTS = encoder_inputs(LENGTHS, LENGTH, CONFIG.vocab_size)
CHANGED = with_padding_changed(INPUTS, CONFIG.vocab_size)
ENCODER_OUTPUTS = encoder_output_shapes(CONFIG, len(LENGTHS), LENGTH)
ENCODER_VARIABLES = 53  # 7 embedding weights, 46 stacked block weights, no pooler


def test_pretraining_network():
  positions = np.array([[5, 1], [0, 2]], np.int32)  # real tokens only
  expected = (ENCODER_OUTPUTS, (len(LENGTHS), 2, CONFIG.vocab_size))
  # The head's six weights beside the encoder's; the word table both use counts once.
  model, (outputs, _) = run_layer_test(
      lambda: build_mobilebert(CONFIG), ({**INPUTS, sig.MASKED_LM_POSITIONS: positions},), expected,
      call=lambda model, inputs: model.mlm_logits(inputs), expected_num_variables=ENCODER_VARIABLES + 6,
      input_mask=INPUTS[sig.INPUT_MASK], changed_under_mask=({**CHANGED, sig.MASKED_LM_POSITIONS: positions},))
  assert model.masked_lm.word_embeddings is model.encoder.embedding.word_embeddings
  np.testing.assert_array_equal(outputs[sig.POOLED_OUTPUT], outputs[sig.SEQUENCE_OUTPUT][:, 0])  # no pooler


def test_span_task_network():
  run_layer_test(lambda: build_mobilebert(CONFIG, SPAN_HEAD), (INPUTS,),
                 (ENCODER_OUTPUTS, {START_LOGITS: (len(LENGTHS), LENGTH), END_LOGITS: (len(LENGTHS), LENGTH)}),
                 call=lambda model, inputs: model.task_logits(inputs),
                 expected_num_variables=ENCODER_VARIABLES + 2, input_mask=INPUTS[sig.INPUT_MASK],
                 changed_under_mask=(CHANGED,))


def test_classifier_task_network_reads_the_pooled_output():
  model = build_mobilebert(CONFIG, TaskHead(CLASSIFIER, 3))
  assert isinstance(model.head, ClassifierHead)
  outputs, logits = model.task_logits(INPUTS)
  np.testing.assert_allclose(logits.numpy(), model.head(outputs[sig.POOLED_OUTPUT]).numpy(), rtol=0, atol=0)
  assert len(model.variables) == ENCODER_VARIABLES + 2
