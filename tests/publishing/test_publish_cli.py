"""The publish command: layout, cards, Kaggle metadata, checksums, reproducibility, refusals."""

import json
import subprocess
import sys

import pytest

from hub_export import publish
from hub_export.verification import verify_path

NAME = "toy_en_uncased"


def _publish(out, encoder=None, preprocessor=None, *extra):
  argv = ["--out", str(out), "--name", NAME, "--language", "en", "--publisher", "acme", *extra]
  if encoder:
    argv += ["--encoder", str(encoder)]
  if preprocessor:
    argv += ["--preprocessor", str(preprocessor)]
  return publish.main(argv)


@pytest.fixture(scope="module")
def dist(synthetic_encoder, synthetic_preprocessor, tmp_path_factory):
  out = tmp_path_factory.mktemp("publish") / "dist"
  assert _publish(out, synthetic_encoder, synthetic_preprocessor, "--version", "3") == 0
  return out


def _tree(root):
  return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_layout_lists_one_package_per_saved_model_and_kaggle_folders(dist, synthetic_encoder, synthetic_preprocessor):
  files = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file())
  encoder_folder, pre_folder = "kaggle/tensorFlow2/toy-en-uncased", "kaggle/tensorFlow2/en-uncased-preprocess"
  assert [f for f in files if not f.startswith("kaggle/tensorFlow2/")] == [
      "SHA256SUMS", "kaggle/model-metadata.json",
      f"{NAME}/3.md", f"{NAME}/{NAME}_3.tar.gz",
      f"{NAME}_preprocess/3.md", f"{NAME}_preprocess/{NAME}_preprocess_3.tar.gz",
  ]
  # Each Kaggle variation folder is the SavedModel's files, unpacked, plus its metadata.
  for folder, source in ((encoder_folder, synthetic_encoder), (pre_folder, synthetic_preprocessor)):
    tree = _tree(dist / folder)
    assert json.loads(tree.pop("model-instance-metadata.json"))["framework"] == "tensorFlow2"
    assert tree == _tree(source)


def test_sha256sum_accepts_the_manifest(dist):
  result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
  assert result.returncode == 0, result.stdout + result.stderr
  assert result.stdout.count(": OK") == len([p for p in dist.rglob("*") if p.is_file()]) - 1


def test_cards_carry_tfhub_metadata_and_facts_read_from_the_model(dist):
  encoder = (dist / NAME / "3.md").read_text().splitlines()
  assert encoder[0] == f"# Module acme/{NAME}/3"
  assert encoder[1] and not encoder[1].startswith("<!--")
  tags = dict(line[5:-4].split(": ", 1) for line in encoder if line.startswith("<!-- "))
  assert tags == {"asset-path": f"{NAME}_3.tar.gz", "task": "text-embedding", "fine-tunable": "true",
                  "format": "saved_model_2", "language": "en", "network-architecture": "transformer",
                  "license": "apache-2.0"}
  text = "\n".join(encoder)
  # The synthetic encoder: embeddings 12x8 + two 8x8 layers; head 8x8 + 12 biases; 12 tokens; H=8.
  assert "Encoder parameters: 224 " in text and "(only in `.mlm`): 76." in text
  assert "12-token\nuncased" in text and "hidden size 8" in text
  assert 'hub.KerasLayer("acme/toy_en_uncased/3", trainable=True)' in text
  assert "masked_lm_positions" in text and "mlm_logits" in text

  pre = (dist / f"{NAME}_preprocess" / "3.md").read_text()
  assert pre.startswith(f"# Module acme/{NAME}_preprocess/3\n")
  assert "<!-- task: text-preprocessing -->" in pre and "<!-- fine-tunable: false -->" in pre
  assert ("`vocab_size`=12, `padding_id`=0, `start_of_sequence_id`=2, `end_of_segment_id`=3, `mask_id`=4"
          in pre)
  assert "seq_length 128" in pre


def test_kaggle_metadata_follows_the_kaggle_api_schema(dist):
  model = json.loads((dist / "kaggle" / "model-metadata.json").read_text())
  assert set(model) == {"ownerSlug", "title", "slug", "subtitle", "isPrivate", "description",
                        "publishTime", "provenanceSources", "licenseName"}
  assert (model["ownerSlug"], model["slug"], model["licenseName"]) == ("acme", "toy-en-uncased", "Apache 2.0")
  assert model["isPrivate"] is True and model["description"].startswith("## Overview")
  variations = dist / "kaggle" / "tensorFlow2"
  instance = json.loads((variations / "toy-en-uncased" / "model-instance-metadata.json").read_text())
  assert instance["framework"] == "tensorFlow2" and instance["fineTunable"] is True
  assert (instance["modelSlug"], instance["instanceSlug"]) == ("toy-en-uncased", "toy-en-uncased")
  assert 'hub.KerasLayer("${PATH}", trainable=True)' in instance["usage"]
  pre = json.loads((variations / "en-uncased-preprocess" / "model-instance-metadata.json").read_text())
  assert pre["fineTunable"] is False and 'hub.KerasLayer("${PATH}")' in pre["usage"]
  assert pre["instanceSlug"] == "en-uncased-preprocess" and pre["modelSlug"] == "toy-en-uncased"


