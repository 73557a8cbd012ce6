"""On-device export: the TF-Hub encoder as a LiteRT (.tflite) flatbuffer, float or quantized."""

from hub_export.support.errors import HubExportError

# The --quantize choices (here, so the command can parse them without loading TensorFlow).
QUANTIZATIONS = ("none", "dynamic", "int8", "float16")


def check_quantize(quantize: str) -> None:
  if quantize not in QUANTIZATIONS:
    raise HubExportError(f"--quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")


# A LiteRT model is a FlatBuffer whose file identifier, bytes 4 to 8, is "TFL3".
LITERT_FILE_IDENTIFIER = b"TFL3"


def is_litert_model(path) -> bool:
  """Whether the file starts like a LiteRT flatbuffer (cheap: reads 8 bytes, no TensorFlow)."""
  try:
    with open(path, "rb") as file:
      head = file.read(8)
  except OSError:
    return False
  return head[4:8] == LITERT_FILE_IDENTIFIER
