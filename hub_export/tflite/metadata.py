"""TFLite model metadata (the `metadata_schema.fbs` FlatBuffer) for BERT-style text models.

MediaPipe Tasks (`TextEmbedder`, `TextClassifier`) run a `.tflite` from raw strings only
when it carries this metadata: the three inputs named `ids`, `mask` and `segment_ids` (it
maps inputs by these names alone), a `BertTokenizerOptions` input process unit whose
VOCABULARY file is packed into the model, and, for a classifier, the labels as a
TENSOR_AXIS_LABELS file on the score output.

The tables are written with the `flatbuffers` package's Builder, by hand: MediaPipe's
metadata writers do not import in its 1.2.x wheels and tflite-support cannot be installed
beside TensorFlow 2.21 (see BUILD_NOTES). Only the part of the schema used here is
written. Field slots below are the field positions in `metadata_schema.fbs` (schema 1.5.0;
a union takes two slots, its type then its value).

Associated files travel the way the schema's reference populator packs them: a stored
(uncompressed) zip archive appended to the model flatbuffer, which LiteRT ignores.
"""

import dataclasses
import io
import zipfile
from typing import Optional

import flatbuffers

METADATA_NAME = "TFLITE_METADATA"  # the Model.metadata entry MediaPipe looks up
FILE_IDENTIFIER = b"M001"
# BertTokenizerOptions and SubGraphMetadata.input_process_units arrived in schema 1.1.0;
# nothing newer is written.
MIN_PARSER_VERSION = "1.1.0"

# Input tensor names MediaPipe's BERT preprocessor looks up, by the TF-Hub input they describe.
MEDIAPIPE_INPUT_NAMES = {"input_word_ids": "ids", "input_mask": "mask", "input_type_ids": "segment_ids"}

# enum AssociatedFileType
TENSOR_AXIS_LABELS = 2
VOCABULARY = 5
# union ContentProperties / ProcessUnitOptions member indices
_FEATURE_PROPERTIES = 1
_BERT_TOKENIZER_OPTIONS = 4


@dataclasses.dataclass(frozen=True)
class AssociatedFile:
  name: str
  description: str
  type: int
  content: bytes


@dataclasses.dataclass(frozen=True)
class TensorInfo:
  name: str
  description: str
  associated_file: Optional[AssociatedFile] = None


@dataclasses.dataclass(frozen=True)
class ModelInfo:
  name: str
  description: str
  version: str
  license: str
  author: str
  inputs: dict  # signature input name -> TensorInfo
  outputs: dict  # signature output name -> TensorInfo
  vocab: AssociatedFile


class _Writer:
  """Builds the tables bottom-up, as FlatBuffers requires (children before their parent)."""

  def __init__(self):
    self.b = flatbuffers.Builder(1024)

  def table(self, fields: list):
    """fields: (slot, kind, value) with kind 'offset' or 'byte'; None values are left out."""
    present = [f for f in fields if f[2] is not None]
    self.b.StartObject(max((slot for slot, _, _ in fields), default=-1) + 1)
    for slot, kind, value in present:
      if kind == "offset":
        self.b.PrependUOffsetTRelativeSlot(slot, value, 0)
      else:
        self.b.PrependUint8Slot(slot, value, 0)
    return self.b.EndObject()

  def string(self, text):
    return None if text is None else self.b.CreateString(text)

  def vector(self, offsets):
    self.b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
      self.b.PrependUOffsetTRelative(offset)
    return self.b.EndVector()

  def associated_file(self, file: AssociatedFile):
    name, description = self.string(file.name), self.string(file.description)
    # table AssociatedFile { name; description; type:byte; locale; version }
    return self.table([(0, "offset", name), (1, "offset", description), (2, "byte", file.type)])

  def tensor(self, info: TensorInfo):
    name, description = self.string(info.name), self.string(info.description)
    features = self.table([])  # table FeatureProperties {}
    # table Content { content_properties (union: type, value); range }
    content = self.table([(0, "byte", _FEATURE_PROPERTIES), (1, "offset", features)])
    files = self.vector([self.associated_file(info.associated_file)]) if info.associated_file else None
    # table TensorMetadata { name; description; dimension_names; content; process_units; stats; associated_files }
    return self.table([(0, "offset", name), (1, "offset", description), (3, "offset", content),
                       (6, "offset", files)])

  def bert_tokenizer(self, vocab: AssociatedFile):
    vocab_files = self.vector([self.associated_file(vocab)])
    options = self.table([(0, "offset", vocab_files)])  # table BertTokenizerOptions { vocab_file }
    # table ProcessUnit { options (union: type, value) }
    return self.table([(0, "byte", _BERT_TOKENIZER_OPTIONS), (1, "offset", options)])

  def model(self, info: ModelInfo, inputs: list, outputs: list) -> bytes:
    inputs = self.vector([self.tensor(t) for t in inputs])
    outputs = self.vector([self.tensor(t) for t in outputs])
    process_units = self.vector([self.bert_tokenizer(info.vocab)])
    sub_name, sub_description = self.string(info.name), self.string(info.description)
    # table SubGraphMetadata { name; description; input_tensor_metadata; output_tensor_metadata;
    #   associated_files; input_process_units; ... }
    subgraph = self.table([(0, "offset", sub_name), (1, "offset", sub_description), (2, "offset", inputs),
                           (3, "offset", outputs), (5, "offset", process_units)])
    subgraphs = self.vector([subgraph])
    strings = [self.string(s) for s in (info.name, info.description, info.version, info.author, info.license,
                                        MIN_PARSER_VERSION)]
    name, description, version, author, license_, min_parser = strings
    # table ModelMetadata { name; description; version; subgraph_metadata; author; license;
    #   associated_files; min_parser_version }
    root = self.table([(0, "offset", name), (1, "offset", description), (2, "offset", version),
                       (3, "offset", subgraphs), (4, "offset", author), (5, "offset", license_),
                       (7, "offset", min_parser)])
    self.b.Finish(root, file_identifier=FILE_IDENTIFIER)
    return bytes(self.b.Output())


