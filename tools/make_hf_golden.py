"""Golden outputs of HF transformers' PyTorch MobileBERT for seeded release-layout checkpoints.

An implementation independent of ours (PyTorch, eager attention, eval mode) computes
what the encoder and its MLM head must output for checkpoints our own writer produces
(`hub_export.checkpoint.tf1_release`). The model tests compare against the small
`tests/support/golden/<case>.npz` files this writes, without torch in CI.

For each case: write the release directory with the writer, read it back with
`tf.train.load_checkpoint`, map every TF1 variable onto the HF state dict (kernels
transposed to torch's [out, in]), asserting that every TF1 variable and every HF
parameter is accounted for, run seeded unpadded inputs and save the outputs. Besides the
full-length batch, each case holds `short_*` rows of shorter real lengths, each run
through HF alone and unpadded (stored zero-padded to the batch length, `short_length`
telling where each row ends): the oracle for padded batches, since padding must not
change what a real token gets.

Where HF departs from the original TF1 code, the script follows the original:
  * hidden_act "gelu" in a release means the tanh approximation (TF1 `modeling.gelu`),
    HF's "gelu_new"; HF's "gelu" is the erf form.
  * every LayerNorm uses eps 1e-12 (TF1 contrib layer_norm); HF builds the embedding
    and block-output LayerNorms with torch's default 1e-5.
  * with use_bottleneck and neither shared key/query bottleneck nor bottleneck
    attention, TF1 query/key read the H-wide block input (kernels [H, B]); HF builds them
    [B, B] though it feeds them that same input, so the script gives them in-width H.
  * parameters HF creates that TF1 has no variable for (the embedding transformation
    when unused, the shared key/query bottleneck under use_bottleneck_attention) are
    filled with NaN, so any use of them would show in the outputs.

Before the cases, the mapping is proven on the real fixture: HF loaded from
`fixtures/mobilebert_tiny/release_tf1` must reproduce the fixture's own HF golden outputs.

Re-run from the repository root, in a venv apart from the project's (the torch 2.13.0 CPU wheel
must be pinned; `.hfvenv` is the name the benches look for too):
  python3 -m venv .hfvenv
  .hfvenv/bin/pip install torch==2.13.0 transformers==5.23.0 tensorflow==2.21.0 numpy
  PYTHONPATH=. .hfvenv/bin/python tools/make_hf_golden.py
Options: --out DIR (default tests/support/golden), --fixture DIR (default ../shared/fixtures/
mobilebert_tiny), --deep-check (also run a 24-layer OPT-shaped model and print per-layer
statistics, to see the seeded values stay tame).
"""

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
import torch
import transformers
from torch import nn

from hub_export.checkpoint.tf1_release import DEFAULT_PREFIX, is_ignorable, values_sha256, write_release_checkpoint
from hub_export.config import LAYER_NORM_EPSILON, MobileBertConfig

REPO = Path(__file__).resolve().parents[1]
HF_ACTIVATION = {"gelu": "gelu_new"}  # the release's gelu is the tanh approximation
BATCH, SEQ_LEN, NUM_PREDICTIONS = 3, 24, 5
SHORT_LENGTHS, SHORT_PREDICTIONS = (3, 10, 17), 3

_OPT_SMALL = dict(vocab_size=1000, hidden_size=512, num_hidden_layers=3, num_attention_heads=4,
                  intermediate_size=512, hidden_act="relu", embedding_size=128, trigram_input=True,
                  use_bottleneck=True, intra_bottleneck_size=128, key_query_shared_bottleneck=True,
                  num_feedforward_networks=4, normalization_type="no_norm", classifier_activation=False)
