"""tfhub.dev-style model cards: `# Module publisher/model/version`, metadata comments, usage."""

import dataclasses

from hub_export import signatures as sig
from hub_export.hub_format.task_model_files import CLASSIFICATION, SQUAD
from hub_export.publishing.facts import EncoderFacts, KerasPresetFacts, PreprocessorFacts
from hub_export.tflite.mediapipe_tokenizer import mediapipe_tokenizer_note

FORMAT = "saved_model_2"
KERAS_FORMAT = "keras"
NETWORK_ARCHITECTURE = "transformer"


@dataclasses.dataclass(frozen=True)
class Release:
  """What the publisher says about a release; everything else comes from the SavedModel."""

  publisher: str
  name: str
  version: int
  language: str
  license: str
  dataset: str | None = None
  description: str | None = None

  @property
  def handle(self) -> str:
    return f"{self.publisher}/{self.name}/{self.version}"

  @property
  def tarball_name(self) -> str:
    return f"{self.name}_{self.version}.tar.gz"


def _casing(lower_case: bool) -> str:
  return "uncased" if lower_case else "cased"


def _header(release: Release, description: str, task: str, fine_tunable: bool, architecture=None,
            model_format=FORMAT) -> str:
  tags = [("asset-path", release.tarball_name), ("task", task),
          ("fine-tunable", "true" if fine_tunable else "false"), ("format", model_format),
          ("language", release.language)]
  if architecture:
    tags.append(("network-architecture", architecture))
  tags.append(("license", release.license))
  if release.dataset:
    tags.append(("dataset", release.dataset))
  lines = [f"# Module {release.handle}", release.description or description, ""]
  lines += [f"<!-- {key}: {value} -->" for key, value in tags]
  return "\n".join(lines) + "\n"


def _casing_note(lower_case: bool) -> str:
  if lower_case:
    return ("Text is normalized the \"uncased\" way: lower-cased and stripped of accents before "
            "WordPiece tokenization.")
  return "Text is tokenized \"cased\": case and accents are kept."


def encoder_body(release: Release, facts: EncoderFacts, preprocessor_handle: str | None) -> str:
  """The card's prose and usage, shared with the Kaggle model description."""
  pre = preprocessor_handle or "PREPROCESSOR_HANDLE"
  pre_note = (f"The matching preprocessor is published as `{preprocessor_handle}`."
              if preprocessor_handle else
              f"Use a BERT preprocessor built from the same {facts.vocab_size}-token "
              f"{_casing(facts.lower_case)} vocabulary.")
  return f"""## Overview

A Transformer text encoder with hidden size {facts.hidden_size} and a {facts.vocab_size}-token
{_casing(facts.lower_case)} WordPiece vocabulary (`assets/{facts.vocab_file}`).
{_casing_note(facts.lower_case)}

* Encoder parameters: {facts.parameters:,} (all trainable; fine-tuning all of them is the
  usual practice).
* Masked-LM head parameters (only in `.mlm`): {facts.mlm_head_parameters:,}.

## Usage

```python
import tensorflow as tf
import tensorflow_text  # noqa: F401  registers the ops the preprocessor uses
import tensorflow_hub as hub

text_input = tf.keras.layers.Input(shape=(), dtype=tf.string)
preprocessor = hub.KerasLayer("{pre}")
encoder = hub.KerasLayer("{release.handle}", trainable=True)
outputs = encoder(preprocessor(text_input))
pooled_output = outputs["pooled_output"]      # [batch_size, {facts.hidden_size}]
sequence_output = outputs["sequence_output"]  # [batch_size, seq_length, {facts.hidden_size}]
```

{pre_note}
With `tensorflow_hub` 0.16 and TF 2.16 or newer, build models with `tf_keras`
(or set `TF_USE_LEGACY_KERAS=1` before importing TensorFlow).

### Inputs

A dict of three int32 tensors of shape `[batch_size, seq_length]` (both dynamic):

* `input_word_ids`: token ids.
* `input_mask`: 1 for real tokens, 0 for padding.
* `input_type_ids`: 0 for the first segment (with `[CLS]` and its `[SEP]`), 1 for the second.

### Outputs

* `pooled_output`: `[batch_size, {facts.hidden_size}]` float32, one vector per sequence.
* `default`: the same as `pooled_output`.
* `sequence_output`: `[batch_size, seq_length, {facts.hidden_size}]` float32, one vector per token.
* `encoder_outputs`: a list of {facts.encoder_outputs} tensors `[batch_size, seq_length, {facts.hidden_size}]`;
  the last equals `sequence_output`.

### Masked language model (`.mlm`)

The `.mlm` sub-object takes the same inputs plus `masked_lm_positions` (int32
`[batch_size, num_predict]`, zero-padded) and adds `mlm_logits`
(`[batch_size, num_predict, {facts.vocab_size}]`). Its head's variables stay out of the encoder's
variable lists, so `hub.KerasLayer(encoder_handle)` does not carry them.

```python
encoder = hub.load("{release.handle}")
mlm = hub.KerasLayer(encoder.mlm, trainable=True)
mlm_logits = mlm(dict(encoder_inputs, masked_lm_positions=positions))["mlm_logits"]
```

### On device (LiteRT, MediaPipe Tasks)

The exporter's `.tflite` files carry TFLite metadata (inputs `ids`, `mask`, `segment_ids`, the
vocab as a BERT tokenizer), so MediaPipe's `TextEmbedder` and `TextClassifier` run them on raw
strings. {mediapipe_tokenizer_note(facts.lower_case)}

For this model's own tokenization on device, `export_tflite --text_input` writes a `.tflite`
that takes the text (a string) and tokenizes it in the graph with TensorFlow Text's ops, with
the preprocessor's rules as the normalizer's table: identical token ids on every line of the
English test corpus and on every multilingual line but some with a Greek capital or final
sigma (91.8% uncased, 100% cased). LiteRT runs it with TensorFlow Text's TFLite kernels registered; MediaPipe does not.
"""


