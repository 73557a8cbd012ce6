"""Packaging SavedModels for TF-Hub and Kaggle Models: tarballs, cards, metadata."""
