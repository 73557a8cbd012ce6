"""WordPiece vocab files: strict loading, and lookup in the manifest of known release vocabs.

A vocab that loads here is safe to ship: one token per line, no duplicates, no blank
lines, no byte-order mark, and the special tokens the preprocessor emits are present.
"""

import dataclasses
import hashlib
import importlib.resources
import json
from pathlib import Path

from hub_export.support.errors import HubExportError
from hub_export.support.filenames import CASING_NAME
from hub_export.support.log import LOG

# Ships inside the package (hub_export/vocab links to the top-level vocab/, and a wheel holds the file), so an
# installed wheel reads it as an editable checkout does.
MANIFEST = importlib.resources.files("hub_export") / "vocab" / "manifest.json"

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
REQUIRED_TOKENS = (CLS, SEP, PAD, UNK, MASK)



@dataclasses.dataclass(frozen=True)
class Vocab:
  """A validated vocab file: its tokens in id order and its sha256."""

  path: Path
  tokens: tuple
  sha256: str

  @property
  def size(self) -> int:
    return len(self.tokens)

  def special_ids(self) -> dict:
    """Ids of [PAD], [UNK], [CLS], [SEP] and [MASK] (all present in a loaded vocab)."""
    index = {t: i for i, t in enumerate(self.tokens)}
    return {t: index[t] for t in REQUIRED_TOKENS if t in index}


def load_vocab(path) -> Vocab:
  """Reads and validates a vocab.txt (UTF-8, one token per line, "\\n" or "\\r\\n" endings)."""
  path = Path(path)
  try:
    data = path.read_bytes()
  except OSError as e:
    raise HubExportError(f"cannot read vocab {path}: {e.strerror}") from None
  if data.startswith(b"\xef\xbb\xbf"):
    raise HubExportError(f"vocab {path} starts with a UTF-8 byte-order mark; remove it")
  try:
    text = data.decode("utf-8")
  except UnicodeDecodeError as e:
    line = data[:e.start].count(b"\n") + 1
    raise HubExportError(f"vocab {path} is not UTF-8 (line {line})") from None
  if not text:
    raise HubExportError(f"vocab {path} is empty")
  lines = text.split("\n")
  if lines[-1] == "":
    lines.pop()
  seen = {}
  tokens = []
  for number, line in enumerate(lines, start=1):
    token = line[:-1] if line.endswith("\r") else line
    if token.strip() == "":
      raise HubExportError(f"vocab {path} line {number} is empty or blank")
    if token != token.strip():
      raise HubExportError(f"vocab {path} line {number} has leading or trailing whitespace: {token!r}")
    if token in seen:
      raise HubExportError(f"vocab {path} has duplicate token {token!r} on lines {seen[token]} and {number}")
    seen[token] = number
    tokens.append(token)
  missing = [t for t in REQUIRED_TOKENS if t not in seen]
  if missing:
    raise HubExportError(f"vocab {path} lacks required token(s) {', '.join(missing)}")
  return Vocab(path=path, tokens=tuple(tokens), sha256=hashlib.sha256(data).hexdigest())


def load_manifest(manifest=MANIFEST) -> list:
  """The manifest's entries; `manifest` is a path or an `importlib.resources` traversable."""
  try:
    return json.loads(manifest.read_text(encoding="utf-8"))["vocabularies"]
  except (OSError, ValueError, KeyError) as e:
    raise HubExportError(f"cannot read the vocab manifest {manifest}: {e}") from None


def _matches(entry: dict, vocab: Vocab) -> bool:
  if entry["lines"] != vocab.size:
    return False
  if entry.get("sha256"):
    return entry["sha256"] == vocab.sha256
  return vocab.special_ids() == entry["special_tokens"]


def lookup_known_vocab(path_or_vocab, manifest=MANIFEST):
  """Returns the manifest entry of a known release vocab, or None.

  An entry with a sha256 matches on it; one whose sha256 is unknown matches on line count
  and special-token ids.
  """
  vocab = path_or_vocab if isinstance(path_or_vocab, Vocab) else load_vocab(path_or_vocab)
  for entry in load_manifest(manifest):
    if _matches(entry, vocab):
      return entry
  return None


ALLOW_LARGER_VOCAB_FLAG = "--allow_vocab_larger_than_model"