CASES = {
    # The released OPT architecture, cut to 3 blocks and a 1,000-token vocab.
    "opt_small": (_OPT_SMALL, 1),
    # Like the IB-BERT teacher: LayerNorm, gelu, one FFN, a bottleneck wider than the
    # hidden size whose query/key/value all read the block input, no trigram.
    "teacher_small": (dict(vocab_size=1000, hidden_size=256, num_hidden_layers=3, num_attention_heads=4,
                           intermediate_size=1024, hidden_act="gelu", embedding_size=128, trigram_input=False,
                           use_bottleneck=True, intra_bottleneck_size=512, key_query_shared_bottleneck=False,
                           use_bottleneck_attention=False, num_feedforward_networks=1,
                           normalization_type="layer_norm", classifier_activation=False), 2),
    # A tanh pooler, no bottleneck at all, embeddings narrower than hidden without trigram.
    "pooler_small": (dict(vocab_size=1000, hidden_size=256, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=512, hidden_act="relu6", embedding_size=64, trigram_input=False,
                          use_bottleneck=False, intra_bottleneck_size=128, key_query_shared_bottleneck=False,
                          num_feedforward_networks=2, normalization_type="no_norm",
                          classifier_activation=True), 3),
    # Query, key and value all read the bottleneck input (value kernel [B, B]).
    "bottleneck_attention_small": (dict(vocab_size=1000, hidden_size=256, num_hidden_layers=2,
                                        num_attention_heads=4, intermediate_size=256, hidden_act="relu",
                                        embedding_size=64, trigram_input=True, use_bottleneck=True,
                                        intra_bottleneck_size=128, use_bottleneck_attention=True,
                                        key_query_shared_bottleneck=True, num_feedforward_networks=2,
                                        normalization_type="no_norm", classifier_activation=False), 4),
}

# TF1 name -> HF state-dict name; the `kernel`s and extra_output_weights are transposed.
_SPECIAL_NAMES = {
    "cls/predictions/output_bias": "cls.predictions.bias",
    "cls/predictions/extra_output_weights": "cls.predictions.dense.weight",
    "cls/seq_relationship/output_weights": "cls.seq_relationship.weight",
    "cls/seq_relationship/output_bias": "cls.seq_relationship.bias",
    # The fine-tuning heads (run_squad.py, run_classifier.py): [labels, H], torch's [out, in] as stored.
    "cls/squad/output_weights": "qa_outputs.weight",
    "cls/squad/output_bias": "qa_outputs.bias",
    "output_weights": "classifier.weight",
    "output_bias": "classifier.bias",
}
_NAME_RULES = [
    (r"^bert/encoder/layer_(\d+)/", r"mobilebert.encoder.layer.\1/"),
    (r"^bert/", "mobilebert/"),
    (r"^cls/", "cls/"),
    (r"/ffn_layer_(\d+)/", r"/ffn.\1/"),
    (r"/(Fake)?LayerNorm/gamma$", "/LayerNorm/weight"),
    (r"/(Fake)?LayerNorm/beta$", "/LayerNorm/bias"),
    (r"_embeddings$", "_embeddings/weight"),
    (r"/kernel$", "/weight"),
    ("/", "."),
]
_TIED = {"cls.predictions.decoder.weight": "mobilebert.embeddings.word_embeddings.weight",
         "cls.predictions.decoder.bias": "cls.predictions.bias"}


def hf_name(tf_name: str) -> tuple[str, bool]:
  """(HF state-dict key, whether the value is transposed) of a TF1 variable."""
  if tf_name in _SPECIAL_NAMES:
    return _SPECIAL_NAMES[tf_name], tf_name.endswith("extra_output_weights")
  name = tf_name
  for pattern, replacement in _NAME_RULES:
    name = re.sub(pattern, replacement, name)
  return name, tf_name.endswith("/kernel")


def hf_config(config: MobileBertConfig, **options) -> transformers.MobileBertConfig:
  """HF's config for `config`; `options` adds HF-only keys (`num_labels` for a task model)."""
  values = config.to_dict()
  values["hidden_act"] = HF_ACTIVATION.get(config.hidden_act, config.hidden_act)
  return transformers.MobileBertConfig(**values, **options, layer_norm_eps=LAYER_NORM_EPSILON, pad_token_id=0,
                                       attn_implementation="eager")


def _hf_only_parameters(config: MobileBertConfig) -> list[str]:
  """HF parameters with no TF1 variable (and no use in HF's forward pass) for this config."""
  prefixes = []
  if not config.trigram_input and config.embedding_size == config.hidden_size:
    prefixes.append("mobilebert.embeddings.embedding_transformation.")
  if config.use_bottleneck and config.use_bottleneck_attention and config.key_query_shared_bottleneck:
    prefixes += [f"mobilebert.encoder.layer.{n}.bottleneck.attention."
                 for n in range(config.num_hidden_layers)]
  return prefixes


def _widen_query_key(model, config: MobileBertConfig) -> None:
  """Gives query/key the H-wide input TF1 gives them when no bottleneck feeds attention."""
  if not (config.use_bottleneck and not config.use_bottleneck_attention
          and not config.key_query_shared_bottleneck):
    return
  for layer in model.mobilebert.encoder.layer:
    attention = layer.attention.self
    for proj in ("query", "key"):
      old = getattr(attention, proj)
      setattr(attention, proj, nn.Linear(config.hidden_size, old.out_features))


