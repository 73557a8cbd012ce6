"""Corpus embedding with Apache Beam: documents in, one Parquet row per document out.

`io` reads text or JSONL files into (id, text) documents and defines the Parquet rows,
`handler` is the RunInference model handler over the published preprocessor and encoder,
`pipeline` wires them together and publishes the output atomically. Beam and pyarrow come
with the `beam` extra; nothing here imports them at package import time.
"""
