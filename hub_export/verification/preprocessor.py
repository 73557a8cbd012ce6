"""The text-preprocessor contract: tokenize, special tokens, bert_pack_inputs, default call."""

import numpy as np

from hub_export import signatures as sig
from hub_export.hub_format import reading
from hub_export.verification import common
from hub_export.verification.report import require, run_check

SENTENCES = ("The quick brown fox jumps over the lazy dog.", "Hello, world!")
PACK_LENGTH = 32
TRUNCATED_LENGTH = 7


def _check_encoder_inputs(packed: dict, batch: int, seq_length: int) -> None:
  require(isinstance(packed, dict) and set(packed) == set(sig.ENCODER_INPUT_KEYS),
          f"returns {sorted(packed) if isinstance(packed, dict) else type(packed).__name__}, "
          f"expected {sorted(sig.ENCODER_INPUT_KEYS)}")
  for key in sig.ENCODER_INPUT_KEYS:
    value = packed[key]
    require(value.dtype.name == "int32", f"'{key}' is {value.dtype.name}, expected int32")
    require(list(value.shape) == [batch, seq_length],
            f"'{key}' has shape {list(value.shape)}, expected [{batch}, {seq_length}]")


def _check_packing(packed: dict, special: dict, segments: int) -> None:
  """[CLS] a [SEP] (b [SEP]), padding after; type ids 0 for a's part, 1 for b's, 0 on padding."""
  ids = packed[sig.INPUT_WORD_IDS].numpy()
  mask = packed[sig.INPUT_MASK].numpy()
  types = packed[sig.INPUT_TYPE_IDS].numpy()
  for row in range(ids.shape[0]):
    length = int(mask[row].sum())
    require(np.all(mask[row, :length] == 1) and np.all(mask[row, length:] == 0),
            f"row {row}: input_mask is not ones followed by zeros")
    require(ids[row, 0] == special["start_of_sequence_id"], f"row {row}: does not start with start_of_sequence_id")
    require(np.all(ids[row, length:] == special["padding_id"]), f"row {row}: padding is not padding_id")
    ends = np.flatnonzero(ids[row, :length] == special["end_of_segment_id"])
    require(len(ends) == segments and ends[-1] == length - 1,
            f"row {row}: {len(ends)} end_of_segment_id tokens for {segments} segment(s)")
    expected_types = np.zeros_like(types[row])
    if segments == 2:
      expected_types[ends[0] + 1:length] = 1
    require(np.array_equal(types[row], expected_types), f"row {row}: input_type_ids {types[row].tolist()} "
                                                        f"do not mark the segments")