def preprocessor_body(release: Release, facts: PreprocessorFacts) -> str:
  special = ", ".join(f"`{k}`={v}" for k, v in facts.special_ids.items())
  return f"""## Overview

Text preprocessing for a BERT-style encoder: WordPiece tokenization with a
{facts.vocab_size}-token {_casing(facts.lower_case)} vocabulary (`assets/{facts.vocab_file}`) and
packing into encoder inputs. {_casing_note(facts.lower_case)} It has no trainable parameters.

## Usage

```python
import tensorflow as tf
import tensorflow_text  # noqa: F401  registers the ops this model uses
import tensorflow_hub as hub

preprocessor = hub.load("{release.handle}")
encoder_inputs = hub.KerasLayer(preprocessor)(tf.constant(["hello world"]))  # seq_length {facts.seq_length}

tokenize = hub.KerasLayer(preprocessor.tokenize)
bert_pack_inputs = hub.KerasLayer(preprocessor.bert_pack_inputs, arguments=dict(seq_length=64))
encoder_inputs = bert_pack_inputs([tokenize(first_segments), tokenize(second_segments)])
```

### Inputs and outputs

* Calling the model on a string tensor `[batch_size]` returns the encoder inputs
  `input_word_ids`, `input_mask`, `input_type_ids`, each int32 `[batch_size, {facts.seq_length}]`.
* `.tokenize(strings)` returns an int32 RaggedTensor `[batch_size, (words), (wordpieces)]`.
* `.bert_pack_inputs(segments, seq_length=N)` packs a list of 1 to {sig.MAX_PACKED_SEGMENTS} tokenized
  segments (or one segment on its own) as `[CLS] a [SEP] b [SEP]`, segment i with type id i,
  trimming round-robin to fit and padding with `padding_id`; the encoder takes type ids 0 and 1.
* `.tokenize.get_special_tokens_dict()` returns scalar int32 tensors: {special}.
"""


def encoder_card(release: Release, facts: EncoderFacts, preprocessor_handle: str | None = None) -> str:
  description = (f"Text encoder ({_casing(facts.lower_case)}, hidden size {facts.hidden_size}) "
                 f"for the TF-Hub text encoder API, with a masked-LM head in `.mlm`.")
  return (_header(release, description, "text-embedding", fine_tunable=True,
                  architecture=NETWORK_ARCHITECTURE) + "\n"
          + encoder_body(release, facts, preprocessor_handle))


