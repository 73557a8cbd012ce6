"""A sentence's journey through the published models, loaded the way TF-Hub users load them.

Text goes through `hub.KerasLayer(preprocessor.tokenize)` to wordpieces, through
`hub.KerasLayer(preprocessor.bert_pack_inputs, ...)` to encoder inputs, and through
`hub.KerasLayer(encoder)` to the pooled vector. The lines printed are the demo's result.
"""

POOLED_VALUES_SHOWN = 4

import json
from pathlib import Path

from hub_export import signatures as sig
from hub_export.support.filenames import VOCAB_NAME


def _vocab_tokens(preprocessor_dir: Path) -> list:
  return (preprocessor_dir / "assets" / VOCAB_NAME).read_text(encoding="utf-8").splitlines()


def journey(encoder_dir: Path, preprocessor_dir: Path, text: str, seq_length: int = sig.DEFAULT_SEQ_LENGTH) -> dict:
  """Runs `text` through the three Keras layers; returns what each stage produced."""
  import tensorflow as tf
  import tensorflow_hub as hub
  import tensorflow_text  # noqa: F401 - registers the preprocessor's ops before loading

  preprocessor = hub.load(str(preprocessor_dir))
  tokenize = hub.KerasLayer(preprocessor.tokenize)
  pack = hub.KerasLayer(preprocessor.bert_pack_inputs, arguments=dict(seq_length=seq_length))
  encoder = hub.KerasLayer(str(encoder_dir))

  sentences = tf.constant([text])
  token_ids = tokenize(sentences)  # ragged [batch, words, wordpieces]
  encoder_inputs = pack([token_ids])
  outputs = encoder(encoder_inputs)

  vocab = _vocab_tokens(preprocessor_dir)
  pieces = [vocab[i] for word in token_ids.to_list()[0] for i in word]
  length = int(tf.reduce_sum(encoder_inputs[sig.INPUT_MASK][0]))
  return {
      "text": text,
      "wordpieces": pieces,
      "input_word_ids": encoder_inputs[sig.INPUT_WORD_IDS][0, :length].numpy().tolist(),  # [PAD] after
      "seq_length": int(encoder_inputs[sig.INPUT_WORD_IDS].shape[1]),
      "pooled_output_shape": outputs[sig.POOLED_OUTPUT].shape.as_list(),
      "pooled_output_head": [round(float(x), 6) for x in outputs[sig.POOLED_OUTPUT][0, :POOLED_VALUES_SHOWN]],
  }


def print_journey(stages: dict) -> None:
  """Prints one `label: JSON` line per stage (stdout; logs go to stderr)."""
  print(f"text: {json.dumps(stages['text'], ensure_ascii=False)}")
  print(f"wordpieces: {json.dumps(stages['wordpieces'], ensure_ascii=False)}")
  print(f"input_word_ids: {json.dumps(stages['input_word_ids'])}")
  print(f"seq_length: {stages['seq_length']}")
  print(f"pooled_output shape: {json.dumps(stages['pooled_output_shape'])}")
  print(f"pooled_output[:{POOLED_VALUES_SHOWN}]: {json.dumps(stages['pooled_output_head'])}")
