"""A tiny IB-BERT teacher (TF1 release layout), a tiny student config and pre-training data, for the transfer tests."""

import json
import re

from hub_export.config import TEACHER, MobileBertConfig
from support.tokenization_test_data import build_test_vocab, corpus

# Keys the IB-BERT teacher JSON leaves out on purpose: normalization_type, key_query_shared_bottleneck,
# num_feedforward_networks (the teacher defaults make it layer_norm, unshared, one FFN).
TEACHER_JSON = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
                "hidden_act": "gelu", "embedding_size": 8, "trigram_input": True, "use_bottleneck": True,
                "intra_bottleneck_size": 32, "max_position_embeddings": 128, "hidden_dropout_prob": 0.0,
                "attention_probs_dropout_prob": 0.0}
STUDENT_JSON = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 16,
                "hidden_act": "relu", "embedding_size": 8, "trigram_input": True, "use_bottleneck": True,
                "intra_bottleneck_size": 8, "max_position_embeddings": 128, "hidden_dropout_prob": 0.0,
                "attention_probs_dropout_prob": 0.0, "num_feedforward_networks": 2}


def sentences() -> list:
  return [s for line in corpus("english") for s in re.split(r"(?<=[.?!;])\s+", line.strip()) if s.strip()]


def build(root, seq_length=32, max_predictions=5, teacher_overrides=None, student_overrides=None):
  """Writes vocab, corpus, data/, teacher/ (release layout) and the two configs under `root`; returns their paths."""
  from hub_export.pretraining_data import write_pretraining_data

  lines = sentences()
  tokens = build_test_vocab(lines, lower_case=True)
  vocab = root / "vocab.txt"
  vocab.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
  text = root / "corpus.txt"
  text.write_text("\n\n".join("\n".join(lines[i:i + 6]) for i in range(0, 600, 6)) + "\n", encoding="utf-8")
  data = root / "data"
  write_pretraining_data(vocab, [text], data, seq_length=seq_length, max_predictions=max_predictions, seed=1,
                         lower_case=True)
  student_json = {**STUDENT_JSON, "vocab_size": len(tokens), **(student_overrides or {})}
  student_config = root / "student_config.json"
  student_config.write_text(json.dumps(student_json))
  return {**write_teacher(root / "teacher", tokens, teacher_overrides), "student_config": student_config,
          "data": data, "vocab": vocab}


def write_teacher(folder, tokens: list, overrides=None) -> dict:
  """A teacher checkpoint (release layout) and its config in `folder`: {"teacher_config", "teacher_ckpt"}."""
  from hub_export.checkpoint.tf1_release import write_release_checkpoint

  teacher_json = {**TEACHER_JSON, "vocab_size": len(tokens), **(overrides or {})}
  config = folder.parent / f"{folder.name}_config.json"
  config.write_text(json.dumps(teacher_json))
  teacher = write_release_checkpoint(folder, MobileBertConfig.from_dict(teacher_json, role=TEACHER), seed=3,
                                     vocab_lines=tokens)
  return {"teacher_config": config, "teacher_ckpt": teacher}


def distill_argv(paths, out, *extra) -> list:
  argv = []
  for key in ("teacher_config", "teacher_ckpt", "student_config", "data"):
    argv += [f"--{key}", str(paths[key])]
  return argv + ["--out", str(out), *map(str, extra)]
