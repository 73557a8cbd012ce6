"""`verify` judges a SavedModel's ops before loading it: nothing of a hostile package may run."""

import tensorflow as tf
from tensorflow.python.framework import op_def_registry

from hub_export import verify


class _FileWriter(tf.saved_model.experimental.TrackableResource):
  """A resource whose initializer, run by the loader, writes `path`."""

  def __init__(self, path):
    super().__init__()
    self._path = str(path)

  def _create_resource(self):
    return tf.raw_ops.HashTableV2(key_dtype=tf.string, value_dtype=tf.int64)

  def _initialize(self):
    return tf.io.write_file(self._path, "written by the package")


class _OutsideReader(tf.saved_model.experimental.TrackableResource):
  """A vocab table filled from a file that is not one of the SavedModel's assets."""

  def _create_resource(self):
    return tf.raw_ops.HashTableV2(key_dtype=tf.string, value_dtype=tf.int64)

  def _initialize(self):
    return tf.raw_ops.InitializeTableFromTextFileV2(table_handle=self.resource_handle, filename="/etc/hostname",
                                                    key_index=-1, value_index=-2)


def _save(root, path):
  tf.saved_model.save(root, str(path))
  return path


def _refusal(path, capsys) -> str:
  assert verify.main([str(path)]) == 2
  errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
  assert len(errors) == 1
  return errors[0]


def test_an_initializer_that_writes_a_file_is_refused_before_it_runs(tmp_path, capsys):
  marker = tmp_path / "written.txt"
  root = tf.train.Checkpoint()
  root.writer = _FileWriter(marker)
  model = _save(root, tmp_path / "model")
  assert _refusal(model, capsys).startswith(f"error: refusing to load {model}: op WriteFile (node 'WriteFile' "
                                            f"in function __inference__initializer_")
  assert not marker.exists()


def test_an_op_nested_in_a_called_function_is_named_with_its_function(tmp_path, capsys):
  @tf.function
  def inner(x):
    tf.io.write_file(str(tmp_path / "written.txt"), "x")
    return x + 1

  root = tf.train.Checkpoint()
  root.f = tf.function(lambda x: inner(x) * 2, input_signature=[tf.TensorSpec([], tf.float32)])
  model = _save(root, tmp_path / "model")
  assert "op WriteFile (node 'WriteFile' in function __inference_inner_" in _refusal(model, capsys)


def test_a_table_read_from_a_file_outside_the_assets_is_refused(tmp_path, capsys):
  root = tf.train.Checkpoint()
  root.table = _OutsideReader()
  model = _save(root, tmp_path / "model")
  assert _refusal(model, capsys).endswith("reads a file that is not one of the model's assets")


def test_a_checkpoint_write_a_loaded_function_can_run_is_refused(tmp_path, capsys):
  @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
  def save(x):
    tf.raw_ops.SaveV2(prefix=str(tmp_path / "stolen"), tensor_names=["x"], shape_and_slices=[""], tensors=[x])
    return x

  root = tf.train.Checkpoint()
  root.f = save
  model = _save(root, tmp_path / "model")
  assert _refusal(model, capsys).endswith("reads or writes checkpoint files in a function a loaded model can run")


def test_allowlisted_names_are_stateful_tensorflow_ops():
  """A misspelt or stateless name on the list would allow nothing and hide a gap."""
  import tensorflow_text  # noqa: F401 - registers its tokenizer ops

  from hub_export.verification.graph_safety import CHECKPOINT_OPS, STATEFUL_ALLOWED

  wrong = [name for name in sorted(STATEFUL_ALLOWED | CHECKPOINT_OPS)
           if op_def_registry.get(name) is None or not op_def_registry.get(name).is_stateful]
  assert wrong == []
