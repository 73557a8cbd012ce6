"""Corpus embedding with Beam: same numbers as calling the SavedModels, runners, faults, reruns."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401

from conftest import REPO, SUPPORT
from hub_export.beam import pipeline
from hub_export.beam.handler import TextEmbeddingHandler
from hub_export.beam.pipeline import EmbedSettings, embed_corpus
from support.progress_capture import every_update_reported, reports
from support.release_dirs import export_release, tiny_vocab, write_tiny_release

WORDS = tiny_vocab(160)[104:]  # w0 .. w55


def _corpus_line(rng) -> str:
  return " ".join(rng.choice(WORDS, size=rng.integers(1, 12)))


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
  directory = tmp_path_factory.mktemp("tiny_models")
  release = write_tiny_release(directory / "release")
  return export_release(release, directory)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  """Two text files and a JSONL file; repeated lines, blank lines and a JSONL row without an id."""
  directory = tmp_path_factory.mktemp("corpus")
  rng = np.random.default_rng(7)
  lines = [_corpus_line(rng) for _ in range(30)]
  lines[5] = lines[3]  # a duplicate line must still get a row of its own
  (directory / "a.txt").write_text("\n".join(lines[:20] + ["", "   \t"]) + "\n", encoding="utf-8")
  (directory / "b.txt").write_text("\n".join(lines[20:]), encoding="utf-8")  # no final newline
  rows = [{"id": "doc-1", "text": "w1 w2 w3"}, {"id": 7, "text": lines[3]}, {"text": "w4"}]
  (directory / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
  expected = {f"{directory}/a.txt:{i + 1}": line for i, line in enumerate(lines[:20])}
  expected.update({f"{directory}/b.txt:{i + 1}": line for i, line in enumerate(lines[20:])})
  expected.update({"doc-1": "w1 w2 w3", "7": lines[3], f"{directory}/c.jsonl:3": "w4"})
  return directory, expected


def _read(output) -> dict:
  table = pq.read_table(str(output))
  ids = table.column("id").to_pylist()
  assert len(ids) == len(set(ids)), "duplicate ids in the output"
  order = np.argsort(ids)
  columns = {name: table.column(name).to_pylist() for name in table.column_names}
  return {name: [values[i] for i in order] for name, values in columns.items()}


@pytest.fixture(scope="module")
def direct(tiny_models):
  return _direct_embedder(tiny_models)


def _direct_embedder(models):
  """The published usage, no Beam: texts -> encoder(preprocessor(strings))["pooled_output"]."""
  encoder, preprocessor = (tf.saved_model.load(str(m)) for m in models)
  return lambda texts: encoder(preprocessor(tf.constant(texts)), training=False)["pooled_output"].numpy()


class RecordingHandler(TextEmbeddingHandler):
  """Writes each batch's texts to a file, so a plain loop can replay exactly those batches."""

  def __init__(self, log_path, **kwargs):
    super().__init__(**kwargs)
    self._log_path = str(log_path)

  def run_inference(self, batch, model, inference_args=None):
    with open(self._log_path, "a", encoding="utf-8") as f:
      f.write(json.dumps(list(batch)) + "\n")
    return super().run_inference(batch, model, inference_args)


def _settings(models, input_pattern, output, **overrides) -> EmbedSettings:
  return EmbedSettings(encoder=str(models[0]), preprocessor=str(models[1]), input=str(input_pattern),
                       output=str(output), **overrides)


@pytest.fixture(scope="module")
def in_process_run_with_log(tiny_models, corpus, tmp_path_factory):
  """One run on the in-process runner with recorded batches and its log lines off a terminal."""
  directory = tmp_path_factory.mktemp("run")
  settings = _settings(tiny_models, corpus[0] / "*", directory / "out", min_batch_size=1, max_batch_size=16)
  handler = RecordingHandler(directory / "batches.jsonl", encoder=settings.encoder,
                             preprocessor=settings.preprocessor, output_key="pooled_output", seq_length=128,
                             min_batch_size=1, max_batch_size=16)
  with every_update_reported() as lines:
    counters = embed_corpus(settings, handler=handler)
  batches = [json.loads(line) for line in (directory / "batches.jsonl").read_text().splitlines()]
  return _read(directory / "out"), batches, counters, lines


@pytest.fixture(scope="module")
def in_process_run(in_process_run_with_log):
  """(rows, batches, counters) of the one run; shared by the tests below."""
  return in_process_run_with_log[:3]


