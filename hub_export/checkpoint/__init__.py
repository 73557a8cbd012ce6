"""Checkpoint layouts: the original release's TF1 variable names, and readers/writers of them."""
