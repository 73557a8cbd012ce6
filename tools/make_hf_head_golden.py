"""Golden outputs of HF transformers' MobileBERT task models for seeded fine-tuned checkpoints.

The sibling of `make_hf_golden.py`, sharing its mapping: for each case the release writer lays
down the checkpoint the original fine-tuning code saves (the encoder and a task head under its
original names: `cls/squad/output_weights` [2, H] and `cls/squad/output_bias` for SQuAD,
`output_weights` [num_labels, H] and `output_bias` for a classifier), every variable is mapped
onto HF's `MobileBertForQuestionAnswering` (`qa_outputs`) or `MobileBertForSequenceClassification`
(`classifier`), both [out, in] as stored, and HF's own forward pass (eval mode, eager attention)
gives the logits for seeded unpadded inputs, and for `short_*` rows each run alone at its real
length (the oracle for padded batches). Each is also checked against the float64 TF1 graph with
the head's matmul. `tests/model/test_task_heads.py` compares against the `tests/support/golden/heads/<case>.npz`
files this writes, without torch.

Re-run from the repository root, in the venv `make_hf_golden.py` names:
  PYTHONPATH=. .hfvenv/bin/python tools/make_hf_head_golden.py
Options: --out DIR (default tests/support/golden/heads).
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
import torch
import transformers

from hub_export.checkpoint.tf1_release import values_sha256, write_release_checkpoint
from hub_export.signatures import ENCODER_INPUT_KEYS
from hub_export.config import LAYER_NORM_EPSILON, MobileBertConfig
from hub_export.weight_layout import CLASSIFIER, SPAN, SPAN_HEAD, TaskHead, task_head_parts
from make_hf_golden import (HF_ACTIVATION, REPO, SEQ_LEN, assert_agrees, build_hf_model, make_inputs,
                            make_short_rows, per_token_relative_error, read_checkpoint, tf1_forward_float64)

# The OPT architecture, tiny: the files hold logits only, a few KiB each.
_TINY = dict(vocab_size=100, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
             hidden_act="relu", embedding_size=32, trigram_input=True, use_bottleneck=True, intra_bottleneck_size=32,
             key_query_shared_bottleneck=True, num_feedforward_networks=2, normalization_type="no_norm",
             classifier_activation=False)
CASES = {
    "qa_small": (_TINY, 5, SPAN_HEAD),
    # The tanh pooler the classifier reads when classifier_activation is set.
    "classifier_small": (dict(_TINY, classifier_activation=True), 6, TaskHead(CLASSIFIER, 3)),
    # STS-B style: one output, read from the first token's vector.
    "regression_small": (_TINY, 7, TaskHead(CLASSIFIER, 1)),
}
HF_CLASSES = {SPAN: transformers.MobileBertForQuestionAnswering,
              CLASSIFIER: transformers.MobileBertForSequenceClassification}
# What each head outputs: per token ([B, S]) for a span head, per sequence ([B, num_labels]) for a classifier.
OUTPUTS = {SPAN: ("start_logits", "end_logits"), CLASSIFIER: ("logits",)}


@torch.no_grad()
def run_hf(model, head: TaskHead, inputs: dict) -> dict:
  ids, mask, types = (torch.from_numpy(inputs[k].astype(np.int64)) for k in ENCODER_INPUT_KEYS)
  out = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
  result = {name: getattr(out, name).numpy() for name in OUTPUTS[head.kind]}
  for name, value in result.items():
    assert np.isfinite(value).all(), f"{name} is not finite"
  return result


def float64_logits(config: MobileBertConfig, head: TaskHead, values: dict, inputs: dict) -> dict:
  """The head on the float64 TF1 graph: `tf.matmul(hidden, output_weights, transpose_b=True) + output_bias`."""
  encoder = tf1_forward_float64(config, values, inputs)
  weights, bias = (values[part.tf1].astype(np.float64) for part in task_head_parts(config, head))
  hidden = encoder["sequence_output" if head.kind == SPAN else "pooled_output"]
  logits = hidden @ weights.T + bias
  return dict(zip(OUTPUTS[head.kind], np.moveaxis(logits, -1, 0))) if head.kind == SPAN else {"logits": logits}


def logit_vectors(head: TaskHead, outputs: dict) -> np.ndarray:
  """What a relative error is taken over: each token's (start, end) pair, or each row's logits."""
  return np.stack([outputs[n] for n in OUTPUTS[head.kind]], -1) if head.kind == SPAN else outputs["logits"]


def head_errors(head: TaskHead, got: dict, reference: dict) -> dict:
  return {"+".join(OUTPUTS[head.kind]): per_token_relative_error(logit_vectors(head, got),
                                                                 logit_vectors(head, reference))}


def run_hf_short_rows(model, head: TaskHead, rows: dict) -> dict:
  """HF on each short row alone, cut to its real length; per-token outputs zero-padded to SEQ_LEN."""
  outputs = {name: [] for name in OUTPUTS[head.kind]}
  for r, n in enumerate(rows["short_length"]):
    out = run_hf(model, head, {key: rows[f"short_{key}"][r:r + 1, :n] for key in ENCODER_INPUT_KEYS})
    for name, value in out.items():
      outputs[name].append(np.pad(value[0], [(0, SEQ_LEN - n)]) if head.kind == SPAN else value[0])
  return {f"short_{name}": np.stack(values) for name, values in outputs.items()}


def make_case(name: str, config_values: dict, seed: int, head: TaskHead, out_dir: Path, work: Path) -> None:
  config = MobileBertConfig.from_dict(config_values)
  release = write_release_checkpoint(work / name, config, seed, task_head=head)
  config_json = (release / "bert_config.json").read_text(encoding="utf-8")
  values = read_checkpoint(tf.train.latest_checkpoint(str(release)))
  model = build_hf_model(config, values, HF_CLASSES[head.kind], num_labels=head.num_labels)
  # The encoder inputs of make_hf_golden's streams; a task model takes no masked positions.
  inputs = {k: v for k, v in make_inputs(config.vocab_size, seed).items() if k in ENCODER_INPUT_KEYS}
  outputs = run_hf(model, head, inputs)
  assert_agrees(head_errors(head, outputs, float64_logits(config, head, values, inputs)),
                f"{name}: HF vs float64 TF1 graph")
  short_rows = {k: v for k, v in make_short_rows(config.vocab_size, seed).items()
                if k == "short_length" or k.removeprefix("short_") in ENCODER_INPUT_KEYS}
  short_outputs = run_hf_short_rows(model, head, short_rows)
  norms = [np.linalg.norm(logit_vectors(head, outputs), axis=-1).ravel()]
  for r, n in enumerate(short_rows["short_length"]):
    alone = {key: short_rows[f"short_{key}"][r:r + 1, :n] for key in ENCODER_INPUT_KEYS}
    got = {k: short_outputs[f"short_{k}"][r:r + 1] for k in OUTPUTS[head.kind]}
    if head.kind == SPAN:
      got = {k: v[:, :n] for k, v in got.items()}
    assert_agrees(head_errors(head, got, float64_logits(config, head, values, alone)),
                  f"{name}: short row of {n}, HF vs float64 TF1 graph")
    norms.append(np.linalg.norm(logit_vectors(head, got), axis=-1).ravel())
  # A vector that nearly cancels to zero would make its relative error a measure of rounding alone.
  norms = np.concatenate(norms)
  assert norms.min() > 0.1 * np.median(norms), f"{name}: a logit vector near zero; pick another seed"
  path = out_dir / f"{name}.npz"
  np.savez_compressed(
      path, config_json=np.array(config_json), seed=np.array(seed, np.int64), head_kind=np.array(head.kind),
      num_labels=np.array(head.num_labels, np.int64), **inputs, **outputs, **short_rows, **short_outputs,
      values_sha256=np.array(values_sha256(config, seed, task_head=head)),
      hf_model_class=np.array(HF_CLASSES[head.kind].__name__),
      hf_hidden_act=np.array(HF_ACTIVATION.get(config.hidden_act, config.hidden_act)),
      layer_norm_eps=np.array(LAYER_NORM_EPSILON, np.float64),
      transformers_version=np.array(transformers.__version__), torch_version=np.array(torch.__version__),
      numpy_version=np.array(np.__version__))
  stds = ", ".join(f"{k} std {v.std():.3f}" for k, v in outputs.items())
  print(f"{name}: wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
        f"({path.stat().st_size / 1024:.0f} KiB); {stds}")


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--out", type=Path, default=REPO / "tests" / "support" / "golden" / "heads")
  args = parser.parse_args(argv)
  torch.set_num_threads(1)  # deterministic reduction order
  args.out.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory() as work:
    for name, (config_values, seed, head) in CASES.items():
      make_case(name, config_values, seed, head, args.out, Path(work))
  return 0


if __name__ == "__main__":
  sys.exit(main())
