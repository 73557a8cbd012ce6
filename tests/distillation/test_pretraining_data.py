"""Pre-training TFRecords: exact tokens, the 15% / 80-10-10 masking, next-sentence pairs, reproducibility."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from support import bert_reference_tokenizer as ref
from support.tokenization_test_data import build_test_vocab, corpus

SEQ_LENGTH, MAX_PREDICTIONS = 64, 10
SENTENCES_PER_DOCUMENT = 6


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
  """The English test corpus, a sentence a line, as documents of six sentences; and a vocab of its words."""
  root = tmp_path_factory.mktemp("pretraining_corpus")
  lines = [s for line in corpus("english") for s in re.split(r"(?<=[.?!;])\s+", line.strip()) if s.strip()]
  documents = [lines[i:i + SENTENCES_PER_DOCUMENT] for i in range(0, len(lines), SENTENCES_PER_DOCUMENT)]
  text = root / "corpus.txt"
  text.write_text("\n\n".join("\n".join(d) for d in documents) + "\n", encoding="utf-8")
  vocab = root / "vocab.txt"
  tokens = build_test_vocab(lines, lower_case=True)
  vocab.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
  return text, vocab, documents, tokens


def _write(corpus_files, out, seed=7):
  from hub_export.pretraining_data import write_pretraining_data

  text, vocab, _, _ = corpus_files
  return write_pretraining_data(vocab, [text], out, seq_length=SEQ_LENGTH, max_predictions=MAX_PREDICTIONS,
                                seed=seed, lower_case=True, dupe_factor=2)


@pytest.fixture(scope="module")
def data(corpus_files, tmp_path_factory):
  out = tmp_path_factory.mktemp("pretraining") / "data"
  _write(corpus_files, out)
  return out


def test_same_seed_same_bytes_other_seed_other_bytes(corpus_files, data, tmp_path):
  again, other = tmp_path / "again", tmp_path / "other"
  _write(corpus_files, again)
  _write(corpus_files, other, seed=8)
  files = sorted(p.name for p in data.iterdir())
  assert files == sorted(p.name for p in again.iterdir())
  for name in files:
    assert (data / name).read_bytes() == (again / name).read_bytes(), name
  shard = next(name for name in files if name.endswith(".tfrecord"))
  assert (data / shard).read_bytes() != (other / shard).read_bytes()


def test_masking_and_pair_statistics(corpus_files, data):
  from hub_export.distillation.records import load_examples

  _, _, _, tokens = corpus_files
  ids = {t: i for i, t in enumerate(tokens)}
  ex = load_examples(data)
  n = len(ex["input_ids"])
  assert n > 300
  masked = kept = replaced = 0
  for i in range(n):
    length = int(ex["input_mask"][i].sum())
    assert ex["input_mask"][i][:length].all() and not ex["input_ids"][i][length:].any()
    row = ex["input_ids"][i][:length]
    count = int(ex["masked_lm_weights"][i].sum())
    assert count == min(MAX_PREDICTIONS, max(1, round(length * 0.15)))
    positions = ex["masked_lm_positions"][i][:count]
    unmasked = row.copy()
    unmasked[positions] = ex["masked_lm_ids"][i][:count]  # a random replacement may be [SEP] too
    seps = np.flatnonzero(unmasked == ids["[SEP]"])
    assert unmasked[0] == ids["[CLS]"] and len(seps) == 2 and seps[-1] == length - 1
    segments = ex["segment_ids"][i][:length]
    assert not segments[:seps[0] + 1].any() and segments[seps[0] + 1:].all()
    assert list(positions) == sorted(set(positions)) and all(0 < p < length for p in positions)
    assert not set(positions) & set(seps)
    for position, original in zip(positions, ex["masked_lm_ids"][i][:count]):
      if row[position] == ids["[MASK]"]:
        masked += 1
      elif row[position] == original:
        kept += 1
      else:
        replaced += 1
  total = masked + kept + replaced
  assert abs(masked / total - 0.8) < 0.03 and abs(kept / total - 0.1) < 0.03 and abs(replaced / total - 0.1) < 0.03
  # Above one half: a chunk of one sentence always pairs with a random next segment (as in BERT).
  random_next = ex["next_sentence_labels"].mean()
  assert 0.45 < random_next < 0.7, random_next


def test_next_sentence_pairs_are_half_random_and_otherwise_continuations():
  """On documents of many short sentences every chunk has two or more: exactly the coin flip shows."""
  from hub_export.distillation.instances import MaskingOptions, SpecialIds, create_instances

  documents = [[[1000 * (d + 1) + 10 * s + t for t in range(3)] for s in range(40)] for d in range(100)]
  special = SpecialIds(cls=1, sep=2, mask=3, vocab_size=200000)
  keyed = create_instances(documents, 32, special, MaskingOptions(max_predictions=5), seed=3, short_seq_prob=0)
  instances = [instance for _, instance in keyed]
  assert len(instances) > 500, len(instances)
  assert 0.45 < np.mean([i.is_random_next for i in instances]) < 0.55
  for instance in instances:
    tokens = list(instance.tokens)
    for position, original in zip(instance.masked_lm_positions, instance.masked_lm_ids):
      tokens[position] = original
    sep = tokens.index(2)
    a, b = tokens[1:sep], tokens[sep + 1:-1]
    same_document = a[-1] // 1000 == b[0] // 1000
    if not instance.is_random_next:  # B continues A in its document (truncation may trim B's front)
      assert same_document and a[-1] < b[0] <= a[-1] + 10, (a, b)
    else:
      assert not same_document


def test_segments_are_the_reference_tokenization_of_the_text(corpus_files, data):
  """Unmasked, segment A is a run of one document's tokens as the reference BERT tokenizer gives them."""
  from hub_export.distillation.records import load_examples

  _, _, documents, tokens = corpus_files
  vocab = {t: i for i, t in enumerate(tokens)}
  streams = [",".join(str(i) for s in d for w in ref.tokenize_ids(s, vocab, True) for i in w) for d in documents]
  ex = load_examples(data)
  for i in range(60):
    row = ex["input_ids"][i].copy()
    count = int(ex["masked_lm_weights"][i].sum())
    row[ex["masked_lm_positions"][i][:count]] = ex["masked_lm_ids"][i][:count]
    first_sep = int(np.flatnonzero(row == vocab["[SEP]"])[0])
    segment_a = ",".join(str(t) for t in row[1:first_sep])
    assert any(f",{segment_a}," in f",{stream}," for stream in streams), i