def test_embedding_reports_documents_done_rate_and_time_left(in_process_run_with_log, corpus):
  found = reports(in_process_run_with_log[3])
  documents = len(corpus[1])
  assert list(found) == ["embed"] and {total for _, total in found["embed"]} == {documents}
  assert sorted({done for done, _ in found["embed"]}) == list(range(1, documents + 1))


def test_one_row_per_document_with_stable_unique_ids(in_process_run, corpus, tiny_models):
  rows, _, counters = in_process_run
  _, expected = corpus
  assert dict(zip(rows["id"], rows["text"])) == expected
  assert len(rows["id"]) == len(expected) == counters["documents"]
  assert counters["skipped_empty"] == 2
  assert set(rows["model"]) == {str(tiny_models[0])}
  assert all(len(e) == 512 for e in rows["embedding"])


def test_embeddings_equal_the_savedmodels_called_on_the_same_batches(in_process_run, direct):
  rows, batches, _ = in_process_run
  by_text = {}
  for batch in batches:
    for text, vector in zip(batch, direct(batch)):
      by_text.setdefault(text, []).append(vector)
  assert sum(len(b) for b in batches) == len(rows["id"])
  assert len({len(b) for b in batches}) > 1 or len(batches) == 1
  for text, got in zip(rows["text"], rows["embedding"]):
    assert min(np.abs(np.asarray(got) - want).max() for want in by_text[text]) <= 1e-6


@pytest.mark.parametrize("batch_size", [1, 13])
def test_embeddings_match_other_batchings(in_process_run, direct, batch_size):
  rows, _, _ = in_process_run
  texts, got = rows["text"], np.asarray(rows["embedding"])
  want = np.concatenate([direct(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)])
  relative = np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)
  assert relative.max() <= 1e-5


def test_portable_runner_gives_the_same_output(in_process_run, tiny_models, corpus, tmp_path):
  settings = _settings(tiny_models, corpus[0] / "*", tmp_path / "out", min_batch_size=1, max_batch_size=16)
  embed_corpus(settings, ["--runner=PortableRunner", "--job_endpoint=embed"])
  rows, portable = in_process_run[0], _read(tmp_path / "out")
  assert portable["id"] == rows["id"] and portable["text"] == rows["text"]
  # BatchElements sizes batches from timings, so on a busy machine a row may be computed in a batch of
  # another size than in the first run, which changes its last float bits (as in the batching test above).
  got, want = np.asarray(portable["embedding"]), np.asarray(rows["embedding"])
  assert (np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)).max() <= 1e-5


def test_faulty_lines_are_skipped_and_counted_and_a_megabyte_line_is_embedded(tiny_models, direct, tmp_path):
  big = " ".join(WORDS[i % len(WORDS)] for i in range(300_000))  # over a megabyte
  assert len(big) > 1_000_000
  (tmp_path / "faults.txt").write_bytes(b"w1 w2\n\n \t \nw3 \xff\xfe w4\n" + big.encode() + b"\nw6\r\n")
  counters = embed_corpus(_settings(tiny_models, tmp_path / "faults.txt", tmp_path / "out"))
  rows = _read(tmp_path / "out")
  path = tmp_path / "faults.txt"
  assert rows["id"] == sorted([f"{path}:1", f"{path}:5", f"{path}:6"])
  assert (counters["documents"], counters["skipped_empty"], counters["skipped_invalid_utf8"]) == (3, 2, 1)
  by_id = dict(zip(rows["id"], rows["embedding"]))
  assert rows["text"][rows["id"].index(f"{path}:6")] == "w6"  # the \r of a CRLF line is not text
  want = direct([big, "w1 w2", "w6"])
  got = np.asarray([by_id[f"{path}:{n}"] for n in (5, 1, 6)])
  assert (np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)).max() <= 1e-5


def _cli(*argv):
  from hub_export.embed_corpus import _main
  from hub_export.support import cli

  return cli.run(_main, [str(a) for a in argv])


def test_jsonl_row_without_text_is_one_error_naming_file_and_line(tiny_models, tmp_path, capsys):
  bad = tmp_path / "bad.jsonl"
  bad.write_text('{"id": 1, "text": "w1"}\n{"id": 2, "txt": "w2"}\n', encoding="utf-8")
  code = _cli("--encoder", tiny_models[0], "--preprocessor", tiny_models[1], "--input", bad,
              "--output", tmp_path / "out")
  errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
  assert code == 2
  assert errors == [f'error: {bad}:2: JSONL row has no "text" field (fields: id, txt)']
  assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]  # no output, no temporaries


