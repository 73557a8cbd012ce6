"""`publish --to kaggle://...` and `verify kaggle://...` with the real kagglehub client.

The client talks to `kaggle_stub.KaggleStub` on 127.0.0.1 (the LOCALHOST environment
with the stub as its HTTP proxy); nothing leaves the machine. Credentials are a made-up
key that must never show up in output or in any file written.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hub_export import publish, verify
from hub_export.kaggle_models import handles, network, upload
from hub_export.kaggle_models.download import download
from hub_export.publishing import kaggle_folders, kaggle_metadata
from hub_export.support.errors import HubExportError
from support.kaggle_stub import HOLD_AT_MOST, KEY, USER, SilentServer, reach_only, serving_kagglehub

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


QA_NAME, QA_VARIATION = "toy_en_uncased_squad", "toy-en-uncased-squad"
QA_METRICS = {"exact_match": 37.5, "f1": 51.25}


@pytest.fixture(scope="module")
def squad_model(tmp_path_factory):
  """A tiny SQuAD task SavedModel whose task.json holds QA_METRICS."""
  from support import task_savedmodels as tm

  vocab = tm.english_vocab()
  model = tm.task_model(tm.SQUAD_SETTINGS, len(vocab))
  return tm.save_task_model(tmp_path_factory.mktemp("task") / "qa", model, tm.SQUAD_SETTINGS, vocab, QA_METRICS)


def test_a_task_model_is_uploaded_as_its_own_variation_with_a_card_stating_its_metrics(
    stub, synthetic_encoder, squad_model, tmp_path, capsys):
  dist = tmp_path / "dist"
  assert publish.main(_argv(dist, synthetic_encoder, None, "--task_model", str(squad_model),
                            "--to", f"kaggle://{OWNER}/{MODEL}")) == 0
  assert sorted(_published_lines(capsys.readouterr().out)) == sorted([
      f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}/1", f"{OWNER}/{MODEL}/tensorFlow2/{QA_VARIATION}/1"])
  assert stub.stored(OWNER, MODEL, TF2, QA_VARIATION) == _files(squad_model)

  card = (dist / QA_NAME / "1.md").read_text()
  assert card.splitlines()[0] == f"# Module {OWNER}/{QA_NAME}/1"
  assert "On a SQuAD v1.1 eval file when it was fine-tuned: exact_match 37.5, f1 51.25." in card
  assert "python -m hub_export.evaluate_task --task squad --model MODEL_DIR --eval_file dev-v1.1.json" in card
  metadata = stub.variations[(OWNER, MODEL, TF2, QA_VARIATION)].metadata
  assert metadata["overview"] == card.splitlines()[1] and metadata["fineTunable"] is False
  assert 'model.signatures["serve"]' in metadata["usage"]
  encoder_card = (dist / "toy_en_uncased" / "1.md").read_text()
  assert stub.models[(OWNER, MODEL)]["description"] == "## " + encoder_card.split("\n## ", 1)[1]
  tarball = dist / QA_NAME / f"{QA_NAME}_1.tar.gz"
  assert f"{QA_NAME}/{QA_NAME}_1.tar.gz" in (dist / "SHA256SUMS").read_text()

  assert verify.main([str(tarball)]) == 2
  assert _error_lines(capsys.readouterr().err) == [
      f"error: {tarball} is a squad task model (assets/task.json), not a text encoder or preprocessor: score it with "
      "`python -m hub_export.evaluate_task`"]


def test_verify_names_a_task_model_folder_as_one(squad_model, capsys):
  assert verify.main([str(squad_model)]) == 2
  assert _error_lines(capsys.readouterr().err) == [
      f"error: {squad_model} is a squad task model (assets/task.json), not a text encoder or preprocessor: score it "
      "with `python -m hub_export.evaluate_task`"]


def test_a_folder_that_is_no_task_model_or_has_no_metrics_is_refused_in_one_line(synthetic_encoder, squad_model,
                                                                                 tmp_path, capsys):
  unmeasured = tmp_path / "unmeasured"
  shutil.copytree(squad_model, unmeasured)
  task_json = unmeasured / "assets" / "task.json"
  task_json.write_text(json.dumps({**json.loads(task_json.read_text()), "metrics": {}}))
  for model, line in [(synthetic_encoder, f"error: {synthetic_encoder} is not a task model: no assets/task.json"),
                      (unmeasured, f"error: {task_json} has no metrics: fine-tune with --eval_file so that the model "
                                   "card can state what the model scores")]:
    assert publish.main(_argv(tmp_path / "dist", None, None, "--task_model", str(model))) == 2
    assert _error_lines(capsys.readouterr().err) == [line]
    assert not (tmp_path / "dist").exists()


# Time limits: a short --network_timeout and one retry, so each test waits a few seconds at most.
LIMITS = ["--network_timeout", "1", "--network_retries", "1"]


def _run_against_silent_proxy(monkeypatch, tmp_path, module, *args):
  """Runs `python -m module args` through a proxy that accepts and never answers; returns the result and how long
  the client waited on each connection before giving up. A hang past the subprocess timeout fails the test."""
  with SilentServer() as silent:
    reach_only(monkeypatch, tmp_path, silent.proxy)
    result = subprocess.run([sys.executable, "-m", module, *args, *LIMITS], capture_output=True, text=True,
                            timeout=HOLD_AT_MOST - 10, env=os.environ.copy())
  return result, silent.held


def _assert_gave_up_after_two_tries(result, held, expected_error):
  assert result.returncode == 2, result.stderr[-3000:]
  assert _error_lines(result.stderr) == [expected_error]
  assert "Traceback" not in result.stderr
  assert KEY not in result.stdout + result.stderr
  # Progress while waiting, then the retry announced; each try given up on after about a second.
  assert " s so far (gives up after 1 s)" in result.stderr
  assert "(try 1 of 2); trying again in 1 s" in result.stderr
  assert len(held) == 2 and max(held) < 5, held


def test_publish_to_a_proxy_that_never_answers_gives_up_with_one_line(synthetic_encoder, monkeypatch, tmp_path):
  result, held = _run_against_silent_proxy(
      monkeypatch, tmp_path, "hub_export.publish",
      *_argv(tmp_path / "dist", synthetic_encoder, None, "--to", f"kaggle://{OWNER}/{MODEL}"))
  _assert_gave_up_after_two_tries(result, held, f"error: look up model {OWNER}/{MODEL}: no answer from localhost "
                                                f"within 1 s to POST /api/v1/models.ModelApiService/GetModel (2 tries)")
  assert _published_lines(result.stdout) == []


def test_verify_through_a_proxy_that_never_answers_gives_up_with_one_line(monkeypatch, tmp_path):
  handle = f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}"
  result, held = _run_against_silent_proxy(monkeypatch, tmp_path, "hub_export.verify", f"kaggle://{handle}")
  _assert_gave_up_after_two_tries(result, held, f"error: download {handle}: no answer from localhost within 1 s to "
                                                f"POST /api/v1/models.ModelApiService/GetModelInstance (2 tries)")
  assert "checks passed" not in result.stdout


@pytest.fixture
def one_file_folders(tmp_path):
  """Kaggle folders for kaggle://acme/toy-bert with one variation of one small file: an upload with few requests."""
  root, source = tmp_path / "kaggle", tmp_path / "model.bin"
  source.write_bytes(bytes(range(256)) * 4)
  kaggle_folders.write_model_metadata(root, kaggle_metadata.model_metadata(
      OWNER, MODEL, "toy", "A toy model.", "## Toy", "apache-2.0", private=True))
  kaggle_folders.write_variation(root, source, kaggle_metadata.instance_metadata(
      OWNER, MODEL, ENCODER_VARIATION, kaggle_metadata.SAVED_MODEL_FRAMEWORK, "encoder", "A toy model.", "apache-2.0",
      None))
  return root


