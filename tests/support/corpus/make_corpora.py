"""Writes the English and multilingual tokenization test corpora, deterministically.

Run `python tests/support/corpus/make_corpora.py` to regenerate `english.txt` and
`multilingual.txt` (seeded; the output is committed). Lines are separated by "\\n" only:
read them with `.split("\\n")`, never `splitlines()`, which also breaks on characters the
corpora test on purpose (U+2028, U+0085, U+001C...).
"""

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINES = 1200

EN_WORDS = """the of and to in is was for that with as on by at from his her it an were are which
this be or has had not but also first one new their after who they two its been more other time
would all into only she there year some when city over most later many between may under school
world during such then state where both about known these through while national team since three
government people part season until well before film used family series called music because
group high university around including along several work children number however named won life
house river country public record album war same each him released early game american day early
language system million best major following although population members different around town""".split()
EN_NAMES = ["Alice", "O'Brien", "McDonald", "Zoë", "Renée", "José", "Ångström", "Dvořák", "Müller",
            "São Paulo", "Nguyễn", "Brontë", "Saint-Étienne", "NASA", "iPhone", "U.S.A.", "Dr. Smith"]
EN_EXTRAS = ["don't", "it's", "we'll", "co-operate", "e-mail", "state-of-the-art", "naïve", "café",
             "résumé", "façade", "coöperate", "3.14159", "1,024", "50%", "$19.99", "€5", "£20", "#hashtag",
             "@user", "https://example.org/path?q=1&r=2", "name@example.com", "C++", "x86_64",
             "(see above)", "[citation needed]", "{braces}", "<tag>", "a/b", "a\\b", "~tilde", "^caret",
             "`tick`", "|pipe|", "“quoted”", "‘single’", "—", "–", "…", "§12", "°C", "½", "™", "•",
             "2024-05-17", "12:30", "UNESCO", "Mr.", "etc.", "vs.", "well-known", "ninety-nine"]
END_MARKS = [".", ".", ".", "!", "?", ";", ":", "...", "?!"]


def english_line(rng):
  sentences = []
  for _ in range(rng.randint(1, 6)):
    words = []
    for _ in range(rng.randint(4, 22)):
      roll = rng.random()
      if roll < 0.08:
        words.append(rng.choice(EN_NAMES))
      elif roll < 0.16:
        words.append(rng.choice(EN_EXTRAS))
      else:
        words.append(rng.choice(EN_WORDS))
    words[0] = words[0][:1].upper() + words[0][1:]
    if rng.random() < 0.2:
      words[rng.randrange(len(words))] += ","
    if rng.random() < 0.05:
      words[rng.randrange(len(words))] = rng.choice(EN_WORDS).upper()
    sentences.append(" ".join(words) + rng.choice(END_MARKS))
  sep = rng.choice(["  ", " ", " ", "\t", " "])
  return sep.join(sentences)


