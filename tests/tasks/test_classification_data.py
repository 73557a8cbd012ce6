"""GLUE and XNLI readers on small files written in each distribution's exact layout, and each bad input's one line."""

import pytest

from hub_export.support.errors import HubExportError
from hub_export.tasks.classification_data import Columns, read_task, read_tsv

MNLI_HEAD = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
             "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
XNLI_HEAD = ["language", "gold_label", "sentence1_binary_parse", "sentence2_binary_parse", "sentence1_parse",
             "sentence2_parse", "sentence1", "sentence2", "promptID", "pairID", "genre", "label1", "label2", "label3",
             "label4", "label5", "sentence1_tokenized", "sentence2_tokenized", "match"]
STSB_HEAD = ["index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2"]


def _write(tmp_path, rows, name="data.tsv", prefix=b""):
  path = tmp_path / name
  path.write_bytes(prefix + "".join("\t".join(row) + "\n" for row in rows).encode("utf-8"))
  return path


def _texts(dataset):
  return [(e.text_a, e.text_b, e.label) for e in dataset.examples]


def test_cola_train_has_no_header_and_test_has_one(tmp_path):
  sentence = "Our friends won't buy this analysis, let alone the next one we propose."
  train = _write(tmp_path, [["gj04", "1", "", sentence], ["gj04", "0", "*", 'They drank the "pub.']], "train.tsv")
  dataset = read_task("cola", "train", train)
  assert dataset.labels == ("0", "1")
  assert _texts(dataset) == [(sentence, None, 1), ('They drank the "pub.', None, 0)]
  assert [e.line for e in dataset.examples] == [1, 2]
  test = _write(tmp_path, [["index", "sentence"], ["0", "Bill whistled past the house."]], "test.tsv")
  assert _texts(read_task("cola", "test", test)) == [("Bill whistled past the house.", None, None)]


def test_sst2_keeps_trailing_spaces_and_unicode(tmp_path):
  path = _write(tmp_path, [["sentence", "label"], ["hide new secretions from the parental units ", "0"],
                           ["a naïve, “charming” film\u2028with line separators ", "1"]])
  assert _texts(read_task("sst2", "dev", path)) == [("hide new secretions from the parental units ", None, 0),
                                                    ("a naïve, “charming” film\u2028with line separators ", None, 1)]


def test_mrpc_msr_paraphrase_layout_with_byte_order_mark(tmp_path):
  rows = [["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"],
          ["1", "702876", "702977", 'Amrozi accused his brother , whom he called " the witness " , of deliberately '
           'distorting his evidence .', 'Referring to him as only " the witness " , Amrozi accused his brother .'],
          ["0", "2108705", "2108831", "Yucaipa owned Dominick 's before selling the chain to Safeway in 1998 .", ""]]
  dataset = read_task("mrpc", "train", _write(tmp_path, rows, prefix=b"\xef\xbb\xbf"))
  assert _texts(dataset) == [(rows[1][3], rows[1][4], 1), (rows[2][3], "", 0)]
  test = _write(tmp_path, [["index", "#1 ID", "#2 ID", "#1 String", "#2 String"],
                           ["0", "1089874", "1089925", "a", "b"]], "test.tsv")
  assert _texts(read_task("mrpc", "test", test)) == [("a", "b", None)]


