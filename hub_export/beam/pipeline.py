"""The corpus-embedding pipeline: match files -> documents -> RunInference -> Parquet shards.

Reading is split by file (one file is one unit of reading work); a Reshuffle then spreads
the documents over all workers before inference, which is where the time goes. Each worker
process reports the documents it embedded against the corpus's count (`hub_export.support.progress`). Output is
a folder of shards `embeddings-SSSSS-of-NNNNN.parquet`. A local folder is written through
`atomic_directory` (shards go into a temporary beside it, renamed into place when the
pipeline has finished), so a run killed at any point leaves no output, or the previous
one, and a rerun writes all of it afresh. A folder on a remote filesystem (`gs://`) has no
atomic rename: shards are staged in `OUTPUT/.staging-RUN/`, the previous shards removed and
the new ones moved up only after the pipeline succeeded, and `_SUCCESS` is written last.
"""

import collections
import dataclasses
import logging
import os
import re
import uuid

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import WriteToParquet
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions, PortableOptions, StandardOptions, TestOptions

from hub_export.beam import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MIN_BATCH_SIZE
from hub_export.beam.handler import METRICS_NAMESPACE, TextEmbeddingHandler
from hub_export.beam.io import (CorpusError, SKIPPED_EMPTY, SKIPPED_INVALID_UTF8, check_readable, parquet_row,
                                parquet_schema, read_documents, resolve_format)
from hub_export.support.atomic import atomic_directory
from hub_export.support.errors import HubExportError
from hub_export.support.filenames import SAVED_MODEL_NAME
from hub_export.support.log import LOG
from hub_export.support.progress import progress

