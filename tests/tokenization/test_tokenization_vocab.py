"""Vocab loading rejects unusable files; the manifest identifies the release vocabs."""

import hashlib
import json
import logging

import pytest

from conftest import require_shared
from hub_export.support.errors import HubExportError
from hub_export.tokenization import vocab as vocab_lib
from support.tokenization_test_data import ENGLISH_VOCAB, special_layout, write_vocab


def good_tokens():
  return special_layout() + ["hello", "##s", "world"]


def test_loads_a_good_vocab(tmp_path):
  vocab = vocab_lib.load_vocab(write_vocab(good_tokens(), tmp_path / "v.txt"))
  assert vocab.size == 107
  assert vocab.special_ids() == {"[CLS]": 101, "[SEP]": 102, "[PAD]": 0, "[UNK]": 100, "[MASK]": 103}


def test_crlf_line_endings_are_accepted(tmp_path):
  path = tmp_path / "v.txt"
  path.write_bytes("\r\n".join(good_tokens()).encode() + b"\r\n")
  assert vocab_lib.load_vocab(path).tokens == tuple(good_tokens())


@pytest.mark.parametrize("missing", ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"])
def test_missing_special_token_is_an_error(tmp_path, missing):
  tokens = [t if t != missing else "[unusedX]" for t in good_tokens()]
  with pytest.raises(HubExportError, match=r"lacks required token\(s\) " + missing.replace("[", r"\[")):
    vocab_lib.load_vocab(write_vocab(tokens, tmp_path / "v.txt"))


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t + ["hello"], r"duplicate token 'hello' on lines 105 and 108"),
    (lambda t: t[:5] + [""] + t[5:], r"line 6 is empty"),
    (lambda t: t[:5] + ["   "] + t[5:], r"line 6 is empty"),
    (lambda t: t[:5] + ["tab\t"] + t[5:], r"line 6 has leading or trailing whitespace"),
])
def test_malformed_lines_are_errors(tmp_path, mutate, message):
  with pytest.raises(HubExportError, match=message):
    vocab_lib.load_vocab(write_vocab(mutate(good_tokens()), tmp_path / "v.txt"))


def test_byte_order_mark_is_an_error(tmp_path):
  path = tmp_path / "v.txt"
  path.write_bytes(b"\xef\xbb\xbf" + "\n".join(good_tokens()).encode())
  with pytest.raises(HubExportError, match="byte-order mark"):
    vocab_lib.load_vocab(path)


def test_non_utf8_empty_and_missing_files_are_errors(tmp_path):
  bad = tmp_path / "bad.txt"
  bad.write_bytes("\n".join(good_tokens()).encode() + b"\n\xff\xfe\n")
  with pytest.raises(HubExportError, match=r"not UTF-8 \(line 108\)"):
    vocab_lib.load_vocab(bad)
  empty = tmp_path / "empty.txt"
  empty.write_bytes(b"")
  with pytest.raises(HubExportError, match="is empty"):
    vocab_lib.load_vocab(empty)
  with pytest.raises(HubExportError, match="cannot read vocab"):
    vocab_lib.load_vocab(tmp_path / "absent.txt")


def test_manifest_is_found_and_well_formed():
  entries = json.loads(vocab_lib.MANIFEST.read_text(encoding="utf-8"))["vocabularies"]
  by_name = {e["name"]: e for e in entries}
  assert by_name["bert_en_uncased"]["lines"] == 30522 and by_name["bert_en_uncased"]["lower_case"] is True
  assert by_name["bert_multi_cased"]["lines"] == 119547 and by_name["bert_multi_cased"]["lower_case"] is False


def test_real_english_vocab_matches_its_manifest_entry():
  require_shared(ENGLISH_VOCAB)
  entry = vocab_lib.lookup_known_vocab(ENGLISH_VOCAB)
  assert entry["name"] == "bert_en_uncased"
  assert entry["sha256"] == hashlib.sha256(ENGLISH_VOCAB.read_bytes()).hexdigest()
  assert vocab_lib.load_vocab(ENGLISH_VOCAB).special_ids() == entry["special_tokens"]


def test_unknown_vocab_is_not_matched(tmp_path):
  assert vocab_lib.lookup_known_vocab(write_vocab(good_tokens(), tmp_path / "v.txt")) is None