def test_output_that_is_not_one_vector_a_document_is_one_error(tiny_models, corpus, tmp_path, capsys):
  code = _cli("--encoder", tiny_models[0], "--preprocessor", tiny_models[1], "--input", corpus[0] / "b.txt",
              "--output", tmp_path / "out", "--output_key", "sequence_output")
  assert code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == (
      "error: encoder output 'sequence_output' is 2-D per document; choose one vector a document, "
      "such as pooled_output")
  assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag", ["--encoder", "--preprocessor"])
def test_missing_model_fails_before_the_pipeline_starts(tiny_models, corpus, tmp_path, capsys, monkeypatch, flag):
  monkeypatch.setattr(pipeline, "_run", lambda *a: pytest.fail("the pipeline was started"))
  models = {"--encoder": tiny_models[0], "--preprocessor": tiny_models[1], flag: tmp_path / "missing"}
  code = _cli(*[x for kv in models.items() for x in kv], "--input", corpus[0] / "*", "--output", tmp_path / "out")
  assert code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == (
      f"error: {flag} {tmp_path / 'missing'} does not exist: expected a SavedModel directory or a hub URL")


def test_input_matching_nothing_fails_before_the_pipeline_starts(tiny_models, tmp_path, capsys, monkeypatch):
  monkeypatch.setattr(pipeline, "_run", lambda *a: pytest.fail("the pipeline was started"))
  code = _cli("--encoder", tiny_models[0], "--preprocessor", tiny_models[1], "--input", tmp_path / "*.txt",
              "--output", tmp_path / "out")
  assert code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: --input {tmp_path / '*.txt'} matches no file"


def _unreadable_input(directory, kind):
  """(the --input path, the file it matches that cannot be read) for each kind."""
  if kind == "directory":
    (directory / "texts").mkdir()
    (directory / "texts" / "a.txt").write_text("w1\n", encoding="utf-8")
    return directory / "texts", directory / "texts"
  if kind == "socket":  # a file nobody can open, root included
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
      sock.bind(str(directory / "b.txt"))
  else:
    if os.geteuid() == 0:
      pytest.skip("root reads a file without read permission")
    (directory / "b.txt").write_text("w1\n", encoding="utf-8")
    (directory / "b.txt").chmod(0)
  (directory / "a.txt").write_text("w1\n", encoding="utf-8")
  return directory / "*.txt", directory / "b.txt"


@pytest.mark.parametrize("kind,reason", [
    ("directory", "is a directory; pass a pattern for its files, such as {path}/*"),
    ("socket", "cannot be read: No such device or address"),
    ("no permission", "cannot be read: Permission denied"),
], ids=["directory", "socket", "no-permission"])
def test_input_that_cannot_be_read_fails_before_the_pipeline_starts(tmp_path, capsys, monkeypatch, kind, reason):
  monkeypatch.setattr(pipeline, "_run", lambda *a: pytest.fail("the pipeline was started"))
  for model in ("encoder", "preprocessor"):  # only their saved_model.pb is looked for before the pipeline
    (tmp_path / model).mkdir()
    (tmp_path / model / "saved_model.pb").write_bytes(b"")
  (tmp_path / "corpus").mkdir()
  pattern, path = _unreadable_input(tmp_path / "corpus", kind)
  code = _cli("--encoder", tmp_path / "encoder", "--preprocessor", tmp_path / "preprocessor", "--input", pattern,
              "--output", tmp_path / "out")
  assert code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: --input {path} {reason.format(path=path)}"
  assert not (tmp_path / "out").exists()


