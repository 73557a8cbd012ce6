"""Tiny SavedModels that follow (or deliberately break) the TF-Hub text API contract.

They make the verifier's PASS and FAIL paths testable without the shared fixtures: a
few variables and tf.functions, nothing MobileBERT-specific, saved in a second or two.
"""

import dataclasses
from pathlib import Path

import tensorflow as tf

from hub_export import signatures as sig

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a"]
HIDDEN = 8
LAYERS = 2


@dataclasses.dataclass(frozen=True)
class EncoderFlaws:
  """Which parts of the contract the synthetic encoder should break."""

  no_pooled_output: bool = False
  sequence_dtype: tf.DType = tf.float32
  no_mlm: bool = False
  no_vocab_asset: bool = False
  mlm_head_in_root: bool = False
  only_inference_trace: bool = False
  default_differs: bool = False


def _write_vocab(directory: Path) -> Path:
  vocab = directory / "vocab.txt"
  vocab.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
  return vocab


def _encode(embeddings, layers, inputs, training, flaws: EncoderFlaws):
  mask = tf.cast(inputs[sig.INPUT_MASK], tf.float32)[..., None]
  x = tf.gather(embeddings, inputs[sig.INPUT_WORD_IDS]) * mask
  x += tf.cast(inputs[sig.INPUT_TYPE_IDS], tf.float32)[..., None]
  outputs = []
  for kernel in layers:
    x = tf.tanh(tf.einsum("bsh,hk->bsk", x, kernel))
    if training:
      x = tf.nn.dropout(x, rate=0.1)
    outputs.append(x)
  pooled = x[:, 0, :]
  result = {sig.SEQUENCE_OUTPUT: tf.cast(x, flaws.sequence_dtype), sig.ENCODER_OUTPUTS: outputs,
            sig.DEFAULT_OUTPUT: pooled + 1.0 if flaws.default_differs else pooled}
  if not flaws.no_pooled_output:
    result[sig.POOLED_OUTPUT] = pooled
  return result


def build_encoder(export_dir: Path, flaws: EncoderFlaws = EncoderFlaws()) -> Path:
  """Saves a two-layer toy encoder with `.mlm` to `export_dir`, broken as `flaws` say."""
  export_dir = Path(export_dir)
  scratch = export_dir.parent / f"{export_dir.name}-src"
  scratch.mkdir(parents=True, exist_ok=True)
  tf.random.set_seed(0)
  root = tf.train.Checkpoint()
  embeddings = tf.Variable(tf.random.normal([len(VOCAB), HIDDEN]), name="embeddings")
  layers = [tf.Variable(tf.random.normal([HIDDEN, HIDDEN]) * 0.3, name=f"layer_{i}") for i in range(LAYERS)]
  head_kernel = tf.Variable(tf.random.normal([HIDDEN, HIDDEN]), name="mlm_dense")
  head_bias = tf.Variable(tf.zeros([len(VOCAB)]), name="mlm_bias")
  encoder_vars = [embeddings] + layers
  head_vars = [head_kernel, head_bias]

  @tf.function
  def call(inputs, training=False):
    return _encode(embeddings, layers, inputs, training, flaws)

  trainings = (False,) if flaws.only_inference_trace else (False, True)
  for training in trainings:
    call.get_concrete_function(sig.encoder_input_spec(), training=training)
  root.__call__ = call
  root_vars = encoder_vars + (head_vars if flaws.mlm_head_in_root else [])
  root.variables = root_vars
  root.trainable_variables = root_vars
  root.regularization_losses = []
  root.do_lower_case = tf.Variable(True, trainable=False, name="do_lower_case")
  if not flaws.no_vocab_asset:
    root.vocab_file = tf.saved_model.Asset(str(_write_vocab(scratch)))

  if not flaws.no_mlm:
    mlm = tf.train.Checkpoint()

    @tf.function
    def mlm_call(inputs, training=False):
      outputs = _encode(embeddings, layers, inputs, training, flaws)
      picked = tf.gather(outputs[sig.SEQUENCE_OUTPUT], inputs[sig.MASKED_LM_POSITIONS], batch_dims=1)
      hidden = tf.einsum("bph,hk->bpk", tf.cast(picked, tf.float32), head_kernel)
      outputs[sig.MLM_LOGITS] = tf.einsum("bph,vh->bpv", hidden, embeddings) + head_bias
      return outputs

    for training in (False, True):
      mlm_call.get_concrete_function(sig.mlm_input_spec(), training=training)
    mlm.__call__ = mlm_call
    mlm.variables = encoder_vars + head_vars
    mlm.trainable_variables = encoder_vars + head_vars
    mlm.regularization_losses = []
    root.mlm = mlm

  @tf.function(input_signature=[sig.encoder_input_spec(named=True)])
  def serving(inputs):
    outputs = call(inputs, training=False)
    flat = {k: v for k, v in outputs.items() if k != sig.ENCODER_OUTPUTS}
    flat.update({f"{sig.ENCODER_OUTPUTS}_{i}": v for i, v in enumerate(outputs[sig.ENCODER_OUTPUTS])})
    return flat

  tf.saved_model.save(root, str(export_dir), signatures={"serving_default": serving})
  return export_dir


