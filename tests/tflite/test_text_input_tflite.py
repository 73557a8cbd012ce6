"""`export_tflite --text_input`: a LiteRT model that takes the text, its tokenizer in the graph.

One float export of the small English model (2 layers, a real-word vocab from the corpus,
sequence length 64), run with LiteRT and TensorFlow Text's TFLite kernels registered, is
compared with the preprocessor SavedModel feeding the encoder SavedModel, on ASCII corpus
lines, non-ASCII lines (accents, other scripts, control and format characters, compatibility
forms that BERT keeps), the empty text and words around the 200-character rule. How often the two tokenizers agree on the whole corpora is a bench
(`bench/text_input_tokenizer_agreement.py`, figures in bench/results).
"""

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert (a test extra) is not installed")

from hub_export import signatures as sig  # noqa: E402
from hub_export.export_tflite import main  # noqa: E402
from hub_export.tflite.export import export_tflite  # noqa: E402
from hub_export.support.errors import HubExportError  # noqa: E402
from hub_export.tflite.runtime import TFLiteTextEncoder  # noqa: E402
from hub_export.tflite.text_input import CUSTOM_OPS  # noqa: E402
from support.tokenization_test_data import corpus  # noqa: E402

SEQ = 64
NON_ASCII = ["Café au lait à Zürich, s'il vous plaît.", "Les élèves ont résumé l'histoire — “vraiment” bien !",
             "東京は日本の首都です。", "Привет, мир! Ελληνικά και 한국어.", "naïve\u00a0coöperation\tof the CAFÉ",
             "co\x0bop\u2060era\u200btion ﬁne ½ … Straße"]


@pytest.fixture(scope="module")
def text_model(small_english_exports, tmp_path_factory):
  release, encoder, preprocessor = small_english_exports
  out = tmp_path_factory.mktemp("text_input") / "small_text.tflite"
  export_tflite(out, "none", ckpt=release, lower_case=True, seq_length=SEQ, text_input=True)
  return {"file": out, "encoder": encoder, "preprocessor": preprocessor}


def _lines():
  # Also: no text, and our 200-character word rule (a longer word is one [UNK], a shorter one wordpieces).
  long_words = [f"{'a' * 201} {'b' * 200} é{'ü' * 199}x ok", "cö" * 101 + " and " + "ö" * 200]
  return [line.strip() for line in corpus("english") if line.strip() and line.isascii()][:6] + NON_ASCII + [
      ""] + long_words


def test_text_model_matches_the_preprocessor_and_encoder_saved_models(text_model):
  import tensorflow as tf
  import tensorflow_text  # noqa: F401

  lines = _lines()
  preprocessor = tf.saved_model.load(str(text_model["preprocessor"]))
  encoder = tf.saved_model.load(str(text_model["encoder"]))
  inputs = preprocessor.bert_pack_inputs([preprocessor.tokenize(tf.constant(lines))], seq_length=SEQ)
  want = encoder(inputs, training=False)
  mask = inputs[sig.INPUT_MASK].numpy().astype(bool)
  model = TFLiteTextEncoder(text_model["file"])
  for i, line in enumerate(lines):
    got = model(line)
    seq_got, seq_want = got[sig.SEQUENCE_OUTPUT][0][mask[i]], want[sig.SEQUENCE_OUTPUT][i].numpy()[mask[i]]
    pooled_got, pooled_want = got[sig.POOLED_OUTPUT][0], want[sig.POOLED_OUTPUT][i].numpy()
    errors = np.linalg.norm(seq_got - seq_want, axis=-1) / np.linalg.norm(seq_want, axis=-1)
    assert errors.max() <= 1e-4, line
    assert np.linalg.norm(pooled_got - pooled_want) / np.linalg.norm(pooled_want) <= 1e-4, line