def test_killed_run_leaves_no_output_and_a_rerun_is_complete(tiny_models, tmp_path, capsys):
  corpus = tmp_path / "corpus.txt"
  corpus.write_text("".join(f"w{i % 50} w{i % 7}\n" for i in range(300)), encoding="utf-8")
  output = tmp_path / "out"
  arguments = ["--encoder", tiny_models[0], "--preprocessor", tiny_models[1], "--input", corpus, "--output", output,
               "--no_text"]
  # Batches of one keep the run going long enough to be killed in the middle.
  proc = subprocess.Popen([sys.executable, "-m", "hub_export.embed_corpus", *map(str, arguments), "--min_batch_size",
                           "1", "--max_batch_size", "1"], env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + 240
  # Armed by the first shard the worker opens: by then embeddings are being written.
  while not any(p.is_file() and p.suffix == ".parquet" for p in tmp_path.glob(".out.tmp-*/**/*")):
    assert proc.poll() is None, "the run ended before it could be killed"
    assert time.monotonic() < deadline, "no shard was opened in time"
    time.sleep(0.02)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert not output.exists() and list(tmp_path.glob(".out.tmp-*"))  # killed with partial shards
  assert _cli(*arguments) == 0, capsys.readouterr().err[-2000:]
  rows = _read(output)
  assert list(rows) == ["id", "embedding", "model"]
  assert rows["id"] == sorted(f"{corpus}:{n}" for n in range(1, 301))
  assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "out"]  # stale temporary removed


def test_dataflow_dry_run_builds_the_job_graph(tiny_models, corpus, tmp_path, caplog):
  import apache_beam as beam

  options = ["--runner=DataflowRunner", "--dry_run=True", "--project=my-project-123", "--region=us-central1",
             "--temp_location=gs://my-bucket/tmp", "--sdk_container_image=gcr.io/my-project-123/embed:1"]
  settings = _settings(tiny_models, corpus[0] / "*", "gs://my-bucket/embeddings")
  with caplog.at_level("INFO", logger="hub_export"):
    assert embed_corpus(settings, options) == {}
  assert "dry run: job graph built for DataflowRunner" in caplog.text
  job_graph = beam.Pipeline(options=pipeline.pipeline_options(options))
  pipeline.build(job_graph, settings, "gs://my-bucket/embeddings/embeddings")
  job = job_graph.run().job.proto
  assert job.type_.name == "JOB_TYPE_BATCH"
  names = {t.unique_name for t in job_graph.to_runner_api().components.transforms.values()}
  assert {"ReadDocuments", "Spread", "Embed", "WriteParquet"} <= names


def test_remote_publish_replaces_old_shards_and_marks_success(tmp_path):
  target, staging = tmp_path / "out", tmp_path / "out" / ".staging-1"
  staging.mkdir(parents=True)
  for name in ("embeddings-00000-of-00002.parquet", "embeddings-00001-of-00002.parquet", "_SUCCESS"):
    (target / name).write_text("old")
  (staging / "embeddings-00000-of-00001.parquet").write_text("new")
  pipeline._publish_remote(str(staging), str(target))
  assert sorted(p.name for p in target.iterdir()) == ["_SUCCESS", "embeddings-00000-of-00001.parquet"]
  assert (target / "embeddings-00000-of-00001.parquet").read_text() == "new"


@pytest.mark.slow
def test_full_size_model_gives_the_savedmodels_numbers(demo_run, tmp_path):
  """The full 24-layer OPT architecture (the demo's seeded checkpoint and exports, demo vocab) on real English lines."""
  export = demo_run[0] / "demo_out" / "export"
  models = export / "encoder", export / "preprocessor"
  lines = (SUPPORT / "corpus" / "english.txt").read_text(encoding="utf-8").splitlines()[:24]
  (tmp_path / "corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
  settings = _settings(models, tmp_path / "corpus.txt", tmp_path / "out", min_batch_size=1, max_batch_size=16)
  handler = RecordingHandler(tmp_path / "batches.jsonl", encoder=settings.encoder, preprocessor=settings.preprocessor,
                             output_key="pooled_output", seq_length=128, min_batch_size=1, max_batch_size=16)
  embed_corpus(settings, handler=handler)
  rows, direct = _read(tmp_path / "out"), _direct_embedder(models)
  assert rows["id"] == sorted(f"{tmp_path / 'corpus.txt'}:{n}" for n in range(1, 25))
  got = dict(zip(rows["text"], np.asarray(rows["embedding"])))
  for line in (tmp_path / "batches.jsonl").read_text().splitlines():
    batch = json.loads(line)
    assert np.abs(np.asarray([got[t] for t in batch]) - direct(batch)).max() <= 1e-6
  want = np.concatenate([direct(lines[i:i + 16]) for i in range(0, 24, 16)])
  mine = np.asarray([got[t] for t in lines])
  assert (np.linalg.norm(mine - want, axis=1) / np.linalg.norm(want, axis=1)).max() <= 1e-5