def build_hf_model(config: MobileBertConfig, tf_values: dict, model_class=transformers.MobileBertForPreTraining,
                   **options):
  """HF `model_class` (with `hf_config` `options`) holding exactly `tf_values`, in eval mode."""
  model = model_class(hf_config(config, **options))
  _widen_query_key(model, config)
  for module in model.modules():
    if isinstance(module, nn.LayerNorm):
      module.eps = LAYER_NORM_EPSILON
  hf_state = model.state_dict()
  state, sources = {}, {}
  for tf_name, value in tf_values.items():
    key, transpose = hf_name(tf_name)
    assert key in hf_state, f"TF1 variable {tf_name} maps to {key}, which HF does not have"
    assert key not in sources, f"{tf_name} and {sources[key]} both map to {key}"
    value = value.T if transpose else value
    assert tuple(hf_state[key].shape) == value.shape, (tf_name, key, value.shape, hf_state[key].shape)
    state[key] = torch.from_numpy(np.ascontiguousarray(value))
    sources[key] = tf_name
  for key, source in _TIED.items():
    if key in hf_state:
      state[key] = state[source]
  hf_only = _hf_only_parameters(config)
  for key, tensor in hf_state.items():
    if key in state:
      continue
    assert tensor.numel() == 0 or key.startswith(tuple(hf_only)), f"HF parameter {key} has no TF1 variable"
    state[key] = torch.full_like(tensor, float("nan"))
  model.load_state_dict(state, strict=True)
  model.eval()
  if isinstance(model, transformers.MobileBertForPreTraining):
    assert model.cls.predictions.decoder.weight.data_ptr() == \
        model.mobilebert.embeddings.word_embeddings.weight.data_ptr(), "MLM decoder is not tied to the word table"
  return model


def make_inputs(vocab_size: int, seed: int) -> dict:
  """Unpadded inputs: random word ids, segment 1 from a random split on, sorted MLM positions."""
  rng = np.random.default_rng([seed, 2])
  split = rng.integers(1, SEQ_LEN, size=(BATCH, 1))
  return {
      "input_word_ids": rng.integers(0, vocab_size, size=(BATCH, SEQ_LEN)).astype(np.int32),
      "input_mask": np.ones((BATCH, SEQ_LEN), np.int32),
      "input_type_ids": (np.arange(SEQ_LEN)[None, :] >= split).astype(np.int32),
      "masked_lm_positions": np.stack([np.sort(rng.choice(SEQ_LEN, NUM_PREDICTIONS, replace=False))
                                       for _ in range(BATCH)]).astype(np.int32),
  }


def make_short_rows(vocab_size: int, seed: int) -> dict:
  """Rows of SHORT_LENGTHS real tokens, zero-padded to SEQ_LEN; their own stream, so the
  full-length inputs of a seed stay as they were."""
  rng = np.random.default_rng([seed, 3])
  rows = len(SHORT_LENGTHS)
  lengths = np.array(SHORT_LENGTHS, np.int32)
  real = np.arange(SEQ_LEN)[None, :] < lengths[:, None]
  split = np.array([rng.integers(1, n + 1) for n in SHORT_LENGTHS])[:, None]
  return {
      "short_length": lengths,
      "short_input_word_ids": (rng.integers(0, vocab_size, size=(rows, SEQ_LEN)) * real).astype(np.int32),
      "short_input_mask": real.astype(np.int32),
      "short_input_type_ids": ((np.arange(SEQ_LEN)[None, :] >= split) & real).astype(np.int32),
      "short_masked_lm_positions": np.stack([np.sort(rng.integers(0, n, SHORT_PREDICTIONS))
                                             for n in SHORT_LENGTHS]).astype(np.int32),
  }


def run_hf_short_rows(model, rows: dict) -> dict:
  """HF on each short row alone, cut to its real length (no padding at all)."""
  sequences, pooled, logits = [], [], []
  for r, n in enumerate(rows["short_length"]):
    alone = {key: rows[f"short_{key}"][r:r + 1, :n] for key in ("input_word_ids", "input_mask", "input_type_ids")}
    alone["masked_lm_positions"] = rows["short_masked_lm_positions"][r:r + 1]
    out = run_hf(model, alone)
    sequences.append(np.pad(out["sequence_output"][0], [(0, SEQ_LEN - n), (0, 0)]))
    pooled.append(out["pooled_output"][0])
    logits.append(out["mlm_logits"][0])
  return {"short_sequence_output": np.stack(sequences), "short_pooled_output": np.stack(pooled),
          "short_mlm_logits": np.stack(logits)}