def metadata_flatbuffer(info: ModelInfo, inputs: list, outputs: list) -> bytes:
  """The ModelMetadata FlatBuffer (file identifier M001): `inputs` and `outputs` are signature
  names in the subgraph's tensor order (the schema matches tensor metadata by position)."""
  return _Writer().model(info, [info.inputs[k] for k in inputs], [info.outputs[k] for k in outputs])


def associated_files(info: ModelInfo) -> list:
  """Every file the metadata names, each once (the vocab, then per-tensor files)."""
  tensors = list(info.inputs.values()) + list(info.outputs.values())
  files = [info.vocab] + [t.associated_file for t in tensors if t.associated_file]
  names = [f.name for f in files]
  if len(set(names)) != len(names):
    raise ValueError(f"associated file names must be unique, got {names}")
  return files


def populate(model: bytes, info: ModelInfo) -> bytes:
  """`model` with `info` as its TFLITE_METADATA entry and the associated files appended as a zip.

  Any metadata the model already had under that name is replaced; every other part of the
  model (tensors, operators, signature) is kept as it was.
  """
  import numpy as np
  import tensorflow as tf  # noqa: F401  (makes tensorflow.lite.* importable)
  from tensorflow.lite.python import schema_py_generated as schema
  from tensorflow.lite.tools import flatbuffer_utils

  model_t = flatbuffer_utils.read_model_from_bytearray(bytearray(_flatbuffer_part(model)))
  inputs, outputs = _signature_order(model_t)
  if set(inputs) != set(info.inputs) or set(outputs) != set(info.outputs):
    raise ValueError(f"the model's signature has inputs {sorted(inputs)} and outputs {sorted(outputs)}; "
                     f"the metadata describes {sorted(info.inputs)} and {sorted(info.outputs)}")
  buffer = schema.BufferT()
  buffer.data = np.frombuffer(metadata_flatbuffer(info, inputs, outputs), np.uint8)
  model_t.buffers.append(buffer)
  entry = schema.MetadataT()
  entry.name = METADATA_NAME
  entry.buffer = len(model_t.buffers) - 1
  model_t.metadata = [m for m in (model_t.metadata or []) if _text(m.name) != METADATA_NAME] + [entry]
  packed = io.BytesIO()
  packed.write(flatbuffer_utils.convert_object_to_bytearray(model_t))
  with zipfile.ZipFile(packed, "a", compression=zipfile.ZIP_STORED) as archive:
    for file in associated_files(info):
      archive.writestr(file.name, file.content)
  return packed.getvalue()


def _signature_order(model_t) -> tuple:
  """The signature's input and output names, in the order of the main subgraph's tensors."""
  if len(model_t.subgraphs) != 1 or len(model_t.signatureDefs or []) != 1:
    raise ValueError("expected a model with one subgraph and one signature")
  signature = model_t.signatureDefs[0]
  names = {t.tensorIndex: _text(t.name) for t in signature.inputs + signature.outputs}
  subgraph = model_t.subgraphs[0]
  return [names[i] for i in subgraph.inputs], [names[i] for i in subgraph.outputs]


def _text(value) -> str:
  return value.decode("utf-8") if isinstance(value, bytes) else value


def _flatbuffer_part(model: bytes) -> bytes:
  """The model without an appended zip of associated files (if an earlier populate left one)."""
  try:
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
      first = min((info.header_offset for info in archive.infolist()), default=len(model))
  except zipfile.BadZipFile:
    return model
  return model[:first]
