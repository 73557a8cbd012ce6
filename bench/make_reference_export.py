"""The peer for `bench_encoder`: a full-size English MobileBERT export made by Model Garden.

Runs in its own virtual environment, since tf-models-official 2.20.0 (the newest) pins
TensorFlow 2.20:

    python3.11 -m venv .refvenv
    .refvenv/bin/pip install tf-models-official==2.20.0 tensorflow==2.20.0 \
        tf-keras==2.20.1 tensorflow-text==2.20.1 'setuptools<82'
    .refvenv/bin/python bench/make_reference_export.py --export_dir REF_EXPORT

It builds the OPT English encoder and MLM head with Model Garden's own MobileBERT TF-Hub
exporter code (`official.projects.mobilebert.export_tfhub.create_mobilebert_model`) and
saves them as that exporter does (`vocab_file` asset, `do_lower_case`, Keras SavedModel),
with seeded random weights in place of a checkpoint restore: latency does not depend on
the values. Then

    .venv/bin/python -m bench.bench_encoder --export_dir EXPORT --export_dir REF_EXPORT

times both beside HF PyTorch in one run. Model Garden's `model_utils` uses `tf_keras`
without importing it (`NameError`); the name is supplied here before it is needed.
"""

import argparse
import json
from pathlib import Path

# The release's bert_config.json for uncased_L-24_H-128_B-512_A-4_F-4_OPT.
OPT_ENGLISH = {
    "vocab_size": 30522, "hidden_size": 512, "num_hidden_layers": 24, "num_attention_heads": 4,
    "intermediate_size": 512, "hidden_act": "relu", "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2,
    "initializer_range": 0.02, "embedding_size": 128, "trigram_input": True, "use_bottleneck": True,
    "intra_bottleneck_size": 128, "use_bottleneck_attention": False, "key_query_shared_bottleneck": True,
    "num_feedforward_networks": 4, "normalization_type": "no_norm", "classifier_activation": False,
}
SPECIALS = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--export_dir", required=True, type=Path)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  import tensorflow as tf
  import tf_keras
  from official.projects.mobilebert import model_utils

  model_utils.tf_keras = tf_keras
  from official.projects.mobilebert import export_tfhub

  work = args.export_dir.parent
  work.mkdir(parents=True, exist_ok=True)
  config_path, vocab_path = work / "bert_config.json", work / "vocab.txt"
  config_path.write_text(json.dumps(OPT_ENGLISH, indent=2))
  vocab_path.write_text("\n".join(SPECIALS + [f"w{i}" for i in range(30522 - len(SPECIALS))]) + "\n")

  tf_keras.utils.set_random_seed(args.seed)
  core_model, _ = export_tfhub.create_mobilebert_model(model_utils.BertConfig.from_json_file(str(config_path)))
  core_model.vocab_file = tf.saved_model.Asset(str(vocab_path))
  core_model.do_lower_case = tf.Variable(True, trainable=False)
  core_model.save(str(args.export_dir), include_optimizer=False, save_format="tf")
  print(f"saved {args.export_dir} ({(args.export_dir / 'saved_model.pb').stat().st_size / 1e6:.1f} MB saved_model.pb)")


if __name__ == "__main__":
  main()
