"""The SQuAD head: a start and an end logit for every token of the sequence output."""

import tensorflow as tf

from hub_export.config import MobileBertConfig
from hub_export.model.output_logits import OutputLogits
from hub_export.signatures import END_LOGITS, START_LOGITS


class SpanHead(OutputLogits):
  """The original `run_squad.py` head (`cls/squad/output_weights` [2, H], row 0 the start, row 1 the end).

  Padding is not masked here, as in the original: the logits at padded positions are whatever the
  sequence output there gives, and span decoding only ever reads real context tokens.
  """

  def __init__(self, config: MobileBertConfig, **kwargs):
    super().__init__(config, num_labels=2, **kwargs)

  def call(self, sequence_output):
    start, end = tf.unstack(self.logits(sequence_output), axis=-1)
    return {START_LOGITS: start, END_LOGITS: end}
