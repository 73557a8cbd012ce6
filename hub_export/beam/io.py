"""A corpus file as (id, text) documents, and the Parquet row each embedding becomes.

Text files hold one document a line; its id is `PATH:LINE` (1-based), stable across runs
and unique even where lines repeat. JSONL files hold one object a line with a string
`text` and optionally an `id` (string or integer; `PATH:LINE` when absent). Lines that
cannot be a document are skipped and counted (empty or whitespace-only text, bytes that
are not UTF-8); a JSONL line that is not an object with a string `text`, or that repeats
an id of its file, stops the run with a `CorpusError` naming the file and the line.
"""

import json
import os
from typing import Callable, Iterable, Iterator, Tuple

from hub_export.support.errors import HubExportError

TEXT = "text"
JSONL = "jsonl"
FORMATS = ("auto", TEXT, JSONL)
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".deflate", ".zst", ".lzma")

# Reasons a line is skipped; also the names of the counters that count them.
SKIPPED_EMPTY = "skipped_empty"
SKIPPED_INVALID_UTF8 = "skipped_invalid_utf8"

ID, TEXT_COLUMN, EMBEDDING, MODEL = "id", "text", "embedding", "model"


class CorpusError(HubExportError):
  """A fault in the corpus that stops the run; the message starts with `PATH:LINE:`."""


def resolve_format(path: str, requested: str) -> str:
  """`text` or `jsonl`: as requested, or by the file name's suffix for `auto`."""
  if requested != "auto":
    return requested
  name = path.lower()
  for suffix in _COMPRESSION_SUFFIXES:
    name = name.removesuffix(suffix)
  return JSONL if name.endswith(_JSONL_SUFFIXES) else TEXT


def check_readable(path: str) -> None:
  """Refuses a local corpus file the pipeline could not open (a directory, no permission), naming it."""
  if os.path.isdir(path):
    raise HubExportError(f"--input {path} is a directory; pass a pattern for its files, such as {path}/*")
  try:
    os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))  # non-blocking: a FIFO does not wait for a writer here
  except OSError as e:
    raise HubExportError(f"--input {path} cannot be read: {e.strerror}") from None


def _jsonl_document(path: str, number: int, line: str) -> Tuple[str, str]:
  where = f"{path}:{number}"
  try:
    row = json.loads(line)
  except json.JSONDecodeError as e:
    raise CorpusError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
  if not isinstance(row, dict):
    raise CorpusError(f"{where}: expected a JSON object with a \"text\" field, got {type(row).__name__}")
  if "text" not in row:
    raise CorpusError(f"{where}: JSONL row has no \"text\" field (fields: {', '.join(sorted(row)) or 'none'})")
  text = row["text"]
  if not isinstance(text, str):
    raise CorpusError(f"{where}: \"text\" must be a string, got {type(text).__name__}")
  doc_id = row.get("id", where)
  if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
    raise CorpusError(f"{where}: \"id\" must be a string or an integer, got {type(doc_id).__name__}")
  return str(doc_id), text


def read_documents(path: str, lines: Iterable[bytes], file_format: str,
                   on_skip: Callable[[str, int], None]) -> Iterator[Tuple[str, str]]:
  """Yields (id, text) for each usable line of one file; calls on_skip(reason, line) for the rest."""
  first_line_of_id = {}
  for number, raw in enumerate(lines, start=1):
    raw = raw.removesuffix(b"\n").removesuffix(b"\r")
    try:
      line = raw.decode("utf-8")
    except UnicodeDecodeError:
      on_skip(SKIPPED_INVALID_UTF8, number)
      continue
    if file_format == JSONL:
      if not line.strip():
        on_skip(SKIPPED_EMPTY, number)
        continue
      doc_id, text = _jsonl_document(path, number, line)
      if doc_id in first_line_of_id:
        raise CorpusError(f"{path}:{number}: id {doc_id!r} repeats the id of line {first_line_of_id[doc_id]}")
      first_line_of_id[doc_id] = number
    else:
      doc_id, text = f"{path}:{number}", line
    if not text.strip():
      on_skip(SKIPPED_EMPTY, number)
      continue
    yield doc_id, text


def parquet_schema(with_text: bool):
  """id, text (unless left out), the embedding as a float32 list, the encoder it came from."""
  import pyarrow as pa

  fields = [(ID, pa.string())]
  if with_text:
    fields.append((TEXT_COLUMN, pa.string()))
  fields += [(EMBEDDING, pa.list_(pa.float32())), (MODEL, pa.string())]
  return pa.schema(fields)


def parquet_row(doc_id: str, text: str, embedding, model: str, with_text: bool) -> dict:
  row = {ID: doc_id, EMBEDDING: embedding, MODEL: model}
  if with_text:
    row[TEXT_COLUMN] = text
  return row
