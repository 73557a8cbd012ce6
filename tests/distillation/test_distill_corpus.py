"""The offline English corpus: real reference prose, deterministic, held-out topics apart from training ones."""

from hub_export.distillation import corpus
from hub_export.pretraining_data import read_documents


def test_corpus_is_deterministic_prose_with_held_out_topics_apart(tmp_path):
  first = corpus.write_corpus(tmp_path / "a")
  second = corpus.write_corpus(tmp_path / "b")
  assert second == {name: {**info, "path": str(tmp_path / "b" / name)} for name, info in first.items()}
  for name in (corpus.TRAIN_NAME, corpus.HELD_OUT_NAME):
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
  assert first[corpus.TRAIN_NAME]["words"] > 25000 and first[corpus.HELD_OUT_NAME]["words"] > 4000

  train = read_documents([tmp_path / "a" / corpus.TRAIN_NAME])
  held_out = read_documents([tmp_path / "a" / corpus.HELD_OUT_NAME])
  assert len(train) == first[corpus.TRAIN_NAME]["documents"] and len(held_out) == first[corpus.HELD_OUT_NAME]["documents"]
  # The reference's own words, one sentence a line: the assignment topic's opening sentence is there whole.
  assert ("Assignment statements are used to (re)bind names to values and to modify attributes or items "
          "of mutable objects:") in {s for d in train + held_out for s in d}
  sentences = [s for d in train + held_out for s in d]
  assert not any(s.startswith((">>>", "   ")) or "::=" in s for s in sentences)  # no code or grammar
  # Held-out text comes from the held-out topics, and no held-out sentence is trained on
  # (topics repeat one another's sections).
  held_out_topics = [name for i, name in enumerate(sorted(corpus.topics())) if i % corpus.HELD_OUT_EVERY == 0]
  from_held_out_topics = {tuple(d) for name in held_out_topics for d in corpus.topic_documents(corpus.topics()[name])}
  assert all(tuple(d) in from_held_out_topics for d in held_out)
  assert not {s for d in train for s in d} & {s for d in held_out for s in d}


def test_topic_sections_split_at_headings_and_skip_indented_blocks():
  text = ("Title\n*****\n\nFirst sentence of the section is here. Second one follows it now.\n\n"
          "   code_block ::= not prose at all here\n\n* A bullet item is kept as prose.\n\n"
          "Sub\n===\n\nAnother section starts right here. It has two sentences too.\n")
  assert corpus.topic_documents(text) == [
      ["First sentence of the section is here.", "Second one follows it now.", "A bullet item is kept as prose."],
      ["Another section starts right here.", "It has two sentences too."]]
