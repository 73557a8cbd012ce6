"""Runs the TFLite Task Library's BertQuestionAnswerer, as an app would: in the tflite-support venv
(scripts/setup_tflite_support.sh), which has no TensorFlow and no hub_export.

stdin: JSON {"models": {key: .tflite path}, "questions": [[context, question], ...]}.
stdout: JSON {key: [the best answer's text, or null when it gives none, per question]}.
"""

import json
import sys

from tflite_support.task import text


def main():
  request = json.load(sys.stdin)
  answers = {}
  for key, path in request["models"].items():
    answerer = text.BertQuestionAnswerer.create_from_file(path)
    results = [answerer.answer(context, question).answers for context, question in request["questions"]]
    answers[key] = [found[0].text if found else None for found in results]
  json.dump(answers, sys.stdout)


if __name__ == "__main__":
  main()
