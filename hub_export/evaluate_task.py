"""Scores a task model (SQuAD or classification) on an eval file with the official metrics.

    python -m hub_export.evaluate_task --task {squad,classification} --model M --eval_file F \
        [--predictions_out FILE] [--na_prob_out FILE] [--version_2_with_negative] \
        [--glue_task NAME | --text_column C --text_b_column C --label_column C --no_header] [--batch_size N] \
        [--via_hub] [--assets_from DIR] [--overwrite]

M is a task SavedModel folder (its `serve` signature, or with --via_hub its `hub.KerasLayer`
reload), a Keras 3 `.keras` file or preset folder, or a `.tflite` with the `serve` inputs. The
settings come from `assets/task.json` and `assets/vocab.txt` of M, or of --assets_from for a
model without them. One JSON line of metrics goes to stdout; predictions are written atomically.
"""

import argparse
import contextlib
import json
import sys
from pathlib import Path

from hub_export.support import cli, log
from hub_export.support.errors import HubExportError
from hub_export.support.atomic import atomic_file, check_file_target
from hub_export.hub_format.task_model_files import CLASSIFICATION, SQUAD, read_task_config

DEFAULT_BATCH_SIZE = 32


def _column(text: str):
  return int(text) if text.lstrip("-").isdigit() else text


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.evaluate_task", description=__doc__.split("\n")[0])
  parser.add_argument("--task", required=True, choices=(SQUAD, CLASSIFICATION))
  parser.add_argument("--model", required=True, help="task SavedModel folder, .keras file, preset folder or .tflite")
  parser.add_argument("--eval_file", required=True, help="SQuAD JSON or GLUE-style TSV with gold answers or labels")
  parser.add_argument("--assets_from", help="task SavedModel whose assets/task.json and vocab.txt describe --model "
                                            "(default: --model itself)")
  parser.add_argument("--via_hub", action="store_true", help="load the SavedModel through hub.KerasLayer")
  parser.add_argument("--predictions_out", help="SQuAD: JSON {question id: answer}; classification: a label a line")
  parser.add_argument("--na_prob_out", help="SQuAD v2.0: JSON {question id: no-answer odds} for the v2.0 script")
  parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
  parser.add_argument("--batch_size", type=cli.positive_int, default=DEFAULT_BATCH_SIZE)
  parser.add_argument("--version_2_with_negative", action="store_true",
                      help="score as SQuAD v2.0 (also when the model's task.json says so)")
  parser.add_argument("--glue_task", help="read the eval file in this GLUE/XNLI task's dev layout "
                                          "(default: the model's task.json glue_task)")
  for name, role in (("text", "the text"), ("text_b", "the second text of a pair"), ("label", "the gold label")):
    parser.add_argument(f"--{name}_column", type=_column, help=f"header name or 0-based position of {role}")
  parser.add_argument("--no_header", action="store_true", help="the TSV's first line is an example (name columns "
                                                                 "by position)")
  return parser.parse_args(argv)


def _is_json_object(path: Path) -> bool:
  try:
    return isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
  except (OSError, UnicodeDecodeError, ValueError):
    return False


def _is_text(path: Path) -> bool:
  try:
    return "\0" not in path.read_text(encoding="utf-8")
  except (OSError, UnicodeDecodeError):
    return False


def evaluate_task(task, model, eval_file, assets_from=None, via_hub=False, predictions_out=None, na_prob_out=None,
                  overwrite=False, batch_size=DEFAULT_BATCH_SIZE, version_2=False, glue_task=None,
                  columns=None, header=True) -> dict:
  """The whole job; returns the metrics. Raises HubExportError on bad input, before any output is written.

  `columns` ({"text", "text_b", "label"}: header name or position) overrides GLUE's header names;
  `header` False reads a TSV whose first line is an example.
  """
  from hub_export.tasks import squad_data, task_runners, task_scoring
  from hub_export.tokenization.vocab import load_vocab

  inputs = [p for p in (model, eval_file, assets_from) if p]
  ours = _is_json_object if task == SQUAD else _is_text
  outputs = [(predictions_out, ours), (na_prob_out, _is_json_object)]
  for target, kind in outputs:
    if target:
      check_file_target(target, overwrite, protected=inputs, ours=kind)
  if predictions_out and na_prob_out and Path(predictions_out).absolute() == Path(na_prob_out).absolute():
    raise HubExportError(f"--predictions_out and --na_prob_out are both {predictions_out}: give two files")
  if not assets_from and not (Path(model) / "saved_model.pb").is_file():
    raise HubExportError(f"{model} carries no task settings: pass --assets_from the task SavedModel it came from")
  assets = Path(assets_from or model)
  config = read_task_config(assets)
  if config["task"] != task:
    raise HubExportError(f"{assets} holds a {config['task']} model, not --task {task}")
  version_2 = task == SQUAD and (version_2 or config["version_2_with_negative"])
  if na_prob_out and not version_2:
    raise HubExportError("--na_prob_out is for SQuAD v2.0 (--version_2_with_negative or a v2.0 model)")
  vocab = load_vocab(assets / "assets" / "vocab.txt")
  if task == SQUAD:  # the eval file is read first: a bad one is refused before the model loads
    examples = squad_data.read_squad(eval_file, version_2, training=False).examples
  else:
    dataset, metric = task_scoring.read_classification(eval_file, config, glue_task or config.get("glue_task"),
                                                       columns, header)
  with log.step("load the model"):
    runner = task_runners.load_runner(model, task, via_hub)
  with log.step("score"):
    if task == SQUAD:
      scored = task_scoring.score_squad(runner, examples, config, vocab, batch_size, version_2)
    else:
      scored = task_scoring.score_classification(runner, dataset, metric, config, vocab, batch_size)
  texts = {predictions_out: json.dumps(scored.predictions, indent=2, ensure_ascii=False) if task == SQUAD
           else "".join(f"{line}\n" for line in scored.predictions),
           na_prob_out: json.dumps(scored.null_odds, indent=2)}
  with contextlib.ExitStack() as stack:  # each output replaces its target only once every one is written
    for target, kind in outputs:
      if target:
        stack.enter_context(atomic_file(target, overwrite, inputs, kind)).write_text(texts[target], encoding="utf-8")
  return scored.metrics


def _main(argv):
  args = parse_args(argv)
  columns = {"text": args.text_column, "text_b": args.text_b_column, "label": args.label_column}
  metrics = evaluate_task(args.task, args.model, args.eval_file, args.assets_from, args.via_hub, args.predictions_out,
                          args.na_prob_out, args.overwrite, args.batch_size, args.version_2_with_negative,
                          args.glue_task, columns, not args.no_header)
  print(json.dumps(metrics), flush=True)


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
