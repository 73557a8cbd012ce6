"""How exports are written and proven: the encoder's SavedModel object and its input checks,
atomic output directories and files, and the fresh-process round trip."""