ML_PHRASES = {
    "fr": ["Où est la bibliothèque ?", "Ça coûte très cher, n'est-ce pas ?", "L'été dernier, nous sommes allés à Noël.",
           "ŒUVRE complète d'Éloïse", "«guillemets» français"],
    "de": ["Größe und Straße", "Die Mädchen spielen Fußball.", "ÄRGER über ÖL und ÜBEL", "GROẞE Grüße aus Köln"],
    "es": ["¿Dónde está el niño?", "¡Qué mañana tan fría!", "Añadió el pingüino."],
    "pt": ["Não há ação sem coração.", "A informação é útil."],
    "pl": ["Zażółć gęślą jaźń.", "ŁÓDŹ i Świętokrzyskie"],
    "cs": ["Příliš žluťoučký kůň úpěl ďábelské ódy."],
    "tr": ["İstanbul'da ılık bir gün.", "IĞDIR ve ŞIRNAK", "Kırmızı çiçekler"],
    "vi": ["Tiếng Việt có dấu thanh.", "Người ĐẸP ở Hà Nội."],
    "ru": ["Привет, как дела?", "Съешь же ещё этих мягких французских булок.", "МОСКВА — столица России.",
           "Ёлка и ёжик"],
    "uk": ["Ґрунт і їжак, що ж це?", "Україна — ЄВРОПА"],
    "el": ["Καλημέρα, τι κάνεις;", "ΟΔΟΣ ΑΘΗΝΩΝ", "Ο Σωκράτης είπε· «Ἓν οἶδα ὅτι οὐδὲν οἶδα».",
           "ΣΟΦΟΣ σοφός ΣΟΦΙΑ", "ἄνθρωπος ῥήτωρ ᾠδή"],
    "ar": ["مرحبا بالعالم", "اللُّغَةُ العَرَبِيَّةُ جميلة.", "كيف حالك؟ أنا بخير، شكراً."],
    "fa": ["می\u200cخواهم به خانه بروم.", "کتاب\u200cها را خواندم؛ خیلی خوب بودند.", "نمی\u200cدانم چرا."],
    "he": ["שלום עולם", "בְּרֵאשִׁית בָּרָא אֱלֹהִים", "מה שלומך?"],
    "hi": ["नमस्ते दुनिया", "हिन्दी भाषा बहुत सुंदर है।", "क्षत्रिय और ज्ञान", "प्रौद्योगिकीविश्वविद्यालय"],
    "th": ["สวัสดีครับ", "ภาษาไทยเขียนติดกันโดยไม่มีช่องว่างระหว่างคำ", "กรุงเทพมหานครอมรรัตนโกสินทร์"],
    "zh": ["你好，世界！", "我们今天去北京大学。", "中華人民共和國憲法", "「引號」和《書名號》"],
    "ja": ["こんにちは、世界。", "東京タワーへ行きましょう！", "カタカナとひらがなと漢字", "ｶﾀｶﾅ半角"],
    "ko": ["안녕하세요 세계", "한국어는 재미있습니다.", "서울특별시"],
    "emoji": ["I ❤️ it 👍🏽", "family 👨\u200d👩\u200d👧\u200d👦 here", "🇫🇷 flag 🏳️\u200d🌈", "smile😀grin😁"],
    "misc": ["ﬁne ligature ﬂow", "Kelvin \u212a and Ångström \u212b", "Ｆｕｌｌｗｉｄｔｈ！ＡＢＣ", "ǅemal ǈubljana",
             "ᏣᎳᎩ Cherokee", "ႠႡႢ Ⴀ", "\u1fef accent and \u037e question", "CJK compat \uf900\uf901 ext-B \U00020000\U0002a6d6",
             "combining a\u0301 e\u0300 o\u0308 \u0301alone", "Dž and ǆ", "ℌ𝔢𝔩𝔩𝔬 𝐁𝐨𝐥𝐝", "ⅣⅫ roman", "①②③"],
}
SPECIAL_CHARS = ["\x00", "\x07", "\x1b", "\x1f", "\x7f", "\x85", "\x0b", "\x0c", "\x1c", "\u00ad", "\u200b",
                 "\u200c", "\u200d", "\u200e", "\u2060", "\ufeff", "\ufffd", "\u2028", "\u2029", "\u00a0",
                 "\u3000", "\u2003", "\u202f", "\t", "\ue000", "\U000e0041", "\u061c", "\u0600", "\ufe0f"]
SCRIPT_RANGES = {
    "thai": (0x0E01, 0x0E2E), "devanagari": (0x0915, 0x0939), "cyrillic": (0x0430, 0x044F),
    "hangul": (0xAC00, 0xD7A3), "latin": (0x61, 0x7A), "arabic": (0x0628, 0x064A), "greek": (0x03B1, 0x03C9),
}


def long_word(rng):
  """A single unspaced run: 34-199 characters (often over 100 bytes) or 201-320 (over the limit)."""
  script = rng.choice(sorted(SCRIPT_RANGES))
  lo, hi = SCRIPT_RANGES[script]
  length = rng.choice([rng.randint(34, 199), rng.randint(195, 205), rng.randint(201, 320)])
  if script == "thai":
    # Real Thai words repeated without spaces, as Thai text is written.
    words = ML_PHRASES["th"]
    text = ""
    while len(text) < length:
      text += rng.choice(words)
    return text[:length]
  return "".join(chr(rng.randint(lo, hi)) for _ in range(length))


def multilingual_line(rng):
  parts = []
  for _ in range(rng.randint(2, 10)):
    roll = rng.random()
    if roll < 0.08:
      parts.append(long_word(rng))
    elif roll < 0.15:
      parts.append(english_line(rng)[:80])
    else:
      parts.append(rng.choice(ML_PHRASES[rng.choice(sorted(ML_PHRASES))]))
  text = rng.choice([" ", " ", "", "\u3000"]).join(parts)
  chars = list(text)
  for _ in range(rng.choice([0, 0, 1, 2, 4])):
    chars.insert(rng.randrange(len(chars) + 1), rng.choice(SPECIAL_CHARS))
  return "".join(chars)


def main():
  rng = random.Random(20240517)
  english = [english_line(rng) for _ in range(LINES)]
  rng = random.Random(4242)
  multilingual = [multilingual_line(rng) for _ in range(LINES)]
  for name, lines in (("english.txt", english), ("multilingual.txt", multilingual)):
    assert not any("\n" in line or "\r" in line for line in lines)
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")


if __name__ == "__main__":
  main()