@torch.no_grad()
def run_hf(model, inputs: dict) -> dict:
  ids, mask, types = (torch.from_numpy(inputs[k].astype(np.int64))
                      for k in ("input_word_ids", "input_mask", "input_type_ids"))
  positions = torch.from_numpy(inputs["masked_lm_positions"].astype(np.int64))
  out = model.mobilebert(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
  sequence = out.last_hidden_state
  rows = torch.arange(sequence.shape[0])[:, None]
  logits = model.cls.predictions(sequence[rows, positions])
  full_logits = model(input_ids=ids, attention_mask=mask, token_type_ids=types).prediction_logits
  # Relative to the largest logit: the full-vocabulary matmul of the whole batch rounds differently
  # (1.2e-5 on logits of 24 on an AMX Xeon).
  assert torch.allclose(full_logits[rows, positions], logits, rtol=0, atol=1e-6 * float(logits.abs().max()))
  result = {
      "sequence_output": sequence.numpy(),
      "pooled_output": out.pooler_output.numpy(),
      "mlm_logits": logits.numpy(),
      "encoder_outputs": torch.stack(out.hidden_states[1:]).numpy(),
  }
  for name, value in result.items():
    assert np.isfinite(value).all(), f"{name} is not finite"
  assert np.array_equal(result["encoder_outputs"][-1], result["sequence_output"])
  return result


def read_checkpoint(prefix: Path) -> dict:
  """Every non-ignorable variable of the TF1 checkpoint at `prefix`, as numpy."""
  reader = tf.train.load_checkpoint(str(prefix))
  return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map() if not is_ignorable(name)}


_NUMPY_ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "gelu": lambda x: 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3))),
    "tanh": np.tanh,
    "linear": lambda x: x,
}


def tf1_forward_float64(config: MobileBertConfig, values: dict, inputs: dict) -> dict:
  """The original TF1 graph (modeling.py, run_pretraining.get_logits) in float64 numpy.

  A second, independent check on HF and on the script's departures from HF's defaults:
  unpadded inputs only (the TF1 mask is then a no-op). The MLM logits only where `inputs`
  has `masked_lm_positions` (a fine-tuned checkpoint has no MLM head).
  """
  v = {name: value.astype(np.float64) for name, value in values.items()}
  act = _NUMPY_ACTIVATIONS[config.hidden_act]
  norm_scope = "FakeLayerNorm" if config.normalization_type == "no_norm" else "LayerNorm"

  def dense(x, scope):
    return x @ v[f"{scope}/kernel"] + v[f"{scope}/bias"]

  def layer_norm(x, scope):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + LAYER_NORM_EPSILON) * v[f"{scope}/gamma"] + v[f"{scope}/beta"]

  def norm(x, scope):
    scope = f"{scope}/{norm_scope}"
    if config.normalization_type == "no_norm":
      return x * v[f"{scope}/gamma"] + v[f"{scope}/beta"]
    return layer_norm(x, scope)

  ids, types = inputs["input_word_ids"], inputs["input_type_ids"]
  batch, seq_len = ids.shape
  x = v["bert/embeddings/word_embeddings"][ids]
  if config.trigram_input:
    zeros = np.zeros_like(x[:, :1])
    x = np.concatenate([np.concatenate([x[:, 1:], zeros], 1), x, np.concatenate([zeros, x[:, :-1]], 1)], -1)
  if config.trigram_input or config.embedding_size != config.hidden_size:
    x = dense(x, "bert/embeddings/embedding_transformation")
  x = x + v["bert/embeddings/token_type_embeddings"][types] + v["bert/embeddings/position_embeddings"][:seq_len]
  x = norm(x, "bert/embeddings")
  heads, head_size = config.num_attention_heads, config.head_size
  layers = []
  for n in range(config.num_hidden_layers):
    scope = f"bert/encoder/layer_{n}"
    query_in = key_in = value_in = layer_input = x
    if config.use_bottleneck:
      layer_input = norm(dense(x, f"{scope}/bottleneck/input/dense"), f"{scope}/bottleneck/input")
      if config.use_bottleneck_attention:
        query_in = key_in = value_in = layer_input
      elif config.key_query_shared_bottleneck:
        query_in = key_in = norm(dense(x, f"{scope}/bottleneck/attention/dense"), f"{scope}/bottleneck/attention")

    def split(t):
      return t.reshape(batch, seq_len, heads, head_size).transpose(0, 2, 1, 3)

    q, k, val = (split(dense(t, f"{scope}/attention/self/{proj}"))
                 for t, proj in ((query_in, "query"), (key_in, "key"), (value_in, "value")))
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_size)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = (probs @ val).transpose(0, 2, 1, 3).reshape(batch, seq_len, heads * head_size)
    y = norm(dense(context, f"{scope}/attention/output/dense") + layer_input, f"{scope}/attention/output")
    for ffn in [f"{scope}/ffn_layer_{i}" for i in range(config.num_feedforward_networks - 1)] + [scope]:
      y = norm(dense(act(dense(y, f"{ffn}/intermediate/dense")), f"{ffn}/output/dense") + y, f"{ffn}/output")
    if config.use_bottleneck:
      y = norm(dense(y, f"{scope}/output/bottleneck/dense") + x, f"{scope}/output/bottleneck")
    x = y
    layers.append(x)
  first = x[:, 0]
  pooled = np.tanh(dense(first, "bert/pooler/dense")) if config.classifier_activation else first
  outputs = {"sequence_output": x, "pooled_output": pooled, "encoder_outputs": np.stack(layers)}
  if "masked_lm_positions" not in inputs:
    return outputs
  h = x[np.arange(batch)[:, None], inputs["masked_lm_positions"]]
  h = layer_norm(act(dense(h, "cls/predictions/transform/dense")), "cls/predictions/transform/LayerNorm")
  table = v["bert/embeddings/word_embeddings"]
  if config.hidden_size != config.embedding_size:
    table = np.concatenate([table, v["cls/predictions/extra_output_weights"]], 1)
  return {**outputs, "mlm_logits": h @ table.T + v["cls/predictions/output_bias"]}


