"""The TF1 release name table, the seeded values and the release-directory writer."""

import dataclasses
import json
import math

import numpy as np
import pytest
import tensorflow as tf

from conftest import GOLDEN_DIR, SHARED, require_shared
from hub_export.checkpoint.tf1_release import DEFAULT_PREFIX, write_release_checkpoint
from hub_export.checkpoint.tf1_release import (optimizer_slot_values, release_shapes, release_values,
                                                 values_sha256)
from hub_export.checkpoint.tf1_release import is_ignorable, next_sentence_head_shapes, tf1_variable_shapes
from hub_export.config import MobileBertConfig
from hub_export.support.errors import HubExportError

FIXTURE = SHARED / "fixtures" / "mobilebert_tiny" / "release_tf1"
GOLDEN = GOLDEN_DIR

# Small but with every kind of variable the OPT release has.
SMALL = MobileBertConfig(vocab_size=40, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=24, embedding_size=8, intra_bottleneck_size=16,
                         max_position_embeddings=20)


def checkpoint_map(prefix) -> dict:
  """name -> (shape, dtype name) of a TF1 checkpoint."""
  reader = tf.train.load_checkpoint(str(prefix))
  dtypes = reader.get_variable_to_dtype_map()
  return {name: (tuple(shape), dtypes[name].name) for name, shape in reader.get_variable_to_shape_map().items()}


def checkpoint_tensors(prefix) -> dict:
  reader = tf.train.load_checkpoint(str(prefix))
  return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def total(table: dict, prefix: str = "") -> int:
  return sum(math.prod(shape) for name, shape in table.items() if name.startswith(prefix))


# ---- the name table -------------------------------------------------------------------


def test_table_equals_the_fixture_release():
  require_shared(FIXTURE)
  config = MobileBertConfig.from_json_file(FIXTURE / "bert_config.json")
  stored = {name: shape for name, (shape, _) in checkpoint_map(FIXTURE / DEFAULT_PREFIX).items()}
  nsp = next_sentence_head_shapes(config)
  assert {k: v for k, v in stored.items() if k in nsp} == nsp
  assert {k: v for k, v in stored.items() if not is_ignorable(k) and k not in nsp} == tf1_variable_shapes(config)


def test_full_size_opt_english_totals():
  """First principles for E=128, H=512, B=128, I=512, F=4 (facts section 3)."""
  table = tf1_variable_shapes(MobileBertConfig(vocab_size=30522))
  assert total(table, "bert/embeddings/") == 30522 * 128 + (384 * 512 + 512) + 2 * 512 + 512 * 512 + 2 * 512
  assert total(table, "bert/embeddings/") == 4_368_128
  assert total(table, "bert/encoder/layer_7/") == 842_240
  assert total(table, "bert/") == 24_581_888
  # transform dense kernel + bias, its LayerNorm, output_bias, extra_output_weights.
  assert total(table, "cls/predictions/") == 262_144 + 512 + 1_024 + 30_522 + 11_720_448
  assert len(table) == 7 + 24 * 46 + 6


def test_full_size_opt_multilingual_totals():
  table = tf1_variable_shapes(MobileBertConfig(vocab_size=119547))
  extra_words = 119547 - 30522
  assert total(table, "bert/") == 24_581_888 + extra_words * 128
  assert total(table, "cls/predictions/") == 262_144 + 512 + 1_024 + 119_547 + 119_547 * 384
  assert table["cls/predictions/extra_output_weights"] == (119547, 384)
  assert table["bert/embeddings/word_embeddings"] == (119547, 128)


def variant(**changes) -> dict:
  return tf1_variable_shapes(dataclasses.replace(SMALL, **changes))


def test_layer_norm_config_names_every_norm_layernorm():
  table = variant(normalization_type="layer_norm")
  assert not [n for n in table if "FakeLayerNorm" in n]
  assert table["bert/embeddings/LayerNorm/gamma"] == (32,)
  assert table["bert/encoder/layer_1/bottleneck/input/LayerNorm/beta"] == (16,)
  assert len(table) == len(tf1_variable_shapes(SMALL))