def preprocessor_card(release: Release, facts: PreprocessorFacts) -> str:
  description = f"Text preprocessing ({_casing(facts.lower_case)} WordPiece) for BERT-style encoders."
  return (_header(release, description, "text-preprocessing", fine_tunable=False) + "\n"
          + preprocessor_body(release, facts))


def keras_preset_body(facts: KerasPresetFacts) -> str:
  return f"""## Overview

MobileBERT as a KerasHub preset for Keras 3 (TensorFlow, JAX or PyTorch backend): a
{facts.num_layers}-layer backbone with hidden size {facts.hidden_size}, its pretrained
masked-LM head, and a {facts.vocab_size}-token {_casing(facts.lower_case)} WordPiece tokenizer
that follows the original BERT rules. {_casing_note(facts.lower_case)}

* Backbone parameters: {facts.parameters:,}.

## Usage

The classes are not part of KerasHub: install `mobilebert-hub-export[keras]` and
`import hub_export.keras3` before loading, or `from_preset` cannot find them.

```python
import keras
import keras_hub
import hub_export.keras3  # noqa: F401  registers the MobileBERT classes

backbone = keras_hub.models.Backbone.from_preset("PRESET_DIR")
classifier = hub_export.keras3.MobileBertTextClassifier.from_preset("PRESET_DIR", num_classes=2)
classifier.compile(optimizer=keras.optimizers.Adam(2e-5),
                   loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
classifier.fit(x=["a great film", "a dull film"], y=[1, 0], batch_size=2)
masked_lm = hub_export.keras3.MobileBertMaskedLM.from_preset("PRESET_DIR")
```

The backbone takes `token_ids`, `segment_ids` and `padding_mask` and returns
`sequence_output` and `pooled_output`.
"""


def keras_preset_card(release: Release, facts: KerasPresetFacts) -> str:
  description = (f"MobileBERT KerasHub preset ({_casing(facts.lower_case)}, hidden size {facts.hidden_size}) "
                 f"for Keras 3 on TensorFlow, JAX or PyTorch.")
  return (_header(release, description, "text-embedding", fine_tunable=True, architecture=NETWORK_ARCHITECTURE,
                  model_format=KERAS_FORMAT) + "\n" + keras_preset_body(facts))


def one_line_description(card: str) -> str:
  return card.splitlines()[1]


_TASK_TAGS = {SQUAD: "text-question-answering", CLASSIFICATION: "text-classification"}


def task_model_name(name: str, config: dict) -> str:
  """The task model's name beside the encoder NAME: NAME_squad, NAME_classification, or NAME_<glue task>."""
  return f"{name}_{config.get('glue_task') or config['task']}"


def _eval_set(config: dict) -> str:
  if config["task"] == SQUAD:
    return f"a SQuAD {'v2.0' if config['version_2_with_negative'] else 'v1.1'} eval file"
  return f"the {config['glue_task']} dev set" if config["glue_task"] else "the eval file"


def _metrics(config: dict) -> str:
  return ", ".join(f"{name} {value:.6g}" for name, value in sorted(config["metrics"].items()))


def _task_settings(config: dict) -> str:
  lines = [f"* `max_seq_length`: {config['max_seq_length']} wordpieces a window, "
           f"{_casing(config['lower_case'])} (`assets/vocab.txt`)."]
  if config["task"] == SQUAD:
    lines += [f"* `max_query_length` {config['max_query_length']}, `doc_stride` {config['doc_stride']}, "
              f"`max_answer_length` {config['max_answer_length']}"
              + (f"; SQuAD v2.0 (no-answer threshold {config['null_score_diff_threshold']:g})."
                 if config["version_2_with_negative"] else "; SQuAD v1.1 (every question has an answer).")]
  elif config["regression"]:
    lines.append("* A regression: one output, the predicted score.")
  else:
    labels = ", ".join(f"`{label}`" for label in config["labels"])
    lines.append(f"* Labels, in logit order: {labels}; {'text pairs' if config['pair'] else 'single texts'}.")
  return "\n".join(lines)


