"""`tf.saved_model.save` with output bytes that depend only on the model.

TensorFlow writes `fingerprint.pb` with a random `uuid` on every save; everything else it
writes (saved_model.pb, variables, assets) is already byte-identical when the same model is
exported by a fresh process (within one process, traced function names carry a process-wide
counter). The uuid is replaced by one derived from the fingerprint's content hashes, so two
exports of one checkpoint, and the tarballs published from them, are byte-identical.
"""

import hashlib
import os

import tensorflow as tf
from tensorflow.core.protobuf import fingerprint_pb2

FINGERPRINT_FILENAME = "fingerprint.pb"


def content_uuid(fingerprint: fingerprint_pb2.FingerprintDef) -> str:
  """A 128-bit decimal id (TensorFlow's uuid format) hashed from the fingerprint's other fields."""
  content = fingerprint_pb2.FingerprintDef()
  content.CopyFrom(fingerprint)
  content.ClearField("uuid")
  digest = hashlib.sha256(content.SerializeToString(deterministic=True)).digest()
  return str(int.from_bytes(digest[:16], "big"))


def pin_fingerprint_uuid(export_dir) -> None:
  path = os.path.join(export_dir, FINGERPRINT_FILENAME)
  if not os.path.exists(path):  # fingerprinting is off in this TensorFlow
    return
  fingerprint = fingerprint_pb2.FingerprintDef()
  with open(path, "rb") as f:
    fingerprint.ParseFromString(f.read())
  fingerprint.uuid = content_uuid(fingerprint)
  with open(path, "wb") as f:
    f.write(fingerprint.SerializeToString(deterministic=True))


def save(obj, export_dir, signatures=None) -> None:
  """Saves `obj` like `tf.saved_model.save`, then pins the fingerprint's uuid to its content."""
  tf.saved_model.save(obj, str(export_dir), signatures=signatures)
  pin_fingerprint_uuid(str(export_dir))
