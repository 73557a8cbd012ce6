"""Measures a checkpoint's masked-LM accuracy on pre-training records (e.g. held-out data).

    python -m hub_export.evaluate_mlm --ckpt PATH --data DIR [--bert_config FILE] [--role student|teacher]
        [--batch_size 64]

`--ckpt`: any checkpoint export_encoder reads (a distilled student, a teacher, a release).
`--data`: a folder written by python -m hub_export.pretraining_data. Prints one JSON line:
the top-1 accuracy over the masked positions, each weighted by its `masked_lm_weights`, and
the number of weighted predictions it counted.
"""

import argparse
import json
import sys

from hub_export.config import ROLE_DEFAULTS, STUDENT
from hub_export.support import cli, log


def parse_args(argv):
  parser = argparse.ArgumentParser(prog="python -m hub_export.evaluate_mlm", description=__doc__.split("\n")[0])
  parser.add_argument("--ckpt", required=True, help="checkpoint prefix or directory (any layout export_encoder reads)")
  parser.add_argument("--data", required=True, help="folder written by python -m hub_export.pretraining_data")
  parser.add_argument("--bert_config", help="bert_config.json (default: the one beside the checkpoint)")
  parser.add_argument("--role", choices=sorted(ROLE_DEFAULTS), default=STUDENT,
                      help="whose defaults fill keys absent from the config (teacher: IB-BERT)")
  parser.add_argument("--batch_size", type=int, default=64)
  args = parser.parse_args(argv)
  if args.batch_size < 1:
    parser.error("--batch_size must be at least 1")
  return args


def _main(argv):
  args = parse_args(argv)
  from hub_export.distillation.evaluation import evaluate_checkpoint

  with log.step("evaluate"):
    result = evaluate_checkpoint(args.ckpt, args.data, args.bert_config, role=args.role, batch_size=args.batch_size)
  print(json.dumps(result))


def main(argv=None):
  sys.exit(cli.run(_main, argv))


if __name__ == "__main__":
  main()
