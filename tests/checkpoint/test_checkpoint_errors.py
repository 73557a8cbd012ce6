"""Bad checkpoints and configs stop with one clear line naming the problem."""

import json
import subprocess
import sys

import numpy as np
import pytest

from hub_export.checkpoint.locate import locate_checkpoint
from hub_export.checkpoint.restore import load_mobilebert
from hub_export.config import MobileBertConfig
from hub_export.support.errors import HubExportError
from support.checkpoint_edits import rewrite_checkpoint
from support.release_dirs import write_tiny_release

PREFIX = "mobilebert_variables.ckpt"


@pytest.fixture
def release(tmp_path):
  return write_tiny_release(tmp_path / "release", seed=11)


def _load(path, bert_config=None):
  return load_mobilebert(locate_checkpoint(path), bert_config)


def _config_file(tmp_path, **changes):
  values = json.loads((tmp_path / "release" / "bert_config.json").read_text())
  values.update(changes)
  path = tmp_path / "edited_config.json"
  path.write_text(json.dumps(values))
  return path


def _one_line(error) -> str:
  text = str(error.value)
  assert "\n" not in text
  return text


def test_vocab_size_mismatch(release, tmp_path):
  with pytest.raises(HubExportError) as error:
    _load(release, _config_file(tmp_path, vocab_size=200))
  assert "config vocab_size 200 but the checkpoint's word table bert/embeddings/word_embeddings has 160 rows" \
      in _one_line(error)


def test_layer_count_mismatch(release, tmp_path):
  with pytest.raises(HubExportError) as error:
    _load(release, _config_file(tmp_path, num_hidden_layers=3))
  text = _one_line(error)
  assert "config num_hidden_layers 3 but the checkpoint has 2 blocks" in text
  assert "bert/encoder/layer_2/" in text


def test_missing_variable(release):
  name = "bert/encoder/layer_1/attention/self/value/kernel"
  rewrite_checkpoint(str(release / PREFIX), drop=[name])
  with pytest.raises(HubExportError) as error:
    _load(release)
  assert f"model variables missing from the checkpoint 1: {name} [512, 128]" in _one_line(error)


def test_extra_unknown_variable(release):
  rewrite_checkpoint(str(release / PREFIX), add={"bert/encoder/layer_0/surprise/kernel": np.zeros([3, 4], np.float32)})
  with pytest.raises(HubExportError) as error:
    _load(release)
  assert "unknown checkpoint variables 1: bert/encoder/layer_0/surprise/kernel [3, 4]" in _one_line(error)


def test_shape_mismatch_names_both_shapes(release):
  name = "bert/embeddings/embedding_transformation/kernel"
  rewrite_checkpoint(str(release / PREFIX), add={name: np.zeros([384, 256], np.float32)})
  with pytest.raises(HubExportError) as error:
    _load(release)
  assert f"{name} checkpoint [384, 256] vs model [384, 512]" in _one_line(error)


def test_optimizer_slots_and_step_are_ignored(tmp_path):
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from support.release_dirs import tiny_config, tiny_vocab

  path = write_release_checkpoint(tmp_path / "r", tiny_config(), 5, with_optimizer_slots=True,
                                  vocab_lines=tiny_vocab(160))
  _, report = _load(path)
  assert report.ignored > 100  # every adam_m / adam_v plus global_step


def test_unknown_normalization_type(tmp_path):
  with pytest.raises(HubExportError, match="'normalization_type' is 'batch_norm'; allowed: no_norm, layer_norm"):
    MobileBertConfig.from_dict({"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1,
                                "intermediate_size": 8, "normalization_type": "batch_norm"})


@pytest.mark.parametrize("change,message", [
    ({"hidden_act": "softplus"}, "'hidden_act' is 'softplus'; allowed:"),
    ({"intra_bottleneck_size": 130}, "is not divisible by 'num_attention_heads' 4"),
    ({"num_hidden_layers": 0}, "'num_hidden_layers' must be a positive integer"),
])
def test_invalid_config_values(change, message):
  values = {"vocab_size": 100, "hidden_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 512, **change}
  with pytest.raises(HubExportError, match=message):
    MobileBertConfig.from_dict(values)


def test_missing_required_config_key(tmp_path):
  path = tmp_path / "bert_config.json"
  path.write_text(json.dumps({"vocab_size": 100, "hidden_size": 512}))
  with pytest.raises(HubExportError, match="missing required key"):
    MobileBertConfig.from_json_file(path)


def test_truncated_data_file(release):
  data = release / f"{PREFIX}.data-00000-of-00001"
  data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
  with pytest.raises(HubExportError) as error:
    _load(release)
  assert "is corrupt" in _one_line(error) or "cannot read checkpoint" in _one_line(error)


def test_corrupt_data_file(release):
  data = release / f"{PREFIX}.data-00000-of-00001"
  raw = bytearray(data.read_bytes())
  for i in range(1000, len(raw), 4096):
    raw[i] ^= 0xFF
  data.write_bytes(bytes(raw))
  with pytest.raises(HubExportError) as error:
    _load(release)
  assert "is corrupt" in _one_line(error)


def test_corrupt_index_file(release):
  index = release / f"{PREFIX}.index"
  index.write_bytes(b"not an index" * 10)
  with pytest.raises(HubExportError, match="cannot read checkpoint"):
    _load(release)


def test_path_without_checkpoint(tmp_path):
  (tmp_path / "empty").mkdir()
  with pytest.raises(HubExportError, match="no checkpoint in .*empty"):
    locate_checkpoint(tmp_path / "empty")


def test_directory_with_two_checkpoints_is_ambiguous(release):
  (release / "checkpoint").unlink()
  for suffix in (".index", ".data-00000-of-00001"):
    (release / f"other{suffix}").write_bytes((release / f"{PREFIX}{suffix}").read_bytes())
  with pytest.raises(HubExportError, match="holds 2 checkpoints"):
    locate_checkpoint(release)


def test_directory_without_state_file_finds_its_one_checkpoint(release):
  (release / "checkpoint").unlink()
  assert locate_checkpoint(release).prefix == str(release / PREFIX)


def test_cli_prints_one_line_and_exits_2(release, tmp_path):
  rewrite_checkpoint(str(release / PREFIX), drop=["bert/embeddings/token_type_embeddings"])
  proc = subprocess.run([sys.executable, "-m", "hub_export.convert_checkpoint", "--ckpt", str(release),
                         "--out", str(tmp_path / "converted" / "mobilebert")], capture_output=True, text=True)
  assert proc.returncode == 2
  last = proc.stderr.strip().splitlines()[-1]
  assert last.startswith("error: checkpoint ") and "bert/embeddings/token_type_embeddings" in last
  assert not (tmp_path / "converted").exists()
