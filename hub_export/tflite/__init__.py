"""On-device export: the TF-Hub encoder as a LiteRT (.tflite) flatbuffer, float or quantized."""

# The --quantize choices (here, so the command can parse them without loading TensorFlow).
QUANTIZATIONS = ("none", "dynamic", "int8")
