"""Publish MobileBERT checkpoints as TF-Hub SavedModels.

Data flows one way: config -> model -> checkpoint -> export -> verify -> publish.
"""

import os as _os
import sys as _sys

# A command's process: `python -m hub_export.X` (whose package import runs while argv[0] is "-m") or a
# `mobilebert-*` console script. Settings for a whole process are made only there, never in a user's program.
COMMAND_PROCESS = (_sys.argv[:1] == ["-m"]
                   or _os.path.basename(_sys.argv[0] if _sys.argv else "").startswith("mobilebert-"))

# A command builds with tf_keras, so TensorFlow need not import Keras 3 as `tf.keras`: that
# import (with JAX and matplotlib where installed) is a third of TensorFlow's start. A program that imports this
# package keeps its own choice.
if COMMAND_PROCESS:
  _os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

# TensorFlow's converter imports JAX on start wherever JAX is installed (for converting JAX functions, which no
# command does): most of a second of each command's start. A command on Keras 3's JAX backend keeps it.
if COMMAND_PROCESS and _os.environ.get("KERAS_BACKEND") != "jax":
  _sys.modules.setdefault("jax", None)
