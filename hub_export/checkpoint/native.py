"""The project's own TF2 checkpoint: an object checkpoint of our model plus its config.

It is self-describing (the `bert_config.json` text is stored inside), so a converted
checkpoint restores without guessing which config it belongs to.
"""

import json

import tensorflow as tf

from hub_export.config import MobileBertConfig
from hub_export.model import MobileBert

CONFIG_KEY = "bert_config/.ATTRIBUTES/VARIABLE_VALUE"


def _checkpoint(model: MobileBert, config_json: tf.Variable) -> tf.train.Checkpoint:
  return tf.train.Checkpoint(encoder=model.encoder, masked_lm=model.masked_lm, bert_config=config_json)


def write_native_checkpoint(model: MobileBert, prefix: str) -> str:
  """Writes PREFIX.index / PREFIX.data-*; returns the prefix."""
  config_json = tf.Variable(model.config.to_json_string(), dtype=tf.string, trainable=False)
  return _checkpoint(model, config_json).write(prefix)


def checkpointed_variables(model: MobileBert) -> list:
  """The variables the native checkpoint object of `model` reaches (and so writes and restores)."""
  config_json = tf.Variable("", dtype=tf.string, trainable=False)
  root = _checkpoint(model, config_json)  # the view holds its root weakly
  reached = tf.train.TrackableView(root).descendants()
  return [obj for obj in reached if isinstance(obj, tf.Variable) and obj is not config_json]


def config_from_native(reader) -> MobileBertConfig:
  text = reader.get_tensor(CONFIG_KEY)
  return MobileBertConfig.from_dict(json.loads(text.decode("utf-8")), source="the checkpoint's stored bert_config")


def restore_native(model: MobileBert, prefix: str) -> None:
  """Restores every variable; raises if anything in the checkpoint or the model goes unmatched."""
  config_json = tf.Variable("", dtype=tf.string, trainable=False)
  _checkpoint(model, config_json).read(prefix).assert_consumed()
