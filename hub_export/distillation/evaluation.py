"""Held-out masked-LM accuracy: how often the model's top prediction is the original token.

Averaged over the masked positions of pre-training records, each weighted by its
`masked_lm_weights` (padding predictions weigh zero), so it compares a teacher, a distilled
student and a student trained from scratch on the same held-out data.
"""

import numpy as np
import tensorflow as tf

from hub_export.config import STUDENT
from hub_export.distillation import records
from hub_export.distillation.trainer import check_data_fits, model_inputs


def masked_lm_accuracy(model, examples: dict, batch_size: int = 64) -> dict:
  """{"accuracy", "predictions"} of a MobileBert over `examples` (records.load_examples' arrays)."""
  predict = tf.function(lambda inputs: tf.argmax(model.mlm_logits(inputs, training=False)[1], axis=-1,
                                                 output_type=tf.int32), autograph=False)
  correct, total = 0.0, 0.0
  for start in range(0, len(examples["input_ids"]), batch_size):
    batch = {name: values[start:start + batch_size] for name, values in examples.items()}
    predicted = predict({k: tf.constant(v) for k, v in model_inputs(batch).items()}).numpy()
    weights = batch["masked_lm_weights"].astype(np.float64)
    correct += float(np.sum((predicted == batch["masked_lm_ids"]) * weights))
    total += float(np.sum(weights))
  return {"accuracy": correct / total if total else float("nan"), "predictions": total}


def evaluate_checkpoint(ckpt, data, bert_config=None, role: str = STUDENT, batch_size: int = 64) -> dict:
  """Restores a checkpoint (any layout `export_encoder` reads) and measures it on a data folder."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert

  metadata = records.read_metadata(data)
  model, _ = load_mobilebert(locate_checkpoint(ckpt), bert_config, role=role)
  check_data_fits(metadata, model.config)
  return masked_lm_accuracy(model, records.load_examples(data), batch_size)
