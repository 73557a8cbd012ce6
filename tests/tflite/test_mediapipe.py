"""MediaPipe Tasks run our .tflite files from raw strings, and their metadata says the right things.

A real client: `mediapipe.tasks.python.text.TextEmbedder` on the float and dynamic-range
exports of a small English model (2 layers, a real-word vocab built from the corpus,
sequence length 64). Its embeddings are compared with our own preprocessor feeding LiteRT
(exactly, on ASCII lines, where MediaPipe's tokenizer follows the BERT rules) and with the
encoder SavedModel. The metadata is read back with MediaPipe's own generated schema code.
"""

import io
import zipfile

import numpy as np
import pytest

pytest.importorskip("mediapipe", reason="mediapipe (a test extra) is not installed")
pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert (a test extra) is not installed")

from conftest import SUPPORT  # noqa: E402
from hub_export import signatures as sig  # noqa: E402
from hub_export.tflite.export import export_tflite  # noqa: E402
from hub_export.tflite import metadata  # noqa: E402
from hub_export.tflite.runtime import TFLiteEncoder  # noqa: E402
from support.command_runs import run_main  # noqa: E402
from support.tokenization_test_data import corpus  # noqa: E402

SEQ = 64
LINES = 12


def _ascii_lines(count):
  return [line.strip() for line in corpus("english") if line.strip() and line.isascii()][:count]


@pytest.fixture(scope="module")
def exports(small_english_exports, tmp_path_factory):
  release, encoder, preprocessor = small_english_exports
  out = tmp_path_factory.mktemp("mediapipe")
  files = {q: export_tflite(out / f"small_{q}.tflite", q, ckpt=release, lower_case=True, seq_length=SEQ,
                            name="small_english", model_version="3")
           for q in ("none", "dynamic")}
  return {"release": release, "encoder": encoder, "preprocessor": preprocessor, "files": files, "dir": out}


def mediapipe_embed(model_path, lines) -> list:
  """{head name: embedding} per line, from MediaPipe's TextEmbedder."""
  from mediapipe.tasks.python import text
  from mediapipe.tasks.python.core.base_options import BaseOptions

  options = text.TextEmbedderOptions(base_options=BaseOptions(model_asset_path=str(model_path)))
  with text.TextEmbedder.create_from_options(options) as embedder:
    return [{e.head_name: np.asarray(e.embedding) for e in embedder.embed(line).embeddings} for line in lines]


def our_inputs(release, lines) -> list:
  from hub_export.tflite.representative_data import TextEncoder
  from hub_export.tokenization.vocab import load_vocab

  return TextEncoder(load_vocab(release / "vocab.txt"), lower_case=True, seq_length=SEQ).encode(lines)


@pytest.mark.parametrize("quantize", ["none", "dynamic"])
def test_text_embedder_equals_our_preprocessor_and_litert(exports, quantize):
  lines = _ascii_lines(LINES)
  model = exports["files"][quantize]
  got = mediapipe_embed(model, lines)
  encoder = TFLiteEncoder(model)
  want = [encoder(x) for x in our_inputs(exports["release"], lines)]
  for line, g, w in zip(lines, got, want):
    assert set(g) == {sig.POOLED_OUTPUT, sig.SEQUENCE_OUTPUT}, line
    np.testing.assert_array_equal(g[sig.POOLED_OUTPUT], w[sig.POOLED_OUTPUT][0], err_msg=line)
    np.testing.assert_array_equal(g[sig.SEQUENCE_OUTPUT], w[sig.SEQUENCE_OUTPUT].reshape(-1), err_msg=line)


