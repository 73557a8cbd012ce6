"""The Keras package name our classes register under (what a preset's `registered_name` says)."""

import keras

PACKAGE = "hub_export"


def register(cls):
  return keras.saving.register_keras_serializable(package=PACKAGE)(cls)
