"""MobileBERT in Keras 3 / KerasHub on the TensorFlow, JAX and PyTorch backends.

A Keras backend is fixed when Keras is imported, so each backend's checks run in one
worker process (tests/support/keras3_backend_worker.py) on material laid out once here: the golden
configs' seeded release checkpoints, a preset exported from one of them by the
`export_keras` command, and our TF-Hub SavedModel of the same checkpoint.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import GOLDEN_DIR, REPO, SUPPORT, require_shared
from support import bert_reference_tokenizer as ref
from support.activation_formulas import EXPECTED
from support.tokenization_test_data import ENGLISH_VOCAB, build_test_vocab, corpus

BACKENDS = ("tensorflow", "jax", "torch")
GOLDEN = sorted(p.stem for p in GOLDEN_DIR.glob("*.npz"))
PRESET_SOURCE = "opt_small"  # NoNorm, trigram input, 4 FFNs, shared key/query bottleneck
TOKENIZER_SENTENCES = 40


def _env(backend="tensorflow"):
  return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}


def _corpus_vocab(size: int) -> list:
  """A `size`-token uncased vocab built from the English corpus (words whole and in pieces)."""
  tokens = build_test_vocab(corpus("english"), True)[:size]
  return tokens + [f"[unused{i}]" for i in range(99, 99 + size - len(tokens))]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.config import MobileBertConfig
  from hub_export.savedmodel.encoder_object import build_encoder_object, save_encoder

  work = tmp_path_factory.mktemp("keras3")
  (work / "release").mkdir()
  for name in GOLDEN:
    golden = np.load(GOLDEN_DIR / f"{name}.npz")
    config = MobileBertConfig.from_dict(json.loads(str(golden["config_json"])))
    vocab = _corpus_vocab(config.vocab_size) if name == PRESET_SOURCE else None
    write_release_checkpoint(work / "release" / name, config, int(golden["seed"]), vocab_lines=vocab)
  source = work / "release" / PRESET_SOURCE
  model, _ = load_mobilebert(locate_checkpoint(source))
  save_encoder(build_encoder_object(model, str(source / "vocab.txt"), True), str(work / "encoder"))
  (work / "sentences.json").write_text(json.dumps(corpus("english")[:TOKENIZER_SENTENCES]), encoding="utf-8")
  proc = subprocess.run([sys.executable, "-m", "hub_export.export_keras", "--ckpt", str(source),
                         "--preset_dir", str(work / "preset"), "--lower_case", "true"],
                        capture_output=True, text=True, env=_env(), cwd=REPO, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "exported KerasHub preset to" in proc.stderr
  return work


@pytest.fixture(scope="module")
def reports(workdir):
  """backend -> the worker's JSON report; the workers run one after the other."""
  results = {}
  for backend in BACKENDS:
    out = workdir / f"report_{backend}.json"
    proc = subprocess.run([sys.executable, str(SUPPORT / "keras3_backend_worker.py"), str(workdir), str(out)],
                          capture_output=True, text=True, env=_env(backend), cwd=REPO, timeout=900)
    results[backend] = json.loads(out.read_text()) if proc.returncode == 0 else proc.stderr[-4000:]
  return results


def _report(reports, backend):
  report = reports[backend]
  assert isinstance(report, dict), f"{backend} worker failed:\n{report}"
  assert report["backend"] == backend
  return report