def test_without_bottleneck_the_block_runs_at_hidden_width():
  table = variant(use_bottleneck=False)
  assert not [n for n in table if "bottleneck" in n]
  assert table["bert/encoder/layer_0/attention/self/query/kernel"] == (32, 32)
  assert table["bert/encoder/layer_0/attention/self/value/kernel"] == (32, 32)
  assert table["bert/encoder/layer_0/attention/output/dense/kernel"] == (32, 32)
  assert table["bert/encoder/layer_0/intermediate/dense/kernel"] == (32, 24)
  assert table["bert/encoder/layer_0/output/dense/kernel"] == (24, 32)
  assert table["bert/encoder/layer_0/output/FakeLayerNorm/gamma"] == (32,)


def test_shared_key_query_bottleneck_feeds_query_and_key_only():
  table = tf1_variable_shapes(SMALL)
  assert table["bert/encoder/layer_0/bottleneck/attention/dense/kernel"] == (32, 16)
  assert table["bert/encoder/layer_0/attention/self/query/kernel"] == (16, 16)
  assert table["bert/encoder/layer_0/attention/self/key/kernel"] == (16, 16)
  assert table["bert/encoder/layer_0/attention/self/value/kernel"] == (32, 16)


def test_unshared_bottleneck_attention_reads_the_block_input():
  table = variant(key_query_shared_bottleneck=False)
  assert not [n for n in table if "bottleneck/attention" in n]
  for proj in ("query", "key", "value"):
    assert table[f"bert/encoder/layer_1/attention/self/{proj}/kernel"] == (32, 16)
  assert table["bert/encoder/layer_1/bottleneck/input/dense/kernel"] == (32, 16)


def test_bottleneck_attention_reads_the_bottleneck_input_and_wins_over_sharing():
  table = variant(use_bottleneck_attention=True, key_query_shared_bottleneck=True)
  assert not [n for n in table if "bottleneck/attention" in n]
  for proj in ("query", "key", "value"):
    assert table[f"bert/encoder/layer_0/attention/self/{proj}/kernel"] == (16, 16)


@pytest.mark.parametrize("ffns", [1, 3])
def test_all_ffns_but_the_last_are_numbered(ffns):
  table = variant(num_feedforward_networks=ffns)
  numbered = {n.split("/")[3] for n in table if "/ffn_layer_" in n}
  assert numbered == {f"ffn_layer_{k}" for k in range(ffns - 1)}
  assert table["bert/encoder/layer_1/intermediate/dense/kernel"] == (16, 24)
  assert table["bert/encoder/layer_1/output/dense/kernel"] == (24, 16)


def test_embedding_transformation_follows_trigram_and_width():
  assert variant(trigram_input=True)["bert/embeddings/embedding_transformation/kernel"] == (24, 32)
  assert variant(trigram_input=False)["bert/embeddings/embedding_transformation/kernel"] == (8, 32)
  same_width = variant(trigram_input=False, embedding_size=32)
  assert not [n for n in same_width if "embedding_transformation" in n]
  assert "cls/predictions/extra_output_weights" not in same_width  # hidden - embedding = 0
  assert variant()["cls/predictions/extra_output_weights"] == (40, 24)


def test_pooler_only_with_classifier_activation():
  assert not [n for n in tf1_variable_shapes(SMALL) if n.startswith("bert/pooler")]
  table = variant(classifier_activation=True)
  assert table["bert/pooler/dense/kernel"] == (32, 32)
  assert table["bert/pooler/dense/bias"] == (32,)


def test_mlm_head_keeps_a_real_layernorm_under_no_norm():
  table = tf1_variable_shapes(SMALL)
  assert table["cls/predictions/transform/LayerNorm/gamma"] == (32,)
  assert table["cls/predictions/transform/dense/kernel"] == (32, 32)
  assert table["cls/predictions/output_bias"] == (40,)


