"""The GLUE/XNLI head: logits for a whole sequence from the pooled output."""

import tf_keras

from hub_export.config import MobileBertConfig
from hub_export.model.output_logits import OutputLogits

# The original run_classifier.py drops 10% of the pooled output in training, whatever the config says.
CLASSIFIER_DROPOUT = 0.1


class ClassifierHead(OutputLogits):
  """The original `run_classifier.py` head: pooled output, dropout, `output_weights` [num_labels, H] and
  `output_bias`. Row k of the weights is label k of the task's label list; a regression has one row."""

  def __init__(self, config: MobileBertConfig, num_labels: int, **kwargs):
    super().__init__(config, num_labels, **kwargs)
    self.dropout = tf_keras.layers.Dropout(CLASSIFIER_DROPOUT)

  def call(self, pooled_output, training=False):
    return self.logits(self.dropout(pooled_output, training=training))