def test_an_upload_works_out_the_clients_user_agent_once_and_sends_it_on_every_call(stub, one_file_folders,
                                                                                    monkeypatch):
  """kagglehub walks the whole call stack for the user agent of each client it builds, one a request."""
  from kagglehub import clients

  original, asked = clients.get_user_agent, []
  counted = lambda: asked.append(1) or original()  # noqa: E731
  monkeypatch.setattr(clients, "get_user_agent", counted)
  upload.upload(one_file_folders)
  assert len(asked) == 1 and clients.get_user_agent is counted  # restored after the upload
  assert len(stub.user_agents) >= 4 and set(stub.user_agents) == {original()}
  assert original().startswith("kagglehub/")


@pytest.mark.parametrize("hold, drop_after", [("GetModel", None), ("StartBlobUpload", None), ("upload", None),
                                              ("status", 100), ("UpdateModelInstance", None),
                                              ("GetModelInstance", None)])
def test_an_unanswered_upload_request_is_given_up_on_and_sent_again(stub, one_file_folders, hold, drop_after):
  stub.faults.hold, stub.faults.drop_after = hold, drop_after  # a status query follows a cut connection
  assert upload.upload(one_file_folders, limits=network.Limits(timeout=1, retries=1)) == [
      f"{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}/1"]
  assert stub.gave_up(1)[0] < 5
  assert stub.stored(OWNER, MODEL, TF2, ENCODER_VARIATION) == {"model.bin": bytes(range(256)) * 4}


