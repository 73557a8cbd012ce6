"""assets/task.json: written checked, read back checked, one line naming the file and the field."""

import json

import pytest

from hub_export.support.errors import HubExportError
from hub_export.hub_format.task_model_files import FORMAT, TASK_CONFIG_NAME, read_task_config, write_task_config

SQUAD = {"format": FORMAT, "task": "squad", "max_seq_length": 384, "lower_case": True, "max_query_length": 64,
         "doc_stride": 128, "max_answer_length": 30, "version_2_with_negative": False,
         "null_score_diff_threshold": 0.0, "metrics": {"exact_match": 80.0, "f1": 87.5}}
CLASSIFIER = {"format": FORMAT, "task": "classification", "max_seq_length": 128, "lower_case": False,
              "glue_task": None, "labels": ["no", "yes"], "regression": False, "pair": True, "metrics": {}}


def _model(tmp_path, config) -> str:
  (tmp_path / "assets").mkdir(exist_ok=True)
  (tmp_path / "assets" / TASK_CONFIG_NAME).write_text(json.dumps(config), encoding="utf-8")
  return tmp_path


@pytest.mark.parametrize("config", [SQUAD, CLASSIFIER], ids=["squad", "classification"])
def test_a_written_config_reads_back(tmp_path, config):
  (tmp_path / "assets").mkdir()
  write_task_config(tmp_path / "assets" / TASK_CONFIG_NAME, config)
  assert read_task_config(tmp_path) == config


@pytest.mark.parametrize("change,problem", [
    (dict(task="ner"), "field 'task' is 'ner', expected one of squad, classification"),
    (dict(format="other/1"), f"field 'format' is 'other/1', expected {FORMAT!r}"),
    (dict(doc_stride=None), "field 'doc_stride' has the wrong type (None)"),
    (dict(lower_case=1), "field 'lower_case' has the wrong type (1)"),
    (dict(max_seq_length=0), "field 'max_seq_length' must be positive, got 0"),
    (dict(metrics={"f1": "high"}), "field 'metrics' entry 'f1' is not a number"),
    (dict(labels=["a"]), "unknown field 'labels'"),
])
def test_a_bad_field_is_named(tmp_path, change, problem):
  model = _model(tmp_path, {**SQUAD, **change})
  with pytest.raises(HubExportError) as error:
    read_task_config(model)
  assert str(error.value) == f"{model / 'assets' / TASK_CONFIG_NAME}: {problem}"


def test_a_missing_field_and_labels_of_a_regression_are_named(tmp_path):
  config = dict(CLASSIFIER)
  del config["pair"]
  with pytest.raises(HubExportError, match=r"task.json: field 'pair' is missing$"):
    read_task_config(_model(tmp_path, config))
  with pytest.raises(HubExportError, match=r"field 'labels' must be empty for a regression and only then$"):
    read_task_config(_model(tmp_path, {**CLASSIFIER, "regression": True}))
  with pytest.raises(HubExportError, match=r"field 'labels' must be distinct strings$"):
    write_task_config(tmp_path / "out.json", {**CLASSIFIER, "labels": ["a", "a"]})
  assert not (tmp_path / "out.json").exists()


def test_no_file_or_bad_json_is_one_line(tmp_path):
  with pytest.raises(HubExportError, match=f"^{tmp_path} is not a task model: no assets/task.json$"):
    read_task_config(tmp_path)
  (tmp_path / "assets").mkdir()
  (tmp_path / "assets" / TASK_CONFIG_NAME).write_text('{"task": ', encoding="utf-8")
  with pytest.raises(HubExportError, match=r"task.json is not valid JSON: line 1 column 10: Expecting value$"):
    read_task_config(tmp_path)