def test_publishing_twice_gives_identical_bytes(dist, synthetic_encoder, synthetic_preprocessor, tmp_path):
  again = tmp_path / "again"
  assert _publish(again, synthetic_encoder, synthetic_preprocessor, "--version", "3") == 0
  for path in dist.rglob("*"):
    if path.is_file():
      assert (again / path.relative_to(dist)).read_bytes() == path.read_bytes(), path


def test_published_tarballs_verify(dist):
  for name in (NAME, f"{NAME}_preprocess"):
    report = verify_path(dist / name / f"{name}_3.tar.gz")
    assert report.ok, report.lines()


def test_refuses_non_empty_out_and_overwrites_only_an_earlier_publish(synthetic_preprocessor, tmp_path, capsys):
  out = tmp_path / "dist"
  out.mkdir()
  (out / "keep.txt").write_text("mine")
  assert _publish(out, preprocessor=synthetic_preprocessor) == 2
  assert "not empty; pass --overwrite" in capsys.readouterr().err
  assert _publish(out, None, synthetic_preprocessor, "--overwrite") == 2
  assert f"--overwrite would delete {out / 'keep.txt'}" in capsys.readouterr().err
  assert [p.name for p in out.iterdir()] == ["keep.txt"]
  (out / "keep.txt").unlink()
  assert _publish(out, None, synthetic_preprocessor, "--version", "2") == 0
  assert _publish(out, None, synthetic_preprocessor, "--overwrite") == 0
  assert sorted(p.name for p in out.iterdir()) == ["SHA256SUMS", "kaggle", f"{NAME}_preprocess"]
  assert sorted(p.name for p in (out / f"{NAME}_preprocess").iterdir()) == ["1.md", f"{NAME}_preprocess_1.tar.gz"]


def test_refuses_a_directory_that_is_not_a_saved_model(tmp_path, capsys):
  assert _publish(tmp_path / "dist", encoder=tmp_path) == 2
  assert "no saved_model.pb" in capsys.readouterr().err
  assert not (tmp_path / "dist").exists()


def test_refuses_a_preprocessor_given_as_encoder(synthetic_preprocessor, tmp_path, capsys):
  assert _publish(tmp_path / "dist", encoder=synthetic_preprocessor) == 2
  assert "is not a text encoder SavedModel" in capsys.readouterr().err


def test_needs_at_least_one_model(tmp_path):
  result = subprocess.run([sys.executable, "-m", "hub_export.publish", "--out", str(tmp_path / "d"),
                           "--name", NAME, "--language", "en"], capture_output=True, text=True)
  assert result.returncode == 2
  assert "give --encoder, --preprocessor, --keras_preset, --task_model, or several" in result.stderr


def test_reference_exports_publish_and_verify(reference_encoder, reference_preprocessor, tmp_path):
  out = tmp_path / "dist"
  assert _publish(out, reference_encoder, reference_preprocessor) == 0
  card = (out / NAME / "1.md").read_text()
  # The reference is MobileBERT cut to 2 layers and a 512-token vocab (fixtures README);
  # facts section 3 gives 526,848 embedding + 2 x 842,240 block parameters at V=512.
  assert "Encoder parameters: 2,211,328 " in card and "hidden size 512" in card
  for name in (NAME, f"{NAME}_preprocess"):
    report = verify_path(out / name / f"{name}_1.tar.gz")
    assert report.ok, report.lines()


def test_refuses_a_folder_that_is_not_a_mobilebert_keras_preset(synthetic_encoder, tmp_path, capsys):
  assert publish.main(["--out", str(tmp_path / "dist"), "--name", NAME, "--language", "en",
                       "--keras_preset", str(synthetic_encoder)]) == 2
  err = capsys.readouterr().err
  assert f"error: preset {synthetic_encoder} has no config.json: not a KerasHub preset" in err.splitlines()
  assert not (tmp_path / "dist").exists()


def test_a_classification_task_card_names_its_labels_eval_set_and_how_to_score_it():
  from hub_export.publishing.model_card import Release, task_card, task_model_name

  config = {"format": "mobilebert-task/1", "task": "classification", "max_seq_length": 128, "lower_case": True,
            "glue_task": "mrpc", "labels": ["not_equivalent", "equivalent"], "regression": False, "pair": True,
            "metrics": {"accuracy": 0.8125, "f1": 0.86}}
  card = task_card(Release("acme", task_model_name("toy", config), 1, "en", "apache-2.0"), config)
  assert card.splitlines()[:2] == [
      "# Module acme/toy_mrpc/1", "A text classification task model (accuracy 0.8125, f1 0.86 on the mrpc dev set)."]
  assert "<!-- task: text-classification -->" in card
  assert "* Labels, in logit order: `not_equivalent`, `equivalent`; text pairs." in card
  assert 'model.signatures["serving_default"](text_a=tf.constant(' in card
  assert "python -m hub_export.evaluate_task --task classification --model MODEL_DIR --eval_file dev.tsv\n" in card