@pytest.mark.parametrize("lower_case", [True, False])
def test_normalizer_model_maps_every_codepoint_as_our_rules(lower_case):
  """TensorFlow Text's kernel with our table vs our normalization, each codepoint alone (word breaks: spaces)."""
  import tensorflow as tf
  import tensorflow_text as tf_text

  from hub_export.tflite.bert_normalizer_model import build_model
  from hub_export.tokenization import bert_text_normalizer

  chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
  want = bert_text_normalizer.normalize(tf.constant(chars), lower_case).numpy()
  words = bert_text_normalizer.split_words(tf.constant([f"a{w.decode()}a" for w in want])).row_lengths().numpy()
  want[words == 2] = b" "
  got = tf_text.FastBertNormalizer(model_buffer=build_model(lower_case)).normalize(tf.constant(chars)).numpy()
  differ = np.flatnonzero(got != want)
  assert differ.size == 0, [(hex(ord(chars[i])), want[i], got[i]) for i in differ[:5]]
  assert (got != np.array([c.encode() for c in chars], object)).sum() > (10_000 if lower_case else 200)


def test_text_model_is_builtins_and_tensorflow_text_kernels_only(text_model):
  from tensorflow.lite.tools import flatbuffer_utils

  model = flatbuffer_utils.read_model(str(text_model["file"]))
  custom = {code.customCode.decode() for code in model.operatorCodes if code.customCode}
  assert custom == set(CUSTOM_OPS)  # no Flex (Select TF) op: TensorFlow Text's kernels and builtins only
  signature = model.signatureDefs[0]
  assert [t.name.decode() for t in signature.inputs] == ["text"]
  assert sorted(t.name.decode() for t in signature.outputs) == sorted(sig.TFLITE_OUTPUT_KEYS)


def test_without_the_tensorflow_text_kernels_litert_cannot_run_it(text_model):
  from ai_edge_litert.interpreter import Interpreter

  with pytest.raises(RuntimeError, match="unresolved custom op: FastBertNormalize"):
    runner = Interpreter(model_path=str(text_model["file"])).get_signature_runner()
    runner(text=np.array([b"hello"], dtype=object))


def test_the_model_fails_on_a_batch_rather_than_join_its_texts(text_model):
  """LiteRT resizes the `text` [1] input to any batch it is given; the model must not embed two texts as one."""
  runner = TFLiteTextEncoder(text_model["file"]).interpreter.get_signature_runner()
  with pytest.raises(RuntimeError, match=r"\(2 != 1\)Node number \d+ \(RESHAPE\) failed to invoke"):
    runner(text=np.array([b"the cat", b"sat down"], dtype=object))


def test_the_python_helper_embeds_each_text_of_a_list(text_model):
  model = TFLiteTextEncoder(text_model["file"])
  lines = ["the cat", "sat down"]
  both = model(lines)
  for i, line in enumerate(lines):
    alone = model(line)
    for key in sig.TFLITE_OUTPUT_KEYS:
      np.testing.assert_array_equal(both[key][i:i + 1], alone[key])
  assert not np.array_equal(both[sig.POOLED_OUTPUT][0], both[sig.POOLED_OUTPUT][1])
  for wrong in ([b"bytes"], [], 7):
    with pytest.raises(HubExportError, match="^TFLiteTextEncoder takes a string or a non-empty list of strings, got"):
      model(wrong)


def _refusal(tmp_path, capsys, *args) -> str:
  with pytest.raises(SystemExit) as exit_info:
    main([str(a) for a in ["--out", tmp_path / "out.tflite", "--text_input", *args]])
  assert exit_info.value.code != 0
  assert list(tmp_path.iterdir()) == []  # nothing written
  return capsys.readouterr().err.strip().splitlines()[-1]


def test_text_input_with_int8_is_refused(small_english_exports, tmp_path, capsys):
  release, _, _ = small_english_exports
  line = _refusal(tmp_path, capsys, "--ckpt", release, "--lower_case", "true", "--quantize", "int8")
  assert line.startswith("error: --text_input takes --quantize none or dynamic")


def test_text_input_with_a_classifier_is_refused(small_english_exports, tmp_path, capsys):
  _, encoder, _ = small_english_exports
  line = _refusal(tmp_path, capsys, "--classifier", encoder, "--labels", tmp_path / "labels.txt")
  assert line.startswith("error: --text_input applies to encoders")