def test_ignorable_names():
  assert is_ignorable("global_step")
  assert is_ignorable("bert/encoder/layer_0/output/dense/kernel/adam_m")
  assert is_ignorable("cls/predictions/output_bias/adam_v")
  assert not is_ignorable("bert/embeddings/word_embeddings")
  assert not is_ignorable("cls/seq_relationship/output_bias")


# ---- seeded values ---------------------------------------------------------------------


def test_values_are_deterministic_and_seed_dependent():
  first = dict(release_values(SMALL, 3))
  again = dict(release_values(SMALL, 3))
  other = dict(release_values(SMALL, 4))
  assert list(first) == list(release_shapes(SMALL))
  for name, value in first.items():
    assert value.dtype == np.float32 and value.shape == release_shapes(SMALL)[name]
    assert np.array_equal(value, again[name])
    assert not np.array_equal(value, other[name])


def test_values_are_tame():
  values = dict(release_values(MobileBertConfig(vocab_size=1000), 0))
  gammas = np.concatenate([v for n, v in values.items() if n.endswith("/gamma")])
  assert 0.75 < gammas.min() and gammas.max() < 1.25
  assert all(np.isfinite(v).all() for v in values.values())
  ffn_kernel = values["bert/encoder/layer_0/ffn_layer_0/intermediate/dense/kernel"]  # [128, 512]
  assert ffn_kernel.std() == pytest.approx(0.5 / np.sqrt(128), rel=0.02)


def test_slots_come_from_their_own_stream():
  slots = dict(optimizer_slot_values(SMALL, 3))
  assert set(slots) == {f"{n}/{s}" for n in release_shapes(SMALL) for s in ("adam_m", "adam_v")}
  assert all(v.min() >= 0 for n, v in slots.items() if n.endswith("adam_v"))


# ---- the writer ------------------------------------------------------------------------


def test_written_checkpoint_holds_exactly_the_seeded_values(tmp_path):
  out = write_release_checkpoint(tmp_path / "release", SMALL, 5)
  stored = checkpoint_tensors(out / DEFAULT_PREFIX)
  expected = dict(release_values(SMALL, 5))
  assert set(stored) == set(expected) | {"global_step"}
  assert stored["global_step"].dtype == np.int64 and stored["global_step"].shape == ()
  for name, value in expected.items():
    assert stored[name].dtype == np.float32
    np.testing.assert_array_equal(stored[name], value)


def test_release_directory_files(tmp_path):
  out = write_release_checkpoint(tmp_path / "release", SMALL, 5, vocab_lines=[f"tok{i}" for i in range(40)])
  assert sorted(p.name for p in out.iterdir()) == sorted([
      "bert_config.json", "checkpoint", "vocab.txt",
      f"{DEFAULT_PREFIX}.index", f"{DEFAULT_PREFIX}.data-00000-of-00001"])
  # The state file names the prefix relative to the directory, so a moved directory still resolves.
  moved = out.rename(tmp_path / "moved")
  assert tf.train.latest_checkpoint(str(moved)) == str(moved / DEFAULT_PREFIX)
  assert MobileBertConfig.from_json_file(moved / "bert_config.json") == SMALL
  assert "key_query_shared_bottleneck" in json.loads((moved / "bert_config.json").read_text())
  assert (moved / "vocab.txt").read_text().splitlines() == [f"tok{i}" for i in range(40)]


def test_same_seed_writes_identical_checkpoints(tmp_path):
  a = checkpoint_tensors(write_release_checkpoint(tmp_path / "a", SMALL, 9) / DEFAULT_PREFIX)
  b = checkpoint_tensors(write_release_checkpoint(tmp_path / "b", SMALL, 9) / DEFAULT_PREFIX)
  assert a.keys() == b.keys()
  assert all(np.array_equal(a[k], b[k]) for k in a)


