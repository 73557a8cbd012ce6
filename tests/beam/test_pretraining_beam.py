"""pretraining_data on Apache Beam: byte-identical with the in-process path, the Dataflow graph, bad inputs."""

import re

import pytest

from hub_export.distillation import scheme
from support.tokenization_test_data import build_test_vocab, corpus

SEED, SHARDS, DUPES = 5, 3, 2
BLOCK = 4  # documents a block here, so the small corpus spans several blocks and a remainder


def _run(*argv):
  from hub_export.pretraining_data import _main
  from hub_export.support import cli

  return cli.run(_main, [str(a) for a in argv])


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
  """200 sentences of the English test corpus as three files of documents (four sentences each, one of one
  sentence), and a vocab."""
  root = tmp_path_factory.mktemp("beam_corpus")
  lines = [s for line in corpus("english") for s in re.split(r"(?<=[.?!;])\s+", line.strip()) if s.strip()][:200]
  documents = [lines[i:i + 4] for i in range(0, len(lines), 4)] + [["A document of one sentence."]]
  (root / "texts").mkdir()
  for index, part in enumerate((documents[:5], documents[5:36], documents[36:])):
    (root / "texts" / f"part-{index}.txt").write_text("\n\n".join("\n".join(d) for d in part) + "\n",
                                                      encoding="utf-8")
  (root / "vocab.txt").write_text("".join(f"{t}\n" for t in build_test_vocab(lines, lower_case=True)),
                                  encoding="utf-8")
  return root, len(documents)


def _arguments(root, out, *extra):
  # part-1.txt twice (a pattern and a path): read once; the patterns in an order other than the corpus order
  return ("--vocab", root / "vocab.txt", "--input", root / "texts" / "part-[12].txt", root / "texts" / "part-0.txt",
          root / "texts" / "part-1.txt", "--out", out, "--seq_length", 48, "--max_predictions", 6,
          "--num_shards", SHARDS, "--dupe_factor", DUPES, "--seed", SEED, "--lower_case", "true", *extra)


@pytest.fixture(scope="module")
def outputs(corpus_dir, tmp_path_factory):
  """One in-process run and one DirectRunner run of the same corpus and seed."""
  from hub_export import pretraining_data

  root = tmp_path_factory.mktemp("beam_runs")
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(scheme, "BLOCK_DOCUMENTS", BLOCK)  # the in-process runner's workers share this module
    assert _run(*_arguments(corpus_dir[0], root / "local")) == 0
    patch.setattr(pretraining_data, "_write_in_process", lambda *a: pytest.fail("not run on Beam"))
    assert _run(*_arguments(corpus_dir[0], root / "beam", "--runner", "DirectRunner")) == 0
  return root / "local", root / "beam"


def test_beam_output_is_byte_identical_to_the_in_process_output(outputs, corpus_dir):
  import json

  local, beam = outputs
  names = sorted(p.name for p in local.iterdir())
  assert names == sorted(p.name for p in beam.iterdir())
  assert names == [*scheme.shard_names(SHARDS), "pretraining_data.json"]
  for name in names:
    assert (local / name).read_bytes() == (beam / name).read_bytes(), name
  metadata = json.loads((beam / "pretraining_data.json").read_text())
  assert metadata["documents"] == corpus_dir[1] and metadata["dupe_factor"] == DUPES
  assert all(shard["examples"] > 0 for shard in metadata["shards"]), metadata["shards"]
  assert metadata["examples"] == sum(shard["examples"] for shard in metadata["shards"]) > 2 * corpus_dir[1]


def test_records_are_in_document_order_with_random_next_from_the_block():
  """Without Beam: keys run (pass, document, instance) over the given numbers; blocks take their remainder."""
  from hub_export.distillation.instances import MaskingOptions, SpecialIds, create_instances

  documents = [[[1000 * (d + 1) + 10 * s + t for t in range(3)] for s in range(8)] for d in range(6)]
  keyed = create_instances(documents, 24, SpecialIds(1, 2, 3, 50000), MaskingOptions(max_predictions=3), seed=1,
                           dupe_factor=2, short_seq_prob=0, numbers=[10, 11, 12, 13, 14, 15])
  keys = [key for key, _ in keyed]
  assert keys == sorted(keys) and {k[0] for k in keys} == {0, 1} and {k[1] for k in keys} == set(range(10, 16))
  assert any(i.is_random_next for _, i in keyed)
  assert [scheme.block_of(n, 2500) for n in (0, 999, 1000, 1999, 2000, 2499)] == [0, 0, 1, 1, 1, 1]
  assert scheme.block_of(5, 6) == 0


def test_dataflow_dry_run_builds_the_graph_offline_and_writes_nothing(corpus_dir, tmp_path, caplog):
  import apache_beam as beam

  from hub_export.beam import pretraining
  from hub_export.beam.pipeline import pipeline_options
  from hub_export.tokenization.vocab import load_vocab

  options = ["--runner", "DataflowRunner", "--dry_run=True", "--project=my-project-123", "--region=us-central1",
             "--temp_location=gs://my-bucket/tmp"]
  with caplog.at_level("INFO", logger="hub_export"):
    assert _run(*_arguments(corpus_dir[0], "gs://my-bucket/data", *options)) == 0
  assert "dry run: job graph built for DataflowRunner" in caplog.text
  graph = beam.Pipeline(options=pipeline_options([options[0] + "=" + options[1], *options[2:]]))
  pretraining.build(graph, ["gs://my-bucket/a.txt"], "gs://my-bucket/data", scheme.Settings(),
                    load_vocab(corpus_dir[0] / "vocab.txt"), True)
  assert graph.run().job.proto.type_.name == "JOB_TYPE_BATCH"
  names = {t.unique_name for t in graph.to_runner_api().components.transforms.values()}
  assert {"ReadDocuments", "GroupBlocks", "BuildRecords", "WriteShards", "WriteMetadata"} <= names
  assert list(tmp_path.iterdir()) == []


def _bad_input(directory, kind):
  """(the --input pattern, the expected error line)."""
  if kind == "no match":
    return directory / "none-*.txt", f"error: --input {directory}/none-*.txt matches no file"
  if kind == "directory":
    (directory / "texts").mkdir()
    return directory / "texts", (f"error: --input {directory}/texts is a directory; pass a pattern for its files, "
                                 f"such as {directory}/texts/*")
  if kind == "socket":  # a file nobody can open, root included
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
      sock.bind(str(directory / "b.txt"))
    return directory / "*.txt", f"error: --input {directory}/b.txt cannot be read: No such device or address"
  if kind == "empty":
    (directory / "a.txt").write_text("\n  \n", encoding="utf-8")
    return directory / "*.txt", f"error: no text in {directory}/*.txt"
  (directory / "a.txt").write_bytes(b"A sentence here.\n\xff\n")
  return directory / "*.txt", f"error: input {directory}/a.txt is not UTF-8 (byte 17)"


@pytest.mark.parametrize("kind", ["no match", "directory", "socket", "empty", "not utf-8"])
@pytest.mark.parametrize("runner", [[], ["--runner", "DirectRunner"]], ids=["in-process", "beam"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(corpus_dir, tmp_path, capsys, kind, runner):
  (tmp_path / "in").mkdir()
  pattern, line = _bad_input(tmp_path / "in", kind)
  code = _run("--vocab", corpus_dir[0] / "vocab.txt", "--input", pattern, "--out", tmp_path / "out",
              "--lower_case", "true", *runner)
  assert code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == line
  assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no output, no temporary