def _task_usage(release: Release, config: dict) -> str:
  if config["task"] == SQUAD:
    strings = ('answer = model.signatures["serving_default"](question=tf.constant(["Who wrote it?"]),\n'
               '                                            context=tf.constant(["It was written by Ann."]))\n'
               'answer["answer"], answer["truncated"]  # the best span\'s text; whether the context was cut to fit')
    logits = 'scores["start_logits"], scores["end_logits"]'
  else:
    texts = ('text_a=tf.constant(["a first text"]), text_b=tf.constant(["a second text"])' if config["pair"]
             else 'text=tf.constant(["a text"])')
    strings = (f'outputs = model.signatures["serving_default"]({texts})\n'
               'outputs["label"], outputs["probabilities"], outputs["logits"]')
    logits = 'scores["logits"]'
  return f"""```python
import tensorflow as tf
import tensorflow_text  # noqa: F401  registers the ops of the in-graph tokenizer
import tensorflow_hub as hub

model = hub.load("{release.handle}")
{strings}
scores = model.signatures["serve"](input_word_ids=word_ids, input_mask=mask, input_type_ids=type_ids)  # int32
{logits}
```"""


def _score_command(config: dict) -> str:
  command = f"python -m hub_export.evaluate_task --task {config['task']} --model MODEL_DIR --eval_file "
  if config["task"] == SQUAD:
    return command + ("dev-v2.0.json" if config["version_2_with_negative"] else "dev-v1.1.json")
  if config["glue_task"]:
    return command + "dev.tsv"
  return command + "dev.tsv --text_column C" + (" --text_b_column C" if config["pair"] else "") + " --label_column C"


_TASK_NAMES = {SQUAD: "SQuAD question answering", CLASSIFICATION: "text classification"}


def _precision_table(rows: list) -> str:
  """The card's section for `precision_table.precision_rows`: one line a model, every model on the same eval set."""
  if not rows:
    return ""
  names = sorted(rows[0].metrics)
  lines = [f"| model | tokens | {' | '.join(names)} | size (MB) | batch-1 latency (ms) |",
           "| --- | ---: |" + " ---: |" * (len(names) + 2)]
  for row in rows:
    scores = " | ".join(f"{row.metrics[name]:.2f}" for name in names)
    lines.append(f"| {row.model} | {row.seq_length} | {scores} | {row.megabytes:.1f} | {row.latency_ms:.1f} |")
  return ("\n\n### By precision\n\nThe task SavedModel and the `.tflite` files published with it "
          "(`export_tflite --task_model` or `--task_classifier`), each scored on the same eval file at its own input length; latency: "
          "median of batch-1 calls on the machine that published (LiteRT with 2 threads for the files).\n\n"
          + "\n".join(lines))


def task_body(release: Release, config: dict, precision_rows: list = ()) -> str:
  return f"""## Overview

A text encoder fine-tuned for {_TASK_NAMES[config["task"]]} by `python -m hub_export.finetune`: a task
SavedModel that tokenizes raw strings in its graph. Its settings are in `assets/task.json`.

{_task_settings(config)}

## Measured

On {_eval_set(config)} when it was fine-tuned: {_metrics(config)}.{_precision_table(precision_rows)}

## Usage

`serving_default` takes raw strings (one window each); `serve` takes the encoder's token ids,
what `evaluate_task` windows long inputs with. `hub.KerasLayer` of the model returns what `serve` returns.

{_task_usage(release, config)}

Score it on an eval file, with the settings of its `assets/task.json` (MODEL_DIR: the unpacked
tarball or the downloaded Kaggle variation):

```sh
{_score_command(config)}
```
"""


def task_card(release: Release, config: dict, precision_rows: list = ()) -> str:
  description = f"A {_TASK_NAMES[config['task']]} task model ({_metrics(config)} on {_eval_set(config)})."
  return (_header(release, description, _TASK_TAGS[config["task"]], fine_tunable=False) + "\n"
          + task_body(release, config, precision_rows))