def test_optional_slots_and_next_sentence_head(tmp_path):
  with_slots = checkpoint_tensors(
      write_release_checkpoint(tmp_path / "slots", SMALL, 1, with_optimizer_slots=True) / DEFAULT_PREFIX)
  plain = checkpoint_tensors(
      write_release_checkpoint(tmp_path / "plain", SMALL, 1, with_next_sentence_head=False) / DEFAULT_PREFIX)
  table = tf1_variable_shapes(SMALL)
  assert set(plain) == set(table) | {"global_step"}
  assert {n for n in with_slots if not is_ignorable(n)} == set(table) | set(next_sentence_head_shapes(SMALL))
  assert len(with_slots) == 3 * (len(table) + 2) + 1
  for name in table:  # slots never shift the weights of the same seed
    np.testing.assert_array_equal(with_slots[name], plain[name])


def test_vocab_of_the_wrong_size_writes_nothing(tmp_path):
  with pytest.raises(HubExportError, match="vocab has 3 tokens but bert_config 'vocab_size' is 40"):
    write_release_checkpoint(tmp_path / "release", SMALL, 0, vocab_lines=["a", "b", "c"])
  assert list(tmp_path.iterdir()) == []


def test_writer_reproduces_the_fixture_layout(tmp_path):
  require_shared(FIXTURE)
  config = MobileBertConfig.from_json_file(FIXTURE / "bert_config.json")
  vocab = (FIXTURE / "vocab.txt").read_text(encoding="utf-8").splitlines()
  out = write_release_checkpoint(tmp_path / "release", config, 0, vocab_lines=vocab)
  assert checkpoint_map(out / DEFAULT_PREFIX) == checkpoint_map(FIXTURE / DEFAULT_PREFIX)
  assert (out / "vocab.txt").read_bytes() == (FIXTURE / "vocab.txt").read_bytes()
  assert json.loads((out / "bert_config.json").read_text()) == {
      **json.loads((FIXTURE / "bert_config.json").read_text()), "use_bottleneck_attention": False}


@pytest.mark.slow
@pytest.mark.parametrize("vocab_size", [30522, 119547])
def test_full_size_release_holds_exactly_the_table(tmp_path, vocab_size):
  config = MobileBertConfig(vocab_size=vocab_size)
  stored = checkpoint_map(write_release_checkpoint(tmp_path / "release", config, 0) / DEFAULT_PREFIX)
  expected = {**tf1_variable_shapes(config), **next_sentence_head_shapes(config)}
  assert stored == {**{n: (s, "float32") for n, s in expected.items()}, "global_step": ((), "int64")}


# ---- golden files ----------------------------------------------------------------------


GOLDEN_FILES = sorted(GOLDEN.glob("*.npz"))


def test_golden_files_exist():
  assert {p.stem for p in GOLDEN_FILES} >= {"opt_small", "teacher_small", "pooler_small",
                                             "bottleneck_attention_small"}


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_file_matches_the_writer(path):
  """The weights behind each golden file are still what the writer produces for its seed."""
  golden = np.load(path)
  config = MobileBertConfig.from_dict(json.loads(str(golden["config_json"])))
  assert str(golden["values_sha256"]) == values_sha256(config, int(golden["seed"]))
  batch, seq_len = golden["input_word_ids"].shape
  predictions = golden["masked_lm_positions"].shape[1]
  assert golden["sequence_output"].shape == (batch, seq_len, config.hidden_size)
  assert golden["pooled_output"].shape == (batch, config.hidden_size)
  assert golden["mlm_logits"].shape == (batch, predictions, config.vocab_size)
  assert golden["encoder_outputs"].shape == (config.num_hidden_layers, batch, seq_len, config.hidden_size)
  assert golden["input_mask"].all() and golden["input_word_ids"].max() < config.vocab_size
  assert path.stat().st_size < 1 << 20
