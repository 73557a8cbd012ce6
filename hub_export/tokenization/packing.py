"""`bert_pack_inputs`: tokenized segments -> the three encoder inputs at a fixed length.

[CLS] a [SEP] (b [SEP] ...), padded with [PAD]; segment i gets type id i. When the segments
do not fit, round-robin truncation (tensorflow_text.RoundRobinTrimmer: slots are handed out
one per segment in turn, so the longer segment loses the most), as the reference
preprocessor does.
"""

import tensorflow as tf
import tensorflow_text as tf_text

from hub_export import signatures


def pack_segments(segments, seq_length, start_of_sequence_id: int, end_of_segment_id: int, padding_id: int) -> dict:
  """Packs ragged int segments, each [batch, tokens] or [batch, words, tokens].

  `segments` is a list of one or more, or one segment on its own: Keras hands a layer a
  bare tensor where the model was built with a list of one (after a save and reload too).
  """
  if isinstance(segments, (tf.RaggedTensor, tf.Tensor)):
    segments = [segments]
  if not segments:
    raise ValueError("bert_pack_inputs takes at least one segment, got none")
  flat = []
  for segment in segments:
    if segment.ragged_rank == 2:
      segment = segment.merge_dims(1, 2)
    flat.append(tf.cast(segment, tf.int32))
  seq_length = tf.convert_to_tensor(seq_length, tf.int32)
  tf.debugging.assert_greater(seq_length, len(flat), message="seq_length leaves no room for a token")
  budget = seq_length - len(flat) - 1  # room left after [CLS] and one [SEP] per segment
  trimmed = tf_text.RoundRobinTrimmer(max_seq_length=budget).trim(flat)
  word_ids, type_ids = tf_text.combine_segments(trimmed, start_of_sequence_id, end_of_segment_id)
  word_ids, mask = tf_text.pad_model_inputs(word_ids, seq_length, pad_value=padding_id)
  type_ids, _ = tf_text.pad_model_inputs(type_ids, seq_length, pad_value=0)
  return {signatures.INPUT_WORD_IDS: tf.cast(word_ids, tf.int32),
          signatures.INPUT_MASK: tf.cast(mask, tf.int32),
          signatures.INPUT_TYPE_IDS: tf.cast(type_ids, tf.int32)}
