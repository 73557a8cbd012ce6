"""The pre-training-data pipeline: `distillation/scheme.py` on Apache Beam, byte for byte the in-process records.

A file is one unit of reading; per-file document counts number the documents in corpus order; a block of
documents is one unit of tokenizing and masking; each shard's records are grouped on one worker, put in the
scheme's order and written with TensorFlow's TFRecord writer (shards no document falls into are written empty);
the metadata is written last, from the shards' summaries. The command publishes the folder atomically.
"""

import apache_beam as beam
from apache_beam.io.filesystem import BeamIOError, CompressionTypes
from apache_beam.io.filesystems import FileSystems

from hub_export.beam.io import CorpusError
from hub_export.beam.pipeline import pipeline_options, worker_failure
from hub_export.distillation import records, scheme
from hub_export.support.errors import HubExportError
from hub_export.support.log import LOG


def match_remote(pattern: str) -> list:
  """The files a remote (gs://) pattern matches."""
  try:
    return [metadata.path for metadata in FileSystems.match([pattern])[0].metadata_list]
  except BeamIOError as e:
    raise HubExportError(f"--input {pattern} cannot be listed: {e}") from None


class ReadFile(beam.DoFn):
  """(file index, path) -> (file index, document index in the file, [sentence, ...])."""

  def process(self, indexed_path):
    file_index, path = indexed_path
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
      data = f.read()
    try:
      documents = scheme.split_documents(path, data)
    except HubExportError as e:
      raise CorpusError(str(e)) from None
    for index, document in enumerate(documents):
      yield file_index, index, document


def _offsets(counts: list) -> tuple:
  """({file index: number of its first document}, documents in the corpus) from [(file index, documents)]."""
  offsets, total = {}, 0
  for file_index, count in sorted(counts):
    offsets[file_index], total = total, total + count
  return offsets, total


def _numbered(document, offsets):
  """(block, (document number, sentences))."""
  file_index, index, sentences = document
  number = offsets[0][file_index] + index
  return scheme.block_of(number, offsets[1]), (number, sentences)


class BuildRecords(beam.DoFn):
  """A block of documents -> (shard, (key, serialized record)) for each instance."""

  def __init__(self, settings, vocab, lower_case):
    self._args = (settings, vocab, lower_case)

  def setup(self):
    self._builder = scheme.RecordBuilder(*self._args)

  def process(self, keyed_block):
    for shard, key, record in self._builder.block_records(list(keyed_block[1])):
      yield shard, (key, record)


def _write_shard(grouped, directory: str, num_shards: int) -> dict:
  shard, values = grouped
  keyed = [value for value in values if value is not None]  # None: the marker that makes empty shards exist
  return records.write_shard(directory, scheme.shard_names(num_shards)[shard], scheme.in_order(keyed))


def _write_metadata(directory: str, shards: list, offsets: tuple, settings, vocab, lower_case) -> None:
  data = scheme.metadata(settings, vocab, lower_case, shards, offsets[1])
  with FileSystems.create(FileSystems.join(directory, records.METADATA_NAME)) as f:
    f.write(scheme.metadata_bytes(data))


def build(pipeline, paths: list, directory: str, settings, vocab, lower_case: bool) -> None:
  """Adds the whole job to `pipeline`: shards and metadata into `directory`."""
  documents = (pipeline
               | "ListFiles" >> beam.Create(list(enumerate(paths)))
               | "ReadDocuments" >> beam.ParDo(ReadFile()))
  offsets = (documents
             | "FileOf" >> beam.Map(lambda document: document[0])
             | "CountPerFile" >> beam.combiners.Count.PerElement()
             | "AllCounts" >> beam.combiners.ToList()
             | "Offsets" >> beam.Map(_offsets))
  keyed = (documents
           | "Number" >> beam.Map(_numbered, offsets=beam.pvalue.AsSingleton(offsets))
           | "GroupBlocks" >> beam.GroupByKey()
           | "BuildRecords" >> beam.ParDo(BuildRecords(settings, vocab, lower_case)))
  markers = pipeline | "EveryShard" >> beam.Create([(shard, None) for shard in range(settings.num_shards)])
  shards = ((keyed, markers)
            | "WithMarkers" >> beam.Flatten()
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.Map(_write_shard, directory, settings.num_shards))
  _ = (pipeline
       | "MetadataTarget" >> beam.Create([directory])
       | "WriteMetadata" >> beam.Map(_write_metadata, beam.pvalue.AsList(shards), beam.pvalue.AsSingleton(offsets),
                                     settings, vocab, lower_case))


def is_dry_run(beam_args) -> bool:
  from apache_beam.options.pipeline_options import PipelineOptions, TestOptions

  return bool(PipelineOptions(list(beam_args)).view_as(TestOptions).dry_run)


def run(paths: list, directory: str, settings, vocab, lower_case: bool, beam_args) -> bool:
  """Runs the job to completion, or only builds its graph under --dry_run (returns False: nothing written)."""
  from apache_beam.options.pipeline_options import StandardOptions, TestOptions

  options = pipeline_options(beam_args)
  dry_run = options.view_as(TestOptions).dry_run
  if dry_run and options.view_as(StandardOptions).runner != "DataflowRunner":
    raise HubExportError("--dry_run=True only builds a graph with --runner DataflowRunner (other runners would "
                         "run the job)")
  pipeline = beam.Pipeline(options=options)
  build(pipeline, paths, directory, settings, vocab, lower_case)
  try:
    result = pipeline.run()
    if dry_run:
      LOG.info("dry run: job graph built for %s, nothing run or written", options.view_as(StandardOptions).runner)
      return False
    result.wait_until_finish()
  except Exception as e:  # noqa: BLE001 (only CorpusErrors are rewritten; the rest re-raised as is)
    raise worker_failure(e) from None
  return True
