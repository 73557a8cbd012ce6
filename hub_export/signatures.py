"""The TF-Hub text API contract: input and output names, dtypes and shapes.

The exporters build their functions from these specs and `verify` checks exports against
them, so the contract is written down exactly once.
"""

# Encoder (TF-Hub text-encoder API).
INPUT_WORD_IDS = "input_word_ids"
INPUT_MASK = "input_mask"
INPUT_TYPE_IDS = "input_type_ids"
ENCODER_INPUT_KEYS = (INPUT_WORD_IDS, INPUT_MASK, INPUT_TYPE_IDS)
MASKED_LM_POSITIONS = "masked_lm_positions"

SEQUENCE_OUTPUT = "sequence_output"
POOLED_OUTPUT = "pooled_output"
DEFAULT_OUTPUT = "default"
ENCODER_OUTPUTS = "encoder_outputs"
ENCODER_OUTPUT_KEYS = (SEQUENCE_OUTPUT, POOLED_OUTPUT, DEFAULT_OUTPUT, ENCODER_OUTPUTS)
MLM_LOGITS = "mlm_logits"
# The SQuAD span head's outputs: what a task model's `serve` signature and its .tflite give.
START_LOGITS, END_LOGITS = "start_logits", "end_logits"
LOGITS = "logits"  # a classification task model's output

# Preprocessor (TF-Hub text-preprocessing API).
SPECIAL_TOKEN_KEYS = ("vocab_size", "padding_id", "start_of_sequence_id", "end_of_segment_id", "mask_id")
DEFAULT_SEQ_LENGTH = 128
MAX_PACKED_SEGMENTS = 3  # bert_pack_inputs is exported for lists of 1 to this many segments


def encoder_input_spec(named: bool = False) -> dict:
  """int32 [batch, seq] for each encoder input; batch and length are dynamic.

  Named specs give a serving signature its input names; traces for reuse are unnamed, so
  one trace serves every caller that passes tensors of that shape.
  """
  import tensorflow as tf  # here, so the names above cost no TensorFlow import (fast --help)

  return {key: tf.TensorSpec([None, None], tf.int32, name=key if named else None) for key in ENCODER_INPUT_KEYS}


def mlm_input_spec() -> dict:
  import tensorflow as tf

  return {**encoder_input_spec(), MASKED_LM_POSITIONS: tf.TensorSpec([None, None], tf.int32)}


# On-device (.tflite) encoder: the same input names at a fixed [batch, seq_length] shape
# (interpreters plan memory for static shapes), and the two outputs apps use.
TFLITE_OUTPUT_KEYS = (SEQUENCE_OUTPUT, POOLED_OUTPUT)
TFLITE_BATCH_SIZE = 1


def fixed_encoder_input_spec(seq_length: int, batch_size: int = TFLITE_BATCH_SIZE) -> dict:
  """Named int32 [batch_size, seq_length] specs, the input signature of a .tflite encoder."""
  import tensorflow as tf

  return {key: tf.TensorSpec([batch_size, seq_length], tf.int32, name=key) for key in ENCODER_INPUT_KEYS}
