"""The inputs `export_tflite` checks a task model's file with and calibrates int8 on: SQuAD windows as the TFLite
Task Library feeds a question answerer (`--task_model`), and packed texts or pairs for a classifier
(`--task_classifier`).

Each is `[CLS] question [SEP] context [SEP]` at 384, the question cut to 64 wordpieces, made by the
SQuAD windowing (`squad_windows`) with the task model's vocab and settings. From a SQuAD file: its
questions over their contexts. Else from a text: each line a question, the `CONTEXT_LINES` lines after
it (wrapping round) its context.
"""

from pathlib import Path

from hub_export.hub_format.task_model_files import read_task_config
from hub_export.support.filenames import VOCAB_NAME
from hub_export.tasks import squad_data, squad_windows
from hub_export.tflite.qa_source import TASK_LIBRARY_QUERY_LENGTH, TASK_LIBRARY_SEQ_LENGTH
from hub_export.tflite.representative_data import read_lines

CONTEXT_LINES = 12


def _text_examples(path, count: int) -> list:
  lines = read_lines(path)
  examples = []
  for i, question in enumerate(lines[:count]):
    context = " ".join(lines[(i + k) % len(lines)] for k in range(1, CONTEXT_LINES + 1))
    examples.append(squad_data.Example(qas_id=str(i), question=question, paragraph=squad_data.split_context(context),
                                       answers=()))
  return examples


def qa_windows(task_model, squad_file, text_file, count: int) -> list:
  """Up to `count` input dicts (int32 [1, 384]) for the task model folder `task_model`, from `squad_file` when
  given, else from `text_file`."""
  from hub_export.tasks.squad_tokens import WordpieceTokenizer
  from hub_export.tokenization.vocab import load_vocab

  config = read_task_config(task_model)
  if squad_file is not None:
    examples = squad_data.read_squad(squad_file, config["version_2_with_negative"], training=False).examples
  else:
    examples = _text_examples(text_file, count)
  vocab = load_vocab(Path(task_model) / "assets" / VOCAB_NAME)
  encoded = squad_windows.encode(examples[:count], WordpieceTokenizer(vocab, config["lower_case"]), vocab,
                                 TASK_LIBRARY_SEQ_LENGTH, TASK_LIBRARY_QUERY_LENGTH, config["doc_stride"])
  windows = encoded.windows[:count]
  arrays = squad_windows.as_arrays(windows, vocab, TASK_LIBRARY_SEQ_LENGTH)
  return [{key: value[i:i + 1] for key, value in arrays.items()} for i in range(len(windows))]


def classifier_windows(task_model, tsv_file, text_file, count: int) -> list:
  """Up to `count` input dicts (int32 [1, max_seq_length]) for the classification task model folder `task_model`:
  the texts (or pairs) of `tsv_file` when given, read as `evaluate_task` reads it, else the lines of `text_file`
  (for a pair model, each line and the next)."""
  from hub_export.tasks import classification_data, task_scoring
  from hub_export.tokenization.vocab import load_vocab

  config = read_task_config(task_model)
  if tsv_file is not None:
    examples = task_scoring.read_classification(tsv_file, config, config.get("glue_task"))[0].examples[:count]
  else:
    lines = read_lines(text_file, count + 1)
    second = (lambda i: lines[(i + 1) % len(lines)]) if config["pair"] else (lambda i: None)
    examples = [classification_data.Example(text_a=line, text_b=second(i), label=None, language=None, line=i + 1)
                for i, line in enumerate(lines[:count])]
  arrays = task_scoring.classification_inputs(examples, config, load_vocab(Path(task_model) / "assets" / VOCAB_NAME))
  return [{key: value[i:i + 1] for key, value in arrays.items()} for i in range(len(examples))]
