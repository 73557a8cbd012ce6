"""On-device export: .tflite files run with LiteRT reproduce the TF model; errors are one clear line.

The tiny shared fixture covers the interface, float parity (checkpoint and SavedModel
sources), quantized sanity, calibration inputs and every error path in about a minute.
The full-size checks (the English model with seeded weights, 256 corpus sentences, the
size and cosine targets) take about 1.5 min more on 2 cores (`-m "not slow"` skips them).
"""


import numpy as np
import pytest

pytest.importorskip("ai_edge_litert.interpreter",
                    reason="ai-edge-litert (the LiteRT runtime, a test extra) is not installed")

from conftest import SUPPORT, shared_path  # noqa: E402
from hub_export import signatures as sig  # noqa: E402
from hub_export.export_tflite import main  # noqa: E402
from hub_export.tflite.export import export_tflite  # noqa: E402
from hub_export.support.atomic import atomic_file  # noqa: E402
from hub_export.support.errors import HubExportError  # noqa: E402
from hub_export.tflite.agreement import row_cosines, row_relative_errors  # noqa: E402
from hub_export.tflite.runtime import TFLiteEncoder  # noqa: E402
from support.bert_reference_tokenizer import tokenize_ids  # noqa: E402
from support.release_dirs import without_fresh_process_check  # noqa: E402
from support.command_runs import run_main  # noqa: E402

CORPUS = SUPPORT / "corpus" / "english.txt"
SEQ = 128
TINY_HIDDEN = 512


