"""How often KerasHub's own WordPieceTokenizer agrees with the original BERT rules, per line.

    .venv/bin/python -m bench.keras_hub_wordpiece_agreement

On the test corpora (English with the shared uncased vocab; multilingual with the vocab
built from the corpus, as tests/support/tokenization_test_data builds it), cased and uncased,
against tests/support/bert_reference_tokenizer.py. KerasHub's tokenizer is configured as its BERT
presets are (`lowercase` and `strip_accents` = BERT's `do_lower_case`). Prints per setting
the share of lines with identical ids and a few differing examples. This is why the
presets ship MobileBertTokenizer (the project's exact rules) instead.
"""

import json
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from support import bert_reference_tokenizer as ref  # noqa: E402
from support.tokenization_test_data import ENGLISH_VOCAB, build_test_vocab, corpus  # noqa: E402


def agreement(vocab, lower_case, lines) -> dict:
  import numpy as np
  from keras_hub.tokenizers import WordPieceTokenizer

  tokenizer = WordPieceTokenizer(vocabulary=vocab, lowercase=lower_case, strip_accents=lower_case,
                                 _allow_python_workflow=False)
  index = {token: i for i, token in enumerate(vocab)}
  got = [np.asarray(row).tolist() for row in tokenizer(lines)]
  wrong = [line for line, ids in zip(lines, got)
           if [i for word in ref.tokenize_ids(line, index, lower_case) for i in word] != ids]
  return {"lines": len(lines), "identical": len(lines) - len(wrong),
          "identical_share": round(1 - len(wrong) / len(lines), 4), "examples": [w[:80] for w in wrong[:3]]}


def main():
  report = {}
  for lower_case in (True, False):
    casing = "uncased" if lower_case else "cased"
    if ENGLISH_VOCAB.is_file():
      report[f"english {casing}"] = agreement(ENGLISH_VOCAB.read_text(encoding="utf-8").splitlines(), lower_case,
                                              corpus("english"))
    lines = corpus("multilingual")
    report[f"multilingual {casing}"] = agreement(build_test_vocab(lines, lower_case), lower_case, lines)
  print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
  main()