def test_float_text_embedder_matches_the_saved_models(exports):
  """Raw text through MediaPipe vs the preprocessor and encoder SavedModels: per-token relative error."""
  import tensorflow as tf
  import tensorflow_text  # noqa: F401

  lines = _ascii_lines(LINES)
  preprocessor = tf.saved_model.load(str(exports["preprocessor"]))
  encoder = tf.saved_model.load(str(exports["encoder"]))
  inputs = preprocessor.bert_pack_inputs([preprocessor.tokenize(tf.constant(lines))], seq_length=SEQ)
  want = encoder(inputs, training=False)
  got = mediapipe_embed(exports["files"]["none"], lines)
  mask = inputs[sig.INPUT_MASK].numpy().astype(bool)
  errors = []
  for i, g in enumerate(got):
    seq_got = g[sig.SEQUENCE_OUTPUT].reshape(SEQ, -1)[mask[i]]
    seq_want = want[sig.SEQUENCE_OUTPUT][i].numpy()[mask[i]]
    errors.append(np.linalg.norm(seq_got - seq_want, axis=-1) / np.linalg.norm(seq_want, axis=-1))
    pooled_want = want[sig.POOLED_OUTPUT][i].numpy()
    errors.append([np.linalg.norm(g[sig.POOLED_OUTPUT] - pooled_want) / np.linalg.norm(pooled_want)])
  assert mask.sum() > LINES * 5 and max(np.max(e) for e in errors) <= 1e-4


def _read_metadata(model_path):
  """(ModelMetadataT, the model's signature input/output tensor indices, zip members) via MediaPipe's schema code."""
  from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
  from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

  data = bytearray(model_path.read_bytes())
  model = tflite_fb.Model.GetRootAsModel(data, 0)
  entries = {model.Metadata(i).Name().decode(): model.Metadata(i).Buffer() for i in range(model.MetadataLength())}
  buffer = model.Buffers(entries[metadata.METADATA_NAME]).DataAsNumpy().tobytes()
  assert meta_fb.ModelMetadata.ModelMetadataBufferHasIdentifier(buffer, 0)
  meta = meta_fb.ModelMetadataT.InitFromObj(meta_fb.ModelMetadata.GetRootAsModelMetadata(buffer, 0))
  subgraph, signature = model.Subgraphs(0), model.SignatureDefs(0)
  by_index = {signature.Inputs(i).TensorIndex(): signature.Inputs(i).Name().decode()
              for i in range(signature.InputsLength())}
  by_index.update({signature.Outputs(i).TensorIndex(): signature.Outputs(i).Name().decode()
                   for i in range(signature.OutputsLength())})
  inputs = [by_index[subgraph.Inputs(i)] for i in range(subgraph.InputsLength())]
  outputs = [by_index[subgraph.Outputs(i)] for i in range(subgraph.OutputsLength())]
  with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
    files = {name: archive.read(name) for name in archive.namelist()}
  return meta, inputs, outputs, files


def test_metadata_describes_each_tensor_and_packs_the_vocab(exports):
  from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb

  meta, inputs, outputs, files = _read_metadata(exports["files"]["dynamic"])
  assert (meta.name, meta.version, meta.license, meta.minParserVersion) == (b"small_english", b"3", b"Apache-2.0",
                                                                           b"1.1.0")
  assert b"dynamic" in meta.description
  (subgraph,) = meta.subgraphMetadata
  names = {key: t.name.decode() for key, t in zip(inputs, subgraph.inputTensorMetadata)}
  assert names == {sig.INPUT_WORD_IDS: "ids", sig.INPUT_MASK: "mask", sig.INPUT_TYPE_IDS: "segment_ids"}
  assert [t.name.decode() for t in subgraph.outputTensorMetadata] == outputs
  assert all(t.description for t in subgraph.inputTensorMetadata + subgraph.outputTensorMetadata)
  (unit,) = subgraph.inputProcessUnits
  assert unit.optionsType == meta_fb.ProcessUnitOptions.BertTokenizerOptions
  (vocab,) = unit.options.vocabFile
  assert vocab.type == meta_fb.AssociatedFileType.VOCABULARY
  assert files == {vocab.name.decode(): (exports["release"] / "vocab.txt").read_bytes()}