def _corpus_lines(count):
  lines = [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
  return lines[:count]


def _text_encoder(vocab_path, seq_length=SEQ):
  from hub_export.tflite.representative_data import TextEncoder
  from hub_export.tokenization.vocab import load_vocab
  return TextEncoder(load_vocab(vocab_path), lower_case=True, seq_length=seq_length)


def _run_tf(encode, inputs):
  import tensorflow as tf
  outputs = encode({k: tf.constant(v) for k, v in inputs.items()})
  return {k: outputs[k].numpy() for k in sig.TFLITE_OUTPUT_KEYS}


def _run_tf_batched(encode, inputs, batch_size=32):
  """`_run_tf` on each example, computed in batches by one traced function: a full-size model run eagerly an
  example at a time costs most of its fixture."""
  import tensorflow as tf
  function = tf.function(encode)
  outputs = []
  for start in range(0, len(inputs), batch_size):
    chunk = inputs[start:start + batch_size]
    batch = _run_tf(function, {k: np.concatenate([x[k] for x in chunk]) for k in chunk[0]})
    outputs += [{k: v[i:i + 1] for k, v in batch.items()} for i in range(len(chunk))]
  return outputs


def _scores(inputs, got, want):
  """(max per-token relative error, pooled cosines, real-token sequence cosines), by plain numpy."""
  real = np.concatenate([x[sig.INPUT_MASK] for x in inputs]).astype(bool)
  pooled = [np.concatenate([o[sig.POOLED_OUTPUT] for o in outs]) for outs in (got, want)]
  seq = [np.concatenate([o[sig.SEQUENCE_OUTPUT] for o in outs])[real] for outs in (got, want)]
  rel = np.linalg.norm(seq[0] - seq[1], axis=-1) / np.linalg.norm(seq[1], axis=-1)
  cos = lambda a, b: (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
  return float(rel.max()), cos(*pooled), cos(*seq)


# ---- tiny fixture --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  """The tiny checkpoint restored once, 24 corpus sentences, and its three .tflite exports."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert

  release = shared_path("fixtures/mobilebert_tiny/release_tf1")
  model, _ = load_mobilebert(locate_checkpoint(release))
  inputs = _text_encoder(release / "vocab.txt").encode(_corpus_lines(24))
  out = tmp_path_factory.mktemp("tflite")
  files = {q: export_tflite(out / f"tiny_{q}.tflite", q, ckpt=release, lower_case=True)
           for q in ("none", "dynamic", "int8")}
  keras = [_run_tf(lambda x: model.encoder(x, training=False), x) for x in inputs]
  return {"release": release, "model": model, "inputs": inputs, "files": files, "keras": keras, "dir": out}


def test_corpus_inputs_have_padding_and_real_tokens(tiny):
  lengths = [int(x[sig.INPUT_MASK].sum()) for x in tiny["inputs"]]
  assert min(lengths) < SEQ // 2 and max(lengths) > 20  # both padded rows and long sentences


def test_tflite_interface_keeps_the_tf_hub_names(tiny):
  encoder = TFLiteEncoder(tiny["files"]["none"])
  inputs = {name: (tuple(d["shape"]), d["dtype"]) for name, d in encoder.input_details.items()}
  outputs = {name: (tuple(d["shape"]), d["dtype"]) for name, d in encoder.output_details.items()}
  assert inputs == {key: ((1, SEQ), np.int32) for key in sig.ENCODER_INPUT_KEYS}
  assert outputs == {sig.SEQUENCE_OUTPUT: ((1, SEQ, TINY_HIDDEN), np.float32),
                     sig.POOLED_OUTPUT: ((1, TINY_HIDDEN), np.float32)}


def test_float_tflite_matches_the_keras_model(tiny):
  encoder = TFLiteEncoder(tiny["files"]["none"])
  got = [encoder(x) for x in tiny["inputs"]]
  rel, pooled_cos, _ = _scores(tiny["inputs"], got, tiny["keras"])
  assert rel <= 1e-4
  pooled_rel = max(float(np.linalg.norm(g[sig.POOLED_OUTPUT] - w[sig.POOLED_OUTPUT]) / np.linalg.norm(w[sig.POOLED_OUTPUT]))
                   for g, w in zip(got, tiny["keras"]))
  assert pooled_rel <= 1e-4


@pytest.mark.parametrize("quantize, mean_floor, min_floor", [("dynamic", 0.999, 0.99), ("int8", 0.99, 0.98)])
def test_quantized_tiny_models_stay_close_and_shrink(tiny, quantize, mean_floor, min_floor):
  encoder = TFLiteEncoder(tiny["files"][quantize])
  _, pooled_cos, seq_cos = _scores(tiny["inputs"], [encoder(x) for x in tiny["inputs"]], tiny["keras"])
  assert pooled_cos.mean() >= mean_floor and seq_cos.mean() >= mean_floor
  assert pooled_cos.min() >= min_floor and seq_cos.min() >= min_floor
  # int8 weights: about a quarter of the float file.
  assert tiny["files"][quantize].stat().st_size < 0.35 * tiny["files"]["none"].stat().st_size


def test_int8_model_computes_in_int8(tiny):
  """Full-integer but for attention's core: every op reads int8 (or int32 ids) except the
  matmuls of two activations, the softmax and the score arithmetic between them (scaling,
  padding bias), which run in float between DEQUANTIZE and QUANTIZE."""
  from hub_export.model.functional import FLOAT_SCORES_SCOPE
  from hub_export.tflite.to_flatbuffer import FLOAT_OPS_IN_INT8

  interpreter = TFLiteEncoder(tiny["files"]["int8"]).interpreter
  tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
  ops = interpreter._get_ops_details()  # the only LiteRT view of the op graph
  float_ops = [op for op in ops if op["op_name"] != "QUANTIZE"
               and any(tensors[i]["dtype"] == np.float32 for i in op["inputs"] if i in tensors)]
  by_type = {op["op_name"] for op in float_ops}
  assert set(FLOAT_OPS_IN_INT8) <= by_type <= {*FLOAT_OPS_IN_INT8, "ADD", "MUL", "SUB", "RESHAPE"}, by_type
  for op in float_ops:
    if op["op_name"] not in FLOAT_OPS_IN_INT8:
      assert f"{FLOAT_SCORES_SCOPE}/" in tensors[op["outputs"][0]]["name"], op
  int8_fc = [op for op in ops if op["op_name"] == "FULLY_CONNECTED"]
  assert len(int8_fc) > 10 and all(tensors[op["inputs"][1]]["dtype"] == np.int8 for op in int8_fc)


def test_int8_keeps_a_layer_norm_models_layer_norms_in_float(tiny, tmp_path):
  """A config with layer norms (a teacher's, or a student trained here): in its int8 file every MEAN, RSQRT and
  SQUARED_DIFFERENCE reads float32 (each layer norm runs in float, as attention's core does), every dense layer
  stays int8, and the outputs stay as close to the float model's as the NoNorm model's do."""
  from hub_export.config import MobileBertConfig
  from hub_export.model.mobilebert import build_mobilebert
  from hub_export.tflite.to_flatbuffer import FLOAT_OPS_IN_INT8, FLOAT_SCOPES_IN_INT8, convert, float_ops, serving_function

  config = MobileBertConfig(vocab_size=tiny["model"].config.vocab_size, num_hidden_layers=2,
                            normalization_type="layer_norm", num_feedforward_networks=1)
  model = build_mobilebert(config)
  function = serving_function(lambda x: model.encoder(x, training=False), SEQ, "layer-norm model")
  int8 = convert(function, model, "int8", tiny["inputs"][:8])
  assert float_ops(int8, except_scopes=FLOAT_SCOPES_IN_INT8) == set(FLOAT_OPS_IN_INT8)
  path = tmp_path / "layer_norm_int8.tflite"
  path.write_bytes(int8)
  encoder = TFLiteEncoder(path)
  interpreter = encoder.interpreter
  tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
  ops = interpreter._get_ops_details()
  norm_ops = [op for op in ops if op["op_name"] in ("MEAN", "RSQRT", "SQUARED_DIFFERENCE")]
  kinds = [op["op_name"] for op in norm_ops]  # each layer norm: two MEANs, a SQUARED_DIFFERENCE, an RSQRT
  assert kinds.count("MEAN") == 2 * kinds.count("RSQRT") == 2 * kinds.count("SQUARED_DIFFERENCE") > 4
  assert all(tensors[op["inputs"][0]]["dtype"] == np.float32 for op in norm_ops)
  dense = [op for op in ops if op["op_name"] == "FULLY_CONNECTED"]
  assert dense and all(tensors[op["inputs"][1]]["dtype"] == np.int8 for op in dense)
  want = [_run_tf(lambda x: model.encoder(x, training=False), x) for x in tiny["inputs"][8:16]]
  _, pooled_cos, seq_cos = _scores(tiny["inputs"][8:16], [encoder(x) for x in tiny["inputs"][8:16]], want)
  assert pooled_cos.min() >= 0.98 and seq_cos.mean() >= 0.99


def test_int8_softmax_reads_float_scores_with_the_padding_bias(tiny):
  """Each SOFTMAX reads the float32 sum of the scaled scores and the -1e9 padding bias: not
  int8 scores (whose range the bias would take) and not a bias the quantizer rounded away."""
  interpreter = TFLiteEncoder(tiny["files"]["int8"]).interpreter
  tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
  ops = interpreter._get_ops_details()
  producer = {out: op for op in ops for out in op["outputs"]}
  softmaxes = [op for op in ops if op["op_name"] == "SOFTMAX"]
  assert softmaxes
  for op in softmaxes:
    add = producer[op["inputs"][0]]
    assert add["op_name"] == "ADD" and tensors[add["outputs"][0]]["dtype"] == np.float32, add
  # The bias masks: what sits at the padded positions cannot reach the real tokens' outputs.
  # (Ids from one past the first padding on: the trigram embedding of the last real token
  # reads the id after it.)
  encoder = TFLiteEncoder(tiny["files"]["int8"])
  padded = next(x for x in tiny["inputs"] if x[sig.INPUT_MASK].sum() < SEQ // 2)
  real = padded[sig.INPUT_MASK][0].astype(bool)
  beyond = np.arange(SEQ) > real.sum()
  other = dict(padded, **{sig.INPUT_WORD_IDS: np.where(beyond, 200 + np.arange(SEQ) % 50, padded[sig.INPUT_WORD_IDS])})
  want, got = encoder(padded), encoder(other)
  np.testing.assert_array_equal(got[sig.SEQUENCE_OUTPUT][0][real], want[sig.SEQUENCE_OUTPUT][0][real])
  np.testing.assert_array_equal(got[sig.POOLED_OUTPUT], want[sig.POOLED_OUTPUT])


@pytest.fixture(scope="module")
def tiny_saved_model(tiny):
  from hub_export.export_encoder import export_encoder

  with without_fresh_process_check():
    return export_encoder(tiny["release"], tiny["dir"] / "encoder", lower_case=True)


def test_float_tflite_from_the_saved_model_matches_it(tiny, tiny_saved_model, tmp_path):
  import tensorflow as tf

  out = export_tflite(tmp_path / "from_saved_model.tflite", "none", saved_model=tiny_saved_model)
  loaded = tf.saved_model.load(str(tiny_saved_model))
  want = [_run_tf(lambda x: loaded(x, training=False), x) for x in tiny["inputs"]]
  encoder = TFLiteEncoder(out)
  rel, _, _ = _scores(tiny["inputs"], [encoder(x) for x in tiny["inputs"]], want)
  assert rel <= 1e-4


def test_calibration_inputs_are_the_preprocessors_packing(tiny):
  """Ids match an independent plain-Python tokenizer; pairs put the second line in segment 1."""
  from hub_export.tflite.representative_data import calibration_inputs, read_lines

  text = tiny["dir"] / "calibration.txt"
  lines = ["The café's naïve owner said: hello!", "Tokens, words and pieces.", "Third line here."]
  text.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
  vocab_tokens = (tiny["release"] / "vocab.txt").read_text(encoding="utf-8").splitlines()
  vocab = {t: i for i, t in enumerate(vocab_tokens)}
  cls, sep = vocab["[CLS]"], vocab["[SEP]"]
  ids = [sum(tokenize_ids(line, vocab, lower_case=True), []) for line in lines]

  samples = calibration_inputs(_text_encoder(tiny["release"] / "vocab.txt", seq_length=32), text, samples=4)
  assert read_lines(text) == lines and len(samples) == 4
  single = [cls] + ids[0] + [sep]
  np.testing.assert_array_equal(samples[0][sig.INPUT_WORD_IDS][0], single + [0] * (32 - len(single)))
  np.testing.assert_array_equal(samples[0][sig.INPUT_TYPE_IDS][0], [0] * 32)
  pair = [cls] + ids[0] + [sep] + ids[1] + [sep]
  np.testing.assert_array_equal(samples[2][sig.INPUT_WORD_IDS][0], pair + [0] * (32 - len(pair)))
  np.testing.assert_array_equal(samples[2][sig.INPUT_TYPE_IDS][0],
                                [0] * (len(ids[0]) + 2) + [1] * (len(ids[1]) + 1) + [0] * (32 - len(pair)))
  np.testing.assert_array_equal(samples[2][sig.INPUT_MASK][0], [1] * len(pair) + [0] * (32 - len(pair)))


def test_agreement_metrics_from_first_principles():
  want = np.array([[3.0, 4.0], [1.0, 0.0]])
  got = np.array([[3.0, 4.0], [0.0, 2.0]])
  np.testing.assert_allclose(row_relative_errors(got, want), [0.0, np.sqrt(5.0)])
  np.testing.assert_allclose(row_cosines(got, want), [1.0, 0.0])


# ---- errors: one line, exit 2, nothing written -----------------------------------------


def _cli(capsys, *args):
  return run_main(capsys, main, *args)


@pytest.mark.parametrize("seq_length", [0, 1])
def test_too_short_seq_length_is_refused(tmp_path, capsys, seq_length):
  release = shared_path("fixtures/mobilebert_tiny/release_tf1")
  code, line = _cli(capsys, "--ckpt", release, "--out", tmp_path / "m.tflite", "--quantize", "none",
                    "--seq_length", seq_length)
  assert code == 2 and line == f"error: --seq_length must be at least 2 ([CLS] and [SEP]), got {seq_length}"
  assert list(tmp_path.iterdir()) == []


def test_seq_length_over_max_positions_is_refused(tmp_path, capsys):
  release = shared_path("fixtures/mobilebert_tiny/release_tf1")
  code, line = _cli(capsys, "--ckpt", release, "--out", tmp_path / "m.tflite", "--quantize", "int8",
                    "--seq_length", 513, "--lower_case", "true")
  assert code == 2 and line == "error: --seq_length 513 exceeds the model's max_position_embeddings 512"
  assert list(tmp_path.iterdir()) == []


def test_int8_from_a_saved_model_warns_that_its_attention_scores_are_quantized(tiny_saved_model, tmp_path, caplog):
  with pytest.raises(SystemExit) as exit_info:
    main(["--saved_model", str(tiny_saved_model), "--out", str(tmp_path / "m.tflite"), "--quantize", "int8",
          "--calibration_samples", "4", "--seq_length", "16"])
  assert exit_info.value.code == 0
  warnings = [line for line in caplog.messages if line.startswith("warning:")]
  from hub_export.tflite.mediapipe_tokenizer import mediapipe_tokenizer_note
  assert warnings == ["warning: int8 from a SavedModel quantizes its attention scores and padding mask, which "
                      "costs accuracy; --ckpt keeps them in float32 (see README)",
                      f"warning: on MediaPipe Tasks: {mediapipe_tokenizer_note(True)}"]
  assert (tmp_path / "m.tflite").is_file()


def test_saved_model_that_cannot_run_at_the_length_is_a_clear_error(tiny, tiny_saved_model, tmp_path):
  with pytest.raises(HubExportError, match=r"fails at seq_length 600: assertion failed: \[sequence length must be "
                                           r"in \[1, max_position_embeddings 512\]; got\] \[600\]") as info:
    export_tflite(tmp_path / "m.tflite", "none", saved_model=tiny_saved_model, seq_length=600)
  assert "\n" not in str(info.value)
  assert not (tmp_path / "m.tflite").exists()


def test_converter_failure_becomes_a_hub_export_error(tiny):
  """Calibration inputs of the wrong shape make the converter itself fail; we say so in one line."""
  from hub_export.tflite.to_flatbuffer import convert, serving_function

  function = serving_function(lambda x: tiny["model"].encoder(x, training=False), SEQ, "tiny")
  wrong = [{k: np.zeros([1, SEQ + 1], np.int32) for k in sig.ENCODER_INPUT_KEYS}]
  with pytest.raises(HubExportError, match=r"^the TFLite converter failed \(--quantize int8\): ") as info:
    convert(function, tiny["model"], "int8", wrong)
  assert "\n" not in str(info.value)


def test_float_ops_lists_the_ops_reading_float32(tiny):
  from hub_export.tflite.to_flatbuffer import FLOAT_OPS_IN_INT8, FLOAT_SCOPES_IN_INT8, float_ops

  int8 = tiny["files"]["int8"].read_bytes()
  assert float_ops(int8, except_scopes=FLOAT_SCOPES_IN_INT8) == set(FLOAT_OPS_IN_INT8)
  assert float_ops(int8) >= {"ADD", "MUL", *FLOAT_OPS_IN_INT8}  # the score ops, counted without the exception
  assert float_ops(tiny["files"]["none"].read_bytes()) >= {"FULLY_CONNECTED", "ADD", "MUL", *FLOAT_OPS_IN_INT8}


def test_int8_that_leaves_other_ops_in_float_is_refused(tiny, monkeypatch):
  """Only FLOAT_OPS_IN_INT8 may stay float32: a quantizer result with other float ops (here
  the float model in its place) is a one-line error naming them, not a slow "int8" file."""
  from hub_export.tflite import to_flatbuffer as convert_module

  float_model = tiny["files"]["none"].read_bytes()
  monkeypatch.setattr(convert_module, "_quantize_except", lambda converter, ops: float_model)
  function = convert_module.serving_function(lambda x: tiny["model"].encoder(x, training=False), SEQ, "tiny")
  with pytest.raises(HubExportError, match=r"^int8 quantization left ADD, .*FULLY_CONNECTED.* in float32; ") as info:
    convert_module.convert(function, tiny["model"], "int8", tiny["inputs"][:1])
  assert "\n" not in str(info.value)


def test_existing_output_needs_overwrite(tiny, tmp_path, capsys):
  out = tmp_path / "m.tflite"
  out.write_bytes(tiny["files"]["none"].read_bytes())  # an earlier export
  code, line = _cli(capsys, "--ckpt", tiny["release"], "--out", out, "--quantize", "none", "--lower_case", "true")
  assert code == 2 and line == f"error: output {out} exists; pass --overwrite to replace it"
  assert out.read_bytes() == tiny["files"]["none"].read_bytes()
  code, _ = _cli(capsys, "--ckpt", tiny["release"], "--out", out, "--quantize", "dynamic", "--lower_case", "true",
                 "--overwrite")
  assert code == 0 and out.stat().st_size == tiny["files"]["dynamic"].stat().st_size
  assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]


def test_unknown_vocab_casing_must_be_given(tiny, tmp_path, capsys):
  code, line = _cli(capsys, "--ckpt", tiny["release"], "--out", tmp_path / "m.tflite", "--quantize", "none")
  assert code == 2 and "is not a known release vocab" in line and "--lower_case" in line
  assert list(tmp_path.iterdir()) == []


def test_without_the_litert_runtime_the_export_is_refused(tmp_path, capsys, monkeypatch):
  """The promised check cannot run without LiteRT: an error before any work, not a skipped check."""
  from hub_export.tflite import runtime

  monkeypatch.setattr(runtime, "litert_available", lambda: False)
  code, line = _cli(capsys, "--ckpt", tmp_path / "any", "--out", tmp_path / "m.tflite", "--quantize", "none")
  assert code == 2 and line.startswith("error: the LiteRT runtime (ai-edge-litert) is not installed")
  # the extra as a checkout installs it, and the package as PyPI names it (this project is not on an index)
  assert "pip install -e '.[tflite]'" in line and line.endswith("pip install ai-edge-litert")
  assert list(tmp_path.iterdir()) == []


def test_atomic_file_leaves_nothing_on_failure(tmp_path):
  target = tmp_path / "m.tflite"
  with pytest.raises(RuntimeError):
    with atomic_file(target) as tmp:
      tmp.write_bytes(b"half")
      raise RuntimeError("conversion died")
  assert list(tmp_path.iterdir()) == []


# ---- full size (English vocab, seeded weights) ---------------------------------------

SENTENCES = 256
FULL_SIZE_CALIBRATION = 32
MB = 1e6


@pytest.fixture(scope="module")
def full_size(tmp_path_factory):
  """A seeded full-size English release, its three .tflite exports and the TF outputs on 256 sentences."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.config import MobileBertConfig

  vocab_path = shared_path("vocab/bert_en_uncased_vocab.txt")
  work = tmp_path_factory.mktemp("full_size")
  release = write_release_checkpoint(work / "release", MobileBertConfig(vocab_size=30522), seed=0,
                                     vocab_lines=vocab_path.read_text(encoding="utf-8").splitlines())
  # int8 calibrates on FULL_SIZE_CALIBRATION lines, not the default 100: at full size each line costs a third
  # of a second in the converter's calibrator, and closeness holds with fewer.
  files = {q: export_tflite(work / f"en_{q}.tflite", q, ckpt=release, calibration_samples=FULL_SIZE_CALIBRATION)
           for q in ("none", "dynamic", "int8")}
  model, _ = load_mobilebert(locate_checkpoint(release))
  inputs = _text_encoder(release / "vocab.txt").encode(_corpus_lines(SENTENCES))
  keras = _run_tf_batched(lambda x: model.encoder(x, training=False), inputs)
  return {"files": files, "inputs": inputs, "keras": keras}


def _full_size_scores(full_size, quantize):
  encoder = TFLiteEncoder(full_size["files"][quantize])
  return _scores(full_size["inputs"], [encoder(x) for x in full_size["inputs"]], full_size["keras"])


@pytest.mark.slow
def test_full_size_float_matches_keras(full_size):
  rel, _, _ = _full_size_scores(full_size, "none")
  assert len(full_size["inputs"]) == SENTENCES and rel <= 1e-4


@pytest.mark.slow
def test_full_size_dynamic_is_small_and_close(full_size):
  assert full_size["files"]["dynamic"].stat().st_size <= 30 * MB
  _, pooled_cos, seq_cos = _full_size_scores(full_size, "dynamic")
  assert pooled_cos.mean() >= 0.99 and seq_cos.mean() >= 0.99
  assert pooled_cos.min() >= 0.97 and seq_cos.min() >= 0.97


@pytest.mark.slow
def test_full_size_int8_is_close(full_size):
  _, pooled_cos, seq_cos = _full_size_scores(full_size, "int8")
  assert pooled_cos.mean() >= 0.98 and seq_cos.mean() >= 0.98
