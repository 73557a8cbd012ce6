"""`MobileBertQuestionAnswerer`, the Keras 3 span-QA task: the tf_keras task model's logits from its converted
weights, a checkpoint's `cls/squad/` head included, and the same after a preset round trip.

TensorFlow backend only, in this process (the backbone's parity on every backend is tests/keras3/test_keras3.py's).
"""

import os

import numpy as np
import pytest

pytest.importorskip("keras_hub", reason="keras-hub (the keras extra) is not installed")
if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
  pytest.skip("these checks run on the TensorFlow backend", allow_module_level=True)

from hub_export import signatures as sig  # noqa: E402
from hub_export.support.errors import HubExportError  # noqa: E402
from hub_export.signatures import END_LOGITS, START_LOGITS  # noqa: E402
from support.release_dirs import tiny_config  # noqa: E402

SEQ = 48


def _inputs(vocab_size: int) -> dict:
  """Two rows, the second padded after 30 tokens, segment 1 from position 12."""
  rng = np.random.default_rng(0)
  word_ids = rng.integers(5, vocab_size, [2, SEQ]).astype(np.int32)
  mask = np.ones_like(word_ids)
  mask[1, 30:] = 0
  type_ids = np.zeros_like(word_ids)
  type_ids[:, 12:] = 1
  return {sig.INPUT_WORD_IDS: word_ids, sig.INPUT_MASK: mask, sig.INPUT_TYPE_IDS: type_ids}


def _keras3(task, inputs: dict) -> dict:
  outputs = task({"token_ids": inputs[sig.INPUT_WORD_IDS], "segment_ids": inputs[sig.INPUT_TYPE_IDS],
                  "padding_mask": inputs[sig.INPUT_MASK]})
  return {key: np.asarray(outputs[key]) for key in (START_LOGITS, END_LOGITS)}


def _worst_relative_error(ours: dict, theirs: dict, mask) -> float:
  """Per real token, |(start, end) difference| / |(start, end)|, the worst."""
  ours, theirs = (np.stack([logits[START_LOGITS], logits[END_LOGITS]], -1)[mask == 1] for logits in (ours, theirs))
  return float(np.max(np.linalg.norm(ours - theirs, axis=-1) / np.linalg.norm(theirs, axis=-1)))


@pytest.fixture(scope="module")
def restored(tmp_path_factory):
  """A tf_keras span model restored from a seeded checkpoint holding `cls/squad/output_weights` and `output_bias`."""
  from hub_export.checkpoint.locate import locate_checkpoint
  from hub_export.checkpoint.tf1_release import write_release_checkpoint
  from hub_export.checkpoint.restore import load_mobilebert
  from hub_export.weight_layout import SPAN_HEAD

  release = write_release_checkpoint(tmp_path_factory.mktemp("qa") / "release", tiny_config(), seed=11,
                                     task_head=SPAN_HEAD)
  return load_mobilebert(locate_checkpoint(release), task_head=SPAN_HEAD)[0]


@pytest.fixture(scope="module")
def answerer(restored):
  from support import task_savedmodels

  return task_savedmodels.keras3_task(restored)


def test_logits_equal_the_tf_keras_task_model(restored, answerer):
  inputs = _inputs(restored.config.vocab_size)
  _, theirs = restored.task_logits(inputs)
  theirs = {key: np.asarray(value) for key, value in theirs.items()}
  ours = _keras3(answerer, inputs)
  assert ours[START_LOGITS].shape == (2, SEQ)
  assert not np.allclose(ours[START_LOGITS], ours[END_LOGITS])  # the rows of the head are not swapped or shared
  assert _worst_relative_error(ours, theirs, inputs[sig.INPUT_MASK]) <= 1e-5


def test_preset_round_trip_loads_the_question_answerer(answerer, tmp_path):
  from hub_export.keras3 import MobileBertQuestionAnswerer
  from hub_export.tasks.task_runners import Keras3Runner

  answerer.save_to_preset(str(tmp_path / "preset"))
  inputs = _inputs(answerer.backbone.vocabulary_size)
  reloaded = MobileBertQuestionAnswerer.from_preset(str(tmp_path / "preset"))
  expected = _keras3(answerer, inputs)
  for key, value in _keras3(reloaded, inputs).items():
    np.testing.assert_array_equal(value, expected[key])
  for key, value in Keras3Runner(tmp_path / "preset", "squad")(inputs).items():  # what evaluate_task runs
    np.testing.assert_array_equal(value, expected[key])
  with pytest.raises(HubExportError, match="holds a hub_export>MobileBertQuestionAnswerer task, not the "
                                           "MobileBertTextClassifier --task classification takes"):
    Keras3Runner(tmp_path / "preset", "classification")


def test_a_classifier_head_does_not_convert_to_the_question_answerer(restored):
  from hub_export.keras3 import MobileBertBackbone, MobileBertQuestionAnswerer
  from hub_export.keras3.from_tf_keras import convert_weights
  from hub_export.model import build_mobilebert
  from hub_export.weight_layout import CLASSIFIER, TaskHead

  classifier = build_mobilebert(restored.config, TaskHead(CLASSIFIER, 3))
  task = MobileBertQuestionAnswerer(MobileBertBackbone(**restored.config.to_dict()))
  with pytest.raises(HubExportError, match="a model with classifier head to the Keras 3 MobileBertQuestionAnswerer"):
    convert_weights(classifier, task)
