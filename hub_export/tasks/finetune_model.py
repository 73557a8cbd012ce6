"""The trainable task model: an encoder with the original fine-tuning code's span or classifier head.

The encoder is either a published encoder SavedModel under `hub.KerasLayer(..., trainable=True)`,
the TF-Hub way, or the network restored from a checkpoint: a pre-training release (a fresh
seeded head goes on top) or a TF1 checkpoint of the original fine-tuning code, whose head
variables restore too.
"""

import dataclasses
from typing import Optional

import tensorflow as tf

from hub_export import signatures as sig
from hub_export.config import MobileBertConfig
from hub_export.signatures import LOGITS
from hub_export.support.errors import HubExportError
from hub_export.model.classifier_head import ClassifierHead
from hub_export.model.span_head import SpanHead
from hub_export.weight_layout import SPAN, TASK_HEAD_TF1_SCOPES, TaskHead

_WORD_TABLE = "word_embedding"  # this project's word_embeddings, Model Garden's word_embedding/embeddings


class TaskNetwork(tf.Module):
  """inputs (the encoder's, and any others, which it ignores) -> {start_logits, end_logits} (span) or {logits}
  (classifier)."""

  def __init__(self, encoder, head, kind: str):
    super().__init__(name="task_network")
    self.encoder, self.head, self.kind = encoder, head, kind

  def __call__(self, inputs, training=False):
    outputs = self.encoder({key: inputs[key] for key in sig.ENCODER_INPUT_KEYS}, training=training)
    if self.kind == SPAN:
      return dict(self.head(outputs[sig.SEQUENCE_OUTPUT]))
    return {LOGITS: self.head(outputs[sig.POOLED_OUTPUT], training=training)}

  def weights(self) -> list:
    """Every variable of the encoder and the head, each once, in a fixed order."""
    return list({id(v): v for v in list(self.encoder.variables) + list(self.head.variables)}.values())

  def trained_weights(self) -> list:
    return list({id(v): v for v in list(self.encoder.trainable_variables) + list(self.head.trainable_variables)}
                .values())


@dataclasses.dataclass
class Built:
  network: TaskNetwork
  model: Optional[object]  # the restored MobileBert (encoder and masked-LM head) when its encoder is the network's
  vocab: object  # tokenization.vocab.Vocab of the encoder
  lower_case: bool


def _head(config: MobileBertConfig, head: TaskHead):
  return SpanHead(config, name="span_head") if head.kind == SPAN else ClassifierHead(config, head.num_labels,
                                                                                      name="classifier_head")


def _finish(encoder, config, head: TaskHead) -> TaskNetwork:
  """A fresh head (drawn from the global seed) on `encoder`, every variable built."""
  dummy = {key: tf.zeros([1, 2], tf.int32) for key in sig.ENCODER_INPUT_KEYS}
  network = TaskNetwork(encoder, _head(config, head), head.kind)
  network(dummy)
  return network


def from_hub_encoder(path, head: TaskHead, label=None) -> Built:
  """The published encoder SavedModel at `path`, trainable, with a fresh head; errors name it `label` (the tarball or
  handle it came from) when given."""
  import tensorflow_hub as hub

  from hub_export.hub_format.reading import require_saved_model_dir
  from hub_export.tokenization.vocab import check_vocab_fits, load_vocab

  path = require_saved_model_dir(path)
  label = label or path
  layer = hub.KerasLayer(str(path), trainable=True, name="encoder")
  loaded = layer.resolved_object
  if not (hasattr(loaded, "vocab_file") and hasattr(loaded, "do_lower_case")):
    raise HubExportError(f"--encoder {label} has no vocab_file and do_lower_case: not a BERT encoder export")
  vocab = load_vocab(loaded.vocab_file.asset_path.numpy().decode("utf-8"))
  tables = [v for v in loaded.variables if _WORD_TABLE in v.name]
  if len(tables) != 1:
    raise HubExportError(f"--encoder {label} has {len(tables)} word embedding tables, expected one")
  check_vocab_fits(vocab, tables[0].shape[0], f"the word table of --encoder {label}")
  hidden = layer({key: tf.zeros([1, 2], tf.int32) for key in sig.ENCODER_INPUT_KEYS})[sig.POOLED_OUTPUT].shape[-1]
  config = MobileBertConfig(vocab_size=vocab.size, hidden_size=hidden)  # what a head reads: width, initializer
  return Built(_finish(layer, config, head), None, vocab, bool(loaded.do_lower_case.numpy()))


def holds_head(prefix: str, head: TaskHead) -> bool:
  """Whether the checkpoint holds the original fine-tuning code's variables of this head."""
  return f"{TASK_HEAD_TF1_SCOPES[head.kind]}output_weights" in dict(tf.train.list_variables(prefix))


def from_checkpoint(source, head: TaskHead, bert_config=None) -> Built:
  """The network of `source` (checkpoint.export_source.ExportSource): its own head when it holds one,
  else a fresh head on its encoder."""
  from hub_export.support import log
  from hub_export.checkpoint.export_source import vocab_fits_config
  from hub_export.checkpoint.restore import load_mobilebert

  restored_head = holds_head(source.location.prefix, head)
  with log.step("restore"):
    model, report = load_mobilebert(source.location, bert_config, check_config=vocab_fits_config(source.vocab),
                                    task_head=head if restored_head else None)
  log.LOG.info("restored %d variables from %s (%s)%s", report.restored, report.prefix, report.layout.value,
               f", {head.kind} head included" if restored_head else f"; a fresh seeded {head.kind} head goes on top")
  if restored_head:
    return Built(TaskNetwork(model.encoder, model.head, head.kind), None, source.vocab, source.lower_case)
  return Built(_finish(model.encoder, model.config, head), model, source.vocab, source.lower_case)

