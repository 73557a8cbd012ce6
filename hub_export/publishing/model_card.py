"""tfhub.dev-style model cards: `# Module publisher/model/version`, metadata comments, usage."""

import dataclasses

from hub_export import signatures as sig
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