@pytest.mark.slow
def test_preset_folder_has_every_keras_hub_file(workdir):
  preset = workdir / "preset"
  for name in ("config.json", "model.weights.h5", "task.json", "task.weights.h5", "preprocessor.json",
               "tokenizer.json", "assets/tokenizer/vocabulary.txt", "metadata.json"):
    assert (preset / name).is_file(), name
  config = json.loads((preset / "config.json").read_text())
  assert config["registered_name"] == "hub_export>MobileBertBackbone"
  assert config["config"]["normalization_type"] == "no_norm" and config["config"]["trigram_input"] is True
  assert json.loads((preset / "tokenizer.json").read_text())["config"]["lowercase"] is True
  vocab = (preset / "assets/tokenizer/vocabulary.txt").read_text(encoding="utf-8").splitlines()
  assert vocab == (workdir / "release" / PRESET_SOURCE / "vocab.txt").read_text(encoding="utf-8").splitlines()
  assert json.loads((preset / "metadata.json").read_text())["tasks"] == ["MaskedLM", "QuestionAnswerer",
                                                                          "TextClassifier"]
  assert not list(workdir.glob(".preset*")), "temporary or lock files left beside the preset"


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_golden_configs_match_hf_on_every_backend(reports, backend):
  golden = _report(reports, backend)["golden_parity"]
  assert sorted(golden) == GOLDEN
  for name, figures in golden.items():
    assert figures["converted"] == figures["variables"], name  # every Keras 3 variable set from the checkpoint
    assert figures["sequence"] <= 1e-5, (name, figures)
    assert figures["pooled"] <= 1e-5, (name, figures)
    assert figures["mlm"] <= 1e-4, (name, figures)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_activations_follow_their_formulas_on_every_backend(reports, backend):
  """Every `hidden_act` name the Keras 3 model accepts computes what the original code meant by it."""
  got = _report(reports, backend)["activations"]
  assert sorted(got) == sorted(EXPECTED)
  for name, values in got.items():
    np.testing.assert_allclose(np.asarray(values, np.float32), EXPECTED[name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_backbone_matches_our_savedmodel_on_padded_inputs(reports, backend):
  figures = _report(reports, backend)["savedmodel_parity"]
  assert figures["padded_probes"] >= 2
  assert figures["sequence"] <= 1e-5 and figures["pooled"] <= 1e-5, figures


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_presets_load_and_save_round_trip(reports, backend):
  presets = _report(reports, backend)["presets"]
  assert presets["backbone_class"] == "MobileBertBackbone"
  assert presets["masked_lm_class"] == "MobileBertMaskedLM"
  assert presets["classifier_class"] == presets["generic_classifier_class"] == "MobileBertTextClassifier"
  assert presets["classifier_preprocessor"] == "MobileBertTextClassifierPreprocessor"
  assert presets["classifier_output_shape"] == [3, 2]
  assert presets["mlm_vs_hf"] <= 1e-4  # the pretrained head came back from task.weights.h5
  assert presets["sequence_vs_hf"] <= 1e-5
  assert presets["save_reload_identical"] == {"backbone": True, "masked_lm": True, "classifier": True}
  assert presets["keras_file"] == {"class": "MobileBertTextClassifier", "identical": True}


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_preset_tokenizer_follows_bert_rules_on_every_backend(reports, workdir, backend):
  ids = _report(reports, backend)["tokenizer_ids"]
  vocab = (workdir / "preset" / "assets/tokenizer/vocabulary.txt").read_text(encoding="utf-8").splitlines()
  index = {token: i for i, token in enumerate(vocab)}
  expected = [[i for word in ref.tokenize_ids(line, index, True) for i in word]
              for line in corpus("english")[:TOKENIZER_SENTENCES]]
  assert ids["eager"] == expected
  assert ids["batched"] == expected


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_fine_tuning_from_raw_strings(reports, backend):
  figures = _report(reports, backend)["fine_tuning"]
  assert figures["loss_after"] < figures["loss_before"], figures  # on the training strings, dropout off
  assert figures["block_change"] > 1e-4 and figures["embedding_change"] > 1e-4, figures
  assert figures["training_calls_differ"] and figures["inference_calls_equal"], figures
  assert figures["predict_matches_call"] <= 1e-5, figures
  # Eight steps of one shape: one trace where the step is compiled (on TensorFlow, not a second one
  # for building the optimizer's variables), one call a step in PyTorch's eager loop.
  assert figures["train_step_calls"] == (8 if backend == "torch" else 1), figures


@pytest.mark.slow
def test_bad_presets_fail_with_one_line(reports):
  bad = _report(reports, "tensorflow")["bad_presets"]
  expected = {"bert": "holds a keras_hub>BertBackbone model, not hub_export>MobileBertBackbone",
              "no_weights": "lacks model.weights.h5",
              "wrong_config": "model.weights.h5 does not fit config.json: 145 weights in the file, 145 from the config"}
  for name, needle in expected.items():
    assert bad[name]["code"] == 2, bad[name]
    lines = bad[name]["stderr"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], bad[name]


# Exact tokenization on the whole corpora (TensorFlow string ops on every backend, so one process).

def _preset_tokenizer_ids(vocab_tokens, lower_case, lines):
  from hub_export.keras3 import MobileBertTokenizer

  tokenizer = MobileBertTokenizer(vocabulary=vocab_tokens, lowercase=lower_case)
  return [np.asarray(row).tolist() for row in tokenizer(lines)]


def _assert_exact(vocab_tokens, lower_case, lines):
  index = {token: i for i, token in enumerate(vocab_tokens)}
  got = _preset_tokenizer_ids(vocab_tokens, lower_case, lines)
  wrong = [n for n, (line, ids) in enumerate(zip(lines, got))
           if [i for word in ref.tokenize_ids(line, index, lower_case) for i in word] != ids]
  assert not wrong, f"{len(wrong)} of {len(lines)} lines differ, first: {lines[wrong[0]]!r}"


@pytest.mark.parametrize("lower_case", [True, False])
def test_tokenizer_exact_on_english_corpus(lower_case):
  require_shared(ENGLISH_VOCAB)
  _assert_exact(ENGLISH_VOCAB.read_text(encoding="utf-8").splitlines(), lower_case, corpus("english"))


@pytest.mark.parametrize("lower_case", [True, False])
def test_tokenizer_exact_on_multilingual_corpus(lower_case):
  lines = corpus("multilingual")
  _assert_exact(build_test_vocab(lines, lower_case), lower_case, lines)


@pytest.mark.slow
def test_export_keras_refuses_an_existing_preset_without_overwrite(workdir):
  proc = subprocess.run([sys.executable, "-m", "hub_export.export_keras", "--ckpt",
                         str(workdir / "release" / PRESET_SOURCE), "--preset_dir", str(workdir / "preset"),
                         "--lower_case", "true"], capture_output=True, text=True, env=_env(), cwd=REPO, timeout=120)
  assert proc.returncode == 2
  errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
  assert errors == [f"error: output {workdir / 'preset'} exists and is not empty; pass --overwrite to replace it"]
  assert proc.stderr.strip().splitlines()[-1] == errors[0]


@pytest.mark.slow
def test_publish_keras_preset_to_kaggle_and_load_what_users_download(workdir, monkeypatch, tmp_path):
  import kagglehub

  from support.kaggle_stub import KEY, serving_kagglehub

  preset, dist = workdir / "preset", tmp_path / "dist"
  with serving_kagglehub(monkeypatch, tmp_path) as stub:
    proc = subprocess.run([sys.executable, "-m", "hub_export.publish", "--keras_preset", str(preset), "--out", str(dist),
                           "--name", "toy_en_uncased", "--language", "en", "--to", "kaggle://acme/toy-bert"],
                          capture_output=True, text=True, env=_env(), cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "acme/toy-bert/keras/toy-en-uncased/1" in proc.stdout.splitlines()
    assert KEY not in proc.stdout + proc.stderr
    sent = stub.stored("acme", "toy-bert", "MODEL_FRAMEWORK_KERAS", "toy-en-uncased")
    assert sent == {p.relative_to(preset).as_posix(): p.read_bytes() for p in preset.rglob("*") if p.is_file()}
    variation = stub.variations[("acme", "toy-bert", "MODEL_FRAMEWORK_KERAS", "toy-en-uncased")].metadata
    assert "import hub_export.keras3" in variation["usage"] and variation["fineTunable"] is True
    assert "import hub_export.keras3" in stub.models[("acme", "toy-bert")]["description"]
    downloaded = kagglehub.model_download("acme/toy-bert/keras/toy-en-uncased")
  check = subprocess.run([sys.executable, "-m", "hub_export.keras3.preset_check", downloaded],
                         capture_output=True, text=True, env=_env("jax"), cwd=REPO, timeout=300)
  assert check.returncode == 0, check.stderr[-3000:]
  assert (dist / "kaggle" / "keras" / "toy-en-uncased" / "config.json").read_bytes() == (preset / "config.json").read_bytes()
