"""Knowledge transfer: pre-training data, transfer losses, and the progressive distillation loop."""