def test_metadata_keeps_the_litert_model_as_it_was(exports, tmp_path):
  """Populating the bare model changes nothing LiteRT sees: same signature, same outputs."""
  release = exports["release"]
  bare = export_tflite(tmp_path / "bare.tflite", "none", ckpt=release, lower_case=True, seq_length=SEQ,
                       metadata=False)
  assert b"TFLITE_METADATA" not in bare.read_bytes()
  with_metadata, plain = TFLiteEncoder(exports["files"]["none"]), TFLiteEncoder(bare)
  for details in ("input_details", "output_details"):
    seen = [{name: (d["index"], tuple(d["shape"]), d["dtype"]) for name, d in getattr(e, details).items()}
            for e in (with_metadata, plain)]
    assert seen[0] == seen[1]
  for x in our_inputs(release, _ascii_lines(3)):
    got, want = with_metadata(x), plain(x)
    for key in sig.TFLITE_OUTPUT_KEYS:
      np.testing.assert_array_equal(got[key], want[key])


def test_swapped_input_names_change_what_mediapipe_computes(exports, tmp_path):
  """MediaPipe maps inputs by metadata name alone: describing the mask tensor as the segment ids
  (and the other way round) in a copy of the metadata makes it feed them wrongly, silently.
  (Swapping ids and segment_ids instead makes the interpreter fail: ids overrun the type table.)"""
  from hub_export.tflite.model_info import encoder_info

  info = encoder_info(exports["release"] / "vocab.txt", True, SEQ, "none", "swapped")
  swapped = dict(info.inputs)
  swapped[sig.INPUT_MASK], swapped[sig.INPUT_TYPE_IDS] = info.inputs[sig.INPUT_TYPE_IDS], info.inputs[sig.INPUT_MASK]
  copy = tmp_path / "swapped.tflite"
  model = exports["files"]["none"].read_bytes()
  copy.write_bytes(metadata.populate(model, info.__class__(**{**info.__dict__, "inputs": swapped})))
  lines = _ascii_lines(2)
  right, wrong = mediapipe_embed(exports["files"]["none"], lines), mediapipe_embed(copy, lines)
  for r, w in zip(right, wrong):
    assert not np.allclose(r[sig.POOLED_OUTPUT], w[sig.POOLED_OUTPUT], atol=1e-3)
  # Re-populating with the right names (replacing the metadata, not adding a second) restores it.
  fixed = tmp_path / "fixed.tflite"
  fixed.write_bytes(metadata.populate(copy.read_bytes(), info))
  again = mediapipe_embed(fixed, lines)
  for r, a in zip(right, again):
    np.testing.assert_array_equal(r[sig.POOLED_OUTPUT], a[sig.POOLED_OUTPUT])


# ---- the classifier path: fine-tune (README recipe), export, classify with TextClassifier ----

DATA = SUPPORT / "data"
CLASSIFIER_SEQ = 32
TRAIN = 32  # the first lines train; the rest are held out


def _labelled():
  rows = [line.split("\t") for line in (DATA / "sentiment.tsv").read_text(encoding="utf-8").splitlines()]
  labels = (DATA / "sentiment_labels.txt").read_text(encoding="utf-8").split()
  return [text for _, text in rows], [labels.index(label) for label, _ in rows], labels