SHARD_NAME = "embeddings"
SHARD_SUFFIX = ".parquet"
SUCCESS_MARKER = "_SUCCESS"
# What an output folder holds: the files `embed_corpus --overwrite` may replace.
OUTPUT_FILES = (f"{SHARD_NAME}-*{SHARD_SUFFIX}", SUCCESS_MARKER)
DEFAULT_RUNNER = "FnApiRunner"  # in-process; the DirectRunner first tries to download Prism
DOCUMENTS = "documents"
_SKIP_WARNINGS_PER_FILE = 3
_URL_SCHEMES = ("http://", "https://")
# How a worker's CorpusError appears inside the text of a failed job (portable runners).
_WORKER_ERROR = re.compile(r"CorpusError: (.+?)(?: \[while running .*)?$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class EmbedSettings:
  """What to embed and how; everything except Beam's own pipeline options."""

  encoder: str
  preprocessor: str
  input: str
  output: str
  output_key: str = "pooled_output"
  seq_length: int = 128
  input_format: str = "auto"
  with_text: bool = True
  min_batch_size: int = DEFAULT_MIN_BATCH_SIZE
  max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
  num_shards: int = 0

  def handler(self) -> TextEmbeddingHandler:
    return TextEmbeddingHandler(self.encoder, self.preprocessor, self.output_key, self.seq_length,
                                self.min_batch_size, self.max_batch_size)


class ReadDocuments(beam.DoFn):
  """A matched file -> (id, text) documents; skipped lines are counted and the first few logged."""

  def __init__(self, input_format: str):
    self._format = input_format
    self._documents = Metrics.counter(METRICS_NAMESPACE, DOCUMENTS)
    self._skipped = {reason: Metrics.counter(METRICS_NAMESPACE, reason)
                     for reason in (SKIPPED_EMPTY, SKIPPED_INVALID_UTF8)}

  def process(self, readable_file):
    path = readable_file.metadata.path
    warned = collections.Counter()

    def on_skip(reason, number):
      self._skipped[reason].inc()
      warned[reason] += 1
      if warned[reason] <= _SKIP_WARNINGS_PER_FILE:
        LOG.warning("skipped %s:%d (%s)", path, number, reason.removeprefix("skipped_").replace("_", " "))

    with readable_file.open() as f:
      for document in read_documents(path, iter(f.readline, b""), resolve_format(path, self._format), on_skip):
        self._documents.inc()
        yield document


class ToRows(beam.DoFn):
  """Embedded documents -> Parquet rows; reports this worker's progress against the corpus's document count."""

  def __init__(self, model: str, with_text: bool):
    self._model, self._with_text = model, with_text

  def setup(self):
    self._progress = None

  def process(self, keyed_result, total: int):
    if self._progress is None:
      self._progress = progress(total, "embed", unit="document")
    doc_id, result = keyed_result
    yield parquet_row(doc_id, result.example, result.inference, self._model, self._with_text)
    self._progress.update()
    if self._progress.n >= total:
      self._progress.close()  # this worker embedded the whole corpus: its last report now, not at teardown

  def teardown(self):
    if self._progress is not None:
      self._progress.close()


def build(pipeline, settings: EmbedSettings, shard_prefix: str, handler=None):
  """Adds the whole job to `pipeline`, writing shards named `shard_prefix-SSSSS-of-NNNNN.parquet`."""
  documents = (pipeline
               | "MatchInput" >> fileio.MatchFiles(settings.input)
               | "OpenFiles" >> fileio.ReadMatches()
               | "ReadDocuments" >> beam.ParDo(ReadDocuments(settings.input_format)))
  total = documents | "CountDocuments" >> beam.combiners.Count.Globally()
  return (documents
          | "Spread" >> beam.Reshuffle()
          | "Embed" >> RunInference(KeyedModelHandler(handler or settings.handler()))
          | "ToRows" >> beam.ParDo(ToRows(_absolute(settings.encoder), settings.with_text),
                                   total=beam.pvalue.AsSingleton(total))
          | "WriteParquet" >> WriteToParquet(shard_prefix, parquet_schema(settings.with_text),
                                             file_name_suffix=SHARD_SUFFIX, num_shards=settings.num_shards))


def _is_remote(path: str) -> bool:
  return "://" in path


def _absolute(handle: str) -> str:
  return handle if _is_remote(handle) else os.path.abspath(handle)


def pipeline_options(beam_args) -> PipelineOptions:
  """Beam's options; by default the in-process runner, and a local job endpoint runs workers in this process."""
  options = PipelineOptions(list(beam_args))
  if options.view_as(StandardOptions).runner is None:
    options.view_as(StandardOptions).runner = DEFAULT_RUNNER
  portable = options.view_as(PortableOptions)
  if portable.job_endpoint == "embed" and portable.environment_type is None:
    portable.environment_type = "LOOPBACK"  # Beam's default, DOCKER, needs a container image and a daemon
  return options


def check_inputs(settings: EmbedSettings) -> list:
  """Fails before any pipeline starts on a missing model, an input that matches nothing or a local input file that
  cannot be read."""
  for flag, handle in (("--encoder", settings.encoder), ("--preprocessor", settings.preprocessor)):
    if handle.startswith(_URL_SCHEMES):
      continue  # a hub URL: resolved (downloaded) by each worker
    if not FileSystems.exists(FileSystems.join(handle, SAVED_MODEL_NAME)):
      what = "has no saved_model.pb" if FileSystems.exists(handle) else "does not exist"
      raise HubExportError(f"{flag} {handle} {what}: expected a SavedModel directory or a hub URL")
  try:
    files = FileSystems.match([settings.input])[0].metadata_list
  except BeamIOError as e:
    raise HubExportError(f"--input {settings.input} cannot be listed: {e}") from None
  if not files:
    raise HubExportError(f"--input {settings.input} matches no file")
  for metadata in files:
    if not _is_remote(metadata.path):
      check_readable(metadata.path)
  return files


class _HideCorpusErrorReports(logging.Filter):
  """Drops Beam's own reports of a worker's CorpusError: the command prints it as one line."""

  def filter(self, record: logging.LogRecord) -> bool:
    if not record.name.startswith("apache_beam"):
      return True
    exception = record.exc_info[1] if record.exc_info else None
    while exception is not None:
      if isinstance(exception, CorpusError) or "CorpusError: " in str(exception):
        return False
      exception = exception.__cause__ or exception.__context__
    return "CorpusError: " not in record.getMessage()


def quiet_beam_logging() -> None:
  """Beam's progress chatter off (warnings stay), and no tracebacks for input faults."""
  logging.getLogger("apache_beam").setLevel(logging.WARNING)
  for handler in logging.getLogger().handlers:
    handler.addFilter(_HideCorpusErrorReports())


def worker_failure(error: Exception) -> Exception:
  """A worker's CorpusError as one clean error; anything else (a bug) unchanged."""
  if isinstance(error, CorpusError):
    return CorpusError(str(error).split(" [while running ")[0])
  found = _WORKER_ERROR.findall(str(error))
  return CorpusError(found[-1]) if found else error


def _run(options, settings: EmbedSettings, shard_prefix: str, handler) -> dict:
  """Runs the job to completion; returns its counters (documents and skips)."""
  pipeline = beam.Pipeline(options=options)
  build(pipeline, settings, shard_prefix, handler)
  try:
    result = pipeline.run()
    result.wait_until_finish()
  except Exception as e:  # noqa: BLE001 (only CorpusErrors are rewritten; the rest re-raised as is)
    raise worker_failure(e) from None
  counters = collections.Counter()
  for counter in result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))["counters"]:
    counters[counter.key.metric.name] += counter.committed or counter.attempted or 0
  return counters


