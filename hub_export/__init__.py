"""Publish MobileBERT checkpoints as TF-Hub SavedModels.

Data flows one way: config -> model -> checkpoint -> export -> verify -> publish.
"""
