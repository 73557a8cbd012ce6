"""Keras models built from the exported preprocessor save, and reload in a fresh process.

Each model is saved by tf_keras and run again by a child Python that has only the saved
files (no project code): its outputs must equal the outputs before saving, and the
packing must equal the BERT rules applied by the plain-Python reference tokenizer.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401  (registers the ops the SavedModel uses)
import tf_keras

from hub_export import export_preprocessor
from hub_export.signatures import DEFAULT_SEQ_LENGTH, ENCODER_INPUT_KEYS
from support import bert_reference_tokenizer as ref
from support.release_dirs import without_fresh_process_check
from support.tokenization_test_data import build_test_vocab, corpus, expected_pack, write_vocab

SEQ_LENGTH = 24
SEGMENTS = (["Hello, world!", "A much longer first segment, which the round robin trims hardest.", ""],
            ["second part", "Café au lait, s'il vous plaît", "x"],
            ["third", "and one more segment", "last one"])
# name -> (number of string inputs, whether one segment is passed on its own)
MODELS = {"one_segment": (1, True), "two_segments": (2, False), "three_segments": (3, False)}

CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    import tensorflow_hub as hub
    import tensorflow_text  # noqa: F401
    import tf_keras

    saved, inputs, out = sys.argv[1:]
    texts = np.load(inputs)
    custom = {"KerasLayer": hub.KerasLayer} if saved.endswith(".keras") else None
    model = tf_keras.models.load_model(saved, custom_objects=custom)
    args = [tf.constant(texts[f"segment{i}"]) for i in range(len(texts.files))]
    outputs = model(args if len(args) > 1 else args[0])
    np.savez(out, **{key: value.numpy() for key, value in outputs.items()})
    """)


@pytest.fixture(scope="module")
def preprocessor(tmp_path_factory):
  root = tmp_path_factory.mktemp("reload")
  tokens = build_test_vocab(corpus("english") + [text for segment in SEGMENTS for text in segment], lower_case=True)
  with without_fresh_process_check():
    export_dir = export_preprocessor.export(write_vocab(tokens, root / "vocab.txt"), root / "preprocessor",
                                           lower_case=True)
  return export_dir, {token: i for i, token in enumerate(tokens)}


def _segments_model(export_dir, count: int, bare: bool):
  loaded = hub.load(str(export_dir))
  tokenize = hub.KerasLayer(loaded.tokenize)
  pack = hub.KerasLayer(loaded.bert_pack_inputs, arguments=dict(seq_length=SEQ_LENGTH))
  texts = [tf_keras.Input(shape=(), dtype=tf.string, name=f"segment{i}") for i in range(count)]
  segments = [tokenize(text) for text in texts]
  packed = pack(segments[0] if bare else segments)
  return tf_keras.Model(texts if count > 1 else texts[0], packed)


def _reload_in_child(saved, count, tmp_path):
  inputs = tmp_path / f"{saved.name}.inputs.npz"
  np.savez(inputs, **{f"segment{i}": np.array(SEGMENTS[i]) for i in range(count)})
  out = tmp_path / f"{saved.name}.outputs.npz"
  result = subprocess.run([sys.executable, "-c", CHILD, str(saved), str(inputs), str(out)],
                          capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  return dict(np.load(out))


def _rule_packing(index, count, seq_length=SEQ_LENGTH):
  rows = []
  for row in range(len(SEGMENTS[0])):
    segments = [[i for word in ref.tokenize_ids(SEGMENTS[s][row], index, True) for i in word] for s in range(count)]
    rows.append(expected_pack(segments, seq_length))
  return {key: np.array([row[k] for row in rows]) for k, key in enumerate(ENCODER_INPUT_KEYS)}


@pytest.mark.parametrize("name", MODELS)
def test_model_of_sub_objects_reloads_as_savedmodel(preprocessor, name, tmp_path):
  export_dir, index = preprocessor
  count, bare = MODELS[name]
  model = _segments_model(export_dir, count, bare)
  args = [tf.constant(SEGMENTS[i]) for i in range(count)]
  before = model(args if count > 1 else args[0])
  expected = _rule_packing(index, count)
  for key in ENCODER_INPUT_KEYS:
    np.testing.assert_array_equal(before[key].numpy(), expected[key], err_msg=key)
  saved = tmp_path / name
  model.save(str(saved))
  after = _reload_in_child(saved, count, tmp_path)
  for key in ENCODER_INPUT_KEYS:
    np.testing.assert_array_equal(after[key], expected[key], err_msg=f"{key} after reload")


def test_bert_pack_inputs_takes_a_list_of_one_or_the_segment_itself(preprocessor):
  loaded = hub.load(str(preprocessor[0]))
  tokens = loaded.tokenize(tf.constant(SEGMENTS[0]))
  for segment in (tokens, tokens.merge_dims(-2, -1)):
    as_list = loaded.bert_pack_inputs([segment], SEQ_LENGTH)
    alone = loaded.bert_pack_inputs(segment, SEQ_LENGTH)
    expected = _rule_packing(preprocessor[1], 1)
    for key in ENCODER_INPUT_KEYS:
      np.testing.assert_array_equal(as_list[key].numpy(), expected[key])
      np.testing.assert_array_equal(alone[key].numpy(), expected[key])


def test_handle_string_model_reloads_from_keras_file(small_english_exports, tmp_path):
  """The `.keras` format stores a hub.KerasLayer by its handle string and rebuilds it."""
  release, encoder, export_dir = small_english_exports
  index = {token: i for i, token in enumerate((release / "vocab.txt").read_text(encoding="utf-8").splitlines())}
  text = tf_keras.Input(shape=(), dtype=tf.string, name="segment0")
  encoder_inputs = hub.KerasLayer(str(export_dir))(text)
  pooled = hub.KerasLayer(str(encoder), trainable=True)(encoder_inputs)["pooled_output"]
  model = tf_keras.Model(text, {**encoder_inputs, "pooled_output": pooled})
  before = model(tf.constant(SEGMENTS[0]))
  saved = tmp_path / "model.keras"
  model.save(str(saved))
  after = _reload_in_child(saved, 1, tmp_path)
  np.testing.assert_array_equal(after["pooled_output"], before["pooled_output"].numpy())
  expected = _rule_packing(index, 1, DEFAULT_SEQ_LENGTH)
  for key in ENCODER_INPUT_KEYS:
    np.testing.assert_array_equal(after[key], expected[key], err_msg=key)