def test_vocab_with_unknown_sha_matches_on_size_and_special_ids(tmp_path):
  """The multilingual entry has no sha256: same line count and special ids identify it."""
  tokens = special_layout() + [f"w{i}" for i in range(119547 - 104)]
  entry = vocab_lib.lookup_known_vocab(write_vocab(tokens, tmp_path / "multi.txt"))
  assert entry["name"] == "bert_multi_cased"
  tokens[0], tokens[104] = tokens[104], tokens[0]  # [PAD] moved: no longer the release layout
  assert vocab_lib.lookup_known_vocab(write_vocab(tokens, tmp_path / "moved.txt")) is None


def test_check_vocab_fits_refuses_fewer_tokens_and_more_unless_allowed(tmp_path, caplog):
  vocab = vocab_lib.load_vocab(write_vocab(good_tokens(), tmp_path / "v.txt"))
  with caplog.at_level(logging.WARNING, logger="hub_export"):
    assert vocab_lib.check_vocab_fits(vocab, 107, "c.json")
    assert not caplog.records
    with pytest.raises(HubExportError, match=r"has 107 tokens but the model's vocab_size is 30522 in c\.json: the "
                                             r"word table's rows from 107 up would have no token"):
      vocab_lib.check_vocab_fits(vocab, 30522, "c.json", allow_larger=True)
    with pytest.raises(HubExportError, match=r"has 107 tokens but the model's vocab_size is 100 in c\.json: ids from "
                                             r"100 up would index past the word table \(pass "
                                             r"--allow_vocab_larger_than_model"):
      vocab_lib.check_vocab_fits(vocab, 100, "c.json")
    assert not caplog.records
    assert not vocab_lib.check_vocab_fits(vocab, 100, "c.json", allow_larger=True)
    assert "has 107 tokens but the model's vocab_size is 100 in c.json" in caplog.text




def _record_casing(vocab_path, lower_case, sha256=None):
  """A vocab_casing.json as the project's checkpoint writers leave it beside vocab.txt."""
  sha256 = sha256 or hashlib.sha256(vocab_path.read_bytes()).hexdigest()
  (vocab_path.parent / "vocab_casing.json").write_text(json.dumps({"lower_case": lower_case, "vocab_sha256": sha256}))


def test_casing_recorded_beside_an_unknown_vocab_settles_it_and_a_contradicting_flag_warns(tmp_path, caplog):
  path = write_vocab(good_tokens(), tmp_path / "vocab.txt")
  _record_casing(path, False)
  vocab = vocab_lib.load_vocab(path)
  with caplog.at_level(logging.INFO, logger="hub_export"):
    assert vocab_lib.resolve_lower_case(vocab, None) is False
    assert "casing recorded in" in caplog.text and "lower_case=false" in caplog.text
    caplog.clear()
    assert vocab_lib.resolve_lower_case(vocab, True) is True
  (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
  assert warning == (f"warning: --lower_case true contradicts the casing recorded in {tmp_path / 'vocab_casing.json'} "
                     "(lower_case=false)")


def test_write_casing_is_read_back(tmp_path):
  vocab = vocab_lib.load_vocab(write_vocab(good_tokens(), tmp_path / "vocab.txt"))
  assert vocab_lib.write_casing(vocab, True) == tmp_path / vocab_lib.CASING_NAME
  assert vocab_lib.recorded_casing(vocab) is True


@pytest.mark.parametrize("record, message", [
    (lambda sha: {"lower_case": True, "vocab_sha256": "0" * 64}, r"records the casing of another vocab than .*vocab.txt"),
    (lambda sha: {"lower_case": "yes", "vocab_sha256": sha}, r'must be a JSON object with "lower_case": true or false'),
    (lambda sha: [True], r'must be a JSON object with "lower_case": true or false'),
])
def test_a_record_that_does_not_fit_the_vocab_is_one_error(tmp_path, record, message):
  path = write_vocab(good_tokens(), tmp_path / "vocab.txt")
  (tmp_path / "vocab_casing.json").write_text(json.dumps(record(hashlib.sha256(path.read_bytes()).hexdigest())))
  with pytest.raises(HubExportError, match=message) as info:
    vocab_lib.resolve_lower_case(vocab_lib.load_vocab(path), None)
  assert "\n" not in str(info.value)


def test_without_a_record_an_unknown_vocab_still_needs_the_flag(tmp_path):
  vocab = vocab_lib.load_vocab(write_vocab(good_tokens(), tmp_path / "vocab.txt"))
  with pytest.raises(HubExportError, match=r"is not a known release vocab .* and has no vocab_casing.json beside it; "
                                           r"pass --lower_case true or --lower_case false"):
    vocab_lib.resolve_lower_case(vocab, None)
