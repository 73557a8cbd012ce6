"""Kaggle Models through the real client: handles, credentials, upload and download.

Everything that talks to Kaggle goes through `kagglehub` (and the `kagglesdk` it ships,
for the model card and usage text kagglehub does not send); nothing here writes HTTP by hand.
"""
