"""Corpus embedding with Apache Beam: documents in, one Parquet row per document out.

`io` reads text or JSONL files into (id, text) documents and defines the Parquet rows,
`handler` is the RunInference model handler over the published preprocessor and encoder,
`pipeline` wires them together and publishes the output atomically. Beam and pyarrow come
with the `beam` extra; nothing here imports them at package import time.
"""

# Batches of 32 by default. Beam's batch-size estimator fits time = fixed + per_row * size
# and stops growing once the fixed part is under 5%: on CPU that kept batches at 1-10 when
# allowed to start at 1, and between 32 and 64 it jittered the size, and every new size
# costs the encoder a graph optimization. Both ran slower than fixed 32 (see BUILD_NOTES);
# a wider range pays off where a call's fixed cost is large (accelerators).
DEFAULT_MIN_BATCH_SIZE = 32
DEFAULT_MAX_BATCH_SIZE = 32