@pytest.fixture(scope="module")
def classifier(small_english_exports, tmp_path_factory):
  """The README's fine-tuning recipe on the small exports, a few steps, saved as a SavedModel."""
  import tensorflow as tf
  import tensorflow_hub as hub
  import tensorflow_text  # noqa: F401
  import tf_keras

  _, encoder_dir, preprocessor_dir = small_english_exports
  texts, classes, labels = _labelled()
  tf_keras.utils.set_random_seed(0)
  preprocessor = hub.load(str(preprocessor_dir))
  tokenize = hub.KerasLayer(preprocessor.tokenize)
  pack = hub.KerasLayer(preprocessor.bert_pack_inputs, arguments=dict(seq_length=CLASSIFIER_SEQ))
  encoder = hub.KerasLayer(str(encoder_dir), trainable=True)
  text = tf_keras.Input(shape=(), dtype=tf.string, name="text")
  pooled = encoder(pack(tokenize(text)))["pooled_output"]
  model = tf_keras.Model(text, tf_keras.layers.Dense(len(labels))(pooled))
  model.compile(optimizer=tf_keras.optimizers.Adam(1e-4),
                loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  model.fit(tf.constant(texts[:TRAIN]), tf.constant(classes[:TRAIN]), batch_size=8, epochs=2, verbose=0)
  saved = tmp_path_factory.mktemp("classifier") / "classifier"
  model.save(str(saved))
  logits = model.predict(tf.constant(texts[TRAIN:]), verbose=0)
  return {"dir": saved, "texts": texts[TRAIN:], "probabilities": tf.nn.softmax(logits).numpy(), "labels": labels}


def mediapipe_classify(model_path, lines) -> list:
  """{label: score} per line, from MediaPipe's TextClassifier."""
  from mediapipe.tasks.python import text
  from mediapipe.tasks.python.core.base_options import BaseOptions

  options = text.TextClassifierOptions(base_options=BaseOptions(model_asset_path=str(model_path)))
  with text.TextClassifier.create_from_options(options) as classifier_task:
    results = [classifier_task.classify(line) for line in lines]
  return [{c.category_name: c.score for c in r.classifications[0].categories} for r in results]


def test_text_classifier_agrees_with_the_keras_classifier(classifier, tmp_path):
  from hub_export.tflite.export import export_classifier

  out = export_classifier(tmp_path / "classifier.tflite", classifier["dir"], DATA / "sentiment_labels.txt",
                          lower_case=True)
  got = mediapipe_classify(out, classifier["texts"])
  labels, want = classifier["labels"], classifier["probabilities"]
  assert all(set(g) == set(labels) for g in got)
  got_classes = np.array([max(labels, key=g.get) for g in got])
  want_classes = np.array(labels)[want.argmax(-1)]
  assert np.mean(got_classes == want_classes) >= 0.99, list(zip(got_classes, want_classes))
  scores = np.array([[g[label] for label in labels] for g in got])
  np.testing.assert_allclose(scores, want, atol=1e-4)
  # The scores compared differ from line to line: the agreement is not that of a constant.
  assert np.ptp(want[:, 0]) > 1e-3


# ---- bad input: one `error:` line, exit 2, nothing written -----------------------------


def _export_cli(capsys, tmp_path, *args):
  from hub_export.export_tflite import main
  return run_main(capsys, main, "--out", tmp_path / "out.tflite", *args)


def test_a_classifier_path_that_is_no_saved_model_is_refused(exports, tmp_path, capsys):
  not_a_model = exports["files"]["none"]  # a .tflite file, not a SavedModel directory
  code, line = _export_cli(capsys, tmp_path, "--classifier", not_a_model, "--labels", DATA / "sentiment_labels.txt")
  assert code == 2 and line == f"error: --classifier {not_a_model} is not a SavedModel directory (no saved_model.pb)"
  assert list(tmp_path.iterdir()) == []


def test_an_encoder_given_as_the_classifier_is_refused(exports, tmp_path, capsys):
  code, line = _export_cli(capsys, tmp_path, "--classifier", exports["encoder"], "--labels",
                           DATA / "sentiment_labels.txt")
  assert code == 2 and line == (f"error: --classifier {exports['encoder']} is not a tf_keras model (saved with "
                                "model.save); a TF-Hub encoder is exported with --saved_model")
  assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("labels, message", [
    ("negative\npositive\nneutral\n", "has 3 labels but classifier {dir} has 2 outputs"),
    ("negative\n\npositive\n", ":2 is blank; give one label a line"),
    ("positive\npositive\n", ":2 repeats the label 'positive'"),
])
def test_labels_that_do_not_match_the_classifier_are_refused(classifier, tmp_path, capsys, labels, message):
  path = tmp_path / "labels.txt"
  path.write_text(labels, encoding="utf-8")
  code, line = _export_cli(capsys, tmp_path, "--classifier", classifier["dir"], "--labels", path, "--lower_case", "true")
  assert code == 2 and line.startswith(f"error: --labels {path}") and line.endswith(
      message.format(dir=classifier["dir"])), line
  assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.txt"]


def test_a_vocab_other_than_the_classifiers_is_refused(classifier, tmp_path, capsys):
  vocab = tmp_path / "vocab.txt"
  saved = classifier["dir"] / "assets" / "vocab.txt"
  vocab.write_text(saved.read_text(encoding="utf-8") + "extra\n", encoding="utf-8")
  code, line = _export_cli(capsys, tmp_path, "--classifier", classifier["dir"], "--labels",
                           DATA / "sentiment_labels.txt", "--vocab", vocab, "--lower_case", "true")
  assert code == 2 and line == (f"error: --vocab {vocab} is not the vocab classifier {classifier['dir']} was saved "
                                f"with ({saved}); token ids would not match the model")
  assert sorted(p.name for p in tmp_path.iterdir()) == ["vocab.txt"]


def test_an_encoder_vocab_larger_than_the_model_is_refused(exports, tmp_path, capsys):
  vocab = tmp_path / "vocab.txt"
  tokens = (exports["release"] / "vocab.txt").read_text(encoding="utf-8").splitlines()
  vocab.write_text("".join(f"{t}\n" for t in tokens + ["zzextra"]), encoding="utf-8")
  code, line = _export_cli(capsys, tmp_path, "--ckpt", exports["release"], "--vocab", vocab, "--lower_case", "true")
  assert code == 2 and line.startswith(f"error: vocab {vocab} has {len(tokens) + 1} tokens but the model's "
                                       f"vocab_size is {len(tokens)}")
  assert sorted(p.name for p in tmp_path.iterdir()) == ["vocab.txt"]


def test_publish_refuses_a_tflite_file_that_is_no_litert_model(exports, tmp_path, capsys):
  from hub_export.publish import main

  fake = tmp_path / "model.tflite"
  fake.write_bytes(b"PK\x03\x04 not a flatbuffer")
  code, line = run_main(capsys, main, "--out", tmp_path / "dist", "--name", "m", "--language", "en",
                        "--encoder", exports["encoder"], "--tflite", fake)
  assert code == 2 and line.endswith(f"error: --tflite {fake}: not a LiteRT model (no TFL3 file identifier)"), line
  assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite"]


# ---- what MediaPipe's tokenizer gets wrong: measured, and said at export ---------------------


def test_mediapipe_tokenizer_lower_cases_a_cased_vocab_and_keeps_accents(exports, tmp_path):
  """The probe model (ids out as floats) shows MediaPipe's ids: ASCII lines agree with our
  uncased preprocessor, an accent does not, and a cased vocab is lower-cased anyway."""
  from bench.mediapipe_tokenizer_agreement import mediapipe_ids, our_ids, probe_model

  vocab = tmp_path / "vocab.txt"
  tokens = (exports["release"] / "vocab.txt").read_text(encoding="utf-8").splitlines()
  tokens += [t for t in ("Café", "café", "cafe", "The", "the") if t not in tokens]
  vocab.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
  ascii_lines = _ascii_lines(4)
  for lower_case, line, agrees in [(True, "the cafe", True), (True, "the Café", False), (False, "The Café", False),
                                   (False, "the café", True)]:
    model = probe_model(vocab, lower_case, tmp_path / f"probe_{lower_case}.tflite")
    lines = ascii_lines + [line] if lower_case else [line]
    got, want = mediapipe_ids(model, lines), our_ids(vocab, lower_case, lines)
    assert [g == w for g, w in zip(got, want)] == [True] * (len(lines) - 1) + [agrees], (lower_case, line)


def test_export_warns_what_mediapipe_gets_wrong_for_a_cased_vocab(exports, tmp_path, caplog):
  export_tflite(tmp_path / "cased.tflite", "dynamic", ckpt=exports["release"], lower_case=False, seq_length=16)
  warnings = [m for m in caplog.messages if m.startswith("warning: on MediaPipe Tasks:")]
  assert len(warnings) == 1 and "every capitalised word gets other token ids" in warnings[0]


def test_model_card_says_what_mediapipe_gets_wrong(exports):
  from hub_export.publishing.facts import encoder_facts
  from hub_export.publishing.model_card import Release, encoder_body
  from hub_export.tflite.mediapipe_tokenizer import mediapipe_tokenizer_note

  facts = encoder_facts(exports["encoder"])
  card = encoder_body(Release("acme", "m", 1, "en", "Apache-2.0"), facts, None)
  assert "### On device (LiteRT, MediaPipe Tasks)" in card and mediapipe_tokenizer_note(True) in card
  assert "100% of pure-ASCII lines" in card
