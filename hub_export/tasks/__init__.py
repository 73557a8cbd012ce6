"""Fine-tuning tasks: reading their data, cutting it into model inputs, decoding outputs, scoring (no TensorFlow)."""
