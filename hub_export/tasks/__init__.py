"""Task models on the encoder: reading the tasks' data, cutting it into model inputs, decoding outputs, scoring.

Only the tokenizer adapters (`squad_tokens`) import TensorFlow; the rest is Python and numpy.
"""
