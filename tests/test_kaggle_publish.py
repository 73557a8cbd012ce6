"""`publish --to kaggle://...` and `verify kaggle://...` with the real kagglehub client.

The client talks to `kaggle_stub.KaggleStub` on 127.0.0.1 (the LOCALHOST environment
with the stub as its HTTP proxy); nothing leaves the machine. Credentials are a made-up
key that must never show up in output or in any file written.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hub_export import publish, verify
from kaggle_stub import KEY, USER, serving_kagglehub

OWNER, MODEL = "acme", "toy-bert"
TF2 = "MODEL_FRAMEWORK_TENSOR_FLOW_2"  # how kagglesdk sends the framework
TFLITE = "MODEL_FRAMEWORK_TF_LITE"
ENCODER_VARIATION, PRE_VARIATION = "toy-en-uncased", "en-uncased-preprocess"


@pytest.fixture
def stub(monkeypatch, tmp_path):
  with serving_kagglehub(monkeypatch, tmp_path) as server:
    yield server


@pytest.fixture
def tflite_file(tmp_path):
  path = tmp_path / "toy_int8.tflite"
  path.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 4)  # a FlatBuffer's root offset, then the id
  return path


def _argv(out, encoder, preprocessor, *extra):
  models = (["--encoder", str(encoder)] if encoder else []) + (["--preprocessor", str(preprocessor)]
                                                               if preprocessor else [])
  return ["--out", str(out), "--name", "toy_en_uncased", "--language", "en", "--publisher", "acme", *models, *extra]


def _files(root):
  root = Path(root)
  return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _published_lines(text):
  return [line for line in text.splitlines() if line.startswith(f"{OWNER}/{MODEL}/")]


def _error_lines(err):
  return [line for line in err.splitlines() if line.startswith("error:")]


def test_publish_uploads_byte_identical_files_with_card_license_and_usage(
    stub, synthetic_encoder, synthetic_preprocessor, tflite_file, tmp_path):
  dist = tmp_path / "dist"
  result = subprocess.run([sys.executable, "-m", "hub_export.publish",
                           *_argv(dist, synthetic_encoder, synthetic_preprocessor, "--tflite", str(tflite_file),
                                  "--to", f"kaggle://{OWNER}/{MODEL}")],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())
  assert result.returncode == 0, result.stderr[-3000:]
  assert sorted(_published_lines(result.stdout)) == sorted([
      f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}/1", f"{OWNER}/{MODEL}/tensorFlow2/{PRE_VARIATION}/1",
      f"{OWNER}/{MODEL}/tfLite/toy-int8/1"])

  assert stub.stored(OWNER, MODEL, TF2, ENCODER_VARIATION) == _files(synthetic_encoder)
  assert stub.stored(OWNER, MODEL, TF2, PRE_VARIATION) == _files(synthetic_preprocessor)
  assert stub.stored(OWNER, MODEL, TFLITE, "toy-int8") == {"toy_int8.tflite": tflite_file.read_bytes()}

  created = stub.models[(OWNER, MODEL)]
  card = (dist / "toy_en_uncased" / "1.md").read_text()
  assert created["isPrivate"] is True and created["title"] == "toy_en_uncased"
  assert created["description"] == "## " + card.split("\n## ", 1)[1]
  encoder = stub.variations[(OWNER, MODEL, TF2, ENCODER_VARIATION)].metadata
  assert encoder["licenseName"] == "Apache 2.0" and encoder["fineTunable"] is True
  assert 'hub.KerasLayer("${PATH}", trainable=True)' in encoder["usage"]
  local = json.loads((dist / "kaggle" / "tensorFlow2" / ENCODER_VARIATION / "model-instance-metadata.json")
                     .read_text())
  assert encoder["usage"] == local["usage"] and encoder["overview"] == local["overview"]

  # The key never appears: not in the output, not in anything written (dist, client cache).
  assert KEY not in result.stdout + result.stderr
  for root in (dist, tmp_path / "kagglehub_cache", tmp_path / "home"):
    for path in (root.rglob("*") if root.exists() else ()):
      assert not path.is_file() or KEY.encode() not in path.read_bytes(), path


def test_second_publish_adds_version_two_with_notes(stub, synthetic_encoder, tmp_path, capsys):
  to = ["--to", f"kaggle://{OWNER}/{MODEL}"]
  assert publish.main(_argv(tmp_path / "d1", synthetic_encoder, None, *to)) == 0
  assert publish.main(_argv(tmp_path / "d2", synthetic_encoder, None, *to, "--version_notes", "retrained")) == 0
  lines = _published_lines(capsys.readouterr().out)
  assert f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}/2" in lines
  versions = stub.variations[(OWNER, MODEL, TF2, ENCODER_VARIATION)].versions
  assert [v["notes"] for v in versions] == ["", "retrained"]
  assert versions[1]["files"] == _files(synthetic_encoder)
  assert len(stub.models) == 1


def test_dry_run_prints_the_plan_and_sends_nothing(stub, synthetic_encoder, tmp_path, capsys):
  assert publish.main(_argv(tmp_path / "dist", synthetic_encoder, None, "--to", f"kaggle://{OWNER}/{MODEL}",
                            "--dry_run")) == 0
  out = capsys.readouterr().out
  assert stub.requests == []
  assert f"would create model {OWNER}/{MODEL} if it does not exist (private" in out
  assert f"would upload {OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION} (Apache 2.0)" in out
  for name, data in _files(synthetic_encoder).items():
    assert f"  {name}  {len(data)}" in out


@pytest.mark.parametrize("handle", ["kaggle://acme", "kaggle://acme/Toy_Bert", "kaggle://acme/toy-bert/tensorFlow2/x",
                                    "hf://acme/toy-bert", "kaggle://acme//x"])
def test_a_malformed_handle_is_refused_before_any_network_call(stub, synthetic_encoder, synthetic_preprocessor,
                                                               tmp_path, capsys, handle):
  with pytest.raises(SystemExit) as exit_info:
    publish.main(_argv(tmp_path / "dist", synthetic_encoder, synthetic_preprocessor, "--to", handle))
  assert exit_info.value.code == 2
  assert "argument --to" in capsys.readouterr().err
  assert stub.requests == [] and not (tmp_path / "dist").exists()


@pytest.mark.parametrize("handle", ["kaggle://acme/toy-bert", "kaggle://acme/toy-bert/pyTorch/x",
                                    "kaggle://acme/toy-bert/tensorFlow2/x/0"])
def test_verify_refuses_a_malformed_handle_before_any_network_call(stub, capsys, handle):
  assert verify.main([handle]) == 2
  err = capsys.readouterr().err
  assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
  assert stub.requests == []


def test_missing_credentials_name_where_they_are_looked_for(stub, synthetic_encoder, monkeypatch, tmp_path, capsys):
  monkeypatch.delenv("KAGGLE_USERNAME")
  monkeypatch.delenv("KAGGLE_KEY")
  assert publish.main(_argv(tmp_path / "dist", synthetic_encoder, None, "--to", f"kaggle://{OWNER}/{MODEL}")) == 2
  err = capsys.readouterr().err
  assert _error_lines(err) == ["error: no Kaggle credentials found: set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and "
                               "KAGGLE_KEY, or kaggle.json in $KAGGLE_CONFIG_DIR (default ~/.kaggle)"]
  assert stub.requests == [] and not (tmp_path / "dist").exists()  # checked before packing anything


def test_credentials_from_kaggle_json_work_and_public_is_honoured(stub, synthetic_preprocessor, monkeypatch, tmp_path, capsys):
  monkeypatch.delenv("KAGGLE_USERNAME")
  monkeypatch.delenv("KAGGLE_KEY")
  config = tmp_path / "kaggle_config"
  config.mkdir()
  (config / "kaggle.json").write_text(json.dumps({"username": USER, "key": KEY}))
  assert publish.main(_argv(tmp_path / "dist", None, synthetic_preprocessor, "--to", f"kaggle://{OWNER}/{MODEL}",
                            "--public")) == 0
  assert KEY not in "".join(capsys.readouterr())
  assert (OWNER, MODEL, TF2, PRE_VARIATION) in stub.variations
  assert stub.models[(OWNER, MODEL)]["isPrivate"] is False


def test_a_failed_blob_upload_fails_cleanly_and_a_rerun_succeeds(stub, synthetic_encoder, tmp_path, capsys):
  argv = _argv(tmp_path / "dist", synthetic_encoder, None, "--to", f"kaggle://{OWNER}/{MODEL}")
  stub.faults.blob_status = 500
  assert publish.main(argv) == 2
  out, err = capsys.readouterr()
  assert _error_lines(err) == [f"error: upload {OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}: Upload failed "
                               f'with status code 500: {{"code": 500, "message": "injected failure"}}']
  assert _published_lines(out) == [] and stub.variations == {}
  assert publish.main(argv + ["--overwrite"]) == 0
  assert _published_lines(capsys.readouterr().out) == [f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}/1"]
  assert stub.stored(OWNER, MODEL, TF2, ENCODER_VARIATION) == _files(synthetic_encoder)


def test_refused_credentials_fail_cleanly_and_a_rerun_succeeds(stub, synthetic_encoder, tmp_path, capsys):
  argv = _argv(tmp_path / "dist", synthetic_encoder, None, "--to", f"kaggle://{OWNER}/{MODEL}")
  stub.faults.refuse_credentials = True
  assert publish.main(argv) == 2
  out, err = capsys.readouterr()
  (line,) = _error_lines(err)
  assert line.startswith(f"error: look up model {OWNER}/{MODEL}: Kaggle refused the credentials (HTTP 401)")
  assert _published_lines(out) == [] and stub.models == {} and KEY not in out + err
  stub.faults.refuse_credentials = False
  assert publish.main(argv + ["--overwrite"]) == 0
  assert _published_lines(capsys.readouterr().out) == [f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}/1"]


def test_a_connection_dropped_mid_file_is_resumed(stub, synthetic_encoder, tmp_path):
  # Only saved_model.pb is larger than the cut, so it is the file cut half-way.
  size = (synthetic_encoder / "saved_model.pb").stat().st_size
  stub.faults.drop_after = size // 2
  assert publish.main(_argv(tmp_path / "dist", synthetic_encoder, None, "--to", f"kaggle://{OWNER}/{MODEL}")) == 0
  assert stub.drops == 1
  assert stub.stored(OWNER, MODEL, TF2, ENCODER_VARIATION) == _files(synthetic_encoder)


def test_round_trip_download_keras_layer_and_verify(stub, synthetic_encoder, tmp_path, capsys):
  import kagglehub
  import tensorflow as tf
  import tensorflow_hub as hub

  assert publish.main(_argv(tmp_path / "dist", synthetic_encoder, None, "--to", f"kaggle://{OWNER}/{MODEL}")) == 0
  path = kagglehub.model_download(f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}")
  assert _files(path) == _files(synthetic_encoder)
  inputs = dict(input_word_ids=tf.constant([[2, 5, 7, 3, 0]]), input_mask=tf.constant([[1, 1, 1, 1, 0]]),
                input_type_ids=tf.zeros([1, 5], tf.int32))
  downloaded, local = hub.KerasLayer(path)(inputs), hub.KerasLayer(str(synthetic_encoder))(inputs)
  for name in ("pooled_output", "sequence_output"):
    np.testing.assert_array_equal(downloaded[name].numpy(), local[name].numpy())

  handle = f"kaggle://{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}"
  capsys.readouterr()
  assert verify.main([f"{handle}/1"]) == 0
  assert capsys.readouterr().out.strip().splitlines()[-1] == "17 checks passed, 0 failed"
  # One more row in the served vocab than the embedding table has: the contract check must notice.
  vocab = stub.stored(OWNER, MODEL, TF2, ENCODER_VARIATION)["assets/vocab.txt"]
  stub.tamper(OWNER, MODEL, TF2, ENCODER_VARIATION, "assets/vocab.txt", vocab + b"extra_token\n")
  assert verify.main([handle]) == 1
  assert "FAIL" in capsys.readouterr().out
