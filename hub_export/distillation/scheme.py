"""How a corpus becomes ordered, sharded pre-training records: the one scheme that both `pretraining_data` paths
(in one process, or as a Beam pipeline) run, so the same seed and input give byte-identical shards from either.

Documents are numbered in corpus order (input files sorted by path, documents in file order) and cut into blocks
of consecutive documents, BLOCK_DOCUMENTS a block, the remainder joined to the last block. A random next segment
comes from another document of the same block (a bounded window; BERT's reference draws from the whole corpus),
and each document's instances come from a `random.Random` seeded by --seed, the pass (of --dupe_factor) and the
document's number: no state crosses documents, so any worker can build any block. Records are not shuffled:
document d goes to shard d % num_shards, and a shard holds its records ordered by (pass, document, instance).
"""

import dataclasses
import json

from hub_export.distillation import instances as inst
from hub_export.distillation import records
from hub_export.support.errors import HubExportError

BLOCK_DOCUMENTS = 1000
_TOKENIZE_BATCH = 1024


@dataclasses.dataclass(frozen=True)
class Settings:
  """Everything besides the text that fixes the records."""

  seq_length: int = 128
  max_predictions: int = 20
  masked_lm_prob: float = 0.15
  short_seq_prob: float = 0.1
  dupe_factor: int = 1
  num_shards: int = 1
  seed: int = 12345


def split_documents(path, data: bytes) -> list:
  """[[sentence, ...] per document] of one file: a sentence a line, documents split at blank lines and the end."""
  try:
    text = data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise HubExportError(f"input {path} is not UTF-8 (byte {e.start})") from None
  documents, document = [], []
  for line in text.split("\n"):  # "\n" only, as the BERT readers split: text may hold U+2028, U+0085
    if line.strip():
      document.append(line.strip())
    elif document:
      documents.append(document)
      document = []
  if document:
    documents.append(document)
  return documents


def block_of(index: int, documents: int) -> int:
  """The block of document `index` among `documents`; the last block takes the remainder."""
  return min(index // BLOCK_DOCUMENTS, max(1, documents // BLOCK_DOCUMENTS) - 1)


def shard_names(num_shards: int) -> list:
  return [records.SHARD_PATTERN.format(index=i, count=num_shards) for i in range(num_shards)]


def metadata(settings: Settings, vocab, lower_case: bool, shards: list, documents: int) -> dict:
  """What pretraining_data.json records: the settings, the vocab, the counts and each shard."""
  shards = sorted(shards, key=lambda shard: shard["file"])
  return {"features": list(records.FEATURES), **dataclasses.asdict(settings), "lower_case": lower_case,
          "vocab_size": vocab.size, "vocab_sha256": vocab.sha256, "documents": documents,
          "examples": sum(shard["examples"] for shard in shards), "shards": shards}


class RecordBuilder:
  """Serialized records of a block of documents (loads TensorFlow and the tokenizer)."""

  def __init__(self, settings: Settings, vocab, lower_case: bool):
    from hub_export.tokenization.bert_tokenizer import BertTokenizer
    from hub_export.tokenization.vocab import CLS, MASK, SEP

    ids = vocab.special_ids()
    self._settings = settings
    self._special = inst.SpecialIds(cls=ids[CLS], sep=ids[SEP], mask=ids[MASK], vocab_size=vocab.size)
    self._options = inst.MaskingOptions(masked_lm_prob=settings.masked_lm_prob,
                                        max_predictions=settings.max_predictions)
    self._tokenizer = BertTokenizer(vocab, lower_case)  # refuses a vocab it cannot match with, in one line

  def _tokenize(self, sentences: list) -> list:
    """Each sentence as a flat list of wordpiece ids."""
    import tensorflow as tf

    ids = []
    for start in range(0, len(sentences), _TOKENIZE_BATCH):
      ragged = self._tokenizer.tokenize(tf.constant(sentences[start:start + _TOKENIZE_BATCH]))
      ids.extend(ragged.merge_dims(1, 2).to_list())
    return ids

  def block_records(self, block: list) -> list:
    """[(shard, (pass, document, instance), record)] of a block's [(document number, [sentence, ...])]."""
    block = sorted(block)
    ids = self._tokenize([sentence for _, document in block for sentence in document])
    documents, at = [], 0
    for _, document in block:
      documents.append([sentence for sentence in ids[at:at + len(document)] if sentence])  # no tokens: dropped
      at += len(document)
    s = self._settings
    keyed = inst.create_instances(documents, s.seq_length, self._special, self._options, s.seed, s.dupe_factor,
                                  s.short_seq_prob, numbers=[number for number, _ in block])
    return [(key[1] % s.num_shards, key, records.serialize(instance, s.seq_length, s.max_predictions))
            for key, instance in keyed]


def blocks(documents: list) -> list:
  """The corpus's documents as blocks of [(number, document)]."""
  grouped = {}
  for number, document in enumerate(documents):
    grouped.setdefault(block_of(number, len(documents)), []).append((number, document))
  return [grouped[block] for block in sorted(grouped)]


def in_order(keyed: list) -> list:
  """A shard's records from [(key, record)], in the scheme's order (keys are unique)."""
  return [record for _, record in sorted(keyed, key=lambda pair: pair[0])]


def metadata_bytes(data: dict) -> bytes:
  """pretraining_data.json's bytes."""
  return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