@dataclasses.dataclass(frozen=True)
class PreprocessorFlaws:
  """Which parts of the preprocessor contract the synthetic one should break."""

  special_ids_int64: bool = False
  no_segment_ids: bool = False


def build_preprocessor(export_dir: Path, flaws: PreprocessorFlaws = PreprocessorFlaws()) -> Path:
  """Saves a BertTokenizer-based toy preprocessor over VOCAB to `export_dir`."""
  import tensorflow_text as text

  export_dir = Path(export_dir)
  scratch = export_dir.parent / f"{export_dir.name}-src"
  scratch.mkdir(parents=True, exist_ok=True)
  vocab_path = _write_vocab(scratch)
  ids = {token: i for i, token in enumerate(VOCAB)}
  tokenizer = text.BertTokenizer(str(vocab_path), lower_case=True, token_out_type=tf.int64)
  special_dtype = tf.int64 if flaws.special_ids_int64 else tf.int32
  special = {"vocab_size": len(VOCAB), "padding_id": ids["[PAD]"], "start_of_sequence_id": ids["[CLS]"],
             "end_of_segment_id": ids["[SEP]"], "mask_id": ids["[MASK]"]}

  tokenize_obj = tf.train.Checkpoint(tokenizer=tokenizer)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
  def tokenize(sentences):
    return tf.cast(tokenizer.tokenize(sentences), tf.int32)

  @tf.function(input_signature=[])
  def get_special_tokens_dict():
    return {k: tf.constant(v, special_dtype) for k, v in special.items()}

  tokenize_obj.__call__ = tokenize
  tokenize_obj.get_special_tokens_dict = get_special_tokens_dict

  @tf.function
  def bert_pack_inputs(segments, seq_length=sig.DEFAULT_SEQ_LENGTH):
    flat = [s.merge_dims(-2, -1) if s.ragged_rank == 2 else s for s in segments]
    trimmed = text.RoundRobinTrimmer(max_seq_length=seq_length - len(flat) - 1).trim(flat)
    word_ids, type_ids = text.combine_segments(trimmed, ids["[CLS]"], ids["[SEP]"])
    if flaws.no_segment_ids:
      type_ids = tf.zeros_like(type_ids)
    word_ids, mask = text.pad_model_inputs(word_ids, seq_length, ids["[PAD]"])
    type_ids, _ = text.pad_model_inputs(type_ids, seq_length, 0)
    return {sig.INPUT_WORD_IDS: word_ids, sig.INPUT_MASK: mask, sig.INPUT_TYPE_IDS: type_ids}

  seq_spec = tf.TensorSpec([], tf.int32)
  for ragged_rank in (1, 2):
    spec = tf.RaggedTensorSpec([None] * (ragged_rank + 1), tf.int32, ragged_rank=ragged_rank)
    for count in (1, 2):
      bert_pack_inputs.get_concrete_function([spec] * count, seq_spec)
  pack_obj = tf.train.Checkpoint()
  pack_obj.__call__ = bert_pack_inputs

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
  def call(sentences):
    return bert_pack_inputs([tokenize(sentences)], tf.constant(sig.DEFAULT_SEQ_LENGTH))

  root = tf.train.Checkpoint()
  root.tokenize = tokenize_obj
  root.bert_pack_inputs = pack_obj
  root.__call__ = call
  root.variables = []
  root.trainable_variables = []
  root.regularization_losses = []
  tf.saved_model.save(root, str(export_dir))
  return export_dir
