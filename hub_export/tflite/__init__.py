"""On-device export: the TF-Hub encoder as a LiteRT (.tflite) flatbuffer, float or quantized."""
