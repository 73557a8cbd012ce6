"""What MediaPipe's own BERT tokenizer gets wrong for a vocab, said once for the export warning and the card.

MediaPipe Tasks tokenize with their own BERT tokenizer, not the model's: it lower-cases
ASCII letters only and always (even for a cased vocab), strips no accents and does not
treat no-break spaces as whitespace. Measured by `bench/mediapipe_tokenizer_agreement.py`
(identical [CLS] ... [SEP] rows of 128 against our preprocessor, figures in BUILD_NOTES).
"""

# Identical rows, from the bench run recorded in BUILD_NOTES (1,200 lines a corpus).
UNCASED_AGREEMENT = ("identical token ids on 100% of pure-ASCII lines, 17.8% of the English test corpus "
                     "(mostly non-ASCII on purpose) and 1.2% of the multilingual one")
CASED_AGREEMENT = "identical token ids on 0.1% of the English test corpus and 2.4% of the multilingual one"


def mediapipe_tokenizer_note(lower_case: bool) -> str:
  """One paragraph (no line breaks) on where MediaPipe's token ids differ from the model's own."""
  if lower_case:
    return ("MediaPipe's tokenizer follows the BERT rules for this uncased vocab on ASCII text only: it strips no "
            "accents (café stays café; BERT: cafe), lower-cases ASCII letters only (CAFÉ becomes [UNK]) and does not "
            f"split at no-break spaces ({UNCASED_AGREEMENT}).")
  return ("MediaPipe's tokenizer lower-cases all text even for this cased vocab, so every capitalised word gets "
          "other token ids than the model was trained with (and accented or non-ASCII capitals [UNK] or other pieces); "
          f"{CASED_AGREEMENT}.")
