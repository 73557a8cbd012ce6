"""Seeded corruptions of a release directory's checkpoint index, data file and bert_config.json.

A case is a small JSON-able dict (file, mutation, seed), so the test can hand it to a
worker process and name it when something goes wrong.
"""

import json
import random
from pathlib import Path

BYTE_MUTATIONS = ("flip_bits", "overwrite_span", "zero_span", "truncate", "extend", "empty", "delete")
JSON_MUTATIONS = ("set_value", "drop_key", "add_key", "replace_document", "bom", "duplicate_key", "invalid_utf8")
# Values a damaged or hand-edited config might hold, the risky ones included (huge sizes, NaN).
ODD_VALUES = (-1, 0, 1, 2, 3, 7, 127, 1_000_000, 10**12, 2**64, 1.5, -0.5, float("nan"), float("inf"), True, False,
              None, "", "relu", "gelu", "no_norm", "layer_norm", "512", [], [512], {}, "x" * 1000)


def cases(count: int, seed: int, layouts: dict) -> list:
  """`count` cases spread evenly over every (layout, file, mutation) the layouts allow.

  `layouts` maps a layout name to the files it can corrupt, e.g. {"tf1": ("index", "data", "config")}.
  """
  kinds = [(layout, name, mutation) for layout, names in layouts.items() for name in names
           for mutation in (BYTE_MUTATIONS + JSON_MUTATIONS if name == "config" else BYTE_MUTATIONS)]
  rng = random.Random(seed)
  return [{"id": i, "layout": kinds[i % len(kinds)][0], "file": kinds[i % len(kinds)][1],
           "mutation": kinds[i % len(kinds)][2], "seed": rng.getrandbits(32)} for i in range(count)]


def _file(directory: Path, name: str) -> Path:
  if name == "config":
    return directory / "bert_config.json"
  suffix = ".index" if name == "index" else ".data-00000-of-00001"
  (path,) = directory.glob(f"*{suffix}")
  return path


def _mutate_bytes(data: bytes, mutation: str, rng: random.Random) -> bytes | None:
  raw = bytearray(data)
  if mutation == "flip_bits":
    for _ in range(rng.randint(1, 8)):
      raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
  elif mutation in ("overwrite_span", "zero_span"):
    start = rng.randrange(len(raw))
    end = min(len(raw), start + rng.randint(1, 64))
    raw[start:end] = bytes(rng.getrandbits(8) if mutation == "overwrite_span" else 0 for _ in range(end - start))
  elif mutation == "truncate":
    del raw[rng.randrange(len(raw)):]
  elif mutation == "extend":
    raw += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 256)))
  elif mutation == "empty":
    raw = bytearray()
  elif mutation == "delete":
    return None
  return bytes(raw)


def _mutate_json(text: str, mutation: str, rng: random.Random) -> bytes:
  values = json.loads(text)
  keys = sorted(values)
  if mutation == "set_value":
    values[rng.choice(keys)] = rng.choice(ODD_VALUES)
  elif mutation == "drop_key":
    del values[rng.choice(keys)]
  elif mutation == "add_key":
    values[f"unknown_{rng.randrange(100)}"] = rng.choice(ODD_VALUES)
  elif mutation == "replace_document":
    return json.dumps(rng.choice(ODD_VALUES)).encode()
  elif mutation == "bom":
    return b"\xef\xbb\xbf" + text.encode()
  elif mutation == "duplicate_key":  # JSON allows it; the last value wins
    key = rng.choice(keys)
    return text.rstrip().rstrip("}").rstrip().encode() + f', "{key}": {json.dumps(rng.choice(ODD_VALUES))}}}'.encode()
  elif mutation == "invalid_utf8":
    raw = bytearray(text.encode())
    raw[rng.randrange(len(raw))] = 0xFF
    return bytes(raw)
  return json.dumps(values, indent=2).encode()


def corrupt(directory: Path, case: dict) -> None:
  """Applies `case` to the release or converted checkpoint in `directory`, in place."""
  rng = random.Random(case["seed"])
  path = _file(directory, case["file"])
  if case["mutation"] in JSON_MUTATIONS:
    path.write_bytes(_mutate_json(path.read_text(encoding="utf-8"), case["mutation"], rng))
    return
  data = _mutate_bytes(path.read_bytes(), case["mutation"], rng)
  if data is None:
    path.unlink()
  else:
    path.write_bytes(data)
