"""The network being trained: MobileBERT with its masked-LM head plus a next-sentence head.

Only the MobileBERT part (encoder and masked-LM head) is written to the final checkpoint,
in the project's own layout that the exporters read; the next-sentence head exists for
pre-training alone.
"""

import numpy as np
import tensorflow as tf
import tf_keras

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig
from hub_export.model import MobileBert
from hub_export.model.initializers import truncated_normal

_CONSTANT_LEAVES = {"gamma": 1.0, "beta": 0.0, "bias": 0.0, "output_bias": 0.0}


class Pretrainer(tf.Module):
  def __init__(self, config: MobileBertConfig):
    super().__init__(name="pretrainer")
    self.config = config
    self.model = MobileBert(config)
    self.next_sentence = tf_keras.layers.Dense(2, kernel_initializer=truncated_normal(config), name="next_sentence")
    self.next_sentence(tf.zeros([1, config.hidden_size]))

  def pretraining_logits(self, inputs, training: bool):
    """(masked-LM logits [batch, predictions, vocab], next-sentence logits [batch, 2])."""
    outputs, mlm_logits = self.model.mlm_logits(inputs, training=training)
    return mlm_logits, self.next_sentence(outputs[sig.POOLED_OUTPUT])

  def block_variables(self) -> set:
    return {id(v) for v in self.model.encoder.blocks.stacked.values()}

  def embedding_variables(self) -> set:
    return {id(v) for v in self.model.encoder.embedding.trainable_variables}


def leaf_name(variable) -> str:
  return variable.name.split(":")[0].rsplit("/", 1)[-1].rsplit(".", 1)[-1]


def seeded_initialization(variables, config: MobileBertConfig, seed: int) -> None:
  """Draws every variable from one numpy generator in list order: the same start under any strategy.

  Keras initializers draw from op seeds that depend on how many ops a strategy created
  before; this does not. Norm scales start at one, offsets and biases at zero, the rest
  from a normal with the config's `initializer_range`, clipped at two deviations.
  """
  rng = np.random.default_rng(seed)
  for variable in variables:
    constant = _CONSTANT_LEAVES.get(leaf_name(variable))
    shape = tuple(variable.shape)
    if constant is not None:
      value = np.full(shape, constant, np.float32)
    else:
      value = (np.clip(rng.standard_normal(shape), -2.0, 2.0) * config.initializer_range).astype(np.float32)
    variable.assign(value)


def embedding_pairs(teacher: MobileBert, student: MobileBert) -> list:
  """(teacher variable, student variable) for the embedding: tables, projection, normalization."""
  t, s = teacher.encoder.embedding, student.encoder.embedding
  pairs = [(t.word_embeddings, s.word_embeddings), (t.position_embeddings, s.position_embeddings),
           (t.token_type_embeddings, s.token_type_embeddings), (t.norm.gamma, s.norm.gamma), (t.norm.beta, s.norm.beta)]
  if t.projects and s.projects:
    pairs += [(t.embedding_transformation.kernel, s.embedding_transformation.kernel),
              (t.embedding_transformation.bias, s.embedding_transformation.bias)]
  return pairs


def masked_lm_pairs(teacher: MobileBert, student: MobileBert) -> list:
  t, s = teacher.masked_lm, student.masked_lm
  return [(t.dense.kernel, s.dense.kernel), (t.dense.bias, s.dense.bias), (t.layer_norm.gamma, s.layer_norm.gamma),
          (t.layer_norm.beta, s.layer_norm.beta), (t.extra_output_weights, s.extra_output_weights),
          (t.output_bias, s.output_bias)]
