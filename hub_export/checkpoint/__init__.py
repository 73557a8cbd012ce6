"""Reading and writing MobileBERT checkpoints in the release, Model Garden and project layouts."""