def check_vocab_fits(vocab: Vocab, vocab_size: int, config_origin: str, allow_larger: bool = False) -> bool:
  """Refuses a vocab whose token count is not the model's `vocab_size` (read from `config_origin`).

  More tokens than embedding rows means the tokenizer makes ids past the word table (the
  exported encoder rejects them at call time), so it is an error unless the user passes
  ALLOW_LARGER_VOCAB_FLAG (then a warning). Fewer leaves rows without a token, which the
  encoder's contract (MLM logits one per token) cannot hold, and usually means the wrong
  vocab was paired with the checkpoint. Returns whether the sizes are equal.
  """
  if vocab.size == vocab_size:
    return True
  known = lookup_known_vocab(vocab)
  name = f" ({known['name']})" if known else ""
  problem = (f"vocab {vocab.path}{name} has {vocab.size} tokens but the model's vocab_size is {vocab_size} "
             f"in {config_origin}")
  if vocab.size < vocab_size:
    raise HubExportError(f"{problem}: the word table's rows from {vocab.size} up would have no token "
                         "(is it the vocab this model was trained with?)")
  if not allow_larger:
    raise HubExportError(f"{problem}: ids from {vocab_size} up would index past the word table "
                         f"(pass {ALLOW_LARGER_VOCAB_FLAG} to export anyway)")
  LOG.warning("warning: %s", problem)
  return False


# Beside the vocab.txt of every checkpoint this project writes (the demo's, a distilled student's): the
# casing the vocab was used with, tied to it by its sha256, so later commands need no --lower_case.


def write_casing(vocab: Vocab, lower_case: bool) -> Path:
  """Records `lower_case` beside `vocab` (CASING_NAME); returns the record's path."""
  path = vocab.path.parent / CASING_NAME
  record = {"lower_case": bool(lower_case), "vocab_sha256": vocab.sha256}
  path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
  return path


def recorded_casing(vocab: Vocab):
  """The casing recorded beside `vocab`, or None when there is no record; a record of another vocab is an error."""
  path = vocab.path.parent / CASING_NAME
  if not path.is_file():
    return None
  try:
    record = json.loads(path.read_text(encoding="utf-8"))
  except OSError as e:
    raise HubExportError(f"cannot read {path}: {e.strerror}") from None
  except ValueError as e:
    raise HubExportError(f"{path} is not JSON: {e}") from None
  if not isinstance(record, dict) or not isinstance(record.get("lower_case"), bool):
    raise HubExportError(f'{path} must be a JSON object with "lower_case": true or false')
  if record.get("vocab_sha256") != vocab.sha256:
    raise HubExportError(f"{path} records the casing of another vocab than {vocab.path} (vocab_sha256 differs); "
                         "delete it and pass --lower_case")
  return record["lower_case"]


def _casing_name(value: bool) -> str:
  return str(value).lower()


def resolve_lower_case(vocab: Vocab, lower_case):
  """The flag when given, else the casing recorded beside the vocab (CASING_NAME), else the manifest's.

  A flag that contradicts the record or the manifest wins, with a warning.
  """
  recorded = recorded_casing(vocab)
  known = lookup_known_vocab(vocab)
  if lower_case is None:
    if recorded is not None:
      LOG.info("casing recorded in %s: lower_case=%s", vocab.path.parent / CASING_NAME, _casing_name(recorded))
      return recorded
    if known is None:
      raise HubExportError(f"vocab {vocab.path} is not a known release vocab (vocab/manifest.json) and has no "
                           f"{CASING_NAME} beside it; pass --lower_case true or --lower_case false")
    LOG.info("vocab is %s: lower_case=%s", known["name"], known["lower_case"])
    return known["lower_case"]
  if recorded is not None and recorded != lower_case:
    LOG.warning("warning: --lower_case %s contradicts the casing recorded in %s (lower_case=%s)",
                _casing_name(lower_case), vocab.path.parent / CASING_NAME, _casing_name(recorded))
  if known is not None and known["lower_case"] != lower_case:
    LOG.warning("warning: --lower_case %s contradicts the known casing of %s (lower_case=%s)",
                _casing_name(lower_case), known["name"], _casing_name(known["lower_case"]))
  return lower_case