def test_qqp_and_its_test_layout(tmp_path):
  path = _write(tmp_path, [["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
                           ["133273", "213221", "213222", 'How is "life of a math student?', "Which level is enough?",
                            "0"],
                           ["402555", "536040", "536041", "How do I control my horny emotions?", "How do you control?",
                            "1"]])
  assert _texts(read_task("qqp", "dev", path)) == [('How is "life of a math student?', "Which level is enough?", 0),
                                                   ("How do I control my horny emotions?", "How do you control?", 1)]
  test = _write(tmp_path, [["id", "question1", "question2"], ["0", "Why?", "Why not?"]], "test.tsv")
  assert _texts(read_task("qqp", "test", test)) == [("Why?", "Why not?", None)]


def test_stsb_scores_are_numbers(tmp_path):
  path = _write(tmp_path, [STSB_HEAD + ["score"],
                           ["0", "main-captions", "MSRvid", "2012test", "0001", "none", "none",
                            "A plane is taking off.", "An air plane is taking off.", "5.000"],
                           ["1", "main-captions", "MSRvid", "2012test", "0004", "none", "none", "A man is playing.",
                            "A man plays.", "3.800"]])
  dataset = read_task("stsb", "dev", path)
  assert dataset.regression and dataset.labels == ()
  assert _texts(dataset) == [("A plane is taking off.", "An air plane is taking off.", 5.0),
                             ("A man is playing.", "A man plays.", 3.8)]


def test_mnli_train_dev_and_test_widths_with_stray_quotes(tmp_path):
  parses = ["( ( a ) )", "( b )", "(ROOT (S a))", "(ROOT (S b))"]
  train = _write(tmp_path, [MNLI_HEAD + ["label1", "gold_label"],
                            ["0", "31193", "31193n", "government", *parses,
                             '"Your gift is appreciated by each and every student.', "Hundreds benefit.", "neutral",
                             "neutral"]], "train.tsv")
  assert _texts(read_task("mnli", "train", train)) == [
      ('"Your gift is appreciated by each and every student.', "Hundreds benefit.", 2)]
  dev = _write(tmp_path, [MNLI_HEAD + ["label1", "label2", "label3", "label4", "label5", "gold_label"],
                          ["0", "63735", "63735n", "slate", *parses, "The new rights are nice enough",
                           "Everyone really likes the newest benefits ", "neutral", "entailment", "neutral", "neutral",
                           "neutral", "contradiction"]], "dev_mismatched.tsv")
  assert _texts(read_task("mnli", "dev", dev)) == [
      ("The new rights are nice enough", "Everyone really likes the newest benefits ", 0)]
  test = _write(tmp_path, [MNLI_HEAD, ["0", "31493", "31493", "travel", *parses, "Hierbas, ans seco", "It is sweet."]],
                "test_matched.tsv")
  assert _texts(read_task("mnli", "test", test)) == [("Hierbas, ans seco", "It is sweet.", None)]


@pytest.mark.parametrize("task", ["qnli", "rte"])
def test_qnli_and_rte_entailment_labels(tmp_path, task):
  head = ["index", "question", "sentence"] if task == "qnli" else ["index", "sentence1", "sentence2"]
  path = _write(tmp_path, [head + ["label"], ["0", "What came into force?", "The constitution did.", "entailment"],
                           ["1", "Who?", "Nobody, said 'he'.", "not_entailment"]])
  dataset = read_task(task, "dev", path)
  assert dataset.labels == ("entailment", "not_entailment")
  assert _texts(dataset) == [("What came into force?", "The constitution did.", 0),
                             ("Who?", "Nobody, said 'he'.", 1)]


def test_xnli_dev_languages_and_translated_training_file(tmp_path):
  rows = [XNLI_HEAD,
          ["en", "contradiction", "", "", "", "", "And he said, Mama, I'm home.", "He didn't say a word.", "1", "1",
           "facetoface", "contradiction", "", "", "", "", "And he said ...", "He didn 't ...", "True"],
          ["zh", "entailment", "", "", "", "", "他说，妈妈，我回来了。", "他说他回家了。", "1", "2", "facetoface",
           "entailment", "", "", "", "", "他 说", "他 说", "True"]]
  dataset = read_task("xnli", "test", _write(tmp_path, rows, "xnli.test.tsv"))
  assert dataset.labels == ("contradiction", "entailment", "neutral")
  assert [(e.language, e.text_a, e.text_b, e.label) for e in dataset.examples] == [
      ("en", "And he said, Mama, I'm home.", "He didn't say a word.", 0),
      ("zh", "他说，妈妈，我回来了。", "他说他回家了。", 1)]
  train = _write(tmp_path, [["premise", "hypo", "label"], ["我们 家里 有 一个", "我们 家里 没有", "contradictory"],
                            ["a", "b", "neutral"]], "multinli.train.zh.tsv")
  assert _texts(read_task("xnli", "train", train)) == [("我们 家里 有 一个", "我们 家里 没有", 0), ("a", "b", 2)]


def test_named_and_positional_columns_with_labels_from_the_file(tmp_path):
  path = _write(tmp_path, [["id", "label", "review", "title"], ["7", "pos", "great", "A"], ["8", "neg", "bad", ""],
                           ["9", "meh", "so so", "C"]])
  dataset = read_tsv(path, Columns(text="review", text_b=-1, label=1))
  assert dataset.labels == ("meh", "neg", "pos")
  assert _texts(dataset) == [("great", "A", 2), ("bad", "", 1), ("so so", "C", 0)]
  given = read_tsv(path, Columns(text="review", label="label"), labels=["pos", "neg", "meh"])
  assert given.labels == ("pos", "neg", "meh") and [e.label for e in given.examples] == [0, 1, 2]
  with pytest.raises(HubExportError, match="labels pos, neg, pos name a label twice"):
    read_tsv(path, Columns(text="review", label="label"), labels=["pos", "neg", "pos"])
  unlabelled = read_tsv(path, Columns(text=2, header=True))
  assert unlabelled.labels == () and [e.label for e in unlabelled.examples] == [None, None, None]


@pytest.mark.parametrize("content, columns, labels, message", [
    (b"", Columns(0), None, "data.tsv is empty"),
    (b"sentence\tlabel\n", Columns("sentence", label="label"), None, "data.tsv holds no examples, only a header"),
    (b"sentence\tlabel\na\t0\nb\n", Columns("sentence", label="label"), None,
     "data.tsv line 3: 1 columns, expected 2 as on line 1"),
    (b"sentence\tlabel\na\t0\n\n", Columns("sentence", label="label"), None,
     "data.tsv line 3: 0 columns, expected 2 as on line 1"),
    (b"sentence\tlabel\na\t0\nb\t2\n", Columns("sentence", label="label"), ("0", "1"),
     "data.tsv line 3: label '2' is not one of 0, 1"),
    (b"sentence\tlabel\na\t\n", Columns("sentence", label="label"), None, "data.tsv line 2: empty label"),
    (b"sentence\tlabel\na\t0\n", Columns("text", label="label"), None,
     "column 'text' is not in the header of {path} (columns: sentence, label)"),
    (b"s\ts\n", Columns("s"), None, "column 's' is more than once in the header of {path} (columns: s, s)"),
    (b"a\t0\n", Columns("sentence", header=False), None,
     "column 'sentence' is named, but {path} is read without a header: give its position"),
    (b"a\t0\n", Columns(0, label=2, header=False), None, "column 2 does not exist: the rows of {path} have 2 columns"),
    (b"s\tl\nok\t1\n\xff\t0\n", Columns(0), None, "data.tsv line 3 is not UTF-8 (byte 0 of the line)"),
    (b"s\tl\nok\t1\nx\ry\t0\n", Columns(0), None, "data.tsv line 3: new-line character seen in unquoted field"),
])
def test_bad_input_is_one_line_naming_file_and_line(tmp_path, content, columns, labels, message):
  path = tmp_path / "data.tsv"
  path.write_bytes(content)
  with pytest.raises(HubExportError) as caught:
    read_tsv(path, columns, labels)
  text = str(caught.value)
  assert "\n" not in text
  assert message.format(path=path) in text and str(path) in text


def test_bad_scores_tasks_splits_and_missing_files(tmp_path):
  path = _write(tmp_path, [STSB_HEAD + ["score"], ["0", "g", "f", "y", "1", "n", "n", "a", "b", "nan"]])
  with pytest.raises(HubExportError, match=r"data.tsv line 2: score 'nan' is not a finite number"):
    read_task("stsb", "train", path)
  with pytest.raises(HubExportError, match="unknown task 'sts'"):
    read_task("sts", "train", path)
  with pytest.raises(HubExportError, match="unknown split 'validation'"):
    read_task("stsb", "validation", path)
  with pytest.raises(HubExportError, match="no column|not in the header of"):
    read_task("mrpc", "dev", path)
  with pytest.raises(HubExportError, match=r"cannot read .*missing.tsv: No such file or directory"):
    read_task("cola", "train", tmp_path / "missing.tsv")