def compare(got: dict, reference) -> dict:
  """The issue's agreement measures, for the outputs both have: per-token relative
  error, and max abs diff for the MLM logits."""
  return {key: (float(np.abs(got[key] - reference[key]).max()) if key == "mlm_logits"
                else per_token_relative_error(got[key], reference[key]))
          for key in ("sequence_output", "pooled_output", "encoder_outputs", "mlm_logits") if key in reference and key in got}


def assert_agrees(errors: dict, what: str) -> None:
  print(f"  {what}: " + ", ".join(f"{k} {e:.1e}" for k, e in errors.items()))
  assert all(e <= (1e-4 if k == "mlm_logits" else 1e-5) for k, e in errors.items()), what


def per_token_relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
  return float((np.linalg.norm(ours - reference, axis=-1) / np.linalg.norm(reference, axis=-1)).max())


def check_fixture(fixture: Path) -> None:
  """HF on the real fixture checkpoint must reproduce the fixture's HF golden outputs."""
  release = fixture / "release_tf1"
  config = MobileBertConfig.from_json_file(release / "bert_config.json")
  # By prefix: the fixture's `checkpoint` state file names the path it was written at.
  values = read_checkpoint(release / DEFAULT_PREFIX)
  model = build_hf_model(config, values)
  inputs = dict(np.load(fixture / "golden" / "inputs_unpadded.npz"))
  expected = np.load(fixture / "golden" / "hf_pytorch_outputs_unpadded.npz")
  got = run_hf(model, inputs)
  errors = compare(got, expected)
  print("fixture: HF loaded by this script vs the fixture's HF golden: "
        + ", ".join(f"{k} {e:.1e}" for k, e in errors.items()))
  # Per token 1e-6; the logits (tens in size) within 1e-5: torch's CPU kernels differ between
  # machines (the fixture's were made on another CPU; on an AMX Xeon they differ by 1.1e-6).
  assert max(e for k, e in errors.items() if k != "mlm_logits") <= 1e-6 and errors["mlm_logits"] <= 1e-5, \
      "the TF1 -> HF mapping does not reproduce the fixture"
  assert_agrees(compare(got, tf1_forward_float64(config, values, inputs)), "fixture: HF vs float64 TF1 graph")