def check_preprocessor(obj, export_dir) -> list:
  """All preprocessor clauses of facts section 5, each a named Check; never raises."""
  import tensorflow as tf
  import tensorflow_hub as hub

  sentences = tf.constant(SENTENCES)
  batch = len(SENTENCES)
  state = {}

  def special_tokens():
    tokens = obj.tokenize.get_special_tokens_dict()
    missing = [k for k in sig.SPECIAL_TOKEN_KEYS if k not in tokens]
    require(not missing, f"get_special_tokens_dict() lacks {', '.join(missing)}")
    values = {k: int(tokens[k].numpy()) for k in sig.SPECIAL_TOKEN_KEYS if tokens[k].shape.rank == 0}
    if len(values) == len(sig.SPECIAL_TOKEN_KEYS):
      state["special"] = values  # usable by the packing checks even if a dtype below is wrong
    for key in sig.SPECIAL_TOKEN_KEYS:
      value = tokens[key]
      require(value.dtype.name == "int32" and list(value.shape) == [],
              f"'{key}' is {value.dtype.name} {list(value.shape)}, expected a scalar int32")
    out_of_range = [k for k in sig.SPECIAL_TOKEN_KEYS[1:] if not 0 <= values[k] < values["vocab_size"]]
    require(not out_of_range, f"ids outside [0, vocab_size): {', '.join(out_of_range)}")
    return ", ".join(f"{k}={v}" for k, v in values.items())

  def tokenize():
    tokens = hub.KerasLayer(obj.tokenize)(sentences)
    require(isinstance(tokens, tf.RaggedTensor), f"returns {type(tokens).__name__}, expected a RaggedTensor")
    require(tokens.dtype.name == "int32", f"token ids are {tokens.dtype.name}, expected int32")
    require(tokens.ragged_rank == 2 and tokens.shape.rank == 3,
            f"shape {tokens.shape} (ragged rank {tokens.ragged_rank}), expected [batch, (words), (pieces)]")
    require(tokens.shape[0] == batch, f"batch {tokens.shape[0]}, expected {batch}")
    vocab_size = state.get("special", {}).get("vocab_size")
    flat = tokens.flat_values.numpy()
    require(vocab_size is None or (flat.min() >= 0 and flat.max() < vocab_size), "token ids outside the vocab")
    state["tokens"] = tokens
    return f"int32 ragged [{batch}, (words), (pieces)], {flat.size} pieces"

  def pack(segments, seq_length):
    layer = hub.KerasLayer(obj.bert_pack_inputs, arguments=dict(seq_length=seq_length))
    return layer(segments)

  def pack_segments(count):
    def check():
      require("tokens" in state and "special" in state, "needs working tokenize and special tokens")
      packed = pack([state["tokens"]] * count, PACK_LENGTH)
      _check_encoder_inputs(packed, batch, PACK_LENGTH)
      _check_packing(packed, state["special"], count)
      state[f"packed{count}"] = packed
      return f"{count} segment(s) -> 3 x int32 [{batch}, {PACK_LENGTH}], [CLS]/[SEP]/type ids/padding right"
    return check

  def pack_truncated():
    require("tokens" in state and "special" in state, "needs working tokenize and special tokens")
    packed = pack([state["tokens"], state["tokens"]], TRUNCATED_LENGTH)
    _check_encoder_inputs(packed, batch, TRUNCATED_LENGTH)
    _check_packing(packed, state["special"], 2)
    return f"2 segments truncated to seq_length {TRUNCATED_LENGTH}"

  def pack_rank1():
    require("packed1" in state, "needs a working 1-segment bert_pack_inputs")
    packed = pack([state["tokens"].merge_dims(-2, -1)], PACK_LENGTH)
    _check_encoder_inputs(packed, batch, PACK_LENGTH)
    for key in sig.ENCODER_INPUT_KEYS:
      require(np.array_equal(packed[key].numpy(), state["packed1"][key].numpy()),
              f"'{key}' differs between ragged rank 1 and rank 2 inputs")
    return "ragged rank 1 input packs like rank 2"

  def default_call():
    # 128 by convention; an export may choose another length for its default call.
    packed = hub.KerasLayer(obj)(sentences)
    width = packed[sig.INPUT_WORD_IDS].shape[-1] if isinstance(packed, dict) and sig.INPUT_WORD_IDS in packed else None
    seq_length = width or sig.DEFAULT_SEQ_LENGTH
    _check_encoder_inputs(packed, batch, seq_length)
    if "tokens" in state:
      expected = pack([state["tokens"]], seq_length)
      for key in sig.ENCODER_INPUT_KEYS:
        require(np.array_equal(packed[key].numpy(), expected[key].numpy()),
                f"'{key}' differs from bert_pack_inputs([tokenize(text)], seq_length={seq_length})")
    return f"strings -> 3 x int32 [{batch}, {seq_length}], same as tokenize + bert_pack_inputs"

  def vocab_asset():
    files = reading.asset_files(export_dir)
    require(files, "assets/ is empty: the vocab must travel as a SavedModel asset")
    vocab_size = state.get("special", {}).get("vocab_size")
    sizes = {p.name: len(reading.read_vocab(p)) for p in files if p.suffix == ".txt"}
    require(vocab_size is None or vocab_size in sizes.values(),
            f"no asset has vocab_size={vocab_size} lines (assets: {sizes or [p.name for p in files]})")
    return ", ".join(f"assets/{name} ({n} tokens)" for name, n in sizes.items()) or "assets present"

  clauses = [
      ("reusable API", lambda: common.check_reusable_api(obj)),
      ("special tokens", special_tokens),
      ("tokenize", tokenize),
      ("bert_pack_inputs 1 segment", pack_segments(1)),
      ("bert_pack_inputs 2 segments", pack_segments(2)),
      ("bert_pack_inputs truncation", pack_truncated),
      ("bert_pack_inputs ragged rank 1", pack_rank1),
      ("default call", default_call),
      ("vocab asset", vocab_asset),
      ("asset paths", lambda: common.check_no_absolute_asset_paths(export_dir)),
  ]
  return [run_check(name, fn) for name, fn in clauses]
