"""The exported preprocessor SavedModel: TF-Hub API, assets, bad input, CLI errors."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401  (registers the ops the SavedModel uses)
import tf_keras

from conftest import require_fixture, require_shared
from support import bert_reference_tokenizer as ref
from support.tokenization_test_data import (CLS, ENGLISH_VOCAB, PAD, SEP, TINY_ENCODER, build_test_vocab, corpus,
                                    expected_pack, special_layout, write_vocab)
from hub_export import export_preprocessor
from hub_export.signatures import ENCODER_INPUT_KEYS, SPECIAL_TOKEN_KEYS
from support.release_dirs import without_fresh_process_check

SEQ_LENGTH = 128


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  """A cased export of the built multilingual vocab, whose source vocab is deleted afterwards."""
  source_dir = tmp_path_factory.mktemp("vocab_source")
  tokens = build_test_vocab(corpus("multilingual"), lower_case=False)
  source = write_vocab(tokens, source_dir / "my_vocab.txt")
  export_dir = tmp_path_factory.mktemp("exports") / "preprocessor"
  export_preprocessor.export(source, export_dir, lower_case=False, tokenize_with_offsets=True)
  source.unlink()
  source_dir.rmdir()
  return export_dir, tokens, source_dir


@pytest.fixture(scope="module")
def loaded(exported):
  return tf.saved_model.load(str(exported[0]))


def reference_ids(tokens, texts, lower_case=False):
  index = {t: i for i, t in enumerate(tokens)}
  return [ref.tokenize_ids(text, index, lower_case) for text in texts]


SAMPLES = ["Hello, World!", "Καλημέρα ΟΔΟΣ", "東京タワーへ行きましょう！", "می\u200cخواهم", "x"]


def test_call_returns_encoder_inputs(loaded, exported):
  out = loaded(tf.constant(SAMPLES))
  assert sorted(out) == sorted(ENCODER_INPUT_KEYS)
  for key in ENCODER_INPUT_KEYS:
    assert out[key].dtype == tf.int32 and out[key].shape == (len(SAMPLES), SEQ_LENGTH)
  for row, ids in enumerate(reference_ids(exported[1], SAMPLES)):
    flat = [i for word in ids for i in word]
    assert out["input_word_ids"][row].numpy().tolist() == expected_pack([flat], SEQ_LENGTH)[0]


def test_reusable_savedmodel_attributes(loaded):
  assert list(loaded.variables) == list(loaded.trainable_variables) == list(loaded.regularization_losses) == []
  plain = loaded(tf.constant(SAMPLES))["input_word_ids"]
  for training in (False, True):
    assert np.array_equal(loaded(tf.constant(SAMPLES), training=training)["input_word_ids"], plain)


def test_tokenize_is_ragged_words_of_wordpieces(loaded, exported):
  tokens = loaded.tokenize(tf.constant(SAMPLES))
  assert isinstance(tokens, tf.RaggedTensor) and tokens.dtype == tf.int32 and tokens.shape.rank == 3
  assert tokens.to_list() == reference_ids(exported[1], SAMPLES)


def test_special_tokens_dict(loaded, exported):
  special = {k: v.numpy() for k, v in loaded.tokenize.get_special_tokens_dict().items()}
  assert special == {"vocab_size": len(exported[1]), "padding_id": 0, "start_of_sequence_id": 101,
                     "end_of_segment_id": 102, "mask_id": 103}
  assert set(special) == set(SPECIAL_TOKEN_KEYS)


@pytest.mark.parametrize("seq_length", [8, 128, 512])
@pytest.mark.parametrize("num_segments", [1, 2])
@pytest.mark.parametrize("ragged_rank", [1, 2])
def test_bert_pack_inputs(loaded, seq_length, num_segments, ragged_rank):
  texts = [" ".join(["Hello world"] * n) for n in (1, 3, 40, 300)]
  texts_b = ["Καλημέρα " * n for n in (200, 2, 0, 5)]
  segments = [loaded.tokenize(tf.constant(t)) for t in (texts, texts_b)[:num_segments]]
  if ragged_rank == 1:
    segments = [s.merge_dims(1, 2) for s in segments]
  out = loaded.bert_pack_inputs(segments, seq_length=seq_length)
  flat = [s.merge_dims(1, 2).to_list() if s.ragged_rank == 2 else s.to_list() for s in segments]
  for row in range(len(texts)):
    ids, mask, types = expected_pack([f[row] for f in flat], seq_length)
    assert out["input_word_ids"][row].numpy().tolist() == ids
    assert out["input_mask"][row].numpy().tolist() == mask
    assert out["input_type_ids"][row].numpy().tolist() == types


def test_tokenize_with_offsets_slice_back(loaded, exported):
  texts = [s.encode() for s in SAMPLES] + ["Ünïcödé\u00adsoft hyphen".encode()]
  ids, starts, limits = loaded.tokenize_with_offsets(tf.constant(texts))
  assert ids.to_list() == loaded.tokenize(tf.constant(texts)).to_list()
  tokens = exported[1]
  for text, line_ids, line_starts, line_limits in zip(texts, ids.to_list(), starts.to_list(), limits.to_list()):
    for word_ids, word_starts, word_limits in zip(line_ids, line_starts, line_limits):
      for piece_id, start, limit in zip(word_ids, word_starts, word_limits):
        if tokens[piece_id] != "[UNK]":
          assert "".join(ref.basic_tokenize(text[start:limit], False)) == tokens[piece_id].removeprefix("##")


def test_runs_in_dataset_map(loaded):
  dataset = tf.data.Dataset.from_tensor_slices(SAMPLES).batch(2).map(loaded)
  batches = list(dataset)
  assert [b["input_word_ids"].shape for b in batches] == [(2, SEQ_LENGTH), (2, SEQ_LENGTH), (1, SEQ_LENGTH)]
  assert np.array_equal(batches[0]["input_word_ids"], loaded(tf.constant(SAMPLES[:2]))["input_word_ids"])


def test_keras_layers_from_raw_strings(loaded):
  text = tf_keras.Input(shape=(), dtype=tf.string)
  tokenize = hub.KerasLayer(loaded.tokenize)
  pack = hub.KerasLayer(loaded.bert_pack_inputs, arguments=dict(seq_length=64))
  model = tf_keras.Model(text, pack([tokenize(text), tokenize(text)]))
  out = model(tf.constant(SAMPLES))
  tokens = loaded.tokenize(tf.constant(SAMPLES))
  direct = loaded.bert_pack_inputs([tokens, tokens], seq_length=64)
  for key in ENCODER_INPUT_KEYS:
    assert out[key].shape == (len(SAMPLES), 64)
    assert np.array_equal(out[key], direct[key])


def test_serving_signature(loaded):
  out = loaded.signatures["serving_default"](sentences=tf.constant(SAMPLES))
  assert sorted(out) == sorted(ENCODER_INPUT_KEYS)
  assert np.array_equal(out["input_word_ids"], loaded(tf.constant(SAMPLES))["input_word_ids"])


def test_vocab_travels_as_asset_without_absolute_paths(exported, loaded):
  export_dir, tokens, source_dir = exported
  assert not source_dir.exists()  # the source vocab was deleted; `loaded` still works
  assert (export_dir / "assets" / "vocab.txt").read_text().split("\n")[:-1] == tokens
  graph = (export_dir / "saved_model.pb").read_bytes()
  for path in (source_dir, export_dir.parent, export_dir):
    assert str(path).encode() not in graph
  assert b"vocab-asset-" not in graph  # the staging directory of the asset


def test_loaded_preprocessor_re_exports(loaded, tmp_path):
  tf.saved_model.save(loaded, str(tmp_path / "again"))
  again = tf.saved_model.load(str(tmp_path / "again"))
  assert again.tokenize(tf.constant(SAMPLES)).to_list() == loaded.tokenize(tf.constant(SAMPLES)).to_list()
  assert np.array_equal(again(tf.constant(SAMPLES))["input_mask"], loaded(tf.constant(SAMPLES))["input_mask"])


INVALID_UTF8 = [b"ab\xffcd", b"a\xe2\x82Ab", b"\xed\xa0\x80x", b"\xc0\xafy", b"ok\xe2\x82", b"\xf0\x9f\x98 z",
                b"\xf4\x90\x80\x80w", b"\xff\xfe\xfd"]


def test_bad_input_keeps_shapes_and_ids_in_range(loaded, exported):
  tokens = exported[1]
  texts = ([b"", b"   ", " \t\n\r\u3000 ".encode(), b"\x00", b"a\x00b\x00\x00 c",
            b"word " * 200_000, b"x" * (1 << 20)] + INVALID_UTF8)
  out = loaded(tf.constant(texts))
  for key in ENCODER_INPUT_KEYS:
    assert out[key].shape == (len(texts), SEQ_LENGTH)
  ids = out["input_word_ids"].numpy()
  assert ids.min() >= 0 and ids.max() < len(tokens)
  # Empty and whitespace-only strings give [CLS] [SEP] and padding.
  assert ids[:4, :3].tolist() == [[CLS, SEP, PAD]] * 4
  # Documented rule: invalid UTF-8 sequences are dropped (Python's decode(errors="ignore"),
  # as the original BERT code does); NUL bytes are control characters and dropped too.
  small = [t for t in texts if len(t) < 100]
  assert loaded.tokenize(tf.constant(small)).to_list() == reference_ids(tokens, small)


def test_exported_english_preprocessor_is_exact_on_english_corpus(tmp_path):
  """The shipped artifact, not just the in-memory tokenizer, matches the reference rules."""
  require_shared(ENGLISH_VOCAB)
  with without_fresh_process_check():
    export_preprocessor.export(ENGLISH_VOCAB, tmp_path / "en")  # casing from the manifest
  pre = tf.saved_model.load(str(tmp_path / "en"))
  lines = corpus("english")
  index = {t: i for i, t in enumerate(ENGLISH_VOCAB.read_text(encoding="utf-8").split("\n")[:-1])}
  got = []
  for i in range(0, len(lines), 256):
    got.extend(pre.tokenize(tf.constant(lines[i:i + 256])).to_list())
  assert got == [ref.tokenize_ids(line, index, True) for line in lines]


def test_end_to_end_with_tiny_reference_encoder(tmp_path):
  require_fixture(TINY_ENCODER)
  with without_fresh_process_check():
    export_preprocessor.export(TINY_ENCODER / "assets" / "vocab.txt", tmp_path / "pre", lower_case=True)
  pre = tf.saved_model.load(str(tmp_path / "pre"))
  text = tf_keras.Input(shape=(), dtype=tf.string)
  encoder = hub.KerasLayer(str(TINY_ENCODER))
  model = tf_keras.Model(text, encoder(hub.KerasLayer(pre)(text))["pooled_output"])
  pooled = model(tf.constant(["the cat sat on the mat.", "a b"]))
  assert pooled.shape == (2, 512) and np.all(np.isfinite(pooled))


def run_cli(args, capsys):
  code = export_preprocessor.main([str(a) for a in args])
  return code, capsys.readouterr().err


def test_cli_unknown_vocab_needs_lower_case_flag(tmp_path, capsys):
  vocab = write_vocab(special_layout() + ["hello"], tmp_path / "v.txt")
  code, err = run_cli(["--vocab", vocab, "--export_dir", tmp_path / "out"], capsys)
  assert code == 2 and "not a known release vocab" in err and "--lower_case" in err
  assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("tokens, message", [
    (special_layout()[:100] + ["[CLS]", "[SEP]", "[MASK]"], "lacks required token(s) [UNK]"),
    (special_layout() + ["a", "a"], "duplicate token 'a'"),
    (special_layout()[:3] + [""] + special_layout()[3:], "line 4 is empty"),
])
def test_cli_bad_vocab_is_a_clear_error_and_writes_nothing(tmp_path, capsys, tokens, message):
  vocab = write_vocab(tokens, tmp_path / "v.txt")
  code, err = run_cli(["--vocab", vocab, "--export_dir", tmp_path / "out", "--lower_case", "true"], capsys)
  assert code == 2 and message in err and err.count("\n") == 1
  assert sorted(p.name for p in tmp_path.iterdir()) == ["v.txt"]


def test_cli_refuses_non_empty_dir_and_overwrites_on_request(tmp_path, capsys):
  vocab = write_vocab(special_layout() + ["hello", "##s"], tmp_path / "v.txt")
  out = tmp_path / "out"
  out.mkdir()
  (out / "old.txt").write_text("old")
  args = ["--vocab", vocab, "--export_dir", out, "--lower_case", "false", "--seq_length", "16"]
  code, err = run_cli(args, capsys)
  assert code == 2 and "--overwrite" in err and (out / "old.txt").exists()
  code, err = run_cli(args + ["--overwrite"], capsys)  # replaces only what an export holds
  assert code == 2 and f"--overwrite would delete {out / 'old.txt'}" in err and (out / "old.txt").exists()
  (out / "old.txt").unlink()
  (out / "assets").mkdir()
  (out / "assets" / "vocab.txt").write_text("an earlier export's asset")
  with without_fresh_process_check():  # test_fresh_process_check_compares_the_outputs_... proves the check
    code, err = run_cli(args + ["--overwrite"], capsys)
  assert code == 0 and (out / "assets" / "vocab.txt").read_text() != "an earlier export's asset"
  pre = tf.saved_model.load(str(out))
  assert pre(tf.constant(["hellos"]))["input_word_ids"].numpy().tolist() == [[101, 104, 105, 102] + [0] * 12]


def test_cli_rejects_too_short_seq_length(tmp_path, capsys):
  vocab = write_vocab(special_layout(), tmp_path / "v.txt")
  code, err = run_cli(["--vocab", vocab, "--export_dir", tmp_path / "o", "--lower_case", "true",
                       "--seq_length", "1"], capsys)
  assert code == 2 and "--seq_length must be at least 2" in err


def test_cli_help():
  result = subprocess.run([sys.executable, "-m", "hub_export.export_preprocessor", "--help"],
                          capture_output=True, text=True, check=True)
  assert "--tokenize_with_offsets" in result.stdout and "--lower_case" in result.stdout


def test_casing_from_manifest_and_warning_on_contradiction(caplog):
  require_shared(ENGLISH_VOCAB)
  from hub_export.tokenization.vocab import load_vocab, resolve_lower_case
  vocab = load_vocab(ENGLISH_VOCAB)
  assert resolve_lower_case(vocab, None) is True
  with caplog.at_level("WARNING", logger="hub_export"):
    assert resolve_lower_case(vocab, False) is False
  assert "contradicts the known casing of bert_en_uncased" in caplog.text


def test_fresh_process_check_compares_the_outputs_and_runs_the_contract(tmp_path):
  """The exporter's checker reloads the export in a new process (one run here, to keep it quick):
  an output that differs from the in-memory reference fails, and so does a broken contract."""
  from hub_export.savedmodel import roundtrip
  from hub_export.support.errors import HubExportError
  from support.synthetic_savedmodels import PreprocessorFlaws, build_preprocessor

  broken = build_preprocessor(tmp_path / "broken", PreprocessorFlaws(no_segment_ids=True))
  loaded = tf.saved_model.load(str(broken))
  reference = lambda texts: {k: v + 1 if k == "input_word_ids" else v for k, v in loaded(texts).items()}
  reference.tokenize = loaded.tokenize
  with pytest.raises(HubExportError) as info:
    roundtrip.verify_preprocessor_in_fresh_process(str(broken), reference)
  message = str(info.value)
  assert message.startswith("round-trip check of the export failed: 3 mismatches: input_word_ids differs; "), message
  assert "; contract: bert_pack_inputs 2 segments: row 0: input_type_ids" in message
  assert "tokenize" not in message.split(";")[1]  # .tokenize reproduces its reference