def test_an_unanswered_create_is_not_sent_twice(stub, one_file_folders):
  stub.faults.hold = "CreateModelInstance"
  with pytest.raises(HubExportError) as error:
    upload.upload(one_file_folders, limits=network.Limits(timeout=1, retries=1))
  assert str(error.value) == (
      f"upload {OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}: no answer from localhost within 1 s to POST "
      f"/api/v1/models.ModelApiService/CreateModelInstance (sent only once: it may have taken effect)")
  assert [path for _, path in stub.requests if path.endswith("/CreateModelInstance")] == [
      "/api/v1/models.ModelApiService/CreateModelInstance"]
  assert stub.gave_up(1)[0] < 5


def test_an_unanswered_file_upload_is_given_up_on_after_its_retries(stub, one_file_folders):
  stub.faults.hold = "upload"
  with pytest.raises(HubExportError) as error:
    upload.upload(one_file_folders, limits=network.Limits(timeout=1, retries=0))
  assert str(error.value) == (f"upload {OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}: no answer from localhost "
                              f"within 1 s to PUT /upload/blob1 (1 try)")
  assert stub.gave_up(1)[0] < 5 and stub.variations == {}


def test_an_unanswered_download_is_sent_again_or_given_up_on(stub, one_file_folders, capsys):
  upload.upload(one_file_folders)
  handle = handles.parse_variation(f"kaggle://{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}")
  stub.faults.hold = "DownloadModelInstanceVersion"
  assert _files(download(handle, network.Limits(timeout=1, retries=1))) == {"model.bin": bytes(range(256)) * 4}
  assert stub.gave_up(1)[0] < 5

  stub.faults.hold = "DownloadModelInstanceVersion"
  capsys.readouterr()
  assert verify.main([f"kaggle://{handle}", "--network_timeout", "1", "--network_retries", "0"]) == 2
  assert _error_lines(capsys.readouterr().err) == [
      f"error: download {handle}: no answer from localhost within 1 s to POST "
      f"/api/v1/models.ModelApiService/DownloadModelInstanceVersion (1 try)"]
  assert stub.gave_up(2)[1] < 5


@pytest.mark.parametrize("flag, value", [("--network_timeout", "0"), ("--network_timeout", "nan"),
                                         ("--network_retries", "-1")])
def test_bad_network_limits_are_refused_before_any_network_call(stub, capsys, flag, value):
  with pytest.raises(SystemExit) as exit_info:
    verify.main([f"kaggle://{OWNER}/{MODEL}/tensorFlow2/{ENCODER_VARIATION}", flag, value])
  assert exit_info.value.code == 2 and f"argument {flag}: {value!r}" in capsys.readouterr().err
  assert stub.requests == []
