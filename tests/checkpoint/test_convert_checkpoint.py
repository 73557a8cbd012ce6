"""The project's own TF2 checkpoint: converted from either release layout, restored exactly."""

import numpy as np
import pytest

from conftest import shared_path
from hub_export.checkpoint.layout import Layout
from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
from hub_export.convert_checkpoint import convert_checkpoint
from hub_export.support.errors import HubExportError
from support.release_dirs import write_tiny_release


def _weights(model):
  return [v.numpy() for v in model.encoder.weights + model.masked_lm.weights]


def _assert_same(a, b):
  for x, y in zip(_weights(a), _weights(b), strict=True):
    np.testing.assert_array_equal(x, y)


def test_release_to_native_and_back(tmp_path):
  release = write_tiny_release(tmp_path / "release", seed=21, normalization_type="layer_norm")
  prefix = convert_checkpoint(release, tmp_path / "converted" / "mobilebert")
  source, _ = load_mobilebert(locate_checkpoint(release))
  converted, report = load_mobilebert(locate_checkpoint(tmp_path / "converted"))
  assert report.layout is Layout.NATIVE
  assert converted.config == source.config  # read from the checkpoint itself, no bert_config.json beside it
  assert not (tmp_path / "converted" / "bert_config.json").exists()
  assert (tmp_path / "converted" / "vocab.txt").read_bytes() == (release / "vocab.txt").read_bytes()
  _assert_same(source, converted)
  assert prefix == str(tmp_path / "converted" / "mobilebert")


def test_the_recorded_casing_travels_with_the_checkpoint(tmp_path):
  """A release written with its casing needs no --lower_case, before and after conversion."""
  from hub_export.checkpoint.export_source import resolve_source

  release = write_tiny_release(tmp_path / "release", lower_case=False)  # the tiny vocab is in no manifest
  assert resolve_source(release).lower_case is False
  convert_checkpoint(release, tmp_path / "converted" / "mobilebert")
  assert resolve_source(tmp_path / "converted").lower_case is False
  assert resolve_source(tmp_path / "converted", lower_case=True).lower_case is True  # the flag still wins


def test_model_garden_to_native(tmp_path):
  tiny = shared_path("fixtures/mobilebert_tiny")
  config = tiny / "release_tf1" / "bert_config.json"
  convert_checkpoint(tiny / "model_garden_tf2", tmp_path / "out" / "mb", bert_config=config)
  reference, _ = load_mobilebert(locate_checkpoint(tiny / "release_tf1"))
  converted, _ = load_mobilebert(locate_checkpoint(tmp_path / "out"))
  _assert_same(reference, converted)


def test_native_checkpoint_rejects_a_different_config(tmp_path):
  release = write_tiny_release(tmp_path / "release", seed=2)
  convert_checkpoint(release, tmp_path / "converted" / "mobilebert")
  other = tmp_path / "other.json"
  other.write_text((release / "bert_config.json").read_text().replace('"num_hidden_layers": 2', '"num_hidden_layers": 3'))
  with pytest.raises(HubExportError, match="differs from the config stored in"):
    load_mobilebert(locate_checkpoint(tmp_path / "converted"), other)


def test_overwrite_refuses_a_directory_holding_other_files(tmp_path):
  release = write_tiny_release(tmp_path / "release", seed=2)
  busy = tmp_path / "busy"
  busy.mkdir()
  (busy / "notes.txt").write_text("keep me")
  with pytest.raises(HubExportError, match=f"--overwrite would delete {busy / 'notes.txt'}, "):
    convert_checkpoint(release, busy / "mobilebert", overwrite=True)
  assert (busy / "notes.txt").read_text() == "keep me"