def make_case(name: str, config_values: dict, seed: int, out_dir: Path, work: Path) -> None:
  config = MobileBertConfig.from_dict(config_values)
  release = write_release_checkpoint(work / name, config, seed)
  config_json = (release / "bert_config.json").read_text(encoding="utf-8")
  assert MobileBertConfig.from_dict(json.loads(config_json)) == config
  values = read_checkpoint(tf.train.latest_checkpoint(str(release)))
  model = build_hf_model(config, values)
  inputs = make_inputs(config.vocab_size, seed)
  outputs = run_hf(model, inputs)
  assert_agrees(compare(outputs, tf1_forward_float64(config, values, inputs)), f"{name}: HF vs float64 TF1 graph")
  short_rows = make_short_rows(config.vocab_size, seed)
  short_outputs = run_hf_short_rows(model, short_rows)
  for r, n in enumerate(SHORT_LENGTHS):
    alone = {key: short_rows[f"short_{key}"][r:r + 1, :n] for key in ("input_word_ids", "input_mask", "input_type_ids")}
    alone["masked_lm_positions"] = short_rows["short_masked_lm_positions"][r:r + 1]
    reference = tf1_forward_float64(config, values, alone)
    got = {"sequence_output": short_outputs["short_sequence_output"][r:r + 1, :n],
           "pooled_output": short_outputs["short_pooled_output"][r:r + 1],
           "mlm_logits": short_outputs["short_mlm_logits"][r:r + 1]}
    assert_agrees(compare(got, reference), f"{name}: short row of {n}, HF vs float64 TF1 graph")
  path = out_dir / f"{name}.npz"
  np.savez_compressed(
      path, config_json=np.array(config_json), seed=np.array(seed, np.int64), **inputs, **outputs,
      **short_rows, **short_outputs,
      values_sha256=np.array(values_sha256(config, seed)),
      hf_hidden_act=np.array(HF_ACTIVATION.get(config.hidden_act, config.hidden_act)),
      layer_norm_eps=np.array(LAYER_NORM_EPSILON, np.float64),
      transformers_version=np.array(transformers.__version__), torch_version=np.array(torch.__version__),
      numpy_version=np.array(np.__version__))
  print(f"{name}: wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
        f"({path.stat().st_size / 1024:.0f} KiB); sequence_output std "
        f"{outputs['sequence_output'].std():.3f}, mlm_logits std {outputs['mlm_logits'].std():.3f}")


def deep_check(work: Path) -> None:
  """A 24-layer OPT-shaped model on seeded values: per-layer statistics stay finite and tame."""
  config = MobileBertConfig.from_dict(dict(_OPT_SMALL, num_hidden_layers=24))
  release = write_release_checkpoint(work / "deep", config, 0)
  model = build_hf_model(config, read_checkpoint(release / DEFAULT_PREFIX))
  inputs = make_inputs(config.vocab_size, 0)
  outputs = run_hf(model, inputs)
  with torch.no_grad():
    attentions = model.mobilebert(input_ids=torch.from_numpy(inputs["input_word_ids"].astype(np.int64)),
                                  output_attentions=True).attentions
  for n, (layer, attention) in enumerate(zip(outputs["encoder_outputs"], attentions), start=1):
    print(f"  layer {n:2d}: std {layer.std():7.4f}  max |x| {np.abs(layer).max():7.3f}  "
          f"mean cosine to token 0 {_mean_cosine(layer):.3f}  "
          f"mean max attention prob {attention.max(-1).values.mean():.3f}")
  print(f"  mlm_logits std {outputs['mlm_logits'].std():.3f}")


def _mean_cosine(layer: np.ndarray) -> float:
  unit = layer / np.linalg.norm(layer, axis=-1, keepdims=True)
  return float((unit * unit[:, :1]).sum(-1)[:, 1:].mean())


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--out", type=Path, default=REPO / "tests" / "support" / "golden")
  parser.add_argument("--fixture", type=Path, default=REPO.parent / "shared" / "fixtures" / "mobilebert_tiny")
  parser.add_argument("--deep-check", action="store_true")
  args = parser.parse_args(argv)
  torch.set_num_threads(1)  # deterministic reduction order
  check_fixture(args.fixture)
  args.out.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory() as work:
    for name, (config_values, seed) in CASES.items():
      make_case(name, config_values, seed, args.out, Path(work))
    if args.deep_check:
      deep_check(Path(work))
  return 0


if __name__ == "__main__":
  sys.exit(main())
