"""The names of the files a checkpoint directory and an export hold, written once."""

CONFIG_NAME = "bert_config.json"  # a release checkpoint's architecture
VOCAB_NAME = "vocab.txt"  # WordPiece vocab: beside a checkpoint, and as a SavedModel's or .tflite's asset
CASING_NAME = "vocab_casing.json"  # the casing recorded beside a vocab this project wrote
SAVED_MODEL_NAME = "saved_model.pb"  # what makes a directory a SavedModel
