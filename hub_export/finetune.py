"""Fine-tunes MobileBERT for SQuAD or sentence (pair) classification and exports a task SavedModel.

    python -m hub_export.finetune --task squad --train_file train-v1.1.json \
        (--encoder DIR [--preprocessor DIR] | --ckpt PATH) --export_dir DIR [--eval_file dev-v1.1.json]
        [--version_2_with_negative] [--max_seq_length 384 --max_query_length 64 --doc_stride 128
        --max_answer_length 30] [--epochs N --learning_rate R --batch_size B --seed S]
        [--model_dir DIR] [--strategy default|mirrored|multi_worker] [--overwrite]
    python -m hub_export.finetune --task classification --train_file train.tsv
        (--glue_task NAME | --text_column C [--text_b_column C] --label_column C [--labels a,b] [--regression])
        ...the same encoder, output and training flags...

--encoder is a published encoder SavedModel (a folder, a `.tar.gz` from publish or a
kaggle://OWNER/MODEL/tensorFlow2/VARIATION[/VERSION] handle, downloaded within --network_timeout and
--network_retries as verify does), fine-tuned under hub.KerasLayer(trainable=True); --preprocessor likewise;
--ckpt a checkpoint (a pre-training release gets a fresh seeded head; a checkpoint of the original
fine-tuning code restores its head too). `--model_dir` holds checkpoints (rerunning resumes),
TensorBoard scalars, metrics.json and, fine-tuning from a release checkpoint, `encoder/`: the
fine-tuned encoder as a --ckpt for export_encoder. The export is the task SavedModel of docs/tasks.md.
"""

import argparse
import sys

from hub_export.support import cli
from hub_export.distillation.run import STRATEGIES
from hub_export.kaggle_models import network
from hub_export.hub_format.task_model_files import CLASSIFICATION, TASKS

# The original run_squad.py's and Model Maker's MobileBERT settings (docs/tasks.md).
DEFAULTS = {"squad": dict(max_seq_length=384, learning_rate=4e-5, epochs=5),
            CLASSIFICATION: dict(max_seq_length=128, learning_rate=3e-5, epochs=3)}


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.finetune", description=__doc__.split("\n")[0])
  parser.add_argument("--task", required=True, choices=TASKS)
  parser.add_argument("--train_file", required=True, help="SQuAD JSON, or a GLUE-style TSV")
  parser.add_argument("--eval_file", help="scored at the end; its metrics go into task.json and metrics.json")
  source = parser.add_mutually_exclusive_group(required=True)
  source.add_argument("--encoder", help="published encoder SavedModel: folder, .tar.gz or kaggle:// handle "
                                        "(fine-tuned through hub.KerasLayer)")
  source.add_argument("--ckpt", help="checkpoint prefix, or a release directory holding one")
  parser.add_argument("--preprocessor", help="preprocessor SavedModel: folder, .tar.gz or kaggle:// handle (default: "
                                             "built from the encoder's vocab)")
  parser.add_argument("--bert_config", help="with --ckpt: bert_config.json (default: the one beside the checkpoint)")
  parser.add_argument("--vocab", help="with --ckpt: vocab.txt (default: the one beside the checkpoint)")
  parser.add_argument("--lower_case", type=cli.str2bool, default=None, help="with --ckpt: true|false")
  parser.add_argument("--export_dir", required=True, help="the task SavedModel to write")
  parser.add_argument("--model_dir", help="run folder: checkpoints (resumed), tensorboard/, metrics.json, encoder/")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace an existing --export_dir and start --model_dir afresh")
  parser.add_argument("--max_seq_length", type=cli.positive_int, help="default 384 (squad), 128 (classification)")
  squad = parser.add_argument_group("squad")
  squad.add_argument("--version_2_with_negative", action="store_true", help="SQuAD v2.0: no-answer questions")
  squad.add_argument("--max_query_length", type=cli.positive_int, default=64)
  squad.add_argument("--doc_stride", type=cli.positive_int, default=128)
  squad.add_argument("--max_answer_length", type=cli.positive_int, default=30)
  squad.add_argument("--null_score_diff_threshold", type=float, default=0.0)
  classify = parser.add_argument_group("classification")
  classify.add_argument("--glue_task", help="cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli or xnli")
  classify.add_argument("--text_column", help="header name or 0-based position of the text")
  classify.add_argument("--text_b_column", help="the second text of a pair")
  classify.add_argument("--label_column", help="the label (or score) column")
  classify.add_argument("--no_header", action="store_true", help="the first line is an example")
  classify.add_argument("--labels", help="comma-separated label list in logit order (default: the labels found)")
  classify.add_argument("--regression", action="store_true", help="number labels, one output, squared error")
  train = parser.add_argument_group("training")
  train.add_argument("--epochs", type=cli.positive_int)
  train.add_argument("--learning_rate", type=float, help="peak rate (default 4e-5 squad, 3e-5 classification)")
  train.add_argument("--batch_size", type=cli.positive_int, default=32, help="global batch size")
  train.add_argument("--seed", type=int, default=0, help="seeds the head, dropout and the data order")
  train.add_argument("--checkpoint_every", type=cli.positive_int, default=1000, help="steps between checkpoints")
  train.add_argument("--deterministic", action="store_true",
                     help="TensorFlow's deterministic ops (same seed, same result on GPUs too; slower)")
  train.add_argument("--strategy", choices=STRATEGIES, default="default",
                     help="mirrored: all local devices; multi_worker: the cluster in TF_CONFIG")
  train.add_argument("--cpu_devices", type=int, default=0, help="split the CPU into this many logical devices")
  network.add_arguments(parser)
  args = parser.parse_args(argv)
  for name, value in DEFAULTS[args.task].items():
    if getattr(args, name) is None:
      setattr(args, name, value)
  if args.task == CLASSIFICATION and bool(args.glue_task) == bool(args.text_column or args.label_column):
    parser.error("classification takes --glue_task, or --text_column and --label_column")
  if args.task == CLASSIFICATION and not args.glue_task and not (args.text_column and args.label_column):
    parser.error("--text_column and --label_column go together")
  if args.encoder and (args.bert_config or args.vocab or args.lower_case is not None):
    parser.error("--bert_config, --vocab and --lower_case go with --ckpt (an encoder export carries its own)")
  if args.learning_rate <= 0:
    parser.error("--learning_rate must be positive")
  return args


def _main(argv):
  from hub_export.tasks.finetune_job import finetune

  finetune(parse_args(argv))


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