_ONE_RECORD = ("records.serialize(instances.Instance((101, 7, 102, 8, 9, 102), (0, 0, 0, 1, 1, 1), (1, 4), (7, 9), "
               "True), 8, 3)")


def test_a_record_is_the_same_bytes_in_another_process():
  """tf.train.Example's feature map has no fixed order (upb orders it by a per-process hash): serialize in the
  canonical order, or two runs of one seed write other bytes."""
  from hub_export.distillation import instances, records

  code = f"from hub_export.distillation import instances, records; print({_ONE_RECORD}.hex())"
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                        env={**os.environ, "PYTHONPATH": str(REPO)})
  assert proc.returncode == 0, proc.stderr[-2000:]
  here = eval(_ONE_RECORD, {"instances": instances, "records": records})  # noqa: S307 (our own expression)
  assert bytes.fromhex(proc.stdout.strip().splitlines()[-1]) == here


def _environment() -> dict:
  """Ours without TF_CPP_MIN_LOG_LEVEL, so the command filters TensorFlow's start-up lines as for a user."""
  return {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def test_bad_input_is_one_line_before_any_output(corpus_files, tmp_path):
  text, vocab, _, _ = corpus_files
  bad_vocab = tmp_path / "vocab.txt"
  bad_vocab.write_text("[PAD]\nhello\n", encoding="utf-8")
  out = tmp_path / "out"
  proc = subprocess.run([sys.executable, "-m", "hub_export.pretraining_data", "--vocab", str(bad_vocab),
                         "--input", str(text), "--out", str(out), "--lower_case", "true"],
                        capture_output=True, text=True, cwd=REPO, timeout=120, env=_environment())
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines() == [f"error: vocab {bad_vocab} lacks required token(s) [CLS], [SEP], [UNK], [MASK]"]
  assert not out.exists()
