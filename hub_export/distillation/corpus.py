"""A real English corpus that needs no download: the Python Language Reference's topic texts.

CPython ships them in its standard library as `pydoc_data.topics` (the text `help()` shows,
under the PSF License, like Python itself), so any install of the project has them. Prose
paragraphs become one sentence a line, one document a reference section, blank lines
between documents (the `pretraining_data` input format); code samples and grammar blocks are
left out. Every fifth topic, in sorted order, is held out. Topics repeat one another's
sections, so documents are kept once and training drops every sentence that is also
held out: no held-out sentence is ever trained on. Deterministic for one Python version.
"""

import re
from pathlib import Path

from hub_export.support.errors import HubExportError

HELD_OUT_EVERY = 5
TRAIN_NAME, HELD_OUT_NAME = "train.txt", "held_out.txt"
_UNDERLINE = re.compile(r"^([*=\-~^\"])\1{2,}$")
_BULLET = re.compile(r"^(\* |\d+\. )")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"(])")
_MIN_WORDS = 4


def topics() -> dict:
  try:
    from pydoc_data.topics import topics as texts
  except ImportError:
    raise HubExportError("this Python has no pydoc_data.topics (the standard library's reference texts)") from None
  return texts


def _paragraphs(text: str) -> list:
  return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def _is_prose(lines: list) -> bool:
  """Unindented text or a bullet; indented blocks are code, grammar or quoted examples."""
  first = lines[0]
  indent = len(first) - len(first.lstrip())
  return (indent == 0 or _BULLET.match(first.lstrip()) is not None) and not first.lstrip().startswith(">>>")


def _sentences(paragraph: str) -> list:
  text = " ".join(line.strip() for line in paragraph.split("\n"))
  text = _BULLET.sub("", text).strip()
  return [s for s in _SENTENCE_END.split(text) if len(s.split()) >= _MIN_WORDS]


def topic_documents(text: str) -> list:
  """A topic's sections (split at underlined headings) as lists of prose sentences."""
  documents, current = [], []
  for paragraph in _paragraphs(text):
    lines = paragraph.rstrip().split("\n")
    if len(lines) >= 2 and _UNDERLINE.match(lines[-1].strip()):  # a heading starts a section
      if current:
        documents.append(current)
      current = []
      continue
    if _is_prose(lines):
      current.extend(_sentences(paragraph))
  if current:
    documents.append(current)
  return [d for d in documents if len(d) >= 2]


def split_documents() -> tuple:
  """(train documents, held-out documents), each a list of sentence lists."""
  train, held_out, seen = [], [], set()
  for index, name in enumerate(sorted(topics())):
    for document in topic_documents(topics()[name]):
      if tuple(document) not in seen:
        seen.add(tuple(document))
        (held_out if index % HELD_OUT_EVERY == 0 else train).append(document)
  held_out_sentences = {s for d in held_out for s in d}
  train = [[s for s in d if s not in held_out_sentences] for d in train]
  return [d for d in train if len(d) >= 2], held_out


def _text(documents: list) -> str:
  return "\n\n".join("\n".join(d) for d in documents) + "\n"


def write_corpus(directory) -> dict:
  """Writes train.txt and held_out.txt into `directory`; returns their paths and sizes."""
  directory = Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  summary = {}
  for name, documents in zip((TRAIN_NAME, HELD_OUT_NAME), split_documents()):
    text = _text(documents)
    (directory / name).write_text(text, encoding="utf-8")
    summary[name] = {"path": str(directory / name), "documents": len(documents),
                     "sentences": sum(map(len, documents)), "words": len(text.split()), "bytes": len(text.encode())}
  return summary