def _publish_remote(staging: str, target: str) -> None:
  """Replaces target's shards by the staged ones, then writes the success marker."""
  old = [m.path for m in FileSystems.match([FileSystems.join(target, f"{SHARD_NAME}-*")])[0].metadata_list]
  FileSystems.delete(old + [p for p in [FileSystems.join(target, SUCCESS_MARKER)] if FileSystems.exists(p)])
  staged = [m.path for m in FileSystems.match([FileSystems.join(staging, f"{SHARD_NAME}-*")])[0].metadata_list]
  FileSystems.rename(staged, [FileSystems.join(target, p.rsplit("/", 1)[-1]) for p in staged])
  FileSystems.delete([staging])
  with FileSystems.create(FileSystems.join(target, SUCCESS_MARKER)) as f:
    f.write(b"")


def _run_remote(options, settings: EmbedSettings, overwrite: bool, handler) -> dict:
  target = settings.output.rstrip("/")
  existing = FileSystems.match([FileSystems.join(target, "*")])[0].metadata_list
  if existing and not overwrite:
    raise HubExportError(f"output {target} is not empty; pass --overwrite to replace it")
  staging = FileSystems.join(target, f".staging-{uuid.uuid4().hex}")
  counters = _run(options, settings, FileSystems.join(staging, SHARD_NAME), handler)
  _publish_remote(staging, target)
  return counters


def embed_corpus(settings: EmbedSettings, beam_args=(), overwrite: bool = False, handler=None) -> dict:
  """Runs the whole job; returns the counters. Raises HubExportError on bad input."""
  files = check_inputs(settings)
  options = pipeline_options(beam_args)
  if options.view_as(TestOptions).dry_run:
    pipeline = beam.Pipeline(options=options)
    build(pipeline, settings, FileSystems.join(settings.output, SHARD_NAME), handler)
    pipeline.run()
    LOG.info("dry run: job graph built for %s, nothing run or written", options.view_as(StandardOptions).runner)
    return {}
  if _is_remote(settings.output):
    counters = _run_remote(options, settings, overwrite, handler)
  else:
    with atomic_directory(settings.output, overwrite, ours=OUTPUT_FILES) as tmp:
      counters = _run(options, settings, str(tmp / SHARD_NAME), handler)
  LOG.info("embedded %d documents from %d file(s) into %s; skipped %d empty and %d invalid-UTF-8 lines",
           counters[DOCUMENTS], len(files), settings.output, counters[SKIPPED_EMPTY],
           counters[SKIPPED_INVALID_UTF8])
  return counters
